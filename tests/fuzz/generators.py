"""Seeded generators of bad inputs: CLI flags, sweep TOML, ledgers, target files.

Each generator takes a ``random.Random`` and returns one case; the same seed
gives the same cases, so a failure reproduces from (family, seed, index).
Values are drawn from hostile pools (non-finite, huge, negative, wrong type,
odd paths) mixed with valid ones, so a case usually carries one to three
faults; commands run with a tiny duration so an accepted case stays cheap.
"""
from __future__ import annotations

import random
from pathlib import Path

#: hostile numbers; none is a valid *and* long run (1e5 s is refused at 1 kHz for its memory, but at
#: a low --sample-rate-hz it would be a legitimate 27-hour simulation: rates below 1 kHz are not drawn)
BAD_NUMBERS = ["nan", "inf", "-inf", "1e308", "-1e308", "1e-308", "0", "-0", "-1", "1e400", "x", "", " ",
               "0x10", "1__0", "NaN", "3.5.1", "1e5", "100000", "2147483648", "18446744073709551616", "-5e-324",
               "\n", "1,5", "٣"]
SMALL_OK = ["0.02", "0.05", "0.03"]
BAD_WORDS = ["", "nosuch", "NATIVE", "native ", "../x", "c302\n", "jax;rm", "\x00", "é", "boyle2008x", "pyannow2"]
PARAM_NAMES = ["g_ca_boyle", "g_k_slow", "noise_sd_uA", "g_egl19", "nosuch", "", "g_ca_boyle=", "=3"]


def odd_path(rng: random.Random, folder: Path, suffix: str) -> str:
    """An output path that is valid, missing-parent, too long, odd-charactered, or taken by a non-file."""
    kind = rng.choice(["plain", "plain", "deep", "long", "longish", "newline", "fifo", "symlink", "dir", "under_file",
                       "dev", "space", "glob", "dots", "unicode"])
    name = f"o{rng.randrange(10**6)}{suffix}"
    if kind == "deep":
        return str(folder / "a" / "b" / name)
    if kind == "long":
        return str(folder / ("L" * rng.choice([256, 300, 1000]) + suffix))
    if kind == "longish":
        return str(folder / ("l" * rng.choice([240, 245, 250]) + suffix))
    if kind == "newline":
        return str(folder / f"a\nb{name}")
    if kind == "fifo":
        p = folder / f"fifo{name}"
        if not p.exists():
            import os

            os.mkfifo(p)
        return str(p)
    if kind == "symlink":
        p = folder / f"link{name}"
        if not p.is_symlink():
            p.symlink_to(folder / "symlink_target_never_written")
        return str(p)
    if kind == "dir":
        (folder / f"d{name}").mkdir(exist_ok=True)
        return str(folder / f"d{name}")
    if kind == "under_file":
        (folder / "afile").write_text("")
        return str(folder / "afile" / name)
    if kind == "dev":
        return "/dev/null"
    if kind == "space":
        return str(folder / f" {name} ")
    if kind == "glob":
        return str(folder / f"*?[{name}")
    if kind == "dots":
        return str(folder / "..." / name)
    if kind == "unicode":
        return str(folder / f"ü\u200b{name}")
    return str(folder / name)


def simulate_argv(rng: random.Random, folder: Path) -> list[str]:
    """``simulate`` flags: at least one hostile value, always a short run."""
    argv = ["simulate", "--duration-s", rng.choice(SMALL_OK)]
    flags = {
        "--duration-s": BAD_NUMBERS, "--dt-ms": BAD_NUMBERS + ["0.5", "1", "10", "0.001"],
        "--sample-rate-hz": BAD_NUMBERS + ["2000", "1e9"], "--spike-thresh-mv": BAD_NUMBERS,
        "--refractory-ms": BAD_NUMBERS + ["50"], "--seed": ["-1", "1.5", "2**63", "9223372036854775808", "x", "7"],
        "--model": BAD_WORDS + ["pyannow"], "--backend": BAD_WORDS + ["numpy"],
        "--integrator": BAD_WORDS + ["seed_euler"], "--param": [f"{n}={v}" for n in PARAM_NAMES for v in ("1", "nan", "x", "1e308")],
        "--nosuch": ["1"], "--gates": [None], "--float64": [None],
    }
    for flag in rng.sample(sorted(flags), rng.randint(1, 3)):
        value = rng.choice(flags[flag])
        argv += [flag] if value is None else [flag, value]
    if rng.random() < 0.9:
        argv += ["--out", odd_path(rng, folder, rng.choice([".h5", ".h5", ".txt", ""]))]
    if rng.random() < 0.05:
        argv.append(rng.choice(["extra_positional", "--help", "--list-params"]))
    return argv


