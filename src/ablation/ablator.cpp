#include "ablation/ablator.h"

#include <algorithm>
#include <set>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>

#include "ablation/directions.h"

namespace heretic::ablation {
namespace {

using config::RowNormalization;

// Weights in bf16/fp16 are upcast to float32 in row blocks of at most this many elements, so
// that the float32 arithmetic never needs a float32 copy of a whole matrix (64 MiB at most).
constexpr int64_t kChunkElements = int64_t{1} << 24;

// F.normalize's eps: a row whose new norm falls below it is treated as Heretic's
// normalize() treats it (divided by eps instead of its norm).
constexpr double kNormEps = 1e-12;

// The matrices [H, in] of a layer's component: one, or every expert's (model_weights.h).
std::vector<torch::Tensor> target_weights(const model::ModelWeights& weights, int64_t layer,
                                          model::Component component) {
  return model::abliterable_matrices(weights.layers[static_cast<size_t>(layer)], component);
}

int64_t rows_per_chunk(const torch::Tensor& W) {
  return std::max<int64_t>(1, kChunkElements / std::max<int64_t>(1, W.size(1)));
}

// ||W_r|| for every row, in float32 on W's device.
torch::Tensor row_norms(const torch::Tensor& W) {
  if (W.scalar_type() == torch::kFloat32) return torch::linalg_vector_norm(W, 2, {1});
  std::vector<torch::Tensor> parts;
  const int64_t chunk = rows_per_chunk(W);
  for (int64_t start = 0; start < W.size(0); start += chunk)
    parts.push_back(
        torch::linalg_vector_norm(W.narrow(0, start, std::min(chunk, W.size(0) - start)).to(torch::kFloat32), 2, {1}));
  return torch::cat(parts);
}

// Row norms of the whole W when `group` holds it split by columns (tensor parallelism): the
// squared norms of each rank's columns are summed over the group.
torch::Tensor row_norms(const torch::Tensor& W, model::TensorParallelGroup* group) {
  if (group == nullptr) return row_norms(W);
  torch::Tensor squares = row_norms(W).square();
  group->all_reduce_sum(squares);
  return squares.sqrt();
}

// p = Wᵀu [in] and W p [out] in float32 (u float32 on W's device).
std::pair<torch::Tensor, torch::Tensor> float32_matvecs(const torch::Tensor& W, const torch::Tensor& u) {
  if (W.scalar_type() == torch::kFloat32) {
    torch::Tensor p = torch::mv(W.t(), u);
    torch::Tensor Wp = torch::mv(W, p);
    return {p, Wp};
  }
  const int64_t chunk = rows_per_chunk(W);
  torch::Tensor p = torch::zeros({W.size(1)}, u.options());
  for (int64_t start = 0; start < W.size(0); start += chunk) {
    const int64_t rows = std::min(chunk, W.size(0) - start);
    p.add_(torch::mv(W.narrow(0, start, rows).to(torch::kFloat32).t(), u.narrow(0, start, rows)));
  }
  std::vector<torch::Tensor> parts;
  for (int64_t start = 0; start < W.size(0); start += chunk)
    parts.push_back(torch::mv(W.narrow(0, start, std::min(chunk, W.size(0) - start)).to(torch::kFloat32), p));
  return {p, torch::cat(parts)};
}

// Every mode is y' = (y - a (bᵀ y)) ⊙ s on y = W x, i.e. W' = diag(s) (W - a bᵀ W):
//   none: a = w v,       b = v,      s = 1
//   pre:  a = w (n ⊙ v), b = v ⊘ n,  s = 1
//   full: as pre, s = 1/m with m_i = ||Ŵ_i − w v_i Ŵᵀv|| from
//         m_i² = 1 − 2 w v_i (Ŵ Ŵᵀ v)_i + w² v_i² ||Ŵᵀ v||²,  Ŵᵀv = Wᵀ(v ⊘ n).
// Rows with n = 0 (all-zero rows of W): Heretic's Ŵ row is 0 there (F.normalize divides by
// eps), so b_i = 0, and "full" multiplies the renormalised row by n_i = 0; here s_i = 0, so
// such a row's output stays exactly 0 in every mode and its merged row stays 0.
struct Factors {
  torch::Tensor a, b, s;  // float32 on W's device; s undefined for none and pre
};

// With a `group`, W is this rank's columns of the whole matrix (tensor parallelism): Ŵᵀv is
// split the same way, and W Ŵᵀv and ||Ŵᵀv||² are sums over the group (one all-reduce).
Factors transform_factors(const torch::Tensor& W, const torch::Tensor& n, const torch::Tensor& v, double w,
                          RowNormalization mode, model::TensorParallelGroup* group = nullptr) {
  Factors f;
  if (mode == RowNormalization::kNone) {
    f.a = w * v;
    f.b = v;
    return f;
  }
  const torch::Tensor nonzero = n > 0;
  const torch::Tensor inv_n = torch::where(nonzero, n.reciprocal(), torch::zeros_like(n));
  f.a = w * (n * v);
  f.b = v * inv_n;
  if (mode == RowNormalization::kFull) {
    auto [p, Wp] = float32_matvecs(W, f.b);  // Ŵᵀv, W Ŵᵀv
    torch::Tensor pp = p.dot(p);             // ||Ŵᵀv||²
    if (group != nullptr) {
      torch::Tensor sums = torch::cat({Wp, pp.reshape({1})});
      group->all_reduce_sum(sums);
      Wp = sums.narrow(0, 0, Wp.size(0));
      pp = sums[Wp.size(0)];
    }
    const torch::Tensor WWv = Wp * inv_n;  // Ŵ Ŵᵀ v
    const torch::Tensor m2 = 1.0 - 2.0 * w * v * WWv + (w * w) * v * v * pp;
    const torch::Tensor m = m2.clamp_min(0.0).sqrt().clamp_min(kNormEps);
    f.s = torch::where(nonzero, m.reciprocal(), torch::zeros_like(m));
  }
  return f;
}

// Extra columns of the subspace iteration beyond the rank asked for, and its limits.
constexpr int64_t kOversampling = 8;
constexpr int kMaxSubspaceIterations = 60;
constexpr double kSingularValueTolerance = 1e-6;

// A fixed [rows, cols] block of values in [-0.5, 0.5) that no matrix of weights is built from
// (a sine hash of the position), so that every run starts the iteration alike without touching
// torch's random state.
torch::Tensor starting_block(int64_t rows, int64_t cols, const torch::TensorOptions& options) {
  const torch::Tensor index = torch::arange(rows * cols, options.dtype(torch::kFloat64)).reshape({rows, cols});
  const torch::Tensor hashed = (index * 12.9898 + 78.233).sin() * 43758.5453;
  return (hashed - hashed.floor() - 0.5).to(options.dtype());
}

torch::Tensor orthonormal_basis(const torch::Tensor& block) { return std::get<0>(torch::linalg_qr(block)); }

// The `rank` largest singular triplets of D [out, in] (U [out, k], S [k], Vh [k, in], k >= rank
// where D allows): subspace iteration with a Rayleigh-Ritz step (Halko, Martinsson and Tropp
// 2011, algorithm 4.4), repeated until those singular values change by less than
// kSingularValueTolerance (relative). It costs O(out x in x (rank + 8)) per iteration instead
// of the O(out x in x min(out, in)) of a full SVD: minutes become a second on a 4096 x 11008
// matrix. A matrix no larger than the block is decomposed exactly.
std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> top_singular_triplets(const torch::Tensor& D, int64_t rank) {
  const int64_t smaller = std::min(D.size(0), D.size(1));
  const int64_t columns = std::min(rank + kOversampling, smaller);
  if (columns == smaller) return torch::linalg_svd(D, /*full_matrices=*/false);
  torch::Tensor Q = orthonormal_basis(torch::mm(D, starting_block(D.size(1), columns, D.options())));  // [out, k]
  torch::Tensor previous;
  std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> ritz;
  for (int iteration = 0; iteration < kMaxSubspaceIterations; ++iteration) {
    const torch::Tensor Z = orthonormal_basis(torch::mm(D.t(), Q));  // [in, k]
    Q = orthonormal_basis(torch::mm(D, Z));                           // [out, k]
    const auto [Ub, S, Vh] = torch::linalg_svd(torch::mm(Q.t(), D), /*full_matrices=*/false);  // Qᵀ D [k, in]
    ritz = {torch::mm(Q, Ub), S, Vh};
    const torch::Tensor top = S.narrow(0, 0, std::min(rank, S.size(0)));
    if (previous.defined() &&
        ((top - previous).abs() <= kSingularValueTolerance * top.max().clamp_min(1e-30)).all().item<bool>())
      break;
    previous = top.clone();
  }
  return ritz;
}

model::OutputTransform make_transform(Factors f) {
  return [a = std::move(f.a), b = std::move(f.b), s = std::move(f.s)](const torch::Tensor& y) {
    const torch::Tensor y32 = y.to(torch::kFloat32);
    torch::Tensor out = y32 - torch::matmul(y32, b).unsqueeze(-1) * a;
    if (s.defined()) out = out * s;
    return out.to(y.scalar_type());
  };
}

}  // namespace

std::vector<ModuleAblation> plan_ablation(const TrialParams& params, const torch::Tensor& directions,
                                          int64_t num_layers) {
  if (directions.dim() != 2 || directions.size(0) != num_layers + 1)
    throw std::invalid_argument(
        "plan_ablation: directions must have num_layers + 1 = " + std::to_string(num_layers + 1) + " rows");
  const torch::Tensor R = directions.to(torch::kCPU, torch::kFloat32);
  torch::Tensor global;
  if (!params.per_layer) {
    if (!params.direction_index)
      throw std::invalid_argument("plan_ablation: a global direction scope needs a direction index");
    global = global_direction(R, *params.direction_index);
  }

  std::vector<ModuleAblation> plan;
  for (int64_t layer = 0; layer < num_layers; ++layer) {
    for (size_t k = 0; k < params.kernels.size(); ++k) {
      const double weight = params.kernels[k].weight_at(static_cast<int>(layer));
      if (weight == 0.0) continue;  // out of reach of the kernel, or an exact zero (Heretic §2.2)
      ModuleAblation entry;
      entry.layer = layer;
      entry.component = params.kernels[k].component;
      entry.weight = weight;
      entry.direction = params.per_layer ? R[layer + 1].contiguous() : global;  // row 0: embeddings
      plan.push_back(std::move(entry));
    }
  }
  return plan;
}

Ablator::Ablator(model::CausalLM& model, config::RowNormalization mode) : model_(model), mode_(mode) {
  torch::NoGradGuard no_grad;
  const int64_t layers = model_.info().num_layers;
  row_norms_.resize(static_cast<size_t>(layers));
  for (int64_t layer = 0; layer < layers; ++layer) {
    for (int c = 0; c < model::kComponentCount; ++c) {
      const auto component = static_cast<model::Component>(c);
      // "none" never needs them, nor a layer another pipeline stage holds; an empty list
      // keeps the slot's place. One tensor per module (expert).
      std::vector<torch::Tensor> norms;
      if (mode_ != RowNormalization::kNone && model_.weights().holds(layer))
        for (const torch::Tensor& W : target_weights(model_.weights(), layer, component))
          norms.push_back(row_norms(W, model_.tensor_group()));
      row_norms_[static_cast<size_t>(layer)].push_back(std::move(norms));
    }
  }
}

void Ablator::apply(const std::vector<ModuleAblation>& plan) {
  torch::NoGradGuard no_grad;
  const int64_t layers = model_.info().num_layers;
  // Every transform is built before any slot changes, so a bad plan leaves the model as it was.
  std::vector<std::vector<model::OutputTransform>> transforms;  // per entry, per module
  std::vector<const ModuleAblation*> held;  // the entries of layers this rank holds
  std::set<std::pair<int64_t, int>> seen;
  for (const ModuleAblation& entry : plan) {
    const int c = static_cast<int>(entry.component);
    if (entry.layer < 0 || entry.layer >= layers || c < 0 || c >= model::kComponentCount)
      throw std::invalid_argument("Ablator::apply: no module for layer " + std::to_string(entry.layer));
    if (!seen.insert({entry.layer, c}).second)
      throw std::invalid_argument("Ablator::apply: the plan names " +
                                  model_.info().module_name(entry.layer, entry.component) + " twice");
    if (!model_.weights().holds(entry.layer)) continue;  // another pipeline stage's layer
    const std::vector<torch::Tensor> matrices = target_weights(model_.weights(), entry.layer, entry.component);
    const int64_t rows = matrices.front().size(0);
    if (!entry.direction.defined() || entry.direction.numel() != rows)
      throw std::invalid_argument("Ablator::apply: the direction for " +
                                  model_.info().module_name(entry.layer, entry.component) + " must have " +
                                  std::to_string(rows) + " components");
    const torch::Tensor v = entry.direction.reshape({-1}).to(matrices.front().device(), torch::kFloat32);
    const std::vector<torch::Tensor>& norms = row_norms_[static_cast<size_t>(entry.layer)][static_cast<size_t>(c)];
    std::vector<model::OutputTransform> modules;
    for (size_t m = 0; m < matrices.size(); ++m)  // each expert with its own row norms
      modules.push_back(make_transform(transform_factors(matrices[m], norms.empty() ? torch::Tensor() : norms[m], v,
                                                         entry.weight, mode_, model_.tensor_group())));
    transforms.push_back(std::move(modules));
    held.push_back(&entry);
  }
  clear();
  for (size_t i = 0; i < held.size(); ++i)
    model_.slots().set(held[i]->layer, held[i]->component, std::move(transforms[i]));
}

void Ablator::clear() { model_.slots().clear_all(); }

torch::Tensor merged_weight(const torch::Tensor& weight, const torch::Tensor& direction, double w,
                            config::RowNormalization mode) {
  torch::NoGradGuard no_grad;
  if (weight.dim() < 2) throw std::invalid_argument("merged_weight: weight must be [out, in]");
  const torch::Tensor W = weight.reshape({weight.size(0), -1}).to(torch::kFloat32);
  if (direction.numel() != W.size(0))
    throw std::invalid_argument("merged_weight: the direction must have " + std::to_string(W.size(0)) + " components");
  const torch::Tensor v = direction.reshape({-1}).to(W.device(), torch::kFloat32);
  const torch::Tensor n = mode == RowNormalization::kNone ? torch::Tensor() : row_norms(W);
  const Factors f = transform_factors(W, n, v, w, mode);
  torch::Tensor merged = W - torch::outer(f.a, torch::mv(W.t(), f.b));
  if (f.s.defined()) merged = merged * f.s.unsqueeze(1);
  return merged.reshape(weight.sizes());
}

LowRankDelta low_rank_delta(const torch::Tensor& weight, const torch::Tensor& direction, double w,
                            config::RowNormalization mode, int64_t rank) {
  torch::NoGradGuard no_grad;
  if (weight.dim() != 2) throw std::invalid_argument("low_rank_delta: weight must be [out, in]");
  if (rank < 1) throw std::invalid_argument("low_rank_delta: the rank must be at least 1");
  const torch::Tensor W = weight.to(torch::kFloat32);
  if (direction.numel() != W.size(0))
    throw std::invalid_argument("low_rank_delta: the direction must have " + std::to_string(W.size(0)) +
                                " components");
  LowRankDelta delta;
  if (mode != RowNormalization::kFull) {
    // W' - W = -a (bᵀW): rank 1 by construction, whatever `rank` says.
    const torch::Tensor v = direction.reshape({-1}).to(W.device(), torch::kFloat32);
    const Factors f = transform_factors(W, mode == RowNormalization::kNone ? torch::Tensor() : row_norms(W), v, w, mode);
    delta.B = (-f.a).unsqueeze(1).contiguous();              // [out, 1]
    delta.A = torch::mv(W.t(), f.b).unsqueeze(0).contiguous();  // [1, in]
    return delta;
  }
  const torch::Tensor D = merged_weight(W, direction, w, mode) - W;  // [out, in], the exact delta
  const auto [U, S, Vh] = top_singular_triplets(D, rank);
  const int64_t kept = std::min(rank, S.size(0));
  const torch::Tensor root = S.narrow(0, 0, kept).clamp_min(0.0).sqrt();  // [kept]
  delta.B = torch::zeros({W.size(0), rank}, W.options());
  delta.A = torch::zeros({rank, W.size(1)}, W.options());
  delta.B.narrow(1, 0, kept).copy_(U.narrow(1, 0, kept) * root);
  delta.A.narrow(0, 0, kept).copy_(root.unsqueeze(1) * Vh.narrow(0, 0, kept));
  const double norm = D.norm().item<double>();
  delta.relative_error = norm > 0.0 ? (D - torch::mm(delta.B, delta.A)).norm().item<double>() / norm : 0.0;
  return delta;
}

}  // namespace heretic::ablation
