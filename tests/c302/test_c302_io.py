"""Parsing C302 and Sibernetic output formats into MuscleActivity (fast, synthetic files
written in the exact layout the real tools use; the real files are parsed in test_c302_real.py)."""
import json

import numpy as np
import pytest

from pyannow_hpc.errors import SimulationError
from pyannow_hpc.worm.activity import muscle_names
from pyannow_hpc.worm.c302_io import (
    MISSING_C302_SLOT, read_c302, read_muscle_buffer, read_wcon, sibernetic_to_slots, slot_of,
)

C302_MUSCLES = [f"M{q}{s:02d}" for q in ("DL", "DR", "VL", "VR") for s in range(1, 25) if f"{q}{s:02d}" != "VL24"]


def _write_run(d, names, v_volts, t_s, ca=None):
    cols = "\n".join(f'<OutputColumn id="{n}_v" quantity="{n}/0/GenericMuscleCell/v"/>' for n in names)
    cacols = "\n".join(f'<OutputColumn id="{n}_v" quantity="{n}/0/GenericMuscleCell/caConc"/>' for n in names)
    (d / "LEMS_x.xml").write_text(
        f'<Lems><Simulation id="s"><OutputFile id="muscles_v" fileName="x.muscles.dat">{cols}</OutputFile>'
        f'<OutputFile id="muscles_activity" fileName="x.muscles.activity.dat">{cacols}</OutputFile></Simulation></Lems>'
    )
    np.savetxt(d / "x.muscles.dat", np.column_stack([t_s, v_volts]), delimiter="\t", fmt="%e")
    if ca is not None:
        np.savetxt(d / "x.muscles.activity.dat", np.column_stack([t_s, ca]), delimiter="\t", fmt="%e")


def test_slot_mapping_by_name():
    names = muscle_names()
    assert len(C302_MUSCLES) == 95
    slots = [slot_of(n) for n in C302_MUSCLES]
    assert sorted(slots) == [i for i in range(96) if i != MISSING_C302_SLOT]
    assert names[slot_of("MDL01")] == "DL01" and names[slot_of("MVR24")] == "VR24" and names[slot_of("MDR07")] == "DR07"
    with pytest.raises(SimulationError, match="unexpected muscle name"):
        slot_of("AVBL")


def test_read_c302_maps_columns_by_lems_order_and_converts_units(tmp_path):
    rng = np.random.default_rng(0)
    names = list(rng.permutation(C302_MUSCLES))  # the LEMS file, not a fixed order, decides
    t_s = np.arange(0, 0.0101, 5e-5)  # dt 0.05 ms, 10 ms
    v = -0.05 + 0.001 * np.arange(95)[None, :] + 0 * t_s[:, None]
    k = names.index("MDL03")
    v[:, k] = np.where((t_s > 0.004) & (t_s < 0.006), 0.010, -0.050)  # one spike to +10 mV at 4 ms
    ca = np.abs(v) * 1e-6
    _write_run(tmp_path, names, v, t_s, ca)
    act = read_c302(tmp_path, "LEMS_x.xml", sample_rate_hz=1000.0, thresh_mV=-10.0, refractory_ms=5.0,
                    params={"g_egl19": 8.0}, model="pyannow")
    assert act.v_mV.shape == (11, 96) and act.backend == "c302"
    np.testing.assert_allclose(np.diff(act.t_ms), 1.0)  # decimated to 1 kHz
    assert np.isnan(act.v_mV[:, MISSING_C302_SLOT]).all()
    j = slot_of("MVR05")
    np.testing.assert_allclose(act.v_mV[:, j], v[::20, names.index("MVR05")] * 1000, rtol=1e-5)
    np.testing.assert_allclose(act.traces["ca_mM"][:, j], ca[::20, names.index("MVR05")], rtol=1e-5)
    assert list(act.spike_muscle) == [slot_of("MDL03")]
    assert 4.0 <= act.spike_times_ms[0] <= 4.1  # detected on the 20 kHz trace


def test_read_c302_rejects_garbage(tmp_path):
    t_s = np.arange(0, 0.001, 5e-5)
    _write_run(tmp_path, C302_MUSCLES, np.full((len(t_s), 95), -0.05), t_s)
    (tmp_path / "x.muscles.dat").write_text("0.0\t-0.05\nnot numbers\n")
    with pytest.raises(SimulationError, match="cannot parse"):
        read_c302(tmp_path, "LEMS_x.xml", sample_rate_hz=1000.0, thresh_mV=-10, refractory_ms=5, params={}, model="pyannow")
    np.savetxt(tmp_path / "x.muscles.dat", np.column_stack([t_s, np.full((len(t_s), 95), np.nan)]))
    with pytest.raises(SimulationError, match="NaN"):
        read_c302(tmp_path, "LEMS_x.xml", sample_rate_hz=1000.0, thresh_mV=-10, refractory_ms=5, params={}, model="pyannow")


def test_sibernetic_buffer_quadrant_order(tmp_path):
    # Sibernetic's buffer: MDR 0-23, MVR 24-47, MVL 48-71, MDL 72-95
    row = np.arange(96, dtype=float)
    (tmp_path / "b.txt").write_text("\n".join("\t".join(f"{x:g}" for x in row + k) for k in range(3)) + "\n")
    t, act = read_muscle_buffer(tmp_path / "b.txt", step_ms=0.5)
    np.testing.assert_allclose(t, [0, 0.5, 1.0])
    names = muscle_names()
    assert act[0, names.index("DR01")] == 0 and act[0, names.index("VR01")] == 24
    assert act[0, names.index("VL01")] == 48 and act[0, names.index("DL01")] == 72
    np.testing.assert_array_equal(sibernetic_to_slots(row[None, :]), act[:1])
    (tmp_path / "bad.txt").write_text("1\t2\t3\n")
    with pytest.raises(SimulationError):
        read_muscle_buffer(tmp_path / "bad.txt", step_ms=0.5)


def test_wcon(tmp_path):
    doc = {"units": {"t": "s", "x": "micrometers", "y": "micrometers"},
           "data": [{"id": "worm", "t": [0.0, 0.1], "x": [[1, 2, 3], [2, 3, 4]], "y": [[0, 0, 0], [1, 1, 1]]}]}
    (tmp_path / "w.wcon").write_text(json.dumps(doc))
    body = read_wcon(tmp_path / "w.wcon")
    np.testing.assert_allclose(body["body_t_ms"], [0, 100])
    assert body["body_x"].shape == (2, 3)
    (tmp_path / "bad.wcon").write_text("{not json")
    with pytest.raises(SimulationError, match="WCON"):
        read_wcon(tmp_path / "bad.wcon")
