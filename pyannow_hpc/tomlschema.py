"""Reading a TOML config and checking its tables against frozen dataclasses:
the part every config kind shares (the sweep's, config.py; the optimiser's,
optimize/config.py). Each kind brings its own schema and ``parse_config``;
the reading, the type checks and the error lines are these.
"""
from __future__ import annotations

import dataclasses
import difflib
import math
from pathlib import Path
from typing import Any

from .errors import ConfigError

try:
    import tomllib
except ImportError:  # Python 3.10: the same parser, from PyPI (pyproject.toml pulls it in)
    import tomli as tomllib


def _unknown(key: str, known, where: str) -> ConfigError:
    close = difflib.get_close_matches(key, list(known), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return ConfigError(f"{where}: unknown key {key!r}{hint}; known: {', '.join(known)}")


def _typed(value: Any, default: Any, where: str) -> Any:
    """Check ``value`` against the type of the field's default (ints pass as floats)."""
    if isinstance(default, bool) or isinstance(value, bool):
        if isinstance(default, str) and isinstance(value, bool):  # "auto" | true | false
            return value
        if not isinstance(value, bool) or not isinstance(default, bool):
            raise ConfigError(f"{where} must be {type(default).__name__}, got {value!r}")
        return value
    if isinstance(default, float):
        if not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ConfigError(f"{where} must be a finite number, got {value!r}")
        return float(value)
    if not isinstance(value, type(default)):
        raise ConfigError(f"{where} must be {type(default).__name__}, got {value!r}")
    return value


def _section(cls, table: Any, where: str):
    if not isinstance(table, dict):
        raise ConfigError(f"{where} must be a table ([{where.split(': ')[-1]}]), got {table!r}")
    defaults = {f.name: f.default for f in dataclasses.fields(cls)}
    values = {}
    for key, value in table.items():
        if key not in defaults:
            raise _unknown(key, defaults, where)
        values[key] = _typed(value, defaults[key], f"{where}.{key}")
    return cls(**values)


def loads_toml(text: str, parse, *, source: str):
    """``parse(data, source=..., text=...)`` of TOML ``text``; bad TOML is one ConfigError.

    Shared by every config kind (sweep here, optimize/config.py): each brings
    its own ``parse_config``, the reading and the error lines are the same.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from None
    return parse(data, source=source, text=text)


def read_config_text(path: str | Path) -> str:
    """A config file's text; a missing or unreadable file is one ConfigError."""
    p = Path(path)
    try:
        return p.read_text()
    except FileNotFoundError:
        raise ConfigError(f"config file {p} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file {p}: {exc}") from None
