// Tensor parallelism (Megatron-style) inside one model copy: the ranks of a group each hold an
// equal, contiguous part of every block's attention heads, KV heads and MLP intermediate
// columns. q/k/v and gate/up are split by output rows (column-parallel), o_proj and down_proj
// by input columns (row-parallel); their partial outputs are summed over the group before the
// ablation transform and the bias, so every rank continues with the full hidden vector.
// Embeddings, norms and the LM head are replicated. This header is torch-free; the collective
// itself is TensorParallelGroup (tensor_parallel_group.h).
#pragma once

#include <cstdint>
#include <string>

namespace heretic::model {

struct ModelInfo;

// Which part of a split dimension one rank holds: part `index` of `parts` equal parts.
struct TensorSplit {
  int index = 0;
  int parts = 1;

  bool whole() const { return parts == 1; }
  int64_t length(int64_t total) const { return total / parts; }
  int64_t start(int64_t total) const { return length(total) * index; }
};

// The KV heads one rank holds, first .. first + count - 1: its equal share when `parts`
// divides num_key_value_heads; else (parts a multiple of it) the one KV head that its query
// heads attend with, replicated on parts / num_key_value_heads ranks.
struct HeadRange {
  int64_t first = 0;
  int64_t count = 0;
};
HeadRange kv_heads_of(const TensorSplit& split, int64_t num_kv_heads);

// Why `info` cannot be split into `parts` (the dimension and its size, named as config.json
// names it), or "" when it can. parts must divide num_attention_heads and intermediate_size,
// and divide or be a multiple of num_key_value_heads.
std::string tensor_parallel_problem(const ModelInfo& info, int parts);

}  // namespace heretic::model
