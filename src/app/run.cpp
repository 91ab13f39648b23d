// Phases 2–5 of a run (DESIGN.md §1). The prefix, baselines and directions are computed by all
// ranks over shards of the prompts. Trials are then farmed out: the ranks form worker groups of
// mpi.ranks_per_trial ranks (each group shards one trial's evaluation prompts), and a
// coordinator thread on rank 0 asks the sampler, hands each idle group a trial, and journals
// every result (fsync'd) before that group gets its next one. Rank 0 writes results.h5; the
// exports are shared out among the ranks.
#include "app/run.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdlib>
#include <csignal>
#include <cmath>
#include <filesystem>
#include <limits>
#include <deque>
#include <exception>
#include <map>
#include <thread>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <sstream>

#include "ablation/residual_geometry.h"
#include "app/engine.h"

#include <torch/version.h>
#include "common/error.h"
#include "common/fnv_hash.h"
#include "config/compare.h"
#include "config/print.h"
#include "io/journal.h"
#include "io/logging.h"
#include "mpi/stop_signals.h"
#include "io/results_file.h"
#include "optimize/pareto.h"
#include "optimize/tpe_sampler.h"

#ifndef HERETIC_VERSION
#define HERETIC_VERSION "unknown"
#endif

namespace heretic::app {
namespace {

namespace fs = std::filesystem;
using nlohmann::ordered_json;

constexpr int kJournalFormat = 1;

// ---- small collectives on top of the Communicator ------------------------------------------

std::string broadcast_string(dist::Communicator& comm, const std::string& value, int root) {
  uint64_t size = value.size();
  comm.broadcast(&size, sizeof size, root);
  std::string result = comm.rank() == root ? value : std::string(size, '\0');
  if (size > 0) comm.broadcast(result.data(), size, root);
  return result;
}

// Rank 0 decides; every rank throws the same InputError when it found a problem, so the job
// ends in agreement (exit 2) instead of some ranks waiting in a collective.
void agree_on_rank0(dist::Communicator& comm, const std::string& problem) {
  const std::string shared = broadcast_string(comm, problem, 0);
  if (!shared.empty()) throw SharedInputError(shared);
}

// ---- hashes for resume checks ---------------------------------------------------------------

// The settings that decide what a trial computes. Options that only change how much is run or
// where results go (n_trials, exports, ranks, batch sizes, output folder) may differ on resume.
config::Config study_config(const config::Config& config) {
  config::Config c = config;
  const config::Config d = config::default_config();
  c.n_trials = d.n_trials;
  c.n_startup_trials = d.n_startup_trials;  // checked separately: changing it changes the study
  c.batch_size = d.batch_size;
  c.max_batch_size = d.max_batch_size;
  c.mpi = d.mpi;
  c.output = d.output;
  c.print_debug_information = d.print_debug_information;
  c.print_residual_geometry = d.print_residual_geometry;
  for (auto& scorer : c.scorers) scorer.print_responses = false;
  return c;
}

// "" when a journal whose header says `old` can be continued with `config`; else what differs.
// The header keeps the study's configuration as TOML, so the message can name the keys, and a
// newer heretic-mpi whose new options are at their defaults still resumes an older journal.
std::string study_mismatch(const ordered_json& old, const config::Config& config) {
  const config::Config study = study_config(config);
  if (old.value("study", "") == config::config_fingerprint(study)) return "";
  if (!old.contains("config")) return "the configuration differs";  // journals before the config was kept
  const auto differences = config::config_differences(old.at("config").get<std::string>(), config::to_toml(study),
                                                      config::to_toml(study_config(config::default_config())));
  if (differences.empty()) return "";
  std::string text = "the configuration differs (";
  for (size_t i = 0; i < differences.size() && i < 8; ++i) text += (i ? "; " : "") + differences[i];
  if (differences.size() > 8) text += "; and " + std::to_string(differences.size() - 8) + " more";
  return text + ")";
}

std::string tensor_hash(const torch::Tensor& tensor) {
  const torch::Tensor t = tensor.contiguous().cpu();
  return fnv1a_hex(t.data_ptr(), static_cast<size_t>(t.numel()) * t.element_size());
}

// ---- presentation --------------------------------------------------------------------------

std::string format_duration(double seconds) {
  const auto s = static_cast<long long>(std::llround(seconds));
  char text[32];
  if (s >= 3600) {
    std::snprintf(text, sizeof text, "%lldh%02lldm", s / 3600, (s / 60) % 60);
  } else if (s >= 60) {
    std::snprintf(text, sizeof text, "%lldm%02llds", s / 60, s % 60);
  } else {
    std::snprintf(text, sizeof text, "%.1fs", seconds);
  }
  return text;
}

std::string format_fixed(double value, int digits) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", digits, value);
  return text;
}

std::string describe_params(const optimize::HereticTrialParams& params) {
  std::string text = params.per_layer ? "per layer" : "global " + format_fixed(*params.direction_index, 2);
  for (const auto& kernel : params.kernels) {
    text += "; " + kernel.component + " ";
    if (kernel.max_weight == 0.0) {
      text += "off";
    } else {
      text += format_fixed(kernel.max_weight, 2) + "@" + format_fixed(kernel.max_weight_position, 2) + " min " +
              format_fixed(kernel.min_weight, 2) + " d " + format_fixed(kernel.min_weight_distance, 2);
    }
  }
  return text;
}

ordered_json params_json(const optimize::HereticTrialParams& params) {
  ordered_json json;
  json["direction_scope"] = params.per_layer ? "per layer" : "global";
  json["direction_index"] = params.direction_index ? ordered_json(*params.direction_index) : ordered_json(nullptr);
  for (const auto& kernel : params.kernels) {
    json[kernel.component] = {{"max_weight", kernel.max_weight},
                              {"max_weight_position", kernel.max_weight_position},
                              {"min_weight", kernel.min_weight},
                              {"min_weight_distance", kernel.min_weight_distance}};
  }
  return json;
}

optimize::HereticSearchRanges search_ranges(const config::SearchSpaceConfig& s) {
  optimize::HereticSearchRanges r;
  r.direction_index_low = s.direction_index_min;
  r.direction_index_high = s.direction_index_max;
  r.attention_max_weight_low = s.attention_max_weight_min;
  r.attention_max_weight_high = s.attention_max_weight_max;
  r.mlp_max_weight_low = s.mlp_max_weight_min;
  r.mlp_max_weight_high = s.mlp_max_weight_max;
  r.max_weight_position_low = s.max_weight_position_min;
  r.max_weight_position_high = s.max_weight_position_max;
  r.min_weight_distance_high = s.min_weight_distance_max;
  return r;
}

io::Matrix to_matrix(const torch::Tensor& tensor) {
  const torch::Tensor t = tensor.to(torch::kFloat32).contiguous().cpu();
  io::Matrix m;
  m.rows = t.size(0);
  m.cols = t.size(1);
  m.values.assign(t.data_ptr<float>(), t.data_ptr<float>() + t.numel());
  return m;
}

// Heretic's residual geometry table (spec/heretic-behavior.md §5.1) for layers 1..L, from every
// prompt's residual gathered on rank 0.
void print_residual_geometry(const Directions& dirs) {
  const auto rows = ablation::residual_geometry(dirs.good_residuals, dirs.bad_residuals);
  spdlog::info("residual geometry:");
  spdlog::info("{:>5} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>7}", "Layer",
               "S(g,b)", "S(g*,b*)", "S(g,r)", "S(g*,r*)", "S(b,r)", "S(b*,r*)", "|g|", "|g*|", "|b|", "|b*|", "|r|",
               "|r*|", "Silh");
  for (size_t l = 1; l < rows.size(); ++l) {
    const auto& r = rows[l];
    spdlog::info(
        "{:>5} {:>8.4f} {:>8.4f} {:>8.4f} {:>8.4f} {:>8.4f} {:>8.4f} {:>9.2f} {:>9.2f} {:>9.2f} {:>9.2f} {:>9.2f} "
        "{:>9.2f} {:>7.4f}",
        l, r.s_g_b, r.s_gm_bm, r.s_g_r, r.s_gm_rm, r.s_b_r, r.s_bm_rm, r.norm_g, r.norm_gm, r.norm_b, r.norm_bm,
        r.norm_r, r.norm_rm, r.silhouette);
  }
  spdlog::info("g, b = mean residual of the good (harmless) and bad (harmful) prompts; g*, b* = their geometric "
               "medians; r = b - g; r* = b* - g*; S(x,y) = cosine similarity; |x| = L2 norm; Silh = mean "
               "silhouette coefficient of the good/bad clusters");
}

// A finished trial as rank 0 keeps it.
struct FinishedTrial {
  optimize::Trial trial;
  ordered_json params;
  std::vector<eval::PartialScore> partial;
  std::vector<double> scorer_values;
  double seconds = 0.0;
  int rank = 0;  // leader of the group that evaluated it
};

class TrialLoop {
 public:
  TrialLoop(Engine& engine, dist::Communicator& comm, dist::Communicator& group, const RunSettings& settings,
            const Scores& baseline)
      : engine_(engine), comm_(comm), group_(group), settings_(settings), config_(engine.config()),
        baseline_(baseline) {
    for (size_t i = 0; i < engine.scorers().size(); ++i) {
      if (engine.scorers()[i].config.optimization != config::Optimization::kNone) objectives_.push_back(i);
    }
    space_ = optimize::heretic_search_space(static_cast<int>(engine.num_layers()), engine.components(),
                                            search_ranges(config_.search_space));
  }

