#include "ablation/export.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>
#include <system_error>
#include <utility>

#include "common/error.h"
#include "common/fault_injection.h"
#include "common/leftovers.h"
#include "hf/safetensors_reader.h"
#include "hf/safetensors_writer.h"
#include "model/model_info.h"
#include "model/quantized_tensor.h"
#include "model/tensor_view.h"

namespace heretic::ablation {
namespace fs = std::filesystem;

namespace {

// Files of a Hugging Face folder that describe the model or its tokenizer, copied as they are
// when present. The source's safetensors files and index are rewritten, and README.md is
// replaced by the request's model card, so neither is listed.
constexpr const char* kCopiedFiles[] = {
    "config.json",
    "generation_config.json",
    "preprocessor_config.json",  // multimodal wrappers: the image processor (Gemma 3, Mistral 3)
    "processor_config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "added_tokens.json",
    "chat_template.jinja",
    "chat_template.json",
    "vocab.json",
    "vocab.txt",
    "merges.txt",
    "tokenizer.model",
};
// transformers >= 4.54 saves named chat templates as one file each in this folder.
constexpr const char* kCopiedFolder = "additional_chat_templates";

// "out/" and "out" name the same folder; the temporary sibling is built from the last part.
fs::path without_trailing_separator(const fs::path& path) {
  fs::path normal = path.lexically_normal();
  if (!normal.has_filename() && normal.has_parent_path() && normal != normal.root_path()) normal = normal.parent_path();
  return normal;
}

fs::path sibling(const fs::path& folder, const std::string& suffix) {
  return folder.parent_path() / (folder.filename().string() + suffix + std::to_string(::getpid()));
}

// True when `inner` is `outer` or lies inside it (both must exist).
bool is_same_or_inside(const fs::path& inner, const fs::path& outer) {
  std::error_code error;
  const fs::path a = fs::weakly_canonical(inner, error);
  if (error) return false;
  const fs::path b = fs::weakly_canonical(outer, error);
  if (error) return false;
  const auto mismatch = std::mismatch(b.begin(), b.end(), a.begin(), a.end());
  return mismatch.first == b.end();
}

// The temporary folder the export is written into; removed unless the export completed.
class TemporaryFolder {
 public:
  explicit TemporaryFolder(fs::path path) : path_(std::move(path)) {}
  ~TemporaryFolder() {
    if (path_.empty()) return;
    std::error_code error;
    fs::remove_all(path_, error);
  }
  TemporaryFolder(const TemporaryFolder&) = delete;
  TemporaryFolder& operator=(const TemporaryFolder&) = delete;

  const fs::path& path() const { return path_; }
  void release() { path_.clear(); }

