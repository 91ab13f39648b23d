// bench_abliteration: seconds per trial of the abliteration engine, run the way src/app/engine.cpp
// evaluates a trial (Ablator::apply -> KL scorer -> keyword scorer -> Ablator::clear), split into
// ablation setup, KL and generation, on (a) the model organism and (b) a larger random-weight
// Llama-style model; the direction phase; the savings of early-stopped generation; and the
// model-FLOP utilisation (MFU): FLOPs of the forward work actually executed (forward_work.h has
// the formula) / seconds / the best 2048^3 float32 matmul measured in the same run (both models
// run in float32).
#include <torch/utils.h>
#include <torch/version.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cxxopts.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "ablation/ablator.h"
#include "ablation/directions.h"
#include "ablation/residuals.h"
#include "config/config.h"
#include "data/load_prompts.h"
#include "eval/model_runner.h"
#include "eval/prompt_encoding.h"
#include "eval/model_scorer_prompts.h"
#include "eval/refusal_markers.h"
#include "eval/scorer_registry.h"
#include "forward_work.h"
#include "hf/chat_template.h"
#include "hf/tokenizer.h"
#include "model/attention.h"
#include "model/causal_lm.h"
#include "ablation/trial_params.h"
#include "machine.h"
#include "random_model.h"

namespace heretic::bench {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

using eval::TokenIds;

// One model under test with its prompt sets (already token ids).
struct Subject {
  std::string name;
  std::string description;  // where the prompts come from
  std::unique_ptr<model::CausalLM> model;
  std::optional<hf::Tokenizer> tokenizer;
  std::vector<TokenIds> good, bad, kl_prompts, refusal_prompts;
  int64_t max_response_length = 100;
  bool compare_early_stop = false;
};

struct Settings {
  int trials = 5;
  int random_trials = 1;
  int64_t batch_size = 128;
  uint64_t seed = 0;
};

// ---- the organism

std::vector<TokenIds> organism_prompts(const fs::path& file, const hf::Tokenizer& tokenizer,
                                       const hf::ChatTemplate& chat, int64_t count) {
  data::DatasetSpec spec;
  spec.dataset = file.string();
  spec.split = "[:" + std::to_string(count) + "]";
  // Heretic's default system prompt; the organism's response prefix is empty (its README).
  return eval::encode_prompts(tokenizer, chat, data::load_prompts(spec, "You are a helpful assistant."), "");
}

// ---- trials

struct TrialResult {
  double setup_seconds = 0, kl_seconds = 0, generation_seconds = 0;
  Work kl_work, generation_work;
  double refusals = 0, kl = 0;
  double total() const { return setup_seconds + kl_seconds + generation_seconds; }
};

// Trial parameters drawn uniformly from Heretic's search space (fixed seed: the same draws for
// every mode and run).
std::vector<ablation::TrialParams> draw_params(int64_t layers, int count, uint64_t seed, std::vector<json>* raw) {
  const auto space = ablation::trial_search_space(
      static_cast<int>(layers), {model::Component::kAttnOutput, model::Component::kMlpDown});
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::vector<ablation::TrialParams> params;
  for (int i = 0; i < count; ++i) {
    std::vector<double> values;
    json named = json::object();
    for (const auto& spec : space.params()) {
      double value = spec.low;
      if (!spec.single()) {
        value = spec.kind == optimize::ParamKind::kCategorical
                    ? std::min(std::floor(unit(rng) * static_cast<double>(spec.n_choices())), spec.high)
                    : spec.low + unit(rng) * (spec.high - spec.low);
      }
      values.push_back(value);
      if (spec.kind == optimize::ParamKind::kCategorical) {
        named[spec.name] = spec.choices[static_cast<size_t>(value)];
      } else {
        named[spec.name] = value;
      }
    }
    params.push_back(ablation::decode_trial_params(space.named(values)));
    raw->push_back(named);
  }
  return params;
}

class TrialRunner {
 public:
  TrialRunner(Subject& subject, WorkCounter& counter, const torch::Tensor& directions, eval::Scorer& kl,
              eval::ModelScorerPrompts& kl_prompts, eval::Scorer& keyword, eval::ModelScorerPrompts& refusal_prompts)
      : subject_(subject),
        counter_(counter),
        directions_(directions),
        kl_(kl),
        kl_prompts_(kl_prompts),
        keyword_(keyword),
        refusal_prompts_(refusal_prompts) {}

