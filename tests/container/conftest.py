"""The stand-in runtime (tests/fixtures/fake_runtime) first on PATH, a private
task-dir base, and one C302 network cache per session (the container backend
generates its network on the host with c302 + jNeuroML: once per session,
then the cached template is patched per parameter set)."""
import os
from pathlib import Path

import pytest

FAKE = Path(__file__).resolve().parents[1] / "fixtures" / "fake_runtime"


def _alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie nobody reaped counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.fixture(scope="session")
def c302_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("container_c302cache")


@pytest.fixture
def fake_runtime(tmp_path, monkeypatch, c302_cache):
    log = tmp_path / "argv.jsonl"
    tasks = tmp_path / "tasks"
    tasks.mkdir()
    monkeypatch.setenv("PATH", f"{FAKE}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_RUNTIME_LOG", str(log))
    monkeypatch.setenv("PYANNOW_TASK_DIR", str(tasks))
    monkeypatch.setenv("PYANNOW_C302_CACHE", str(c302_cache))
    monkeypatch.delenv("PYANNOW_CONTAINER_RUNTIME", raising=False)
    monkeypatch.delenv("FAKE_RUNTIME_MODE", raising=False)
    return {"log": log, "tasks": tasks, "dir": FAKE, "cache": c302_cache}


@pytest.fixture
def alive():
    return _alive
