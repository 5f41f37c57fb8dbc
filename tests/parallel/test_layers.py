"""The import layers: the store sits below the scheduler, and both share the task
schema (store/tasks.py) without importing each other; every module imports alone."""
import functools
import subprocess
import sys

import pytest

#: the modules this layering touches (a fresh interpreter each: ~1 s apiece)
MODULES = ("store.tasks", "store.ledger", "store.recorder", "store.merge", "parallel.scheduler",
           "parallel.isolation", "parallel.refine", "parallel.sweep", "cli.refine", "learn.training")


@functools.lru_cache(maxsize=None)
def _loaded_after(module: str) -> set[str]:
    code = f"import sys, pyannow_hpc.{module}; print(' '.join(m for m in sys.modules if m.startswith('pyannow_hpc')))"
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                       env={"PYANNOW_NO_MPI": "1", "PATH": "/usr/bin:/bin"})
    assert p.returncode == 0, p.stderr
    return set(p.stdout.split())


@pytest.mark.parametrize("module", MODULES)
def test_each_module_imports_alone(module):
    assert f"pyannow_hpc.{module}" in _loaded_after(module)


def test_the_scheduler_and_the_store_do_not_import_each_other():
    assert not {"pyannow_hpc.store.ledger", "pyannow_hpc.store.recorder"} & _loaded_after("parallel.scheduler")
    for store in ("store.ledger", "store.recorder", "store.merge"):
        assert not {m for m in _loaded_after(store) if m.startswith("pyannow_hpc.parallel")}, store
    assert _loaded_after("store.tasks") == {"pyannow_hpc", "pyannow_hpc.store", "pyannow_hpc.store.tasks"}
