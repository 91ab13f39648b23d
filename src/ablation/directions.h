// Refusal directions (DESIGN.md §3 "Directions", spec/heretic-behavior.md §1.9, §2.1).
#pragma once

#include <torch/utils.h>

namespace heretic::ablation {

// R [rows, H] float32 (rows = L + 1): normalize(bad_mean - good_mean) per row (L2, eps 1e-12);
// with `orthogonalize`, each row is made orthogonal to normalize(good_mean) of the same row
// and normalised again. Inputs are [rows, H] float32 on the CPU.
torch::Tensor refusal_directions(const torch::Tensor& good_mean, const torch::Tensor& bad_mean, bool orthogonalize);

// The global direction for a float index f: idx = floor(f + 1), t = frac(f + 1),
// v = normalize(R[idx] + t (R[idx + 1] - R[idx])); [H] float32. When idx + 1 is past the last
// row (f = L - 1 exactly), t is 0 and R[idx] is used. Throws std::out_of_range for f < -1 or
// f > L - 1.
torch::Tensor global_direction(const torch::Tensor& directions, double index);

}  // namespace heretic::ablation
