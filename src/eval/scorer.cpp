#include "eval/scorer.h"

#include <cmath>
#include <cstdio>

namespace heretic::eval {

void Scorer::capture_baseline(ScorerPrompts&, size_t, size_t) {}

void Scorer::adopt_baseline(const Scorer&) {}

std::string Scorer::format(const PartialScore& part) const { return format_mean(part); }

std::string format_mean(const PartialScore& part, int digits) {
  const double value = part.count > 0 ? part.sum / static_cast<double>(part.count) : std::nan("");
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", digits, value);
  return text;
}

}  // namespace heretic::eval
