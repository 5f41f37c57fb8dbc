"""Modal piano synthesis and audio files."""
from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from pyannow_hpc.errors import OutputError
from pyannow_hpc.music import synth
from pyannow_hpc.music.audio import write_audio
from pyannow_hpc.music.notes import NoteSequence

FS = 22050


def plain_string(pitch, n_samples, fs=FS, harmonic=False):
    """SCIENCE.md's formula written plainly: a Python loop over the 40 modes."""
    f0 = 440.0 * 2 ** ((pitch - 69) / 12)
    t = np.arange(n_samples) / fs
    y = np.zeros(n_samples)
    for n in range(1, 41):
        fn = n * f0 if harmonic else n * f0 * np.sqrt(1 + 4e-4 * n * n)
        if fn >= fs / 2:
            continue
        g = 1.5 + 5e-5 * (2 * np.pi * fn) ** 2
        a = np.sin(n * np.pi * 0.12) / n * np.sin(n * np.pi * 0.5)
        y += a * np.exp(-g * t) * np.sin(2 * np.pi * fn * t)
    return y


def closed_form_spectrum(pitch, freqs_hz, fs=FS):
    """|Z-transform| of sum_n A_n r_n^k sin(theta_n k) on the unit circle: the
    spectrum the formula predicts, independent of any time-domain rendering."""
    f, g, a = synth.modes(pitch, fs)
    r, th = np.exp(-g / fs), 2 * np.pi * f / fs
    zi = np.exp(-2j * np.pi * np.asarray(freqs_hz) / fs)[:, None]
    return np.abs(np.sum(a * r * np.sin(th) * zi / (1 - 2 * r * np.cos(th) * zi + r**2 * zi**2), axis=1))


def test_vectorised_string_equals_the_plain_formula():
    for pitch in (24, 45, 69, 100, 119):
        np.testing.assert_allclose(synth.render_string(pitch, 4000), plain_string(pitch, 4000), rtol=1e-9, atol=1e-12)


def test_a4_fundamental_is_440_hz():
    f, g, a = synth.modes(69)
    assert f[0] == pytest.approx(440.0 * np.sqrt(1 + 4e-4))  # 440.088 Hz
    y = synth.render_string(69, FS)
    # After 10 ms every mode but the fundamental has decayed by > e^-30
    # (gamma_3 = 3453/s vs gamma_1 = 384/s): the zero crossings of
    # exp(-g t) sin(2 pi f t) are exactly 1/(2f) apart.
    seg = y[int(0.010 * FS) : int(0.040 * FS)]
    s = np.flatnonzero(np.sign(seg[:-1]) != np.sign(seg[1:]))
    cross = s - seg[s] / (seg[s + 1] - seg[s])  # linear interpolation, in samples
    f_zero = FS / (2 * np.mean(np.diff(cross)))
    assert abs(f_zero - 440.0) < 1.0 and f_zero == pytest.approx(440.088, abs=0.01)
    # The magnitude spectrum peaks 1.2 Hz low (438.8 Hz, measured): the seed's
    # damping makes the A4 fundamental a 122 Hz-wide Lorentzian, whose
    # |spectrum| peak is pulled down by its negative-frequency image and mode 3.
    spec = np.abs(np.fft.rfft(y, 2**20))
    peak = np.fft.rfftfreq(2**20, 1 / FS)[np.argmax(spec)]
    assert 438.0 < peak < 440.5


def test_partials_are_inharmonic_where_the_formula_says():
    y = synth.render_string(45, FS)  # A2, one second: every mode has decayed (e^-25)
    spec = np.abs(np.fft.rfft(y))
    freqs = np.fft.rfftfreq(FS, 1 / FS)
    want = closed_form_spectrum(45, freqs)
    np.testing.assert_allclose(spec, want, rtol=0, atol=1e-6 * want.max())
    # harmonic partials (f_n = n f0) miss that spectrum by > 1000x the tolerance
    # (the shift is small next to the damping width, but far above rounding)
    harm = np.abs(np.fft.rfft(plain_string(45, FS, harmonic=True)))
    assert np.max(np.abs(harm - spec)) > 1e-3 * want.max()
    # the audible partials: odd modes (sin(n pi/2) = 0 for even n) but n = 25,
    # a node of the strike point 0.12 = 3/25 (sin(3 pi) = 0) -> 19 of 40
    f, g, a = synth.modes(45)
    assert len(f) == 19 and f[1] == pytest.approx(330.0 * np.sqrt(1 + 4e-4 * 9))


