cmake_minimum_required(VERSION 3.18)  # policies (IN_LIST) in script mode
# Fails when a source file that must stay torch-free is compiled with torch on its include
# path, or (where the compiler wrote a dependency file) actually includes a torch header.
set(torch_free_sources
  src/common/suggest.cpp
  src/config/load.cpp
  src/config/print.cpp
  src/config/table_reader.cpp
  src/hf/hub_cache.cpp
  src/io/logging.cpp
  src/app/main.cpp
  src/app/main_job.cpp
  mpi/launch.cpp
  mpi/mpi_communicator.cpp)

file(READ "${BUILD_DIR}/compile_commands.json" commands)
string(JSON count LENGTH "${commands}")
math(EXPR last "${count} - 1")
set(checked 0)
foreach(index RANGE ${last})
  string(JSON file GET "${commands}" ${index} file)
  string(JSON command GET "${commands}" ${index} command)
  file(RELATIVE_PATH relative "${SOURCE_DIR}" "${file}")
  if(NOT relative IN_LIST torch_free_sources)
    continue()
  endif()
  math(EXPR checked "${checked} + 1")
  if(command MATCHES "torch")
    message(FATAL_ERROR "${relative} is compiled with torch on its command line; it must not depend on heretic_torch")
  endif()
  # The object file follows -o; the compiler's dependency file sits next to it as <object>.d.
  string(JSON directory GET "${commands}" ${index} directory)
  string(REGEX MATCH " -o ([^ ]+)" _ "${command}")
  set(depfile "${directory}/${CMAKE_MATCH_1}.d")
  if(CMAKE_MATCH_1 AND EXISTS "${depfile}")
    file(READ "${depfile}" deps)
    if(deps MATCHES "/torch/")
      message(FATAL_ERROR "${relative} includes torch headers (see ${depfile})")
    endif()
  endif()
endforeach()
list(LENGTH torch_free_sources expected)
if(NOT checked EQUAL expected)
  message(FATAL_ERROR "only ${checked} of the ${expected} torch-free sources are in compile_commands.json")
endif()
message(STATUS "${checked} torch-free sources checked")
