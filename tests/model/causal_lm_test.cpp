// Forward-pass primitives on every family's random-weight fixture: batching with left padding
// equals one prompt at a time, hidden states have transformers' L+1 rows, ablation slots act
// on module outputs, and broken checkpoints are rejected clearly.
#include "model/causal_lm.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include "common/error.h"
#include "model_fixtures.h"

using namespace heretic::model;
namespace fs = std::filesystem;

namespace {

class EveryFamily : public ::testing::TestWithParam<std::string> {
 protected:
  std::unique_ptr<CausalLM> load_f32() { return CausalLM::load(fixture_model(GetParam()), "float32", torch::kCPU); }
};

TEST_P(EveryFamily, LoadsWithTheFamilysQuirks) {
  const auto model = load_f32();
  const ModelInfo& info = model->info();
  const std::string family = GetParam().substr(0, GetParam().find('-'));
  EXPECT_EQ(info.family->name, family);
  EXPECT_EQ(info.model_type, family);
  EXPECT_EQ(info.vocab_size, 128);
  EXPECT_EQ(info.hidden_size, family == "gpt_oss" ? 64 : 32);  // MXFP4 blocks are 32 wide
  if (family == "qwen2") {
    EXPECT_TRUE(info.qkv_bias);
  }
  if (family == "qwen3") {
    EXPECT_TRUE(info.qk_norm);
    EXPECT_EQ(info.head_dim, 16);
  }
  if (family == "gpt_oss") {
    EXPECT_TRUE(info.attention_sinks);
    EXPECT_TRUE(info.qkv_bias && info.o_bias);
    EXPECT_EQ(info.norm_style, NormStyle::kScaleInFloat32);
    EXPECT_EQ(info.sliding_window, (std::vector<int64_t>{4, 0}));
    EXPECT_EQ(info.experts.activation_limit, 7.0);
    EXPECT_FALSE(info.experts.normalize_top_k);
  }
  if (family == "mistral") {
    EXPECT_TRUE(info.tie_word_embeddings);
    EXPECT_EQ(info.sliding_window, (std::vector<int64_t>{5, 5}));
  }
  if (family == "llama") {
    EXPECT_EQ(info.rope.rope_type, "llama3");
  }
  if (family == "gemma2") {
    EXPECT_EQ(info.norm_style, NormStyle::kOffsetInFloat32);
    EXPECT_EQ(info.sliding_window, (std::vector<int64_t>{4, 0, 4}));  // even layers slide
    EXPECT_DOUBLE_EQ(info.attention_scale, 1.0 / std::sqrt(12.0));    // query_pre_attn_scalar
    EXPECT_DOUBLE_EQ(info.attn_logit_softcap, 2.0);
    EXPECT_DOUBLE_EQ(info.final_logit_softcap, 3.0);
    EXPECT_DOUBLE_EQ(info.embedding_scale, std::sqrt(32.0));
    EXPECT_EQ(info.activation, Activation::kGeluTanh);
    EXPECT_TRUE(model->weights().layers[0].mlp_output_norm.defined());
  }
  if (family == "gemma3_text") {
    EXPECT_EQ(info.sliding_window, (std::vector<int64_t>{4, 4, 0, 4}));  // sliding_window_pattern 3
    ASSERT_TRUE(info.sliding_rope.has_value());
    EXPECT_EQ(*info.sliding_rope->rope_theta, 10000.0);  // rope_local_base_freq
    EXPECT_EQ(info.rope.rope_type, "linear");             // global layers only
    EXPECT_EQ(*info.rope.rope_theta, 1e6);
    EXPECT_TRUE(info.qk_norm);
    EXPECT_EQ(info.final_logit_softcap, 0.0);
  }
  if (family == "gemma3") {
    EXPECT_EQ(info.layout.decoder_prefix, "language_model.model.");
    EXPECT_EQ(info.module_name(1, Component::kMlpDown), "language_model.model.layers.1.mlp.down_proj");
    EXPECT_EQ(info.sliding_window, (std::vector<int64_t>{3, 0}));  // v5 layer_types
    ASSERT_TRUE(info.sliding_rope.has_value());                    // v5 rope_parameters per layer type
    EXPECT_EQ(info.rope.rope_type, "linear");
    EXPECT_DOUBLE_EQ(info.rms_norm_eps, 1e-6);                           // Gemma3TextConfig's default
    EXPECT_EQ(info.generation.eos_token_ids, (std::vector<int64_t>{1, 2}));  // from the wrapper
  }
  if (family == "phi3") {
    EXPECT_EQ(info.rope.rope_type, "longrope");
    EXPECT_EQ(info.rope.partial_rotary_factor, 0.5);
    EXPECT_EQ(info.sliding_window, (std::vector<int64_t>{6, 6}));
    // Views of the fused tensors: q, k, v rows of qkv_proj and gate, up rows of gate_up_proj.
    const DecoderLayerWeights& layer = model->weights().layers[0];
    EXPECT_EQ(layer.k_proj.weight.sizes(), (std::vector<int64_t>{16, 32}));
    EXPECT_EQ(layer.q_proj.weight.data_ptr<float>() + 32 * 32, layer.k_proj.weight.data_ptr<float>());
    EXPECT_EQ(layer.gate_proj.weight.data_ptr<float>() + 64 * 32, layer.up_proj.weight.data_ptr<float>());
  }
  if (family == "mistral3") {
    EXPECT_EQ(info.layout.decoder_prefix, "model.language_model.");
    EXPECT_EQ(info.module_name(0, Component::kAttnOutput), "model.language_model.layers.0.self_attn.o_proj");
    EXPECT_EQ(info.head_dim, 16);
  }
}

// Left padding, windows shorter than the prompt and batch sizes 1 and 7 give the same logits
// per prompt.
TEST_P(EveryFamily, BatchedLogitsEqualOnePromptAtATime) {
  auto model = load_f32();
  for (const auto& prompts : {fixture_prompts(), short_prompts(), long_prompts()}) {
    if (prompts.size() == 4 && model->info().rope.rope_type == "longrope") continue;  // straddles the switch
    const auto B = static_cast<int64_t>(prompts.size());
    const torch::Tensor batched = model->next_token_logits(model->make_batch(prompts));  // [B, V]
    ASSERT_EQ(batched.sizes(), (std::vector<int64_t>{B, 128}));
    for (int64_t i = 0; i < B; ++i) {
      const torch::Tensor single = model->next_token_logits(model->make_batch({prompts[static_cast<size_t>(i)]}));
      EXPECT_TRUE(torch::allclose(batched[i], single[0], 1e-4, 1e-4))
          << "batch of " << B << ", row " << i << " max diff " << (batched[i] - single[0]).abs().max().item<float>();
    }
  }
}

TEST_P(EveryFamily, BatchedHiddenStatesEqualOnePromptAtATime) {
  auto model = load_f32();
  const auto prompts = long_prompts();
  const torch::Tensor batched = model->last_position_hidden_states(model->make_batch(prompts));
  const int64_t L = model->info().num_layers;
  ASSERT_EQ(batched.sizes(), (std::vector<int64_t>{7, L + 1, model->info().hidden_size}));
  EXPECT_EQ(batched.scalar_type(), torch::kFloat32);
  for (size_t i = 0; i < prompts.size(); ++i) {
    const torch::Tensor single = model->last_position_hidden_states(model->make_batch({prompts[i]}));
    EXPECT_TRUE(torch::allclose(batched[static_cast<int64_t>(i)], single[0], 1e-4, 1e-4)) << "row " << i;
  }
}

TEST_P(EveryFamily, HiddenStateRowsFollowTransformersConvention) {
  auto model = load_f32();
  const ModelInfo& info = model->info();
  const auto prompts = long_prompts();
  const Batch batch = model->make_batch(prompts);
  const torch::Tensor hidden = model->last_position_hidden_states(batch);  // [B, L+1, H]
  const int64_t L = info.num_layers;
  // Row 0 is the embedding of the last prompt token, after Gemma's embedding scale.
  const double scale = info.embedding_scale > 0.0 ? info.embedding_scale : 1.0;
  for (size_t i = 0; i < prompts.size(); ++i) {
    const torch::Tensor embedding = model->weights().embed_tokens[prompts[i].back()] * scale;
    EXPECT_TRUE(torch::allclose(hidden[static_cast<int64_t>(i)][0], embedding, 1e-6, 1e-6)) << "row " << i;
  }
  // Row L is the final-norm output: lm_head applied to it (and the final soft-cap) gives the
  // next-token logits.
  torch::Tensor from_last_row = torch::matmul(hidden.select(1, L), model->weights().lm_head.t());
  if (info.final_logit_softcap > 0.0)
    from_last_row = torch::tanh(from_last_row / info.final_logit_softcap) * info.final_logit_softcap;
  EXPECT_TRUE(torch::allclose(from_last_row, model->next_token_logits(batch), 1e-4, 1e-4));
  // The rows in between are raw residual streams, not normalised: their RMS differs from the
  // final norm's unit-scale output.
  EXPECT_FALSE(torch::allclose(hidden.select(1, L - 1), hidden.select(1, L), 1e-2, 1e-2));
}

TEST_P(EveryFamily, AnIdentityAblationChangesNothingAndClearingRestores) {
  auto model = load_f32();
  const Batch batch = model->make_batch(fixture_prompts());
  const torch::Tensor baseline = model->next_token_logits(batch);
  for (int64_t layer = 0; layer < model->info().num_layers; ++layer) {
    model->slots().set(layer, Component::kAttnOutput, [](const torch::Tensor& y) { return y; });
    model->slots().set(layer, Component::kMlpDown, [](const torch::Tensor& y) { return y; });
  }
  EXPECT_TRUE(torch::allclose(model->next_token_logits(batch), baseline, 1e-5, 1e-5));
  model->slots().set(0, Component::kMlpDown, [](const torch::Tensor& y) { return y * 0.0; });
  EXPECT_FALSE(torch::allclose(model->next_token_logits(batch), baseline, 1e-3, 1e-3));
  model->slots().clear_all();
  EXPECT_EQ(model->slots().active_count(), 0);
  EXPECT_TRUE(torch::equal(model->next_token_logits(batch), baseline));
}

INSTANTIATE_TEST_SUITE_P(Fixtures, EveryFamily, ::testing::ValuesIn(fixture_model_names()), fixture_test_name);

// The ablation transform y -> y - v (v^T y) on down_proj output equals running the model with
// the weight W' = (I - v v^T) W (DESIGN.md §3), without touching W.
TEST(AblationSlots, ProjectionTransformEqualsOrthogonalisedWeight) {
  auto ablated = CausalLM::load(fixture_model("llama-tiny"), "float32", torch::kCPU);
  auto edited = CausalLM::load(fixture_model("llama-tiny"), "float32", torch::kCPU);
  torch::manual_seed(0);
  const torch::Tensor u = torch::randn({32});
  const torch::Tensor v = u / u.norm();
  ablated->slots().set(1, Component::kMlpDown, [v](const torch::Tensor& y) {
    return y - torch::outer(torch::matmul(y.reshape({-1, y.size(-1)}), v), v).view(y.sizes());
  });
  // The bf16 file is loaded as float32, so these weights are private copies we may edit.
  const torch::Tensor W = edited->weights().layers[1].down_proj.weight;  // [H, I]
  W.copy_(W - torch::outer(v, torch::matmul(v, W)));
  const Batch batch = ablated->make_batch(fixture_prompts());
  EXPECT_TRUE(torch::allclose(ablated->next_token_logits(batch), edited->next_token_logits(batch), 1e-4, 1e-4));
}

TEST(BFloat16, BatchedEqualsSingleAndTracksFloat32) {
  auto model = CausalLM::load(fixture_model("llama-tiny"), "auto", torch::kCPU);
  ASSERT_EQ(model->info().dtype, heretic::hf::DType::kBF16);
  EXPECT_EQ(model->weights().embed_tokens.scalar_type(), torch::kBFloat16);
  const auto prompts = fixture_prompts();
  const torch::Tensor batched = model->next_token_logits(model->make_batch(prompts));
  EXPECT_EQ(batched.scalar_type(), torch::kFloat32);
  auto reference = CausalLM::load(fixture_model("llama-tiny"), "float32", torch::kCPU);
  const torch::Tensor f32 = reference->next_token_logits(reference->make_batch(prompts));
  for (size_t i = 0; i < prompts.size(); ++i) {
    const torch::Tensor single = model->next_token_logits(model->make_batch({prompts[i]}));
    // bf16 has 8 mantissa bits: logits of order 1-10 agree to a few hundredths.
    EXPECT_TRUE(torch::allclose(batched[static_cast<int64_t>(i)], single[0], 0.05, 0.05)) << i;
  }
  EXPECT_LT((batched - f32).abs().max().item<float>(), 0.5);
  EXPECT_TRUE(torch::isfinite(batched).all().item<bool>());
}

TEST(DtypeChain, FallsBackToADtypeThatWorksAndReportsEveryFailure) {
  const auto model =
      CausalLM::load_first_working(fixture_model("qwen3-tiny"), {"float16", "float32"}, torch::kCPU, {5, 6, 7});
  EXPECT_TRUE(model->info().dtype == heretic::hf::DType::kF16 || model->info().dtype == heretic::hf::DType::kF32);
  EXPECT_THROW(CausalLM::load_first_working(fixture_model("qwen3-tiny"), {"float64"}, torch::kCPU, {5}),
               heretic::InputError);
}

class BrokenCheckpoint : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("heretic-broken-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    for (const char* file : {"config.json", "generation_config.json", "model.safetensors"})
      fs::copy_file(fixture_model("qwen3-tiny") / file, dir_ / file);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string load_error() {
    try {
      CausalLM::load(dir_, "float32", torch::kCPU);
    } catch (const heretic::InputError& error) {
      return error.what();
    }
    return "";
  }
  void edit_config(const std::string& from, const std::string& to) {
    std::ifstream in(dir_ / "config.json");
    std::stringstream buffer;
    buffer << in.rdbuf();
    std::string text = buffer.str();
    text.replace(text.find(from), from.size(), to);
    std::ofstream(dir_ / "config.json") << text;
  }
  fs::path dir_;
};

TEST_F(BrokenCheckpoint, ShapeDisagreeingWithConfigNamesTheTensor) {
  edit_config("\"intermediate_size\": 64", "\"intermediate_size\": 65");
  const std::string error = load_error();
  EXPECT_NE(error.find("config.json: keys 'intermediate_size', 'hidden_size' imply shape [65, 32] for tensor "
                       "'model.layers.0.mlp.gate_proj.weight', but"),
            std::string::npos)
      << error;
  EXPECT_NE(error.find("has [64, 32]"), std::string::npos) << error;
}

TEST_F(BrokenCheckpoint, MoreLayersThanTheCheckpointHoldsNamesTheKey) {
  edit_config("\"num_hidden_layers\": 3", "\"num_hidden_layers\": 4");
  const std::string error = load_error();
  EXPECT_NE(error.find("config.json: key 'num_hidden_layers' is 4, but the checkpoint has no tensor "
                       "'model.layers.3.self_attn.o_proj.weight'"),
            std::string::npos)
      << error;
}

TEST_F(BrokenCheckpoint, UnknownModelTypeListsSupportedOnes) {
  edit_config("\"model_type\": \"qwen3\"", "\"model_type\": \"qwen9\"");
  EXPECT_NE(load_error().find("supported: 'gemma2', 'gemma3', 'gemma3_text', 'gpt_oss', 'llama', 'mistral', 'mistral3', "
                              "'mixtral', 'phi3', 'qwen2', 'qwen2_moe', 'qwen3', 'qwen3_moe'"),
            std::string::npos)
      << load_error();
}

TEST_F(BrokenCheckpoint, TruncatedWeightsAreRejected) {
  fs::resize_file(dir_ / "model.safetensors", fs::file_size(dir_ / "model.safetensors") / 2);
  EXPECT_NE(load_error().find("file truncated?"), std::string::npos);
}

}  // namespace
