// Memory-mapped reading of safetensors checkpoints: one file, or a sharded checkpoint
// described by model.safetensors.index.json. Torch-free: callers get raw bytes plus a
// TensorInfo; src/model wraps them in tensors.
#pragma once

#include <cstddef>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "hf/safetensors_format.h"

namespace heretic::hf {

// A read-only private mapping of a whole file; unmapped on destruction.
class MappedFile {
 public:
  explicit MappedFile(const std::filesystem::path& path);  // throws InputError
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const std::byte* data() const { return data_; }
  uint64_t size() const { return size_; }
  const std::filesystem::path& path() const { return path_; }
  // Drops the pages of [begin, begin + bytes) from this process's resident memory once a caller
  // has copied what it needs from them (a tensor-parallel slice, a dtype conversion): they stay
  // in the page cache, and a later read maps them in again with the same bytes.
  void release(const std::byte* begin, uint64_t bytes) const;

 private:
  std::filesystem::path path_;
  const std::byte* data_ = nullptr;
  uint64_t size_ = 0;
};

// One validated .safetensors file.
class SafetensorsFile {
 public:
  explicit SafetensorsFile(const std::filesystem::path& path);  // throws InputError

  const std::filesystem::path& path() const { return file_->path(); }
  const std::vector<TensorInfo>& tensors() const { return header_.tensors; }
  const std::map<std::string, std::string>& metadata() const { return header_.metadata; }
  // nullptr when the file has no tensor of that name.
  const TensorInfo* find(const std::string& name) const;
  // First byte of the tensor's data inside the mapping.
  const std::byte* data(const TensorInfo& tensor) const { return file_->data() + header_.data_start + tensor.begin; }
  // Keeps the mapping alive for as long as a caller holds views into it.
  std::shared_ptr<const MappedFile> mapping() const { return file_; }

 private:
  std::shared_ptr<const MappedFile> file_;
  SafetensorsHeader header_;
  std::map<std::string, size_t> index_;  // name -> position in header_.tensors
};

// A tensor located in a checkpoint: its file and its entry there.
struct TensorLocation {
  const SafetensorsFile* file = nullptr;
  const TensorInfo* info = nullptr;
  const std::byte* data() const { return file->data(*info); }
};

// All .safetensors files of a model folder, addressed by tensor name.
class SafetensorsCheckpoint {
 public:
  // Opens <folder>/model.safetensors.index.json (sharded) if present, else
  // <folder>/model.safetensors. Throws InputError naming the file and key on any problem.
  static SafetensorsCheckpoint open(const std::filesystem::path& folder);

  const std::filesystem::path& folder() const { return folder_; }
  bool contains(const std::string& name) const { return locations_.count(name) != 0; }
  // Throws InputError naming the folder and the missing tensor.
  TensorLocation at(const std::string& name) const;
  std::vector<std::string> tensor_names() const;  // sorted
  const std::vector<std::unique_ptr<SafetensorsFile>>& files() const { return files_; }
  uint64_t total_bytes() const;  // sum of tensor byte sizes

 private:
  std::filesystem::path folder_;
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::map<std::string, TensorLocation> locations_;
};

}  // namespace heretic::hf
