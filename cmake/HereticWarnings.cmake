# Warning flags for the project's own targets. Third-party headers come in through
# imported targets, which CMake marks SYSTEM, so their warnings stay out of the way.
add_library(heretic_warnings INTERFACE)
target_compile_options(heretic_warnings INTERFACE
  $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic -Wnon-virtual-dtor
  -Wcast-align -Wunused -Woverloaded-virtual -Wformat=2>)
# gcc-only flags (clang builds the fuzz targets).
target_compile_options(heretic_warnings INTERFACE $<$<AND:$<COMPILE_LANGUAGE:CXX>,$<CXX_COMPILER_ID:GNU>>:-Wshadow=local>)
if(HERETIC_WERROR)
  target_compile_options(heretic_warnings INTERFACE $<$<COMPILE_LANGUAGE:CXX>:-Werror>)
endif()

# heretic_component(NAME SOURCES... [DEPS targets...]) declares one static library of the
# core (src/<component>): a layer with its own link dependencies, so that a file that
# does not need torch never sees torch headers.
function(heretic_component name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC "${PROJECT_SOURCE_DIR}/src")
  target_link_libraries(${name} PUBLIC ${ARG_DEPS} PRIVATE heretic_warnings)
endfunction()

# heretic_test(NAME SOURCES... DEPS targets... [LABELS l...] [NEEDS_EXECUTABLE]) declares one
# GoogleTest executable and registers its tests with CTest. Tests see HERETIC_SOURCE_DIR
# (fixtures) and, with NEEDS_EXECUTABLE, HERETIC_EXECUTABLE (the built heretic-mpi).
function(heretic_test name)
  cmake_parse_arguments(ARG "NEEDS_EXECUTABLE" "" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_include_directories(${name} PRIVATE "${PROJECT_SOURCE_DIR}/src" "${PROJECT_SOURCE_DIR}")
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest_main heretic_warnings)
  target_compile_definitions(${name} PRIVATE
    HERETIC_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    HERETIC_BINARY_DIR="${PROJECT_BINARY_DIR}")
  if(ARG_NEEDS_EXECUTABLE)
    target_compile_definitions(${name} PRIVATE HERETIC_EXECUTABLE="$<TARGET_FILE:heretic-mpi>")
    add_dependencies(${name} heretic-mpi)
  endif()
  # Tests listed in HERETIC_SANITIZED_TESTS (tests/CMakeLists.txt) also run in the sanitizer
  # build: label "sanitized", and the target sanitized_tests builds them.
  if(name IN_LIST HERETIC_SANITIZED_TESTS)
    # First: gtest_discover_tests keeps only the first label of a list (it passes PROPERTIES on
    # unquoted), and the sanitizer run selects its tests by this one.
    list(PREPEND ARG_LABELS sanitized)
    add_dependencies(sanitized_tests ${name})
  endif()
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES LABELS "${ARG_LABELS}")
endfunction()

# Registers a component library as part of heretic_core.
function(heretic_core_add target)
  set(HERETIC_CORE_COMPONENTS ${HERETIC_CORE_COMPONENTS} ${target} CACHE INTERNAL "")
endfunction()
