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

// What can be known before MPI_Init: "" unless srun started several tasks without any PMI
// plugin and this MPI cannot start that way (Open MPI), in which case MPI_Init would fail with
// a message that does not say what to do. Then every task gets the explanation.
std::string check_before_mpi_init(const LaunchEnvironment& environment);

// Whether a launcher (mpirun/mpiexec, srun) started this process and forwards its output.
bool started_by_launcher(const LaunchEnvironment& environment);

// Whether this process should speak for the others before the world is known to be sane:
// rank 0 of MPI, and also task 0 of Slurm (all singletons are MPI rank 0).
bool is_launch_leader(const LaunchEnvironment& environment, int rank);

struct RankPlacement {
  int rank = 0;
  int local_rank = 0;
  std::string host;
  std::string device;        // "cpu", "cuda:0", ...
  std::string visible_gpus;  // CUDA_VISIBLE_DEVICES as seen by the rank, or ""
  std::string gpu_uuid;      // the physical GPU the rank uses ("GPU-..."), or "" (CPU, or unknown)
};

// Gathers every rank's placement (collective). Indexed by rank.
std::vector<RankPlacement> gather_placements(Communicator& comm, const RankPlacement& mine);

std::string host_name();

// "" unless two ranks on one host use the same physical GPU (more ranks than GPUs, or every
// task seeing all GPUs while the binding assumes one each); the explanation names the ranks,
// the host and the GPU, and how to launch one rank per GPU.
std::string check_gpu_sharing(const std::vector<RankPlacement>& placements);

// Collective. Rank 0 writes a file with a random token into `directory` (creating it), and
// every rank reads it back: a rank that cannot see it runs on a node where `directory` is not
// the same folder (node-local /tmp, an unmounted filesystem). Returns this rank's problem, or
// "". `what` names the setting for the message (e.g. "output.dir").
std::string check_shared_directory(Communicator& comm, const std::string& directory, const std::string& what);

}  // namespace heretic::dist
