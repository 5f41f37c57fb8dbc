"""Fuzz suite: >= 10,000 seeded bad inputs across demo, simulate, sweep (TOML),
report/merge (corrupt ledgers) and target files (mutated MIDI/MusicXML/kern).

Every case runs in-process and fails the suite on: a traceback, an exit code
not in ``errors.EXIT_CODES``, an internal error (70), other than exactly one
``pyannow-hpc: error:`` line on failure, a hang (faulthandler kills the run
after ``CASE_LIMIT_S``), a temporary file left behind, a failed command that
left its output, a successful one whose output does not read back, or a
device/FIFO/symlink that an output replaced.

Seeded (``PYANNOW_FUZZ_SEED``, default 11): a failure prints its family, seed
and index; ``PYANNOW_FUZZ_SCALE`` scales every family's count (1 = the CI
size, about 10,100 cases). Each family prints its cases and outcome counts.
"""
from __future__ import annotations

import atexit
import contextlib
import faulthandler
import io
import os
import random
import shutil
import stat
import tempfile
import time
from collections import Counter
from pathlib import Path

import h5py
import numpy as np
import pytest

import generators as G
from _cli import cli, temp_leftovers
from pyannow_hpc.errors import PyannowError
from pyannow_hpc.music.notes import NoteSequence
from pyannow_hpc.store import ledger as L

SEED = int(os.environ.get("PYANNOW_FUZZ_SEED", "11"))
SCALE = float(os.environ.get("PYANNOW_FUZZ_SCALE", "1"))
#: cases per family at SCALE 1 (10,010): the cheap families carry the count (a MIDI
#: case ~3 ms, a CLI flag case ~8 ms), the ones that write HDF5 (merge ~150 ms a
#: case: h5py edit, read, build, two fsyncs), render or parse with music21 fewer
COUNTS = {"simulate": 2200, "demo": 700, "sweep": 1000, "merge": 200, "report": 50,
          "midi": 5700, "musicxml": 100, "kern": 60}
CASE_LIMIT_S = 120.0
#: corrupt ledgers that still read back are rendered in full this many times (a render costs ~1 s)
MAX_RENDERS = 2
TOTAL: Counter = Counter()
#: where a hung case's stack goes (printed by the run that finds it; kept for the next look)
HANG_LOG = open(os.path.join(tempfile.gettempdir(), f"pyannow-fuzz-hang-{os.getpid()}.txt"), "w+")
atexit.register(os.unlink, HANG_LOG.name)  # a hang exits through faulthandler (_exit): the log stays


def n_cases(family: str) -> int:
    return max(1, int(COUNTS[family] * SCALE))


class Family:
    """Runs one family's cases, collects outcomes and problems, prints the tally."""

    def __init__(self, name: str, folder: Path):
        self.name, self.folder = name, folder
        self.outcomes: Counter = Counter()
        self.problems: list[str] = []
        self.slowest = (0.0, -1)
        self.t0 = time.perf_counter()

    def case_dir(self, i: int) -> Path:
        d = self.folder / f"c{i}"
        d.mkdir()
        return d

    def run(self, i: int, fn) -> None:
        # a hang ends the run with a stack dump in HANG_LOG (pytest captures fd 2), naming the case
        HANG_LOG.seek(0)
        HANG_LOG.truncate()
        HANG_LOG.write(f"fuzz {self.name} seed {SEED} case {i} ran past {CASE_LIMIT_S:g} s:\n")
        HANG_LOG.flush()
        faulthandler.dump_traceback_later(CASE_LIMIT_S, exit=True, file=HANG_LOG)
        t = time.perf_counter()
        try:
            outcome, problems = fn()
        except Exception as exc:  # the oracle itself hit something unmapped: a failure of the code under test
            outcome, problems = "exception", [f"{type(exc).__name__}: {exc}"]
        finally:
            faulthandler.cancel_dump_traceback_later()
        took = time.perf_counter() - t
        self.slowest = max(self.slowest, (took, i))
        self.outcomes[outcome] += 1
        for p in problems:
            self.problems.append(f"{self.name} seed {SEED} case {i}: {p}")

    def report(self, capsys) -> None:
        n = sum(self.outcomes.values())
        TOTAL[self.name] = n
        wall = time.perf_counter() - self.t0
        with capsys.disabled():
            print(f"\nfuzz {self.name}: {n} cases in {wall:.1f} s (slowest case {self.slowest[1]}: "
                  f"{self.slowest[0]:.2f} s); outcomes {dict(sorted(self.outcomes.items()))}")
        assert not self.problems, "\n".join(self.problems[:15])


