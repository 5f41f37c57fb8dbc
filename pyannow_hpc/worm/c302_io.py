"""Read OpenWorm output files into :class:`MuscleActivity`.

C302 (NEURON) writes tab-separated ``<ref>.muscles.dat`` (muscle V in volts)
and ``<ref>.muscles.activity.dat`` (muscle [Ca] in mol/m^3 = mM): time in
seconds in column 0, one row per integration step.  The column order is
read from the LEMS file's ``<OutputFile>``/``<OutputColumn>`` elements rather
than assumed.  95 muscles exist (MDL01-24, MDR01-24, MVL01-23, MVR01-24);
they go to our 96 pitch slots by name (MDL -> DL, MVL -> VL, MDR -> DR,
MVR -> VR).  **Slot VL24 (index 47, MIDI 71) has no C302 muscle: its traces
are NaN and it never spikes.**

Sibernetic (the container backend) writes ``muscles_activity_buffer.txt``
(96 activation values in [0, 1] per logged step, quadrant order MDR, MVR,
MVL, MDL as in sibernetic's plot_positions.py) and a WCON file (JSON) of the
body's midline.
"""
from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Mapping

import numpy as np

from ..errors import SimulationError
from .activity import N_MUSCLES, QUADRANTS, MuscleActivity, muscle_names
from .spikes import detect_spikes as _spike_rule

#: C302 quadrant prefix -> our quadrant
C302_QUADRANT = {"MDL": "DL", "MVL": "VL", "MDR": "DR", "MVR": "VR"}
#: Sibernetic's buffer order (24 values each)
SIBERNETIC_QUADRANTS = ("MDR", "MVR", "MVL", "MDL")
MISSING_C302_SLOT = muscle_names().index("VL24")


def slot_of(c302_name: str) -> int:
    """Our slot index of a C302 muscle name such as ``MDL07``."""
    q, seg = C302_QUADRANT.get(c302_name[:3]), c302_name[3:]
    if q is None or not seg.isdigit() or not 1 <= int(seg) <= 24:
        raise SimulationError(f"unexpected muscle name {c302_name!r} in C302 output")
    return QUADRANTS.index(q) * 24 + int(seg) - 1


def lems_output_columns(lems_path: Path) -> dict[str, list[str]]:
    """``{file name: [cell name per data column]}`` from a LEMS simulation file."""
    try:
        root = ET.parse(lems_path).getroot()
    except (OSError, ET.ParseError) as exc:
        raise SimulationError(f"cannot read LEMS file {lems_path}: {exc}") from None
    out: dict[str, list[str]] = {}
    for of in root.iter("OutputFile"):
        out[of.get("fileName", "")] = [c.get("quantity", "").split("/")[0] for c in of.iter("OutputColumn")]
    return out


def _load_table(path: Path, n_cols: int) -> np.ndarray:
    try:
        data = np.loadtxt(path, dtype=np.float64, ndmin=2)
    except (OSError, ValueError) as exc:
        raise SimulationError(f"cannot parse simulator output {path}: {exc}") from None
    if data.shape[0] < 2 or data.shape[1] != n_cols:
        raise SimulationError(f"{path}: expected >= 2 rows of {n_cols} columns, got shape {data.shape}")
    if not np.all(np.isfinite(data)):
        raise SimulationError(f"{path}: contains NaN or infinite values (the simulation blew up)")
    return data


def detect_spikes(t_ms: np.ndarray, v_mV: np.ndarray, thresh_mV: float, refractory_ms: float):
    """The project's one spike rule (:mod:`.spikes`, as the surrogates use):
    upward threshold crossings, a per-muscle refractory time; on a uniform grid
    starting at ``t_ms[0]``.  NaN slots (C302's missing MVL24) never spike."""
    dt_ms = float(np.median(np.diff(t_ms)))
    times, muscle = _spike_rule(v_mV, dt_ms, thresh_mV, refractory_ms)
    return times + float(t_ms[0]), muscle


