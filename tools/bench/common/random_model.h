// A random-weight Llama-style (or Mixtral-style) model folder for benchmarks: config.json, generation_config.json
// without EOS (responses always run to their maximum length), float32 safetensors, and a
// byte-level BPE tokenizer.json covering every id, so that decoding responses costs what it
// costs for a real model (a few bytes per token).
#pragma once

#include <cstdint>
#include <cxxopts.hpp>
#include <filesystem>
#include <random>
#include <vector>

namespace heretic::bench {

struct RandomModelShape {
  int64_t hidden = 0, layers = 0, heads = 0, kv_heads = 0, intermediate = 0, vocab = 0;
  // experts > 0: a Mixtral-style mixture of `experts` SwiGLU experts of `intermediate` each,
  // `experts_per_token` routed per token, in place of the dense MLP.
  int64_t experts = 0, experts_per_token = 0;
};

// The shape given on a benchmark's command line as --hidden, --layers, --heads, --kv-heads,
// --intermediate and --vocab (int64 options).
RandomModelShape shape_from_options(const cxxopts::ParseResult& options);

// Weights from torch's generator (seed it first). vocab >= 256, heads dividing hidden.
void write_random_model(const std::filesystem::path& folder, const RandomModelShape& shape);

// `count` prompts of uniformly random ids in [0, vocab), lengths uniform in [min_length, max_length].
std::vector<std::vector<int64_t>> random_prompts(std::mt19937_64& rng, int64_t count, int64_t min_length,
                                                 int64_t max_length, int64_t vocab);

}  // namespace heretic::bench
