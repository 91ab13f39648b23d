// The scorer plug-ins heretic-mpi has, keyed by the names a configuration uses for them.
#pragma once

#include <string>
#include <vector>

#include "eval/scorer.h"

namespace heretic::eval {

// Every plug-in, in a fixed order.
const std::vector<ScorerPlugin>& scorer_plugins();

// The plug-in that `plugin` (as written in `scorers`: "KeywordRate", Heretic's
// "heretic.scorers.keyword_rate.KeywordRate") or a class name names, or nullptr.
const ScorerPlugin* find_scorer_plugin(const std::string& plugin);

}  // namespace heretic::eval
