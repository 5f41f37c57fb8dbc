"""The smooth onset loss: silence and floods lose to a metronome at the beat;
its gradient matches finite differences."""
import numpy as np
import pytest

from pyannow_hpc.optimize import loss as L


def _target(duration_s=10.0, beat_s=0.4):
    t = np.arange(0.2, duration_s, beat_s)
    return t, np.full(len(t), 60)


def test_silence_and_flood_lose_to_a_metronome_at_the_beat():
    t, p = _target()
    metro = L.loss_from_onsets(t + 0.01, p, t, p, 10.0)
    silence = L.loss_from_onsets(np.zeros(0), np.zeros(0, int), t, p, 10.0)
    flood_t = np.repeat(np.arange(0, 10.0, 0.0005), 1)  # an onset every 0.5 ms step
    flood = L.loss_from_onsets(flood_t, np.full(len(flood_t), 60), t, p, 10.0)
    off_beat = L.loss_from_onsets(t + 0.2, p, t, p, 10.0)
    assert silence == pytest.approx(1.0)
    assert metro < 0.1
    assert flood > metro + 0.5 and silence > metro + 0.5
    assert off_beat > metro + 0.5  # the loss sees timing, not only the note count


def test_offset_recovers_a_shifted_metronome():
    t, p = _target()
    late = t + 0.12  # the worm plays 120 ms early relative to ... its offset fixes it
    assert L.loss_from_onsets(t, p, late, p, 10.0, offset_s=0.12) < 0.05
    assert L.loss_from_onsets(t, p, late, p, 10.0) > 0.5


def test_pitch_aware_loss_sees_which_muscles_fire():
    t, p = _target()
    right = L.loss_from_onsets(t, p, t, p, 10.0, pitch_aware=True)
    wrong = L.loss_from_onsets(t, p + 1, t, p, 10.0, pitch_aware=True)
    assert right < 0.05 and wrong == pytest.approx(1.0)
    assert L.loss_from_onsets(t, p + 1, t, p, 10.0) < 0.05  # the summed loss does not


@pytest.mark.parametrize("pitch_aware", [False, True])
def test_numpy_loss_is_the_jax_loss(pitch_aware):
    """loss_from_onsets (NumPy: the population methods never import JAX) equals
    the same blur / target density / Dice built with jax.numpy."""
    import jax
    import jax.numpy as jnp

    from pyannow_hpc.optimize import loss as L

    rng = np.random.default_rng(3)
    on, pi = np.sort(rng.uniform(0, 5, 40)), rng.integers(24, 120, 40)
    t_on, t_pi = np.sort(rng.uniform(0, 5, 30)), rng.integers(40, 90, 30)
    got = L.loss_from_onsets(on, pi, t_on, t_pi, 5.0, offset_s=0.013, pitch_aware=pitch_aware)
    with jax.enable_x64(True):
        counts = L.hard_onset_counts(on, pi, 5.0, 0.01, pitch_aware)
        w = L.blur(jnp.asarray(counts), 0.01, 0.03)
        t = L.target_density(t_on, jnp.asarray(t_pi), counts.shape[0], 0.01, 0.03, 0.013, pitch_aware)
        ref = float(L.dice_loss(w, t))
    assert 0 < got < 1 and got == pytest.approx(ref, rel=1e-12, abs=1e-14)
