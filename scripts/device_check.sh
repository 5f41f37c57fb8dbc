#!/usr/bin/env bash
# Train the ODE and PDE PINNs on the accelerator JAX sees and print step times.
# The same training code runs on CPU and GPU unchanged; on a GPU machine install
# JAX for CUDA first:  .venv/bin/pip install -e ".[cuda]"   (jax[cuda12])
#
#   scripts/device_check.sh                 # size medium: 20k collocation points, ~1-3 min on a GPU
#   scripts/device_check.sh --size small    # 2k points, a few steps: a smoke run (CPU ok)
#   scripts/device_check.sh --size large    # 200k points
#   scripts/device_check.sh --allow-cpu     # run even when JAX sees no GPU
#   scripts/device_check.sh --ranks 2       # data-parallel over 2 ranks (mpiexec), one device each
# Prints one JSON line per run (adam_step_ms, lbfgs_step_ms, compile_s, device)
# and exits non-zero if any run fails or (without --allow-cpu) JAX sees no GPU.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
[ -x "$PY" ] || PY=python3
size=medium allow_cpu=0 ranks=1
while [ $# -gt 0 ]; do
  case $1 in
    --size) size=$2; shift 2 ;;
    --allow-cpu) allow_cpu=1; shift ;;
    --ranks) ranks=$2; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "device_check.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
case $size in
  small)  colloc=2000   adam=30  lbfgs=5 ;;
  medium) colloc=20000  adam=300 lbfgs=20 ;;
  large)  colloc=200000 adam=300 lbfgs=20 ;;
  *) echo "device_check.sh: --size must be small, medium or large, got $size" >&2; exit 2 ;;
esac

backend=$("$PY" -c 'import jax; print(jax.default_backend())')
"$PY" -c 'import jax; print("# jax", jax.__version__, "backend", jax.default_backend(), "devices", jax.devices())'
if [ "$backend" != gpu ] && [ $allow_cpu = 0 ]; then
  echo "device_check.sh: JAX sees no GPU (backend=$backend); install jax[cuda12] or pass --allow-cpu" >&2
  exit 1
fi
launch=("$PY" -m pyannow_hpc)
if [ "$ranks" -gt 1 ]; then
  launch=(mpiexec -n "$ranks" "$PY" -m pyannow_hpc)
else
  export PYANNOW_NO_MPI=1
fi
# one process per GPU: do not let XLA grab all GPU memory up front
export XLA_PYTHON_CLIENT_PREALLOCATE=false
for net in ode pde; do
  echo "# $net PINN: $colloc collocation points, Adam $adam + L-BFGS $lbfgs, $ranks rank(s)"
  "${launch[@]}" train --net "$net" --colloc "$colloc" --adam-steps "$adam" --lbfgs-steps "$lbfgs" --json
done
if [ "$size" != small ]; then
  echo "# seed settings (200 collocation points, Adam 500 + L-BFGS 50); the seed reported ~30 s (ODE), ~90 s (PDE)"
  for net in ode pde; do
    "${launch[@]}" train --net "$net" --colloc 200 --json
  done
fi
