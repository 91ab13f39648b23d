#include "ablation/export.h"

#include <algorithm>
#include <map>
#include <stdexcept>
#include <system_error>
#include <utility>

#include "ablation/export_folder.h"
#include "common/error.h"
#include "hf/safetensors_reader.h"
#include "hf/safetensors_writer.h"
#include "model/model_info.h"
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

// The merged weight of one planned module, in the dtype the checkpoint stores it in.
// Working memory: the tensor in float32 (a view of the mapping when the file is float32) plus
// merged_weight's float32 temporaries, all freed when this returns.
torch::Tensor merged_tensor(const hf::TensorLocation& location, const ModuleAblation& module,
                            config::RowNormalization mode) {
  const torch::Tensor weight = planned_weight(location, module);                      // [out, in]
  const torch::Tensor direction = module.direction.to(torch::kCPU, torch::kFloat32);  // [out]
  const torch::Tensor merged = merged_weight(weight, direction, module.weight, mode);  // [out, in] float32
  return merged.to(model::to_torch(location.info->dtype)).contiguous();
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

}  // namespace

torch::Tensor planned_weight(const hf::TensorLocation& location, const ModuleAblation& module) {
  const hf::TensorInfo& info = *location.info;
  const std::string label = location.file->path().string() + ": tensor '" + info.name + "'";
  if (info.shape.size() != 2) throw InputError(label + " is not a matrix, so it cannot be ablated");
  if (!module.direction.defined() || module.direction.dim() != 1 || module.direction.size(0) != info.shape[0])
    throw InputError(label + " has " + std::to_string(info.shape[0]) + " output rows, but the refusal direction has " +
                     (module.direction.defined() ? std::to_string(module.direction.numel()) : std::string("no")) +
                     " elements (directions from another model?)");
  return model::load_tensor(location, torch::kFloat32, torch::kCPU);
}

// Peak memory beyond the memory-mapped source (page cache, shared and evictable): one planned
// module's merged weight and its float32 working set, computed when the writer reaches that
// tensor and freed once it is written. Every other tensor is written straight from the mapping.
std::vector<std::string> export_ablated_model(const ExportRequest& request) {
  const fs::path source = request.model_folder;
  const fs::path target = checked_export_target(request.out_folder, source);

  // Read and check everything before the first byte is written; the merges happen while
  // writing, into a temporary folder that a failure removes, so nothing is left behind.
  model::ModelInfo info = model::read_model_info(source, "float32");
  const hf::SafetensorsCheckpoint checkpoint = hf::SafetensorsCheckpoint::open(source);
  // Planned modules are named as this checkpoint names them (e.g. language_model.model.* in a
  // multimodal wrapper); every other tensor, a vision tower's included, is copied byte for byte.
  model::bind_checkpoint_layout(info, checkpoint);
  const std::map<std::string, const ModuleAblation*> planned = planned_tensors(info, request.plan);

  for (const auto& [name, module] : planned) checkpoint.at(name);  // every planned weight exists (InputError)

  std::vector<hf::TensorToWrite> tensors;
  for (const hf::TensorLocation& location : tensors_in_file_order(checkpoint)) {
    const hf::TensorInfo& tensor = *location.info;
    hf::TensorToWrite entry{tensor.name, tensor.dtype, tensor.shape, location.data(), {}};
    const auto it = planned.find(tensor.name);
    if (it != planned.end()) {
      const ModuleAblation* module = it->second;
      entry.data = nullptr;
      entry.produce = [&checkpoint, &request, module, name = tensor.name](const hf::ByteSink& write) {
        const torch::Tensor merged = merged_tensor(checkpoint.at(name), *module, request.mode);  // the file's dtype
        write(static_cast<const std::byte*>(merged.data_ptr()), static_cast<uint64_t>(merged.nbytes()));
      };
    }
    tensors.push_back(std::move(entry));
  }

  return publish_folder(target, [&](const fs::path& folder) {
    std::vector<std::string> written = hf::write_safetensors_checkpoint(folder, tensors, request.max_shard_size_bytes);
    copy_model_files(source, folder, written);
    write_text_file(folder / "README.md", request.readme);
    written.push_back("README.md");
    return written;
  });
}

}  // namespace heretic::ablation
