# Every external dependency, found in one place. The messages name the Debian package, so a
# failed configure says what to install (tools/install-deps.sh installs all of them).

macro(heretic_require found what hint)
  if(NOT ${found})
    message(FATAL_ERROR "heretic-mpi needs ${what}. ${hint}\n"
                        "On Debian/Ubuntu run tools/install-deps.sh; on a cluster see README.md "
                        "(module load ...).")
  endif()
endmacro()

find_package(Threads REQUIRED)

find_package(Torch QUIET)
heretic_require(Torch_FOUND "libtorch" "Debian: libtorch-dev; or set Torch_DIR to <libtorch>/share/cmake/Torch.")
# libtorch's CMake config adds its own flags (e.g. -D_GLIBCXX_USE_CXX11_ABI) through
# TORCH_CXX_FLAGS; they must reach every target that includes torch headers.
add_library(heretic_torch INTERFACE)
target_link_libraries(heretic_torch INTERFACE ${TORCH_LIBRARIES})
target_include_directories(heretic_torch SYSTEM INTERFACE ${TORCH_INCLUDE_DIRS})
separate_arguments(_heretic_torch_flags UNIX_COMMAND "${TORCH_CXX_FLAGS}")
target_compile_options(heretic_torch INTERFACE ${_heretic_torch_flags})

find_package(MPI QUIET COMPONENTS C CXX)
heretic_require(MPI_CXX_FOUND "an MPI implementation" "Debian: libopenmpi-dev openmpi-bin.")

set(HDF5_PREFER_PARALLEL OFF)
find_package(HDF5 QUIET COMPONENTS C)
heretic_require(HDF5_FOUND "HDF5 (C library)" "Debian: libhdf5-dev.")

find_package(cxxopts QUIET)
heretic_require(cxxopts_FOUND "cxxopts" "Debian: libcxxopts-dev.")
find_package(spdlog QUIET)
heretic_require(spdlog_FOUND "spdlog" "Debian: libspdlog-dev.")
find_package(tomlplusplus QUIET)
heretic_require(tomlplusplus_FOUND "toml++" "Debian: libtomlplusplus-dev.")
find_package(nlohmann_json QUIET)
heretic_require(nlohmann_json_FOUND "nlohmann-json" "Debian: nlohmann-json3-dev.")

find_package(PkgConfig QUIET)
heretic_require(PKG_CONFIG_FOUND "pkg-config" "Debian: pkg-config.")
pkg_check_modules(PCRE2 QUIET IMPORTED_TARGET libpcre2-8)
heretic_require(PCRE2_FOUND "PCRE2 (8-bit)" "Debian: libpcre2-dev.")
pkg_check_modules(UTF8PROC QUIET IMPORTED_TARGET libutf8proc)
heretic_require(UTF8PROC_FOUND "utf8proc" "Debian: libutf8proc-dev.")

if(HERETIC_BUILD_TESTS)
  find_package(GTest QUIET)
  heretic_require(GTest_FOUND "GoogleTest" "Debian: libgtest-dev.")
  include(GoogleTest)
endif()

# CUDA: on when libtorch itself was built with CUDA (a CPU libtorch cannot run CUDA code).
set(HERETIC_HAVE_CUDA OFF)
if(NOT HERETIC_CUDA STREQUAL "OFF")
  if(TARGET torch_cuda OR "${TORCH_LIBRARIES}" MATCHES "torch_cuda|c10_cuda")
    set(HERETIC_HAVE_CUDA ON)
  elseif(HERETIC_CUDA STREQUAL "ON")
    message(FATAL_ERROR "HERETIC_CUDA=ON but the libtorch found at ${Torch_DIR} has no CUDA support.")
  endif()
endif()

# NCCL: found by cmake/HereticCuda.cmake (included from mpi/), which needs only the CUDA
# runtime and NCCL, not a CUDA libtorch.