def _rng(family: str, i: int) -> random.Random:
    return random.Random(f"{SEED}:{family}:{i}")


def _judge_cli(r, out: Path | None, existed: bool, folder: Path, check_output) -> tuple[str, list[str]]:
    problems = list(r.problems())
    leftovers = temp_leftovers(folder)
    if leftovers:
        problems.append(f"temporary files left: {[p.name for p in leftovers]}")
    if out is not None and not existed and r.rc != 0 and _lexists(out):
        problems.append(f"failed (rc {r.rc}) but left its output {out.name}")
    if out is not None and r.rc == 0 and not existed and _lexists(out) and out.is_file() and not out.is_symlink():
        try:
            check_output(out)
        except Exception as exc:  # noqa: BLE001
            problems.append(f"output {out.name} does not read back: {exc}")
    if not stat.S_ISCHR(os.lstat("/dev/null").st_mode):
        problems.append("/dev/null was replaced")
    if problems:
        problems = [f"{p} | stderr: {r.err.strip()[-300:]!r}" for p in problems]
    return f"rc {r.rc}", problems


def _lexists(p: Path) -> bool:
    try:
        return os.path.lexists(p)
    except (OSError, ValueError):  # a name too long, a NUL byte
        return False


def _out_of(argv: list[str]) -> Path | None:
    return Path(argv[argv.index("--out") + 1]) if "--out" in argv and argv.index("--out") + 1 < len(argv) else None


def _h5_ok(path: Path) -> None:
    with h5py.File(path, "r") as f:
        assert "v_mV" in f or "tasks" in f or "metrics" in f


def _non_file_kinds(folder: Path) -> dict[str, int]:
    return {p.name: os.lstat(p).st_mode for p in folder.iterdir() if not stat.S_ISREG(os.lstat(p).st_mode)}


def _cli_case(fam: Family, i: int, argv_fn) -> None:
    def case():
        d = fam.case_dir(i)
        argv = argv_fn(_rng(fam.name, i), d)
        out = _out_of(argv)
        existed = out is not None and _lexists(out)
        before = _non_file_kinds(d)
        r = cli(*argv)
        outcome, problems = _judge_cli(r, out, existed, d, _h5_ok)
        after = _non_file_kinds(d)
        problems += [f"{name} changed kind" for name, mode in before.items() if after.get(name) != mode]
        if problems:
            problems = [f"{p} | argv {argv!r}" for p in problems]
        shutil.rmtree(d)
        return outcome, problems

    fam.run(i, case)


MUSICXML = """<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE score-partwise PUBLIC "-//Recordare//DTD MusicXML 4.0 Partwise//EN" "http://www.musicxml.org/dtds/partwise.dtd">
<score-partwise version="4.0">
  <part-list><score-part id="P1"><part-name>Piano</part-name></score-part></part-list>
  <part id="P1">
    <measure number="1">
      <attributes><divisions>2</divisions><key><fifths>0</fifths></key>
        <time><beats>3</beats><beat-type>4</beat-type></time><clef><sign>G</sign><line>2</line></clef></attributes>
      <direction placement="above"><direction-type><metronome><beat-unit>quarter</beat-unit><per-minute>120</per-minute>
        </metronome></direction-type><sound tempo="120"/></direction>
      <note><pitch><step>C</step><octave>4</octave></pitch><duration>2</duration><type>quarter</type></note>
      <note><pitch><step>E</step><octave>4</octave></pitch><duration>1</duration><type>eighth</type></note>
      <note><chord/><pitch><step>G</step><octave>4</octave></pitch><duration>1</duration><type>eighth</type></note>
      <note><pitch><step>A</step><alter>1</alter><octave>4</octave></pitch><duration>3</duration><type>quarter</type><dot/></note>
    </measure>
    <measure number="2">
      <note><pitch><step>C</step><octave>5</octave></pitch><duration>4</duration><tie type="start"/><type>half</type></note>
      <note><pitch><step>C</step><octave>5</octave></pitch><duration>2</duration><tie type="stop"/><type>quarter</type></note>
    </measure>
  </part>
</score-partwise>
"""


