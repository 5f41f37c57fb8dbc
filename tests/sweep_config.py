"""One sweep-config builder for every test that needs a sweep TOML file.

``sweep_toml(ledger, ...)`` returns the text of a small, valid sweep
(native backend, the seed cell, one varied parameter) with any table
replaced or extended by keyword, so a test states only what it is about::

    sweep_toml(tmp_path / "s.h5", n_samples=24, params={"tau_ca_ms": [5, 40]},
               fixed={"g_exp2": 6.0}, scheduler={"task_timeout_s": 0.3})

pytest puts this folder on ``sys.path`` (it holds the root conftest.py), so
``from sweep_config import sweep_toml`` works from every test folder.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import json

#: g_egl19 over its musical stretch, log-scaled: what most sweep tests vary
G_EGL19 = {"g_egl19": {"range": [1.0, 20.0], "scale": "log"}}


def sweep_dict(ledger: str | Path, *, backend: str = "native", model: str = "pyannow", target: str | None = None,
               method: str = "sobol", n_samples: int = 8, seed: int = 0, params: Mapping[str, Any] | None = None,
               fixed: Mapping[str, float] | None = None, simulation: Mapping[str, Any] | None = None,
               scheduler: Mapping[str, Any] | None = None, output: Mapping[str, Any] | None = None) -> dict:
    """The sweep as the dict ``tomllib`` would read from the file."""
    data: dict[str, Any] = {"backend": backend, "model": model}
    if target is not None:
        data["target"] = str(target)
    data["sampler"] = {"method": method, "n_samples": n_samples, "seed": seed}
    data["params"] = dict(G_EGL19 if params is None else params)
    for name, table in (("fixed", fixed), ("simulation", simulation), ("scheduler", scheduler)):
        if table:
            data[name] = dict(table)
    data["output"] = {"ledger": str(ledger), **(output or {})}
    return data


def _value(v: Any) -> str:
    """One TOML value; tables inline, so a [params] table keeps its order
    (the order of the ledger's columns). tomli-w would move them to sub-tables."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, (str, Path)):
        return json.dumps(str(v))  # a JSON string is a TOML basic string
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, Mapping):
        return "{ " + ", ".join(f"{k} = {_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(f"no TOML for {v!r}")


def sweep_toml(ledger: str | Path, **kw) -> str:
    """:func:`sweep_dict` as TOML text: top-level keys, then one [table] per section."""
    data = sweep_dict(ledger, **kw)
    lines = [f"{k} = {_value(v)}" for k, v in data.items() if not isinstance(v, Mapping)]
    for name, table in data.items():
        if isinstance(table, Mapping):
            lines += [f"[{name}]", *(f"{k} = {_value(v)}" for k, v in table.items())]
    return "\n".join(lines) + "\n"
