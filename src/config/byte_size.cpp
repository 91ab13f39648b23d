#include "config/byte_size.h"

#include <cctype>
#include <cmath>
#include <regex>

namespace heretic::config {

std::optional<int64_t> parse_byte_size(const std::string& text) {
  static const std::regex size(R"(^\s*([0-9]+(\.[0-9]+)?)\s*([KMGT]I?B|B)?\s*$)", std::regex::icase);
  std::smatch match;
  if (!std::regex_match(text, match, size)) return std::nullopt;
  const double number = std::stod(match[1].str());
  std::string unit = match[3].str();
  for (auto& c : unit) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  double factor = 1;
  if (!unit.empty() && unit != "B") {
    const bool binary = unit.size() == 3;
    const double base = binary ? 1024.0 : 1000.0;
    const auto power = static_cast<double>(std::string("KMGT").find(unit[0]) + 1);
    factor = std::pow(base, power);
  }
  const double bytes = number * factor;
  if (bytes < 1 || bytes > 1e18) return std::nullopt;
  return static_cast<int64_t>(bytes);
}

}  // namespace heretic::config
