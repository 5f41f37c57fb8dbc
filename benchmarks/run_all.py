#!/usr/bin/env python
"""Run every benchmarks/bench_*.py and print one table of ratios.

    python benchmarks/run_all.py            # all of them (make bench)
    python benchmarks/run_all.py surrogate  # only bench_surrogate.py
    python benchmarks/run_all.py --quick    # smaller sizes, for a smoke run

Each benchmark measures its own baseline in the same run and prints the ratio;
nothing here asserts on wall-clock time. Results also go to
benchmarks/results.json (machine, date, every number).
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("only", nargs="*", help="topics to run (bench_<topic>.py); default: all")
    ap.add_argument("--quick", action="store_true", help="smaller problem sizes")
    ap.add_argument("--json", default=str(HERE / "results.json"), help="where to write the numbers")
    args = ap.parse_args(argv)
    files = sorted(HERE.glob("bench_*.py"))
    if args.only:
        files = [f for f in files if f.stem.removeprefix("bench_") in args.only]
    all_results, failed = [], []
    print(f"# pyannow_hpc benchmarks on {platform.node()} ({os.cpu_count()} cores, {platform.processor() or platform.machine()})")
    for f in files:
        topic = f.stem.removeprefix("bench_")
        print(f"\n## {topic}")
        spec = importlib.util.spec_from_file_location(f.stem, f)
        mod = importlib.util.module_from_spec(spec)
        t0 = time.perf_counter()
        try:
            spec.loader.exec_module(mod)
            results = mod.run(quick=args.quick)
        except Exception:  # one broken benchmark must not hide the others
            traceback.print_exc()
            failed.append(topic)
            continue
        for r in results:
            print(r.line())
            all_results.append({"topic": topic, **r.as_dict()})
        print(f"({topic}: {time.perf_counter() - t0:.1f} s)")
    Path(args.json).write_text(json.dumps({"host": platform.node(), "date": time.strftime("%Y-%m-%d %H:%M:%S"),
                                           "results": all_results}, indent=1))
    if failed:
        print(f"\nbenchmarks that failed to run: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
