// The mixture-of-experts fixtures (mixtral-tiny, qwen2_moe-tiny, qwen3_moe-tiny and its fused
// twin, gpt_oss-tiny with MXFP4 experts and its pre-dequantised bf16 twin) against an
// independent float32 implementation of transformers' forward pass and of Heretic's weight edit,
// tools/fixtures/moe_reference.py, which wrote tests/fixtures/moe_reference/<fixture>.json:
//
//   tools/fixtures/moe_reference.py tests/fixtures/models tests/fixtures/moe_reference
//
// Checked: the logits at every position of three prompts, and the last-position logits after
// ablating every layer's attention output and MLP down projections (each expert's, the shared
// expert's; gpt-oss's as [out, in], biases unedited) with one direction, weight 0.8, in each row normalisation. The reference edits the
// weights; heretic-mpi applies the same ablation through its output transforms. The dense
// qwen3-tiny has a reference too: it checks the reference's attention, RoPE and norms against
// the forward pass heretic-mpi has for the dense families.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "ablation/ablator.h"
#include "model/causal_lm.h"
#include "model_fixtures.h"

using namespace heretic;
using heretic::model::CausalLM;

namespace {

nlohmann::json moe_reference(const std::string& fixture) {
  const std::filesystem::path file =
      std::filesystem::path(HERETIC_SOURCE_DIR) / "tests/fixtures/moe_reference" / (fixture + ".json");
  std::ifstream in(file);
  if (!in) throw std::runtime_error("missing reference file " + file.string());
  return nlohmann::json::parse(in);
}

torch::Tensor float_tensor(const nlohmann::json& values) {
  return torch::tensor(values.get<std::vector<float>>());
}

// Float32 agreement of two computations in different operation orders: within 1e-4 and within
// 1e-5 of the largest expected logit.
void expect_close(const torch::Tensor& actual, const torch::Tensor& expected, const std::string& what) {
  ASSERT_EQ(actual.sizes(), expected.sizes()) << what;
  const double diff = (actual - expected).abs().max().item<double>();
  const double scale = expected.abs().max().item<double>();
  EXPECT_LE(diff, 1e-4) << what;
  EXPECT_LE(diff, 1e-5 * scale) << what << " (largest logit " << scale << ")";
}

torch::Tensor last_position_logits(CausalLM& model, const std::vector<int64_t>& prompt) {
  return model.next_token_logits(model.make_batch({prompt}))[0];
}

class MoeReference : public ::testing::TestWithParam<std::string> {};

TEST_P(MoeReference, LogitsAtEveryPositionMatchTheReference) {
  const nlohmann::json reference = moe_reference(GetParam());
  auto model = CausalLM::load(fixture_model(GetParam()), "float32", torch::kCPU);
  const auto prompts = reference.at("prompts").get<std::vector<std::vector<int64_t>>>();
  for (size_t p = 0; p < prompts.size(); ++p) {
    const auto& expected = reference.at("logits").at(p);
    ASSERT_EQ(expected.size(), prompts[p].size());
    for (size_t t = 0; t < prompts[p].size(); ++t) {
      const std::vector<int64_t> prefix(prompts[p].begin(), prompts[p].begin() + static_cast<std::ptrdiff_t>(t) + 1);
      expect_close(last_position_logits(*model, prefix), float_tensor(expected.at(t)),
                   "prompt " + std::to_string(p) + " position " + std::to_string(t));
    }
  }
}

TEST_P(MoeReference, AblatedLogitsMatchTheEditedWeightsInEveryRowNormalization) {
  const nlohmann::json reference = moe_reference(GetParam());
  auto model = CausalLM::load(fixture_model(GetParam()), "float32", torch::kCPU);
  const auto prompts = reference.at("prompts").get<std::vector<std::vector<int64_t>>>();
  const torch::Tensor direction = float_tensor(reference.at("direction"));
  const double weight = reference.at("weight").get<double>();
  std::vector<ablation::ModuleAblation> plan;
  for (int64_t layer = 0; layer < model->info().num_layers; ++layer)
    for (const model::Component component : model::kAllComponents)
      plan.push_back({layer, component, weight, direction});

  const std::pair<const char*, config::RowNormalization> modes[] = {
      {"none", config::RowNormalization::kNone},
      {"pre", config::RowNormalization::kPre},
      {"full", config::RowNormalization::kFull}};
  for (const auto& [name, mode] : modes) {
    ablation::Ablator ablator(*model, mode);
    ablator.apply(plan);
    for (size_t p = 0; p < prompts.size(); ++p)
      expect_close(last_position_logits(*model, prompts[p]), float_tensor(reference.at("ablated").at(name).at(p)),
                   std::string(name) + ", prompt " + std::to_string(p));
    ablator.clear();
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, MoeReference,
                         ::testing::Values("mixtral-tiny", "qwen2_moe-tiny", "qwen3_moe-tiny",
                                           "qwen3_moe-fused-tiny", "qwen3-tiny", "gpt_oss-tiny",
                                           "gpt_oss-dequantized-tiny"),
                         [](const ::testing::TestParamInfo<std::string>& param) {
                           std::string name = param.param;
                           for (char& c : name)
                             if (c == '-') c = '_';
                           return name;
                         });

// Two checkpoint layouts of one model give bit-identical logits for the reference's prompts (in
// one left-padded batch).
void expect_identical_logits(const std::string& fixture, const std::string& twin) {
  auto model = CausalLM::load(fixture_model(fixture), "float32", torch::kCPU);
  auto twin_model = CausalLM::load(fixture_model(twin), "float32", torch::kCPU);
  const auto prompts = moe_reference(fixture).at("prompts").get<std::vector<std::vector<int64_t>>>();
  const torch::Tensor expected = model->next_token_logits(model->make_batch(prompts));
  const torch::Tensor actual = twin_model->next_token_logits(twin_model->make_batch(prompts));
  EXPECT_TRUE(torch::equal(actual, expected))
      << twin << " vs " << fixture << ": max diff " << (actual - expected).abs().max().item<double>();
}

// transformers 5 saves the experts fused (gate_up_proj [E, 2I, H], down_proj [E, H, I]); the same
// values in either layout are the same model.
TEST(MoeCheckpointLayouts, FusedAndPerExpertQwen3MoeGiveIdenticalLogits) {
  expect_identical_logits("qwen3_moe-tiny", "qwen3_moe-fused-tiny");
}

// gpt-oss ships its experts in MXFP4 (gate_up_proj_blocks [E, 2I, H/32, 16] and _scales
// [E, 2I, H/32], down_proj likewise); pre-dequantised repositories store the bf16 values
// transposed (gate_up_proj [E, H, 2I], down_proj [E, I, H]). Every MXFP4 value of the fixture is
// exact in bf16, so the two are the same model.
TEST(MoeCheckpointLayouts, Mxfp4AndDequantizedGptOssGiveIdenticalLogits) {
  expect_identical_logits("gpt_oss-dequantized-tiny", "gpt_oss-tiny");
}

}  // namespace
