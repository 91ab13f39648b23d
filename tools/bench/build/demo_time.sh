#!/usr/bin/env bash
# How long tools/demo.sh takes on this machine from a fresh clone with no build folder (what a new
# user waits for), for two commits of this repository, and the ratio. No compiler cache is used.
# Run it on an otherwise idle machine: it measures wall time.
#
#   tools/bench/build/demo_time.sh BASE_REF NEW_REF     # e.g. 68f6119 HEAD
#
# Prints, per commit, the wall time and the CPU time of tools/demo.sh (install check, configure,
# build of the program, the 40-trial demo job on 2 ranks), then NEW / BASE.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
[ $# -eq 2 ] || { echo "usage: $0 BASE_REF NEW_REF" >&2; exit 2; }
work="$(mktemp -d /tmp/heretic-demo-time.XXXXXX)"
trap 'rm -rf "$work"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
unset CMAKE_CXX_COMPILER_LAUNCHER CMAKE_C_COMPILER_LAUNCHER HERETIC_BUILD_DIR
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load before: $(cut -d' ' -f1-3 /proc/loadavg)"
declare -A wall
for ref in "$1" "$2"; do
  commit="$(git -C "$root" rev-parse --short "$ref")"
  clone="$work/$commit"
  git clone -q "$root" "$clone"
  git -C "$clone" checkout -q "$commit"
  start=$(date +%s.%N)
  if ! (cd "$clone" && /usr/bin/time -f "%U %S" -o "$work/$commit.cpu" tools/demo.sh \
          > "$work/$commit.log" 2>&1); then
    tail -20 "$work/$commit.log"; echo "tools/demo.sh failed at $commit" >&2; exit 1
  fi
  wall[$ref]=$(echo "$(date +%s.%N) - $start" | bc)
  read -r user sys < "$work/$commit.cpu"
  printf '%-10s wall %7.1f s   CPU %7.1f s (user %.1f, system %.1f)\n' "$commit" "${wall[$ref]}" \
    "$(echo "$user + $sys" | bc)" "$user" "$sys"
  rm -rf "$clone"
done
printf 'ratio (%s / %s): %.2f   load after: %s\n' "$2" "$1" "$(echo "${wall[$2]} / ${wall[$1]}" | bc -l)" \
  "$(cut -d' ' -f1-3 /proc/loadavg)"
