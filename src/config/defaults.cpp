#include "config/config.h"

#include <stdexcept>

#include "eval/scorer_registry.h"

namespace heretic::config {

ScorerConfig default_scorer(const std::string& class_name) {
  const eval::ScorerPlugin* plugin = eval::find_scorer_plugin(class_name);
  if (plugin == nullptr) throw std::invalid_argument("no scorer plug-in '" + class_name + "'");
  ScorerConfig scorer;
  scorer.plugin = plugin->import_path.empty() ? plugin->class_name : plugin->import_path;
  scorer.class_name = plugin->class_name;
  scorer.prompts = plugin->default_prompts;
  scorer.settings = eval::default_settings(plugin->settings);
  return scorer;
}

Config default_config() {
  Config c;
  c.dtypes = {"auto", "float16", "bfloat16", "float32"};
  c.chain_of_thought_skips = {
      {"<think>", "<think></think>"},
      {"<|channel|>analysis<|message|>",
       "<|channel|>analysis<|message|><|end|><|start|>assistant<|channel|>final<|message|>"},
      {"<thought>", "<thought></thought>"},
      {"[THINK]", "[THINK][/THINK]"},
  };
  // Heretic's two scorers: refusals on harmful prompts and KL divergence on harmless ones.
  c.scorers = {default_scorer("KeywordRate"), default_scorer("KLDivergence")};
  c.good_prompts = DatasetSpec{"mlabonne/harmless_alpaca", std::nullopt, "train[:400]", "text", "", "", std::nullopt};
  c.bad_prompts = DatasetSpec{"mlabonne/harmful_behaviors", std::nullopt, "train[:400]", "text", "", "", std::nullopt};
  return c;
}

std::string ScorerConfig::display_name() const {
  const eval::ScorerPlugin* plugin = eval::find_scorer_plugin(class_name);
  std::string name = plugin != nullptr ? plugin->display_name : class_name;
  if (instance_name) name += " - " + *instance_name;
  return name;
}

std::string ScorerConfig::table_name() const { return class_name + (instance_name ? "_" + *instance_name : ""); }

std::string to_string(RowNormalization value) {
  switch (value) {
    case RowNormalization::kNone: return "none";
    case RowNormalization::kPre: return "pre";
    case RowNormalization::kFull: return "full";
  }
  return "full";
}

std::string to_string(Optimization value) {
  switch (value) {
    case Optimization::kMinimize: return "minimize";
    case Optimization::kMaximize: return "maximize";
    case Optimization::kNone: return "none";
  }
  return "minimize";
}

std::string to_string(CommBackend value) {
  switch (value) {
    case CommBackend::kAuto: return "auto";
    case CommBackend::kMpi: return "mpi";
    case CommBackend::kNccl: return "nccl";
  }
  return "auto";
}

}  // namespace heretic::config
