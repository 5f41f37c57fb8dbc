#!/usr/bin/env bash
# The device check (issue 15), one script, a few minutes end to end on a GPU:
#  1. on a machine with an NVIDIA GPU (nvidia-smi answers) and a CPU-only JAX,
#     installs jax[cuda12] of the same version (pip; PIP_FIND_LINKS/--no-index
#     wheelhouses work as usual; --no-install skips it);
#  2. the JAX surrogate jit(vmap) over 256...8192 parameter sets of 10 s:
#     worm-seconds per second and the cost per set against one native C core
#     measured in the same process, float64 agreement with C (<= 1e-9), one
#     gradient-mode optimiser iteration (benchmarks/device_surrogate.py);
#  3. the ODE and PDE PINNs' step times on the same device.
#
#   scripts/device_check.sh                        # size medium: B 256..8192 x 10 s, 20k PINN points
#   scripts/device_check.sh --size small --allow-cpu   # B 4,8 x 0.5 s, 2k PINN points: a CPU smoke run
#   scripts/device_check.sh --size large           # + 200k PINN points, seed-settings PINN runs
#   scripts/device_check.sh --json-out out/device.json   # all results as one JSON file
#   scripts/device_check.sh --allow-cpu            # run even when JAX sees no GPU
#   scripts/device_check.sh --ranks 2              # PINNs data-parallel over 2 ranks (mpiexec)
#   scripts/device_check.sh --no-install           # never pip install
# Prints one JSON line per part and exits non-zero if a part fails, C and the
# device disagree beyond 1e-9, or (without --allow-cpu) JAX sees no GPU.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
[ -x "$PY" ] || PY=python3
size=medium allow_cpu=0 ranks=1 json_out= install=1
while [ $# -gt 0 ]; do
  case $1 in
    --size) size=${2:-}; shift 2 ;;
    --allow-cpu) allow_cpu=1; shift ;;
    --ranks) ranks=${2:-}; shift 2 ;;
    --json-out) json_out=${2:-}; shift 2 ;;
    --no-install) install=0; shift ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "device_check.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
case $size in
  small)  colloc=2000   adam=30  lbfgs=5  batches=4,8                 dur=0.5 ;;
  medium) colloc=20000  adam=300 lbfgs=20 batches=256,1024,4096,8192  dur=10 ;;
  large)  colloc=200000 adam=300 lbfgs=20 batches=256,1024,4096,8192  dur=10 ;;
  *) echo "device_check.sh: --size must be small, medium or large, got $size" >&2; exit 2 ;;
esac
case $ranks in ''|*[!0-9]*|0) echo "device_check.sh: --ranks must be a positive integer, got $ranks" >&2; exit 2 ;; esac
if [ -n "$json_out" ] && [ ! -d "$(dirname "$json_out")" ]; then
  echo "device_check.sh: --json-out: no such directory $(dirname "$json_out")" >&2; exit 2
fi

# 1. a GPU but a CPU-only jaxlib: install the CUDA build of the same JAX version
if [ $install = 1 ] && command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
  if [ "$("$PY" -c 'import jax; print(jax.default_backend())' 2>/dev/null)" != gpu ]; then
    jv=$("$PY" -c 'import jax; print(jax.__version__)')
    echo "# a GPU is present and JAX does not see it: installing jax[cuda12]==$jv"
    "$PY" -m pip install -q "jax[cuda12]==$jv" >&2 \
      || { echo "device_check.sh: error: pip install jax[cuda12]==$jv failed (offline? set PIP_FIND_LINKS to a wheelhouse)" >&2; exit 1; }
  fi
fi

backend=$("$PY" -c 'import jax; print(jax.default_backend())')
"$PY" -c 'import jax; print("# jax", jax.__version__, "backend", jax.default_backend(), "devices", jax.devices())'
if [ "$backend" != gpu ] && [ $allow_cpu = 0 ]; then
  echo "device_check.sh: JAX sees no GPU (backend=$backend); install jax[cuda12] or pass --allow-cpu" >&2
  exit 1
fi
# one process per GPU: do not let XLA grab all GPU memory up front
export XLA_PYTHON_CLIENT_PREALLOCATE=false
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# 2. the surrogate: vmap throughput against a native core, agreement, one gradient iteration
echo "# surrogate: jit(vmap) over B = $batches sets of $dur s against one native C core"
status=0
PYANNOW_NO_MPI=1 "$PY" benchmarks/device_surrogate.py --batches "$batches" --duration-s "$dur" \
  --json-out "$work/surrogate.json" || status=$?

# 3. the PINNs (kept from the first device check)
launch=("$PY" -m pyannow_hpc)
if [ "$ranks" -gt 1 ]; then
  launch=(mpiexec -n "$ranks" "$PY" -m pyannow_hpc)
  unset PYANNOW_NO_MPI
else
  export PYANNOW_NO_MPI=1
fi
runs=("ode $colloc $adam $lbfgs" "pde $colloc $adam $lbfgs")
if [ "$size" = large ]; then
  # seed settings (200 collocation points, Adam 500 + L-BFGS 50); the seed reported ~30 s (ODE), ~90 s (PDE)
  runs+=("ode 200 500 50" "pde 200 500 50")
fi
: > "$work/pinn.jsonl"
for r in "${runs[@]}"; do
  read -r net n a l <<<"$r"
  echo "# $net PINN: $n collocation points, Adam $a + L-BFGS $l, $ranks rank(s)"
  "${launch[@]}" train --net "$net" --colloc "$n" --adam-steps "$a" --lbfgs-steps "$l" --json | tee -a "$work/pinn.jsonl"
done

if [ -n "$json_out" ]; then
  "$PY" - "$work" "$json_out" "$size" <<'EOF'
import json, os, sys
work, out, size = sys.argv[1:]
res = {"size": size, "pinn": [json.loads(l) for l in open(os.path.join(work, "pinn.jsonl")) if l.startswith("{")]}
path = os.path.join(work, "surrogate.json")
res["surrogate"] = json.load(open(path)) if os.path.exists(path) else None
tmp = out + ".tmp"
with open(tmp, "w") as f:
    json.dump(res, f, indent=1)
os.replace(tmp, out)  # a whole file or the old one, never half
print(f"# results written to {out}")
EOF
fi
exit $status
