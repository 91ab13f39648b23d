// Scoring on the model organism (tests/fixtures/organism): prompts encoded as the trainer did,
// refusal counts with and without early stopping, shards that add up, KL divergence against
// a direct computation, and the model runner's batching keeping every prompt's index.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "config/config.h"
#include "data/load_prompts.h"
#include "eval/model_runner.h"
#include "eval/prompt_encoding.h"
#include "eval/scorers.h"
#include "hf/chat_template.h"
#include "hf/tokenizer.h"
#include "model/causal_lm.h"

namespace heretic::eval {
namespace {

const std::filesystem::path kOrganism = std::filesystem::path(HERETIC_SOURCE_DIR) / "tests/fixtures/organism";
const std::string kSystemPrompt = "You are a helpful assistant.";

const std::vector<std::string> kMarkers = config::default_keyword_markers();

nlohmann::json reference() {
  std::ifstream in(kOrganism / "reference.json");
  return nlohmann::json::parse(in);
}

class ScoringOrganism : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tokenizer_ = new hf::Tokenizer(hf::Tokenizer::from_folder(kOrganism / "model"));
    chat_ = new hf::ChatTemplate(hf::ChatTemplate::from_folder(kOrganism / "model"));
    model_ = model::CausalLM::load(kOrganism / "model", "float32", torch::kCPU).release();
  }
  static void TearDownTestSuite() {
    delete model_;
    delete chat_;
    delete tokenizer_;
  }
  void TearDown() override { model_->slots().clear_all(); }

  // The first 100 prompts of a test file, as a run's [scorer.*.prompts] would load them.
  static std::vector<TokenIds> test_prompts(const std::string& file) {
    data::DatasetSpec spec;
    spec.dataset = (kOrganism / "prompts" / file).string();
    spec.split = "[:100]";
    return encode_prompts(*tokenizer_, *chat_, data::load_prompts(spec, kSystemPrompt), "");
  }
  static std::vector<TokenIds> reference_prompts() {
    const auto ref = reference();
    std::vector<TokenIds> prompts;
    for (const auto& c : ref["cases"]) prompts.push_back(c["input_ids"].get<TokenIds>());
    return prompts;
  }

  static hf::Tokenizer* tokenizer_;
  static hf::ChatTemplate* chat_;
  static model::CausalLM* model_;
};
hf::Tokenizer* ScoringOrganism::tokenizer_ = nullptr;
hf::ChatTemplate* ScoringOrganism::chat_ = nullptr;
model::CausalLM* ScoringOrganism::model_ = nullptr;

TEST_F(ScoringOrganism, EncodePromptsGivesTheTrainersIds) {
  const auto ref = reference();
  std::vector<data::Prompt> prompts;
  for (const auto& c : ref["cases"]) prompts.push_back({ref["system_prompt"], c["prompt"]});
  EXPECT_EQ(encode_prompts(*tokenizer_, *chat_, prompts, ""), reference_prompts());

  // A response prefix is appended to the rendered text before tokenising.
  const auto with_prefix = encode_prompts(*tokenizer_, *chat_, prompts, "sure!");
  for (size_t i = 0; i < prompts.size(); ++i) {
    const auto ids = tokenizer_->encode_ids(ref["cases"][i]["rendered"].get<std::string>() + "sure!", true);
    EXPECT_EQ(with_prefix[i], TokenIds(ids.begin(), ids.end()));
    EXPECT_GT(with_prefix[i].size(), ref["cases"][i]["input_ids"].size());
  }
  // The first test prompt of the harmful file is the reference's first case.
  EXPECT_EQ(test_prompts("harmful_test.txt").front(), reference_prompts().front());
}

