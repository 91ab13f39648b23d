cmake_minimum_required(VERSION 3.19)  # policies (IN_LIST) in script mode
# Fails when a source file that must stay torch-free includes a torch header, or, for core
# libraries, has torch on its command line at all.
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

# Each file's includes come from the compiler itself (-M, preprocessing only), with the flags of
# the target that compiles it: its own entry in compile_commands.json, or, in a unity build
# (HERETIC_UNITY_BUILD), the entry of the batch file that includes it.
file(READ "${BUILD_DIR}/compile_commands.json" commands)
string(JSON count LENGTH "${commands}")
math(EXPR last "${count} - 1")
set(checked 0)
foreach(index RANGE ${last})
  string(JSON file GET "${commands}" ${index} file)
  string(JSON command GET "${commands}" ${index} command)
  string(JSON directory GET "${commands}" ${index} directory)
  set(members "")
  if(file MATCHES "/Unity/unity_[^/]*\\.cxx$")
    file(STRINGS "${file}" unity_lines REGEX "^#include \"")
    foreach(line IN LISTS unity_lines)
      string(REGEX REPLACE "^#include \"([^\"]+)\".*" "\\1" member "${line}")
      list(APPEND members "${member}")
    endforeach()
  else()
    set(members "${file}")
  endif()
  foreach(member IN LISTS members)
    file(RELATIVE_PATH relative "${SOURCE_DIR}" "${member}")
    if(NOT relative IN_LIST torch_free_sources)
      continue()
    endif()
    math(EXPR checked "${checked} + 1")
    # Core libraries must not even have torch on their command line; the executable links the
    # runtime, so its files get torch's include paths, and only what they include counts.
    if(NOT relative MATCHES "^src/app/" AND command MATCHES "torch")
      message(FATAL_ERROR "${relative} is compiled with torch on its command line; it must not depend on heretic_torch")
    endif()
    string(REGEX REPLACE " -o [^ ]+" "" flags "${command}")
    string(REGEX REPLACE " -c [^ ]+" "" flags "${flags}")
    separate_arguments(flags UNIX_COMMAND "${flags}")
    execute_process(COMMAND ${flags} -M "${member}" WORKING_DIRECTORY "${directory}"
                    OUTPUT_VARIABLE deps ERROR_VARIABLE errors RESULT_VARIABLE status)
    if(NOT status EQUAL 0)
      message(FATAL_ERROR "the compiler could not list the includes of ${relative}: ${errors}")
    endif()
    if(deps MATCHES "/torch/|/ATen/|/c10/")
      message(FATAL_ERROR "${relative} includes torch headers:\n${deps}")
    endif()
  endforeach()
endforeach()
list(LENGTH torch_free_sources expected)
if(NOT checked EQUAL expected)
  message(FATAL_ERROR "only ${checked} of the ${expected} torch-free sources are in compile_commands.json")
endif()
message(STATUS "${checked} torch-free sources checked")
