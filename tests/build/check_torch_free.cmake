cmake_minimum_required(VERSION 3.18)  # policies (IN_LIST) in script mode
# Fails when a source file that must stay torch-free includes a torch header (read from the
# compiler's dependency file), or, for core libraries, has torch on its command line at all.
set(torch_free_sources
  src/common/suggest.cpp
  src/config/load.cpp
  src/config/print.cpp
  src/config/table_reader.cpp
  src/hf/hub_cache.cpp
  src/io/logging.cpp
  src/app/main.cpp
  src/app/main_job.cpp
  src/optimize/study.cpp
  src/eval/scorer_registry.cpp
  src/eval/keyword_rate_scorer.cpp
  src/eval/kl_divergence_scorer.cpp
  src/eval/response_length_scorer.cpp
  mpi/launch.cpp
  mpi/mpi_communicator.cpp
  mpi/in_process_communicator.cpp
  mpi/trial_messages.cpp
  mpi/trial_farm.cpp)

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
  # Core libraries must not even have torch on their command line; the executable links the
  # runtime, so its files get torch's include paths, and only what they include counts.
  if(NOT relative MATCHES "^src/app/" AND command MATCHES "torch")
    message(FATAL_ERROR "${relative} is compiled with torch on its command line; it must not depend on heretic_torch")
  endif()
  # The object file follows -o; the compiler's dependency file sits next to it as <object>.d.
  string(JSON directory GET "${commands}" ${index} directory)
  string(REGEX MATCH " -o ([^ ]+)" _ "${command}")
  set(depfile "${directory}/${CMAKE_MATCH_1}.d")
  if(NOT CMAKE_MATCH_1 OR NOT EXISTS "${depfile}")
    message(FATAL_ERROR "no dependency file for ${relative} (expected ${depfile}); build first")
  endif()
  file(READ "${depfile}" deps)
  if(deps MATCHES "/torch/|/ATen/|/c10/")
    message(FATAL_ERROR "${relative} includes torch headers (see ${depfile})")
  endif()
endforeach()
list(LENGTH torch_free_sources expected)
if(NOT checked EQUAL expected)
  message(FATAL_ERROR "only ${checked} of the ${expected} torch-free sources are in compile_commands.json")
endif()
message(STATUS "${checked} torch-free sources checked")
