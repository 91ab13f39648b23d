#include "optimize/numpy_random.h"

#include <algorithm>

namespace heretic::optimize {

NumpyRandom::NumpyRandom(std::uint32_t seed) : seed_(seed), engine_(seed) {}

double NumpyRandom::next_double() {
  const std::uint32_t a = static_cast<std::uint32_t>(engine_()) >> 5;
  const std::uint32_t b = static_cast<std::uint32_t>(engine_()) >> 6;
  position_ += 2;
  return (static_cast<double>(a) * 67108864.0 + static_cast<double>(b)) / 9007199254740992.0;
}

double NumpyRandom::uniform(double low, double high) { return low + (high - low) * next_double(); }

int NumpyRandom::choice(const std::vector<double>& cumulative_weights) {
  const double u = next_double();
  const double total = cumulative_weights.back();
  // NumPy normalises the cumulative sum by its last element, then counts entries <= u.
  int index = 0;
  for (double c : cumulative_weights) {
    if (c / total <= u) ++index;
  }
  return std::min(index, static_cast<int>(cumulative_weights.size()) - 1);
}

void NumpyRandom::seek(std::uint64_t position) {
  engine_.seed(seed_);
  engine_.discard(position);
  position_ = position;
}

}  // namespace heretic::optimize
