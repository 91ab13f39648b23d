// Residual statistics (DESIGN.md §3 "Residuals", spec/heretic-behavior.md §1.8): per-layer
// float64 sums of the hidden states at the last prompt position, accumulated batch by batch so
// that no per-prompt tensor outlives its batch. Sums and counts are plain numbers so that ranks
// can add them with one allreduce.
#pragma once

#include <torch/utils.h>

#include <cstdint>
#include <vector>

namespace heretic::ablation {

// Heretic's winsorisation: for every (prompt, row) of `states` [B, rows, H], t = the
// q-quantile (linear interpolation, as torch.quantile) of |components| over H, and each
// component is clamped to [-t, t]. Returns float32. q outside [0, 1) returns `states` as float32.
torch::Tensor winsorize(const torch::Tensor& states, double quantile);

class ResidualSums {
 public:
  ResidualSums() = default;
  ResidualSums(int64_t rows, int64_t hidden);  // rows = L + 1

  // Adds every prompt of `states` [B, rows, H] (any float dtype, any device), after
  // winsorisation when 0 <= quantile < 1. Throws std::invalid_argument on a shape mismatch.
  void add(const torch::Tensor& states, double winsorization_quantile);

  int64_t rows() const { return rows_; }
  int64_t hidden() const { return hidden_; }
  int64_t count() const { return count_; }
  // rows x hidden sums, row-major; mutable so that an allreduce can sum them in place.
  std::vector<double>& data() { return sums_; }
  const std::vector<double>& data() const { return sums_; }
  void set_count(int64_t count) { count_ = count; }

  // [rows, H] float32 on the CPU: sums / count (float64 division, then cast, as Heretic).
  // Throws std::logic_error when count() is 0.
  torch::Tensor mean() const;

 private:
  int64_t rows_ = 0;
  int64_t hidden_ = 0;
  int64_t count_ = 0;
  std::vector<double> sums_;
};

}  // namespace heretic::ablation
