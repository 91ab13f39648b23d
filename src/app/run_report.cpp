#include "app/run_report.h"

#include <spdlog/spdlog.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>

#include "ablation/residual_geometry.h"
#include "common/error.h"
#include "config/print.h"
#include "eval/scorer_registry.h"
#include "io/results_file.h"

#ifndef HERETIC_VERSION
#define HERETIC_VERSION "unknown"
#endif

namespace heretic::app {
namespace {

namespace fs = std::filesystem;
using nlohmann::ordered_json;

io::Matrix to_matrix(const torch::Tensor& tensor) {
  const torch::Tensor t = tensor.to(torch::kFloat32).contiguous().cpu();
  io::Matrix m;
  m.rows = t.size(0);
  m.cols = t.size(1);
  m.values.assign(t.data_ptr<float>(), t.data_ptr<float>() + t.numel());
  return m;
}

const ordered_json& member(const ordered_json& object, const char* key, const std::string& where) {
  const auto it = object.find(key);
  if (it == object.end()) throw InputError(where + ": key '" + key + "': missing");
  return *it;
}

}  // namespace

ordered_json TrialRecord::to_attributes() const {
  ordered_json scores_json = ordered_json::array();
  for (const auto& part : scores.partial) scores_json.push_back({{"sum", part.sum}, {"count", part.count}});
  // NaN (a failed trial's values) is written as null.
  return {{"params", params}, {"values", scores.values}, {"scores", scores_json},
          {"seconds", scores.seconds}, {"rank", rank}, {"ranks", ranks}};
}

TrialRecord TrialRecord::from_attributes(const ordered_json& attributes, const std::string& where) {
  TrialRecord record;
  record.params = member(attributes, "params", where);
  std::vector<eval::PartialScore> partial;
  for (const auto& s : member(attributes, "scores", where)) {
    partial.push_back({s.at("sum").get<double>(), s.at("count").get<int64_t>()});
  }
  record.scores = Scores::from_partial(std::move(partial), attributes.value("seconds", 0.0));
  record.rank = attributes.value("rank", 0);
  record.ranks = attributes.value("ranks", 1);
  return record;
}

std::vector<optimize::StudyObjective> study_objectives(const std::vector<ScorerInstance>& scorers) {
  std::vector<optimize::StudyObjective> objectives;
  for (const auto& scorer : scorers) {
    if (!scorer.optimised()) continue;
    objectives.push_back({scorer.name(), scorer.config.optimization == config::Optimization::kMaximize});
  }
  return objectives;
}

std::string format_duration(double seconds) {
  const auto s = static_cast<long long>(std::llround(seconds));
  char text[32];
  if (s >= 3600) {
    std::snprintf(text, sizeof text, "%lldh%02lldm", s / 3600, (s / 60) % 60);
  } else if (s >= 60) {
    std::snprintf(text, sizeof text, "%lldm%02llds", s / 60, s % 60);
  } else {
    std::snprintf(text, sizeof text, "%.1fs", seconds);
  }
  return text;
}

void log_residual_geometry(const Directions& dirs) {
  const auto rows = ablation::residual_geometry(dirs.good_residuals, dirs.bad_residuals);
  spdlog::info("residual geometry:");
  spdlog::info("{:>5} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>7}", "Layer",
               "S(g,b)", "S(g*,b*)", "S(g,r)", "S(g*,r*)", "S(b,r)", "S(b*,r*)", "|g|", "|g*|", "|b|", "|b*|", "|r|",
               "|r*|", "Silh");
  for (size_t l = 1; l < rows.size(); ++l) {
    const auto& r = rows[l];
    spdlog::info(
        "{:>5} {:>8.4f} {:>8.4f} {:>8.4f} {:>8.4f} {:>8.4f} {:>8.4f} {:>9.2f} {:>9.2f} {:>9.2f} {:>9.2f} {:>9.2f} "
        "{:>9.2f} {:>7.4f}",
        l, r.s_g_b, r.s_gm_bm, r.s_g_r, r.s_gm_rm, r.s_b_r, r.s_bm_rm, r.norm_g, r.norm_gm, r.norm_b, r.norm_bm,
        r.norm_r, r.norm_rm, r.silhouette);
  }
  spdlog::info("g, b = mean residual of the good (harmless) and bad (harmful) prompts; g*, b* = their geometric "
               "medians; r = b - g; r* = b* - g*; S(x,y) = cosine similarity; |x| = L2 norm; Silh = mean "
               "silhouette coefficient of the good/bad clusters");
}

void log_pareto_front(const RunView& run) {
  const std::vector<int> front = run.study.pareto_front();
  const auto& scorers = run.engine.scorers();
  spdlog::info("Pareto front ({} of {} finished trials; baseline {}):", front.size(), run.study.finished().size(),
               describe_scores(scorers, run.baseline));
  for (const int number : front) {
    const TrialRecord record =
        TrialRecord::from_attributes(run.study.finished().at(number).attributes, "trial " + std::to_string(number + 1));
    spdlog::info("  [Trial {:>3}] {} | {}", number + 1, describe_scores(scorers, record.scores),
                 record.params.value("direction_scope", "global"));
  }
}

void write_results_file(const RunView& run) {
  io::Results results;
  results.run = {HERETIC_VERSION,  config::to_toml(run.config), run.config.model, run.engine.inputs().model_commit,
                 run.world_size, run.study.seed()};
  const Directions& dirs = run.engine.directions();
  results.good_mean = to_matrix(dirs.good_mean);
  results.bad_mean = to_matrix(dirs.bad_mean);
  results.directions = to_matrix(dirs.directions);
  if (run.config.output.per_prompt_residuals && dirs.good_residuals.defined()) {
    // [n, L+1, H] -> [(n (L+1)) x H], prompt-major: row p (L+1) + l is prompt p at layer l.
    results.per_prompt_residuals_good = to_matrix(dirs.good_residuals.reshape({-1, dirs.good_residuals.size(2)}));
    results.per_prompt_residuals_bad = to_matrix(dirs.bad_residuals.reshape({-1, dirs.bad_residuals.size(2)}));
  }
  const auto& scorers = run.engine.scorers();
  std::vector<std::string> objectives;
  for (const auto& objective : study_objectives(scorers)) objectives.push_back(objective.name);
  for (const auto& scorer : scorers) results.scorers.push_back(scorer.name());
  for (const auto& [number, finished] : run.study.finished()) {
    const TrialRecord record = TrialRecord::from_attributes(finished.attributes, "trial " + std::to_string(number + 1));
    io::TrialRecord row;
    row.number = number + 1;
    row.params_json = record.params.dump();
    row.values = finished.trial.values;
    row.objectives = objectives;
    row.kl = std::numeric_limits<double>::quiet_NaN();
    for (size_t i = 0; i < scorers.size(); ++i) {
      const eval::PartialScore part = i < record.scores.partial.size() ? record.scores.partial[i] : eval::PartialScore{};
      const double value = i < record.scores.values.size() ? record.scores.values[i] : std::nan("");
      row.score_sums.push_back(part.sum);
      row.score_counts.push_back(part.count);
      row.score_values.push_back(value);
      // Heretic's two standard columns, filled by the first scorer of each kind.
      const eval::ScorerPlugin* plugin = eval::find_scorer_plugin(scorers[i].config.class_name);
      const std::string column = plugin != nullptr ? plugin->results_column : "";
      if (column == "refusals" && row.refusals < 0) {
        row.refusals = static_cast<int64_t>(std::llround(part.sum));
        row.refusal_prompts = part.count;
      }
      if (column == "kl" && std::isnan(row.kl)) row.kl = value;
    }
    row.rank = record.rank;
    row.seconds = record.scores.seconds;
    row.status = finished.trial.state == optimize::TrialState::kComplete ? "complete" : "failed";
    results.trials.push_back(std::move(row));
  }
  for (const int number : run.study.pareto_front()) results.pareto.push_back(number + 1);
  const fs::path path = fs::path(run.config.output.dir) / "results.h5";
  io::write_results(path, results);
  spdlog::info("results: {}", path.string());
}

std::string model_card(const RunView& run, int trial_number) {
  const TrialRecord record = TrialRecord::from_attributes(run.study.finished().at(trial_number).attributes,
                                                          "trial " + std::to_string(trial_number + 1));
  std::ostringstream card;
  const std::string& model = run.config.model;
  const std::string& commit = run.engine.inputs().model_commit;
  card << "---\nbase_model: " << model << "\ntags:\n- heretic\n- abliterated\n- uncensored\n---\n\n";
  card << "# " << fs::path(model).filename().string() << " (abliterated, trial " << trial_number + 1 << ")\n\n";
  card << "This model is `" << model << "`";
  if (!commit.empty()) card << " (revision `" << commit << "`)";
  card << " with its refusal directions ablated by heretic-mpi " << HERETIC_VERSION
       << " (directional ablation with optimised parameters; the merged weights are exact, row normalization \""
       << config::to_string(run.config.row_normalization) << "\").\n\n";
  card << "## Scores\n\n| metric | this model | original model |\n|---|---|---|\n";
  const auto& scorers = run.engine.scorers();
  for (size_t i = 0; i < scorers.size(); ++i) {
    card << "| " << scorers[i].name() << " | " << scorers[i].scorer->format(record.scores.partial[i]) << " | "
         << scorers[i].scorer->format(run.baseline.partial[i]) << " |\n";
  }
  card << "\n## Abliteration parameters\n\n```json\n" << record.params.dump(2) << "\n```\n";
  return card.str();
}

}  // namespace heretic::app
