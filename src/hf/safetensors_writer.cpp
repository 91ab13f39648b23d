#include "hf/safetensors_writer.h"

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>

#include "common/error.h"
#include "common/fault_injection.h"

namespace heretic::hf {
namespace fs = std::filesystem;

namespace {

uint64_t byte_size(const TensorToWrite& tensor) {
  uint64_t bytes = dtype_size(tensor.dtype);
  for (const int64_t dim : tensor.shape) bytes *= static_cast<uint64_t>(dim);
  return bytes;
}

void write_or_throw(std::ofstream& stream, const void* data, uint64_t size, const fs::path& path) {
  fault_point("safetensors_write", [&] {
    stream.write(static_cast<const char*>(data), static_cast<std::streamsize>(size / 2));
    stream.flush();
  });
  stream.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
  if (!stream) throw InputError(path.string() + ": write failed (disk full?)");
}

}  // namespace

void write_safetensors_file(const fs::path& path, const std::vector<TensorToWrite>& tensors,
                            const std::map<std::string, std::string>& metadata) {
  nlohmann::json header = nlohmann::json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::set<std::string> names;
  uint64_t offset = 0;
  for (const TensorToWrite& tensor : tensors) {
    if (!names.insert(tensor.name).second)
      throw InputError(path.string() + ": tensor '" + tensor.name + "' given twice");
    const uint64_t size = byte_size(tensor);
    header[tensor.name] = {
        {"dtype", dtype_name(tensor.dtype)}, {"shape", tensor.shape}, {"data_offsets", {offset, offset + size}}};
    offset += size;
  }
  std::string text = header.dump();
  // Pad with spaces to a multiple of 8 so that the data section is 8-byte aligned.
  text.append((8 - text.size() % 8) % 8, ' ');

  std::ofstream stream(path, std::ios::binary | std::ios::trunc);
  if (!stream) throw InputError(path.string() + ": cannot create");
  unsigned char length[8];
  uint64_t header_size = text.size();
  for (unsigned char& byte : length) {
    byte = static_cast<unsigned char>(header_size & 0xff);
    header_size >>= 8;
  }
  write_or_throw(stream, length, 8, path);
  write_or_throw(stream, text.data(), text.size(), path);
  for (const TensorToWrite& tensor : tensors) {
    if (!tensor.produce) {
      write_or_throw(stream, tensor.data, byte_size(tensor), path);
      continue;
    }
    uint64_t produced = 0;
    tensor.produce([&](const std::byte* data, uint64_t size) {
      write_or_throw(stream, data, size, path);
      produced += size;
    });
    if (produced != byte_size(tensor)) {
      throw std::logic_error(path.string() + ": tensor '" + tensor.name + "' produced " + std::to_string(produced) +
                             " bytes, its header says " + std::to_string(byte_size(tensor)));
    }
  }
  stream.close();
  if (!stream) throw InputError(path.string() + ": close failed");
}

std::vector<std::string> write_safetensors_checkpoint(const fs::path& folder, const std::vector<TensorToWrite>& tensors,
                                                      uint64_t max_shard_bytes) {
  std::error_code error;
  fs::create_directories(folder, error);
  if (error) throw InputError(folder.string() + ": cannot create folder: " + error.message());

  // Greedy packing in the given order, as transformers' split_torch_state_dict_into_shards.
  std::vector<std::vector<const TensorToWrite*>> shards(1);
  uint64_t shard_bytes = 0;
  uint64_t total_bytes = 0;
  for (const TensorToWrite& tensor : tensors) {
    const uint64_t size = byte_size(tensor);
    if (!shards.back().empty() && shard_bytes + size > max_shard_bytes) {
      shards.emplace_back();
      shard_bytes = 0;
    }
    shards.back().push_back(&tensor);
    shard_bytes += size;
    total_bytes += size;
  }

  auto copy_of = [](const std::vector<const TensorToWrite*>& shard) {
    std::vector<TensorToWrite> result;
    for (const TensorToWrite* tensor : shard) result.push_back(*tensor);
    return result;
  };
  if (shards.size() == 1) {
    write_safetensors_file(folder / "model.safetensors", copy_of(shards[0]));
    return {"model.safetensors"};
  }

  std::vector<std::string> written;
  nlohmann::json weight_map = nlohmann::json::object();
  const size_t count = shards.size();
  for (size_t i = 0; i < count; ++i) {
    char name[64];
    std::snprintf(name, sizeof(name), "model-%05zu-of-%05zu.safetensors", i + 1, count);
    write_safetensors_file(folder / name, copy_of(shards[i]));
    for (const TensorToWrite* tensor : shards[i]) weight_map[tensor->name] = name;
    written.push_back(name);
  }
  const nlohmann::json index = {{"metadata", {{"total_size", total_bytes}}}, {"weight_map", weight_map}};
  const fs::path index_path = folder / "model.safetensors.index.json";
  std::ofstream stream(index_path, std::ios::trunc);
  stream << index.dump(2) << "\n";
  stream.close();
  if (!stream) throw InputError(index_path.string() + ": write failed");
  written.push_back("model.safetensors.index.json");
  return written;
}

}  // namespace heretic::hf
