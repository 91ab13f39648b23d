// What the fuzz targets share: one input split into several files, a scratch folder for the
// readers that take a path, and a check that stops the fuzzer when a property that must hold
// for every accepted input does not.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace heretic::fuzz {

// The sections of an input that stands for several files: the bytes between NUL bytes (no
// JSON, TOML or template text contains a raw NUL). At most `max_sections`; the last one takes
// the rest, NULs included. Missing sections are absent from the result.
std::vector<std::string_view> split_sections(const uint8_t* data, size_t size, size_t max_sections);

// A folder of one target in this process (under /dev/shm when there is one, so that rewriting
// files for every input costs no disk I/O); every folder of the process is removed at exit.
class ScratchFolder {
 public:
  explicit ScratchFolder(const std::string& name);
  const std::filesystem::path& path() const { return path_; }
  // Writes `bytes` to path()/name, replacing what was there.
  void write(const std::string& name, std::string_view bytes) const;
  void remove(const std::string& name) const;

 private:
  std::filesystem::path path_;
};

// Prints where and what, then aborts: libFuzzer saves the input as a crash.
[[noreturn]] void check_failed(const char* condition, const char* file, int line, const std::string& detail);

}  // namespace heretic::fuzz

#define FUZZ_CHECK(condition, detail)                                                         \
  do {                                                                                        \
    if (!(condition)) ::heretic::fuzz::check_failed(#condition, __FILE__, __LINE__, (detail)); \
  } while (false)
