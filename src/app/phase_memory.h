// Each rank's memory after each phase of a run (the memory report): a line in the rank's log,
// a warning when the rank's peak passes output.memory_warning of what its node allows (the
// usual reason a cluster job dies without a message), and the table of all ranks for results.h5.
#pragma once

#include <string>
#include <vector>

#include "io/results_file.h"
#include "mpi/communicator.h"

namespace heretic::app {

class PhaseMemory {
 public:
  // `warning_share` in (0, 1]: the share of the node's memory that triggers the warning.
  PhaseMemory(int rank, double warning_share);

  // Samples this rank's peak resident memory at the end of `phase` and logs it.
  void record(const std::string& phase);

  // Collective: rank 0 gets every rank's phases (other ranks an empty table). Rank 0 logs a
  // warning naming each rank that passed the share.
  io::MemoryTable gather(dist::Communicator& comm) const;

 private:
  int rank_;
  double warning_share_;
  int64_t node_bytes_;
  bool warned_ = false;
  std::vector<std::string> phases_;
  std::vector<int64_t> peaks_;
};

}  // namespace heretic::app