def read_c302(
    run_dir: Path,
    lems_name: str,
    *,
    sample_rate_hz: float,
    thresh_mV: float,
    refractory_ms: float,
    params: Mapping[str, float],
    model: str,
    seed: int = 0,
    float32: bool = True,
    extra: Mapping[str, object] | None = None,
) -> MuscleActivity:
    """Parse a finished C302 run in ``run_dir`` (LEMS file ``lems_name``)."""
    columns = lems_output_columns(run_dir / lems_name)
    v_file = next((f for f in columns if f.endswith(".muscles.dat")), None)
    ca_file = next((f for f in columns if f.endswith(".muscles.activity.dat")), None)
    if v_file is None:
        raise SimulationError(f"{lems_name} records no muscle voltages (.muscles.dat): use a c302 configuration with muscles")
    names = columns[v_file]
    v_raw = _load_table(run_dir / v_file, len(names) + 1)
    t_full_ms = v_raw[:, 0] * 1000.0
    slots = np.array([slot_of(n) for n in names])

    dtype = np.float32 if float32 else np.float64
    v_full = np.full((len(t_full_ms), N_MUSCLES), np.nan)
    v_full[:, slots] = v_raw[:, 1:] * 1000.0  # volts -> mV
    # spikes on the full-resolution trace, before decimation
    spike_t, spike_m = detect_spikes(t_full_ms, v_full, thresh_mV, refractory_ms)

    dt_ms = float(np.median(np.diff(t_full_ms)))
    every = max(1, int(round(1000.0 / (sample_rate_hz * dt_ms))))
    keep = slice(0, None, every)
    traces: dict[str, np.ndarray] = {}
    if ca_file is not None and (run_dir / ca_file).exists():
        ca_names = columns[ca_file]
        ca_raw = _load_table(run_dir / ca_file, len(ca_names) + 1)
        ca = np.full((len(ca_raw), N_MUSCLES), np.nan)
        ca[:, [slot_of(n) for n in ca_names]] = ca_raw[:, 1:]  # mol/m^3 == mM
        traces["ca_mM"] = ca[keep].astype(dtype)
    for k, val in (extra or {}).items():
        traces[k] = np.asarray(val)
    return MuscleActivity(
        t_ms=t_full_ms[keep],
        v_mV=v_full[keep].astype(dtype),
        spike_times_ms=spike_t,
        spike_muscle=spike_m.astype(np.int32),
        backend="c302",
        model=model,
        params=dict(params),
        seed=seed,
        traces=traces,
    )


# ------------------------------------------------------------------ Sibernetic


def sibernetic_to_slots(values: np.ndarray) -> np.ndarray:
    """Reorder ``(n, 96)`` Sibernetic buffer columns (MDR, MVR, MVL, MDL) into our slots."""
    out = np.empty_like(values)
    for k, q in enumerate(SIBERNETIC_QUADRANTS):
        s = QUADRANTS.index(C302_QUADRANT[q]) * 24
        out[:, s : s + 24] = values[:, k * 24 : (k + 1) * 24]
    return out


def read_muscle_buffer(path: Path, step_ms: float) -> tuple[np.ndarray, np.ndarray]:
    """``(t_ms, activation[n, 96])`` from ``muscles_activity_buffer.txt``."""
    try:
        rows = [line.split() for line in path.read_text().splitlines() if line.strip()]
        data = np.array(rows, dtype=np.float64)
    except (OSError, ValueError) as exc:
        raise SimulationError(f"cannot parse Sibernetic muscle buffer {path}: {exc}") from None
    if data.ndim != 2 or data.shape[1] != N_MUSCLES or len(data) < 2:
        raise SimulationError(f"{path}: expected >= 2 lines of {N_MUSCLES} values, got shape {data.shape}")
    if not np.all(np.isfinite(data)):
        raise SimulationError(f"{path}: contains NaN or infinite activations")
    return np.arange(len(data)) * step_ms, sibernetic_to_slots(data)


def read_wcon(path: Path) -> dict[str, np.ndarray]:
    """Body midline from a WCON file: ``body_t_ms`` (n,), ``body_x``/``body_y`` (n, points), in its units."""
    try:
        doc = json.loads(path.read_text())
        data = doc["data"]
        rec = data[0] if isinstance(data, list) else data
        t = np.asarray(rec["t"], dtype=float)
        x = np.asarray(rec["x"], dtype=float)
        y = np.asarray(rec["y"], dtype=float)
    except (OSError, ValueError, KeyError, IndexError, TypeError) as exc:
        raise SimulationError(f"cannot parse WCON file {path}: {exc}") from None
    t_unit = str(doc.get("units", {}).get("t", "s")).lower()
    scale = 1.0 if t_unit in ("ms", "millisecond", "milliseconds") else 1000.0
    if x.shape != y.shape or x.ndim != 2 or len(t) != len(x):
        raise SimulationError(f"WCON file {path}: t, x, y shapes disagree ({t.shape}, {x.shape}, {y.shape})")
    return {"body_t_ms": t * scale, "body_x": x, "body_y": y}


def activation_spikes(t_ms: np.ndarray, act: np.ndarray, thresh: float = 0.5, refractory_ms: float = 50.0):
    """Onsets of muscle activation: upward crossings of ``thresh`` (activation in [0, 1])."""
    if not (0.0 < thresh < 1.0) or math.isnan(thresh):
        raise SimulationError(f"activation threshold must be in (0, 1), got {thresh}")
    return detect_spikes(t_ms, act, thresh, refractory_ms)
