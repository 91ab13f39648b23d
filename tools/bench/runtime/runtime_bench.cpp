// bench_runtime: prefill tokens/s and decode tokens/s of CausalLM on a random-weight Llama-
// style model of configurable size, and the fraction of the machine's peak (a large matmul in
// the same dtype, measured in the same run) that the forward achieves.
//
//   bench_runtime [--hidden 512 --layers 4 --heads 8 --kv-heads 4 --intermediate 1536
//                  --vocab 8192 --batch 8 --prompt 128 --new-tokens 32 --dtype float32]
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cxxopts.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "machine.h"
#include "model/attention.h"
#include "model/causal_lm.h"
#include "model/tensor_view.h"
#include "random_model.h"

namespace fs = std::filesystem;

namespace {

using heretic::bench::Clock;
using heretic::bench::cpu_model;
using heretic::bench::matmul_peak_flops;
using heretic::bench::seconds_since;
using Shape = heretic::bench::RandomModelShape;

// Matmul FLOPs of one token through the decoder layers (lm_head excluded), plus attention over `context`
// earlier tokens (scores and weighted sum: 2 x 2 x heads x hd x context).
double flops_per_token(const Shape& s, double context) {
  const double hd = static_cast<double>(s.hidden / s.heads);
  const double H = static_cast<double>(s.hidden);
  const double per_layer =
      2.0 * H * (static_cast<double>(s.heads) * hd * 2 + static_cast<double>(s.kv_heads) * hd * 2) +
      2.0 * 3.0 * H * static_cast<double>(s.intermediate) + 4.0 * static_cast<double>(s.heads) * hd * context;
  return per_layer * static_cast<double>(s.layers);
}

}  // namespace

int main(int argc, char** argv) {
  cxxopts::Options options("bench_runtime", "Prefill/decode throughput of the model runtime");
  options.add_options()("hidden", "hidden size", cxxopts::value<int64_t>()->default_value("512"))(
      "layers", "decoder layers", cxxopts::value<int64_t>()->default_value("4"))(
      "heads", "attention heads", cxxopts::value<int64_t>()->default_value("8"))(
      "kv-heads", "key/value heads", cxxopts::value<int64_t>()->default_value("4"))(
      "intermediate", "MLP size", cxxopts::value<int64_t>()->default_value("1536"))(
      "vocab", "vocabulary", cxxopts::value<int64_t>()->default_value("8192"))(
      "batch", "prompts per batch", cxxopts::value<int64_t>()->default_value("8"))(
      "prompt", "prompt length", cxxopts::value<int64_t>()->default_value("128"))(
      "new-tokens", "tokens to decode", cxxopts::value<int64_t>()->default_value("32"))(
      "dtype", "float32 or bfloat16", cxxopts::value<std::string>()->default_value("float32"))("h,help", "help");
  const auto args = options.parse(argc, argv);
  if (args.count("help")) {
    std::cout << options.help() << "\n";
    return 0;
  }
  const Shape shape = heretic::bench::shape_from_options(args);
  const int64_t batch = args["batch"].as<int64_t>();
  const int64_t prompt = args["prompt"].as<int64_t>();
  const int64_t new_tokens = args["new-tokens"].as<int64_t>();
  const std::string dtype = args["dtype"].as<std::string>();

  std::printf("machine: %s, %u hardware threads, torch intra-op threads %d\n", cpu_model().c_str(),
              std::thread::hardware_concurrency(), torch::get_num_threads());
  std::printf("model: hidden %lld, layers %lld, heads %lld/%lld kv, intermediate %lld, vocab %lld, %s, attention %s\n",
              static_cast<long long>(shape.hidden), static_cast<long long>(shape.layers),
              static_cast<long long>(shape.heads), static_cast<long long>(shape.kv_heads),
              static_cast<long long>(shape.intermediate), static_cast<long long>(shape.vocab), dtype.c_str(),
              heretic::model::attention_uses_sdpa() ? "sdpa" : "eager");
  std::printf("work: batch %lld x prompt %lld, %lld new tokens\n", static_cast<long long>(batch),
              static_cast<long long>(prompt), static_cast<long long>(new_tokens));

  torch::manual_seed(0);
  const fs::path folder = fs::temp_directory_path() / ("heretic-bench-" + std::to_string(::getpid()));
  heretic::bench::write_random_model(folder, shape);
  auto model = heretic::model::CausalLM::load(folder, dtype, torch::kCPU);
  fs::remove_all(folder);  // the mapping stays valid after unlinking

  std::vector<std::vector<int64_t>> prompts;
  for (int64_t b = 0; b < batch; ++b) {
    std::vector<int64_t> ids;
    for (int64_t t = 0; t < prompt; ++t) ids.push_back((b * 7919 + t * 104729) % shape.vocab);
    prompts.push_back(ids);
  }
  const auto input = model->make_batch(prompts);
  model->next_token_logits(input);  // warm-up

  const double peak = matmul_peak_flops(heretic::model::to_torch(model->info().dtype));
  // Prefill: next-token logits of the whole batch (every layer over every prompt token).
  double prefill_seconds = 1e30;
  for (int i = 0; i < 3; ++i) {
    const auto start = Clock::now();
    model->next_token_logits(input);
    prefill_seconds = std::min(prefill_seconds, seconds_since(start));
  }
  const double prefill_tokens = static_cast<double>(batch * prompt);
  const double prefill_flops = prefill_tokens * flops_per_token(shape, static_cast<double>(prompt) / 2);
  // Decode: generation time minus one prefill, per generated token.
  const auto start = Clock::now();
  const auto generated = model->generate_greedy(input, new_tokens);
  const double decode_seconds = std::max(seconds_since(start) - prefill_seconds, 1e-9);
  double decode_tokens = 0;
  for (const auto& row : generated) decode_tokens += static_cast<double>(row.size()) - 1;
  const double decode_flops = decode_tokens * flops_per_token(shape, static_cast<double>(prompt + new_tokens / 2));

  std::printf("matmul peak (2048^3, %s): %.1f GFLOP/s\n", dtype.c_str(), peak / 1e9);
  std::printf("prefill: %.0f tokens/s, %.1f GFLOP/s = %.2f of peak\n", prefill_tokens / prefill_seconds,
              prefill_flops / prefill_seconds / 1e9, prefill_flops / prefill_seconds / peak);
  std::printf("decode:  %.0f tokens/s, %.1f GFLOP/s = %.2f of peak\n", decode_tokens / decode_seconds,
              decode_flops / decode_seconds / 1e9, decode_flops / decode_seconds / peak);
  return 0;
}
