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
# extras for the full environment (commas kept out of $(call ...) arguments)
EXTRAS := mpi,c302,dev
MPI4JAX_CUDA_PATH ?= $(abspath $(VENV))/no-cuda

export NEURON_HOME := $(abspath $(VENV))
# the venv's mpiexec (mpich wheel) comes first
export PATH := $(abspath $(VENV))/bin:$(PATH)

.PHONY: all setup native sysdeps demo test test-fast bench clean distclean help

help:
	@echo "make demo   - set up .venv, build libpyannow, run the demo on the embedded Chopin mazurka"
	@echo "make test   - set up, then the whole test suite (serial, MPI, Slurm, C302 tiers)"
	@echo "make bench  - set up, then the benchmarks (ratios against baselines run in the same process)"
	@echo "make native - (re)build libpyannow into pyannow_hpc/_native/"

# $(call step,NAME,COMMAND): run COMMAND; on failure print one line naming the step.
step = @echo "==> $(1)"; ( $(2) ) || { echo "make: step '$(1)' failed (see the output above)" >&2; exit 1; }

$(PY):
	$(call step,create $(VENV),$(PYTHON) -m venv $(VENV) && $(PIP) install -q --upgrade pip wheel)

# Two pip steps (pyproject.toml's mpi-build and mpi extras): mpi4jax is built
# from source against the mpich wheel's MPI without build isolation, so its
# build needs (nanobind, mpi4py, setuptools) must already be in the venv.
# On a machine with an nvcc but no CUDA toolkit its setup must see an empty
# CUDA_PATH; on a GPU node run `make MPI4JAX_CUDA_PATH=/usr/local/cuda`.
$(STAMP): pyproject.toml | $(PY)
	$(call step,install build requirements (.[mpi-build]),$(PIP) install -q -e ".[mpi-build]")
	@mkdir -p $(VENV)/no-cuda
	$(call step,install the package and mpi4jax built from source (.[$(EXTRAS)]),\
	  CUDA_PATH=$(MPI4JAX_CUDA_PATH) MPI4JAX_BUILD_MPICC=$(abspath $(VENV))/bin/mpicc \
	  $(PIP) install -q --no-build-isolation --no-binary mpi4jax -e ".[$(EXTRAS)]")
	@touch $@

setup: $(STAMP) native

native: $(STAMP)
	$(call step,build libpyannow (cmake),$(VENV)/bin/cmake -S . -B build/native -DCMAKE_BUILD_TYPE=Release -G Ninja >/dev/null && $(VENV)/bin/cmake --build build/native)

# System packages the test tiers need (Slurm, Chromium, Java, g++): installed
# when root or passwordless sudo; otherwise one line with the command, and stop.
sysdeps:
	$(call step,system packages for the test tiers,bash scripts/install_system_deps.sh)

demo: setup
	$(call step,demo,$(VENV)/bin/pyannow-hpc demo --out $(OUT))

test: sysdeps setup
	$(call step,test suite (scripts/run_tests.sh),bash scripts/run_tests.sh)

test-fast: setup
	$(call step,fast test suite,bash scripts/run_tests.sh --fast)

bench: setup
	$(call step,benchmarks,$(PY) benchmarks/run_all.py)

clean:
	rm -rf build out $(NATIVE)

distclean: clean
	rm -rf $(VENV)
