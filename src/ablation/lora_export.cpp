#include "ablation/lora_export.h"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <stdexcept>
#include <utility>

#include "ablation/export.h"
#include "ablation/export_folder.h"
#include "common/error.h"
#include "hf/quantization_config.h"
#include "hf/safetensors_reader.h"
#include "hf/safetensors_writer.h"
#include "model/model_info.h"

namespace heretic::ablation {
namespace fs = std::filesystem;

namespace {

// PEFT's key of a LoRA factor: the module's name under the PeftModel wrapper, without the
// adapter name ("default"), which save_pretrained leaves out.
std::string peft_key(const std::string& module, const char* factor) {
  return "base_model.model." + module + "." + factor + ".weight";
}

// adapter_config.json with the fields LoraConfig saves (peft >= 0.9). lora_alpha = r as in
// Heretic, so PEFT's scaling lora_alpha / r is 1 and the layer computes W x + B (A x).
std::string adapter_config(const std::string& base_model, int64_t rank, const std::vector<ModuleFit>& modules) {
  nlohmann::ordered_json targets = nlohmann::ordered_json::array();
  for (const ModuleFit& module : modules) targets.push_back(module.module);
  nlohmann::ordered_json config = {
      {"alpha_pattern", nlohmann::ordered_json::object()},
      {"auto_mapping", nullptr},
      {"base_model_name_or_path", base_model},
      {"bias", "none"},
      {"fan_in_fan_out", false},
      {"inference_mode", true},
      {"init_lora_weights", true},
      {"layers_pattern", nullptr},
      {"layers_to_transform", nullptr},
      {"lora_alpha", rank},
      {"lora_dropout", 0.0},
      {"modules_to_save", nullptr},
      {"peft_type", "LORA"},
      {"r", rank},
      {"rank_pattern", nlohmann::ordered_json::object()},
      {"revision", nullptr},
      {"target_modules", targets},
      {"task_type", "CAUSAL_LM"},
      {"use_dora", false},
      {"use_rslora", false},
  };
  return config.dump(2) + "\n";
}

std::string format_error(double error) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3e", error);
  return text;
}

// The card's section about the adapter: how to load it and, per module, how well it holds the
// exact ablation.
std::string adapter_card(const LoraExportRequest& request, const LoraExport& adapter,
                         const hf::QuantizationConfig& quantization) {
  std::ostringstream card;
  card << "\n## LoRA adapter\n\n"
       << "This folder is a LoRA adapter (PEFT format) for `" << request.base_model << "`: rank " << adapter.rank
       << ", lora_alpha " << adapter.rank << " (scaling 1), float32 factors for " << adapter.modules.size()
       << " modules. Load it with\n\n"
       << "```python\n"
       << "from peft import PeftModel\n"
       << "from transformers import AutoModelForCausalLM\n"
       << "base = AutoModelForCausalLM.from_pretrained(\"" << request.base_model << "\")\n"
       << "model = PeftModel.from_pretrained(base, \"path/to/this/folder\")  # or .merge_and_unload()\n"
       << "```\n\n";
  if (quantization.method == hf::QuantMethod::kBlockFp8)
    card << "The base checkpoint stores its weights in block FP8 (weight_block_size [" << quantization.block_rows
         << ", " << quantization.block_cols << "]); the factors were computed from the dequantised weights W, so "
         << "W + B A is the merged export's weight.\n\n";
  if (request.mode != config::RowNormalization::kFull) {
    card << "Row normalization \"" << config::to_string(request.mode)
         << "\": the ablation of every module is a rank-1 update, stored exactly (relative error 0).\n";
    return card.str();
  }
  double max_error = 0.0, sum = 0.0;
  for (const ModuleFit& module : adapter.modules) {
    max_error = std::max(max_error, module.relative_error);
    sum += module.relative_error;
  }
  const double mean = adapter.modules.empty() ? 0.0 : sum / static_cast<double>(adapter.modules.size());
  card << "Row normalization \"full\": the exact change of a module's weight is not low rank, so each module holds "
       << "its best rank-" << adapter.rank << " approximation (truncated SVD). The merged export of the same trial is "
       << "exact; the relative Frobenius error ||Δ − B A|| / ||Δ|| of each module's change Δ is (max "
       << format_error(max_error) << ", mean " << format_error(mean) << "):\n\n"
       << "| module | relative error |\n|---|---|\n";
  for (const ModuleFit& module : adapter.modules)
    card << "| " << module.module << " | " << format_error(module.relative_error) << " |\n";
  return card.str();
}

struct Factors {
  std::string module;
  torch::Tensor A, B;  // float32, contiguous
};

}  // namespace