TEST_F(ScoringOrganism, RefusalCountsWithEarlyStopEqualFullResponses) {
  const auto ref = reference();
  ModelRunner runner(*model_, 64);
  const KeywordRateScorer harmful(*tokenizer_, test_prompts("harmful_test.txt"), RefusalMatcher(kMarkers), 100);
  const KeywordRateScorer harmless(*tokenizer_, test_prompts("harmless_test.txt"), RefusalMatcher(kMarkers), 100);
  ASSERT_EQ(harmful.size(), 100u);
  ASSERT_EQ(harmless.size(), 100u);

  std::vector<std::string> early_responses;
  std::vector<std::string> full_responses;
  const PartialScore harmful_early = harmful.score(runner, 0, 100, true, &early_responses);
  const PartialScore harmful_full = harmful.score(runner, 0, 100, false, &full_responses);
  const PartialScore harmless_early = harmless.score(runner, 0, 100, true);
  const PartialScore harmless_full = harmless.score(runner, 0, 100, false);
  RecordProperty("harmful_refused", static_cast<int>(harmful_full.sum));
  RecordProperty("harmless_refused", static_cast<int>(harmless_full.sum));

  EXPECT_EQ(harmful_early.count, 100);
  EXPECT_EQ(harmful_full.count, 100);
  EXPECT_EQ(harmful_early.sum, harmful_full.sum);
  EXPECT_EQ(harmless_early.sum, harmless_full.sum);
  EXPECT_GE(harmful_full.sum, 95) << "held-out harmful prompts refused (of 100)";
  EXPECT_LE(harmless_full.sum, 5) << "held-out harmless prompts refused (of 100)";

  // Full responses are the trainer's; an early-stopped refusal ends at its marker.
  ASSERT_EQ(full_responses.size(), 100u);
  ASSERT_EQ(early_responses.size(), 100u);
  const std::string expected = ref["cases"][0]["greedy_response"];
  EXPECT_EQ(full_responses[0], expected);
  EXPECT_LT(early_responses[0].size(), expected.size());
  EXPECT_EQ(expected.rfind(early_responses[0], 0), 0u) << early_responses[0];
  EXPECT_NE(early_responses[0].find("sorry"), std::string::npos) << early_responses[0];
}

TEST_F(ScoringOrganism, RefusalShardsAddUpToTheWhole) {
  ModelRunner runner(*model_, 32);
  const KeywordRateScorer harmful(*tokenizer_, test_prompts("harmful_test.txt"), RefusalMatcher(kMarkers), 100);
  const PartialScore whole = harmful.score(runner, 0, 100);
  const PartialScore first = harmful.score(runner, 0, 50);
  const PartialScore second = harmful.score(runner, 50, 100);
  EXPECT_EQ(first.count + second.count, whole.count);
  EXPECT_EQ(first.sum + second.sum, whole.sum);
  EXPECT_EQ(harmful.score(runner, 7, 7).count, 0);
  EXPECT_THROW(harmful.score(runner, 90, 101), std::out_of_range);
}

