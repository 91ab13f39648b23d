# The CUDA runtime and NCCL, for the NCCL communicator (mpi/nccl_communicator.cpp).
#
# That communicator needs only cudart and NCCL, not a CUDA libtorch, so they are found on their
# own: a CPU machine with the CUDA toolkit (like CI) still compiles it, and the torch glue that
# hands it tensor memory can check HERETIC_HAVE_CUDA separately.
#
# Option: HERETIC_NCCL (AUTO, ON, OFF; declared in the root CMakeLists.txt). AUTO builds the
# communicator when both are found and never fails; ON fails naming what is missing.
# Hints: CUDAToolkit_ROOT (CMake's FindCUDAToolkit); NCCL_ROOT or NCCL_HOME (variables or
# environment), e.g. <site-packages>/nvidia/nccl for the NCCL that pip's torch uses.
# Sets: HERETIC_HAVE_NCCL (ON/OFF), HERETIC_NCCL_VERSION; target heretic::nccl (cudart + nccl,
# headers as system headers).

if(NOT DEFINED HERETIC_NCCL)
  set(HERETIC_NCCL AUTO)
endif()

set(HERETIC_HAVE_NCCL OFF)
set(HERETIC_NCCL_VERSION "")
set(_heretic_nccl_missing "")

if(HERETIC_NCCL STREQUAL "OFF")
  set(_heretic_nccl_missing "HERETIC_NCCL=OFF")
else()
  find_package(CUDAToolkit QUIET)
  if(NOT CUDAToolkit_FOUND OR NOT CUDA_cudart_LIBRARY)
    set(_heretic_nccl_missing "the CUDA toolkit (cuda_runtime_api.h, libcudart; set CUDAToolkit_ROOT)")
  else()
    set(_heretic_nccl_hints ${NCCL_ROOT} $ENV{NCCL_ROOT} ${NCCL_HOME} $ENV{NCCL_HOME})
    # The toolkit's own folders come after the hints: a pip torch brings its own NCCL, and one
    # process should load one NCCL.
    find_path(NCCL_INCLUDE_DIR nccl.h
      HINTS ${_heretic_nccl_hints} PATH_SUFFIXES include
      PATHS ${CUDAToolkit_INCLUDE_DIRS} "${CUDAToolkit_LIBRARY_ROOT}/include")
    # pip's nvidia-nccl wheels ship only libnccl.so.2 (no libnccl.so link).
    find_library(NCCL_LIBRARY NAMES nccl libnccl.so.2 NAMES_PER_DIR
      HINTS ${_heretic_nccl_hints} PATH_SUFFIXES lib lib64
      PATHS ${CUDAToolkit_LIBRARY_DIR} "${CUDAToolkit_LIBRARY_ROOT}/lib" "${CUDAToolkit_LIBRARY_ROOT}/lib64")
    if(NOT NCCL_INCLUDE_DIR)
      set(_heretic_nccl_missing "nccl.h (set NCCL_ROOT to the folder holding include/nccl.h)")
    elseif(NOT NCCL_LIBRARY)
      set(_heretic_nccl_missing "libnccl (set NCCL_ROOT to the folder holding lib/libnccl.so*)")
    else()
      file(STRINGS "${NCCL_INCLUDE_DIR}/nccl.h" _heretic_nccl_defines REGEX "^#define NCCL_(MAJOR|MINOR|PATCH) ")
      string(REGEX REPLACE ".*NCCL_MAJOR ([0-9]+).*" "\\1" _major "${_heretic_nccl_defines}")
      string(REGEX REPLACE ".*NCCL_MINOR ([0-9]+).*" "\\1" _minor "${_heretic_nccl_defines}")
      string(REGEX REPLACE ".*NCCL_PATCH ([0-9]+).*" "\\1" _patch "${_heretic_nccl_defines}")
      set(HERETIC_NCCL_VERSION "${_major}.${_minor}.${_patch}")
      # ncclBfloat16 appeared in NCCL 2.10.
      if(HERETIC_NCCL_VERSION VERSION_LESS 2.10)
        set(_heretic_nccl_missing "NCCL >= 2.10 (found ${HERETIC_NCCL_VERSION} at ${NCCL_INCLUDE_DIR})")
      else()
        set(HERETIC_HAVE_NCCL ON)
      endif()
    endif()
  endif()
endif()

if(HERETIC_HAVE_NCCL)
  # A plain INTERFACE library (not IMPORTED) is visible from every directory; it names the
  # libraries by path because CUDA::cudart is an imported target local to where it was found.
  if(NOT TARGET heretic_nccl)
    add_library(heretic_nccl INTERFACE)
    add_library(heretic::nccl ALIAS heretic_nccl)
    target_include_directories(heretic_nccl SYSTEM INTERFACE "${NCCL_INCLUDE_DIR}" ${CUDAToolkit_INCLUDE_DIRS})
    target_link_libraries(heretic_nccl INTERFACE "${NCCL_LIBRARY}" "${CUDA_cudart_LIBRARY}")
  endif()
  message(STATUS "heretic-mpi NCCL communicator: NCCL ${HERETIC_NCCL_VERSION} (${NCCL_LIBRARY}), "
                 "CUDA runtime ${CUDAToolkit_VERSION} (${CUDA_cudart_LIBRARY})")
elseif(HERETIC_NCCL STREQUAL "ON")
  message(FATAL_ERROR "HERETIC_NCCL=ON but heretic-mpi cannot build the NCCL communicator: missing "
                      "${_heretic_nccl_missing}. Set HERETIC_NCCL=AUTO or OFF to build without it.")
else()
  message(STATUS "heretic-mpi NCCL communicator: not built (missing ${_heretic_nccl_missing})")
endif()
