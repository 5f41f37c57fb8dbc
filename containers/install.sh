#!/bin/sh
# The one install recipe of both images (containers/Dockerfile, containers/pyannow.def),
# run from /opt/pyannow_hpc with the image's venv first on PATH.
#
#   PYANNOW_GPU=0  (default) CPU JAX; mpi4jax's CPU bridge only
#   PYANNOW_GPU=1  the `cuda` extra (jax[cuda12]) and mpi4jax built with its CUDA
#                  bridge against the toolkit at MPI4JAX_CUDA_PATH (default
#                  /usr/local/cuda: build from an nvidia/cuda *-devel base image)
#
# Two pip steps, as `make setup` runs them (pyproject.toml): mpi4jax is built
# from source against the mpich wheel's MPI without build isolation, so its
# build requirements (the mpi-build extra) go in first.
set -eu
gpu=${PYANNOW_GPU:-0}
extras=mpi,c302
if [ "$gpu" = 1 ]; then
  extras=$extras,cuda
  cuda_path=${MPI4JAX_CUDA_PATH:-/usr/local/cuda}
  if [ ! -f "$cuda_path/include/cuda_runtime_api.h" ]; then
    echo "install.sh: PYANNOW_GPU=1 needs a CUDA toolkit at MPI4JAX_CUDA_PATH=$cuda_path (use an nvidia/cuda:*-devel base image)" >&2
    exit 2
  fi
else
  cuda_path=$(pwd)/build/no-cuda  # an empty CUDA_PATH: mpi4jax builds no GPU bridge even where an nvcc lies around
  mkdir -p "$cuda_path"
fi
pip install ".[mpi-build]"
# a stale library copied from a host checkout must not shadow the fresh build
rm -f pyannow_hpc/_native/*.so
CUDA_PATH="$cuda_path" CUDA_ROOT="$cuda_path" MPI4JAX_BUILD_MPICC="$(command -v mpicc)" \
  pip install --no-build-isolation --no-binary mpi4jax ".[$extras]"
pyannow-hpc --version
if [ "$gpu" = 1 ]; then
  # built, not just installed: the CUDA bridge module must exist (importing it needs no GPU)
  python -c 'import importlib.util as u, sys; sys.exit(u.find_spec("mpi4jax._src.xla_bridge.mpi_xla_bridge_cuda") is None)' || {
    echo "install.sh: mpi4jax was built without its CUDA bridge (see the CUDA lines of the pip output)" >&2
    exit 3
  }
fi