@pytest.fixture(scope="module")
def targets(tmp_path_factory) -> dict[str, list[Path]]:
    """Valid target files to mutate (and to point demo/sweep at)."""
    from pyannow_hpc.music.target import save_midi

    folder = tmp_path_factory.mktemp("targets")
    rng = np.random.default_rng(SEED)
    notes = NoteSequence.from_arrays(np.sort(rng.uniform(0, 8, 24)), rng.integers(40, 80, 24), name="fuzz")
    midi = save_midi(notes, folder / "t.mid")
    kern = folder / "t.krn"
    kern.write_text("**kern\n*M3/4\n*MM120\n=1\n4c\n4e\n4g\n=2\n2.cc\n=3\n8d 8f 4a 4b\n*-\n")
    xml = folder / "t.musicxml"  # written by hand: music21's own output carries ids and dates (not seeded)
    xml.write_text(MUSICXML)
    return {"midi": [midi], "kern": [kern], "musicxml": [xml], "all": [midi, kern, xml]}


def test_fuzz_simulate(tmp_path, capsys):
    fam = Family("simulate", tmp_path)
    for i in range(n_cases("simulate")):
        _cli_case(fam, i, G.simulate_argv)
    fam.report(capsys)


def test_fuzz_demo(tmp_path, capsys, targets):
    fam = Family("demo", tmp_path)
    for i in range(n_cases("demo")):
        _cli_case(fam, i, lambda rng, d: G.demo_argv(rng, d, targets["all"]))
    fam.report(capsys)


def _ledger_ok(path: Path) -> None:
    L.read_ledger(path)


def test_fuzz_sweep_toml(tmp_path, capsys, targets):
    fam = Family("sweep", tmp_path)

    def case(i):
        def run():
            rng = _rng("sweep", i)
            d = fam.case_dir(i)
            cfg = d / "s.toml"
            cfg.write_text(G.sweep_toml(rng, d, targets["all"]), errors="surrogatepass")
            real = rng.random() < 0.04  # a few run for real (a trivial task), the rest are dry runs
            argv = ["sweep", str(cfg), "--no-progress", *(["--task", "hostile_tasks:ok"] if real else ["--dry-run"])]
            r = cli(*argv)
            ledgers = [p for p in d.rglob("*.h5")]
            outcome, problems = _judge_cli(r, None, False, d, _ledger_ok)
            if not real and ledgers:
                problems.append(f"--dry-run wrote {[p.name for p in ledgers]}")
            for p in ledgers if real else ():
                try:
                    L.read_ledger(p)
                except PyannowError as exc:
                    problems.append(f"ledger {p.name} does not read back: {exc}")
            if problems:
                problems = [f"{p} | toml {cfg.read_text()!r}" for p in problems]
            shutil.rmtree(d)
            return ("run " if real else "dry-run ") + outcome, problems

        return run

    for i in range(n_cases("sweep")):
        fam.run(i, case(i))
    fam.report(capsys)


@pytest.fixture(scope="module")
def base_ledger(tmp_path_factory) -> bytes:
    n = 6
    rng = np.random.default_rng(SEED)
    led = L.LedgerData.new(np.arange(n), ("g_ca_boyle", "g_k_slow"), rng.uniform(0.5, 1, (n, 2)), np.arange(n),
                           attrs={"config_hash": "fuzz", "n_tasks_total": n, "duration_s": 2.0, "window_start_s": 0.0,
                                  "backend": "native", "model": "boyle2008", "shard": "0/1"},
                           target=NoteSequence.from_arrays([0.1, 0.6, 1.2], [60, 64, 67], name="t"))
    for i in range(n - 1):
        k = int(rng.integers(0, 6))
        led.record(i, L.DONE if i != 2 else L.FAILED, {"onset_loss": float(rng.random()), "f1_mireval": 0.3,
                                                         "f1_seed": 0.4}, error="" if i != 2 else "KeyError: x",
                   onsets_s=np.sort(rng.uniform(0, 2, k)), pitches=rng.integers(30, 90, k))
    path = tmp_path_factory.mktemp("ledger") / "base.h5"
    L.write_ledger(path, led)
    return path.read_bytes()


