#include "config/byte_size.h"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <utility>

namespace heretic::config {

std::optional<int64_t> parse_byte_size(const std::string& text) {
  const char* begin = text.c_str();
  char* end = nullptr;
  const double number = std::strtod(begin, &end);
  if (end == begin || !std::isfinite(number) || number <= 0.0) return std::nullopt;
  std::string unit(end);
  while (!unit.empty() && std::isspace(static_cast<unsigned char>(unit.front()))) unit.erase(0, 1);
  static const std::pair<const char*, double> units[] = {
      {"", 1.0},          {"B", 1.0},          {"KiB", 0x1p10},   {"MiB", 0x1p20}, {"GiB", 0x1p30},
      {"TiB", 0x1p40},    {"kB", 1e3},         {"KB", 1e3},       {"MB", 1e6},     {"GB", 1e9},
      {"TB", 1e12}};
  for (const auto& [name, scale] : units) {
    if (unit != name) continue;
    const double bytes = std::floor(number * scale);
    if (bytes < 1.0 || bytes > 9.0e18) return std::nullopt;
    return static_cast<int64_t>(bytes);
  }
  return std::nullopt;
}

}  // namespace heretic::config
