#!/usr/bin/env bash
# Sets everything up and runs the demo job: the project's model organism abliterated by
# heretic-mpi with 2 MPI ranks (configs/demo.toml). This is the README's first command.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
tools/install-deps.sh
HERETIC_TARGET=heretic-mpi tools/build.sh  # the program only; the test command builds the rest
build="${HERETIC_BUILD_DIR:-$root/build}"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
exec mpirun -n 2 --oversubscribe "$build/heretic-mpi" --config configs/demo.toml "$@"
