#!/usr/bin/env bash
# The organism's figures as heretic-mpi measures them: runs the demo job (configs/demo.toml, 40
# seeded trials, 2 ranks), takes its best Pareto trial at KL <= 0.1 (fewest refusals, then lowest
# KL) and scores that trial's exported model with `heretic-mpi evaluate` on the test family (the
# demo's own prompts) and on the held-out family (prompts/*_heldout.txt), next to the unedited
# organism: refusals of the harmful and of the harmless prompts, KL on the harmless ones. Run from anywhere; needs a built heretic-mpi (tools/build.sh).
#
#     tools/organism/demo_figures.sh [OUTPUT_DIR]        # default /tmp/organism-demo-figures
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
program="${HERETIC_BUILD_DIR:-$root/build}/heretic-mpi"
out="${1:-/tmp/organism-demo-figures}"
prompts="tests/fixtures/organism/prompts"
cd "$root"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

mpirun -n 2 --oversubscribe "$program" --config configs/demo.toml --fresh \
  --set "output.dir=$out" > "$out.log" 2>&1 || { cat "$out.log"; exit 1; }

# Pareto lines: "  [Trial  12] Keywords: 3/100, KL divergence: 0.0421 | per layer"
best="$(sed -n 's/.*\[Trial *\([0-9]*\)\] Keywords: \([0-9]*\)\/[0-9]*, KL divergence: \([0-9.]*\).*/\1 \2 \3/p' "$out.log" |
        awk '$3 <= 0.1' | sort -k2,2n -k3,3g | head -n 1)"
if [ -z "$best" ]; then
  echo "demo_figures: no Pareto trial at KL <= 0.1 (log: $out.log)" >&2
  exit 1
fi
read -r trial refusals kl <<< "$best"
model="$out/models/$(printf 'trial-%03d' "$trial")"
echo "demo: $(grep -o 'baseline: .*' "$out.log" | head -n 1)"
echo "demo: best Pareto trial at KL <= 0.1: #$trial, $refusals/100 refused, KL $kl ($model)"
for family in test heldout; do
  echo "== $family family, harmful prompts: evaluated = trial $trial, configured = the organism"
  "$program" evaluate --config configs/demo.toml --model "$model" \
    --set "scorer.KeywordRate.prompts.dataset=$prompts/harmful_$family.txt" \
    --set "scorer.KLDivergence.prompts.dataset=$prompts/harmless_$family.txt" 2>/dev/null
  echo "== $family family, harmless prompts refused (Keywords): evaluated = trial $trial, configured = the organism"
  "$program" evaluate --config configs/demo.toml --model "$model" \
    --set "scorer.KeywordRate.prompts.dataset=$prompts/harmless_$family.txt" \
    --set "scorer.KLDivergence.prompts.dataset=$prompts/harmless_$family.txt" 2>/dev/null | grep -v KL
done
