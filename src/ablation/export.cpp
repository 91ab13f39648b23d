#include "ablation/export.h"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>
#include <system_error>
#include <utility>

#include "ablation/export_folder.h"
#include "common/error.h"
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

// A checkpoint tensor the plan merges: the plan's entry, and whether the tensor stacks several
// matrices (fused experts [E, out, in], each merged with the entry's direction and weight).
struct PlannedTensor {
  const ModuleAblation* module = nullptr;
  bool stacked = false;
  bool transposed = false;  // [E, in, out]: each matrix merged in [out, in] orientation
};

// The checkpoint tensors of every planned module (a MoE layer's MLP: every expert's and the
// shared expert's down projection), with their entry of the plan.
std::map<std::string, PlannedTensor> planned_tensors(const model::ModelInfo& info, const std::vector<ModuleAblation>& plan) {
  std::map<std::string, PlannedTensor> planned;
  for (const ModuleAblation& module : plan) {
    for (const model::ModuleTensor& tensor : info.module_tensors(module.layer, module.component)) {
      // plan_ablation never repeats a module; a repeated one would have no single merged weight.
      if (!planned.emplace(tensor.name, PlannedTensor{&module, tensor.stacked, tensor.transposed}).second)
        throw std::invalid_argument("export_ablated_model: the plan names '" + tensor.name + "' twice");
    }
  }
  return planned;
}

// The checks a planned module's tensor must pass before it is merged: a matrix (or a stack of
// matrices) with as many rows as the module's direction has elements (InputError naming the
// file and tensor).
void check_planned(const std::string& label, const std::vector<int64_t>& shape, const ModuleAblation& module,
                   bool stacked = false, bool transposed = false) {
  if (shape.size() != (stacked ? 3U : 2U))
    throw InputError(label + " is not a " + (stacked ? "stack of matrices [experts, out, in]" : "matrix") +
                     ", so it cannot be ablated");
  const int64_t rows = shape[(stacked ? 1 : 0) + (transposed ? 1 : 0)];
  if (!module.direction.defined() || module.direction.dim() != 1 || module.direction.size(0) != rows)
    throw InputError(label + " has " + std::to_string(rows) + " output rows, but the refusal direction has " +
                     (module.direction.defined() ? std::to_string(module.direction.numel()) : std::string("no")) +
                     " elements (directions from another model?)");
}

// The merged weight of one planned tensor: `weight` [out, in] (or [E, out, in], each matrix
// merged alike) float32 (the checkpoint's tensor, dequantised when it is stored quantised)
// merged with the module's direction. Working memory: merged_weight's float32 temporaries.
torch::Tensor merged_tensor(const std::string& label, const torch::Tensor& weight, const PlannedTensor& planned,
                            config::RowNormalization mode) {
  const ModuleAblation& module = *planned.module;
  check_planned(label, weight.sizes().vec(), module, planned.stacked, planned.transposed);
  const torch::Tensor direction = module.direction.to(torch::kCPU, torch::kFloat32);  // [out]
  if (!planned.stacked) return merged_weight(weight, direction, module.weight, mode);  // [out, in] float32
  std::vector<torch::Tensor> matrices;
  for (const torch::Tensor& matrix : weight.unbind(0))
    matrices.push_back(planned.transposed ? merged_weight(matrix.t(), direction, module.weight, mode).t()
                                          : merged_weight(matrix, direction, module.weight, mode));
  return torch::stack(matrices);
}

std::string tensor_label(const hf::TensorLocation& location) {
  return location.file->path().string() + ": tensor '" + location.info->name + "'";
}

// `name` without `suffix`, or "" when it does not end with it.
std::string without_suffix(const std::string& name, const std::string& suffix) {
  if (name.size() <= suffix.size() || name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) return "";
  return name.substr(0, name.size() - suffix.size());
}

// An MXFP4 tensor (<base>_blocks [..., rows, G, 16] + <base>_scales) written as <base> in
// `dtype`: decoded one tensor at a time when the writer reaches it, merged where planned (in
// the decoded [E, out, in] orientation), and transposed to [E, in, out] where the family keeps
// its dequantised experts that way (gpt-oss), so that transformers loads the export without a
// quantization_config.
hf::TensorToWrite dequantized_mxfp4(const hf::SafetensorsCheckpoint& checkpoint, const model::ModelInfo& info,
                                    const std::string& base, const std::map<std::string, PlannedTensor>& planned,
                                    config::RowNormalization mode, hf::DType dtype) {
  std::vector<int64_t> shape = checkpoint.at(base + "_blocks").info->shape;
  if (shape.size() < 3) throw InputError(tensor_label(checkpoint.at(base + "_blocks")) + " is not MXFP4 blocks [..., rows, G, 16]");
  shape.pop_back();
  shape.back() *= 32;  // [..., rows, cols]
  const bool transpose = info.family->experts.fused_transposed && shape.size() >= 2;
  std::vector<int64_t> written = shape;
  if (transpose) std::swap(written[written.size() - 1], written[written.size() - 2]);
  const auto it = planned.find(base);
  const std::optional<PlannedTensor> module = it == planned.end() ? std::nullopt : std::optional<PlannedTensor>(it->second);
  const torch::ScalarType out_dtype = model::to_torch(dtype);
  hf::TensorToWrite entry{base, dtype, written, nullptr, {}};
  entry.produce = [&checkpoint, base, module, mode, transpose, out_dtype](const hf::ByteSink& write) {
    torch::Tensor weight = model::load_mxfp4_tensor(checkpoint, base, torch::kFloat32, torch::kCPU);
    if (module) weight = merged_tensor(tensor_label(checkpoint.at(base + "_blocks")), weight, *module, mode);
    if (transpose) weight = weight.transpose(-1, -2);
    const torch::Tensor bytes = weight.to(out_dtype).contiguous();
    write(static_cast<const std::byte*>(bytes.data_ptr()), static_cast<uint64_t>(bytes.nbytes()));
  };
  return entry;
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

}  // namespace

