#include "model/kv_cache.h"

#include <stdexcept>
#include <string>

namespace heretic::model {

KVCache::KVCache(int64_t layers, int64_t batch, int64_t kv_heads, int64_t capacity, int64_t head_dim,
                 const torch::TensorOptions& options, int64_t first_layer)
    : first_layer_(first_layer), batch_(batch), capacity_(capacity) {
  for (int64_t i = 0; i < layers; ++i) {
    keys_.push_back(torch::empty({batch, kv_heads, capacity, head_dim}, options));
    values_.push_back(torch::empty({batch, kv_heads, capacity, head_dim}, options));
  }
}

std::pair<torch::Tensor, torch::Tensor> KVCache::append(int64_t layer, const torch::Tensor& keys,
                                                        const torch::Tensor& values) {
  const int64_t tokens = keys.size(2);
  if (length_ + tokens > capacity_) throw std::logic_error("KVCache: capacity exceeded");
  if (layer < first_layer_ || layer - first_layer_ >= static_cast<int64_t>(keys_.size()))
    throw std::logic_error("KVCache: layer " + std::to_string(layer) + " is not cached here");
  auto& key_store = keys_[static_cast<size_t>(layer - first_layer_)];
  auto& value_store = values_[static_cast<size_t>(layer - first_layer_)];
  key_store.narrow(2, length_, tokens).copy_(keys);
  value_store.narrow(2, length_, tokens).copy_(values);
  return {key_store.narrow(2, 0, length_ + tokens), value_store.narrow(2, 0, length_ + tokens)};
}

KVCache KVCache::rows(int64_t begin, int64_t count) const {
  KVCache view;
  for (const auto& key : keys_) view.keys_.push_back(key.narrow(0, begin, count));
  for (const auto& value : values_) view.values_.push_back(value.narrow(0, begin, count));
  view.first_layer_ = first_layer_;
  view.batch_ = count;
  view.capacity_ = capacity_;
  view.length_ = length_;
  return view;
}

void KVCache::keep_rows(const torch::Tensor& rows) {
  for (auto& key : keys_) key = key.index_select(0, rows);
  for (auto& value : values_) value = value.index_select(0, rows);
  batch_ = rows.size(0);
}

}  // namespace heretic::model
