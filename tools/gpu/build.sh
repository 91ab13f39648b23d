#!/usr/bin/env bash
# Builds heretic-mpi on a GPU machine with a pip PyTorch (or any CUDA libtorch), bringing what
# the machine lacks from Debian .deb files packed beforehand by tools/gpu/pack-debs.sh.
# See tools/gpu/README.md.
#
#   tools/gpu/build.sh [options] [-- extra CMake arguments]
#
#   --deps auto|system|prefix  where MPI, HDF5, spdlog, fmt, toml++, cxxopts, nlohmann-json,
#                              GoogleTest, PCRE2, utf8proc, zlib, snappy, zstd come from (default
#                              auto: the system's when CMake finds them all, else the prefix)
#   --build-dir DIR            (default: build-gpu; env HERETIC_BUILD_DIR)
#   --debs DIR                 the .deb files (default: tools/gpu/debs)
#   --prefix DIR               where they are unpacked (default: tools/gpu/prefix)
#   --jobs N                   (default: the number of cores; env HERETIC_JOBS)
#   --target T                 build only target T (repeatable; default: everything)
#   --configure-only           stop after CMake
#
# Environment: TORCH_DIR (a folder holding TorchConfig.cmake; default: the one of python3's
# torch), CUDA_HOME (the CUDA toolkit; default: nvcc's), NCCL_ROOT (a folder with include/nccl.h
# and lib/libnccl.so*; default: the libnccl that torch loads, else pip's nvidia/nccl, else the
# toolkit's), CC, CXX.
#
# Needs: a C and C++17 compiler (gcc >= 9), make or ninja, tar, python3 with torch (unless
# TORCH_DIR is set), the CUDA toolkit when the libtorch has CUDA (its CMake config requires nvcc
# and the CUDA headers). The .deb files are unpacked with dpkg-deb, else python3, else ar + tar.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${HERETIC_BUILD_DIR:-$root/build-gpu}"
debs="$root/tools/gpu/debs"
prefix="$root/tools/gpu/prefix"
deps=auto
jobs="${HERETIC_JOBS:-$(nproc 2>/dev/null || echo 4)}"
targets=()
configure_only=0
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --deps) deps="$2"; shift 2 ;;
    --build-dir) build="$2"; shift 2 ;;
    --debs) debs="$2"; shift 2 ;;
    --prefix) prefix="$2"; shift 2 ;;
    --jobs) jobs="$2"; shift 2 ;;
    --target) targets+=("$2"); shift 2 ;;
    --configure-only) configure_only=1; shift ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "gpu/build.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
case "$deps" in auto|system|prefix) ;; *) echo "gpu/build.sh: --deps must be auto, system or prefix" >&2; exit 2 ;; esac
mkdir -p "$build"
build="$(cd "$build" && pwd)"
prefix="$(mkdir -p "$prefix" && cd "$prefix" && pwd)"

say() { echo "gpu/build.sh: $*"; }
die() { echo "gpu/build.sh: error: $*" >&2; exit 1; }
have() { command -v "$1" >/dev/null 2>&1; }
# version_ge A B: A >= B for dotted versions.
version_ge() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]; }

