#include "hf/safetensors_reader.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/json_input.h"

namespace heretic::hf {
namespace fs = std::filesystem;

MappedFile::MappedFile(const fs::path& path) : path_(path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw InputError(path.string() + ": cannot open: " + std::strerror(errno));
  struct stat info {};
  if (::fstat(fd, &info) != 0) {
    const int saved = errno;
    ::close(fd);
    throw InputError(path.string() + ": cannot stat: " + std::strerror(saved));
  }
  size_ = static_cast<uint64_t>(info.st_size);
  if (size_ > 0) {
    // MAP_PRIVATE + PROT_READ: pages come from the page cache, shared by every rank on a node.
    void* mapped = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (mapped == MAP_FAILED) {
      const int saved = errno;
      ::close(fd);
      throw InputError(path.string() + ": cannot mmap: " + std::strerror(saved));
    }
    data_ = static_cast<const std::byte*>(mapped);
  }
  ::close(fd);  // the mapping stays valid without the descriptor
}

void MappedFile::release(const std::byte* begin, uint64_t bytes) const {
  if (data_ == nullptr || bytes == 0 || begin < data_ || begin >= data_ + size_) return;
  const auto page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const uintptr_t first = reinterpret_cast<uintptr_t>(begin) / page * page;
  const uintptr_t end = std::min(reinterpret_cast<uintptr_t>(begin) + bytes, reinterpret_cast<uintptr_t>(data_) + size_);
  // Read-only private pages were never written, so dropping them loses nothing; best effort.
  ::madvise(reinterpret_cast<void*>(first), end - first, MADV_DONTNEED);
}

MappedFile::~MappedFile() {
  if (data_ != nullptr) ::munmap(const_cast<std::byte*>(data_), size_);
}

SafetensorsFile::SafetensorsFile(const fs::path& path)
    : file_(std::make_shared<const MappedFile>(path)),
      header_(parse_safetensors_header(file_->data(), file_->size(), file_->size(), path.string())) {
  for (size_t i = 0; i < header_.tensors.size(); ++i) index_[header_.tensors[i].name] = i;
}

const TensorInfo* SafetensorsFile::find(const std::string& name) const {
  const auto it = index_.find(name);
  return it == index_.end() ? nullptr : &header_.tensors[it->second];
}

namespace {

// weight_map of an index file: tensor name -> shard file name (relative to the folder).
std::map<std::string, std::string> read_weight_map(const fs::path& index_path) {
  std::ifstream stream(index_path, std::ios::binary);
  if (!stream) throw InputError(index_path.string() + ": cannot open");
  const nlohmann::json index =
      parse_json_input(std::string(std::istreambuf_iterator<char>(stream), {}), index_path.string());
  const auto it = index.find("weight_map");
  if (!index.is_object() || it == index.end() || !it->is_object() || it->empty())
    throw InputError(index_path.string() + ": key 'weight_map' is missing or not a non-empty object");
  std::map<std::string, std::string> weight_map;
  for (const auto& item : it->items()) {
    if (!item.value().is_string())
      throw InputError(index_path.string() + ": weight_map['" + item.key() + "'] is not a string");
    const std::string shard = item.value().get<std::string>();
    // Shards must sit in the folder itself: a path must not escape it.
    if (shard.empty() || shard.find('/') != std::string::npos || shard == "." || shard == "..")
      throw InputError(index_path.string() + ": weight_map['" + item.key() + "'] names '" + shard +
                       "', which is not a file name in the folder");
    weight_map[item.key()] = shard;
  }
  return weight_map;
}

}  // namespace

SafetensorsCheckpoint SafetensorsCheckpoint::open(const fs::path& folder) {
  SafetensorsCheckpoint checkpoint;
  checkpoint.folder_ = folder;
  const fs::path index_path = folder / "model.safetensors.index.json";
  const fs::path single_path = folder / "model.safetensors";

  if (fs::exists(index_path)) {
    const auto weight_map = read_weight_map(index_path);
    std::map<std::string, const SafetensorsFile*> shards;
    for (const auto& [name, shard] : weight_map) {
      if (shards.count(shard) == 0) {
        const fs::path shard_path = folder / shard;
        if (!fs::exists(shard_path))
          throw InputError(index_path.string() + ": weight_map['" + name + "'] names shard '" + shard +
                           "', which does not exist in " + folder.string());
        checkpoint.files_.push_back(std::make_unique<SafetensorsFile>(shard_path));
        shards[shard] = checkpoint.files_.back().get();
      }
      const SafetensorsFile* file = shards[shard];
      const TensorInfo* info = file->find(name);
      if (info == nullptr)
        throw InputError(index_path.string() + ": weight_map['" + name + "'] says shard '" + shard +
                         "', but that file has no such tensor");
      checkpoint.locations_[name] = TensorLocation{file, info};
    }
    return checkpoint;
  }
  if (fs::exists(single_path)) {
    checkpoint.files_.push_back(std::make_unique<SafetensorsFile>(single_path));
    const SafetensorsFile* file = checkpoint.files_.back().get();
    for (const TensorInfo& info : file->tensors()) checkpoint.locations_[info.name] = TensorLocation{file, &info};
    return checkpoint;
  }
  throw InputError(folder.string() + ": no model.safetensors or model.safetensors.index.json " +
                   "(only safetensors checkpoints are supported; convert .bin/.pth first)");
}

TensorLocation SafetensorsCheckpoint::at(const std::string& name) const {
  const auto it = locations_.find(name);
  if (it == locations_.end()) throw InputError(folder_.string() + ": the checkpoint has no tensor '" + name + "'");
  return it->second;
}

std::vector<std::string> SafetensorsCheckpoint::tensor_names() const {
  std::vector<std::string> names;
  names.reserve(locations_.size());
  for (const auto& item : locations_) names.push_back(item.first);
  return names;
}

uint64_t SafetensorsCheckpoint::total_bytes() const {
  uint64_t total = 0;
  for (const auto& item : locations_) total += item.second.info->byte_size();
  return total;
}

}  // namespace heretic::hf
