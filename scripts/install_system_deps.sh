#!/usr/bin/env bash
# System packages for the test tiers, from Debian (needs root, as in CI):
#   slurm-wlm      single-node Slurm for tests/slurm (started by the tests)
#   chromium       headless browser for the report page test
#   default-jre    Java for jNeuroML (c302 -> NEURON conversion)
# Skips what is already installed; never fails the build on an apt mirror hiccup
# silently: a missing tool makes its own tests fail loudly instead.
set -uo pipefail
need=()
command -v slurmctld >/dev/null 2>&1 || need+=(slurm-wlm)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v java >/dev/null 2>&1 || need+=(default-jre-headless)
# nrnivmodl (NEURON) compiles the generated .mod files with make + a C++ compiler
command -v g++ >/dev/null 2>&1 || need+=(g++)
command -v make >/dev/null 2>&1 || need+=(make)
if [ ${#need[@]} -eq 0 ]; then
  echo "system deps: all present"
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "system deps missing (${need[*]}); run as root or install them: apt-get install ${need[*]}" >&2
  exit 0
fi
echo "system deps: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
