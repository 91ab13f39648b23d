#include "ablation/residuals.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace heretic::ablation {
namespace {

// torch.quantile refuses inputs of more than 2^24 elements (pytorch issue #64947), which a
// batch of a large model exceeds ([B, L+1, H]); the quantile is per (prompt, row), so the
// rows are processed in chunks that stay under the limit.
constexpr int64_t kQuantileMaxElements = int64_t{1} << 24;

std::string shape_text(const torch::Tensor& t) {
  std::string text = "[";
  for (int64_t i = 0; i < t.dim(); ++i) text += (i ? ", " : "") + std::to_string(t.size(i));
  return text + "]";
}

}  // namespace

torch::Tensor winsorize(const torch::Tensor& states, double quantile) {
  const torch::Tensor values = states.to(torch::kFloat32);
  if (!(quantile >= 0.0 && quantile < 1.0)) return values;  // also catches NaN
  if (values.dim() != 3) throw std::invalid_argument("winsorize: expected [B, rows, H], got " + shape_text(values));
  const int64_t hidden = values.size(2);
  if (values.numel() == 0) return values;
  const torch::Tensor flat = values.reshape({-1, hidden});  // one row per (prompt, layer)
  const int64_t chunk = std::max<int64_t>(1, kQuantileMaxElements / hidden);
  std::vector<torch::Tensor> parts;
  for (int64_t start = 0; start < flat.size(0); start += chunk) {
    const torch::Tensor part = flat.narrow(0, start, std::min(chunk, flat.size(0) - start));
    // Heretic: t = torch.quantile(|x|, q, dim=-1, keepdim=True) (linear interpolation), then
    // clamp(x, -t, t).
    const torch::Tensor threshold = torch::quantile(part.abs(), quantile, /*dim=*/-1, /*keepdim=*/true, "linear");
    parts.push_back(torch::clamp(part, -threshold, threshold));
  }
  return torch::cat(parts, 0).view(values.sizes());
}

ResidualSums::ResidualSums(int64_t rows, int64_t hidden)
    : rows_(rows), hidden_(hidden), sums_(static_cast<size_t>(rows * hidden), 0.0) {
  if (rows < 0 || hidden < 0) throw std::invalid_argument("ResidualSums: negative shape");
}

void ResidualSums::add(const torch::Tensor& states, double winsorization_quantile) {
  if (states.dim() != 3 || states.size(1) != rows_ || states.size(2) != hidden_)
    throw std::invalid_argument("ResidualSums::add: expected [B, " + std::to_string(rows_) + ", " +
                                std::to_string(hidden_) + "] hidden states, got " + shape_text(states));
  if (!states.is_floating_point())
    throw std::invalid_argument("ResidualSums::add: hidden states must be a floating-point tensor");
  if (states.size(0) == 0) return;
  // As Heretic: upcast to float32 (and winsorise) on the states' device, then sum over the
  // batch in float64 and accumulate on the CPU.
  const torch::Tensor batch_sum =
      winsorize(states, winsorization_quantile).sum(0, /*keepdim=*/false, torch::kFloat64).cpu().contiguous();
  const double* values = batch_sum.data_ptr<double>();
  for (size_t i = 0; i < sums_.size(); ++i) sums_[i] += values[i];
  count_ += states.size(0);
}

torch::Tensor ResidualSums::mean() const {
  if (count_ == 0) throw std::logic_error("ResidualSums::mean: no hidden states were added");
  const torch::Tensor sums =
      torch::from_blob(const_cast<double*>(sums_.data()), {rows_, hidden_}, torch::kFloat64);  // read only
  return (sums / static_cast<double>(count_)).to(torch::kFloat32);
}

}  // namespace heretic::ablation
