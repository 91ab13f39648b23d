#include "mpi/launch.h"

#include <unistd.h>

#include <cstdlib>
#include <sstream>

extern char** environ;

namespace heretic::dist {
namespace {

std::optional<long> as_number(const std::optional<std::string>& text) {
  if (!text || text->empty()) return std::nullopt;
  char* end = nullptr;
  const long value = std::strtol(text->c_str(), &end, 10);
  if (*end != '\0') return std::nullopt;
  return value;
}

}  // namespace

LaunchEnvironment LaunchEnvironment::from_process() {
  std::map<std::string, std::string> variables;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string text(*entry);
    const size_t equals = text.find('=');
    if (equals == std::string::npos) continue;
    const std::string name = text.substr(0, equals);
    if (name.rfind("SLURM_", 0) == 0 || name.rfind("OMPI_", 0) == 0 || name.rfind("PMI", 0) == 0 ||
        name.rfind("HYDRA_", 0) == 0 || name == "CUDA_VISIBLE_DEVICES") {
      variables[name] = text.substr(equals + 1);
    }
  }
  return LaunchEnvironment(std::move(variables));
}

std::optional<std::string> LaunchEnvironment::get(const std::string& name) const {
  const auto it = variables_.find(name);
  return it == variables_.end() ? std::nullopt : std::optional<std::string>(it->second);
}

std::string check_launch(const LaunchEnvironment& env, int rank, int size) {
  // Started by an mpirun/mpiexec (Open MPI or MPICH Hydra): it tells each process the size.
  const auto launcher_size = as_number(env.get("OMPI_COMM_WORLD_SIZE")).has_value()
                                 ? as_number(env.get("OMPI_COMM_WORLD_SIZE"))
                                 : as_number(env.get("PMI_SIZE"));
  if (launcher_size) {
    if (*launcher_size != size) {
      std::ostringstream out;
      out << "the launcher started " << *launcher_size << " processes but MPI reports a world of " << size
          << "; the MPI library does not match the mpirun that started it (check `which mpirun` and "
             "the MPI that heretic-mpi was built with)";
      return out.str();
    }
    return "";
  }
  // A task of an srun step (direct launch).
  const auto tasks = as_number(env.get("SLURM_NTASKS")).has_value() ? as_number(env.get("SLURM_NTASKS"))
                                                                    : as_number(env.get("SLURM_NPROCS"));
  const auto step = env.get("SLURM_STEP_ID").has_value() ? env.get("SLURM_STEP_ID") : env.get("SLURM_STEPID");
  const auto task = as_number(env.get("SLURM_PROCID"));
  if (tasks && step && task) {
    if (*tasks != size || *task != rank) {
      std::ostringstream out;
      out << "srun started " << *tasks << " tasks, but this one (SLURM_PROCID " << *task << ") sees an MPI world of "
          << size << " with itself as rank " << rank << ": the tasks started as " << *tasks
          << " independent singletons because srun and MPI did not connect through PMI. Launch with "
             "`srun --mpi=pmix heretic-mpi ...` (`srun --mpi=list` shows what the cluster offers; "
             "MpiDefault=pmix in slurm.conf makes it the default), or use mpirun inside the allocation";
      return out.str();
    }
  }
  return "";
}

bool is_launch_leader(const LaunchEnvironment& env, int rank) {
  if (rank != 0) return false;
  const auto task = as_number(env.get("SLURM_PROCID"));
  return !task || *task == 0 || env.get("OMPI_COMM_WORLD_SIZE").has_value();
}

std::string host_name() {
  char name[256] = {0};
  if (gethostname(name, sizeof name - 1) != 0) return "unknown-host";
  return name;
}

std::vector<RankPlacement> gather_placements(Communicator& comm, const RankPlacement& mine) {
  // Fields separated by '\x1f' (unit separator), which no host or device name contains.
  const std::string sep(1, '\x1f');
  const std::string packed = std::to_string(mine.rank) + sep + std::to_string(mine.local_rank) + sep + mine.host +
                             sep + mine.device + sep + mine.visible_gpus;
  std::vector<RankPlacement> placements;
  for (const auto& text : comm.allgather(packed)) {
    std::vector<std::string> fields;
    size_t start = 0;
    for (;;) {
      const size_t end = text.find('\x1f', start);
      fields.push_back(text.substr(start, end == std::string::npos ? std::string::npos : end - start));
      if (end == std::string::npos) break;
      start = end + 1;
    }
    fields.resize(5);
    placements.push_back(RankPlacement{std::atoi(fields[0].c_str()), std::atoi(fields[1].c_str()), fields[2],
                                       fields[3], fields[4]});
  }
  return placements;
}

}  // namespace heretic::dist
