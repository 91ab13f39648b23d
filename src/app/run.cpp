// Phases 2–5 of a run (DESIGN.md §1). The prefix, baselines and directions are computed by all
// ranks over shards of the prompts. Trials are then farmed out (mpi/trial_farm.h) to worker
// groups of mpi.ranks_per_trial ranks by a coordinator on rank 0, which asks the study and
// journals every result before that group gets its next trial. Rank 0 writes results.h5; the
// exports are shared out among the ranks.
#include "app/run.h"

#include <spdlog/spdlog.h>
#include <torch/cuda.h>
#include <torch/version.h>

#include <chrono>
#include <filesystem>

#include "app/engine.h"
#include "app/phase_memory.h"
#include "app/run_exports.h"
#include "app/run_report.h"
#include "app/trial_coordinator.h"
#include "common/fnv_hash.h"
#include "config/compare.h"
#include "config/print.h"
#include "io/results_file.h"
#include "mpi/agreement.h"
#include "mpi/collectives.h"
#include "mpi/communicator_pipeline_group.h"
#include "mpi/communicator_tensor_group.h"
#include "mpi/stop_signals.h"
#include "mpi/trial_farm.h"

#ifndef HERETIC_VERSION
#define HERETIC_VERSION "unknown"
#endif

namespace heretic::app {
namespace {

namespace fs = std::filesystem;
using nlohmann::ordered_json;

std::string tensor_hash(const torch::Tensor& tensor) {
  const torch::Tensor t = tensor.contiguous().cpu();
  return fnv1a_hex(t.data_ptr(), static_cast<size_t>(t.numel()) * t.element_size());
}

// Rank 0's study in <output.dir>/journal.jsonl. A journal of another configuration or of other
// refusal directions is refused, naming what differs.
std::unique_ptr<optimize::Study> open_study(const Engine& engine, const RunSettings& settings) {
  const config::Config& config = engine.config();
  const config::Config study = config::study_config(config);
  const std::string directions = tensor_hash(engine.directions().directions);
  optimize::StudyOptions options;
  options.objectives = study_objectives(engine.scorers());
  options.n_startup_trials = static_cast<int>(config.n_startup_trials);
  options.n_ei_candidates = 128;  // Heretic's setting (spec/heretic-behavior.md §3.2)
  options.seed = config.seed;
  options.version = HERETIC_VERSION;
  options.identity = {{"study", config::config_fingerprint(study)}, {"config", config::to_toml(study)},
                      {"directions", directions}};
  options.check_identity = [&](const ordered_json& stored) {
    const std::string what =
        config::study_mismatch(stored.value("study", ""), stored.value("config", ""), config);
    if (!what.empty()) return what;
    if (stored.value("directions", "") != directions) {
      return std::string("the refusal directions differ (different model weights or prompts)");
    }
    return std::string();
  };
  const optimize::SearchSpace space = ablation::trial_search_space(static_cast<int>(engine.num_layers()),
                                                                   engine.components(), config.search_space);
  const fs::path path = fs::path(config.output.dir) / "journal.jsonl";
  try {
    return optimize::Study::open(path, space, options, settings.fresh);
  } catch (const InputError&) {
    throw;
  } catch (const std::exception& e) {
    throw InputError(path.string() + ": " + e.what());
  }
}

}  // namespace

Run::Run() = default;
Run::~Run() = default;

std::unique_ptr<Run> Run::load(const config::Config& config, int cpu_threads, const std::string& device,
                               std::unique_ptr<dist::Communicator> tensor_comm,
                               std::unique_ptr<dist::Communicator> pipeline_comm) {
  if (cpu_threads > 0) torch::set_num_threads(cpu_threads);
  std::unique_ptr<Run> run(new Run());
  std::shared_ptr<model::TensorParallelGroup> group;
  if (config.mpi.tensor_parallel > 1) group = std::make_shared<dist::CommunicatorTensorGroup>(std::move(tensor_comm));
  std::shared_ptr<model::PipelineGroup> pipeline;
  if (config.mpi.pipeline_stages > 1)
    pipeline = std::make_shared<dist::CommunicatorPipelineGroup>(std::move(pipeline_comm),
                                                                 config.mpi.pipeline_micro_batches);
  run->engine_ = Engine::load(config, torch::Device(device), std::move(group), std::move(pipeline));
  return run;
}

namespace {

// Under tensor and pipeline parallelism the t x p ranks of a model copy compute the same results
// together, so prompts are sharded over model copies: over the ranks of `comm` with the same
// place in their copy (rank mod t x p; copies are consecutive ranks).
std::unique_ptr<dist::Communicator> split_by_copy(dist::Communicator& comm, int copy_ranks) {
  return comm.split(comm.rank() % copy_ranks, comm.rank());
}

}  // namespace

std::string Run::choose_device(int local_rank) {
  if (!torch::cuda::is_available()) return "cpu";
  const auto count = static_cast<int>(torch::cuda::device_count());
  return "cuda:" + std::to_string(local_rank % std::max(count, 1));
}

const LoadedInputs& Run::inputs() const { return engine_->inputs(); }

int Run::execute(dist::Communicator& comm, const RunSettings& settings) {
  Engine& engine = *engine_;
  const config::Config& config = engine.config();
  const bool leader = comm.rank() == 0;
  dist::install_stop_handlers();
  PhaseMemory memory(comm.rank(), config.output.memory_warning);
  memory.record("load");
  if (config.print_debug_information) {
    spdlog::info("rank {}: libtorch {}, {} intra-op thread(s), {} inter-op thread(s), device {}", comm.rank(),
                 TORCH_VERSION, torch::get_num_threads(), torch::get_num_interop_threads(),
                 engine.model().device().str());
  }
  auto phase_start = std::chrono::steady_clock::now();
  auto phase_seconds = [&phase_start] {
    const auto now = std::chrono::steady_clock::now();
    const double s = std::chrono::duration<double>(now - phase_start).count();
    phase_start = now;
    return s;
  };

  // Phase 2: response prefix, prompts encoded with it, baselines. Worker groups of
  // ranks_per_trial consecutive ranks (the main job checked that it divides the world) each
  // compute the baselines of their own shards, which a trial's scores need; the baseline
  // scores are the same in every group.
  // Prompts are sharded over model copies (split_by_copy); with one rank per copy these are
  // simply `comm` and the farm's group.
  const int copy_ranks = config.mpi.tensor_parallel * config.mpi.pipeline_stages;
  std::unique_ptr<dist::Communicator> world_copies;
  if (copy_ranks > 1) world_copies = split_by_copy(comm, copy_ranks);
  dist::Communicator& shards = world_copies ? *world_copies : comm;
  const std::string prefix = engine.response_prefix(shards);
  spdlog::info("response prefix ({}): {}", config.response_prefix ? "configured" : "detected",
               prefix.empty() && !config.response_prefix ? "none" : nlohmann::json(prefix).dump());
  engine.prepare(prefix);
  const int group_size = config.mpi.ranks_per_trial * copy_ranks;
  dist::TrialFarm farm(comm, {group_size, config.mpi.stop_grace_seconds, {}});
  std::unique_ptr<dist::Communicator> group_copies;
  if (copy_ranks > 1) group_copies = split_by_copy(farm.group(), copy_ranks);
  dist::Communicator& trial_shards = group_copies ? *group_copies : farm.group();
  const Scores baseline = engine.baseline(trial_shards);
  spdlog::info("baseline: {} ({})", describe_scores(engine.scorers(), baseline), format_duration(phase_seconds()));
  memory.record("baselines");

  // Phase 3: directions (an export after the job takes the run's own).
  const Directions& dirs = settings.export_only.empty()
                               ? engine.compute_directions(shards)
                               : engine.use_directions(dist::agree_on(comm, [&] { return directions_of_run(config); }));
  if (settings.export_only.empty()) {
    spdlog::info("refusal directions from {} good and {} bad prompts, {} rows of {} ({})", dirs.good_count,
                 dirs.bad_count, dirs.directions.size(0), dirs.directions.size(1), format_duration(phase_seconds()));
    if (config.print_residual_geometry && leader) log_residual_geometry(dirs);
  } else {
    spdlog::info("refusal directions of the run, from its results.h5");
  }
  memory.record("directions");

  // Phase 4: the study (rank 0) and the trial farm (every rank).
  std::unique_ptr<optimize::Study> study = dist::agree_on(comm, [&] {
    return leader ? open_study(engine, settings) : std::unique_ptr<optimize::Study>();
  });
  std::optional<RunView> view;
  std::optional<TrialCoordinator> coordinator;
  if (leader) {
    view.emplace(RunView{config, engine, *study, baseline, comm.size()});
    coordinator.emplace(*view, *study, group_size);
    if (study->resumed() > 0 || study->pending() > 0) {
      spdlog::info("resuming from {}: {} finished trial(s){}", study->journal_path().string(), study->resumed(),
                   study->pending() == 0 ? "" : ", " + std::to_string(study->pending()) + " interrupted one(s) run again");
    }
    std::vector<std::string> objectives;
    for (const auto& objective : study->options().objectives) objectives.push_back(objective.name);
    spdlog::info("optimising {} over {} trial(s) ({} random start-up), seed {}; {} worker group(s) of {} rank(s)",
                 fmt::join(objectives, " and "), config.n_trials, config.n_startup_trials, study->seed(),
                 farm.group_count(), farm.group().size());
  }
  if (!settings.export_only.empty()) {
    export_trials(comm, engine, finished_trials(comm, study.get(), settings.export_only), view ? &*view : nullptr);
    return static_cast<int>(ExitCode::kOk);
  }
  // Under tensor and pipeline parallelism: what this rank's trials sent through the group's sums
  // and to the other stages.
  const auto* tensor_group = dynamic_cast<const dist::CommunicatorTensorGroup*>(engine.model().tensor_group());
  const auto* pipeline = dynamic_cast<const dist::CommunicatorPipelineGroup*>(engine.model().pipeline_group());
  const auto sum_bytes = [tensor_group] { return tensor_group != nullptr ? tensor_group->summed_bytes() : 0; };
  const auto stage_bytes = [pipeline] { return pipeline != nullptr ? pipeline->sent_bytes() : 0; };
  int64_t trial_sum_bytes = 0, trial_stage_bytes = 0, trials_here = 0;
  int stop = farm.run(coordinator ? &*coordinator : nullptr, [&](const dist::TrialAssignment& trial) {
    const int64_t sums_before = sum_bytes(), stages_before = stage_bytes();
    const Scores scores = engine.evaluate(trial_shards, ablation::decode_trial_params(trial.params));
    if (tensor_group != nullptr || pipeline != nullptr) {
      trial_sum_bytes += sum_bytes() - sums_before;
      trial_stage_bytes += stage_bytes() - stages_before;
      ++trials_here;
    }
    dist::TrialOutcome outcome;
    for (const auto& part : scores.partial) outcome.scores.push_back({part.sum, part.count});
    outcome.seconds = scores.seconds;
    return outcome;
  });
  if (leader) {
    const double seconds = coordinator->seconds();
    spdlog::info("ran {} trial(s) in {} ({:.1f} trials/hour with {} worker group(s))", coordinator->ran(),
                 format_duration(seconds), seconds > 0 ? static_cast<double>(coordinator->ran()) * 3600.0 / seconds : 0.0,
                 farm.group_count());
    // A signal that came after the last trial finished stops nothing: the run is complete and
    // ends normally (exports included; an export cut short by the scheduler is redone by a
    // rerun, as exports are written to a temporary folder first).
    if (stop != 0 && static_cast<int64_t>(study->finished().size()) >= config.n_trials) {
      spdlog::info("{} received after the last trial finished: completing the run", dist::signal_name(stop));
      stop = 0;
    }
  }
  const auto per_trial_mib = [trials_here](int64_t bytes) {
    return static_cast<double>(bytes) / static_cast<double>(trials_here) / (1024.0 * 1024.0);
  };
  if (tensor_group != nullptr && trials_here > 0) {
    spdlog::info("tensor-parallel sums: {:.1f} MiB sent per trial by this rank (float64, {} trial(s))",
                 per_trial_mib(trial_sum_bytes), trials_here);
  }
  if (pipeline != nullptr && trials_here > 0) {
    spdlog::info("pipeline stages: {:.1f} MiB sent per trial by this rank (activations, hidden states and logits, "
                 "{} trial(s))",
                 per_trial_mib(trial_stage_bytes), trials_here);
  }
  comm.broadcast(&stop, sizeof stop, 0);
  memory.record("trials");
  const io::MemoryTable memory_table = memory.gather(comm);

  // Phase 5: the Pareto front and results.h5 (rank 0), then the exports.
  std::vector<int> exports;
  dist::agree_on(comm, [&] {
    if (!leader) return;
    log_pareto_front(*view);
    if (stop == 0) exports = trials_to_export(config, *study);
    write_results_file(*view, memory_table);
  });
  export_trials(comm, engine, exports, view ? &*view : nullptr);
  memory.record("exports");  // logged only: results.h5 is already written
  if (stop != 0) {
    if (leader) {
      spdlog::warn("stopped by {} after {} of {} trials; the journal and results.h5 are saved — rerun the same "
                   "command to resume",
                   dist::signal_name(stop), study->finished().size(), config.n_trials);
    }
    return static_cast<int>(ExitCode::kStopped);
  }
  return static_cast<int>(ExitCode::kOk);
}

}  // namespace heretic::app
