#include "fuzz_input.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <system_error>

namespace heretic::fuzz {
namespace fs = std::filesystem;

std::vector<std::string_view> split_sections(const uint8_t* data, size_t size, size_t max_sections) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<std::string_view> sections;
  size_t start = 0;
  while (sections.size() + 1 < max_sections) {
    const size_t nul = input.find('\0', start);
    if (nul == std::string_view::npos) break;
    sections.push_back(input.substr(start, nul - start));
    start = nul + 1;
  }
  sections.push_back(input.substr(start));
  return sections;
}

namespace {

// This process's folder for every ScratchFolder, emptied on first use, removed at exit. Never
// destroyed: the exit handler that removes it runs after static objects are gone.
const fs::path& process_folder() {
  static const fs::path* const folder = [] {
    std::error_code ec;
    const fs::path base = fs::is_directory("/dev/shm", ec) && ::access("/dev/shm", W_OK) == 0
                              ? fs::path("/dev/shm")
                              : fs::temp_directory_path();
    const auto* made = new fs::path(base / ("heretic-fuzz-" + std::to_string(::getpid())));
    fs::remove_all(*made, ec);
    std::atexit([] {
      std::error_code ignored;
      fs::remove_all(process_folder(), ignored);
    });
    return made;
  }();
  return *folder;
}

}  // namespace

ScratchFolder::ScratchFolder(const std::string& name) : path_(process_folder() / name) {
  fs::create_directories(path_);
}

void ScratchFolder::write(const std::string& name, std::string_view bytes) const {
  std::ofstream out(path_ / name, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) check_failed("ScratchFolder::write", __FILE__, __LINE__, (path_ / name).string());
}

void ScratchFolder::remove(const std::string& name) const {
  std::error_code ec;
  fs::remove(path_ / name, ec);
}

void check_failed(const char* condition, const char* file, int line, const std::string& detail) {
  std::fprintf(stderr, "%s:%d: fuzz check failed: %s\n  %s\n", file, line, condition, detail.c_str());
  std::abort();
}

}  // namespace heretic::fuzz
