// Parity with Hugging Face transformers on every fixture: hidden states at the last prompt
// position (L+1 rows), first-token logits and the greedy continuation of the fixture prompts,
// compared with reference files written by tools/fixtures/transformers_reference.py where
// transformers is installed (not on the machines that build and test heretic-mpi):
//
//   tools/fixtures/transformers_reference.py tests/fixtures/models --dtype float32 --attn sdpa
//   tools/fixtures/transformers_reference.py tests/fixtures/models --dtype float32 --attn eager
//
// Families with attention soft-capping (Gemma 2) compare with the eager reference (transformers'
// sdpa path drops the soft-cap; architectures.md §5.1), the others with sdpa. A missing reference
// skips the test with a message naming the file.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "model/causal_lm.h"
#include "model_fixtures.h"

using namespace heretic::model;
namespace fs = std::filesystem;

namespace {

torch::Tensor tensor_of(const nlohmann::json& nested) {
  std::vector<float> values;
  std::vector<int64_t> shape;
  std::function<void(const nlohmann::json&, size_t)> walk = [&](const nlohmann::json& node, size_t depth) {
    if (!node.is_array()) {
      values.push_back(node.get<float>());
      return;
    }
    if (shape.size() == depth) shape.push_back(static_cast<int64_t>(node.size()));
    for (const auto& item : node) walk(item, depth + 1);
  };
  walk(nested, 0);
  return torch::tensor(values).view(shape);
}

class TransformersParity : public ::testing::TestWithParam<std::string> {};

TEST_P(TransformersParity, HiddenStatesLogitsAndGreedyTokensMatchTheReference) {
  auto model = CausalLM::load(fixture_model(GetParam()), "float32", torch::kCPU);
  const std::string attn = model->info().attn_logit_softcap > 0.0 ? "eager" : "sdpa";
  const fs::path file = fixture_model(GetParam()) / ("reference-float32-" + attn + ".json");
  if (!fs::exists(file))
    GTEST_SKIP() << "missing reference file " << file.string()
                 << "; generate it where transformers is installed with: tools/fixtures/transformers_reference.py "
                    "tests/fixtures/models --dtype float32 --attn "
                 << attn;
  const nlohmann::json reference = nlohmann::json::parse(std::ifstream(file));
  const auto prompts = reference.at("prompts").get<std::vector<std::vector<int64_t>>>();
  ASSERT_EQ(prompts, fixture_prompts()) << "the reference was made for other prompts";
  const Batch batch = model->make_batch(prompts);

  const torch::Tensor hidden = model->last_position_hidden_states(batch);  // [B, L+1, H]
  const torch::Tensor expected_hidden = tensor_of(reference.at("hidden_states"));
  ASSERT_EQ(hidden.sizes(), expected_hidden.sizes());
  EXPECT_TRUE(torch::allclose(hidden, expected_hidden, 1e-4, 1e-4))
      << "max diff " << (hidden - expected_hidden).abs().max().item<float>();

  const torch::Tensor logits = model->next_token_logits(batch);  // [B, V]
  const torch::Tensor expected_logits = tensor_of(reference.at("logits"));
  EXPECT_TRUE(torch::allclose(logits, expected_logits, 1e-4, 1e-4))
      << "max diff " << (logits - expected_logits).abs().max().item<float>();

  const auto expected_tokens = reference.at("generated").get<std::vector<std::vector<int64_t>>>();
  const auto generated = model->generate_greedy(batch, static_cast<int64_t>(expected_tokens.front().size()));
  for (size_t i = 0; i < prompts.size(); ++i) {
    // transformers pads finished rows; heretic-mpi stops them at their EOS.
    const std::vector<int64_t> expected(expected_tokens[i].begin(), expected_tokens[i].begin() + generated[i].size());
    EXPECT_EQ(generated[i], expected) << "row " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, TransformersParity, ::testing::ValuesIn(fixture_model_names()), fixture_test_name);

}  // namespace
