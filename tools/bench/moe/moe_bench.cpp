// bench_moe: what a trial costs on a mixture-of-experts model against a dense one that
// computes as much per token. Both models are random Llama-style folders written to a
// temporary directory (tools/bench/common/random_model.h): the MoE model (Mixtral layout) has
// `experts` SwiGLU experts of `expert-intermediate` columns with top-k routing, the dense model one
// MLP of top-k x expert-intermediate columns, so that both multiply the same number of weights
// per token (attention, embeddings and head are identical). A trial is what the engine does:
// Ablator::apply (row norms of every expert), the KL forward passes (next-token logits of
// `prompts` prompts in one batch) and greedy generation of `tokens` tokens for `gen-prompts`
// prompts, then Ablator::clear. Prints seconds per trial of each, their ratio, and the machine.
#include <torch/utils.h>

#include <cstdio>
#include <cxxopts.hpp>
#include <filesystem>
#include <iostream>
#include <memory>
#include <random>
#include <string>
#include <unistd.h>
#include <vector>

#include "ablation/ablator.h"
#include "machine.h"
#include "model/causal_lm.h"
#include "random_model.h"

namespace heretic::bench {
namespace {

namespace fs = std::filesystem;

struct Timing {
  double load_seconds = 0.0;
  double apply_seconds = 0.0, kl_seconds = 0.0, generation_seconds = 0.0;
  int64_t parameters = 0;
  double per_trial() const { return apply_seconds + kl_seconds + generation_seconds; }
};

Timing time_trials(const fs::path& folder, int trials, const std::vector<std::vector<int64_t>>& kl_prompts,
                   const std::vector<std::vector<int64_t>>& gen_prompts, int64_t tokens) {
  torch::NoGradGuard no_grad;
  Timing timing;
  const auto load_start = Clock::now();
  std::unique_ptr<model::CausalLM> model = model::CausalLM::load(folder, "float32", torch::kCPU);
  timing.load_seconds = seconds_since(load_start);
  timing.parameters = model->weights().parameter_bytes() / 4;
  const model::ModelInfo& info = model->info();
  ablation::Ablator ablator(*model, config::RowNormalization::kFull);
  torch::manual_seed(5);
  const torch::Tensor random = torch::randn({info.hidden_size});
  const torch::Tensor direction = random / random.norm();
  std::vector<ablation::ModuleAblation> plan;
  for (int64_t layer = 0; layer < info.num_layers; ++layer)
    for (const model::Component component : model::kAllComponents)
      plan.push_back({layer, component, 0.9, direction});
  const model::Batch kl_batch = model->make_batch(kl_prompts);
  const model::Batch gen_batch = model->make_batch(gen_prompts);
  for (int trial = 0; trial <= trials; ++trial) {  // trial 0 warms up and is not counted
    const auto t0 = Clock::now();
    ablator.apply(plan);
    const auto t1 = Clock::now();
    const torch::Tensor logits = model->next_token_logits(kl_batch);
    const auto t2 = Clock::now();
    const auto generated = model->generate_greedy(gen_batch, tokens);
    const auto t3 = Clock::now();
    ablator.clear();
    if (trial == 0) continue;
    timing.apply_seconds += std::chrono::duration<double>(t1 - t0).count() / trials;
    timing.kl_seconds += std::chrono::duration<double>(t2 - t1).count() / trials;
    timing.generation_seconds += std::chrono::duration<double>(t3 - t2).count() / trials;
  }
  return timing;
}

int run(int argc, char** argv) {
  cxxopts::Options options("bench_moe", "seconds per trial: mixture of experts vs dense with equal active parameters");
  options.add_options()("trials", "timed trials (after one warm-up)", cxxopts::value<int>()->default_value("3"))(
      "hidden", "hidden size", cxxopts::value<int64_t>()->default_value("512"))(
      "layers", "layers", cxxopts::value<int64_t>()->default_value("8"))(
      "heads", "attention heads", cxxopts::value<int64_t>()->default_value("8"))(
      "kv-heads", "KV heads", cxxopts::value<int64_t>()->default_value("4"))(
      "experts", "experts per layer", cxxopts::value<int64_t>()->default_value("8"))(
      "top-k", "experts per token", cxxopts::value<int64_t>()->default_value("2"))(
      "expert-intermediate", "each expert's intermediate size", cxxopts::value<int64_t>()->default_value("1024"))(
      "vocab", "vocabulary (>= 256)", cxxopts::value<int64_t>()->default_value("2048"))(
      "prompts", "KL prompts per trial", cxxopts::value<int64_t>()->default_value("32"))(
      "gen-prompts", "generated prompts per trial", cxxopts::value<int64_t>()->default_value("8"))(
      "tokens", "tokens generated per prompt", cxxopts::value<int64_t>()->default_value("16"))(
      "threads", "torch intra-op threads (0: torch's default)", cxxopts::value<int>()->default_value("0"))(
      "help", "this text");
  const auto args = options.parse(argc, argv);
  if (args.count("help")) {
    std::cout << options.help() << "\n";
    return 0;
  }
  if (args["threads"].as<int>() > 0) torch::set_num_threads(args["threads"].as<int>());
  RandomModelShape moe;
  moe.hidden = args["hidden"].as<int64_t>();
  moe.layers = args["layers"].as<int64_t>();
  moe.heads = args["heads"].as<int64_t>();
  moe.kv_heads = args["kv-heads"].as<int64_t>();
  moe.vocab = args["vocab"].as<int64_t>();
  moe.experts = args["experts"].as<int64_t>();
  moe.experts_per_token = args["top-k"].as<int64_t>();
  moe.intermediate = args["expert-intermediate"].as<int64_t>();
  RandomModelShape dense = moe;
  dense.experts = dense.experts_per_token = 0;
  dense.intermediate = moe.experts_per_token * moe.intermediate;

  const fs::path root = fs::temp_directory_path() / ("heretic-bench-moe-" + std::to_string(::getpid()));
  torch::manual_seed(1);
  write_random_model(root / "moe", moe);
  write_random_model(root / "dense", dense);
  std::mt19937_64 rng(7);
  const auto kl_prompts = random_prompts(rng, args["prompts"].as<int64_t>(), 16, 48, moe.vocab);
  const auto gen_prompts = random_prompts(rng, args["gen-prompts"].as<int64_t>(), 16, 48, moe.vocab);
  const int trials = args["trials"].as<int>();
  const int64_t tokens = args["tokens"].as<int64_t>();

  std::printf("machine: %s, %d torch threads, BLAS %s, load %s\n", cpu_model().c_str(), torch::get_num_threads(),
              blas_libraries().c_str(), load_average().c_str());
  std::printf("shape: hidden %lld, %lld layers, %lld/%lld heads, vocab %lld; MoE %lld experts x %lld, top %lld; "
              "dense MLP %lld\n",
              static_cast<long long>(moe.hidden), static_cast<long long>(moe.layers), static_cast<long long>(moe.heads),
              static_cast<long long>(moe.kv_heads), static_cast<long long>(moe.vocab),
              static_cast<long long>(moe.experts), static_cast<long long>(moe.intermediate),
              static_cast<long long>(moe.experts_per_token), static_cast<long long>(dense.intermediate));
  std::printf("trial: ablation (full row normalisation, every layer), KL logits of %lld prompts, %lld tokens for %lld "
              "prompts; %d timed trials after a warm-up\n",
              static_cast<long long>(kl_prompts.size()), static_cast<long long>(tokens),
              static_cast<long long>(gen_prompts.size()), trials);
  const Timing d = time_trials(root / "dense", trials, kl_prompts, gen_prompts, tokens);
  const Timing m = time_trials(root / "moe", trials, kl_prompts, gen_prompts, tokens);
  fs::remove_all(root);
  std::printf("%-6s %12s %9s %9s %9s %11s %11s\n", "model", "parameters", "apply s", "KL s", "gen s", "s/trial",
              "trials/hour");
  for (const auto& [name, t] : {std::pair<const char*, const Timing&>{"dense", d}, {"moe", m}})
    std::printf("%-6s %12lld %9.3f %9.3f %9.3f %11.3f %11.0f\n", name, static_cast<long long>(t.parameters),
                t.apply_seconds, t.kl_seconds, t.generation_seconds, t.per_trial(), 3600.0 / t.per_trial());
  std::printf("ratio moe/dense per trial: %.2f (apply %.2f, KL %.2f, generation %.2f)\n", m.per_trial() / d.per_trial(),
              m.apply_seconds / d.apply_seconds, m.kl_seconds / d.kl_seconds,
              m.generation_seconds / d.generation_seconds);
  return 0;
}

}  // namespace
}  // namespace heretic::bench

int main(int argc, char** argv) { return heretic::bench::run(argc, argv); }
