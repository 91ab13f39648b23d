// Heretic's residual geometry (spec/heretic-behavior.md §5.1): per layer, how the harmless and
// harmful residuals sit relative to each other — their means and geometric medians, the
// differences of those, and how well the two clusters separate (mean silhouette). A research
// aid printed with print_residual_geometry; it needs every prompt's residual, not only sums.
#pragma once

#include <torch/utils.h>

#include <vector>

namespace heretic::ablation {

// The point minimising the sum of Euclidean distances to the rows of `points` [n, d]
// (Weiszfeld's iteration from the mean, float64). Returns [d] float64. A row that coincides
// with the current estimate is handled by the usual guard (its distance is bounded below).
torch::Tensor geometric_median(const torch::Tensor& points, int max_iterations = 1000, double tolerance = 1e-10);

// Mean silhouette coefficient (Euclidean) of the rows of `points` [n, d] labelled 0/1 by
// `labels` [n] (any integer dtype), as sklearn.metrics.silhouette_score: for each row,
// a = mean distance to the other rows of its cluster, b = mean distance to the rows of the
// other cluster, s = (b - a) / max(a, b), and s = 0 for a row alone in its cluster.
double silhouette_score(const torch::Tensor& points, const torch::Tensor& labels);

// One row of the table (layer l of 0..L; Heretic prints 1..L).
struct LayerGeometry {
  double s_g_b, s_gm_bm;  // cosine similarity of the means g, b / of the geometric medians g*, b*
  double s_g_r, s_gm_rm;  // r = b - g, r* = b* - g*
  double s_b_r, s_bm_rm;
  double norm_g, norm_gm, norm_b, norm_bm, norm_r, norm_rm;
  double silhouette;
};

// good [n, L+1, H], bad [m, L+1, H] (per-prompt residuals, any float dtype). One entry per row.
std::vector<LayerGeometry> residual_geometry(const torch::Tensor& good, const torch::Tensor& bad);

}  // namespace heretic::ablation
