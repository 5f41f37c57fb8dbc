# Sourced by train_gpu.sbatch and optimize_gpu.sbatch: choose how pyannow-hpc
# runs on a GPU node and refuse to start when JAX sees no GPU.
#
#   PYANNOW_SIF   an Apptainer image built for GPUs (containers/pyannow.def with
#                 --build-arg PYANNOW_GPU=1): run inside it with --nv
#   PYANNOW_VENV  otherwise a venv with `pip install -e ".[cuda]"` (default $HOME/pyannow_hpc/.venv)
#   PYANNOW_ALLOW_CPU=1  start anyway when JAX sees no GPU
#
# Sets PYANNOW_RUN (an array: the prefix before `pyannow-hpc ...`) and PYANNOW_MODE.
# $1: the calling script's name, for messages.
pyannow_gpu_setup() {
  local me=$1
  # let XLA take what it needs instead of 75% of the GPU up front (other
  # processes on a shared node), and keep host threads to the job's cores
  export XLA_PYTHON_CLIENT_PREALLOCATE=false
  export OMP_NUM_THREADS=${SLURM_CPUS_PER_TASK:-1}
  export PYTHONUNBUFFERED=1
  if [ -n "${PYANNOW_SIF:-}" ]; then
    if [ ! -f "$PYANNOW_SIF" ]; then
      echo "$me: PYANNOW_SIF=$PYANNOW_SIF does not exist; build it with: apptainer build --fakeroot --build-arg BASE_IMAGE=nvidia/cuda:12.6.3-devel-ubuntu24.04 --build-arg PYANNOW_GPU=1 pyannow-cuda12.sif containers/pyannow.def" >&2
      exit 2
    fi
    PYANNOW_MODE=apptainer
    PYANNOW_RUN=(apptainer exec --nv --bind "$PWD" --pwd "$PWD" "$PYANNOW_SIF")
  else
    local venv=${PYANNOW_VENV:-$HOME/pyannow_hpc/.venv}
    if ! command -v pyannow-hpc >/dev/null 2>&1; then
      if [ ! -x "$venv/bin/pyannow-hpc" ]; then
        echo "$me: pyannow-hpc not on PATH and not in PYANNOW_VENV=$venv (or set PYANNOW_SIF to a GPU image)" >&2
        exit 2
      fi
      export PATH="$venv/bin:$PATH"
    fi
    PYANNOW_MODE=venv
    PYANNOW_RUN=()
  fi
  echo "$me: job ${SLURM_JOB_ID:-?} on ${SLURM_JOB_NODELIST:-?} ($PYANNOW_MODE), CUDA_VISIBLE_DEVICES=${CUDA_VISIBLE_DEVICES:-unset}"
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null || echo "nvidia-smi: not available"
  local platform
  platform=$("${PYANNOW_RUN[@]}" python -c 'import jax; print(jax.default_backend())')
  echo "jax backend: $platform"
  if [ "$platform" != gpu ] && [ "$platform" != cuda ] && [ "${PYANNOW_ALLOW_CPU:-0}" != 1 ]; then
    echo "$me: JAX sees no GPU (backend $platform); use a GPU image (PYANNOW_SIF) or a venv with jax[cuda12] (pip install -e '.[cuda]'), or set PYANNOW_ALLOW_CPU=1" >&2
    exit 3
  fi
}
