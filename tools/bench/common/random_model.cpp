#include "random_model.h"

#include <torch/utils.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "hf/safetensors_writer.h"

namespace heretic::bench {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;  // key order is irrelevant in tokenizer.json

// GPT-2's byte-to-unicode map of byte-level BPE: printable bytes stand for themselves, the
// others are shifted to U+0100 onwards.
std::vector<std::string> byte_level_alphabet() {
  std::vector<std::string> alphabet(256);
  int shifted = 0;
  for (int byte = 0; byte < 256; ++byte) {
    const bool printable = (byte >= 33 && byte <= 126) || (byte >= 161 && byte <= 172) || (byte >= 174);
    const int code = printable ? byte : 256 + shifted++;
    std::string utf8;
    if (code < 0x80) {
      utf8 = std::string(1, static_cast<char>(code));
    } else {
      utf8 = {static_cast<char>(0xC0 | (code >> 6)), static_cast<char>(0x80 | (code & 0x3F))};
    }
    alphabet[static_cast<size_t>(byte)] = utf8;
  }
  return alphabet;
}

// A byte-level BPE tokenizer.json whose vocabulary covers every model id: the 256 byte tokens,
// then pairs and triples of printable ASCII, so that decoding a random response costs what it
// costs for a real model (a few bytes per token).
void write_random_tokenizer(const fs::path& folder, int64_t vocab) {
  const std::vector<std::string> alphabet = byte_level_alphabet();
  json ids = json::object();
  json merges = json::array();
  int64_t next_id = 0;
  for (const std::string& byte : alphabet) ids[byte] = next_id++;
  // Merged tokens are distinct by construction: byte tokens are single code points, pairs and
  // triples of printable ASCII are two and three code points.
  auto add = [&](const std::string& left, const std::string& right) {
    if (next_id >= vocab) return;
    ids[left + right] = next_id++;
    merges.push_back(left + " " + right);
  };
  std::vector<std::string> pairs;
  for (int a = 32; a < 127; ++a) {
    for (int b = 32; b < 127; ++b) {
      add(alphabet[static_cast<size_t>(a)], alphabet[static_cast<size_t>(b)]);
      pairs.push_back(alphabet[static_cast<size_t>(a)] + alphabet[static_cast<size_t>(b)]);
    }
  }
  for (const std::string& pair : pairs) {
    for (int c = 32; c < 127 && next_id < vocab; ++c) add(pair, alphabet[static_cast<size_t>(c)]);
  }
  const json byte_level = {
      {"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", true}};
  const json tokenizer = {{"version", "1.0"},
                          {"truncation", nullptr},
                          {"padding", nullptr},
                          {"added_tokens", json::array()},
                          {"normalizer", nullptr},
                          {"pre_tokenizer", byte_level},
                          {"post_processor", nullptr},
                          {"decoder", byte_level},
                          {"model",
                           {{"type", "BPE"},
                            {"dropout", nullptr},
                            {"unk_token", nullptr},
                            {"continuing_subword_prefix", nullptr},
                            {"end_of_word_suffix", nullptr},
                            {"fuse_unk", false},
                            {"byte_fallback", false},
                            {"ignore_merges", false},
                            {"vocab", ids},
                            {"merges", merges}}}};
  std::ofstream(folder / "tokenizer.json") << tokenizer.dump();
}

}  // namespace

RandomModelShape shape_from_options(const cxxopts::ParseResult& options) {
  RandomModelShape shape;
  shape.hidden = options["hidden"].as<int64_t>();
  shape.layers = options["layers"].as<int64_t>();
  shape.heads = options["heads"].as<int64_t>();
  shape.kv_heads = options["kv-heads"].as<int64_t>();
  shape.intermediate = options["intermediate"].as<int64_t>();
  shape.vocab = options["vocab"].as<int64_t>();
  return shape;
}

void write_random_model(const fs::path& folder, const RandomModelShape& s) {
  fs::create_directories(folder);
  json config = {{"model_type", s.experts > 0 ? "mixtral" : "llama"},
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
  if (s.experts > 0) {
    config["num_local_experts"] = s.experts;
    config["num_experts_per_tok"] = s.experts_per_token;
  }
  std::ofstream(folder / "config.json") << config.dump(2);
  std::ofstream(folder / "generation_config.json") << "{}";
  write_random_tokenizer(folder, s.vocab);

  std::vector<torch::Tensor> keep;
  std::vector<hf::TensorToWrite> tensors;
  auto add = [&](const std::string& name, std::vector<int64_t> shape, double std_dev, double mean) {
    keep.push_back((torch::randn(shape) * std_dev + mean).contiguous());
    tensors.push_back({name, hf::DType::kF32, shape, static_cast<const std::byte*>(keep.back().data_ptr())});
  };
  const int64_t hd = s.hidden / s.heads;
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
    if (s.experts == 0) {
      add(p + "mlp.gate_proj.weight", {s.intermediate, s.hidden}, 0.02, 0.0);
      add(p + "mlp.up_proj.weight", {s.intermediate, s.hidden}, 0.02, 0.0);
      add(p + "mlp.down_proj.weight", {s.hidden, s.intermediate}, 0.02, 0.0);
      continue;
    }
    add(p + "block_sparse_moe.gate.weight", {s.experts, s.hidden}, 1.0 / std::sqrt(static_cast<double>(s.hidden)), 0.0);
    for (int64_t e = 0; e < s.experts; ++e) {
      const std::string expert = p + "block_sparse_moe.experts." + std::to_string(e) + ".";
      add(expert + "w1.weight", {s.intermediate, s.hidden}, 0.02, 0.0);
      add(expert + "w3.weight", {s.intermediate, s.hidden}, 0.02, 0.0);
      add(expert + "w2.weight", {s.hidden, s.intermediate}, 0.02, 0.0);
    }
  }
  hf::write_safetensors_checkpoint(folder, tensors, uint64_t{1} << 32);
}

std::vector<std::vector<int64_t>> random_prompts(std::mt19937_64& rng, int64_t count, int64_t min_length,
                                                 int64_t max_length, int64_t vocab) {
  std::uniform_int_distribution<int64_t> length(min_length, max_length), id(0, vocab - 1);
  std::vector<std::vector<int64_t>> prompts(static_cast<size_t>(count));
  for (auto& prompt : prompts) {
    prompt.resize(static_cast<size_t>(length(rng)));
    for (auto& token : prompt) token = id(rng);
  }
  return prompts;
}

}  // namespace heretic::bench
