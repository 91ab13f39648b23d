#include "ablation/directions.h"

#include <cmath>
#include <stdexcept>
#include <string>

namespace heretic::ablation {
namespace {

// torch.nn.functional.normalize(x, p=2, dim, eps=1e-12): x / max(||x||, eps).
torch::Tensor normalize(const torch::Tensor& x, int64_t dim) {
  return x / x.norm(2, {dim}, /*keepdim=*/true).clamp_min(1e-12);
}

}  // namespace

torch::Tensor refusal_directions(const torch::Tensor& good_mean, const torch::Tensor& bad_mean, bool orthogonalize) {
  if (good_mean.dim() != 2 || !good_mean.sizes().equals(bad_mean.sizes()))
    throw std::invalid_argument("refusal_directions: good and bad means must both be [rows, H]");
  const torch::Tensor good = good_mean.to(torch::kCPU, torch::kFloat32);
  const torch::Tensor bad = bad_mean.to(torch::kCPU, torch::kFloat32);
  torch::Tensor directions = normalize(bad - good, 1);
  if (orthogonalize) {
    // "Projected abliteration": only the part of each row orthogonal to its own layer's good
    // mean is kept, so ablating it leaves the harmless direction alone.
    const torch::Tensor good_directions = normalize(good, 1);
    const torch::Tensor projection = (directions * good_directions).sum(1);
    directions = normalize(directions - projection.unsqueeze(1) * good_directions, 1);
  }
  return directions.contiguous();
}

torch::Tensor global_direction(const torch::Tensor& directions, double index) {
  if (directions.dim() != 2 || directions.size(0) < 2)
    throw std::invalid_argument("global_direction: directions must be [L + 1, H] with L >= 1");
  const int64_t last_layer = directions.size(0) - 1;                     // L
  if (!(index >= -1.0 && index <= static_cast<double>(last_layer - 1)))  // NaN fails too
    throw std::out_of_range("global_direction: index " + std::to_string(index) + " is outside [-1, " +
                            std::to_string(last_layer - 1) + "]");
  // Row 0 holds the embeddings, hence the shift by one (Heretic: math.modf(index + 1)).
  double whole = 0.0;
  const double t = std::modf(index + 1.0, &whole);
  const int64_t row = static_cast<int64_t>(whole);
  const torch::Tensor R = directions.to(torch::kCPU, torch::kFloat32);
  if (row == last_layer) return normalize(R[row], 0).contiguous();  // t is 0 here
  return normalize(torch::lerp(R[row], R[row + 1], t), 0).contiguous();
}

}  // namespace heretic::ablation