def test_modes_above_nyquist_are_dropped():
    for fs in (8000, 22050, 44100):
        for pitch in (24, 69, 108, 119):
            f, g, a = synth.modes(pitch, fs)
            assert np.all(f < fs / 2)
            assert len(f) >= 1 or 440 * 2 ** ((pitch - 69) / 12) >= fs / 2
    # a fundamental above Nyquist (C8 = 4186 Hz at 8 kHz) renders as silence, not NaN or alias
    silent = synth.render_note(108, 0.1, fs=8000)
    assert len(silent) == round(0.5 * 8000) and not np.any(silent)
    # A4 at 8 kHz: odd modes 1, 3, 5, 7 (3110 Hz) stay; mode 9 (4024 Hz) is above 4 kHz
    assert len(synth.modes(69, 8000)[0]) == 4
    assert len(synth.modes(119, 22050)[0]) == 1  # B8: only its 7904 Hz fundamental
    # the vectorised render uses exactly those modes (the plain loop skips f >= fs/2 itself)
    np.testing.assert_allclose(synth.render_string(69, 800, 8000), plain_string(69, 800, 8000), rtol=1e-9, atol=1e-12)


def test_notes_are_peak_normalised_and_cached_prefixes_are_exact():
    for vel in (127, 64, 1):
        note = synth.render_note(60, 0.1, velocity=vel)
        assert np.max(np.abs(note)) == pytest.approx(0.8 * vel / 127, rel=1e-12)
    # lengths clip(dur + 0.4, 0.3, 0.7) s
    assert [len(synth.render_note(60, d)) for d in (0.0, 0.1, 1.0)] == [round(0.4 * FS), round(0.5 * FS), round(0.7 * FS)]
    # a cached prefix equals the note rendered on its own at that length
    for pitch, dur in ((32, 0.05), (69, 0.2), (99, 0.3)):
        n = int(round((dur + 0.4) * FS))
        alone = plain_string(pitch, n)
        alone *= 0.8 * 90 / 127 / np.max(np.abs(alone))
        np.testing.assert_allclose(synth.render_note(pitch, dur, velocity=90), alone, rtol=1e-9, atol=1e-12)


def test_mix_has_energy_at_both_onsets_and_is_peak_normalised():
    notes = NoteSequence.from_arrays([0.5, 2.0], [60, 67], [100, 40], [0.1, 0.1])
    y = synth.render(notes)
    assert y.dtype == np.float32 and y.ndim == 1
    assert len(y) == round(2.0 * FS) + round(0.5 * FS)
    assert np.max(np.abs(y)) == pytest.approx(0.9, rel=1e-6)

    def rms(a, b):
        return float(np.sqrt(np.mean(y[int(a * FS) : int(b * FS)] ** 2)))

    assert rms(0.0, 0.49) == 0.0 and rms(1.1, 1.99) == 0.0  # silence before and between
    assert rms(0.5, 0.55) > 0.01 and rms(2.0, 2.05) > 0.01
    # velocity 40 vs 100: the second note's peak is 40/100 of the first's
    p1, p2 = np.max(np.abs(y[: FS])), np.max(np.abs(y[2 * FS :]))
    assert p2 / p1 == pytest.approx(0.4, rel=1e-5)
    # notes at negative or non-finite times are skipped, not allocated
    odd = NoteSequence(np.array([-1.0, np.nan, np.inf, 0.5]), np.array([60, 60, 60, 60]), np.array([100] * 4), np.array([0.1, 0.1, 0.1, np.nan]))
    assert len(synth.render(odd)) == 0
    # padding to a duration, and the empty score
    assert len(synth.render(notes, duration_s=10.0)) == 10 * FS
    empty = NoteSequence.from_arrays([], [])
    assert len(synth.render(empty)) == 0 and len(synth.render(empty, duration_s=1.0)) == FS


@pytest.mark.parametrize("ext", [".wav", ".flac"])
def test_write_audio_roundtrip(tmp_path, ext):
    y = synth.render(NoteSequence.from_arrays([0.0, 0.3], [60, 64]))
    p = write_audio(tmp_path / f"a{ext}", y, FS)
    back, fs = sf.read(p, dtype="float32")
    assert fs == FS and back.shape == y.shape
    np.testing.assert_allclose(back, y, atol=1 / 32768 + 1e-7)
    assert sorted(x.name for x in tmp_path.iterdir()) == [f"a{ext}"]  # no temp file left


def test_write_audio_errors_are_one_line_output_errors(tmp_path):
    y = np.zeros(100, dtype=np.float32)
    with pytest.raises(OutputError, match="unsupported extension '.mp3'"):
        write_audio(tmp_path / "a.mp3", y, FS)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OutputError, match="file"):
        write_audio(blocker / "a.wav", y, FS)
    with pytest.raises(OutputError, match="NaN"):
        write_audio(tmp_path / "b.wav", np.array([0.0, np.nan]), FS)
    with pytest.raises(OutputError, match="sample rate"):
        write_audio(tmp_path / "c.wav", y, 0)
    # an existing file is left intact when the new write fails
    good = write_audio(tmp_path / "d.wav", y, FS)
    before = good.read_bytes()
    with pytest.raises(OutputError):
        write_audio(good, np.array([np.inf]), FS)
    assert good.read_bytes() == before