  // As Engine::evaluate: apply, KL, refusals with early stop, clear.
  TrialResult run(ablation::Ablator& ablator, const ablation::TrialParams& params) {
    TrialResult result;
    const auto setup_start = Clock::now();
    ablator.apply(ablation::plan_ablation(params, directions_, subject_.model->info().num_layers));
    result.setup_seconds = seconds_since(setup_start);
    counter_.attach(subject_.model->slots(), true);
    const auto kl_start = Clock::now();
    result.kl = kl_.score(kl_prompts_, 0, kl_prompts_.size()).sum / static_cast<double>(kl_prompts_.size());
    result.kl_seconds = seconds_since(kl_start);
    result.kl_work = counter_.take();
    const auto generation_start = Clock::now();
    result.refusals = keyword_.score(refusal_prompts_, 0, refusal_prompts_.size()).sum;
    result.generation_seconds = seconds_since(generation_start);
    result.generation_work = counter_.take();
    const auto clear_start = Clock::now();
    ablator.clear();
    result.setup_seconds += seconds_since(clear_start);
    return result;
  }

  // Refusal generation alone, with or without early stop, on the model as currently ablated.
  TrialResult generation(bool early_stop) {
    TrialResult result;
    counter_.attach(subject_.model->slots(), true);
    const auto start = Clock::now();
    if (early_stop) {
      result.refusals = keyword_.score(refusal_prompts_, 0, refusal_prompts_.size()).sum;
    } else {
      const eval::RefusalMatcher matcher(default_markers());
      for (const auto& response : refusal_prompts_.responses(0, refusal_prompts_.size(), subject_.max_response_length, {})) {
        result.refusals += matcher.is_refusal(response.text) ? 1.0 : 0.0;
      }
    }
    result.generation_seconds = seconds_since(start);
    result.generation_work = counter_.take();
    return result;
  }

 private:
  static std::vector<std::string> default_markers() {
    return eval::default_settings(eval::find_scorer_plugin("KeywordRate")->settings).string_list("keyword_markers");
  }