def _corrupt_ledger(rng: random.Random, base: bytes, path: Path) -> str:
    if rng.random() < 0.5:
        path.write_bytes(G.mutate_bytes(rng, base))
        return "bytes"
    path.write_bytes(base)
    G.mutate_ledger_h5(rng, path)
    return "structure"


def test_fuzz_merge_corrupt_ledgers(tmp_path, capsys, base_ledger):
    fam = Family("merge", tmp_path)

    def case(i):
        def run():
            rng = _rng("merge", i)
            d = fam.case_dir(i)
            how = _corrupt_ledger(rng, base_ledger, d / "a.h5")
            inputs = [d / "a.h5"]
            if rng.random() < 0.3:
                (d / "b.h5").write_bytes(base_ledger)  # the same task ids: overlap, or a clean partner
                inputs.append(d / "b.h5")
            out = d / "m.h5"
            r = cli("merge", out, *inputs)
            outcome, problems = _judge_cli(r, out, False, d, _ledger_ok)
            shutil.rmtree(d)
            return f"{how} rc {r.rc}", problems

        return run

    for i in range(n_cases("merge")):
        fam.run(i, case(i))
    fam.report(capsys)


def test_fuzz_report_corrupt_ledgers(tmp_path, capsys, base_ledger):
    fam = Family("report", tmp_path)
    renders = 0

    def case(i):
        def run():
            nonlocal renders
            rng = _rng("report", i)
            d = fam.case_dir(i)
            how = _corrupt_ledger(rng, base_ledger, d / "a.h5")
            try:
                L.read_ledger(d / "a.h5")
                readable = True
            except PyannowError:
                readable = False
            if readable and renders >= MAX_RENDERS:
                shutil.rmtree(d)
                return "readable, render skipped", []
            renders += readable
            rep = d / "rep"
            r = cli("report", d / "a.h5", "--out", rep, "--no-progress", "--top", "1")
            outcome, problems = _judge_cli(r, None, False, d, None)
            if r.rc != 0 and not readable and rep.exists():
                problems.append("a refused ledger left a report folder")
            shutil.rmtree(d)
            return f"{how} rc {r.rc}", problems

        return run

    for i in range(n_cases("report")):
        fam.run(i, case(i))
    fam.report(capsys)


@pytest.mark.parametrize("kind", ["midi", "musicxml", "kern"])
def test_fuzz_target_files(tmp_path, capsys, targets, kind):
    from pyannow_hpc.errors import TargetError
    from pyannow_hpc.music.target import MAX_TARGET_S, load_target

    fam = Family(kind, tmp_path)
    base = targets[kind][0]
    data = base.read_bytes()

    def case(i):
        def run():
            rng = _rng(kind, i)
            path = tmp_path / f"c{i}{base.suffix}"
            if kind == "midi":
                path.write_bytes(G.mutate_midi(rng, data))
            else:
                path.write_text(G.mutate_text(rng, data.decode()), errors="surrogatepass")
            problems = []
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                try:
                    notes = load_target(path)
                    outcome = "loaded"
                    if not (len(notes) and notes.end_s <= MAX_TARGET_S and np.all(np.isfinite(notes.onset_s))):
                        problems.append(f"accepted an absurd score: {len(notes)} notes, end {notes.end_s}")
                except TargetError as exc:
                    outcome = "TargetError"
                    if "\n" in str(exc):
                        problems.append(f"multi-line message {str(exc)!r}")
            path.unlink()
            return outcome, problems

        return run

    for i in range(n_cases(kind)):
        fam.run(i, case(i))
    fam.report(capsys)


def test_fuzz_total():
    """The families above ran at least 10,000 cases together (at SCALE 1)."""
    total = sum(TOTAL.values())
    print(f"\nfuzz total: {total} cases, seed {SEED}, by family {dict(TOTAL)}")
    if SCALE >= 1 and len(TOTAL) == len(COUNTS):
        assert total >= 10_000
