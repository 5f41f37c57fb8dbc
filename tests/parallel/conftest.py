import os
import sys

# fake_tasks.py is imported by the tests and by isolated child processes (the
# fork server inherits sys.path); launched sweeps get it through PYTHONPATH
# (tests/parallel/test_launch.py)
HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)
