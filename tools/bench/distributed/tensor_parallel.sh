#!/usr/bin/env bash
# Model parallelism on the model organism: per-trial seconds and trials per hour of the layouts
# (1 rank), (2 ranks, 2 worker groups of one model copy each), (2 ranks, tensor_parallel = 2:
# one model copy split over both) and (2 ranks, pipeline_stages = 2: the layers split over
# both, each batch handed on whole, m = 1, and in 2 micro-batches that overlap the stages,
# m = 2), measured in the same invocation, and the bytes rank 0 of the split copy sends per trial
# through its all-reduces (TP), and each stage to the other (PP). Needs build/heretic-mpi and mpirun.
#
#   tools/bench/distributed/tensor_parallel.sh [--trials 12]
#
# The organism (hidden 64) is far too small for splitting to pay off: this measures what the
# communication costs, not what the layout gains on a model that does not fit one device.
set -euo pipefail
cd "$(dirname "$0")/../../.."
trials=12
while [ $# -gt 0 ]; do
  case "$1" in
    --trials) trials="$2"; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "tensor_parallel.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
exe=build/heretic-mpi
[ -x "$exe" ] || { echo "tensor_parallel.sh: $exe not found; run tools/build.sh first" >&2; exit 2; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores," \
     "load average $(cut -d' ' -f1-3 /proc/loadavg); $(mpirun --version 2>&1 | head -1)"
echo "job: configs/demo.toml (organism), $trials random trials (n_startup_trials = n_trials)"
printf '%-28s %12s %12s %9s %20s %20s\n' layout "s/trial" "trials/hour" "vs 1" "TP sums/trial" "PP sent/trial 0/1"
base=""
run_layout() {  # name ranks tensor_parallel pipeline_stages pipeline_micro_batches
  local name="$1" ranks="$2" tp="$3" pp="$4" mb="$5" out="$scratch/out-$2-$3-$4-$5" log="$scratch/$2-$3-$4-$5.log"
  mpirun -n "$ranks" --oversubscribe "$exe" --config configs/demo.toml --set "output.dir=$out" \
    --set "n_trials=$trials" --set "n_startup_trials=$trials" --set output.export=none \
    --set "mpi.tensor_parallel=$tp" --set "mpi.pipeline_stages=$pp" --set "mpi.pipeline_micro_batches=$mb" \
    >"$log" 2>&1 \
    || { echo "tensor_parallel.sh: the layout '$name' failed:" >&2; tail -20 "$log" >&2; exit 1; }
  # "ran 12 trial(s) in 41.0s (1053.7 trials/hour with 1 worker group(s))"
  local per_hour per_trial sums sent
  per_hour=$(sed -n 's/.*(\([0-9.]*\) trials\/hour.*/\1/p' "$log")
  per_trial=$(awk -v t="$per_hour" 'BEGIN { printf "%.2f", 3600 / t }')
  sums=$(sed -n 's/.*tensor-parallel sums: \([0-9.]*\) MiB sent per trial.*/\1 MiB/p' "$out/logs/rank-00000.log")
  sent=$(sed -n 's/.*pipeline stages: \([0-9.]*\) MiB sent per trial.*/\1/p' "$out/logs/rank-00000.log")
  [ -z "$sent" ] || sent="$sent / $(sed -n 's/.*pipeline stages: \([0-9.]*\) MiB sent per trial.*/\1/p' \
    "$out/logs/rank-00001.log") MiB"
  [ -n "$base" ] || base=$per_hour
  awk -v n="$name" -v s="$per_trial" -v t="$per_hour" -v b="$base" -v m="${sums:--}" -v p="${sent:--}" 'BEGIN {
    printf "%-28s %12s %12.1f %8.2fx %20s %20s\n", n, s, t, t / b, m, p }'
}
run_layout "1 rank" 1 1 1 1
run_layout "2 ranks, 2 groups (t=1)" 2 1 1 1
run_layout "2 ranks, 1 group (t=2)" 2 2 1 1
run_layout "2 ranks, 1 group (p=2, m=1)" 2 1 2 1
run_layout "2 ranks, 1 group (p=2, m=2)" 2 1 2 2
echo "trials/hour counts every worker group; s/trial = 3600 / trials/hour. TP sums are float64 host buffers"
echo "(the model dtype on a device backend would send 1/2 (float32) or 1/4 (bf16) of it); PP: what"
echo "stage 0 (activations, its hidden-state rows) and stage 1 (its rows, first-token logits, greedy"
echo "token ids) send, in the model dtype and float32/int64, from host buffers."
