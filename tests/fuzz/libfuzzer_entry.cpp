// The libFuzzer entry point of one fuzz target; HERETIC_FUZZ_ENTRY names the function
// (tests/fuzz/CMakeLists.txt compiles this file once per target).
#include "fuzz_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return heretic::fuzz::HERETIC_FUZZ_ENTRY(data, size);
}
