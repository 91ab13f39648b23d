#!/usr/bin/env bash
# Downloads, on a Debian machine with apt, the .deb files tools/gpu/build.sh needs to build
# heretic-mpi on a GPU machine that lacks MPI, HDF5, the header-only libraries or cmake (e.g. the
# device machine: no internet, nothing but what is carried there). Only downloads; installs nothing.
#
#   tools/gpu/pack-debs.sh [--without-cmake] [DIR]      (default DIR: tools/gpu/debs, ignored by git)
#
# --without-cmake leaves out cmake and its libraries (about 21 MiB, ICU being most of it) for a
# target machine that has cmake >= 3.18.
# The packages are the -dev packages of the build plus the shared libraries they need at link and
# run time, followed recursively, minus what every glibc Linux has (libc6, libstdc++6, zlib...).
# Compilers, Fortran and the -dev packages that -dev packages pull in are not followed: the
# build needs neither Fortran MPI nor HDF5's C++/Fortran bindings.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
with_cmake=1
if [ "${1:-}" = "--without-cmake" ]; then with_cmake=0; shift; fi
out="${1:-$root/tools/gpu/debs}"
budget_mib="${HERETIC_DEBS_BUDGET_MIB:-50}"

command -v apt-get >/dev/null && command -v apt-cache >/dev/null ||
  { echo "pack-debs.sh: needs Debian's apt-get/apt-cache (run it on the Debian build machine)" >&2; exit 1; }

# What the build needs (cmake/HereticDependencies.cmake, src/data/CMakeLists.txt), as Debian names.
roots=(
  libopenmpi-dev openmpi-bin        # MPI (headers, libmpi, mpirun)
  libhdf5-dev                       # results.h5
  libspdlog-dev libfmt-dev libtomlplusplus-dev libcxxopts-dev nlohmann-json3-dev
  libgtest-dev                      # GoogleTest (static libraries + CMake config)
  libpcre2-dev libutf8proc-dev      # tokenizers
  zlib1g-dev libsnappy-dev libzstd-dev  # Parquet codecs
  pkgconf make                      # used only when the machine has no pkg-config / make
)
if [ "$with_cmake" = 1 ]; then roots+=(cmake); fi  # used only when the machine has no cmake >= 3.18
# Present on any machine that runs a pip PyTorch (glibc, the GCC runtime), or not needed by what
# is built. zlib and zstd are kept: their -dev packages' libz.so/libzstd.so point at them.
base_re='^(libc6|libgcc-s1|libstdc\+\+6|libgomp1|liblzma5|libbz2-1\.0|libcrypt1|libselinux1|libgfortran5|libquadmath0|libhwloc-plugins|libxnvctrl0|libpam.*|libsemanage.*|libaudit.*|libdb5\.3|libcap-ng0|libjs-.*|libhdf5-.*(fortran|cpp).*)$'
# Packages that are not libraries (tools, sources, account helpers) are followed only when named here.
tools_re='^(openmpi-common|cmake-data|pkgconf-bin)$'

declare -A seen=()
queue=("${roots[@]}")
is_root() { local r; for r in "${roots[@]}"; do [ "$r" = "$1" ] && return 0; done; return 1; }
while [ ${#queue[@]} -gt 0 ]; do
  pkg="${queue[0]}"; queue=("${queue[@]:1}")
  [ -n "${seen[$pkg]:-}" ] && continue
  seen[$pkg]=1
  # Dependencies: the first of each group of alternatives; -dev packages only from the roots.
  in_group=0
  while IFS= read -r line; do
    case "$line" in
      *"|Depends: "*|*"|PreDepends: "*) [ $in_group = 1 ] && continue; in_group=1 ;;
      *"Depends: "*|*"PreDepends: "*) if [ $in_group = 1 ]; then in_group=0; continue; fi ;;
      *) continue ;;
    esac
    dep="${line##*: }"; dep="${dep%%:*}"
    case "$dep" in "<"*) continue ;; esac
    [[ "$dep" =~ $base_re ]] && continue
    if [[ "$dep" != lib* ]] && ! [[ "$dep" =~ $tools_re ]] && ! is_root "$dep"; then continue; fi
    if [[ "$dep" == *-dev ]] && ! is_root "$dep"; then continue; fi
    [ -z "${seen[$dep]:-}" ] && queue+=("$dep")
  done < <(apt-cache depends --no-recommends --no-suggests --no-conflicts --no-breaks --no-replaces \
             --no-enhances "$pkg" 2>/dev/null)
done

packages=("${!seen[@]}")
mkdir -p "$out"
rm -f "$out"/*.deb
echo "pack-debs.sh: downloading ${#packages[@]} packages into $out"
(cd "$out" && apt-get download -q "${packages[@]}" >/dev/null)
printf '%s\n' "${packages[@]}" | sort > "$out/PACKAGES"
size_kib=$(du -sk "$out" | cut -f1)
echo "pack-debs.sh: $(ls "$out"/*.deb | wc -l) .deb files, $((size_kib / 1024)) MiB in $out"
if [ $((size_kib / 1024)) -gt "$budget_mib" ]; then
  echo "pack-debs.sh: over the ${budget_mib} MiB budget (the source tree + this must carry in 64 MiB)" >&2
  exit 1
fi
