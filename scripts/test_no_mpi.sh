#!/usr/bin/env bash
# The laptop mode: one rank with no MPI installed. Runs `demo`, a small
# `sweep` and `train` in an environment where `import mpi4py` and
# `import mpi4jax` fail (blocker modules first on PYTHONPATH), and checks
# each command succeeds and wrote its outputs. Fails first if the blockers
# did not take effect, so the tier can never pass vacuously.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/block"
for mod in mpi4py mpi4jax; do
  printf 'raise ImportError("%s is blocked: this tier runs without MPI")\n' "$mod" >"$work/block/$mod.py"
done
export PYTHONPATH="$work/block${PYTHONPATH:+:$PYTHONPATH}"
# no launcher variables either: a plain `python` on a laptop
unset PMI_RANK PMI_SIZE OMPI_COMM_WORLD_SIZE PMIX_RANK MPI_LOCALNRANKS HYDRA_CONTROL_FD

fail() { echo "no-MPI tier: $*" >&2; exit 1; }
"$PY" - <<'PYEOF' || fail "mpi4py is still importable: the blocker did not take effect"
try:
    import mpi4py  # noqa: F401
except ImportError:
    raise SystemExit(0)
raise SystemExit(1)
PYEOF

cat >"$work/sweep.toml" <<TOML
backend = "native"
model = "boyle2008"
[sampler]
method = "sobol"
n_samples = 4
seed = 0
[params]
g_ca_boyle = { range = [0.6, 1.2] }
[simulation]
duration_s = 2.0
[output]
ledger = "$work/sweep.h5"
report = false
TOML

passed=0 failed=0
check() { # name, expected file, command...
  local name=$1 want=$2; shift 2
  if "$@" >"$work/$name.log" 2>&1 && [ -s "$want" ]; then
    echo "PASSED no-MPI $name"; passed=$((passed + 1))
  else
    echo "FAILED no-MPI $name (rc $?, expected $want):"; tail -n 20 "$work/$name.log"; failed=$((failed + 1))
  fi
}
check demo "$work/demo/result.h5" "$PY" -m pyannow_hpc demo --out "$work/demo" --no-progress
check sweep "$work/sweep.h5" "$PY" -m pyannow_hpc sweep "$work/sweep.toml" --no-progress
check train "$work/train.npz" "$PY" -m pyannow_hpc train --net ode --adam-steps 20 --lbfgs-steps 2 --duration-s 2 --out "$work/train.npz"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
