// The trial farm (DESIGN.md §1 phase 4). The ranks form worker groups of `group_size`
// consecutive ranks. A coordinator thread on rank 0 keeps every idle group busy with a trial
// from a TrialSource and records each outcome (the source persists it) before that group gets
// its next one; rank 0's main thread meanwhile works in group 0. A group evaluates one trial at
// a time on all its ranks, with its prompts sharded inside the group.
//
// Stopping: on a stop signal no new trial starts and the trials in flight get the grace time
// to finish. A trial still running after it is abandoned: the source saves what is finished,
// and the job ends with exit code 3 (Communicator::abort), since ranks inside a forward pass
// cannot be interrupted. The abandoned trials run again when the job is resumed.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "mpi/communicator.h"
#include "mpi/trial_messages.h"

namespace heretic::dist {

// What the coordinator hands out and what it does with the outcomes (implemented over the
// study; called from rank 0's coordinator thread only).
class TrialSource {
 public:
  virtual ~TrialSource() = default;
  // The next trial to start, or nullopt when no further trial should start.
  virtual std::optional<TrialAssignment> next_trial() = 0;
  // The group led by world rank `leader` finished `outcome.number`. Persist it before returning:
  // the group gets its next trial right after.
  virtual void record(const TrialOutcome& outcome, int leader) = 0;
  // A stop signal arrived (`who` is "" for this process, else e.g. "rank 2"); `in_flight`
  // trials still run and get `grace_seconds`.
  virtual void stopping(int signal, const std::string& who, size_t in_flight, double grace_seconds) = 0;
  // The grace time is over and `running` still run: save what is finished. The farm then ends
  // the job with exit code 3.
  virtual void abandon(const std::vector<int32_t>& running) = 0;
};

struct FarmOptions {
  int group_size = 1;
  double stop_grace_seconds = 60.0;
  // The signal that asked this process to stop, or 0; empty means dist::stop_signal().
  std::function<int()> stop_signal;
};

class TrialFarm {
 public:
  // Evaluates a trial; called on every rank of a group with the same assignment. The group
  // leader's outcome (scores already summed over the group) is reported. On a one-rank group
  // an exception is a failed trial; on a larger one it ends the job, because the group's other
  // ranks may be waiting in a collective.
  using Evaluate = std::function<TrialOutcome(const TrialAssignment&)>;

  // Collective over `world`: forms the worker groups and the farm's private channel. Throws
  // std::invalid_argument when group_size does not divide the world.
  TrialFarm(Communicator& world, FarmOptions options);
  ~TrialFarm();
  TrialFarm(const TrialFarm&) = delete;
  TrialFarm& operator=(const TrialFarm&) = delete;

  // This rank's worker group.
  Communicator& group() { return *group_; }
  int group_count() const { return world_.size() / options_.group_size; }

  // Collective over the world; rank 0 passes its source, the others nullptr. Returns, on every
  // rank, the stop signal that ended the farm before the source ran out of trials, or 0.
  int run(TrialSource* source, const Evaluate& evaluate);

 private:
  void coordinate(TrialSource& source);
  void work(const Evaluate& evaluate);
  int stop_signal() const;

  Communicator& world_;
  FarmOptions options_;
  std::unique_ptr<Communicator> group_;
  std::unique_ptr<Communicator> channel_;  // coordinator <-> group leaders, nothing else
  int stop_ = 0;                           // rank 0: the signal that stopped the coordinator
  std::atomic<bool> worker_failed_{false};  // rank 0: its worker threw; the coordinator returns
};

}  // namespace heretic::dist
