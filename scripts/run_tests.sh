#!/usr/bin/env bash
# Run every test tier and fail if any tier fails -- or collects no tests
# (pytest exit 5 means the tier's collection is broken, never "all good").
#   1. serial tier:  pytest -m "not mpi and not slurm"   (includes c302, browser)
#   2. MPI tier:     mpiexec -n 2 pytest -m mpi           (both ranks must pass)
#   3. Slurm tier:   pytest -m slurm  (the fixture starts slurmctld + slurmd)
#   4. no-MPI tier:  demo, sweep, train with `import mpi4py` failing (scripts/test_no_mpi.sh)
# --fast skips the slow, c302 and slurm tiers (a quick local loop).
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
export NEURON_HOME=${NEURON_HOME:-$(pwd)/.venv}
export PATH="$(pwd)/.venv/bin:$PATH"
export PYTHONUNBUFFERED=1
# 2 cores: keep BLAS/XLA from oversubscribing when two MPI ranks run.
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1}
export XLA_FLAGS=${XLA_FLAGS:---xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1}
fast=0
[ "${1:-}" = "--fast" ] && fast=1

failed=()
run_tier() { # name, command...
  local name=$1; shift
  echo "=== tier: $name: $*"
  local start=$SECONDS
  "$@"
  local rc=$?
  echo "=== tier: $name: exit $rc in $((SECONDS - start)) s"
  if [ $rc -eq 5 ]; then
    echo "tier $name collected no tests: treating as a failure" >&2
    failed+=("$name(no tests)")
  elif [ $rc -ne 0 ]; then
    failed+=("$name(exit $rc)")
  fi
}

if [ $fast = 1 ]; then
  run_tier serial "$PY" -m pytest -q -m "not mpi and not slurm and not slow and not c302"
else
  run_tier serial "$PY" -m pytest -q -m "not mpi and not slurm"
fi
# -p no:cacheprovider: two ranks must not race on .pytest_cache
run_tier mpi env PYANNOW_EXPECT_RANKS=2 mpiexec -n 2 "$PY" -m pytest -q -p no:cacheprovider -m mpi tests/mpi
if [ $fast = 0 ]; then
  run_tier slurm "$PY" -m pytest -q -p no:cacheprovider -m slurm tests/slurm
fi

run_tier no-mpi bash scripts/test_no_mpi.sh

if [ ${#failed[@]} -ne 0 ]; then
  echo "FAILED tiers: ${failed[*]}" >&2
  exit 1
fi
echo "all test tiers passed"
