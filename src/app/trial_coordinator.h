// Rank 0's side of the trial farm (mpi/trial_farm.h) for a run: trials come from the study,
// each outcome becomes the study's record of that trial (journaled before the group gets its
// next trial) and a progress line; a stop is announced, and an abandon saves results.h5.
#pragma once

#include <chrono>
#include <set>

#include "app/engine.h"
#include "app/run_report.h"
#include "mpi/trial_farm.h"
#include "optimize/study.h"

namespace heretic::app {

class TrialCoordinator final : public dist::TrialSource {
 public:
  // `group_size`: ranks per worker group; `world_size`: all ranks.
  TrialCoordinator(const RunView& run, optimize::Study& study, int group_size);

  std::optional<dist::TrialAssignment> next_trial() override;
  void record(const dist::TrialOutcome& outcome, int leader) override;
  void stopping(int signal, const std::string& who, size_t in_flight, double grace_seconds) override;
  void abandon(const std::vector<int32_t>& running) override;

  // Trials finished in this process (not read back from the journal), and its seconds so far.
  int64_t ran() const;
  double seconds() const;

 private:
  void log_progress(int number, const ablation::TrialParams& params, const TrialRecord& record, bool failed,
                    int leader) const;

  RunView run_;
  optimize::Study& study_;
  int group_size_;
  std::set<int> in_flight_;
  int stop_signal_ = 0;
  double grace_seconds_ = 0.0;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace heretic::app
