"""The smooth-loss vs F1 ranking (optimize/spearman.py) on a ledger whose answer is known:
copies of a metronome target with growing timing jitter (F1 falls, the loss must rise),
and an exact copy played 0.2 s early (bad at offset 0, perfect at the best offset)."""
import numpy as np
from mir_eval.onset import f_measure

from pyannow_hpc.music.notes import NoteSequence
from pyannow_hpc.optimize import spearman as SP
from pyannow_hpc.store.ledger import DONE, LedgerData, write_ledger

JITTER_S = (0.0, 0.01, 0.02, 0.03, 0.05, 0.08, 0.12, 0.2)


def test_loss_ranks_jitter_like_f1_and_the_offset_is_found(tmp_path):
    beat = np.arange(0.25, 10.0, 0.5)
    target = NoteSequence.from_arrays(beat, np.full(len(beat), 60), name="metronome")
    rng = np.random.default_rng(1)
    worms = [np.sort(beat + rng.normal(0, sd, len(beat))) for sd in JITTER_S] + [beat - 0.2]
    n = len(worms)
    led = LedgerData.new(np.arange(n), ("p",), np.arange(n, dtype=float)[:, None], np.arange(n), target=target,
                         attrs={"duration_s": 10.0, "window_start_s": 0.0})
    for i, on in enumerate(worms):
        on = on[(on >= 0) & (on < 10.0)]
        f1 = f_measure(beat, on, window=0.05)[0]
        led.record(i, DONE, metrics={"f1_mireval": f1, "shift_excess": f1 - 0.1, "shift_z": f1 * 5, "n_worm": len(on),
                                     "onset_loss": 1 - f1}, onsets_s=on, pitches=np.full(len(on), 60))
    path = write_ledger(tmp_path / "known.h5", led)
    rows, at0, best, _ = SP.smooth_losses(path)
    assert len(rows) == n
    jit = slice(0, len(JITTER_S))
    assert at0[0] < 0.05 and at0[-1] > 0.5 and best[-1] < 0.05  # 0.2 s early: found by the offset search
    table = SP.spearman_table(path)
    row = next(r for r in table if r["points"] == "all" and r["loss"].endswith("offset 0") and r["score"].startswith("F1"))
    assert row["n"] == n
    from scipy.stats import spearmanr

    assert spearmanr(-at0[jit], led.metrics["f1_mireval"][jit]).statistic > 0.9  # jitter: the loss ranks like F1
    assert SP.main([str(path)]) == 0


def test_not_a_ledger_is_one_line(tmp_path, capsys):
    bad = tmp_path / "x.h5"
    bad.write_bytes(b"not hdf5")
    assert SP.main([str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("pyannow-hpc: error:") and err.count("\n") == 1
