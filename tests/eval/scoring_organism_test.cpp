// Scoring on the model organism (tests/fixtures/organism): prompts encoded as the trainer did,
// the scorer plug-ins on its prompt sets (refusal counts with early stopping equal to full
// responses, shards that add up, response lengths, KL divergence against a direct
// computation), and the model runner's batching keeping every prompt's index.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "data/load_prompts.h"
#include "eval/model_runner.h"
#include "eval/model_scorer_prompts.h"
#include "eval/prompt_encoding.h"
#include "eval/refusal_markers.h"
#include "eval/scorer_registry.h"
#include "hf/chat_template.h"
#include "hf/tokenizer.h"
#include "model/causal_lm.h"

namespace heretic::eval {
namespace {

const std::filesystem::path kOrganism = std::filesystem::path(HERETIC_SOURCE_DIR) / "tests/fixtures/organism";
const std::string kSystemPrompt = "You are a helpful assistant.";

const ScorerPlugin& plugin(const std::string& name) { return *find_scorer_plugin(name); }

ScorerInit init(const std::string& name) { return ScorerInit{default_settings(plugin(name).settings), 100}; }

std::vector<std::string> default_markers() { return init("KeywordRate").settings.string_list("keyword_markers"); }

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
  // The same prompts as a scorer's prompt set on the model.
  static ModelScorerPrompts prompt_set(ModelRunner& runner, const std::string& file) {
    data::DatasetSpec spec;
    spec.dataset = (kOrganism / "prompts" / file).string();
    spec.split = "[:100]";
    return ModelScorerPrompts(runner, *tokenizer_, data::load_prompts(spec, kSystemPrompt), test_prompts(file));
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
  ModelScorerPrompts harmful = prompt_set(runner, "harmful_test.txt");
  ModelScorerPrompts harmless = prompt_set(runner, "harmless_test.txt");
  ASSERT_EQ(harmful.size(), 100u);
  ASSERT_EQ(harmless.size(), 100u);
  const auto keywords = plugin("KeywordRate").create(init("KeywordRate"));

  // The scorer stops a row at its first marker; counting the full responses gives the same.
  const RefusalMatcher matcher(default_markers());
  auto count_full = [&](ModelScorerPrompts& prompts) {
    double refusals = 0;
    for (const auto& response : prompts.responses(0, 100, 100, {})) refusals += matcher.is_refusal(response.text);
    return refusals;
  };
  const PartialScore harmful_early = keywords->score(harmful, 0, 100);
  const PartialScore harmless_early = keywords->score(harmless, 0, 100);
  const double harmful_full = count_full(harmful);
  RecordProperty("harmful_refused", static_cast<int>(harmful_full));
  RecordProperty("harmless_refused", static_cast<int>(harmless_early.sum));
  EXPECT_EQ(harmful_early.count, 100);
  EXPECT_EQ(harmful_early.sum, harmful_full);
  EXPECT_EQ(harmless_early.sum, count_full(harmless));
  EXPECT_GE(harmful_full, 95) << "held-out harmful prompts refused (of 100)";
  EXPECT_LE(harmless_early.sum, 3) << "held-out harmless prompts refused (of 100)";
  EXPECT_EQ(keywords->format(harmful_early), std::to_string(static_cast<int>(harmful_full)) + "/100");

  // Full responses are the trainer's; an early-stopped refusal ends at its marker.
  const std::string expected = ref["cases"][0]["greedy_response"];
  const auto stop = [&](const std::string& text) { return matcher.contains_marker(text); };
  const std::string early = harmful.responses(0, 1, 100, stop).at(0).text;
  EXPECT_EQ(harmful.responses(0, 1, 100, {}).at(0).text, expected);
  EXPECT_LT(early.size(), expected.size());
  EXPECT_EQ(expected.rfind(early, 0), 0u) << early;
  EXPECT_NE(early.find("sorry"), std::string::npos) << early;
}

TEST_F(ScoringOrganism, RefusalShardsAddUpToTheWhole) {
  ModelRunner runner(*model_, 32);
  ModelScorerPrompts harmful = prompt_set(runner, "harmful_test.txt");
  const auto keywords = plugin("KeywordRate").create(init("KeywordRate"));
  const PartialScore whole = keywords->score(harmful, 0, 100);
  const PartialScore first = keywords->score(harmful, 0, 50);
  const PartialScore second = keywords->score(harmful, 50, 100);
  EXPECT_EQ(first.count + second.count, whole.count);
  EXPECT_EQ(first.sum + second.sum, whole.sum);
  EXPECT_EQ(keywords->score(harmful, 7, 7).count, 0);
  EXPECT_THROW(keywords->score(harmful, 90, 101), std::out_of_range);
}

TEST_F(ScoringOrganism, ResponseLengthCountsTheTokensOfTheResponses) {
  const auto ref = reference();
  ModelRunner runner(*model_, 32);
  std::vector<data::Prompt> prompts;
  for (const auto& c : ref["cases"]) prompts.push_back({ref["system_prompt"], c["prompt"]});
  ModelScorerPrompts cases(runner, *tokenizer_, prompts, reference_prompts());
  const auto length = plugin("ResponseLength").create(init("ResponseLength"));
  const PartialScore part = length->score(cases, 0, cases.size());
  // The trainer's greedy responses end with the end-of-turn token, which is not counted.
  double expected = 0;
  const auto eos = model_->info().generation.eos_token_ids;
  for (const auto& c : ref["cases"]) {
    const auto ids = c["greedy_ids"].get<TokenIds>();
    const bool ended = !ids.empty() && std::find(eos.begin(), eos.end(), ids.back()) != eos.end();
    expected += static_cast<double>(ids.size()) - (ended ? 1 : 0);
  }
  EXPECT_EQ(part.count, static_cast<int64_t>(cases.size()));
  EXPECT_EQ(part.sum, expected);
  EXPECT_GT(part.sum, 0);
  char text[64];
  std::snprintf(text, sizeof text, "%.1f tokens", expected / static_cast<double>(cases.size()));
  EXPECT_EQ(length->format(part), text);
}

TEST_F(ScoringOrganism, KlDivergenceIsZeroUnchangedAndMatchesADirectComputationWhenPerturbed) {
  ModelRunner runner(*model_, 32);
  ModelScorerPrompts harmless = prompt_set(runner, "harmless_test.txt");
  const size_t n = harmless.size();
  const std::vector<TokenIds> prompts = test_prompts("harmless_test.txt");
  const auto kl = plugin("KLDivergence").create(init("KLDivergence"));
  EXPECT_THROW(kl->score(harmless, 0, n), std::logic_error);  // no baseline yet
  kl->capture_baseline(harmless, 0, n);
  const torch::Tensor base = runner.first_token_log_probs(prompts);  // P [N, V]

  const PartialScore unchanged = kl->score(harmless, 0, n);
  EXPECT_EQ(unchanged.count, static_cast<int64_t>(n));
  EXPECT_LT(std::abs(unchanged.sum / static_cast<double>(unchanged.count)), 1e-6);

  // Halve one layer's MLP output: the model drifts.
  model_->slots().set(1, model::Component::kMlpDown, [](const torch::Tensor& y) { return y * 0.5; });
  const PartialScore perturbed = kl->score(harmless, 0, n);
  const double mean_kl = perturbed.sum / static_cast<double>(perturbed.count);
  const torch::Tensor current = torch::log_softmax(model_->next_token_logits(model_->make_batch(prompts)), -1);
  const double direct = torch::kl_div(current, base, at::Reduction::Mean, /*log_target=*/true).item<double>() *
                        base.size(1);  // batchmean
  RecordProperty("perturbed_kl", std::to_string(mean_kl));
  EXPECT_GT(mean_kl, 1e-4);
  EXPECT_NEAR(mean_kl, direct, 1e-4 * direct);
  const double manual = (base.exp() * (base - current)).sum().item<double>() / static_cast<double>(n);
  EXPECT_NEAR(mean_kl, manual, 1e-4 * manual);

  // Shards add up; a scorer with the baseline of one shard only covers that shard, and one
  // that adopts another's baseline scores the same.
  const PartialScore first = kl->score(harmless, 0, 40);
  const PartialScore second = kl->score(harmless, 40, n);
  EXPECT_EQ(first.count + second.count, perturbed.count);
  EXPECT_NEAR(first.sum + second.sum, perturbed.sum, 1e-5 * perturbed.sum);
  const auto shard = plugin("KLDivergence").create(init("KLDivergence"));
  model_->slots().clear_all();
  shard->capture_baseline(harmless, 60, n);
  model_->slots().set(1, model::Component::kMlpDown, [](const torch::Tensor& y) { return y * 0.5; });
  EXPECT_THROW(shard->score(harmless, 50, 70), std::logic_error);  // rows before 60 missing
  EXPECT_NEAR(shard->score(harmless, 60, n).sum, second.sum - kl->score(harmless, 40, 60).sum, 1e-4 * second.sum);
  const auto adopted = plugin("KLDivergence").create(init("KLDivergence"));
  adopted->adopt_baseline(*kl);
  EXPECT_EQ(adopted->score(harmless, 0, n).sum, perturbed.sum);
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
