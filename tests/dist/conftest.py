import os
import sys

# fake_tasks.py is imported by the tests, by isolated child processes and by
# `--task fake_tasks:NAME` in launched sweeps
HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)
os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (HERE, os.environ.get("PYTHONPATH", "")) if p)
