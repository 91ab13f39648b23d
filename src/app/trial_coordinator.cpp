#include "app/trial_coordinator.h"

#include <spdlog/spdlog.h>

#include <cmath>
#include <cstdio>

#include "io/logging.h"
#include "mpi/stop_signals.h"
#include "optimize/tpe_sampler.h"

namespace heretic::app {

TrialCoordinator::TrialCoordinator(const RunView& run, optimize::Study& study, int group_size)
    : run_(run), study_(study), group_size_(group_size), start_(std::chrono::steady_clock::now()) {}

int64_t TrialCoordinator::ran() const {
  return static_cast<int64_t>(study_.finished().size()) - static_cast<int64_t>(study_.resumed());
}

double TrialCoordinator::seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

std::optional<dist::TrialAssignment> TrialCoordinator::next_trial() {
  if (static_cast<int64_t>(study_.finished().size() + in_flight_.size()) >= run_.config.n_trials) return std::nullopt;
  const optimize::Trial trial = study_.ask();
  in_flight_.insert(trial.number);
  return dist::TrialAssignment{trial.number, study_.space().named(trial.params)};
}

void TrialCoordinator::record(const dist::TrialOutcome& outcome, int leader) {
  in_flight_.erase(outcome.number);
  const auto& scorers = run_.engine.scorers();
  const size_t n = scorers.size();
  std::vector<eval::PartialScore> partial;
  for (const dist::ScoreSum& s : outcome.scores) partial.push_back({s.sum, s.count});
  // A failed trial scored no prompt: every value is NaN.
  if (outcome.failed || partial.size() != n) partial.assign(n, eval::PartialScore{});
  TrialRecord record;
  const ablation::TrialParams params =
      ablation::decode_trial_params(study_.space().named(study_.sampler().trial(outcome.number).params));
  record.params = ablation::to_json(params);
  record.scores = Scores::from_partial(std::move(partial), outcome.seconds);
  record.rank = leader;
  record.ranks = group_size_;

  std::vector<double> objectives;
  for (size_t i = 0; i < n; ++i) {
    if (scorers[i].optimised()) objectives.push_back(record.scores.values[i]);
  }
  const optimize::StudyTrial& finished = study_.tell(outcome.number, objectives, record.to_attributes());
  log_progress(outcome.number, params, record, finished.trial.state != optimize::TrialState::kComplete, leader);
}

void TrialCoordinator::log_progress(int number, const ablation::TrialParams& params, const TrialRecord& record,
                                    bool failed, int leader) const {
  const auto& scorers = run_.engine.scorers();
  const int64_t done = static_cast<int64_t>(study_.finished().size());
  const double elapsed = seconds();
  const double eta = ran() > 0 ? elapsed / static_cast<double>(ran()) * static_cast<double>(run_.config.n_trials - done) : 0.0;
  // Best so far: the lexicographically smallest objective values (refusals first by default).
  std::string best_text = "none yet";
  if (const optimize::StudyTrial* best = study_.best()) {
    const TrialRecord best_record = TrialRecord::from_attributes(best->attributes, "trial");
    best_text = "#" + std::to_string(best->trial.number + 1) + " " + describe_scores(scorers, best_record.scores);
  }
  spdlog::info("[trial {:>3}/{}] {}{} | {} | {}{} | best {} | ETA {}", number + 1, run_.config.n_trials,
               describe_scores(scorers, record.scores), failed ? " (failed)" : "", ablation::describe(params),
               format_duration(record.scores.seconds),
               run_.world_size > group_size_ ? " on rank " + std::to_string(leader) : "", best_text,
               format_duration(eta));
}

void TrialCoordinator::stopping(int signal, const std::string& who, size_t in_flight, double grace_seconds) {
  stop_signal_ = signal;
  grace_seconds_ = grace_seconds;
  const std::string what = who.empty() ? std::string(dist::signal_name(signal)) + " received"
                                       : who + " received " + dist::signal_name(signal);
  char grace[32];
  std::snprintf(grace, sizeof grace, "%.0f", grace_seconds);
  spdlog::warn("{}: starting no new trial; {} trial(s) in flight get {}s to finish", what, in_flight, grace);
}

void TrialCoordinator::abandon(const std::vector<int32_t>& running) {
  std::string numbers;
  for (const int32_t number : running) numbers += (numbers.empty() ? "#" : ", #") + std::to_string(number + 1);
  char grace[32];
  std::snprintf(grace, sizeof grace, "%.0f", grace_seconds_);
  spdlog::warn("trial(s) {} still running {}s after {}: abandoned, they run again on resume", numbers, grace,
               dist::signal_name(stop_signal_));
  try {
    write_results_file(run_);
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
  }
  spdlog::warn("stopped by {} after {} of {} trials; the journal and results.h5 are saved — rerun the same command "
               "to resume",
               dist::signal_name(stop_signal_), study_.finished().size(), run_.config.n_trials);
  io::flush_logs();
  std::fflush(stdout);
  std::fflush(stderr);
}

}  // namespace heretic::app
