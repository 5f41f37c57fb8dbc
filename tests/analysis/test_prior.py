"""The prior (theta_bar, Sigma): the exact HDF5 format the optimiser reads,
in its own file and in the ledger, written atomically."""
from __future__ import annotations

import os

import h5py
import numpy as np
import pytest

from pyannow_hpc.analysis import prior
from pyannow_hpc.analysis.run import run
from pyannow_hpc.errors import OutputError
from pyannow_hpc.store.ledger import diff_results, read_ledger


def _check_format(group, names, n_members, score):
    assert group["mean"].dtype == np.float64 and group["mean"].shape == (len(names),)
    assert group["cov"].dtype == np.float64 and group["cov"].shape == (len(names), len(names))
    assert [x.decode() if isinstance(x, bytes) else x for x in group.attrs["names"]] == list(names)
    assert group.attrs["coords"] == "search"
    assert group.attrs["score"] == score
    assert int(group.attrs["n_members"]) == n_members
    cov = group["cov"][()]
    np.testing.assert_allclose(cov, cov.T)
    assert np.all(np.linalg.eigvalsh(cov) > 0)  # invertible: the penalty needs Sigma^-1


@pytest.fixture(scope="module")
def analysed(tmp_path_factory, linear_at):
    """One analyze run over the linear ledger (the slow part, shared by the tests here)."""
    folder = tmp_path_factory.mktemp("prior")
    path = linear_at(folder / "linear.h5")
    before = read_ledger(path)
    res, _ = run([path], folder / "out", n_boot=10, progress=False)
    return path, folder / "out", res, before


def test_analyze_writes_the_musical_cluster_as_the_prior_to_file_and_ledger(analysed):
    path, out, res, before = analysed
    cl, des = res.clustering, res.design
    assert des.score.key == "f1_mireval"
    with h5py.File(out / "prior.h5", "r") as f:
        _check_format(f["prior"], des.names, len(cl.members), "f1_mireval")
        mean, cov = f["prior/mean"][()], f["prior/cov"][()]
    # theta_bar and Sigma are the members' mean and covariance in search coordinates
    np.testing.assert_allclose(mean, des.X[cl.members].mean(axis=0))
    np.testing.assert_allclose(cov, np.cov(des.X[cl.members], rowvar=False))
    with h5py.File(path, "r") as f:
        _check_format(f["prior"], des.names, len(cl.members), "f1_mireval")
        np.testing.assert_array_equal(f["prior/mean"][()], mean)
    # the ledger's own results are untouched and it still reads
    assert diff_results(before, read_ledger(path)) == []
    assert not [p for p in os.listdir(path.parent) if p.startswith(".") and not p.endswith(".lock")]  # no temp left
    # the musical cluster of a score linear in a and -log10(b): high a, low b
    assert mean[0] > des.X[:, 0].mean() and mean[1] < des.X[:, 1].mean()


def test_writing_again_replaces_the_prior_and_read_round_trips(analysed, tmp_path):
    path, _, res, _ = analysed
    got = prior.read(path)
    assert got.score == "f1_mireval" and got.scales == ("linear", "log", "linear")
    np.testing.assert_array_equal(got.mean, res.prior.mean)
    other = prior.Prior(got.names, got.scales, got.mean + 1, got.cov * 2, "onset_loss", "loss", 7)
    prior.add_to_ledger(path, other)
    again = prior.read(path)
    assert again.score == "onset_loss" and again.n_members == 7
    np.testing.assert_array_equal(again.cov, got.cov * 2)
    prior.add_to_ledger(path, got)  # leave the shared ledger as the fixture made it


def test_a_failed_write_leaves_the_ledger_whole(linear_ledger, monkeypatch):
    path, _ = linear_ledger
    raw = path.read_bytes()
    p = prior.Prior(("a",), ("linear",), np.zeros(1), np.eye(1), "f1_mireval", "", 3)

    def boom(g, pr):
        g.create_dataset("mean", data=np.zeros(1))  # half a group, then the writer dies
        raise RuntimeError("killed mid-write")

    monkeypatch.setattr(prior, "_fill", boom)
    with pytest.raises(OutputError, match="killed mid-write"):  # one line, not a traceback
        prior.add_to_ledger(path, p)
    assert path.read_bytes() == raw
    assert not [q for q in os.listdir(path.parent) if q.startswith(".") and not q.endswith(".lock")]


def _small_prior() -> "prior.Prior":
    return prior.Prior(("drive_g_syn",), ("linear",), np.array([0.1]), np.eye(1) * 1e-4, "shift_z", "z", 2,
                       sources=("s.h5",))


def test_the_prior_survives_a_resumed_sweep(tiny_sweep, make_pending, capsys):
    """The sweep rewrites the whole ledger on every flush; /prior rides along."""
    from pyannow_hpc.cli import main

    path, toml = tiny_sweep
    prior.add_to_ledger(path, _small_prior())
    make_pending(path, [1, 3])
    assert main(["sweep", str(toml), "--no-progress"]) == 0  # resumes: runs 2 tasks, flushes the ledger
    capsys.readouterr()
    assert read_ledger(path).counts()["pending"] == 0
    got = prior.read(path)
    assert got.names == ("drive_g_syn",) and got.score == "shift_z" and got.n_members == 2
    np.testing.assert_array_equal(got.cov, np.eye(1) * 1e-4)


def test_the_prior_is_refused_while_a_sweep_holds_the_ledger(linear_ledger):
    from pyannow_hpc.errors import LockError
    from pyannow_hpc.store.lock import ledger_lock

    path, _ = linear_ledger
    raw = path.read_bytes()
    with ledger_lock(path):  # this process stands in for a running sweep
        with pytest.raises(LockError, match="being written"):
            prior.add_to_ledger(path, _small_prior())
    assert path.read_bytes() == raw
