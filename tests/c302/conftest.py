"""C302 fixtures: a private mechanism cache and task-dir base per test session,
and one real default run shared by the tests that only read it."""
import pytest


@pytest.fixture(scope="session")
def c302_env(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    cache = tmp_path_factory.mktemp("c302cache")
    tasks = tmp_path_factory.mktemp("c302tasks")
    mp.setenv("PYANNOW_C302_CACHE", str(cache))
    mp.setenv("PYANNOW_TASK_DIR", str(tasks))
    yield {"cache": cache, "tasks": tasks}
    mp.undo()


@pytest.fixture(scope="session")
def default_run(c302_env):
    from pyannow_hpc.worm import c302_backend, simulate

    before = dict(c302_backend.STATS)
    act = simulate(None, backend="c302", model="pyannow", duration_s=0.2, dt_ms=0.05)
    return act, before, dict(c302_backend.STATS)
