#!/usr/bin/env bash
# System packages the test tiers need, from Debian/Ubuntu:
#   slurm-wlm             single-node Slurm for tests/slurm (started by the tests)
#   chromium              headless browser for the report page test
#   default-jre-headless  Java for jNeuroML (c302 -> NEURON conversion)
#   g++, make             nrnivmodl compiles NEURON's generated .mod files
# Installs what is missing when it runs as root or with passwordless sudo.
# Otherwise it exits 1 with one line naming the packages and the command, so
# `make test` stops before running anything instead of skipping a tier.
set -uo pipefail
need=()
command -v slurmctld >/dev/null 2>&1 || need+=(slurm-wlm)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v java >/dev/null 2>&1 || need+=(default-jre-headless)
command -v g++ >/dev/null 2>&1 || need+=(g++)
command -v make >/dev/null 2>&1 || need+=(make)
if [ ${#need[@]} -eq 0 ]; then
  echo "system packages: all present"
  exit 0
fi
if [ "$(id -u)" = 0 ]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  sudo=(sudo -n)
else
  echo "pyannow-hpc: error: missing system packages: ${need[*]}; install them with: sudo apt-get install -y ${need[*]}" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "pyannow-hpc: error: missing system packages: ${need[*]} (no apt-get here: install them with your system's package manager)" >&2
  exit 1
fi
echo "system packages: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
if ! { "${sudo[@]}" apt-get update -qq && "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null; }; then
  echo "pyannow-hpc: error: apt-get could not install: ${need[*]}" >&2
  exit 1
fi
