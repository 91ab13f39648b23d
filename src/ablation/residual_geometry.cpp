#include "ablation/residual_geometry.h"

#include <algorithm>
#include <stdexcept>

namespace heretic::ablation {

torch::Tensor geometric_median(const torch::Tensor& points, int max_iterations, double tolerance) {
  if (points.dim() != 2 || points.size(0) == 0) throw std::invalid_argument("geometric_median: expected [n, d], n > 0");
  const torch::Tensor x = points.to(torch::kFloat64).cpu();  // [n, d]
  torch::Tensor median = x.mean(0);                          // [d]
  // Distances below this are treated as this (the estimate sits on a data point): the scale
  // of the data times a tiny factor, so that the guard does not depend on units.
  const double floor = std::max(x.abs().max().item<double>(), 1.0) * 1e-12;
  double objective = (x - median).norm(2, 1).sum().item<double>();
  for (int i = 0; i < max_iterations; ++i) {
    const torch::Tensor weights = 1.0 / (x - median).norm(2, 1).clamp_min(floor);  // [n]
    const torch::Tensor next = (weights.unsqueeze(1) * x).sum(0) / weights.sum();
    const double next_objective = (x - next).norm(2, 1).sum().item<double>();
    median = next;
    const bool converged = objective - next_objective <= tolerance * std::max(objective, 1e-300);
    objective = next_objective;
    if (converged) break;
  }
  return median;
}

double silhouette_score(const torch::Tensor& points, const torch::Tensor& labels) {
  if (points.dim() != 2 || labels.dim() != 1 || labels.size(0) != points.size(0)) {
    throw std::invalid_argument("silhouette_score: expected points [n, d] and labels [n]");
  }
  const torch::Tensor x = points.to(torch::kFloat64).cpu();
  const torch::Tensor in_one = labels.cpu().to(torch::kBool);  // [n]
  const int64_t n = x.size(0);
  const int64_t ones = in_one.sum().item<int64_t>();
  if (ones == 0 || ones == n) throw std::invalid_argument("silhouette_score: needs two non-empty clusters");
  // Pairwise distances from squared norms and one Gram matrix, [n, n] (cdist without its
  // large intermediate); clamped at 0 against rounding.
  const torch::Tensor squares = (x * x).sum(1);
  const torch::Tensor distances =
      (squares.unsqueeze(1) + squares.unsqueeze(0) - 2.0 * x.matmul(x.t())).clamp_min(0.0).sqrt();
  const torch::Tensor one = in_one.to(torch::kFloat64);  // [n]
  const torch::Tensor zero = 1.0 - one;
  const torch::Tensor to_ones = distances.matmul(one);    // [n] summed distances to cluster 1
  const torch::Tensor to_zeros = distances.matmul(zero);  // [n] to cluster 0
  const double n1 = static_cast<double>(ones);
  const double n0 = static_cast<double>(n - ones);
  // Own cluster excludes the row itself (its distance to itself is 0 and it is not counted).
  const torch::Tensor own_size = torch::where(in_one, torch::full({n}, n1 - 1.0, x.options()),
                                              torch::full({n}, n0 - 1.0, x.options()));
  const torch::Tensor own_sum = torch::where(in_one, to_ones, to_zeros);
  const torch::Tensor other_mean =
      torch::where(in_one, to_zeros / n0, to_ones / n1);
  const torch::Tensor own_mean = own_sum / own_size.clamp_min(1.0);
  torch::Tensor s = (other_mean - own_mean) / torch::max(own_mean, other_mean).clamp_min(1e-300);
  s = torch::where(own_size > 0, s, torch::zeros_like(s));  // a row alone in its cluster: 0
  return s.mean().item<double>();
}

std::vector<LayerGeometry> residual_geometry(const torch::Tensor& good, const torch::Tensor& bad) {
  if (good.dim() != 3 || bad.dim() != 3 || good.size(1) != bad.size(1) || good.size(2) != bad.size(2)) {
    throw std::invalid_argument("residual_geometry: expected good [n, L+1, H] and bad [m, L+1, H]");
  }
  const torch::Tensor g_all = good.to(torch::kFloat64).cpu();
  const torch::Tensor b_all = bad.to(torch::kFloat64).cpu();
  const torch::Tensor labels = torch::cat({torch::zeros({g_all.size(0)}, torch::kInt64),
                                           torch::ones({b_all.size(0)}, torch::kInt64)});
  auto cosine = [](const torch::Tensor& u, const torch::Tensor& v) {
    // As torch's cosine_similarity: norms bounded below by 1e-8.
    return (u.dot(v) / (u.norm().clamp_min(1e-8) * v.norm().clamp_min(1e-8))).item<double>();
  };
  std::vector<LayerGeometry> rows;
  for (int64_t l = 0; l < g_all.size(1); ++l) {
    const torch::Tensor gl = g_all.select(1, l), bl = b_all.select(1, l);  // [n, H], [m, H]
    const torch::Tensor g = gl.mean(0), b = bl.mean(0), r = b - g;
    const torch::Tensor gm = geometric_median(gl), bm = geometric_median(bl), rm = bm - gm;
    LayerGeometry row{};
    row.s_g_b = cosine(g, b);
    row.s_gm_bm = cosine(gm, bm);
    row.s_g_r = cosine(g, r);
    row.s_gm_rm = cosine(gm, rm);
    row.s_b_r = cosine(b, r);
    row.s_bm_rm = cosine(bm, rm);
    row.norm_g = g.norm().item<double>();
    row.norm_gm = gm.norm().item<double>();
    row.norm_b = b.norm().item<double>();
    row.norm_bm = bm.norm().item<double>();
    row.norm_r = r.norm().item<double>();
    row.norm_rm = rm.norm().item<double>();
    row.silhouette = silhouette_score(torch::cat({gl, bl}), labels);
    rows.push_back(row);
  }
  return rows;
}

}  // namespace heretic::ablation
