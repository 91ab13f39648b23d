// Export of an ablated model as a Hugging Face model folder (DESIGN.md §1 phase 5, §4
// models/trial-NNN): every target weight replaced by its exact merged weight (computed in
// float32 from the checkpoint's tensor, cast back to the checkpoint's dtype), every other
// tensor copied unchanged, safetensors shards of at most max_shard_size with an index,
// config.json, generation_config.json and the tokenizer files copied, and a README.md model
// card. The folder appears complete or not at all (written under a temporary name, renamed).
// From a block-FP8 checkpoint every float8 weight is written dequantised (merged where planned)
// in the checkpoint's unquantised dtype, without its scale_inv and without quantization_config.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "ablation/ablator.h"
#include "config/config.h"
#include "hf/quantization_config.h"
#include "hf/safetensors_reader.h"

namespace heretic::ablation {

struct ExportRequest {
  std::filesystem::path model_folder;  // source Hugging Face folder (safetensors, config, tokenizer)
  std::filesystem::path out_folder;    // created; an existing folder is replaced only when complete
  uint64_t max_shard_size_bytes = 5'000'000'000ULL;
  config::RowNormalization mode = config::RowNormalization::kFull;
  std::vector<ModuleAblation> plan;
  std::string readme;  // README.md contents (the model card), written as given
};

// Throws InputError naming the file when the source cannot be read or the target written.
// Returns the files written (relative names, sorted).
std::vector<std::string> export_ablated_model(const ExportRequest& request);

// The checkpoint's tensor `name` of a planned module in float32 [out, in] (dequantised when the
// checkpoint stores it as block FP8), once it is known to be a matrix with as many rows as the
// module's direction has elements (InputError naming the file and tensor otherwise).
torch::Tensor planned_weight(const hf::SafetensorsCheckpoint& checkpoint, const hf::QuantizationConfig& quantization,
                             const std::string& name, const ModuleAblation& module);

}  // namespace heretic::ablation
