# Sanitizer and fuzzing builds (clang; tools/run-sanitized-tests.sh and tools/run-fuzz.sh
# configure one in build-sanitize/ with both options on).
# HERETIC_SANITIZE instruments every target of the build with AddressSanitizer (memory errors,
# leaks) and UndefinedBehaviorSanitizer (overflow, bad shifts, misaligned or null access); any
# UB report aborts the process.
# HERETIC_FUZZ adds libFuzzer's coverage instrumentation to every target and builds the fuzz
# targets (tests/fuzz), so that one build serves the fuzzers and the sanitized unit tests.
option(HERETIC_SANITIZE "Build everything with AddressSanitizer and UndefinedBehaviorSanitizer" OFF)
option(HERETIC_FUZZ "Build the libFuzzer targets fuzz_<name> of tests/fuzz (clang)" OFF)
if(HERETIC_SANITIZE)
  set(_heretic_sanitizers -fsanitize=address,undefined -fno-sanitize-recover=undefined)
  add_compile_options(${_heretic_sanitizers} -fno-omit-frame-pointer)
  add_link_options(${_heretic_sanitizers})
endif()
if(HERETIC_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "HERETIC_FUZZ=ON needs clang with libFuzzer (Debian: clang, libclang-rt-14-dev); "
                        "configure with -DCMAKE_CXX_COMPILER=clang++ or use tools/run-fuzz.sh")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()
