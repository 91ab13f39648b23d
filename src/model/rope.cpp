#include "model/rope.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "common/error.h"

namespace heretic::model {
namespace {

// base ** (arange(0, dim, 2) / dim) in float32, as transformers computes it.
torch::Tensor base_powers(double base, int64_t dim) {
  const torch::Tensor exponents =
      torch::arange(0, dim, 2, torch::kInt64).to(torch::kFloat32) / static_cast<double>(dim);
  return torch::pow(base, exponents);  // [dim / 2] float32
}

// Python's `1.0 / tensor` is reciprocal() * 1.0.
torch::Tensor default_inv_freq(double base, int64_t dim) { return torch::reciprocal(base_powers(base, dim)); }

torch::Tensor llama3_inv_freq(const hf::RopeParameters& p, double base, int64_t dim) {
  const torch::Tensor inv_freq = default_inv_freq(base, dim);
  const double factor = *p.factor;
  const double original = static_cast<double>(*p.original_max_position_embeddings);
  const double low_freq_wavelen = original / p.low_freq_factor;
  const double high_freq_wavelen = original / p.high_freq_factor;
  const torch::Tensor wavelen = torch::reciprocal(inv_freq) * (2.0 * M_PI);
  torch::Tensor scaled = torch::where(wavelen > low_freq_wavelen, inv_freq / factor, inv_freq);
  const torch::Tensor smooth =
      (torch::reciprocal(wavelen) * original - p.low_freq_factor) / (p.high_freq_factor - p.low_freq_factor);
  const torch::Tensor smoothed = (1.0 - smooth) * scaled / factor + smooth * scaled;
  const torch::Tensor medium =
      torch::logical_not(wavelen < high_freq_wavelen) * torch::logical_not(wavelen > low_freq_wavelen);
  return torch::where(medium, smoothed, scaled);
}

double yarn_mscale(double scale, double mscale = 1.0) {
  return scale <= 1.0 ? 1.0 : 0.1 * mscale * std::log(scale) + 1.0;
}

torch::Tensor yarn_inv_freq(const hf::RopeParameters& p, double base, int64_t dim, int64_t max_position_embeddings,
                            double& attention_scaling) {
  const double original = static_cast<double>(*p.original_max_position_embeddings);
  const double factor = p.factor ? *p.factor : static_cast<double>(max_position_embeddings) / original;
  if (p.attention_factor) {
    attention_scaling = *p.attention_factor;
  } else if (p.mscale && p.mscale_all_dim) {
    attention_scaling = yarn_mscale(factor, *p.mscale) / yarn_mscale(factor, *p.mscale_all_dim);
  } else {
    attention_scaling = yarn_mscale(factor);
  }
  const auto correction_dim = [&](double rotations) {
    return (static_cast<double>(dim) * std::log(original / (rotations * 2.0 * M_PI))) / (2.0 * std::log(base));
  };
  double low = correction_dim(p.beta_fast);
  double high = correction_dim(p.beta_slow);
  if (p.truncate) {
    low = std::floor(low);
    high = std::ceil(high);
  }
  low = std::max(low, 0.0);
  high = std::min(high, static_cast<double>(dim - 1));
  if (low == high) high += 0.001;  // avoid a division by zero in the ramp

  const torch::Tensor pos_freqs = base_powers(base, dim);
  const torch::Tensor extrapolation = torch::reciprocal(pos_freqs);
  const torch::Tensor interpolation = torch::reciprocal(factor * pos_freqs);
  const torch::Tensor ramp = torch::clamp((torch::arange(dim / 2, torch::kFloat32) - low) / (high - low), 0, 1);
  const torch::Tensor extrapolation_factor = 1.0 - ramp;
  return interpolation * (1.0 - extrapolation_factor) + extrapolation * extrapolation_factor;
}

// Dynamic NTK: a larger base once the sequence outgrows the trained length.
torch::Tensor dynamic_inv_freq(double base, double factor, int64_t dim, int64_t seq_len,
                               int64_t max_position_embeddings) {
  const double ratio =
      factor * static_cast<double>(seq_len) / static_cast<double>(max_position_embeddings) - (factor - 1.0);
  const double scaled_base = base * std::pow(ratio, static_cast<double>(dim) / static_cast<double>(dim - 2));
  return default_inv_freq(scaled_base, dim);
}

// Longrope (Phi-3): inv_freq = 1 / (ext * base^(arange(0, dim, 2) / dim)) for the short or the
// long factors.
torch::Tensor longrope_inv_freq(const std::vector<double>& factors, double base, int64_t dim) {
  const torch::Tensor ext = torch::tensor(factors, torch::kFloat64).to(torch::kFloat32);  // [dim / 2]
  return torch::reciprocal(ext * base_powers(base, dim));
}

// transformers' longrope attention factor: explicit, else from the context extension factor,
// which is max_position_embeddings / original whenever the config has a top-level
// original_max_position_embeddings (Phi-3), else rope_scaling's factor.
double longrope_attention_scaling(const hf::RopeParameters& p, int64_t max_position_embeddings) {
  if (p.attention_factor) return *p.attention_factor;
  const double original = static_cast<double>(*p.original_max_position_embeddings);
  double factor = static_cast<double>(max_position_embeddings) / original;
  if (p.factor && !p.original_max_at_top_level) factor = *p.factor;
  return factor <= 1.0 ? 1.0 : std::sqrt(1.0 + std::log(factor) / std::log(original));
}

}  // namespace

RotaryEmbedding::RotaryEmbedding(const hf::RopeParameters& parameters, int64_t head_dim,
                                 int64_t max_position_embeddings)
    : parameters_(parameters), max_position_embeddings_(max_position_embeddings) {
  rotary_dim_ = static_cast<int64_t>(static_cast<double>(head_dim) * parameters.partial_rotary_factor);
  rotary_dim_ -= rotary_dim_ % 2;
  const double base = parameters.rope_theta.value_or(10000.0);
  const std::string& type = parameters.rope_type;
  if (type == "default" || type == "dynamic") {
    inv_freq_ = default_inv_freq(base, rotary_dim_);
  } else if (type == "linear") {
    inv_freq_ = default_inv_freq(base, rotary_dim_) / *parameters.factor;
  } else if (type == "llama3") {
    inv_freq_ = llama3_inv_freq(parameters, base, rotary_dim_);
  } else if (type == "yarn") {
    inv_freq_ = yarn_inv_freq(parameters, base, rotary_dim_, max_position_embeddings, attention_scaling_);
  } else if (type == "longrope") {
    const auto half = static_cast<size_t>(rotary_dim_ / 2);
    if (parameters.short_factor.size() != half || parameters.long_factor.size() != half)
      throw std::invalid_argument("longrope needs rotary_dim / 2 short and long factors");
    inv_freq_ = longrope_inv_freq(parameters.short_factor, base, rotary_dim_);
    long_inv_freq_ = longrope_inv_freq(parameters.long_factor, base, rotary_dim_);
    attention_scaling_ = longrope_attention_scaling(parameters, max_position_embeddings);
  } else {
    throw InputError("rope_type '" + type + "' is not implemented for this model family");
  }
  original_inv_freq_ = inv_freq_;
  cached_length_ = max_position_embeddings;
}

int64_t RotaryEmbedding::switch_length() const {
  return parameters_.rope_type == "longrope" ? *parameters_.original_max_position_embeddings : 0;
}

std::pair<torch::Tensor, torch::Tensor> RotaryEmbedding::cos_sin(const torch::Tensor& position_ids,
                                                                 torch::ScalarType dtype, int64_t sequence_length) {
  const auto seq_length = [&] {
    return sequence_length > 0 ? sequence_length : position_ids.max().item<int64_t>() + 1;
  };
  if (parameters_.rope_type == "longrope") {
    // transformers' longrope_frequency_update: long factors once the sequence is longer than
    // the original context, short ones otherwise (keys already cached keep their rotation).
    const bool use_long = seq_length() > *parameters_.original_max_position_embeddings;
    if (use_long != long_active_) {
      long_active_ = use_long;
      inv_freq_on_device_ = torch::Tensor();
    }
  }
  if (parameters_.rope_type == "dynamic") {
    // transformers' dynamic_rope_update: grow when longer than seen, reset when back in range.
    const int64_t seq_len = seq_length();
    if (seq_len > cached_length_) {
      inv_freq_ = dynamic_inv_freq(parameters_.rope_theta.value_or(10000.0), *parameters_.factor, rotary_dim_, seq_len,
                                   max_position_embeddings_);
      cached_length_ = seq_len;
      inv_freq_on_device_ = torch::Tensor();
    } else if (seq_len < max_position_embeddings_ && cached_length_ > max_position_embeddings_) {
      inv_freq_ = original_inv_freq_;
      cached_length_ = max_position_embeddings_;
      inv_freq_on_device_ = torch::Tensor();
    }
  }
  if (!inv_freq_on_device_.defined() || cached_device_ != position_ids.device()) {
    inv_freq_on_device_ = (long_active_ ? long_inv_freq_ : inv_freq_).to(position_ids.device());
    cached_device_ = position_ids.device();
  }
  // freqs[b, t, j] = inv_freq[j] * position[b, t], float32.
  const torch::Tensor freqs = position_ids.to(torch::kFloat32).unsqueeze(-1) * inv_freq_on_device_;  // [B, T, rd/2]
  const torch::Tensor emb = torch::cat({freqs, freqs}, -1);                                          // [B, T, rd]
  torch::Tensor cos = emb.cos();
  torch::Tensor sin = emb.sin();
  if (attention_scaling_ != 1.0) {
    cos = cos * attention_scaling_;
    sin = sin * attention_scaling_;
  }
  return {cos.to(dtype), sin.to(dtype)};
}

torch::Tensor RotaryEmbedding::apply(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin) {
  const int64_t rd = cos.size(-1);
  const torch::Tensor c = cos.unsqueeze(1);  // [B, 1, T, rd], broadcast over heads
  const torch::Tensor s = sin.unsqueeze(1);
  const bool partial = rd < x.size(-1);
  const torch::Tensor rotated_part = partial ? x.narrow(-1, 0, rd) : x;
  const torch::Tensor first = rotated_part.narrow(-1, 0, rd / 2);
  const torch::Tensor second = rotated_part.narrow(-1, rd / 2, rd / 2);
  const torch::Tensor rotate_half = torch::cat({-second, first}, -1);
  torch::Tensor out = rotated_part * c + rotate_half * s;
  if (partial) out = torch::cat({out, x.narrow(-1, rd, x.size(-1) - rd)}, -1);
  return out;
}

}  // namespace heretic::model
