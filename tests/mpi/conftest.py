import os
import sys

# the sweep tests share their fake task functions with tests/parallel
DIST = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "parallel")
if DIST not in sys.path:
    sys.path.insert(0, DIST)
