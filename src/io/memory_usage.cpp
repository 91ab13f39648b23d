#include "io/memory_usage.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace heretic::io {
namespace {

// "VmHWM:     1234 kB" -> 1234 * 1024 for key "VmHWM:".
int64_t kilobytes_field(const std::string& file, const std::string& key) {
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    if (line.compare(0, key.size(), key) != 0) continue;
    std::istringstream fields(line.substr(key.size()));
    int64_t kilobytes = 0;
    fields >> kilobytes;
    return kilobytes * 1024;
  }
  return 0;
}

// A cgroup limit file: a number of bytes, or "max" / a huge value for none.
int64_t cgroup_limit(const std::string& file) {
  std::ifstream in(file);
  std::string text;
  if (!(in >> text) || text == "max") return 0;
  try {
    const long double value = std::stold(text);
    return value > 0 && value < 1e18L ? static_cast<int64_t>(value) : 0;
  } catch (const std::exception&) {
    return 0;
  }
}

}  // namespace

MemorySample sample_memory() {
  return {kilobytes_field("/proc/self/status", "VmRSS:"), kilobytes_field("/proc/self/status", "VmHWM:")};
}

int64_t node_memory_bytes() {
  int64_t bytes = kilobytes_field("/proc/meminfo", "MemTotal:");
  for (const char* limit : {"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"}) {
    const int64_t cgroup = cgroup_limit(limit);
    if (cgroup > 0) bytes = bytes > 0 ? std::min(bytes, cgroup) : cgroup;
  }
  return bytes;
}

std::string format_bytes(int64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1024.0 && unit < 4) {
    value /= 1024.0;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof text, unit == 0 ? "%.0f %s" : unit == 1 ? "%.0f %s" : unit == 2 ? "%.1f %s" : "%.2f %s",
                value, units[unit]);
  return text;
}

}  // namespace heretic::io