def _a_file(folder: Path) -> Path:
    p = folder / "afile"
    p.write_text("")
    return p


def demo_argv(rng: random.Random, folder: Path, targets: list[Path]) -> list[str]:
    """``demo`` flags: always one fault that stops it before the simulation."""
    argv = ["demo", "--no-progress", "--duration-s", rng.choice(SMALL_OK), "--out", str(folder / f"d{rng.randrange(10**6)}")]
    faults = [
        lambda: ["--duration-s", rng.choice(["nan", "-1", "0", "1e308", "100000", "x", "inf"])],
        lambda: ["--dt-ms", rng.choice(["nan", "-1", "0", "1e308", "x"])],
        lambda: ["--model", rng.choice(BAD_WORDS)],
        lambda: ["--onsets", rng.choice(BAD_WORDS)],
        lambda: ["--integrator", rng.choice(BAD_WORDS)],
        lambda: ["--seed", rng.choice(["-1", "x", "18446744073709551616"])],
        lambda: ["--param", rng.choice([f"{n}={v}" for n in PARAM_NAMES[3:] for v in ("1", "x", "nan")])],
        lambda: ["--target", rng.choice([str(folder / "missing.mid"), str(folder / "x.txt"), "", "\n.mid",
                                         str(folder), *(map(str, targets) if rng.random() < 0.1 else ())])],
        lambda: ["--out", odd_path(rng, folder, "") if rng.random() < 0.2 else str(folder / ("L" * 300))],
        lambda: ["--out", str(_a_file(folder))],
        lambda: [rng.choice(["--nosuch", "-x", "--duration-s"])],
    ]
    for fault in rng.sample(faults, rng.randint(1, 2)):
        argv += fault()
    return argv


# --------------------------------------------------------------------------- sweep TOML

BASE = {
    "backend": '"native"', "model": '"boyle2008"', "target": '"default"',
    "sampler": {"method": '"sobol"', "n_samples": "2", "seed": "0"},
    "params": {"g_ca_boyle": "[0.5, 1.0]"},
    "fixed": {"noise_sd_uA": "0.3"},
    "simulation": {"start_s": "0.0", "duration_s": "0.1", "dt_ms": "0.5", "integrator": '"exponential"',
                   "onset_method": '"auto"'},
    "scheduler": {"chunk_size": "0", "task_timeout_s": "60.0", "isolate": "false", "rank0_works": '"auto"',
                  "retry_failed": "false", "allow_failures": "0"},
    "output": {"ledger": None, "report": "false", "report_dir": '""', "top_k": "5", "flush_every_s": "2.0"},
    "shard": {"index": "0", "count": "1"},
}
TOML_VALUES = ["nan", "inf", "-inf", "1e308", "-1", "0", "2147483648", "1000000000000000000", "9223372036854775807",
               "true", "false", '"3"', '""', '"x"', "[]", "[1]", "[1, 2, 3]", "[0.5, 0.4]", "[1, true]", "{}",
               "{ range = [0.5, 1.0], points = 1000000 }", "{ range = [1e-9, 1e9], scale = \"log\" }",
               "{ range = [0.5, 1.0], scale = \"cubic\" }", "{ x = 1 }", "1e-308", "0.5", "3", '"log"',
               '"grid"', '"lhs"', '"random"', '"c302x"', '"jax"', '"numpy"', '"container"', '"pyannow"',
               '"seed_euler"', '"crest"', '"a\\nb.h5"', '"/dev/null"', '"*.h5"', "1979-05-27", "-0.0", "+1"]
GARBAGE = ["[[", "= 3", "x = ", "[sampler\n", "\x00", "a = 1\na = 2", "[params]\n[params]", "\ufeff",
           "'''", "key = \"unterminated", "\\u0000"]


