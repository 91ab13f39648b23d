// The effective configuration of a run: Heretic's option set (same names and defaults,
// spec/heretic-behavior.md §4) plus the [mpi] and [output] sections of DESIGN.md §5.
// Every option is documented next to its default in configs/default.toml.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "data/dataset_spec.h"
#include "eval/scorer_settings.h"

namespace heretic::config {

enum class RowNormalization { kNone, kPre, kFull };
enum class Optimization { kMinimize, kMaximize, kNone };
enum class CommBackend { kAuto, kMpi, kNccl };

// Where prompts come from (Heretic's DatasetSpecification), resolved by src/data.
using DatasetSpec = data::DatasetSpec;

// One entry of `scorers` with its settings merged from [scorer.<Class>] and
// [scorer.<Class>_<instance_name>]. The scorer plug-in (eval/scorer_registry.h) declares the
// settings and the default prompts; the configuration only reads them.
struct ScorerConfig {
  std::string plugin;      // as written in the config, e.g. "heretic.scorers.keyword_rate.KeywordRate"
  std::string class_name;  // the plug-in's class, e.g. "KeywordRate"
  Optimization optimization = Optimization::kMinimize;
  std::optional<std::string> instance_name;
  DatasetSpec prompts;
  eval::ScorerSettings settings;  // every key the plug-in declares

  // "Keywords", "KL divergence", with " - <instance>" when an instance name is set.
  std::string display_name() const;
  // "KeywordRate" or "KeywordRate_<instance>": the name of its [scorer.*] table.
  std::string table_name() const;
};

// Heretic's search-space ranges (spec/heretic-behavior.md §3.1); Heretic's own comment says
// new models may need others (DESIGN.md §6). Position-like bounds are fractions of the last
// block index L - 1.
struct SearchSpaceConfig {
  double direction_index_min = 0.4, direction_index_max = 0.9;              // x (L - 1)
  double attention_max_weight_min = 0.8, attention_max_weight_max = 1.5;
  double mlp_max_weight_min = -0.25, mlp_max_weight_max = 1.5;              // < 0 clamps to 0: off
  double max_weight_position_min = 0.6, max_weight_position_max = 1.0;      // x (L - 1)
  double min_weight_distance_max = 0.6;  // x (L - 1); the range is [1, max(that, 1)]
};

struct MpiConfig {
  // Model copies that evaluate one trial together, sharding its prompts; a worker group is
  // ranks_per_trial x tensor_parallel x pipeline_stages ranks.
  int ranks_per_trial = 1;
  int tensor_parallel = 1;  // ranks that hold one model copy split by heads and MLP columns
  int pipeline_stages = 1;  // contiguous layer ranges of one model copy, one per stage
  // Micro-batches a forward pass splits its batch into so that the stages overlap; absent from
  // the file: pipeline_stages.
  int pipeline_micro_batches = 1;
  CommBackend backend = CommBackend::kAuto;
  // After a stop signal, how long trials in flight may take to finish before they are abandoned
  // (they run again on resume).
  double stop_grace_seconds = 60.0;
  // Memory one rank may use, for the layout check before loading (model/memory_plan.h):
  // 0 = "auto" (on CPU the node's memory over its ranks; on GPUs no check), -1 = "off",
  // else bytes.
  int64_t memory_per_rank = 0;
};

struct ExportSelection {
  enum class Kind { kNone, kPareto, kTrials };
  Kind kind = Kind::kNone;
  std::vector<int64_t> trials;  // trial numbers, for kTrials
};

// What an export writes: a merged Hugging Face model (models/trial-NNN) or a LoRA adapter in
// PEFT's format (models/trial-NNN-lora).
enum class ExportFormat { kMerged, kLora };

struct OutputConfig {
  std::string dir = "heretic-output";
  ExportSelection export_trials;
  ExportFormat export_format = ExportFormat::kMerged;
  int64_t lora_rank = 3;  // rank of a LoRA adapter for row normalization "full" (Heretic's default)
  bool per_prompt_residuals = false;  // /residuals/per_prompt_{good,bad} in results.h5
  double memory_warning = 0.9;        // warn when a rank's peak passes this share of its node's memory
};

struct Config {
  std::string model;
  std::optional<std::string> model_commit;
  std::vector<std::string> dtypes;
  std::string quantization = "none";
  std::string device_map = "auto";
  bool offload_outputs_to_cpu = true;
  int64_t batch_size = 0;
  int64_t max_batch_size = 128;
  int64_t max_response_length = 100;
  std::optional<std::string> response_prefix;
  std::vector<std::pair<std::string, std::string>> chain_of_thought_skips;
  bool print_debug_information = false;
  bool print_residual_geometry = false;
  std::vector<ScorerConfig> scorers;
  bool orthogonalize_direction = true;
  RowNormalization row_normalization = RowNormalization::kFull;
  double winsorization_quantile = 1.0;
  int64_t n_trials = 200;
  int64_t n_startup_trials = 60;
  std::optional<uint32_t> seed;
  std::string max_shard_size = "5GB";  // as written; see max_shard_size_bytes
  uint64_t max_shard_size_bytes = 5'000'000'000ULL;
  std::string system_prompt = "You are a helpful assistant.";
  DatasetSpec good_prompts;
  DatasetSpec bad_prompts;
  SearchSpaceConfig search_space;
  MpiConfig mpi;
  OutputConfig output;
};

// Heretic's defaults (model left empty: it has none).
Config default_config();

std::string to_string(RowNormalization value);
std::string to_string(Optimization value);
std::string to_string(CommBackend value);

}  // namespace heretic::config

namespace heretic::config {
// A scorer entry of the plug-in called `class_name` with its defaults (prompts, settings,
// optimization "minimize"). Throws std::invalid_argument for an unknown plug-in.
ScorerConfig default_scorer(const std::string& class_name);
}  // namespace heretic::config
