// The main job: `heretic-mpi --config job.toml` under mpirun/srun (DESIGN.md §1).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace heretic::app {

// What a job does: the configuration (a file, or a text such as the one results.h5 keeps, with
// `config_path` naming where it came from), overrides, and either a run or only the export of
// trials a run in output.dir has finished.
struct JobRequest {
  std::string config_path;
  std::optional<std::string> config_text;
  std::vector<std::string> overrides;
  bool fresh = false;
  std::vector<int64_t> export_only;  // trial numbers (1-based); non-empty: export them, run no trial
};

// Starts MPI and runs `request` as run_main_job does after parsing its command line.
int run_job(const JobRequest& request, int* argc, char*** argv);

// Parses the command line, starts MPI and runs the phases of a run. Returns the exit code.
// Errors every rank agrees on (bad configuration) end the job normally with exit code 2;
// an error on one rank aborts the whole job so that no rank hangs in a collective.
int run_main_job(int argc, char** argv);

}  // namespace heretic::app