torch::Tensor planned_weight(const hf::SafetensorsCheckpoint& checkpoint, const hf::QuantizationConfig& quantization,
                             const std::string& name, const ModuleAblation& module) {
  const hf::TensorLocation location = checkpoint.at(name);
  check_planned(tensor_label(location), location.info->shape, module);
  return model::load_weight_tensor(checkpoint, quantization, name, torch::kFloat32, torch::kCPU);
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
  const std::map<std::string, PlannedTensor> planned = planned_tensors(info, request.plan);

  const bool mxfp4 = info.quantization.method == hf::QuantMethod::kMxfp4;
  // every planned weight exists (InputError); an MXFP4 one as <name>_blocks
  for (const auto& [name, module] : planned) checkpoint.at(mxfp4 && module.stacked ? name + "_blocks" : name);

  const bool dequantize = info.quantization.method == hf::QuantMethod::kBlockFp8 || mxfp4;
  const hf::DType written_dtype = dequantize ? dequantized_dtype(checkpoint, info) : hf::DType::kF32;
  std::vector<hf::TensorToWrite> tensors;
  for (const hf::TensorLocation& location : tensors_in_file_order(checkpoint)) {
    const hf::TensorInfo& tensor = *location.info;
    const std::string& name = tensor.name;
    if (mxfp4) {  // <base>_blocks + <base>_scales become <base>, dequantised
      if (const std::string base = without_suffix(name, "_scales"); !base.empty() && checkpoint.contains(base + "_blocks"))
        continue;  // folded into base
      if (const std::string base = without_suffix(name, "_blocks"); !base.empty() && checkpoint.contains(base + "_scales")) {
        tensors.push_back(dequantized_mxfp4(checkpoint, info, base, planned, request.mode, written_dtype));
        continue;
      }
    }
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
    const std::optional<PlannedTensor> module =
        it == planned.end() ? std::nullopt : std::optional<PlannedTensor>(it->second);
    entry.data = nullptr;
    if (quantized) entry.dtype = written_dtype;
    const torch::ScalarType out_dtype = model::to_torch(entry.dtype);
    entry.produce = [&checkpoint, &request, &info, module, name, out_dtype](const hf::ByteSink& write) {
      // float32, dequantised when stored quantised (one tensor at a time)
      torch::Tensor weight = model::load_weight_tensor(checkpoint, info.quantization, name, torch::kFloat32, torch::kCPU);
      if (module) weight = merged_tensor(tensor_label(checkpoint.at(name)), weight, *module, request.mode);
      const torch::Tensor bytes = weight.to(out_dtype).contiguous();
      write(static_cast<const std::byte*>(bytes.data_ptr()), static_cast<uint64_t>(bytes.nbytes()));
    };
    tensors.push_back(std::move(entry));
  }

  return publish_folder(target, [&](const fs::path& folder) {
    std::vector<std::string> written = hf::write_safetensors_checkpoint(folder, tensors, request.max_shard_size_bytes);
    copy_model_files(source, folder, written);
    std::string readme = request.readme;
    if (mxfp4) {
      remove_quantization_config(folder / "config.json");
      readme += std::string("\n## Checkpoint format\n\nThe source checkpoint stored its experts in MXFP4 (blocks and ") +
                "scales). This export stores them dequantised in " + model::torch_dtype_name(written_dtype) +
                (info.family->experts.fused_transposed ? " as [experts, in, out] tensors, the layout of the "
                                                         "pre-dequantised repositories,"
                                                       : "") +
                " (the abliterated ones merged), without quantization_config; the other tensors are copied byte for "
                "byte.\n";
    } else if (dequantize) {
      remove_quantization_config(folder / "config.json");
      readme += std::string("\n## Checkpoint format\n\nThe source checkpoint was quantised (block FP8, ") +
                "weight_block_size [" + std::to_string(info.quantization.block_rows) + ", " +
                std::to_string(info.quantization.block_cols) + "]). This export stores every weight dequantised in " +
                model::torch_dtype_name(written_dtype) + " (the abliterated ones merged), without the scale_inv " +
                "tensors and without quantization_config; the other tensors are copied byte for byte.\n";
    }
    write_text_file(folder / "README.md", readme);
    written.push_back("README.md");
    return written;
  });
}

}  // namespace heretic::ablation
