// Attention masks over cache slots and the attention kernel (architectures.md §1.6, §1.7).
// With libtorch >= 2.1 the kernel is at::scaled_dot_product_attention; otherwise (Debian's
// 1.13), and for soft-capped scores, an eager implementation with transformers' exact op order.
#pragma once

#include <torch/utils.h>

namespace heretic::model {

// Which key slots each query may see, for one window size.
struct AttentionMask {
  torch::Tensor allowed;   // [B, 1, T, S] bool, true = attend
  torch::Tensor additive;  // [B, 1, T, S] model dtype: 0 or finfo(dtype).min (finite)
  // True when the mask is plain causal or all-true (no padding, window not reached), so a
  // kernel may skip it as transformers does.
  bool trivial = false;

  // The rows of the last query only: [B, 1, 1, S].
  AttentionMask last_query() const;
};

// Slots are cache positions 0..S-1 (pads included); query i sits at slot past + i with
// past = S - T. Allowed(b, q, k) = k <= q && mask2d[b, k] && (window == 0 || k > q - window).
// `attention_mask` is [B, S] (1 = real token).
AttentionMask build_attention_mask(const torch::Tensor& attention_mask, int64_t query_count, int64_t window,
                                   torch::ScalarType dtype);

// q [B, nH, Tq, hd], k and v [B, nKV, S, hd] -> [B, Tq, nH * hd] (heads concatenated).
// `softcap` > 0 caps the scaled scores at tanh(s / softcap) * softcap before the mask (Gemma 2),
// which only transformers' eager attention does; such calls always take the eager path.
// `sinks` [nH], when defined, are gpt-oss' attention sinks: each head's logit joins its softmax
// as an extra column (after the row maximum is subtracted), and that column is dropped after it,
// so a head's weights sum to less than 1; computed eagerly as transformers does.
torch::Tensor attend(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v, const AttentionMask& mask,
                     double scaling, double softcap = 0.0, const torch::Tensor& sinks = {});

// True when attend() uses at::scaled_dot_product_attention in this build.
bool attention_uses_sdpa();

}  // namespace heretic::model
