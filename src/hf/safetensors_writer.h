// Writing safetensors checkpoints for export: one file, or shards of at most max_shard_size
// bytes plus model.safetensors.index.json, laid out the way transformers' save_pretrained
// does (model-00001-of-00003.safetensors, ...). Torch-free: tensors are byte spans.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "hf/safetensors_format.h"

namespace heretic::hf {

// A tensor's bytes as they are written: handed to `write` in one or more pieces.
using ByteSink = std::function<void(const std::byte* data, uint64_t size)>;

struct TensorToWrite {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;
  const std::byte* data = nullptr;  // byte size = dtype_size x elements; owned by the caller
  // Instead of `data`: computes the bytes when the writer reaches this tensor and passes them to
  // the sink (exactly dtype_size x elements in all), so that a computed tensor needs memory only
  // while it is written.
  std::function<void(const ByteSink& write)> produce = nullptr;
};

// Writes one safetensors file holding `tensors` (data in the order given) and `metadata`.
// Throws InputError when the file cannot be written.
void write_safetensors_file(const std::filesystem::path& path, const std::vector<TensorToWrite>& tensors,
                            const std::map<std::string, std::string>& metadata = {{"format", "pt"}});

// Writes `tensors` into `folder`. If their total size fits in max_shard_bytes, one
// model.safetensors; otherwise consecutive shards, each at most max_shard_bytes unless a
// single tensor is larger (it then gets a shard of its own), plus the index file.
// Returns the names of the files written.
std::vector<std::string> write_safetensors_checkpoint(const std::filesystem::path& folder,
                                                      const std::vector<TensorToWrite>& tensors,
                                                      uint64_t max_shard_bytes);

}  // namespace heretic::hf
