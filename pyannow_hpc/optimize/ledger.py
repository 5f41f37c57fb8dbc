"""The optimiser's HDF5 ledger: every evaluation and every iteration's state.

Layout (plain h5py; one file, rewritten whole after every iteration: built in
memory, then temp sibling, fsync, os.replace (store/atomic.atomic_bytes), so a
SIGKILL leaves the last completed iteration, never a torn file, and a full disk
is one error line, not a libhdf5 crash)::

    /            attrs: format, config_hash, config_text, method, labels (JSON), provenance
    /evaluations iteration, start, rank, seed, wall_s, loss, <score fields>, u (n, d), values (n, d)
    /iterations  iteration, best_loss, wall_s, state (pickled optimiser state incl. RNG)
    /result      attrs: table_markdown, table_json (written at the end)
    /prior, /retest, ...  groups other commands added (``analyze``): carried
                 verbatim through every rewrite (store/groups.py)

The ledger lock (``store.lock.ledger_lock``) is held by the optimiser for its
whole run (optimize/runner.py) and taken around a flush made outside one, so
two jobs cannot write one ledger.
"""
from __future__ import annotations

import contextlib
import json
import pickle
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import ConfigError, OutputError
from ..store.atomic import atomic_bytes
from ..store.groups import restore, snapshot
from ..store.lock import held_here, ledger_lock
from .scores import FIELDS

FORMAT = "pyannow-optimize-1"
EVAL_SCALARS = ("iteration", "start", "rank", "seed", "wall_s", "loss", "n_notes", *FIELDS)


#: the groups this ledger writes itself; any other is carried through rewrites
OWNED = frozenset({"evaluations", "iterations", "result"})


@contextlib.contextmanager
def _lock(path: Path):
    if held_here(path):  # the runner holds it for the whole run
        yield
        return
    with ledger_lock(path, "optimiser ledger"):
        yield


@dataclass
class OptLedger:
    path: Path
    labels: tuple[str, ...]
    attrs: dict = field(default_factory=dict)
    evals: list[dict] = field(default_factory=list)  # EVAL_SCALARS + u + values
    iterations: list[dict] = field(default_factory=list)  # iteration, best_loss, wall_s, state (bytes)
    result: dict = field(default_factory=dict)
    carried: bytes | None = None  # foreign groups (/prior, /retest): an HDF5 image, copied into every rewrite

    @property
    def n_iterations(self) -> int:
        return len(self.iterations)

    def last_state(self):
        return pickle.loads(self.iterations[-1]["state"]) if self.iterations else None

    def add_iteration(self, iteration: int, evals: list[dict], state, wall_s: float) -> None:
        self.evals += evals
        best = min([e["loss"] for e in self.evals if np.isfinite(e["loss"])], default=np.nan)
        self.iterations.append({"iteration": iteration, "best_loss": best, "wall_s": wall_s,
                                "state": pickle.dumps(state)})

    def best(self) -> dict | None:
        ok = [e for e in self.evals if np.isfinite(e["loss"])]
        return min(ok, key=lambda e: e["loss"]) if ok else None

    def column(self, key: str) -> np.ndarray:
        return np.array([e[key] for e in self.evals])

    def flush(self) -> None:
        import h5py

        with _lock(self.path), atomic_bytes(self.path, suffix=".h5", what="optimiser ledger") as buf:
            with h5py.File(buf, "w") as f:
                f.attrs["format"] = FORMAT
                f.attrs["labels"] = json.dumps(list(self.labels))
                for k, v in self.attrs.items():
                    f.attrs[k] = v if isinstance(v, (str, int, float)) else json.dumps(v)
                g = f.create_group("evaluations")
                d = len(self.labels)
                for key in EVAL_SCALARS:
                    g.create_dataset(key, data=np.array([e.get(key, np.nan) for e in self.evals], float))
                for key in ("u", "values"):
                    g.create_dataset(key, data=np.array([e[key] for e in self.evals], float).reshape(-1, d))
                it = f.create_group("iterations")
                for key in ("iteration", "best_loss", "wall_s"):
                    it.create_dataset(key, data=np.array([r[key] for r in self.iterations], float))
                ds = it.create_dataset("state", (len(self.iterations),), dtype=h5py.vlen_dtype(np.uint8))
                for i, row in enumerate(self.iterations):
                    ds[i] = np.frombuffer(row["state"], np.uint8)
                r = f.create_group("result")
                for k, v in self.result.items():
                    r.attrs[k] = v if isinstance(v, str) else json.dumps(v)
                restore(f, self.carried)


def read(path: str | Path) -> OptLedger:
    import h5py

    p = Path(path)
    try:
        with h5py.File(p, "r") as f:
            if f.attrs.get("format") != FORMAT:
                raise ConfigError(f"{p} is not an optimiser ledger (format {f.attrs.get('format')!r})")
            labels = tuple(json.loads(f.attrs["labels"]))
            attrs = {k: (v.item() if isinstance(v, np.generic) else v) for k, v in f.attrs.items()
                     if k not in ("format", "labels")}
            g = f["evaluations"]
            cols = {k: g[k][()] for k in EVAL_SCALARS}
            u, vals = g["u"][()], g["values"][()]
            evals = [{**{k: (int(cols[k][i]) if k in ("iteration", "start", "rank", "seed") else float(cols[k][i]))
                         for k in EVAL_SCALARS}, "u": u[i], "values": vals[i]} for i in range(len(u))]
            it = f["iterations"]
            iters = [{"iteration": int(a), "best_loss": float(b), "wall_s": float(c), "state": bytes(s.tobytes())}
                     for a, b, c, s in zip(it["iteration"][()], it["best_loss"][()], it["wall_s"][()], it["state"][()])]
            result = dict(f["result"].attrs) if "result" in f else {}
            carried = snapshot(f, OWNED)
    except (OSError, KeyError, ValueError) as exc:
        raise OutputError(f"{p} is not a readable optimiser ledger: {exc}") from None
    return OptLedger(p, labels, attrs, evals, iters, result, carried)
