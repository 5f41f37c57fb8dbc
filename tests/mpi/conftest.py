import os
import sys

# the sweep tests share their fake task functions with tests/dist
DIST = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "dist")
if DIST not in sys.path:
    sys.path.insert(0, DIST)