  int run();

 private:
  bool leader() const { return comm_.rank() == 0; }
  std::vector<std::string> objective_names() const;
  void open_journal(const std::string& directions_hash);
  void coordinate();
  void work();
  void record_result(const optimize::Trial& asked, const optimize::HereticTrialParams& params, const Scores& scores,
                     int evaluated_by);
  [[noreturn]] void abandon(const std::vector<int>& running);
  std::vector<int64_t> pareto_front() const;
  void write_results_file(const std::vector<int64_t>& front) const;
  void finish(bool stopped);
  std::string model_card(const FinishedTrial& trial) const;

  Engine& engine_;
  dist::Communicator& comm_;   // the world
  dist::Communicator& group_;  // this rank's worker group (ranks_per_trial ranks)
  std::unique_ptr<dist::Communicator> farm_;  // trial messages between the coordinator and group leaders
  const RunSettings& settings_;
  const config::Config& config_;
  const Scores& baseline_;
  std::vector<size_t> objectives_;  // indices of the scorers that are optimised
  optimize::SearchSpace space_;
  uint32_t seed_ = 0;
  // Rank 0 only.
  std::unique_ptr<optimize::TpeSampler> sampler_;
  std::unique_ptr<io::JournalWriter> journal_;
  std::map<int, FinishedTrial> finished_;
  std::deque<optimize::Trial> pending_;  // asked before an interruption, never finished: evaluated again
  int stop_signal_ = 0;
  int64_t resumed_ = 0;
  std::chrono::steady_clock::time_point start_;
};

std::vector<std::string> TrialLoop::objective_names() const {
  std::vector<std::string> names;
  for (size_t i : objectives_) names.push_back(engine_.scorers()[i].config.display_name());
  return names;
}

// Rank 0 opens (or resumes) the journal; every rank learns the seed and any problem.
void TrialLoop::open_journal(const std::string& directions_hash) {
  const fs::path path = fs::path(config_.output.dir) / "journal.jsonl";
  std::string problem;
  uint32_t seed = config_.seed.value_or(0);
  if (leader()) {
    try {
      const config::Config study = study_config(config_);
      ordered_json header = {{"type", "header"},
                             {"format", kJournalFormat},
                             {"version", HERETIC_VERSION},
                             {"study", config::config_fingerprint(study)},
                             {"config", config::to_toml(study)},
                             {"directions", directions_hash},
                             {"n_startup_trials", config_.n_startup_trials},
                             {"objectives", objective_names()}};
      io::JournalContents contents;
      if (settings_.fresh && fs::exists(path)) {
        const fs::path old = path.string() + ".old";
        fs::rename(path, old);
        spdlog::warn("--fresh: the previous journal was moved to {}", old.string());
      } else {
        contents = io::read_journal(path);
      }
      if (contents.torn_tail) spdlog::warn("{}: the last line was incomplete (interrupted write) and is ignored", path.string());
      std::vector<std::string> trial_lines;
      if (!contents.records.empty()) {
        const ordered_json& old = contents.records.front();
        if (old.value("type", "") != "header") throw InputError(path.string() + " line 1: not a heretic-mpi journal header");
        std::string what = study_mismatch(old, config_);
        for (const char* key : {"directions", "n_startup_trials", "objectives"}) {
          if (!what.empty() || old.value(key, ordered_json()) == header[key]) continue;
          what = std::string(key) == "directions" ? "the refusal directions differ (different model weights or prompts)"
                                                  : std::string("'") + key + "' differs";
        }
        if (!what.empty()) {
          throw InputError(path.string() + ": this output folder holds a run that cannot be resumed with this "
                           "configuration: " + what + ". Use another output.dir, or rerun with --fresh to start over.");
        }
        seed = old.at("seed").get<uint32_t>();
        for (size_t i = 1; i < contents.records.size(); ++i) {
          const ordered_json& record = contents.records[i];
          if (record.value("type", "") == "asked") trial_lines.push_back(record.at("trial").dump());
          if (record.value("type", "") != "result") continue;
          trial_lines.push_back(record.at("trial").dump());
          FinishedTrial f;
          f.trial = optimize::trial_from_json_line(trial_lines.back(), space_, path.string() + " record " + std::to_string(i + 1));
          f.params = record.at("params");
          for (const auto& s : record.at("scores")) f.partial.push_back({s.at("sum").get<double>(), s.at("count").get<int64_t>()});
          // A failed trial's values are NaN, which JSON writes as null.
          for (const auto& v : record.at("values")) {
            f.scorer_values.push_back(v.is_number() ? v.get<double>() : std::numeric_limits<double>::quiet_NaN());
          }
          f.seconds = record.value("seconds", 0.0);
          f.rank = record.value("rank", 0);
          finished_[f.trial.number] = std::move(f);
        }
        resumed_ = static_cast<int64_t>(finished_.size());
      } else {
        if (!config_.seed) seed = std::random_device()();
        header["seed"] = seed;
      }
      optimize::TpeOptions options;
      options.n_objectives = static_cast<int>(objectives_.size());
      options.n_startup_trials = static_cast<int>(config_.n_startup_trials);
      options.n_ei_candidates = 128;  // Heretic's setting (spec/heretic-behavior.md §3.2)
      options.seed = seed;
      sampler_ = std::make_unique<optimize::TpeSampler>(space_, options);
      // Trials that were asked but never finished (the job died while they ran) stay in the
      // sampler as running and are evaluated again with the same parameters.
      if (!trial_lines.empty()) sampler_->restore_from_json_lines(trial_lines, path.string());
      for (const auto& trial : sampler_->trials()) {
        if (trial.state == optimize::TrialState::kRunning) pending_.push_back(trial);
      }
      journal_ = std::make_unique<io::JournalWriter>(path);
      if (contents.records.empty()) journal_->append(header);
      if (resumed_ > 0 || !pending_.empty()) {
        spdlog::info("resuming from {}: {} finished trial(s){}", path.string(), resumed_,
                     pending_.empty() ? "" : ", " + std::to_string(pending_.size()) + " interrupted one(s) run again");
      }
    } catch (const InputError& e) {
      problem = e.what();
    } catch (const std::exception& e) {
      problem = path.string() + ": " + e.what();
    }
  }
  agree_on_rank0(comm_, problem);
  comm_.broadcast(&seed, sizeof seed, 0);
  seed_ = seed;
}

void TrialLoop::record_result(const optimize::Trial& asked, const optimize::HereticTrialParams& params,
                              const Scores& scores, int evaluated_by) {
  std::vector<double> objective_values;
  bool failed = false;
  for (size_t i : objectives_) {
    double v = scores.values[i];
    if (engine_.scorers()[i].config.optimization == config::Optimization::kMaximize) v = -v;
    if (std::isnan(v)) failed = true;
    objective_values.push_back(v);
  }
  if (failed) {
    sampler_->fail(asked.number);
  } else {
    sampler_->tell(asked.number, objective_values);
  }
  FinishedTrial f;
  f.trial = sampler_->trial(asked.number);
  f.params = params_json(params);
  f.partial = scores.partial;
  f.scorer_values = scores.values;
  f.seconds = scores.seconds;
  f.rank = evaluated_by;
  ordered_json record = {{"type", "result"},
                         {"trial", ordered_json::parse(optimize::to_json_line(f.trial, space_))},
                         {"params", f.params},
                         {"values", f.scorer_values},
                         {"scores", ordered_json::array()},
                         {"seconds", f.seconds},
                         {"rank", evaluated_by},
                         {"ranks", group_.size()}};
  for (const auto& p : f.partial) record["scores"].push_back({{"sum", p.sum}, {"count", p.count}});
  journal_->append(record);  // fsync'd: a finished trial survives any later crash
  finished_[f.trial.number] = std::move(f);

  const int64_t done = static_cast<int64_t>(finished_.size());
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const int64_t run_here = done - resumed_;
  const double eta = run_here > 0 ? elapsed / static_cast<double>(run_here) * static_cast<double>(config_.n_trials - done) : 0.0;
  // Best so far: the lexicographically smallest objective values (refusals first by default).
  const FinishedTrial* best = nullptr;
  for (const auto& [number, other] : finished_) {
    if (other.trial.state != optimize::TrialState::kComplete) continue;
    if (best == nullptr || other.trial.values < best->trial.values) best = &other;
  }
  std::string best_text = "none yet";
  if (best != nullptr) {
    Scores b;
    b.partial = best->partial;
    b.values = best->scorer_values;
    best_text = "#" + std::to_string(best->trial.number + 1) + " " + describe_scores(engine_.scorers(), b);
  }
  spdlog::info("[trial {:>3}/{}] {}{} | {} | {}{} | best {} | ETA {}", asked.number + 1, config_.n_trials,
               describe_scores(engine_.scorers(), scores), failed ? " (failed)" : "", describe_params(params),
               format_duration(scores.seconds),
               comm_.size() > group_.size() ? " on rank " + std::to_string(evaluated_by) : "", best_text,
               format_duration(eta));
}

// Message tags between the coordinator (a thread of rank 0) and the group leaders.
constexpr int kTagAssign = 1;
constexpr int kTagResult = 2;

// Rank 0's coordinator: keeps every idle group busy with a trial (the sampler's constant liar
// pushes concurrent asks apart), records each result in the journal before the group gets its
// next trial, and on a stop signal starts no new trial; the trials in flight get
// mpi.stop_grace_seconds to finish, after which they are abandoned (see abandon()).
void TrialLoop::coordinate() {
  using Clock = std::chrono::steady_clock;
  const int k = group_.size();
  const size_t n_params = space_.size();
  const size_t n_scorers = engine_.scorers().size();
  std::deque<int> idle;
  for (int leader = 0; leader < comm_.size(); leader += k) idle.push_back(leader);
  std::map<int, int> in_flight;  // group leader -> trial number
  std::vector<double> assign(n_params + 1);
  std::vector<double> result(2 * n_scorers + 3);
  Clock::time_point grace_end = Clock::time_point::max();
  auto stop = [&](int signal, const std::string& who) {
    stop_signal_ = signal;
    const auto grace = std::chrono::duration<double>(config_.mpi.stop_grace_seconds);
    grace_end = Clock::now() + std::chrono::duration_cast<Clock::duration>(grace);
    const std::string what = who.empty() ? std::string(dist::signal_name(signal)) + " received"
                                         : who + " received " + dist::signal_name(signal);
    spdlog::warn("{}: starting no new trial; {} trial(s) in flight get {}s to finish", what, in_flight.size(),
                 format_fixed(config_.mpi.stop_grace_seconds, 0));
  };
  while (true) {
    if (stop_signal_ == 0 && dist::stop_signal() != 0) stop(dist::stop_signal(), "");
    while (stop_signal_ == 0 && !idle.empty() &&
           static_cast<int64_t>(finished_.size() + in_flight.size()) < config_.n_trials) {
      optimize::Trial trial;
      if (!pending_.empty()) {
        trial = pending_.front();
        pending_.pop_front();
      } else {
        trial = sampler_->ask();
        journal_->append({{"type", "asked"}, {"trial", ordered_json::parse(optimize::to_json_line(trial, space_))}});
      }
      assign[0] = trial.number;
      std::copy(trial.params.begin(), trial.params.end(), assign.begin() + 1);
      const int leader = idle.front();
      idle.pop_front();
      farm_->send(assign.data(), assign.size() * sizeof(double), leader, kTagAssign);
      in_flight[leader] = trial.number;
    }
    if (in_flight.empty()) break;
    // Wait in short slices, so that a signal is noticed while trials run and not only when one
    // ends, and the grace time is kept.
    const auto slice_end = std::min(Clock::now() + std::chrono::milliseconds(250), grace_end);
    const auto from =
        farm_->recv_until(result.data(), result.size() * sizeof(double), dist::Communicator::kAnySource, kTagResult,
                          slice_end);
    if (!from) {
      if (Clock::now() < grace_end) continue;
      std::vector<int> running;
      for (const auto& [leader, number] : in_flight) running.push_back(number);
      abandon(running);  // does not return
    }
    const int leader = *from;
    const int number = in_flight.at(leader);
    in_flight.erase(leader);
    idle.push_back(leader);
    Scores scores;
    for (size_t i = 0; i < n_scorers; ++i) {
      const eval::PartialScore part{result[1 + i], static_cast<int64_t>(result[1 + n_scorers + i])};
      scores.partial.push_back(part);
      scores.values.push_back(part.count > 0 ? part.sum / static_cast<double>(part.count)
                                             : std::numeric_limits<double>::quiet_NaN());
    }
    scores.seconds = result[1 + 2 * n_scorers];
    const optimize::Trial asked = sampler_->trial(number);
    record_result(asked, optimize::decode_heretic_params(space_, asked.params), scores, leader);
    // A group leader that got a stop signal passes it on (Slurm signals every task, but a user's
    // kill may reach only one).
    if (stop_signal_ == 0 && result[2 + 2 * n_scorers] != 0) {
      stop(static_cast<int>(result[2 + 2 * n_scorers]), "rank " + std::to_string(leader));
    }
  }
  assign[0] = -1;
  for (int leader = 0; leader < comm_.size(); leader += k) {
    farm_->send(assign.data(), assign.size() * sizeof(double), leader, kTagAssign);
  }
}

// The grace time after a stop signal is over and trials still run (on a GPU a trial of a large
// model can take minutes): their ranks cannot be interrupted inside a forward pass, so rank 0
// saves what is finished and ends the whole job with exit code 3. The abandoned trials stay in
// the journal as asked and run again, with the same parameters, when the job is resumed.
void TrialLoop::abandon(const std::vector<int>& running) {
  std::string numbers;
  for (int number : running) numbers += (numbers.empty() ? "#" : ", #") + std::to_string(number + 1);
  spdlog::warn("trial(s) {} still running {}s after {}: abandoned, they run again on resume",
               numbers, format_fixed(config_.mpi.stop_grace_seconds, 0), dist::signal_name(stop_signal_));
  try {
    write_results_file(pareto_front());
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
  }
  spdlog::warn("stopped by {} after {} of {} trials; the journal and results.h5 are saved — rerun the same command "
               "to resume",
               dist::signal_name(stop_signal_), finished_.size(), config_.n_trials);
  io::flush_logs();
  std::fflush(stdout);
  std::fflush(stderr);
  // Other ranks are inside a trial: only an abort ends them. Alone, a plain exit says less.
  if (comm_.size() > 1) comm_.abort(static_cast<int>(ExitCode::kStopped));
  std::_Exit(static_cast<int>(ExitCode::kStopped));
}

// Every rank: evaluate the trials the coordinator hands to this rank's group, until told to stop.
void TrialLoop::work() {
  const size_t n_scorers = engine_.scorers().size();
  std::vector<double> assign(space_.size() + 1);
  std::vector<double> result(2 * n_scorers + 3);
  while (true) {
    if (group_.rank() == 0) farm_->recv(assign.data(), assign.size() * sizeof(double), 0, kTagAssign);
    group_.broadcast(assign.data(), assign.size() * sizeof(double), 0);
    if (assign[0] < 0) break;
    const std::vector<double> params(assign.begin() + 1, assign.end());
    Scores scores;
    if (group_.size() == 1) {
      // A trial that throws (e.g. out of memory even at batch size 1) is a failed trial, not the
      // end of the run. In a larger group the other ranks would wait in a collective, so there
      // an exception still ends the job.
      try {
        scores = engine_.evaluate(group_, optimize::decode_heretic_params(space_, params));
      } catch (const std::exception& e) {
        spdlog::error("trial {} failed on rank {}: {}", static_cast<int>(assign[0]) + 1, comm_.rank(), e.what());
        scores.partial.assign(n_scorers, eval::PartialScore{});  // no prompt scored: NaN values, a failed trial
      }
    } else {
      scores = engine_.evaluate(group_, optimize::decode_heretic_params(space_, params));
    }
    if (group_.rank() != 0) continue;
    result[0] = assign[0];
    for (size_t i = 0; i < n_scorers; ++i) {
      result[1 + i] = scores.partial[i].sum;
      result[1 + n_scorers + i] = static_cast<double>(scores.partial[i].count);
    }
    result[1 + 2 * n_scorers] = scores.seconds;
    result[2 + 2 * n_scorers] = dist::stop_signal();
    farm_->send(result.data(), result.size() * sizeof(double), 0, kTagResult);
  }
}

int TrialLoop::run() {
  const auto& dirs = engine_.directions();
  open_journal(tensor_hash(dirs.directions));
  farm_ = comm_.split(0, comm_.rank());  // a private channel: trial messages never meet other traffic
  start_ = std::chrono::steady_clock::now();
  if (leader()) {
    spdlog::info("optimising {} over {} trial(s) ({} random start-up), seed {}; {} worker group(s) of {} rank(s)",
                 fmt::join(objective_names(), " and "), config_.n_trials, config_.n_startup_trials, seed_,
                 comm_.size() / group_.size(), group_.size());
  }
  // Rank 0 coordinates in a second thread while its main thread works in group 0.
  std::exception_ptr coordinator_error;
  std::thread coordinator;
  if (leader()) {
    coordinator = std::thread([this, &coordinator_error] {
      try {
        coordinate();
      } catch (...) {
        coordinator_error = std::current_exception();
        // The workers wait for trials; a rank-0 failure must end the job, not hang it.
        spdlog::error("trial coordinator failed; aborting the job");
        io::flush_logs();
        try {
          std::rethrow_exception(coordinator_error);
        } catch (const std::exception& e) {
          std::fprintf(stderr, "heretic-mpi: rank 0: trial coordinator: %s\n", e.what());
        }
        comm_.abort(static_cast<int>(ExitCode::kInternal));
      }
    });
  }
  work();
  if (coordinator.joinable()) coordinator.join();
  if (coordinator_error) std::rethrow_exception(coordinator_error);
  if (leader()) {
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    const auto ran = static_cast<double>(static_cast<int64_t>(finished_.size()) - resumed_);
    spdlog::info("ran {} trial(s) in {} ({:.1f} trials/hour with {} worker group(s))", ran, format_duration(seconds),
                 seconds > 0 ? ran * 3600.0 / seconds : 0.0, comm_.size() / group_.size());
  }

  // A signal that came after the last trial finished stops nothing: the run is complete and
  // ends normally (exports included; an export cut short by the scheduler is redone by a rerun,
  // as exports are written to a temporary folder first).
  int stop = stop_signal_;
  if (leader() && stop != 0 && static_cast<int64_t>(finished_.size()) >= config_.n_trials) {
    spdlog::info("{} received after the last trial finished: completing the run", dist::signal_name(stop));
    stop = 0;
  }
  comm_.broadcast(&stop, sizeof stop, 0);
  finish(stop != 0);
  if (stop != 0) {
    if (leader()) {
      spdlog::warn("stopped by {} after {} of {} trials; the journal and results.h5 are saved — rerun the same "
                   "command to resume",
                   dist::signal_name(stop), finished_.size(), config_.n_trials);
    }
    return static_cast<int>(ExitCode::kStopped);
  }
  return static_cast<int>(ExitCode::kOk);
}

std::string TrialLoop::model_card(const FinishedTrial& f) const {
  std::ostringstream card;
  const std::string model = config_.model;
  card << "---\nbase_model: " << model << "\ntags:\n- heretic\n- abliterated\n- uncensored\n---\n\n";
  card << "# " << fs::path(model).filename().string() << " (abliterated, trial " << f.trial.number + 1 << ")\n\n";
  card << "This model is `" << model << "`";
  if (!engine_.inputs().model_commit.empty()) card << " (revision `" << engine_.inputs().model_commit << "`)";
  card << " with its refusal directions ablated by heretic-mpi " << HERETIC_VERSION
       << " (directional ablation with optimised parameters; the merged weights are exact, row normalization \""
       << config::to_string(config_.row_normalization) << "\").\n\n";
  card << "## Scores\n\n| metric | this model | original model |\n|---|---|---|\n";
  for (size_t i = 0; i < engine_.scorers().size(); ++i) {
    const auto& slot = engine_.scorers()[i];
    card << "| " << slot.config.display_name() << " | " << format_score(slot, f.partial[i], f.scorer_values[i])
         << " | " << format_score(slot, baseline_.partial[i], baseline_.values[i]) << " |\n";
  }
  card << "\n## Abliteration parameters\n\n```json\n" << f.params.dump(2) << "\n```\n";
  return card.str();
}

// Trial numbers on the Pareto front of the finished trials, best first (rank 0).
std::vector<int64_t> TrialLoop::pareto_front() const {
  std::vector<int> numbers;
  std::vector<optimize::ObjectivePoint> points;
  for (const auto& [number, f] : finished_) {
    if (f.trial.state != optimize::TrialState::kComplete) continue;
    numbers.push_back(number);
    points.push_back(f.trial.values);
  }
  std::vector<int64_t> front;
  for (int index : optimize::pareto_front(points)) front.push_back(numbers[static_cast<size_t>(index)]);
  std::sort(front.begin(), front.end(), [&](int64_t a, int64_t b) {
    return finished_.at(static_cast<int>(a)).trial.values < finished_.at(static_cast<int>(b)).trial.values;
  });
  return front;
}

// results.h5 from what rank 0 knows, written atomically.
void TrialLoop::write_results_file(const std::vector<int64_t>& front) const {
  io::Results results;
  results.run = {HERETIC_VERSION, config::to_toml(config_), config_.model, engine_.inputs().model_commit,
                 comm_.size(), seed_};
  const Directions& dirs = engine_.directions();
  results.good_mean = to_matrix(dirs.good_mean);
  results.bad_mean = to_matrix(dirs.bad_mean);
  results.directions = to_matrix(dirs.directions);
  if (config_.output.per_prompt_residuals && dirs.good_residuals.defined()) {
    // [n, L+1, H] -> [(n (L+1)) x H], prompt-major: row p (L+1) + l is prompt p at layer l.
    results.per_prompt_residuals_good = to_matrix(dirs.good_residuals.reshape({-1, dirs.good_residuals.size(2)}));
    results.per_prompt_residuals_bad = to_matrix(dirs.bad_residuals.reshape({-1, dirs.bad_residuals.size(2)}));
  }
  for (const auto& [number, f] : finished_) {
    io::TrialRecord row;
    row.number = number + 1;
    row.params_json = f.params.dump();
    row.values = f.trial.values;
    row.objectives = objective_names();
    row.kl = std::numeric_limits<double>::quiet_NaN();
    for (size_t i = 0; i < engine_.scorers().size(); ++i) {
      const auto& slot = engine_.scorers()[i];
      if (slot.keyword && row.refusals < 0) {
        row.refusals = static_cast<int64_t>(std::llround(f.partial[i].sum));
        row.refusal_prompts = f.partial[i].count;
      }
      if (slot.kl && std::isnan(row.kl)) row.kl = f.scorer_values[i];
    }
    row.rank = f.rank;
    row.seconds = f.seconds;
    row.status = f.trial.state == optimize::TrialState::kComplete ? "complete" : "failed";
    results.trials.push_back(std::move(row));
  }
  for (int64_t number : front) results.pareto.push_back(number + 1);
  const fs::path path = fs::path(config_.output.dir) / "results.h5";
  io::write_results(path, results);
  spdlog::info("results: {}", path.string());
}

void TrialLoop::finish(bool stopped) {
  // Rank 0 knows the results; the Pareto front decides what is exported.
  std::string problem;
  std::vector<int64_t> exports;
  if (leader()) {
    const std::vector<int64_t> front = pareto_front();
    spdlog::info("Pareto front ({} of {} finished trials; baseline {}):", front.size(), finished_.size(),
                 describe_scores(engine_.scorers(), baseline_));
    for (int64_t number : front) {
      const FinishedTrial& f = finished_.at(static_cast<int>(number));
      Scores s;
      s.partial = f.partial;
      s.values = f.scorer_values;
      spdlog::info("  [Trial {:>3}] {} | {}", number + 1, describe_scores(engine_.scorers(), s),
                   optimize::decode_heretic_params(space_, f.trial.params).per_layer ? "per layer" : "global");
    }
    const auto& selection = config_.output.export_trials;
    // A stopped run exports nothing yet: its front may still change when it resumes.
    if (!stopped && selection.kind == config::ExportSelection::Kind::kPareto) exports = front;
    if (!stopped && selection.kind == config::ExportSelection::Kind::kTrials) {
      for (int64_t wanted : selection.trials) {
        const auto it = finished_.find(static_cast<int>(wanted - 1));
        if (it == finished_.end() || it->second.trial.state != optimize::TrialState::kComplete) {
          spdlog::warn("output.export: trial {} did not finish successfully; it is not exported", wanted);
          continue;
        }
        exports.push_back(wanted - 1);
      }
    }
    try {
      write_results_file(front);
    } catch (const std::exception& e) {
      problem = e.what();
    }
  }
  agree_on_rank0(comm_, problem);

  // Exports: trial numbers go to every rank; each rank writes the ones assigned to it.
  uint64_t count = exports.size();
  comm_.broadcast(&count, sizeof count, 0);
  exports.resize(count);
  if (count > 0) comm_.broadcast(exports.data(), count * sizeof(int64_t), 0);
  std::vector<std::string> cards(count);
  for (size_t i = 0; i < count; ++i) {
    std::vector<double> params(space_.size());
    if (leader()) {
      const FinishedTrial& f = finished_.at(static_cast<int>(exports[i]));
      params = f.trial.params;
      cards[i] = model_card(f);
    }
    comm_.broadcast(params.data(), params.size() * sizeof(double), 0);
    cards[i] = broadcast_string(comm_, cards[i], 0);
    if (static_cast<int>(i % static_cast<size_t>(comm_.size())) != comm_.rank()) continue;
    char name[32];
    std::snprintf(name, sizeof name, "trial-%03lld", static_cast<long long>(exports[i] + 1));
    const fs::path folder = fs::path(config_.output.dir) / "models" / name;
    engine_.export_model(optimize::decode_heretic_params(space_, params), folder, cards[i]);
    spdlog::info("exported trial {} to {}", exports[i] + 1, folder.string());
  }
  comm_.barrier();
}

}  // namespace

