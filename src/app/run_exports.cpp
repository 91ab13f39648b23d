#include "app/run_exports.h"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <filesystem>

#include "ablation/trial_params.h"
#include "common/error.h"
#include "io/results_file.h"
#include "mpi/agreement.h"
#include "mpi/collectives.h"
#include "mpi/trial_messages.h"

namespace heretic::app {
namespace {

namespace fs = std::filesystem;

torch::Tensor from_matrix(const io::Matrix& matrix, const fs::path& file, const char* name) {
  if (matrix.rows == 0) throw InputError(file.string() + ": /residuals/" + name + " is missing");
  return torch::from_blob(const_cast<float*>(matrix.values.data()), {matrix.rows, matrix.cols}, torch::kFloat32).clone();
}

}  // namespace

std::vector<int> trials_to_export(const config::Config& config, const optimize::Study& study) {
  const auto& selection = config.output.export_trials;
  std::vector<int> exports;
  if (selection.kind == config::ExportSelection::Kind::kPareto) exports = study.pareto_front();
  if (selection.kind == config::ExportSelection::Kind::kTrials) {
    for (const int64_t wanted : selection.trials) {
      const auto it = study.finished().find(static_cast<int>(wanted - 1));
      if (it == study.finished().end() || it->second.trial.state != optimize::TrialState::kComplete) {
        spdlog::warn("output.export: trial {} did not finish successfully; it is not exported", wanted);
        continue;
      }
      exports.push_back(static_cast<int>(wanted - 1));
    }
  }
  return exports;
}

Directions directions_of_run(const config::Config& config) {
  const fs::path file = fs::path(config.output.dir) / "results.h5";
  const io::Results results = io::read_results(file);
  Directions dirs;
  dirs.good_mean = from_matrix(results.good_mean, file, "good_mean");
  dirs.bad_mean = from_matrix(results.bad_mean, file, "bad_mean");
  dirs.directions = from_matrix(results.directions, file, "directions");
  return dirs;
}

std::vector<int> finished_trials(dist::Communicator& comm, const optimize::Study* study,
                                 const std::vector<int64_t>& numbers) {
  return dist::agree_on(comm, [&] {
    std::vector<int> indices;
    if (study == nullptr) return indices;  // not rank 0: nothing to check
    for (const int64_t number : numbers) {
      const auto found = study->finished().find(static_cast<int>(number - 1));
      if (found == study->finished().end() || found->second.trial.state != optimize::TrialState::kComplete) {
        throw InputError("--trial " + std::to_string(number) + ": the run in " + study->journal_path().parent_path().string() +
                         " has no successfully finished trial " + std::to_string(number) + " (" +
                         std::to_string(study->finished().size()) + " finished trials)");
      }
      indices.push_back(static_cast<int>(number - 1));
      spdlog::info("exporting trial {} of {} (no trial runs)", number, study->journal_path().string());
    }
    return indices;
  });
}

void export_trials(dist::Communicator& comm, Engine& engine, const std::vector<int>& numbers, const RunView* run) {
  uint64_t count = numbers.size();
  comm.broadcast(&count, sizeof count, 0);
  for (size_t i = 0; i < count; ++i) {
    std::string trial, card;
    if (comm.rank() == 0) {
      const optimize::Trial& t = run->study.finished().at(numbers[i]).trial;
      trial = dist::encode_message(dist::TrialAssignment{t.number, run->study.space().named(t.params)});
      card = model_card(*run, t.number);
    }
    const auto assignment = std::get<dist::TrialAssignment>(dist::decode_message(dist::broadcast_string(comm, trial, 0)));
    card = dist::broadcast_string(comm, card, 0);
    if (static_cast<int>(i % static_cast<size_t>(comm.size())) != comm.rank()) continue;
    char name[32];
    const bool lora = engine.config().output.export_format == config::ExportFormat::kLora;
    std::snprintf(name, sizeof name, lora ? "trial-%03d-lora" : "trial-%03d", assignment.number + 1);
    const fs::path folder = fs::path(engine.config().output.dir) / "models" / name;
    engine.export_model(ablation::decode_trial_params(assignment.params), folder, card);
    spdlog::info("exported trial {} to {}", assignment.number + 1, folder.string());
  }
  comm.barrier();
}

}  // namespace heretic::app
