// What a run shows and leaves behind (DESIGN.md §4): the record each finished trial keeps in
// the journal, the progress line, the Pareto table, results.h5 and the model card of an
// export. Everything here reads the study and the engine; nothing decides what runs.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ablation/trial_params.h"
#include "app/engine.h"
#include "optimize/study.h"

namespace heretic::app {

// What the run records with a finished trial (the study's attributes; journal members
// "params", "values", "scores", "seconds", "rank", "ranks").
struct TrialRecord {
  nlohmann::ordered_json params;  // ablation::to_json of what was applied
  Scores scores;                  // per scorer; no partial sums for a failed trial
  int rank = 0;                   // world rank of the group leader that evaluated it
  int ranks = 1;                  // ranks in that group

  nlohmann::ordered_json to_attributes() const;
  // Throws InputError naming `where` when the attributes lack a member.
  static TrialRecord from_attributes(const nlohmann::ordered_json& attributes, const std::string& where);
};

// The names of the optimised scorers (the study's objectives), in configuration order.
std::vector<optimize::StudyObjective> study_objectives(const std::vector<ScorerInstance>& scorers);

// "1.5s", "3m05s", "2h07m".
std::string format_duration(double seconds);

// Rank 0's view of the run for reporting.
struct RunView {
  const config::Config& config;
  const Engine& engine;
  const optimize::Study& study;
  const Scores& baseline;
  int world_size = 1;
};

// Heretic's residual geometry table (spec/heretic-behavior.md §5.1) for layers 1..L, from every
// prompt's residual gathered on rank 0.
void log_residual_geometry(const Directions& directions);
// "[Trial  12] Keywords: 3/100, KL divergence: 0.0421 | global" lines of the Pareto front.
void log_pareto_front(const RunView& run);
// Writes <output.dir>/results.h5 (atomically). Throws InputError naming the file.
void write_results_file(const RunView& run);
// The README.md of an exported trial.
std::string model_card(const RunView& run, int trial_number);

}  // namespace heretic::app
