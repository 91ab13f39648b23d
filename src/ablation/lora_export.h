// Export of an ablated model as a LoRA adapter in PEFT's format (models/trial-NNN-lora next to
// DESIGN.md §4's merged models; Heretic's "adapter" save, spec §2.3): adapter_config.json (peft_type
// LORA, r, lora_alpha = r so that PEFT's scaling lora_alpha / r is 1, target_modules = the
// ablated modules' full names), adapter_model.safetensors with the float32 factors
// base_model.model.<module>.lora_A.weight [r, in] and .lora_B.weight [out, r], and a README.md
// model card that records how well each module's delta is approximated. Applied to the base
// model as PEFT does (W + B A), it gives the merged export of the same plan: exactly (rank 1)
// for row normalisation none and pre, and the best rank-r approximation of each module's exact
// delta for full. The folder appears complete or not at all.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "ablation/ablator.h"
#include "config/config.h"

namespace heretic::ablation {

struct LoraExportRequest {
  std::filesystem::path model_folder;  // the base Hugging Face folder (safetensors, config.json)
  std::filesystem::path out_folder;    // created; an existing folder is replaced only when complete
  std::string base_model;              // adapter_config.json's base_model_name_or_path
  config::RowNormalization mode = config::RowNormalization::kFull;
  int64_t full_rank = 3;  // r for "full" (none and pre are exact with r = 1)
  std::vector<ModuleAblation> plan;
  std::string readme;  // the model card; the adapter's section is appended to it
};

struct ModuleFit {
  std::string module;            // full module name, e.g. "model.layers.3.self_attn.o_proj"
  double relative_error = 0.0;   // ||Δ - B A||_F / ||Δ||_F (0 for the exact none and pre)
};

struct LoraExport {
  int64_t rank = 1;
  std::vector<ModuleFit> modules;   // in plan order
  std::vector<std::string> files;   // relative names, sorted
};

// The adapter's rank for `mode` (1 unless full, then `full_rank`), as Heretic chooses it.
int64_t lora_rank(config::RowNormalization mode, int64_t full_rank);

// Throws InputError naming the file when the base model cannot be read or the target written.
// Working memory beyond the factors (r x (in + out) floats per module): one module's weight
// and, for full, its delta and SVD, in float32.
LoraExport export_lora_adapter(const LoraExportRequest& request);

}  // namespace heretic::ablation
