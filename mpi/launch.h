// Launch checks and the world layout (DESIGN.md §1 phase 0).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "mpi/communicator.h"

namespace heretic::dist {

// The launcher's environment variables, captured before MPI_Init (which may change them).
class LaunchEnvironment {
 public:
  static LaunchEnvironment from_process();
  explicit LaunchEnvironment(std::map<std::string, std::string> variables) : variables_(std::move(variables)) {}
  std::optional<std::string> get(const std::string& name) const;

 private:
  std::map<std::string, std::string> variables_;
};

// "" when the MPI world matches what the launcher started, else an explanation of the usual
// mistake: `srun` without PMIx starts N independent singletons, each believing it is rank 0
// of 1 (spec/anchors-and-hpc-conventions.md §C.1).
std::string check_launch(const LaunchEnvironment& environment, int rank, int size);

// Whether this process should speak for the others before the world is known to be sane:
// rank 0 of MPI, and also task 0 of Slurm (all singletons are MPI rank 0).
bool is_launch_leader(const LaunchEnvironment& environment, int rank);

struct RankPlacement {
  int rank = 0;
  int local_rank = 0;
  std::string host;
  std::string device;        // "cpu", "cuda:0", ...
  std::string visible_gpus;  // CUDA_VISIBLE_DEVICES as seen by the rank, or ""
};

// Gathers every rank's placement (collective). Indexed by rank.
std::vector<RankPlacement> gather_placements(Communicator& comm, const RankPlacement& mine);

std::string host_name();

}  // namespace heretic::dist
