#include "eval/scorer_registry.h"

namespace heretic::eval {

// Defined in each scorer's file.
const ScorerPlugin& keyword_rate_plugin();
const ScorerPlugin& kl_divergence_plugin();
const ScorerPlugin& response_length_plugin();

const std::vector<ScorerPlugin>& scorer_plugins() {
  static const std::vector<ScorerPlugin> plugins = {
      keyword_rate_plugin(),
      kl_divergence_plugin(),
      response_length_plugin(),
  };
  return plugins;
}

const ScorerPlugin* find_scorer_plugin(const std::string& plugin) {
  for (const ScorerPlugin& candidate : scorer_plugins()) {
    if (plugin == candidate.class_name || (!candidate.import_path.empty() && plugin == candidate.import_path)) {
      return &candidate;
    }
  }
  return nullptr;
}

}  // namespace heretic::eval