def sweep_toml(rng: random.Random, folder: Path, targets: list[Path]) -> str:
    """A sweep file: the valid base with 1-3 mutations (values, keys, sections, bytes)."""
    doc = {k: (dict(v) if isinstance(v, dict) else v) for k, v in BASE.items()}
    doc["output"]["ledger"] = f'"{folder / f"l{rng.randrange(10**6)}.h5"}"'
    for _ in range(rng.randint(1, 3)):
        op = rng.random()
        section = rng.choice(list(doc))
        if op < 0.55:  # a hostile value for an existing key
            if isinstance(doc[section], dict):
                keys = list(doc[section]) or ["x"]
                doc[section][rng.choice(keys)] = rng.choice(TOML_VALUES)
            else:
                doc[section] = rng.choice(TOML_VALUES + [f'"{p}"' for p in targets])
        elif op < 0.7:  # an unknown or misspelt key
            table = doc[section] if isinstance(doc[section], dict) else doc
            table[rng.choice(["nsamples", "dt", "ledgr", "g_nosuch", "seed ", "duration_s", "extra"])] = rng.choice(TOML_VALUES)
        elif op < 0.8:  # a key or section removed
            if isinstance(doc[section], dict) and doc[section] and rng.random() < 0.6:
                del doc[section][rng.choice(list(doc[section]))]
            else:
                del doc[section]
        elif op < 0.9:  # a section turned into a value, or a value into a section
            doc[section] = rng.choice(TOML_VALUES) if isinstance(doc[section], dict) else {"x": "1"}
        else:  # a second varied parameter
            if isinstance(doc.get("params"), dict):
                doc["params"][rng.choice(["g_k_slow", "noise_sd_uA", "g_leak", "coupling_g"])] = rng.choice(TOML_VALUES)
    text = render_toml(doc)
    if rng.random() < 0.08:  # byte damage
        i = rng.randrange(len(text) + 1)
        text = text[:i] + rng.choice(GARBAGE) + text[i + rng.randrange(3):]
    return text


def render_toml(doc: dict) -> str:
    top = [f"{k} = {v}" for k, v in doc.items() if not isinstance(v, dict)]
    tables = [f"[{k}]\n" + "".join(f"{kk} = {vv}\n" for kk, vv in v.items()) for k, v in doc.items() if isinstance(v, dict)]
    return "\n".join(top) + "\n" + "\n".join(tables)


# --------------------------------------------------------------------------- byte mutation (ledgers, MIDI)

def mutate_bytes(rng: random.Random, data: bytes) -> bytes:
    b = bytearray(data)
    op = rng.random()
    if op < 0.4:  # flip a few bytes
        for _ in range(rng.randint(1, 8)):
            i = rng.randrange(len(b))
            b[i] = rng.randrange(256)
    elif op < 0.6:  # truncate
        b = b[:rng.randrange(len(b))]
    elif op < 0.75:  # zero or 0xff a block
        i = rng.randrange(len(b))
        n = rng.randint(1, 256)
        b[i:i + n] = bytes([rng.choice([0, 255])]) * len(b[i:i + n])
    elif op < 0.85:  # duplicate a block
        i, j = sorted(rng.randrange(len(b)) for _ in range(2))
        b[j:j] = b[i:i + rng.randint(1, 64)]
    else:  # garbage appended or prepended
        junk = bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))
        b = junk + b if rng.random() < 0.5 else b + junk
    return bytes(b)


def mutate_midi(rng: random.Random, data: bytes) -> bytes:
    """MIDI-aware faults (header division, track length, tempo, delta times) or plain byte damage."""
    b = bytearray(data)
    op = rng.random()
    if op < 0.2:
        b[12:14] = rng.choice([0, 1, 2, 0x7FFF, 0x8000, 0xE728, 0xFFFF]).to_bytes(2, "big")  # division
    elif op < 0.3:
        b[8:10] = rng.choice([1, 2, 3, 0xFFFF]).to_bytes(2, "big")  # format
        b[10:12] = rng.choice([0, 2, 100, 0xFFFF]).to_bytes(2, "big")  # number of tracks
    elif op < 0.4:
        i = bytes(b).find(b"MTrk")
        if i >= 0:
            b[i + 4:i + 8] = rng.choice([0, 1, 2**31 - 1, 2**32 - 1, len(b)]).to_bytes(4, "big")
    elif op < 0.5:
        i = bytes(b).find(b"\xff\x51\x03")  # tempo meta event
        if i >= 0:
            b[i + 3:i + 6] = rng.choice([b"\x00\x00\x00", b"\x00\x00\x01", b"\xff\xff\xff"])
    elif op < 0.6:  # a huge delta time before the last events
        i = bytes(b).rfind(b"\xff\x2f")
        if i > 4:
            b[i - 1:i - 1] = b"\x8f\xff\xff\x7f"[: rng.randint(1, 4)]
    else:
        return mutate_bytes(rng, bytes(b))
    return bytes(b)