# ---- what this machine must have ------------------------------------------------------------
missing=()
cc="${CC:-}"; cxx="${CXX:-}"
if [ -z "$cc" ]; then for c in cc gcc clang; do have "$c" && { cc="$c"; break; }; done; fi
if [ -z "$cxx" ]; then for c in c++ g++ clang++; do have "$c" && { cxx="$c"; break; }; done; fi
[ -n "$cc" ] && have "$cc" || missing+=("a C compiler (gcc; or set CC)")
[ -n "$cxx" ] && have "$cxx" || missing+=("a C++17 compiler (g++ >= 9; or set CXX)")
generator=()
if have make; then :
elif have ninja; then generator=(-G Ninja)
elif [ -x "$prefix/usr/bin/make" ] || ls "$debs"/make_*.deb >/dev/null 2>&1; then :  # from the prefix below
else missing+=("make or ninja")
fi
have tar || missing+=("tar")
if [ -z "${TORCH_DIR:-}" ] && ! have python3; then missing+=("python3 with torch (or set TORCH_DIR)"); fi
if [ ${#missing[@]} -gt 0 ]; then
  die "this machine lacks: $(IFS=';'; echo "${missing[*]}")"
fi
if "$cxx" --version 2>/dev/null | grep -qi 'g++\|gcc'; then
  gcc_version="$("$cxx" -dumpfullversion -dumpversion 2>/dev/null || echo 0)"
  version_ge "$gcc_version" 9 || die "$cxx is gcc $gcc_version; libtorch 2.x needs gcc >= 9"
fi

# ---- libtorch -------------------------------------------------------------------------------
torch_cuda=""
site=""
torch_nccl=""
if [ -n "${TORCH_DIR:-}" ]; then
  torch_dir="$TORCH_DIR"
  [ -f "$torch_dir/TorchConfig.cmake" ] || die "TORCH_DIR=$torch_dir holds no TorchConfig.cmake"
  torch_lib="$(cd "$torch_dir/../../.." 2>/dev/null && pwd)/lib"
  ls "$torch_lib"/libtorch_cuda.so >/dev/null 2>&1 && torch_cuda="yes (libtorch_cuda.so)"
  torch_version="$(sed -n 's/.*PACKAGE_VERSION "\(.*\)".*/\1/p' "$torch_dir/TorchConfigVersion.cmake" 2>/dev/null | head -n1)"
else
  info="$(python3 -c 'import os, torch, torch.utils
print(torch.utils.cmake_prefix_path)
print(torch.__version__)
print(torch.version.cuda or "")
print(os.path.dirname(os.path.dirname(torch.__file__)))
nccl = ""  # the libnccl that importing torch loaded (a CUDA torch links it)
for line in open("/proc/self/maps"):
    if "/libnccl.so" in line:
        nccl = line.split()[-1]
        break
print(nccl)' 2>&1)" ||
    die "python3 cannot import torch (set TORCH_DIR to a folder holding TorchConfig.cmake): $info"
  torch_dir="$(sed -n 1p <<<"$info")/Torch"
  torch_version="$(sed -n 2p <<<"$info")"
  torch_cuda="$(sed -n 3p <<<"$info")"
  site="$(sed -n 4p <<<"$info")"
  torch_nccl="$(sed -n 5p <<<"$info")"
  [ -f "$torch_dir/TorchConfig.cmake" ] || die "torch $torch_version has no $torch_dir/TorchConfig.cmake"
fi
say "libtorch ${torch_version:-?} (CUDA: ${torch_cuda:-none}) at $torch_dir"

# ---- CUDA toolkit and NCCL ------------------------------------------------------------------
cuda_home="${CUDA_HOME:-${CUDA_PATH:-}}"
if [ -z "$cuda_home" ]; then
  if have nvcc; then cuda_home="$(cd "$(dirname "$(command -v nvcc)")/.." && pwd)"
  elif [ -x /usr/local/cuda/bin/nvcc ]; then cuda_home=/usr/local/cuda
  fi
fi
cuda_args=()
if [ -n "$cuda_home" ]; then
  [ -x "$cuda_home/bin/nvcc" ] || die "CUDA_HOME=$cuda_home has no bin/nvcc"
  export PATH="$cuda_home/bin:$PATH"
  cuda_args=(-DCUDAToolkit_ROOT="$cuda_home")
  # For the FindCUDA of a CUDA libtorch's CMake config.
  [ -n "$torch_cuda" ] && cuda_args+=(-DCUDA_TOOLKIT_ROOT_DIR="$cuda_home")
  toolkit_version="$("$cuda_home/bin/nvcc" --version | sed -n 's/.*release \([0-9.]*\).*/\1/p')"
  say "CUDA toolkit $toolkit_version at $cuda_home"
  if [[ "$torch_cuda" =~ ^[0-9] ]] && [ "${torch_cuda%%.*}" != "${toolkit_version%%.*}" ]; then
    say "warning: torch was built with CUDA $torch_cuda but the toolkit is $toolkit_version; the NCCL
  communicator links the toolkit's cudart next to torch's (needs a driver for both). Prefer a toolkit
  of torch's major version (CUDA_HOME)."
  fi
elif [ -n "$torch_cuda" ]; then
  die "libtorch was built with CUDA $torch_cuda and its CMake config needs the CUDA toolkit (nvcc and the
  CUDA headers) to configure; none found (no nvcc on PATH, no /usr/local/cuda). Install the toolkit
  (same major version as torch's CUDA) or set CUDA_HOME."
else
  say "no CUDA toolkit: CPU build (the NCCL communicator is left out)"
fi
# NCCL: the one torch itself loads when it can be found, since one process should not load two.
nccl_root="${NCCL_ROOT:-${NCCL_HOME:-}}"
nccl_args=()
if [ -z "$nccl_root" ] && [ -n "$torch_nccl" ]; then
  if [ -f "$(dirname "$(dirname "$torch_nccl")")/include/nccl.h" ]; then
    nccl_root="$(dirname "$(dirname "$torch_nccl")")"
  else
    # No header beside it (CMake takes the toolkit's): the library is still torch's.
    nccl_args=(-DNCCL_LIBRARY="$torch_nccl")
    say "NCCL: torch's $torch_nccl, with the nccl.h CMake finds (set NCCL_ROOT to choose)"
  fi
fi
if [ -z "$nccl_root" ] && [ ${#nccl_args[@]} = 0 ] && [ -n "$site" ] && [ -f "$site/nvidia/nccl/include/nccl.h" ]; then
  nccl_root="$site/nvidia/nccl"
fi
if [ -n "$nccl_root" ]; then
  nccl_lib="$(ls "$nccl_root"/lib/libnccl.so "$nccl_root"/lib/libnccl.so.2 "$nccl_root"/lib64/libnccl.so.2 2>/dev/null | head -n1)"
  [ -f "$nccl_root/include/nccl.h" ] && [ -n "$nccl_lib" ] || die "NCCL_ROOT=$nccl_root lacks include/nccl.h or lib/libnccl.so*"
  export NCCL_HOME="$nccl_root"
  nccl_args=(-DNCCL_ROOT="$nccl_root" -DNCCL_INCLUDE_DIR="$nccl_root/include" -DNCCL_LIBRARY="$nccl_lib")
  say "NCCL at $nccl_root"
fi

# ---- the prefix made of .deb files ----------------------------------------------------------
arch_dir=x86_64-linux-gnu
unpack_prefix() {
  local stamp="$prefix/.unpacked"
  if [ -f "$stamp" ] && [ -f "$debs/PACKAGES" ] && ! [ "$debs/PACKAGES" -nt "$stamp" ]; then return; fi
  ls "$debs"/*.deb >/dev/null 2>&1 || die "no .deb files in $debs: run tools/gpu/pack-debs.sh on a Debian machine
  and bring $debs here (e.g. with the device machine's carry), or install the libraries"
  say "unpacking $(ls "$debs"/*.deb | wc -l) .deb files into $prefix"
  rm -rf "$prefix" && mkdir -p "$prefix"
  local deb work unpacker="${HERETIC_DEB_UNPACKER:-}"
  if [ -z "$unpacker" ]; then
    if have dpkg-deb; then unpacker=dpkg-deb; elif have python3; then unpacker=python3; else unpacker=ar; fi
  fi
  for deb in "$debs"/*.deb; do
    case "$unpacker" in
      dpkg-deb) dpkg-deb -x "$deb" "$prefix" ;;
      python3) python3 - "$deb" "$prefix" <<'PY' || die "cannot unpack $deb with python3"
# A .deb is an ar archive; its data.tar.* member holds the files (tarfile reads xz and gz).
import io, sys, tarfile
path, dest = sys.argv[1], sys.argv[2]
blob = open(path, "rb").read()
assert blob[:8] == b"!<arch>\n", path + " is not a .deb"
pos = 8
while pos + 60 <= len(blob):
    name = blob[pos:pos + 16].decode().strip().rstrip("/")
    size = int(blob[pos + 48:pos + 58])
    if name.startswith("data.tar"):
        with tarfile.open(fileobj=io.BytesIO(blob[pos + 60:pos + 60 + size])) as archive:
            if hasattr(tarfile, "fully_trusted_filter"):  # the files keep their absolute links
                archive.extractall(dest, filter="fully_trusted")
            else:
                archive.extractall(dest)
        sys.exit(0)
    pos += 60 + size + (size & 1)
sys.exit("no data.tar member in " + path)
PY
        ;;
      ar)
        have ar || die "no dpkg-deb, python3 or ar (binutils) to unpack $deb"
        work="$(mktemp -d)"
        (cd "$work" && ar x "$deb")
        tar -xf "$work"/data.tar.* -C "$prefix" || die "cannot untar $deb (data.tar.xz needs xz)"
        rm -rf "$work" ;;
      *) die "HERETIC_DEB_UNPACKER must be dpkg-deb, python3 or ar" ;;
    esac
  done
  # Absolute links point into the prefix when their target is there (libz.so -> /lib/...).
  local link target
  while IFS= read -r link; do
    target="$(readlink "$link")"
    if [ -e "$prefix$target" ]; then ln -sfn "$prefix$target" "$link"; fi
  done < <(find "$prefix" -type l -lname '/*')
  # pkg-config files name /usr; make them name the prefix.
  find "$prefix" -name '*.pc' -path '*pkgconfig*' -exec sed -i \
    -e "s|^prefix=/usr|prefix=$prefix/usr|" -e "s|=/usr/|=$prefix/usr/|g" \
    -e "s| -I/usr/| -I$prefix/usr/|g" -e "s| -L/usr/| -L$prefix/usr/|g" {} +
  touch "$stamp"
}

# The prefix's programs (cmake, make, pkgconf) need its libraries; so do, at run time, the programs
# built against its libraries.
prefix_libs_env() {
  case ":${LD_LIBRARY_PATH:-}:" in *":$prefix/usr/lib/$arch_dir:"*) return ;; esac
  local libs="$prefix/usr/lib/$arch_dir:$prefix/lib/$arch_dir:$prefix/usr/lib/$arch_dir/openmpi/lib"
  export LD_LIBRARY_PATH="$libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
}
# Building and running against the prefix's libraries (also written to $build/env.sh).
prefix_deps_env() {
  prefix_libs_env
  export PATH="$PATH:$prefix/usr/bin"  # after the system's: orterun, ompi_info
  export PKG_CONFIG_PATH="$prefix/usr/lib/$arch_dir/pkgconfig:$prefix/usr/share/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
  # Open MPI finds its components, help files and orted relative to OPAL_PREFIX.
  export OPAL_PREFIX="$prefix/usr"
}

prefix_cmake_args() {
  local p="$prefix/usr" ompi="$prefix/usr/lib/$arch_dir/openmpi"
  local a=(
    -DCMAKE_PREFIX_PATH="$p"
    # Non-Debian systems do not search lib/x86_64-linux-gnu; the .deb files put everything there.
    -DCMAKE_LIBRARY_ARCHITECTURE="$arch_dir"
    # Open MPI's wrappers and .pc files name /usr: give FindMPI the files themselves.
    -DMPI_SKIP_COMPILER_WRAPPER=ON -DMPI_C_COMPILER=MPI_C_COMPILER-NOTFOUND -DMPI_CXX_COMPILER=MPI_CXX_COMPILER-NOTFOUND
    -DMPI_C_HEADER_DIR="$ompi/include" -DMPI_CXX_HEADER_DIR="$ompi/include"
    -DMPI_C_LIB_NAMES=mpi -DMPI_CXX_LIB_NAMES=mpi -DMPI_mpi_LIBRARY="$ompi/lib/libmpi.so"
    -DMPIEXEC_EXECUTABLE="$p/bin/orterun"
    # Debian's serial HDF5, without the h5cc wrapper (which would name /usr).
    -DHDF5_ROOT="$p" -DHDF5_C_COMPILER_EXECUTABLE=HDF5_C_COMPILER_EXECUTABLE-NOTFOUND
    -DHDF5_C_INCLUDE_DIR="$p/include/hdf5/serial"
    -DHDF5_hdf5_LIBRARY_RELEASE="$p/lib/$arch_dir/hdf5/serial/libhdf5.so"
  )
  printf '%s\n' "${a[@]}"
}

# ---- cmake itself ---------------------------------------------------------------------------
cmake_bin=""
if have cmake && version_ge "$(cmake --version | sed -n 's/cmake version \([0-9.]*\).*/\1/p')" 3.18; then
  cmake_bin="$(command -v cmake)"
fi
# Tools the system lacks come from the prefix too, whichever libraries are used.
tool_args=()
need_prefix_tools=0
if [ -z "$cmake_bin" ] || ! { have make || have ninja; } || ! have pkg-config; then need_prefix_tools=1; fi
if [ "$need_prefix_tools" = 1 ]; then
  unpack_prefix
  prefix_libs_env
  have pkg-config || tool_args+=(-DPKG_CONFIG_EXECUTABLE="$prefix/usr/bin/pkgconf")
  if ! have make && ! have ninja; then tool_args+=(-DCMAKE_MAKE_PROGRAM="$prefix/usr/bin/make"); fi
fi
if [ -z "$cmake_bin" ]; then
  [ -x "$prefix/usr/bin/cmake" ] || die "no cmake >= 3.18 here and none in the .deb files (pack-debs.sh without --without-cmake)"
  cmake_bin="$prefix/usr/bin/cmake"
fi
"$cmake_bin" --version >/dev/null 2>&1 || die "$cmake_bin does not run here (missing libraries? glibc too old for Debian 12's cmake?)"
say "cmake $("$cmake_bin" --version | head -n1 | cut -d' ' -f3) at $cmake_bin"
# A cmake searches its own installation prefix: the prefix's cmake must not find the prefix's
# libraries when the system's are wanted.
system_args=()
if [ "$cmake_bin" = "$prefix/usr/bin/cmake" ]; then system_args=(-DCMAKE_IGNORE_PREFIX_PATH="$prefix/usr"); fi

# ---- configure ------------------------------------------------------------------------------
werror=OFF
if [ -n "${CI:-}" ]; then werror=ON; fi
common=(-S "$root" -B "$build" "${generator[@]}" "${tool_args[@]}" -DCMAKE_BUILD_TYPE="${CMAKE_BUILD_TYPE:-Release}"
        -DHERETIC_WERROR="$werror" -DCMAKE_C_COMPILER="$cc" -DCMAKE_CXX_COMPILER="$cxx"
        -DTorch_DIR="$torch_dir" "${cuda_args[@]}" "${nccl_args[@]}")
configure_with_prefix() {
  unpack_prefix
  prefix_deps_env
  local args
  mapfile -t args < <(prefix_cmake_args)
  rm -f "$build/CMakeCache.txt"
  "$cmake_bin" "${common[@]}" "${args[@]}" "${extra[@]}"
}
if [ -f "$build/.heretic-deps" ] && [ "$deps" = auto ]; then deps="$(cat "$build/.heretic-deps")"; fi
case "$deps" in
  system) "$cmake_bin" "${common[@]}" "${system_args[@]}" "${extra[@]}" ;;
  prefix) configure_with_prefix ;;
  auto)
    log="$build/configure-system.log"
    if "$cmake_bin" "${common[@]}" "${system_args[@]}" "${extra[@]}" >"$log" 2>&1; then
      cat "$log"; deps=system
    elif grep -q "heretic-mpi needs" "$log"; then
      say "the system lacks: $(grep -o 'heretic-mpi needs [^.]*' "$log" | head -n1 | cut -d' ' -f3-); using the .deb prefix"
      deps=prefix
      configure_with_prefix
    else
      cat "$log"; die "CMake failed (log: $log)"
    fi ;;
esac
echo "$deps" >"$build/.heretic-deps"

# Which copy of each dependency CMake took.
say "dependencies ($deps):"
grep -E '^(Torch_DIR|CMAKE_COMMAND|MPI_mpi_LIBRARY|MPI_C_HEADER_DIR|MPIEXEC_EXECUTABLE|HDF5_C_LIBRARY_hdf5|HDF5_C_INCLUDE_DIR|HDF5_hdf5_LIBRARY_RELEASE|spdlog_DIR|fmt_DIR|cxxopts_DIR|tomlplusplus_DIR|nlohmann_json_DIR|GTest_DIR|Snappy_DIR|ZLIB_LIBRARY_RELEASE|pkgcfg_lib_PCRE2_pcre2-8|pkgcfg_lib_UTF8PROC_utf8proc|pkgcfg_lib_ZSTD_zstd|NCCL_LIBRARY|NCCL_INCLUDE_DIR|CUDA_cudart_LIBRARY):' \
  "$build/CMakeCache.txt" | sed -e 's/:[A-Z]*=/ = /' -e 's/^/  /'

# Running the programs needs the same environment: write it down.
{
  echo "# source this before running what $build holds (written by tools/gpu/build.sh)"
  if [ "$deps" = prefix ]; then
    echo "export LD_LIBRARY_PATH=\"$LD_LIBRARY_PATH\""
    echo "export PATH=\"$PATH\""
    echo "export OPAL_PREFIX=\"$OPAL_PREFIX\""
  elif [ "$need_prefix_tools" = 1 ]; then
    echo "# (the system's libraries; only the prefix's cmake/make/pkgconf need this)"
    echo "export LD_LIBRARY_PATH=\"$LD_LIBRARY_PATH\""
  fi
} >"$build/env.sh"
[ "$configure_only" = 1 ] && { say "configured $build (source $build/env.sh to run)"; exit 0; }

target_args=()
for t in "${targets[@]}"; do target_args+=(--target "$t"); done
"$cmake_bin" --build "$build" -j "$jobs" "${target_args[@]}"
say "built $build (source $build/env.sh before running; mpirun: $(grep '^MPIEXEC_EXECUTABLE:' "$build/CMakeCache.txt" | cut -d= -f2))"
