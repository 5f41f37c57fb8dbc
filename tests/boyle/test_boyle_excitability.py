"""Excitability maps: the counts mean what they say, the plot and CLI work, bad input fails cleanly."""
from __future__ import annotations

import numpy as np
import pytest

from pyannow_hpc.analysis.excitability import excitability_map
from pyannow_hpc.cli import main
from pyannow_hpc.errors import ConfigError, ParameterError
from pyannow_hpc.worm import simulate


def test_rates_count_late_spikes_and_match_a_direct_simulation():
    m = excitability_map("boyle2008", "g_ca_boyle", [0.3, 0.7], "g_k_slow", [0.3, 3.0],
                         panel_name="drive_g_syn", panel_values=[0.15], duration_s=2.0, settle_s=0.5)
    assert m.rate_hz.shape == (1, 2, 2)
    # C1 defaults (0.7, 0.6) are excitable with this drive; strong k_slow (3.0) silences the cell
    act = simulate({"g_ca_boyle": 0.3, "g_k_slow": 0.3, "drive_g_syn": 0.15}, model="boyle2008", duration_s=2.0,
                   sample_rate_hz=10.0)
    expected = (act.spike_times_ms >= 500.0).sum() / 1.5
    assert m.rate_hz[0, 0, 0] == pytest.approx(expected)
    assert m.rate_hz[0, 1, :].max() == 0.0 and not m.excitable[0, 1].any()
    assert m.excitable[0, 0, 0]
    assert np.all(m.muscles_active <= 96)


def test_cli_writes_a_png_and_the_summary(tmp_path, capsys):
    out = tmp_path / "map.png"
    rc = main(["excitability", "--model", "pyannow", "--grid", "2", "--duration-s", "1", "--settle-s", "0.5",
               "--panel", "drive_amp_uA=12", "--out", str(out)])
    assert rc == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = capsys.readouterr().out
    assert "| pyannow | drive_amp_uA = 12 |" in text and "/4 (" in text


def test_bad_input_is_one_line_error(tmp_path, capsys):
    assert main(["excitability", "--model", "boyle2008", "--x", "g_ca_boyel", "--out", str(tmp_path / "x.png")]) != 0
    assert "did you mean 'g_ca_boyle'" in capsys.readouterr().err
    assert main(["excitability", "--model", "boyle2008", "--x-range", "1", "99", "--out", str(tmp_path / "x.png")]) != 0
    assert "inside its bounds" in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()
    with pytest.raises(ConfigError):
        excitability_map("boyle2008", "g_ca_boyle", [0.5], "g_k_slow", [0.5], duration_s=1.0, settle_s=1.0)
    with pytest.raises(ParameterError):
        excitability_map("boyle2008", "g_ca_boyle", [99.0], "g_k_slow", [0.5], duration_s=2.0)


def test_pulse_drive_keeps_notes_per_cycle_flat_across_frequency(tmp_path, capsys):
    # the tempo knob (docs/boyle2008.md): under the seed's wave, notes per cycle fall
    # ~3x from 0.5 to 2.5 Hz at this drive; under the fixed-width pulse they stay put
    m = excitability_map("boyle2008", "drive_freq_hz", [0.5, 1.5, 2.5], "drive_g_syn", [0.16],
                         panel_name="drive_pulse_ms", panel_values=[0.0, 1000.0 / 3], duration_s=6.0, settle_s=2.0)
    npc = m.notes_per_cycle
    assert np.allclose(npc, m.rate_hz / np.array([0.5, 1.5, 2.5]))
    wave, pulse = npc[0, 0], npc[1, 0]
    assert wave.max() / wave.min() > 2.0
    assert pulse.min() > 0 and pulse.max() / pulse.min() < 1.1
    out = tmp_path / "tempo.png"
    rc = main(["excitability", "--model", "boyle2008", "--x", "drive_freq_hz", "--x-range", "1", "2", "--grid", "2",
               "--y", "drive_g_syn", "--y-range", "0.15", "0.2", "--panel", "drive_pulse_ms=200", "--per-cycle",
               "--duration-s", "2", "--settle-s", "1", "--out", str(out)])
    assert rc == 0 and out.stat().st_size > 1000
    assert "notes per cycle at drive_freq_hz = 1, 2" in capsys.readouterr().out