def mutate_text(rng: random.Random, text: str) -> str:
    """Text damage for MusicXML and kern: numbers made absurd, tags/tokens dropped or duplicated, truncation."""
    import re

    op = rng.random()
    if op < 0.35:
        nums = list(re.finditer(r"\d+(\.\d+)?", text))
        for m in rng.sample(nums, min(len(nums), rng.randint(1, 4))):
            text = text[:m.start()] + rng.choice(["0", "-1", "999999999", "1e308", "nan", "00", "7"]) + text[m.end():]
            break
    elif op < 0.55:
        lines = text.splitlines()
        if lines:
            i = rng.randrange(len(lines))
            lines[i:i + rng.randint(1, 5)] = [] if rng.random() < 0.7 else lines[i:i + 1] * rng.randint(2, 50)
        text = "\n".join(lines)
    elif op < 0.7:
        text = text[:rng.randrange(len(text) + 1)]
    elif op < 0.85:
        i = rng.randrange(len(text) + 1)
        text = text[:i] + rng.choice(["<", ">", "&", "\x00", "*", "!!", "\t", "<note>", "</measure>", "*M0/0", "4.",
                                      "*MM0", "*MM-5", "q", "1000000r", "]]>", "\ufffd"]) + text[i:]
    else:
        text = "".join(ch for ch in text if rng.random() > 0.02)
    return text


# --------------------------------------------------------------------------- ledger structure

def mutate_ledger_h5(rng: random.Random, path: Path) -> None:
    """Structural damage through h5py: a dataset removed, retyped, reshaped or replaced by a group;
    offsets, statuses or attributes changed."""
    import h5py
    import numpy as np

    with h5py.File(path, "a") as f:
        names = []
        f.visititems(lambda name, obj: names.append(name) if isinstance(obj, h5py.Dataset) else None)
        name = rng.choice(names)
        ds = f[name]
        n = ds.shape[0] if ds.ndim else 1
        op = rng.random()
        if op < 0.15:
            del f[name]
        elif op < 0.35:
            new = rng.choice([np.zeros(n, "i1"), np.zeros(n, "f4"), np.array(["x"] * n, dtype=h5py.string_dtype()),
                              np.zeros((n, 3)), np.zeros(max(0, n - 1)), np.zeros(n + 5), np.zeros(()), np.zeros(0),
                              np.full(n, np.nan), np.full(n, -(2**62), dtype="i8"), np.zeros(n, "c16")])
            del f[name]
            f[name] = new
        elif op < 0.45:
            del f[name]
            f.create_group(name)
        elif op < 0.65 and ds.dtype.kind in "iuf" and ds.size:
            data = ds[()]
            flat = data.reshape(-1)
            for _ in range(rng.randint(1, 3)):
                if ds.dtype.kind in "iu":
                    info = np.iinfo(ds.dtype)
                    value = rng.choice([info.min, info.max, 9, 0, max(info.min, -1), min(info.max, 10**9)])
                else:
                    value = rng.choice([np.nan, np.inf, -1e308, 0.0])
                flat[rng.randrange(flat.size)] = value
            ds[...] = data
        elif op < 0.8:
            key = rng.choice(list(f.attrs) or ["x"])
            f.attrs[key] = rng.choice([np.int64(-1), "", "x" * 10000, np.zeros(3), 1e308, "{not json"])
        else:
            t = f.get("tasks")
            if isinstance(t, h5py.Group) and "metrics" in t:
                t["metrics"][rng.choice(["extra", "onset_loss2"])] = np.zeros(rng.choice([0, 1, 1000]))
