#include "app/main_job.h"

#include <sched.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <cxxopts.hpp>
#include <iostream>
#include <optional>
#include <set>
#include <thread>

#include "app/command.h"
#include "app/layout_memory.h"
#include "app/run.h"
#include "common/error.h"
#include "config/load.h"
#include "config/print.h"
#include "hf/model_location.h"
#include "io/logging.h"
#include "io/memory_usage.h"
#include "mpi/gpu_identity.h"
#include "mpi/agreement.h"
#include "mpi/launch.h"
#include "mpi/mpi_communicator.h"

#ifndef HERETIC_VERSION
#define HERETIC_VERSION "unknown"
#endif

namespace heretic::app {
namespace {

struct CommandLine {
  JobRequest job;
  bool print_config = false;
};

std::string help_text(const cxxopts::Options& options) {
  std::string text = options.help();
  text += "\nSubcommands (heretic-mpi <command> --help for their options):\n";
  for (const auto& command : registered_commands()) {
    text += "  " + command.name + std::string(command.name.size() < 14 ? 14 - command.name.size() : 1, ' ') +
            command.summary + "\n";
  }
  text +=
      "\nExamples:\n"
      "  mpirun -n 4 heretic-mpi --config job.toml\n"
      "  srun --mpi=pmix heretic-mpi --config job.toml --set n_trials=100\n"
      "  heretic-mpi --config job.toml --print-config\n"
      "\nExit codes:\n"
      "  0  finished\n"
      "  1  internal error\n"
      "  2  bad usage, configuration, input file or model (the message names the file and key)\n"
      "  3  stopped by SIGTERM/SIGUSR1 after saving progress; rerun the same command to resume\n";
  return text;
}

// Returns nullopt when the command line was fully handled here (--help, --version).
std::optional<CommandLine> parse_command_line(int argc, char** argv) {
  cxxopts::Options options("heretic-mpi",
                           "Removes refusal behaviour from Hugging Face chat models by directional ablation with "
                           "optimised parameters, across the ranks of an MPI job.");
  options.custom_help("--config FILE [--set KEY=VALUE ...] [--print-config] [--fresh]");
  options.add_options()("c,config", "Job configuration (TOML); see configs/default.toml",
                        cxxopts::value<std::string>(), "FILE")(
      "set", "Override a configuration key, e.g. --set n_trials=50 --set mpi.ranks_per_trial=2 (repeatable)",
      cxxopts::value<std::vector<std::string>>(), "KEY=VALUE")(
      "print-config", "Print the effective configuration as TOML and exit")(
      "fresh", "Start a new run even if output.dir holds one (its journal is kept as journal.jsonl.old)")("h,help", "Show this help and exit")(
      "version", "Print the version and exit");
  cxxopts::ParseResult parsed;
  try {
    parsed = options.parse(argc, argv);
  } catch (const std::exception& e) {
    throw InputError(std::string(e.what()) + " (see heretic-mpi --help)");
  }
  if (parsed.count("help") != 0) {
    std::cout << help_text(options);
    return std::nullopt;
  }
  if (parsed.count("version") != 0) {
    std::cout << "heretic-mpi " << HERETIC_VERSION << "\n";
    return std::nullopt;
  }
  if (!parsed.unmatched().empty()) {
    throw InputError("unexpected argument '" + parsed.unmatched().front() + "' (see heretic-mpi --help)");
  }
  if (parsed.count("config") == 0) throw InputError("--config FILE is required (see heretic-mpi --help)");
  CommandLine line;
  line.job.config_path = parsed["config"].as<std::string>();
  if (parsed.count("set") != 0) line.job.overrides = parsed["set"].as<std::vector<std::string>>();
  line.print_config = parsed.count("print-config") != 0;
  line.job.fresh = parsed.count("fresh") != 0;
  return line;
}

void log_world(const std::vector<dist::RankPlacement>& placements, int thread_level) {
  spdlog::info("world: {} rank(s); MPI thread level {}", placements.size(), thread_level);
  for (const auto& p : placements) {
    spdlog::info("  rank {:>4} on {} (local rank {}), device {}{}{}", p.rank, p.host, p.local_rank, p.device,
                 p.gpu_uuid.empty() ? "" : " (" + p.gpu_uuid + ")",
                 p.visible_gpus.empty() ? "" : ", CUDA_VISIBLE_DEVICES=" + p.visible_gpus);
  }
}

// Torch threads of this rank: OMP_NUM_THREADS when set (the user's or the batch script's choice,
// e.g. from --cpus-per-task); else the CPUs the launcher bound this rank to; else the node's
// cores split among its ranks.
int cpu_threads(const dist::Communicator& comm, const dist::LaunchEnvironment& environment) {
  if (const auto text = environment.get("OMP_NUM_THREADS")) {
    const int threads = std::atoi(text->c_str());
    if (threads > 0) return threads;
  }
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  cpu_set_t mask;
  CPU_ZERO(&mask);
  if (sched_getaffinity(0, sizeof mask, &mask) == 0) {
    const int bound = CPU_COUNT(&mask);
    if (bound > 0 && bound < cores) return bound;  // srun --cpu-bind / cgroups gave this rank its own CPUs
  }
  return std::max(1, cores / std::max(1, comm.local_size()));
}

// The memory check of this rank's layout before anything is loaded (configs/default.toml,
// mpi.memory_per_rank): "" when it fits or cannot be checked, else the message. A model folder
// the planner cannot read is left to the load, which reports it in full.
std::string layout_memory_problem(const config::Config& config, const std::string& config_path,
                                  const std::string& device, int ranks_on_node) {
  int64_t budget = config.mpi.memory_per_rank;
  std::string source = "mpi.memory_per_rank";
  if (budget < 0) return "";
  if (budget == 0) {
    const int64_t node = io::node_memory_bytes();
    if (device != "cpu" || node <= 0) {
      spdlog::info("memory plan: not checked ({}; set mpi.memory_per_rank to a size to check it)",
                   device != "cpu" ? "mpi.memory_per_rank = \"auto\" does not query device memory before loading"
                                   : "the node's memory is unknown");
      return "";
    }
    budget = node / std::max(ranks_on_node, 1);
    source = "mpi.memory_per_rank = \"auto\": the node's " + io::format_bytes(node) + " over its " +
             std::to_string(ranks_on_node) + " rank(s)";
  }
  try {
    const hf::ModelLocation location = hf::locate_model(config.model, config.model_commit);
    return check_layout_memory(config, config_path, location.folder, budget, source);
  } catch (const InputError& e) {
    spdlog::debug("memory plan: not checked ({})", e.what());
    return "";
  }
}

config::LoadedConfig load_job_config(const JobRequest& job) {
  return job.config_text ? config::parse_config(*job.config_text, job.config_path, job.overrides)
                         : config::load_config(job.config_path, job.overrides);
}

int run_phases(dist::Communicator& comm, const JobRequest& line, const dist::LaunchEnvironment& environment, dist::MpiSession& mpi) {
  const int rank = comm.rank();
  const bool leader = dist::is_launch_leader(environment, rank);
  const std::string host = dist::host_name();

  // Phase 0: was the job launched the way it believes it was? (Singletons cannot agree with
  // each other, so each decides alone; only Slurm task 0 prints.)
  if (const std::string problem = dist::check_launch(environment, rank, comm.size()); !problem.empty()) {
    throw dist::AgreedFailure(problem);  // singletons: each is its own world of one and decides alone
  }

  // Phase 1: every rank reads the same configuration, and they check that they agree.
  const config::LoadedConfig loaded =
      dist::agree_on(comm, [&] { return load_job_config(line); });
  const config::Config& config = loaded.config;
  const std::string fingerprint = config::config_fingerprint(config);
  const auto fingerprints = comm.allgather(fingerprint);
  for (int r = 1; r < comm.size(); ++r) {
    if (fingerprints[static_cast<size_t>(r)] != fingerprints[0]) {
      dist::agree(comm,
                  "rank " + std::to_string(r) + " read a different configuration from " + line.config_path + " than rank 0" +
                " (is the file on a filesystem that all nodes share, and the same on each?)");
    }
  }
  if (config.mpi.backend == config::CommBackend::kNccl) {
    // The NCCL communicator (mpi/nccl_communicator.h) is built with CUDA and NCCL, but no phase
    // reduces device tensors through it yet; saying so beats silently using MPI.
    dist::agree(comm,
                line.config_path + ": key 'mpi.backend': \"nccl\" is not available yet: every collective of a run "
              "(residual sums, about (L+1) x hidden doubles once per run, and per-trial scores) goes through MPI on "
              "host buffers. Use \"auto\" or \"mpi\"");
  }
  const int tensor_parallel = config.mpi.tensor_parallel, stages = config.mpi.pipeline_stages;
  const int copy_ranks = tensor_parallel * stages;  // one model copy (stage-major, see below)
  if (comm.size() % tensor_parallel != 0) {
    dist::agree(comm, line.config_path + ": key 'mpi.tensor_parallel': " + std::to_string(tensor_parallel) +
                          " does not divide the number of ranks (" + std::to_string(comm.size()) +
                          "); a model copy needs that many ranks");
  }
  if (comm.size() % copy_ranks != 0) {
    dist::agree(comm, line.config_path + ": key 'mpi.pipeline_stages': " + std::to_string(stages) +
                          (tensor_parallel > 1 ? " stages x mpi.tensor_parallel " + std::to_string(tensor_parallel) +
                                                     " = " + std::to_string(copy_ranks) + " ranks per model copy"
                                               : std::string()) +
                          " does not divide the number of ranks (" + std::to_string(comm.size()) +
                          "); a model copy needs that many ranks");
  }
  std::string copy_layout;  // "mpi.tensor_parallel 2 x mpi.pipeline_stages 2", the factors > 1
  if (tensor_parallel > 1) copy_layout = "mpi.tensor_parallel " + std::to_string(tensor_parallel);
  if (stages > 1)
    copy_layout += (copy_layout.empty() ? "" : " x ") + std::string("mpi.pipeline_stages ") + std::to_string(stages);
  if (comm.size() % (config.mpi.ranks_per_trial * copy_ranks) != 0) {
    dist::agree(comm,
                line.config_path + ": key 'mpi.ranks_per_trial': " + std::to_string(config.mpi.ranks_per_trial) +
                    (copy_ranks > 1 ? " model copies x " + copy_layout + " = " +
                                          std::to_string(config.mpi.ranks_per_trial * copy_ranks) +
                                          " ranks per worker group"
                                    : std::string()) +
                    " does not divide the number of ranks (" + std::to_string(comm.size()) +
                    "); use a divisor of the world size");
  }

  // output.dir must be one folder for all ranks (logs, journal, results.h5, exports).
  if (comm.size() > 1) dist::agree(comm, dist::check_shared_directory(comm, config.output.dir, "output.dir"));
  const auto log_file = io::add_rank_log_file(config.output.dir, rank, host);
  if (leader) {
    for (const auto& warning : loaded.warnings) spdlog::warn("{}", warning);
  }
  spdlog::info("heretic-mpi {} — model {}, config {} (fingerprint {})", HERETIC_VERSION, config.model,
               line.config_path, fingerprint);
  spdlog::debug("effective configuration:\n{}", config::to_toml(config));
  const std::string device = Run::choose_device(comm.local_rank());
  const std::string uuid = device.rfind("cuda:", 0) == 0 ? dist::gpu_uuid(std::stoi(device.substr(5))) : "";
  dist::RankPlacement mine{rank, comm.local_rank(), host, device,
                           environment.get("CUDA_VISIBLE_DEVICES").value_or(""), uuid};
  // Each rank's own log file says where it runs; rank 0 also prints the whole world.
  spdlog::info("this rank: {} on {} (local rank {} of {}), device {}{}", rank, host, mine.local_rank,
               comm.local_size(), device, uuid.empty() ? "" : " (" + uuid + ")");
  const auto placements = dist::gather_placements(comm, mine);
  if (leader) log_world(placements, mpi.thread_level());
  if (const std::string sharing = dist::check_gpu_sharing(placements); !sharing.empty()) {
    throw dist::AgreedFailure(sharing);  // every rank sees the same placements
  }
  spdlog::debug("log file {}", log_file.string());

  // Does the layout fit the memory of a rank? Every rank checks its own (nodes may differ).
  dist::agree(comm, layout_memory_problem(config, line.config_path, device, comm.local_size()));

  // Phase 1: every rank loads the model, tokenizer, chat template and prompts; a problem on
  // any rank ends the job on all of them.
  // A model copy is t x p consecutive ranks, stage-major: ranks s*t .. s*t + t - 1 of a copy are
  // pipeline stage s (model/pipeline_stages.h) and hold its layers split over t tensor-parallel
  // ranks (model/tensor_parallel.h); a pipeline is the p ranks of a copy with the same
  // tensor-parallel index.
  std::unique_ptr<dist::Communicator> tensor_comm, pipeline_comm;
  if (tensor_parallel > 1) tensor_comm = comm.split(rank / tensor_parallel, rank);
  if (stages > 1) pipeline_comm = comm.split(rank / copy_ranks * tensor_parallel + rank % tensor_parallel, rank);
  const std::unique_ptr<Run> run = dist::agree_on(comm, [&] {
    return Run::load(config, cpu_threads(comm, environment), device, std::move(tensor_comm), std::move(pipeline_comm));
  });
  const LoadedInputs& inputs = run->inputs();
  spdlog::info("model {} ({}, {} layers, hidden {}, {}{}); smoke test answered \"{}\"", inputs.model_folder,
               inputs.model_type, inputs.layers, inputs.hidden_size, inputs.dtype,
               inputs.model_commit.empty() ? "" : ", commit " + inputs.model_commit, inputs.smoke_response);
  for (const auto& [name, count] : inputs.prompt_sets) spdlog::info("{}: {} prompts", name, count);

  // Phases 2–5. Problems every rank sees alike (a journal that does not fit this configuration)
  // end the job in agreement; anything else aborts it (run_world).
  const int code = run->execute(comm, RunSettings{line.config_path, fingerprint, line.fresh, line.export_only});
  comm.barrier();
  io::flush_logs();
  return code;
}

// Runs the phases. An error every rank has (dist::AgreedFailure) ends the job normally with exit
// code 2: the leader prints it, then all ranks pass a barrier, so that no rank exits (and makes
// mpirun kill the rest) before it is printed. Any other error is this rank's alone and aborts
// the whole job, because the other ranks may be waiting for it in a collective.
int run_world(const JobRequest& line, const dist::LaunchEnvironment& environment, dist::MpiSession& mpi) {
  auto comm = mpi.world();
  const bool leader = dist::is_launch_leader(environment, comm->rank());
  io::setup_console_logging(leader ? 0 : std::max(comm->rank(), 1), dist::host_name(),
                            dist::started_by_launcher(environment));
  ExitCode code = ExitCode::kInternal;
  std::string message;
  try {
    return run_phases(*comm, line, environment, mpi);
  } catch (const dist::AgreedFailure& e) {
    if (leader) {
      std::fprintf(stderr, "heretic-mpi: error: %s\n", e.what());
      std::fflush(stderr);
    }
    io::flush_logs();
    comm->barrier();
    return static_cast<int>(ExitCode::kBadInput);
  } catch (const InputError& e) {
    code = ExitCode::kBadInput;
    message = std::string("error: ") + e.what();
  } catch (const StopRequested& e) {
    code = ExitCode::kStopped;
    message = std::string("stopped: ") + e.what();
  } catch (const std::exception& e) {
    message = std::string("internal error: ") + e.what();
  }
  std::fprintf(stderr, "heretic-mpi: rank %d: %s\n", comm->rank(), message.c_str());
  spdlog::error("{}", message);
  io::flush_logs();
  if (comm->size() > 1) comm->abort(static_cast<int>(code));
  return static_cast<int>(code);
}

}  // namespace

int run_main_job(int argc, char** argv) {
  const auto line = parse_command_line(argc, argv);
  if (!line) return static_cast<int>(ExitCode::kOk);
  if (line->print_config) {
    // A local action: no MPI, nothing written.
    std::cout << config::to_toml(load_job_config(line->job).config);
    return static_cast<int>(ExitCode::kOk);
  }
  return run_job(line->job, &argc, &argv);
}

int run_job(const JobRequest& request, int* argc, char*** argv) {
  const auto environment = dist::LaunchEnvironment::from_process();  // before MPI_Init changes it
  if (const std::string problem = dist::check_before_mpi_init(environment); !problem.empty()) {
    // No MPI yet: Slurm task 0 speaks for all of them.
    if (dist::is_launch_leader(environment, 0)) std::fprintf(stderr, "heretic-mpi: error: %s\n", problem.c_str());
    return static_cast<int>(ExitCode::kBadInput);
  }
  dist::MpiSession mpi(argc, argv);
  return run_world(request, environment, mpi);
}

}  // namespace heretic::app