int64_t lora_rank(config::RowNormalization mode, int64_t full_rank) {
  return mode == config::RowNormalization::kFull ? full_rank : 1;
}

LoraExport export_lora_adapter(const LoraExportRequest& request) {
  const fs::path source = request.model_folder;
  const fs::path target = checked_export_target(request.out_folder, source);
  if (request.full_rank < 1) throw std::invalid_argument("export_lora_adapter: the rank must be at least 1");

  model::ModelInfo info = model::read_model_info(source, "float32");
  const hf::SafetensorsCheckpoint checkpoint = hf::SafetensorsCheckpoint::open(source);
  model::bind_checkpoint_layout(info, checkpoint);

  LoraExport adapter;
  adapter.rank = lora_rank(request.mode, request.full_rank);
  // Every factor is computed before the first byte is written: a module at a time (its weight,
  // and for full its delta and SVD), keeping only the factors, r x (in + out) floats each.
  std::vector<Factors> factors;
  std::set<std::string> seen;
  for (const ModuleAblation& module : request.plan) {
    // Every expert of a MoE layer is a module of its own (one module per expert in the checkpoint).
    for (const model::ModuleTensor& tensor : info.module_tensors(module.layer, module.component)) {
      if (tensor.stacked)
        throw InputError(source.string() + ": tensor '" + tensor.name +
                         "' holds every expert of a layer fused, which a PEFT LoRA adapter (one pair of matrices per "
                         "linear module) cannot address; export merged models instead (output.export_format = \"merged\")");
      const std::string weight_suffix = ".weight";
      const std::string name = tensor.name.substr(0, tensor.name.size() - weight_suffix.size());
      if (!seen.insert(name).second)
        throw std::invalid_argument("export_lora_adapter: the plan names '" + name + "' twice");
      const torch::Tensor weight = planned_weight(checkpoint, info.quantization, tensor.name, module);  // [out, in]
      LowRankDelta delta = low_rank_delta(weight, module.direction.to(torch::kCPU, torch::kFloat32), module.weight,
                                          request.mode, adapter.rank);
      adapter.modules.push_back({name, delta.relative_error});
      factors.push_back({name, delta.A.contiguous(), delta.B.contiguous()});
    }
  }

  std::vector<hf::TensorToWrite> tensors;
  for (const Factors& f : factors) {
    for (const auto& [suffix, tensor] : {std::pair<const char*, const torch::Tensor*>{"lora_A", &f.A},
                                         std::pair<const char*, const torch::Tensor*>{"lora_B", &f.B}}) {
      tensors.push_back({peft_key(f.module, suffix), hf::DType::kF32, tensor->sizes().vec(),
                         static_cast<const std::byte*>(tensor->data_ptr()), {}});
    }
  }
  const std::string config = adapter_config(request.base_model, adapter.rank, adapter.modules);
  const std::string readme = request.readme + adapter_card(request, adapter, info.quantization);
  adapter.files = publish_folder(target, [&](const fs::path& folder) {
    hf::write_safetensors_file(folder / "adapter_model.safetensors", tensors);
    write_text_file(folder / "adapter_config.json", config);
    write_text_file(folder / "README.md", readme);
    return std::vector<std::string>{"adapter_model.safetensors", "adapter_config.json", "README.md"};
  });
  return adapter;
}

}  // namespace heretic::ablation
