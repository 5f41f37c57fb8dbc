#!/usr/bin/env bash
# Submit a sharded sweep and its merge in one go:
#   scripts/slurm/submit_array.sh RUN.toml N [extra sbatch args for the shards]
# runs N shards (sweep_array.sbatch, --array=0-(N-1)) and a merge job
# (merge.sbatch) that starts only when every shard succeeded (afterok).
# Prints the two job ids.
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: $0 RUN.toml N_SHARDS [sbatch args for the shards]" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
config=$1 n=$2; shift 2
array=$(sbatch --parsable --array=0-$((n - 1)) "$@" "$here/sweep_array.sbatch" "$config")
array=${array%%;*}  # --parsable prints "id;cluster" on multi-cluster sites
merge=$(sbatch --parsable --dependency=afterok:"$array" --export=ALL,PYANNOW_SHARDS="$n" "$here/merge.sbatch" "$config")
echo "shards: job $array (array 0-$((n - 1))), merge: job ${merge%%;*} (after all shards succeed)"
