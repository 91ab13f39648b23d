// Phases 1–5 of a run on this rank (DESIGN.md §1), behind a torch-free interface so that
// main_job.cpp stays light. Phase 1 (load) is separate so that the main job can make every
// rank agree on load errors before any collective computation starts.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "app/run_inputs.h"
#include "config/config.h"
#include "mpi/communicator.h"

namespace heretic::app {

class Engine;

struct RunSettings {
  std::string config_path;
  std::string config_fingerprint;
  bool fresh = false;  // ignore (and replace) an existing journal in output.dir
  // Non-empty: run no trial; export these finished trials (1-based numbers) of the run that
  // output.dir holds, exactly as that run would have (its journal must match this configuration).
  std::vector<int64_t> export_only;
};

class Run {
 public:
  // Phase 1 on this rank; throws InputError naming the file and key. `cpu_threads` > 0 sets
  // torch's intra-op threads (ranks sharing a node split its cores); 0 leaves torch's choice.
  // `device` is "cpu" or "cuda:N" (see choose_device).
  // With mpi.tensor_parallel = t > 1, `tensor_comm` holds the t consecutive ranks that load
  // one model copy together (model/tensor_parallel.h); else it is unused (may be null). With
  // mpi.pipeline_stages = p > 1, `pipeline_comm` holds the p ranks, one per stage, that pass
  // activations to each other (model/pipeline_stages.h); else unused.
  static std::unique_ptr<Run> load(const config::Config& config, int cpu_threads, const std::string& device,
                                   std::unique_ptr<dist::Communicator> tensor_comm = nullptr,
                                   std::unique_ptr<dist::Communicator> pipeline_comm = nullptr);
  // The device of the rank with node-local rank `local_rank`: the visible GPU local_rank % count
  // when this libtorch has CUDA and sees GPUs (one rank per GPU: with --gpus-per-task each task
  // sees its own as cuda:0; with a node-level allocation rank r takes GPU r), else "cpu".
  static std::string choose_device(int local_rank);
  ~Run();

  const LoadedInputs& inputs() const;

  // Phases 2–5 over `comm` (every rank of the job calls it). Returns the exit code. Throws
  // dist::AgreedFailure on every rank together, anything else on one rank alone.
  int execute(dist::Communicator& comm, const RunSettings& settings);

 private:
  Run();
  std::unique_ptr<Engine> engine_;
};

}  // namespace heretic::app