Run::Run() = default;
Run::~Run() = default;

std::unique_ptr<Run> Run::load(const config::Config& config, int cpu_threads, const std::string& device) {
  if (cpu_threads > 0) torch::set_num_threads(cpu_threads);
  std::unique_ptr<Run> run(new Run());
  run->engine_ = Engine::load(config, torch::Device(device));
  return run;
}

std::string Run::choose_device(int local_rank) {
  if (!torch::cuda::is_available()) return "cpu";
  const auto count = static_cast<int>(torch::cuda::device_count());
  return "cuda:" + std::to_string(local_rank % std::max(count, 1));
}

const LoadedInputs& Run::inputs() const { return engine_->inputs(); }

int Run::execute(dist::Communicator& comm, const RunSettings& settings) {
  Engine& engine = *engine_;
  const config::Config& config = engine.config();
  // Worker groups of ranks_per_trial consecutive ranks (the main job checked that it divides
  // the world); each evaluates one trial at a time with its prompts sharded inside the group.
  const int k = config.mpi.ranks_per_trial;
  const std::unique_ptr<dist::Communicator> group = comm.split(comm.rank() / k, comm.rank());
  dist::install_stop_handlers();
  if (config.print_debug_information) {
    spdlog::info("rank {}: libtorch {}, {} intra-op thread(s), {} inter-op thread(s), device {}", comm.rank(),
                 TORCH_VERSION, torch::get_num_threads(), torch::get_num_interop_threads(),
                 engine.model().device().str());
  }
  // Phase 2: response prefix, prompts encoded with it, baselines.
  auto phase_start = std::chrono::steady_clock::now();
  auto phase_seconds = [&phase_start] {
    const auto now = std::chrono::steady_clock::now();
    const double s = std::chrono::duration<double>(now - phase_start).count();
    phase_start = now;
    return s;
  };
  const std::string prefix = engine.response_prefix(comm);
  if (config.response_prefix) {
    spdlog::info("response prefix (configured): {}", nlohmann::json(prefix).dump());
  } else {
    spdlog::info("response prefix (detected): {}", prefix.empty() ? "none" : nlohmann::json(prefix).dump());
  }
  engine.prepare(prefix);
  // Every group computes the KL baselines of its own shards (a trial's scores need exactly those);
  // the baseline scores are the same in every group.
  const Scores baseline = engine.baseline(*group);
  spdlog::info("baseline: {} ({})", describe_scores(engine.scorers(), baseline), format_duration(phase_seconds()));

  // Phase 3: directions.
  const Directions& dirs = engine.compute_directions(comm);
  spdlog::info("refusal directions from {} good and {} bad prompts, {} rows of {} ({})", dirs.good_count,
               dirs.bad_count, dirs.directions.size(0), dirs.directions.size(1), format_duration(phase_seconds()));

  if (config.print_residual_geometry && comm.rank() == 0) print_residual_geometry(dirs);

  // Phases 4 and 5.
  TrialLoop loop(engine, comm, *group, settings, baseline);
  return loop.run();
}

}  // namespace heretic::app