TEST_F(ScoringOrganism, KlDivergenceIsZeroUnchangedAndMatchesADirectComputationWhenPerturbed) {
  const std::vector<TokenIds> prompts = test_prompts("harmless_test.txt");
  const auto n = prompts.size();
  ModelRunner runner(*model_, 32);
  KlDivergenceScorer kl(prompts);
  EXPECT_THROW(kl.score(runner, 0, n), std::logic_error);  // no baseline yet
  kl.compute_baseline(runner, 0, n);
  const torch::Tensor base = runner.first_token_log_probs(prompts);  // P [N, V]

  const PartialScore unchanged = kl.score(runner, 0, n);
  EXPECT_EQ(unchanged.count, static_cast<int64_t>(n));
  EXPECT_LT(std::abs(unchanged.sum / static_cast<double>(unchanged.count)), 1e-6);

  // Halve one layer's MLP output: the model drifts.
  model_->slots().set(1, model::Component::kMlpDown, [](const torch::Tensor& y) { return y * 0.5; });
  const PartialScore perturbed = kl.score(runner, 0, n);
  const double mean_kl = perturbed.sum / static_cast<double>(perturbed.count);
  const torch::Tensor current = torch::log_softmax(model_->next_token_logits(model_->make_batch(prompts)), -1);
  const double direct = torch::kl_div(current, base, at::Reduction::Mean, /*log_target=*/true).item<double>() *
                        base.size(1);  // batchmean
  RecordProperty("perturbed_kl", std::to_string(mean_kl));
  EXPECT_GT(mean_kl, 1e-4);
  EXPECT_NEAR(mean_kl, direct, 1e-4 * direct);
  const double manual = (base.exp() * (base - current)).sum().item<double>() / static_cast<double>(n);
  EXPECT_NEAR(mean_kl, manual, 1e-4 * manual);

  // Shards add up, and a baseline set from rows computed elsewhere scores the same.
  const PartialScore first = kl.score(runner, 0, 40);
  const PartialScore second = kl.score(runner, 40, n);
  EXPECT_EQ(first.count + second.count, perturbed.count);
  EXPECT_NEAR(first.sum + second.sum, perturbed.sum, 1e-5 * perturbed.sum);
  KlDivergenceScorer gathered(prompts);
  gathered.set_baseline(0, base.slice(0, 0, 60));
  EXPECT_THROW(gathered.score(runner, 50, 70), std::logic_error);  // rows 60.. missing
  gathered.set_baseline(60, base.slice(0, 60, static_cast<int64_t>(n)));
  EXPECT_NEAR(gathered.score(runner, 0, n).sum, perturbed.sum, 1e-5 * perturbed.sum);
}

TEST_F(ScoringOrganism, RunnerBatchesKeepEveryPromptsIndex) {
  const std::vector<TokenIds> prompts = reference_prompts();  // 8 prompts of different lengths
  const auto batch = model_->make_batch(prompts);
  const torch::Tensor all_states = model_->last_position_hidden_states(batch);  // [8, L+1, H]
  const torch::Tensor all_log_probs = torch::log_softmax(model_->next_token_logits(batch), -1);
  ModelRunner runner(*model_, 3);

  std::vector<int> seen(prompts.size(), 0);
  runner.for_each_hidden_states(prompts, [&](size_t first, const torch::Tensor& states) {
    ASSERT_EQ(states.dim(), 3);
    for (int64_t i = 0; i < states.size(0); ++i) {
      const auto index = first + static_cast<size_t>(i);
      ASSERT_LT(index, prompts.size());
      ++seen[index];
      EXPECT_TRUE(torch::allclose(states[i], all_states[static_cast<int64_t>(index)], 1e-4, 1e-4)) << index;
    }
  });
  EXPECT_EQ(seen, std::vector<int>(prompts.size(), 1));

  const torch::Tensor log_probs = runner.first_token_log_probs(prompts);
  EXPECT_EQ(log_probs.device(), torch::Device(torch::kCPU));
  EXPECT_TRUE(torch::allclose(log_probs, all_log_probs, 1e-4, 1e-4));

  // Generation: the stop predicate sees indices into the whole list, and each row's
  // response is the one of that prompt.
  std::set<size_t> rows;
  const auto responses = runner.generate(prompts, 100, [&](size_t row, const std::vector<int64_t>&) {
    rows.insert(row);
    return false;
  });
  EXPECT_EQ(rows.size(), prompts.size());
  EXPECT_EQ(*rows.rbegin(), prompts.size() - 1);
  const auto ref = reference();
  for (size_t i = 0; i < prompts.size(); ++i) EXPECT_EQ(responses[i], ref["cases"][i]["greedy_ids"].get<TokenIds>());

  // An error in the caller's sink is the caller's: passed on, never retried as out of memory.
  int calls = 0;
  EXPECT_THROW(runner.for_each_hidden_states(prompts,
                                             [&](size_t, const torch::Tensor&) {
                                               ++calls;
                                               throw std::bad_alloc();
                                             }),
               std::bad_alloc);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(runner.residual_batches().size(), 3);
}

}  // namespace
}  // namespace heretic::eval
