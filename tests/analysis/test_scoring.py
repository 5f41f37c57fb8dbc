"""Which score is analysed, and how it is labelled."""
from __future__ import annotations

import pytest

from pyannow_hpc.analysis import scoring
from pyannow_hpc.errors import ConfigError


def test_shift_null_z_first_then_one_to_one_f1_then_the_loss():
    assert scoring.choose(["f1_mireval", "onset_loss", "shift_z"]).key == "shift_z"
    assert scoring.choose(["f1_mireval", "onset_loss", "f1_seed"]).key == "f1_mireval"
    assert scoring.choose(["onset_loss", "f1_seed"]).key == "onset_loss"
    assert scoring.choose(["f1_mireval", "f1_mireval_shift_z"]).key == "f1_mireval_shift_z"


def test_labels_and_directions():
    z = scoring.describe("shift_z")
    assert "shift-null z" in z.label and z.higher_is_better
    f1 = scoring.describe("f1_mireval")
    assert "one-to-one" in f1.label and f1.higher_is_better
    loss = scoring.describe("onset_loss")
    assert not loss.higher_is_better and loss.goodness(2.0) == -2.0


def test_a_requested_score_must_exist():
    with pytest.raises(ConfigError, match="not in the ledger"):
        scoring.choose(["f1_mireval"], "shift_z")
    with pytest.raises(ConfigError, match="no score"):
        scoring.choose(["worm_rate_hz"])


def test_the_optimisers_loss_is_labelled_and_lower_is_better():
    loss = scoring.choose(["loss", "n_notes"])
    assert loss.key == "loss" and not loss.higher_is_better and "optimiser" in loss.label
