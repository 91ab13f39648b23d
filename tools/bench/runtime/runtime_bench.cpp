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

#include "hf/safetensors_writer.h"
#include "model/attention.h"
#include "model/causal_lm.h"
#include "model/tensor_view.h"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

struct Shape {
  int64_t hidden, layers, heads, kv_heads, intermediate, vocab;
  int64_t head_dim() const { return hidden / heads; }
};

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  }
  return "unknown CPU";
}

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// Writes config.json, generation_config.json (no EOS, so decoding never stops early) and
// random float32 weights to `folder`.
void write_random_model(const fs::path& folder, const Shape& s) {
  fs::create_directories(folder);
  const nlohmann::json config = {{"model_type", "llama"},
                                 {"vocab_size", s.vocab},
                                 {"hidden_size", s.hidden},
                                 {"intermediate_size", s.intermediate},
                                 {"num_hidden_layers", s.layers},
                                 {"num_attention_heads", s.heads},
                                 {"num_key_value_heads", s.kv_heads},
                                 {"max_position_embeddings", 4096},
                                 {"rms_norm_eps", 1e-5},
                                 {"rope_theta", 10000.0},
                                 {"torch_dtype", "float32"},
                                 {"tie_word_embeddings", false}};
  std::ofstream(folder / "config.json") << config.dump(2);
  std::ofstream(folder / "generation_config.json") << "{}";

  std::vector<torch::Tensor> keep;
  std::vector<heretic::hf::TensorToWrite> tensors;
  auto add = [&](const std::string& name, std::vector<int64_t> shape, double std_dev, double mean) {
    keep.push_back((torch::randn(shape) * std_dev + mean).contiguous());
    tensors.push_back({name, heretic::hf::DType::kF32, shape, static_cast<const std::byte*>(keep.back().data_ptr())});
  };
  const int64_t hd = s.head_dim();
  add("model.embed_tokens.weight", {s.vocab, s.hidden}, 1.0, 0.0);
  add("model.norm.weight", {s.hidden}, 0.0, 1.0);
  add("lm_head.weight", {s.vocab, s.hidden}, 0.02, 0.0);
  for (int64_t i = 0; i < s.layers; ++i) {
    const std::string p = "model.layers." + std::to_string(i) + ".";
    add(p + "input_layernorm.weight", {s.hidden}, 0.0, 1.0);
    add(p + "post_attention_layernorm.weight", {s.hidden}, 0.0, 1.0);
    add(p + "self_attn.q_proj.weight", {s.heads * hd, s.hidden}, 0.02, 0.0);
    add(p + "self_attn.k_proj.weight", {s.kv_heads * hd, s.hidden}, 0.02, 0.0);
    add(p + "self_attn.v_proj.weight", {s.kv_heads * hd, s.hidden}, 0.02, 0.0);
    add(p + "self_attn.o_proj.weight", {s.hidden, s.heads * hd}, 0.02, 0.0);
    add(p + "mlp.gate_proj.weight", {s.intermediate, s.hidden}, 0.02, 0.0);
    add(p + "mlp.up_proj.weight", {s.intermediate, s.hidden}, 0.02, 0.0);
    add(p + "mlp.down_proj.weight", {s.hidden, s.intermediate}, 0.02, 0.0);
  }
  heretic::hf::write_safetensors_checkpoint(folder, tensors, uint64_t{1} << 32);
}

// Matmul FLOPs of one token through the decoder layers (lm_head excluded), plus attention over `context`
// earlier tokens (scores and weighted sum: 2 x 2 x heads x hd x context).
double flops_per_token(const Shape& s, double context) {
  const double hd = static_cast<double>(s.head_dim());
  const double H = static_cast<double>(s.hidden);
  const double per_layer =
      2.0 * H * (static_cast<double>(s.heads) * hd * 2 + static_cast<double>(s.kv_heads) * hd * 2) +
      2.0 * 3.0 * H * static_cast<double>(s.intermediate) + 4.0 * static_cast<double>(s.heads) * hd * context;
  return per_layer * static_cast<double>(s.layers);
}

// Peak: the best of a few large square matmuls in `dtype`.
double matmul_peak_flops(torch::ScalarType dtype) {
  const int64_t n = 2048;
  const torch::Tensor a = torch::randn({n, n}).to(dtype);
  const torch::Tensor b = torch::randn({n, n}).to(dtype);
  torch::matmul(a, b);  // warm-up
  double best = 1e30;
  for (int i = 0; i < 3; ++i) {
    const auto start = Clock::now();
    torch::matmul(a, b);
    best = std::min(best, seconds_since(start));
  }
  return 2.0 * static_cast<double>(n * n * n) / best;
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
  const Shape shape{args["hidden"].as<int64_t>(),   args["layers"].as<int64_t>(),       args["heads"].as<int64_t>(),
                    args["kv-heads"].as<int64_t>(), args["intermediate"].as<int64_t>(), args["vocab"].as<int64_t>()};
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
  write_random_model(folder, shape);
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
