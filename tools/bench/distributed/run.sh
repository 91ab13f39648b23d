#!/usr/bin/env bash
# Distributed scaling of a whole run on the model organism: residual-phase prompts/s and trials
# per hour against the number of MPI ranks (ranks_per_trial = 1, so every rank is a worker
# group), with the speed-up and parallel efficiency relative to one rank measured in the same
# invocation. Needs build/heretic-mpi (tools/build.sh) and mpirun.
#
#   tools/bench/distributed/run.sh [--ranks "1 2"] [--trials 12]
set -euo pipefail
cd "$(dirname "$0")/../../.."
ranks_list="1 2"
trials=12
while [ $# -gt 0 ]; do
  case "$1" in
    --ranks) ranks_list="$2"; shift 2 ;;
    --trials) trials="$2"; shift 2 ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
exe=build/heretic-mpi
[ -x "$exe" ] || { echo "run.sh: $exe not found; run tools/build.sh first" >&2; exit 2; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores," \
     "load average $(cut -d' ' -f1-3 /proc/loadavg); $(mpirun --version 2>&1 | head -1)"
echo "job: configs/demo.toml (organism), $trials random trials (n_startup_trials = n_trials), 800 residual prompts"
printf '%6s %16s %9s %14s %9s %11s\n' ranks "residual p/s" speed-up "trials/hour" speed-up efficiency
base_residual=""; base_trials=""
for n in $ranks_list; do
  log="$scratch/run-$n.log"
  mpirun -n "$n" --oversubscribe "$exe" --config configs/demo.toml --set "output.dir=$scratch/out-$n" \
    --set "n_trials=$trials" --set "n_startup_trials=$trials" --set output.export=none >"$log" 2>&1 \
    || { echo "run.sh: the $n-rank run failed:" >&2; tail -20 "$log" >&2; exit 1; }
  # "refusal directions from 400 good and 400 bad prompts, ... (5.6s)"
  read -r prompts seconds < <(sed -n 's/.*refusal directions from \([0-9]*\) good and \([0-9]*\) bad prompts.*(\([0-9.]*\)s)$/\1 \2 \3/p' "$log" \
                               | awk '{print $1 + $2, $3}')
  per_hour=$(sed -n 's/.*(\([0-9.]*\) trials\/hour.*/\1/p' "$log")
  residual=$(awk -v p="$prompts" -v s="$seconds" 'BEGIN { printf "%.1f", p / s }')
  [ -n "$base_residual" ] || { base_residual=$residual; base_trials=$per_hour; }
  awk -v n="$n" -v r="$residual" -v br="$base_residual" -v t="$per_hour" -v bt="$base_trials" 'BEGIN {
    printf "%6d %16.1f %8.2fx %14.1f %8.2fx %10.0f%%\n", n, r, r / br, t, t / bt, 100 * (t / bt) / n }'
done
echo "efficiency = trials/hour speed-up / ranks. On a machine with fewer cores than ranks x torch threads,"
echo "ranks compete for cores, so efficiency there says more about the machine than about the program."
