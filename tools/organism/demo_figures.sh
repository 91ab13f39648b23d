#!/usr/bin/env bash
# The organism's figures as heretic-mpi measures them: runs the demo job (configs/demo.toml, 40
# seeded trials, 2 ranks), takes its best Pareto trial at KL <= 0.1 (fewest refusals, then lowest
# KL) and scores that trial's exported model with `heretic-mpi evaluate` on the test family (the
# demo's own prompts) and on the held-out family (prompts/*_heldout.txt), next to the unedited
# organism: refusals of the harmful and of the harmless prompts (responses cut at the demo's 16
# tokens), KL on the harmless ones. Prints the figures as JSON; with REPORT, also stores them
# under "heretic_mpi_demo" in that build_report.json. Needs a built heretic-mpi (tools/build.sh).
#
#     tools/organism/demo_figures.sh [OUTPUT_DIR [REPORT]]   # default /tmp/organism-demo-figures
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
program="${HERETIC_BUILD_DIR:-$root/build}/heretic-mpi"
out="${1:-/tmp/organism-demo-figures}"
report="${2:-}"
prompts="tests/fixtures/organism/prompts"
cd "$root"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
if [ ! -f "$prompts/harmful_heldout.txt" ]; then
  echo "demo_figures: $prompts/harmful_heldout.txt is missing (a fixture older than the held-out family)" >&2
  exit 2
fi

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

# `evaluate` prints "Keywords  <evaluated>/100  <configured>/100" and "KL divergence  <kl>  0.0000".
evaluate() {  # FAMILY CLASS -> "trial_refusals baseline_refusals trial_kl"
  "$program" evaluate --config configs/demo.toml --model "$model" \
    --set "scorer.KeywordRate.prompts.dataset=$prompts/$2_$1.txt" \
    --set "scorer.KLDivergence.prompts.dataset=$prompts/harmless_$1.txt" 2>/dev/null |
    awk '/^Keywords/ {split($2, a, "/"); split($3, b, "/"); k = a[1] " " b[1]} /^KL divergence/ {kl = $3}
         END {print k, kl}'
}
families=""
for family in test heldout; do
  read -r bad base_bad family_kl <<< "$(evaluate "$family" harmful)"
  read -r good base_good _ <<< "$(evaluate "$family" harmless)"
  families+="${families:+, }\"$family\": {\"baseline\": {\"harmful\": $base_bad, \"harmless\": $base_good},
    \"best_trial\": {\"harmful\": $bad, \"harmless\": $good, \"kl\": $family_kl}}"
done
figures="{\"config\": \"configs/demo.toml\", \"program\": \"heretic-mpi $(git rev-parse --short HEAD 2>/dev/null || echo unknown)\",
  \"max_response_length\": 16, \"best_pareto_trial\": {\"number\": $trial, \"refusals\": $refusals, \"kl\": $kl},
  \"families\": {$families}}"
echo "$figures" | python3 -m json.tool
if [ -n "$report" ]; then
  FIGURES="$figures" python3 - "$report" <<'EOF'
import json, os, sys
with open(sys.argv[1]) as f:
    report = json.load(f)
report["heretic_mpi_demo"] = json.loads(os.environ["FIGURES"])
with open(sys.argv[1], "w") as f:
    json.dump(report, f, indent=1)
    f.write("\n")
EOF
fi
