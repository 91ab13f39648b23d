// Per-layer key/value cache for incremental decoding. Storage is allocated once for the
// whole generation (prompt + max_new_tokens slots) so that a decode step writes in place
// instead of concatenating; rows of finished sequences are dropped with keep_rows().
#pragma once

#include <torch/utils.h>

#include <vector>

namespace heretic::model {

class KVCache {
 public:
  // Storage for `layers` layers of [batch, kv_heads, capacity, head_dim] in `options`, the
  // layers first_layer .. first_layer + layers - 1 (a pipeline stage caches only its own).
  KVCache(int64_t layers, int64_t batch, int64_t kv_heads, int64_t capacity, int64_t head_dim,
          const torch::TensorOptions& options, int64_t first_layer = 0);

  int64_t length() const { return length_; }  // slots filled so far (S of the last call)
  int64_t capacity() const { return capacity_; }
  int64_t batch() const { return batch_; }

  // Writes this call's k, v [B, kv_heads, T, hd] after the filled slots of `layer` and returns
  // views of all filled slots [B, kv_heads, length + T, hd]. Call for every layer, then advance().
  std::pair<torch::Tensor, torch::Tensor> append(int64_t layer, const torch::Tensor& keys, const torch::Tensor& values);
  void advance(int64_t tokens) { length_ += tokens; }
  // Forgets every slot; the next append() writes from slot 0 (a full recompute).
  void reset() { length_ = 0; }

  // Rows begin .. begin + count - 1 as a cache of their own, sharing this one's storage and
  // length: what a micro-batch of the batch appends to (pipeline_stages.h). Advance this cache
  // once every micro-batch has appended, not the views.
  KVCache rows(int64_t begin, int64_t count) const;

  // Keeps only the given rows (int64 indices into the current batch), e.g. unfinished ones.
  void keep_rows(const torch::Tensor& rows);

 private:
  KVCache() = default;

  std::vector<torch::Tensor> keys_;    // per layer [B, kv_heads, capacity, hd]
  std::vector<torch::Tensor> values_;  // per layer [B, kv_heads, capacity, hd]
  int64_t first_layer_ = 0;
  int64_t batch_ = 0;
  int64_t capacity_ = 0;
  int64_t length_ = 0;
};

}  // namespace heretic::model