 private:
  fs::path path_;
};

// The checkpoint tensor name of every planned module, with its entry of the plan.
std::map<std::string, const ModuleAblation*> planned_tensors(const model::ModelInfo& info,
                                                             const std::vector<ModuleAblation>& plan) {
  std::map<std::string, const ModuleAblation*> planned;
  for (const ModuleAblation& module : plan) {
    const std::string name = info.module_name(module.layer, module.component) + ".weight";
    // plan_ablation never repeats a module; a repeated one would have no single merged weight.
    if (!planned.emplace(name, &module).second)
      throw std::invalid_argument("export_ablated_model: the plan names '" + name + "' twice");
  }
  return planned;
}

// The merged weight of one planned module: `weight` [out, in] float32 (the checkpoint's tensor,
// dequantised when it is stored quantised) merged with the module's direction. Working memory:
// merged_weight's float32 temporaries.
torch::Tensor merged_tensor(const hf::TensorLocation& location, const torch::Tensor& weight,
                            const ModuleAblation& module, config::RowNormalization mode) {
  const hf::TensorInfo& info = *location.info;
  const std::string label = location.file->path().string() + ": tensor '" + info.name + "'";
  if (info.shape.size() != 2) throw InputError(label + " is not a matrix, so it cannot be ablated");
  if (!module.direction.defined() || module.direction.dim() != 1 || module.direction.size(0) != info.shape[0])
    throw InputError(label + " has " + std::to_string(info.shape[0]) + " output rows, but the refusal direction has " +
                     (module.direction.defined() ? std::to_string(module.direction.numel()) : std::string("no")) +
                     " elements (directions from another model?)");
  const torch::Tensor direction = module.direction.to(torch::kCPU, torch::kFloat32);  // [out]
  return merged_weight(weight, direction, module.weight, mode);                      // [out, in] float32
}

// A block-FP8 source (quantization_config quant_method "fp8") is exported dequantised: every
// float8 weight is written in `dequantized_dtype` (merged or not), its <name>_scale_inv is left
// out, and config.json loses quantization_config, so that the export is an ordinary checkpoint
// that transformers and this program load alike. Unquantised tensors are copied byte for byte.
bool is_float8(const hf::TensorInfo& info) {
  return info.dtype == hf::DType::kF8E4M3 || info.dtype == hf::DType::kF8E5M2;
}

// The dtype dequantised weights are written in: the checkpoint's own unquantised dtype (that of
// its embedding matrix), bfloat16 when that is quantised too.
hf::DType dequantized_dtype(const hf::SafetensorsCheckpoint& checkpoint, const model::ModelInfo& info) {
  const hf::DType embed = checkpoint.at(info.tensor_name(model::TensorRole::kEmbedTokens) + ".weight").info->dtype;
  return hf::is_compute_dtype(embed) ? embed : hf::DType::kBF16;
}

// Rewrites the exported config.json without quantization_config (top level or text_config).
void remove_quantization_config(const fs::path& config_json) {
  std::ifstream stream(config_json, std::ios::binary);
  nlohmann::ordered_json config = nlohmann::ordered_json::parse(std::string(std::istreambuf_iterator<char>(stream), {}));
  config.erase("quantization_config");
  if (config.contains("text_config") && config["text_config"].is_object()) config["text_config"].erase("quantization_config");
  std::ofstream out(config_json, std::ios::binary | std::ios::trunc);
  out << config.dump(2) << "\n";
  out.close();
  if (!out) throw InputError(config_json.string() + ": write failed (disk full?)");
}

// Every tensor of the checkpoint once, file by file in name order (model-00001-of-... first)
// and in data-offset order inside a file, so that the export keeps the source's layout.
std::vector<hf::TensorLocation> tensors_in_file_order(const hf::SafetensorsCheckpoint& checkpoint) {
  std::vector<const hf::SafetensorsFile*> files;
  for (const auto& file : checkpoint.files()) files.push_back(file.get());
  std::sort(files.begin(), files.end(), [](const hf::SafetensorsFile* a, const hf::SafetensorsFile* b) {
    return a->path().filename() < b->path().filename();
  });
  std::vector<hf::TensorLocation> locations;
  for (const hf::SafetensorsFile* file : files)
    for (const hf::TensorInfo& info : file->tensors()) {
      // A shard may hold tensors the index does not list; the index decides what the model is.
      if (!checkpoint.contains(info.name)) continue;
      const hf::TensorLocation location = checkpoint.at(info.name);
      if (location.file == file) locations.push_back(location);
    }
  return locations;
}

void copy_model_files(const fs::path& source, const fs::path& target, std::vector<std::string>& written) {
  for (const char* name : kCopiedFiles) {
    const fs::path from = source / name;
    std::error_code error;
    const fs::file_status status = fs::status(from, error);  // follows hub-cache symlinks
    if (!fs::exists(status)) continue;
    if (!fs::is_regular_file(status)) throw InputError(from.string() + ": is not a regular file");
    if (!fs::copy_file(from, target / name, error) || error)
      throw InputError(from.string() + ": cannot copy into " + target.string() + ": " + error.message());
    written.push_back(name);
  }
  const fs::path folder = source / kCopiedFolder;
  std::error_code error;
  if (!fs::is_directory(folder, error)) return;
  fs::copy(folder, target / kCopiedFolder, fs::copy_options::recursive, error);
  if (error) throw InputError(folder.string() + ": cannot copy into " + target.string() + ": " + error.message());
  for (auto it = fs::recursive_directory_iterator(target / kCopiedFolder, error);
       !error && it != fs::recursive_directory_iterator(); it.increment(error))
    if (it->is_regular_file()) written.push_back(it->path().lexically_relative(target).generic_string());
  if (error) throw InputError((target / kCopiedFolder).string() + ": cannot list: " + error.message());
}

// Flushes a file or folder to disk, so that the rename publishes data that survives a crash.
void fsync_path(const fs::path& path, bool folder) {
  const int fd = ::open(path.c_str(), (folder ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
  if (fd < 0) throw InputError(path.string() + ": cannot open to flush it: " + std::strerror(errno));
  const int status = ::fsync(fd);
  const int fsync_errno = errno;
  ::close(fd);
  // Some file systems cannot fsync a folder (EINVAL); the files themselves were flushed.
  if (status != 0 && !(folder && fsync_errno == EINVAL))
    throw InputError(path.string() + ": cannot flush to disk: " + std::strerror(fsync_errno));
}

void fsync_files(const fs::path& folder, const std::vector<std::string>& files) {
  for (const std::string& file : files) fsync_path(folder / file, /*folder=*/false);
  fsync_path(folder, /*folder=*/true);
}

void write_text_file(const fs::path& path, const std::string& text) {
  std::ofstream stream(path, std::ios::binary | std::ios::trunc);
  if (!stream) throw InputError(path.string() + ": cannot create");
  stream.write(text.data(), static_cast<std::streamsize>(text.size()));
  stream.close();
  if (!stream) throw InputError(path.string() + ": write failed (disk full?)");
}

// Makes the complete folder `temporary` appear at `target`. An existing target is moved aside
// first and removed only after the rename succeeded; on failure it is moved back.
void move_into_place(TemporaryFolder& temporary, const fs::path& target) {
  std::error_code error;
  if (!fs::exists(target, error)) {
    fs::rename(temporary.path(), target, error);
    if (error) throw InputError(target.string() + ": cannot rename the finished export into place: " + error.message());
    temporary.release();
    return;
  }
  const fs::path old = sibling(target, ".old-");
  fs::remove_all(old, error);
  fs::rename(target, old, error);
  if (error) throw InputError(target.string() + ": cannot move the previous export aside: " + error.message());
  fs::rename(temporary.path(), target, error);
  if (error) {
    std::error_code ignored;
    fs::rename(old, target, ignored);
    throw InputError(target.string() + ": cannot rename the finished export into place: " + error.message());
  }
  temporary.release();
  fs::remove_all(old, error);
  // The new export is complete either way; a leftover old copy only costs disk space.
  if (error) spdlog::warn("{}: could not remove the previous export: {}", old.string(), error.message());
}

}  // namespace

// Peak memory beyond the memory-mapped source (page cache, shared and evictable): one planned
// module's merged weight and its float32 working set, computed when the writer reaches that
// tensor and freed once it is written. Every other tensor is written straight from the mapping.
std::vector<std::string> export_ablated_model(const ExportRequest& request) {
  const fs::path source = request.model_folder;
  const fs::path target = without_trailing_separator(request.out_folder);
  if (target.filename().empty()) throw InputError(request.out_folder.string() + ": not a valid export folder name");

  std::error_code error;
  if (fs::exists(target, error) && !fs::is_directory(target, error))
    throw InputError(target.string() + ": exists and is not a folder; refusing to replace it with an export");
  if (fs::exists(target, error) && is_same_or_inside(source, target))
    throw InputError(target.string() + ": is the source model folder " + source.string() +
                     " or contains it; export to another folder");

  // Read and check everything before the first byte is written; the merges happen while
  // writing, into a temporary folder that a failure removes, so nothing is left behind.
  model::ModelInfo info = model::read_model_info(source, "float32");
  const hf::SafetensorsCheckpoint checkpoint = hf::SafetensorsCheckpoint::open(source);
  // Planned modules are named as this checkpoint names them (e.g. language_model.model.* in a
  // multimodal wrapper); every other tensor, a vision tower's included, is copied byte for byte.
  model::bind_checkpoint_layout(info, checkpoint);
  const std::map<std::string, const ModuleAblation*> planned = planned_tensors(info, request.plan);

  for (const auto& [name, module] : planned) checkpoint.at(name);  // every planned weight exists (InputError)

  const bool dequantize = info.quantization.method == hf::QuantMethod::kBlockFp8;
  const hf::DType written_dtype = dequantize ? dequantized_dtype(checkpoint, info) : hf::DType::kF32;
  std::vector<hf::TensorToWrite> tensors;
  for (const hf::TensorLocation& location : tensors_in_file_order(checkpoint)) {
    const hf::TensorInfo& tensor = *location.info;
    const std::string& name = tensor.name;
    const std::string scale_suffix = "_scale_inv";
    if (dequantize && name.size() > scale_suffix.size() &&
        name.compare(name.size() - scale_suffix.size(), scale_suffix.size(), scale_suffix) == 0) {
      const std::string base = name.substr(0, name.size() - scale_suffix.size());
      if (checkpoint.contains(base) && is_float8(*checkpoint.at(base).info)) continue;  // folded into base
    }
    hf::TensorToWrite entry{name, tensor.dtype, tensor.shape, location.data(), {}};
    const auto it = planned.find(name);
    const bool quantized = dequantize && is_float8(tensor);
    if (it == planned.end() && !quantized) {
      tensors.push_back(std::move(entry));  // byte for byte
      continue;
    }
    const ModuleAblation* module = it == planned.end() ? nullptr : it->second;
    entry.data = nullptr;
    if (quantized) entry.dtype = written_dtype;
    const torch::ScalarType out_dtype = model::to_torch(entry.dtype);
    entry.produce = [&checkpoint, &request, &info, module, name, out_dtype](const hf::ByteSink& write) {
      // float32, dequantised when stored quantised (one tensor at a time)
      torch::Tensor weight = model::load_weight_tensor(checkpoint, info.quantization, name, torch::kFloat32, torch::kCPU);
      if (module != nullptr) weight = merged_tensor(checkpoint.at(name), weight, *module, request.mode);
      const torch::Tensor bytes = weight.to(out_dtype).contiguous();
      write(static_cast<const std::byte*>(bytes.data_ptr()), static_cast<uint64_t>(bytes.nbytes()));
    };
    tensors.push_back(std::move(entry));
  }

  fs::create_directories(target.parent_path().empty() ? fs::path(".") : target.parent_path(), error);
  if (error) throw InputError(target.string() + ": cannot create the folder it goes in: " + error.message());
  // Leftovers of an export of this target that was killed before it was renamed into place.
  remove_leftovers(target, {".tmp-", ".old-"});
  TemporaryFolder temporary(sibling(target, ".tmp-"));
  fs::create_directory(temporary.path(), error);
  if (error)
    throw InputError(target.string() + ": cannot create " + temporary.path().string() + ": " + error.message());

  std::vector<std::string> written =
      hf::write_safetensors_checkpoint(temporary.path(), tensors, request.max_shard_size_bytes);
  copy_model_files(source, temporary.path(), written);
  std::string readme = request.readme;
  if (dequantize) {
    remove_quantization_config(temporary.path() / "config.json");
    readme += std::string("\n## Checkpoint format\n\nThe source checkpoint was quantised (block FP8, ") +
              "weight_block_size [" + std::to_string(info.quantization.block_rows) + ", " +
              std::to_string(info.quantization.block_cols) + "]). This export stores every weight dequantised in " +
              model::torch_dtype_name(written_dtype) + " (the abliterated ones merged), without the scale_inv " +
              "tensors and without quantization_config; the other tensors are copied byte for byte.\n";
  }
  write_text_file(temporary.path() / "README.md", readme);
  written.push_back("README.md");
  fsync_files(temporary.path(), written);
  fault_point("export_publish");
  move_into_place(temporary, target);
  try {
    fsync_path(target.parent_path().empty() ? fs::path(".") : target.parent_path(), /*folder=*/true);
  } catch (const InputError& failure) {
    // The export is complete and in place; only the durability of its name is uncertain.
    spdlog::warn("{}", failure.what());
  }

  std::sort(written.begin(), written.end());
  return written;
}

}  // namespace heretic::ablation
