# pyannow_hpc -- `make demo`, `make test`, `make bench` on a fresh clone.
# Each target creates .venv/ when missing, installs the package with its
# dependencies (MPI from the mpich wheel, JAX for the CPU, c302 + NEURON),
# builds the native library, then does its job.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check
STAMP  := $(VENV)/.installed
NATIVE := pyannow_hpc/_native/libpyannow.so
OUT    ?= out/demo
MPI4JAX_CUDA_PATH ?= $(abspath $(VENV))/no-cuda

export NEURON_HOME := $(abspath $(VENV))
# the venv's mpiexec (mpich wheel) comes first
export PATH := $(abspath $(VENV))/bin:$(PATH)

.PHONY: all setup native demo test test-fast bench clean distclean help

help:
	@echo "make demo   - set up .venv, build libpyannow, run the demo on the embedded Chopin mazurka"
	@echo "make test   - set up, then the whole test suite (serial, MPI, Slurm, C302 tiers)"
	@echo "make bench  - set up, then the benchmarks (ratios against baselines run in the same process)"
	@echo "make native - (re)build libpyannow into pyannow_hpc/_native/"

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip wheel

$(STAMP): pyproject.toml | $(PY)
	$(PIP) install -q -e ".[mpi,c302,dev]"
	@# mpi4jax builds from source against the mpich wheel. On a machine with an
	@# nvcc but no CUDA toolkit its setup must see an empty CUDA_PATH; on a GPU
	@# node run `make MPI4JAX_CUDA_PATH=/usr/local/cuda` to get its CUDA ops.
	mkdir -p $(VENV)/no-cuda
	CUDA_PATH=$(MPI4JAX_CUDA_PATH) MPI4JAX_BUILD_MPICC=$(abspath $(VENV))/bin/mpicc \
	  $(PIP) install -q --no-build-isolation --no-binary mpi4jax "mpi4jax>=0.8"
	touch $@

setup: $(STAMP) native

native: $(STAMP)
	$(VENV)/bin/cmake -S . -B build/native -DCMAKE_BUILD_TYPE=Release -G Ninja >/dev/null
	$(VENV)/bin/cmake --build build/native

demo: setup
	$(VENV)/bin/pyannow-hpc demo --out $(OUT)

test: setup
	bash scripts/run_tests.sh

test-fast: setup
	bash scripts/run_tests.sh --fast

bench: setup
	$(PY) benchmarks/run_all.py

clean:
	rm -rf build out $(NATIVE)

distclean: clean
	rm -rf $(VENV)
