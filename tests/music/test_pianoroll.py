"""Piano-roll plot: file written atomically, matches coloured, errors typed."""
from __future__ import annotations

import numpy as np
import pytest

from pyannow_hpc.errors import OutputError
from pyannow_hpc.music.notes import NoteSequence
from pyannow_hpc.music.pianoroll import matched_onsets, plot_pianoroll


def test_matched_onsets_is_one_to_one():
    target = NoteSequence.from_arrays([1.0, 2.0], [60, 62])
    worm = NoteSequence.from_arrays([1.0, 1.01, 2.2, 3.0], [24, 30, 40, 119])
    assert matched_onsets(worm, target).sum() == 1  # two worm notes near 1.0: only one pairs
    assert not matched_onsets(worm, NoteSequence.from_arrays([], [])).any()


@pytest.mark.parametrize("ext", [".png", ".svg"])
def test_plot_pianoroll_writes_a_readable_file(tmp_path, ext):
    rng = np.random.default_rng(0)
    target = NoteSequence.from_arrays(np.sort(rng.uniform(0, 10, 40)), rng.integers(40, 80, 40))
    worm = NoteSequence.from_arrays(np.sort(rng.uniform(0, 10, 45)), rng.integers(24, 120, 45), duration_s=np.full(45, 5e-4))
    p = plot_pianoroll(worm, target, tmp_path / f"roll{ext}", title="test roll")
    assert p == tmp_path / f"roll{ext}" and p.stat().st_size > 5000
    assert [x.name for x in tmp_path.iterdir()] == [f"roll{ext}"]
    if ext == ".png":
        import matplotlib.image

        img = matplotlib.image.imread(p)
        assert img.shape[:2] == (600, 1440)  # 12 x 5 in at 120 dpi
        # both the green (matched) and red (unmatched) colours appear, or at least red
        px = (img[..., :3] * 255).round().astype(int).reshape(-1, 3)
        assert np.any(np.all(np.abs(px - [196, 78, 82]) < 8, axis=1))
    else:
        assert "test roll" in p.read_text()


def test_plot_pianoroll_empty_and_errors(tmp_path):
    empty = NoteSequence.from_arrays([], [])
    assert plot_pianoroll(empty, empty, tmp_path / "e.png", duration_s=5.0).exists()
    with pytest.raises(OutputError, match="roll.xyz"):
        plot_pianoroll(empty, empty, tmp_path / "roll.xyz")
    blocker = tmp_path / "f"
    blocker.write_text("")
    with pytest.raises(OutputError):
        plot_pianoroll(empty, empty, blocker / "r.png")
    assert sorted(x.name for x in tmp_path.iterdir()) == ["e.png", "f"]
