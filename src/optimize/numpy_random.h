// A random stream that reproduces NumPy's legacy RandomState(seed) bit for bit: MT19937
// seeded with init_genrand(seed), doubles built from two 32-bit words (53 bits). Optuna's
// samplers draw from such streams, so reproducing Optuna 3.1 needs exactly this derivation
// (spec/tpe.md §10). std::mt19937 is fully specified by the C++ standard; the distributions of
// <random> are not, so none is used here.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

namespace heretic::optimize {

class NumpyRandom {
 public:
  explicit NumpyRandom(std::uint32_t seed);

  // NumPy random_sample(): (a >> 5) * 2^26 + (b >> 6), divided by 2^53; in [0, 1).
  double next_double();
  // NumPy uniform(low, high) = low + (high - low) * random_sample().
  double uniform(double low, double high);
  // NumPy choice(n, p=weights): searchsorted-right of one draw in cumsum(p) / sum(p).
  int choice(const std::vector<double>& cumulative_weights);

  // Number of 32-bit words drawn since seeding; with the seed it identifies the state, so a
  // sampler rebuilt from a journal can continue the stream exactly.
  std::uint64_t position() const { return position_; }
  // Reseeds and skips to `position` (must be reachable: any value is, it only costs time).
  void seek(std::uint64_t position);

 private:
  std::uint32_t seed_;
  std::mt19937 engine_;
  std::uint64_t position_ = 0;
};

}  // namespace heretic::optimize
