#include "mpi/launch.h"

#include <mpi.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
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
        name.rfind("HYDRA_", 0) == 0 || name == "CUDA_VISIBLE_DEVICES" || name == "OMP_NUM_THREADS") {
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

std::string check_before_mpi_init(const LaunchEnvironment& env) {
#if defined(OMPI_MAJOR_VERSION)
  // Open MPI cannot start under `srun --mpi=none` (or a cluster whose MpiDefault is none): the
  // tasks get no PMI server, and MPI_Init fails with a message that does not say what to do.
  // srun's PMIx plugin sets PMIX_RANK, its PMI-2 plugin PMI_RANK; mpirun sets OMPI_COMM_WORLD_SIZE.
  const auto tasks = as_number(env.get("SLURM_NTASKS")).has_value() ? as_number(env.get("SLURM_NTASKS"))
                                                                    : as_number(env.get("SLURM_NPROCS"));
  const bool in_step = env.get("SLURM_STEP_ID").has_value() || env.get("SLURM_STEPID").has_value();
  const bool wired = env.get("PMIX_RANK") || env.get("PMI_RANK") || env.get("OMPI_COMM_WORLD_SIZE");
  if (in_step && tasks && *tasks > 1 && !wired) {
    return "srun started " + std::to_string(*tasks) +
           " tasks without a PMI plugin, so they cannot form one MPI job (Open MPI needs PMIx). Launch with "
           "`srun --mpi=pmix heretic-mpi ...` (`srun --mpi=list` shows what the cluster offers; MpiDefault=pmix in "
           "slurm.conf makes it the default), or use mpirun inside the allocation";
  }
#else
  (void)env;
#endif
  return "";
}

bool started_by_launcher(const LaunchEnvironment& env) {
  // Open MPI's mpirun, PMIx (srun --mpi=pmix, prterun), PMI-1/2 (MPICH's Hydra, srun --mpi=pmi2),
  // and any srun step.
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "SLURM_STEP_ID", "SLURM_STEPID"}) {
    if (env.get(name)) return true;
  }
  return false;
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
                             sep + mine.device + sep + mine.visible_gpus + sep + mine.gpu_uuid;
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
    fields.resize(6);
    placements.push_back(RankPlacement{std::atoi(fields[0].c_str()), std::atoi(fields[1].c_str()), fields[2],
                                       fields[3], fields[4], fields[5]});
  }
  return placements;
}

std::string check_gpu_sharing(const std::vector<RankPlacement>& placements) {
  std::map<std::pair<std::string, std::string>, std::vector<int>> users;  // (host, GPU) -> ranks
  for (const auto& p : placements) {
    if (!p.gpu_uuid.empty()) users[{p.host, p.gpu_uuid}].push_back(p.rank);
  }
  for (const auto& [where, ranks] : users) {
    if (ranks.size() < 2) continue;
    std::ostringstream out;
    out << "ranks";
    for (size_t i = 0; i < ranks.size(); ++i) out << (i ? ", " : " ") << ranks[i];
    out << " on " << where.first << " all use GPU " << where.second
        << ": there are more ranks on this node than GPUs they can see. Start one rank per GPU (srun "
           "--ntasks-per-node=<GPUs per node> with --gpus-per-task=1, or --gpus-per-node=N with N tasks per "
           "node; heretic-mpi gives node-local rank r the visible GPU r), or use fewer ranks";
    return out.str();
  }
  return "";
}

std::string check_shared_directory(Communicator& comm, const std::string& directory, const std::string& what) {
  namespace fs = std::filesystem;
  const fs::path probe = fs::path(directory) / ".heretic-shared-check";
  std::string problem;
  uint64_t token = 0;
  if (comm.rank() == 0) {
    std::error_code error;
    fs::create_directories(directory, error);
    token = (uint64_t{std::random_device()()} << 32 | std::random_device()()) | 1;  // never 0
    std::ofstream out(probe, std::ios::trunc);
    out << token << "\n";
    out.close();
    if (error || !out) {
      problem = what + " '" + directory + "': cannot create a file there (" +
                (error ? error.message() : std::string("write failed")) + ")";
      token = 0;  // tells the others there is nothing to look for
    }
  }
  comm.broadcast(&token, sizeof token, 0);
  comm.barrier();  // rank 0's file is written before anyone looks
  if (comm.rank() != 0 && token != 0) {
    std::ifstream in(probe);
    uint64_t seen = 0;
    if (!(in >> seen) || seen != token) {
      problem = what + " '" + directory + "' is not shared with rank 0: this rank, on " + host_name() +
                ", does not see the file rank 0 just wrote there (" + probe.string() +
                "). Every rank writes its log and rank 0 the journal and results there, and exports are "
                "written by several ranks: put " + what +
                " on a filesystem that every node mounts at the same path (a parallel or network "
                "filesystem such as your project or scratch space), not node-local storage such as /tmp";
    }
  }
  comm.barrier();  // everyone has looked before the file goes
  if (comm.rank() == 0) {
    std::error_code ignored;
    fs::remove(probe, ignored);
  }
  return problem;
}

}  // namespace heretic::dist