  Subject& subject_;
  WorkCounter& counter_;
  const torch::Tensor& directions_;
  eval::Scorer& kl_;
  eval::ModelScorerPrompts& kl_prompts_;
  eval::Scorer& keyword_;
  eval::ModelScorerPrompts& refusal_prompts_;
};

double mfu(double flops, double seconds, double peak) { return seconds > 0 ? 100.0 * flops / seconds / peak : 0.0; }

TrialResult mean_of(const std::vector<TrialResult>& trials) {
  TrialResult mean;
  for (const TrialResult& r : trials) {
    mean.setup_seconds += r.setup_seconds;
    mean.kl_seconds += r.kl_seconds;
    mean.generation_seconds += r.generation_seconds;
    mean.refusals += r.refusals;
    mean.kl += r.kl;
    mean.kl_work += r.kl_work;
    mean.generation_work += r.generation_work;
  }
  const auto count = static_cast<int64_t>(std::max<size_t>(trials.size(), 1));
  const auto n = static_cast<double>(count);
  for (double* value : {&mean.setup_seconds, &mean.kl_seconds, &mean.generation_seconds, &mean.refusals, &mean.kl}) {
    *value /= n;
  }
  for (Work* work : {&mean.kl_work, &mean.generation_work}) {
    work->flops /= n;
    work->prefill_positions /= count;  // rounded down: token counts stay integers
    work->decode_positions /= count;
    work->logit_rows /= count;
  }
  return mean;
}

struct ModeResult {
  config::RowNormalization mode = config::RowNormalization::kFull;
  double construction_seconds = 0;  // Ablator constructor: row norms, once per run
  std::vector<TrialResult> trials;
};

// Refusal generation of one model state with and without early stop.
struct EarlyStopResult {
  std::string label;
  TrialResult with, without;
};

struct SubjectResult {
  std::string name, description;
  model::ModelInfo info;
  int64_t max_response_length = 0, refusal_prompts = 0, direction_prompts = 0;
  double directions_seconds = 0, baseline_seconds = 0;
  Work directions_work;
  std::vector<json> params;  // reported trials' raw parameters (the warm-up's not included)
  std::vector<ModeResult> modes;
  std::vector<EarlyStopResult> early_stop;  // empty: not compared
};

// Directions, KL baseline, one warm-up trial, then `trials` trials per row normalisation with
// the same parameters, and the early-stop comparison where asked. Progress goes to stderr.
SubjectResult measure_subject(Subject& s, const Settings& settings, int trials) {
  SubjectResult out;
  out.name = s.name;
  out.description = s.description;
  out.info = s.model->info();
  out.max_response_length = s.max_response_length;
  out.refusal_prompts = static_cast<int64_t>(s.refusal_prompts.size());
  out.direction_prompts = static_cast<int64_t>(s.good.size() + s.bad.size());
  const int64_t layers = out.info.num_layers;
  eval::ModelRunner runner(*s.model, settings.batch_size);
  WorkCounter counter(out.info);

  // Residual sums of good and bad prompts, their means, orthogonalised directions (Heretic's
  // defaults: no winsorisation, orthogonalize_direction = true).
  counter.attach(s.model->slots(), false);
  const auto directions_start = Clock::now();
  auto sums_of = [&](const std::vector<TokenIds>& prompts) {
    ablation::ResidualSums sums(layers + 1, out.info.hidden_size);
    runner.for_each_hidden_states(prompts, [&](size_t, const torch::Tensor& states) { sums.add(states, 1.0); });
    return sums;
  };
  const auto good = sums_of(s.good);
  const auto bad = sums_of(s.bad);
  const torch::Tensor directions = ablation::refusal_directions(good.mean(), bad.mean(), true);  // [L+1, H]
  out.directions_seconds = seconds_since(directions_start);
  out.directions_work = counter.take();
  s.model->slots().clear_all();
  std::fprintf(stderr, "[%s] directions %.2f s\n", s.name.c_str(), out.directions_seconds);

  // The run's scorers, as Engine builds them (prompt texts are not needed for scoring).
  auto scorer = [&](const char* name) {
    const eval::ScorerPlugin& plugin = *eval::find_scorer_plugin(name);
    return plugin.create(eval::ScorerInit{eval::default_settings(plugin.settings), s.max_response_length});
  };
  eval::ModelScorerPrompts kl_prompts(runner, *s.tokenizer, std::vector<data::Prompt>(s.kl_prompts.size()), s.kl_prompts);
  eval::ModelScorerPrompts refusal_prompts(runner, *s.tokenizer, std::vector<data::Prompt>(s.refusal_prompts.size()),
                                           s.refusal_prompts);
  const auto kl = scorer("KLDivergence");
  const auto keyword = scorer("KeywordRate");
  const auto baseline_start = Clock::now();
  kl->capture_baseline(kl_prompts, 0, kl_prompts.size());
  out.baseline_seconds = seconds_since(baseline_start);
  std::fprintf(stderr, "[%s] KL baseline %.2f s\n", s.name.c_str(), out.baseline_seconds);

  TrialRunner trial_runner(s, counter, directions, *kl, kl_prompts, *keyword, refusal_prompts);
  std::vector<json> raw;
  const auto params = draw_params(layers, trials + 1, settings.seed, &raw);
  out.params.assign(raw.begin() + 1, raw.end());

  for (const auto mode : {config::RowNormalization::kFull, config::RowNormalization::kNone}) {
    ModeResult result;
    result.mode = mode;
    const auto construct_start = Clock::now();
    ablation::Ablator ablator(*s.model, mode);
    result.construction_seconds = seconds_since(construct_start);
    if (out.modes.empty()) trial_runner.run(ablator, params[0]);  // warm-up, not reported
    for (int i = 1; i <= trials; ++i) {
      result.trials.push_back(trial_runner.run(ablator, params[static_cast<size_t>(i)]));
      std::fprintf(stderr, "[%s] %s trial %d: %.2f s\n", s.name.c_str(), config::to_string(mode).c_str(), i,
                   result.trials.back().total());
    }
    out.modes.push_back(std::move(result));
  }

  if (s.compare_early_stop) {
    // Same count, fewer tokens: on the unablated model (mostly refusals) and on the first
    // reported trial's ablation (full), generating both ways.
    ablation::Ablator ablator(*s.model, config::RowNormalization::kFull);
    for (const bool ablated : {false, true}) {
      if (ablated) ablator.apply(ablation::plan_ablation(params[1], directions, layers));
      EarlyStopResult result;
      result.label = ablated ? "trial 1" : "unablated";
      result.with = trial_runner.generation(true);
      result.without = trial_runner.generation(false);
      ablator.clear();
      out.early_stop.push_back(result);
    }
  }
  return out;
}

json trial_json(const TrialResult& r, double peak) {
  const double flops = r.kl_work.flops + r.generation_work.flops;
  return {{"setup_s", r.setup_seconds},
          {"kl_s", r.kl_seconds},
          {"generation_s", r.generation_seconds},
          {"total_s", r.total()},
          {"setup_fraction", r.setup_seconds / r.total()},
          {"kl_fraction", r.kl_seconds / r.total()},
          {"generation_fraction", r.generation_seconds / r.total()},
          {"refusals", r.refusals},
          {"kl", r.kl},
          {"generated_tokens", r.generation_work.logit_rows},
          {"kl_positions", r.kl_work.prefill_positions},
          {"generation_prefill_positions", r.generation_work.prefill_positions},
          {"generation_decode_positions", r.generation_work.decode_positions},
          {"kl_gflop", r.kl_work.flops / 1e9},
          {"generation_gflop", r.generation_work.flops / 1e9},
          {"kl_mfu_percent", mfu(r.kl_work.flops, r.kl_seconds, peak)},
          {"generation_mfu_percent", mfu(r.generation_work.flops, r.generation_seconds, peak)},
          {"trial_mfu_percent", mfu(flops, r.total(), peak)}};
}

json subject_json(const SubjectResult& r, double peak) {
  const model::ModelInfo& info = r.info;
  json out;
  out["model"] = {{"model_type", info.model_type},
                  {"hidden", info.hidden_size},
                  {"layers", info.num_layers},
                  {"heads", info.num_heads},
                  {"kv_heads", info.num_kv_heads},
                  {"intermediate", info.intermediate_size},
                  {"vocab", info.vocab_size},
                  {"dtype", model::torch_dtype_name(info.dtype)},
                  {"matmul_params_per_token", static_cast<double>(info.num_layers) * layer_matmul_params(info) +
                                                  static_cast<double>(info.hidden_size * info.vocab_size)}};
  out["prompts"] = r.description;
  out["max_response_length"] = r.max_response_length;
  out["directions"] = {{"prompts", r.direction_prompts},
                       {"positions", r.directions_work.prefill_positions},
                       {"seconds", r.directions_seconds},
                       {"gflop", r.directions_work.flops / 1e9},
                       {"mfu_percent", mfu(r.directions_work.flops, r.directions_seconds, peak)}};
  out["kl_baseline_s"] = r.baseline_seconds;
  out["trial_params"] = r.params;
  for (const ModeResult& mode : r.modes) {
    json trials = json::array();
    for (const TrialResult& trial : mode.trials) trials.push_back(trial_json(trial, peak));
    out["row_normalization"][config::to_string(mode.mode)] = {{"ablator_construction_s", mode.construction_seconds},
                                                              {"trials", trials},
                                                              {"mean", trial_json(mean_of(mode.trials), peak)}};
  }
  if (r.early_stop.empty()) out["early_stop"] = "not compared: no response can stop early";
  for (const EarlyStopResult& e : r.early_stop) {
    out["early_stop"][e.label] = {{"refusals_with", e.with.refusals},
                                  {"refusals_without", e.without.refusals},
                                  {"tokens_with", e.with.generation_work.logit_rows},
                                  {"tokens_without", e.without.generation_work.logit_rows},
                                  {"seconds_with", e.with.generation_seconds},
                                  {"seconds_without", e.without.generation_seconds}};
  }
  return out;
}

void print_trial_row(const std::string& label, const TrialResult& r, int64_t refusal_prompts, double peak) {
  std::printf("    %5s %5.1f/%-4lld %9.3g %8.4f %7.3f %7.3f %8.3f %8lld %6.1f%% %6.1f%% %6.1f%%\n", label.c_str(),
              r.refusals, static_cast<long long>(refusal_prompts), r.kl, r.setup_seconds, r.kl_seconds,
              r.generation_seconds, r.total(), static_cast<long long>(r.generation_work.logit_rows),
              mfu(r.kl_work.flops, r.kl_seconds, peak), mfu(r.generation_work.flops, r.generation_seconds, peak),
              mfu(r.kl_work.flops + r.generation_work.flops, r.total(), peak));
}

void print_subject(const SubjectResult& r, double peak) {
  const model::ModelInfo& info = r.info;
  std::printf("\n== %s: %s, hidden %lld, %lld layers, heads %lld/%lld kv, intermediate %lld, vocab %lld, %s\n",
              r.name.c_str(), info.model_type.c_str(), static_cast<long long>(info.hidden_size),
              static_cast<long long>(info.num_layers), static_cast<long long>(info.num_heads),
              static_cast<long long>(info.num_kv_heads), static_cast<long long>(info.intermediate_size),
              static_cast<long long>(info.vocab_size), model::torch_dtype_name(info.dtype));
  std::printf("   prompts: %s; max_response_length %lld\n", r.description.c_str(),
              static_cast<long long>(r.max_response_length));
  std::printf("   directions (%lld prompts, %lld positions): %.3f s, %.2f GFLOP, MFU %.1f%%; KL baseline %.3f s\n",
              static_cast<long long>(r.direction_prompts), static_cast<long long>(r.directions_work.prefill_positions),
              r.directions_seconds, r.directions_work.flops / 1e9,
              mfu(r.directions_work.flops, r.directions_seconds, peak), r.baseline_seconds);
  for (const ModeResult& mode : r.modes) {
    std::printf("   row_normalization %s (Ablator construction, once per run: %.4f s)\n",
                config::to_string(mode.mode).c_str(), mode.construction_seconds);
    std::printf("    trial  refusals        KL  setup s    KL s   gen s  total s  gen tok  KL MFU gen MFU    MFU\n");
    for (size_t i = 0; i < mode.trials.size(); ++i) {
      print_trial_row(std::to_string(i + 1), mode.trials[i], r.refusal_prompts, peak);
    }
    const TrialResult mean = mean_of(mode.trials);
    print_trial_row("mean", mean, r.refusal_prompts, peak);
    const double total = mean.total();
    std::printf(
        "    mean trial %.3f s = setup %.2f%% + KL %.1f%% + generation %.1f%%; %.1f of at most %lld tokens "
        "generated per prompt\n",
        total, 100.0 * mean.setup_seconds / total, 100.0 * mean.kl_seconds / total,
        100.0 * mean.generation_seconds / total,
        static_cast<double>(mean.generation_work.logit_rows) / static_cast<double>(r.refusal_prompts),
        static_cast<long long>(r.max_response_length));
  }
  if (r.early_stop.empty()) {
    std::printf(
        "   early stop: never triggers here: a random model writes no refusal marker and has no EOS, so every "
        "response runs to max_response_length\n");
  } else {
    std::printf("   early stop (refusal generation with vs without; refusals, tokens, seconds):\n");
  }
  for (const EarlyStopResult& e : r.early_stop) {
    const auto tokens_with = static_cast<double>(e.with.generation_work.logit_rows);
    const auto tokens_without = static_cast<double>(e.without.generation_work.logit_rows);
    std::printf("    %-9s refusals %.0f vs %.0f, tokens %.0f vs %.0f (x%.2f), seconds %.3f vs %.3f (x%.2f)\n",
                e.label.c_str(), e.with.refusals, e.without.refusals, tokens_with, tokens_without,
                tokens_with / tokens_without, e.with.generation_seconds, e.without.generation_seconds,
                e.with.generation_seconds / e.without.generation_seconds);
  }
}

int run_benchmark(int argc, char** argv) {
  // The random model's defaults keep the default run near 3 minutes on 2 shared cores whose torch
  // calls a reference BLAS; the size is --hidden 512 --layers 8 --heads 8 --kv-heads 4
  // --intermediate 1536 --prompts 100 --random-trials 5.
  cxxopts::Options options("bench_abliteration",
                           "Seconds per abliteration trial (setup, KL, generation) and model-FLOP utilisation");
  options.add_options()("trials", "reported trials per row normalisation on the organism (after one warm-up)",
                        cxxopts::value<int>()->default_value("5"))(
      "random-trials", "reported trials per row normalisation on the random model",
      cxxopts::value<int>()->default_value("1"))("threads", "torch intra-op threads (0: torch's default)",
                                                 cxxopts::value<int>()->default_value("0"))(
      "batch-size", "initial batch size of every operation (Heretic's max_batch_size)",
      cxxopts::value<int64_t>()->default_value("128"))("seed", "seed of the trial parameters and random prompts",
                                                       cxxopts::value<uint64_t>()->default_value("0"))(
      "organism", "model organism folder (model/, prompts/)",
      cxxopts::value<std::string>()->default_value(HERETIC_SOURCE_DIR "/tests/fixtures/organism"))(
      "skip-organism", "benchmark only the random model")("skip-random", "benchmark only the organism")(
      "hidden", "random model: hidden size", cxxopts::value<int64_t>()->default_value("256"))(
      "layers", "random model: decoder layers (>= 2)", cxxopts::value<int64_t>()->default_value("4"))(
      "heads", "random model: attention heads", cxxopts::value<int64_t>()->default_value("4"))(
      "kv-heads", "random model: key/value heads", cxxopts::value<int64_t>()->default_value("2"))(
      "intermediate", "random model: MLP size", cxxopts::value<int64_t>()->default_value("768"))(
      "vocab", "random model: vocabulary (>= 256)", cxxopts::value<int64_t>()->default_value("8192"))(
      "prompts", "random model: prompts per set (good, bad, KL, refusal)",
      cxxopts::value<int64_t>()->default_value("50"))("min-length", "random model: shortest prompt",
                                                      cxxopts::value<int64_t>()->default_value("40"))(
      "max-length", "random model: longest prompt", cxxopts::value<int64_t>()->default_value("60"))(
      "max-response-length", "tokens generated at most per response", cxxopts::value<int64_t>()->default_value("100"))(
      "json", "print one JSON object with every number at the end")("h,help", "help");
  const auto args = options.parse(argc, argv);
  if (args.count("help")) {
    std::cout << options.help() << "\n";
    return 0;
  }
  Settings settings;
  settings.trials = args["trials"].as<int>();
  settings.random_trials = args["random-trials"].as<int>();
  settings.batch_size = args["batch-size"].as<int64_t>();
  settings.seed = args["seed"].as<uint64_t>();
  const int64_t max_response_length = args["max-response-length"].as<int64_t>();
  const RandomModelShape shape = heretic::bench::shape_from_options(args);
  if (settings.trials < 1 || settings.random_trials < 1 || settings.batch_size < 1 || shape.layers < 2 ||
      shape.vocab < 256 || shape.hidden % shape.heads != 0 || shape.heads % shape.kv_heads != 0 ||
      args["min-length"].as<int64_t>() < 2 || args["max-length"].as<int64_t>() < args["min-length"].as<int64_t>()) {
    std::cerr << "bench_abliteration: need trials >= 1, batch-size >= 1, layers >= 2, vocab >= 256, heads dividing "
                 "hidden, kv-heads dividing heads, 2 <= min-length <= max-length\n";
    return 2;
  }
  if (const int threads = args["threads"].as<int>(); threads > 0) torch::set_num_threads(threads);

  const std::string load_start = load_average();
  const std::string blas = blas_libraries();
  torch::manual_seed(0);
  const double peak_start = matmul_peak_flops(torch::kFloat32, 2);
  const auto bench_start = Clock::now();

  std::vector<SubjectResult> results;
  if (!args.count("skip-organism")) {
    const fs::path root = args["organism"].as<std::string>();
    Subject s;
    s.name = "organism";
    s.model = model::CausalLM::load(root / "model", "auto", torch::kCPU);
    s.tokenizer.emplace(hf::Tokenizer::from_folder(root / "model"));
    const auto chat = hf::ChatTemplate::from_folder(root / "model");
    s.good = organism_prompts(root / "prompts/harmless_train.txt", *s.tokenizer, chat, 100);
    s.bad = organism_prompts(root / "prompts/harmful_train.txt", *s.tokenizer, chat, 100);
    s.kl_prompts = organism_prompts(root / "prompts/harmless_test.txt", *s.tokenizer, chat, 100);
    s.refusal_prompts = organism_prompts(root / "prompts/harmful_test.txt", *s.tokenizer, chat, 100);
    s.description =
        "directions from harmless_train/harmful_train [:100] each, KL on harmless_test (100), refusals on "
        "harmful_test (100), system prompt \"You are a helpful assistant.\", the folder's chat template and tokenizer";
    s.max_response_length = max_response_length;
    s.compare_early_stop = true;
    results.push_back(measure_subject(s, settings, settings.trials));
  }
  if (!args.count("skip-random")) {
    torch::manual_seed(settings.seed);
    const fs::path folder = fs::temp_directory_path() / ("heretic-bench-abliteration-" + std::to_string(::getpid()));
    Subject s;
    s.name = "random";
    write_random_model(folder, shape);
    s.model = model::CausalLM::load(folder, "float32", torch::kCPU);
    s.tokenizer.emplace(hf::Tokenizer::from_folder(folder));
    fs::remove_all(folder);  // the mapping stays valid after unlinking
    std::mt19937_64 rng(settings.seed);
    const int64_t n = args["prompts"].as<int64_t>(), lo = args["min-length"].as<int64_t>(),
                  hi = args["max-length"].as<int64_t>();
    s.good = random_prompts(rng, n, lo, hi, shape.vocab);
    s.bad = random_prompts(rng, n, lo, hi, shape.vocab);
    s.kl_prompts = random_prompts(rng, n, lo, hi, shape.vocab);
    s.refusal_prompts = random_prompts(rng, n, lo, hi, shape.vocab);
    s.description = std::to_string(n) + " per set (good, bad, KL, refusal) of random token ids, " + std::to_string(lo) +
                    "-" + std::to_string(hi) + " long";
    s.max_response_length = max_response_length;
    results.push_back(measure_subject(s, settings, settings.random_trials));
  }
  const double bench_seconds = seconds_since(bench_start);
  const double peak_end = matmul_peak_flops(torch::kFloat32, 2);
  const std::string load_end = load_average();
  // Load from other processes only lowers a measured peak, so the larger one is nearer the truth.
  const double peak = std::max(peak_start, peak_end);

  std::printf("machine: %s, %u hardware threads, torch %s with %d intra-op threads, attention %s\n",
              cpu_model().c_str(), std::thread::hardware_concurrency(), TORCH_VERSION, torch::get_num_threads(),
              model::attention_uses_sdpa() ? "sdpa" : "eager");
  std::printf("BLAS: %s\n", blas.c_str());
  std::printf("load average (1, 5, 15 min): %s at start, %s at the end; other processes slow every number here\n",
              load_start.c_str(), load_end.c_str());
  std::printf(
      "matmul peak float32 (2048^3): %.2f GFLOP/s at start, %.2f at the end; MFU uses %.2f (above 100%% when "
      "small matmuls beat this large one, as with a BLAS without cache blocking)\n",
      peak_start / 1e9, peak_end / 1e9, peak / 1e9);
  std::printf(
      "trials: parameters drawn uniformly from Heretic's search space (seed %llu), the same for both row "
      "normalisations, after one warm-up trial; setup = plan + Ablator::apply + clear, KL = first-token "
      "log-probs + KL, gen = KeywordRateScorer::score with early stop; batch size %lld\n",
      static_cast<unsigned long long>(settings.seed), static_cast<long long>(settings.batch_size));
  for (const SubjectResult& result : results) print_subject(result, peak);
  std::printf("\nbenchmark %.1f s (peak measurements excluded)\n", bench_seconds);

  if (args.count("json")) {
    json out;
    out["machine"] = {{"cpu", cpu_model()},     {"hardware_threads", std::thread::hardware_concurrency()},
                      {"torch", TORCH_VERSION}, {"torch_threads", torch::get_num_threads()},
                      {"blas", blas},           {"attention", model::attention_uses_sdpa() ? "sdpa" : "eager"}};
    out["load_average_start"] = load_start;
    out["load_average_end"] = load_end;
    out["peak_gflops_start"] = peak_start / 1e9;
    out["peak_gflops_end"] = peak_end / 1e9;
    out["peak_gflops"] = peak / 1e9;
    out["flop_formula"] =
        "per forward call over b rows, t new positions, S keys: (L-1)(2btP + 4btS nH hd) + 2bt Pkv + 2b(P-Pkv) + "
        "4bS nH hd, plus 2bHV when it computes logits; P = H nH hd + 2H nKV hd + nH hd H + 3HI, Pkv = 2H nKV hd";
    out["seed"] = settings.seed;
    out["batch_size"] = settings.batch_size;
    for (const SubjectResult& result : results) out[result.name] = subject_json(result, peak);
    out["seconds"] = bench_seconds;
    std::printf("%s\n", out.dump().c_str());
  }
  return 0;
}

}  // namespace
}  // namespace heretic::bench

int main(int argc, char** argv) { return heretic::bench::run_benchmark(argc, argv); }
