// Greedy generation with the KV cache: equal to full recomputation token by token, equal
// batched and one at a time, stopping per row at EOS or at a caller's predicate.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <set>

#include "model/causal_lm.h"
#include "model_fixtures.h"

using namespace heretic::model;
namespace fs = std::filesystem;

namespace {

constexpr int64_t kNewTokens = 12;

// Greedy decoding without a cache: the whole sequence goes through the model for every token,
// with transformers' repetition penalty over every id in the row.
std::vector<int64_t> generate_by_recomputation(CausalLM& model, std::vector<int64_t> ids, int64_t new_tokens) {
  const auto& generation = model.info().generation;
  std::vector<int64_t> generated;
  for (int64_t step = 0; step < new_tokens; ++step) {
    torch::Tensor logits = model.next_token_logits(model.make_batch({ids}))[0].clone();  // [V]
    if (generation.repetition_penalty != 1.0) {
      for (const int64_t id : std::set<int64_t>(ids.begin(), ids.end())) {
        const float l = logits[id].item<float>();
        logits[id] = l < 0 ? l * generation.repetition_penalty : l / generation.repetition_penalty;
      }
    }
    const int64_t token = logits.argmax().item<int64_t>();
    generated.push_back(token);
    ids.push_back(token);
    const auto& eos = generation.eos_token_ids;
    if (std::find(eos.begin(), eos.end(), token) != eos.end()) break;
  }
  return generated;
}

class EveryFamilyGeneration : public ::testing::TestWithParam<std::string> {};

TEST_P(EveryFamilyGeneration, CachedBatchedGenerationEqualsFullRecomputation) {
  auto model = CausalLM::load(fixture_model(GetParam()), "float32", torch::kCPU);
  // Prompts longer than every window (and past phi3-tiny's longrope switch, which transformers
  // decides per batch): batched, one at a time and recomputed without a cache agree.
  const auto prompts = long_prompts();
  const auto batched = model->generate_greedy(model->make_batch(prompts), kNewTokens);
  ASSERT_EQ(batched.size(), prompts.size());
  for (size_t i = 0; i < prompts.size(); ++i) {
    EXPECT_EQ(batched[i], generate_by_recomputation(*model, prompts[i], kNewTokens)) << "row " << i;
    EXPECT_EQ(batched[i], model->generate_greedy(model->make_batch({prompts[i]}), kNewTokens)[0]) << "row " << i;
  }
  // Short prompts grow through the windows (and through the longrope switch, where Phi-3's
  // generate recomputes its cache) while generating.
  for (const auto& prompt : fixture_prompts())
    EXPECT_EQ(model->generate_greedy(model->make_batch({prompt}), kNewTokens)[0],
              generate_by_recomputation(*model, prompt, kNewTokens))
        << "prompt of " << prompt.size() << " tokens";
}

INSTANTIATE_TEST_SUITE_P(Fixtures, EveryFamilyGeneration, ::testing::ValuesIn(fixture_model_names()),
                         fixture_test_name);

TEST(Generation, StopPredicateEndsOnlyItsRow) {
  auto model = CausalLM::load(fixture_model("llama-tiny"), "float32", torch::kCPU);
  const auto prompts = fixture_prompts();
  const Batch batch = model->make_batch(prompts);
  const auto full = model->generate_greedy(batch, kNewTokens);
  std::vector<size_t> rows_asked;
  const auto stopped =
      model->generate_greedy(batch, kNewTokens, [&](size_t row, const std::vector<int64_t>& generated) {
        rows_asked.push_back(row);
        return row == 1 && generated.size() == 2;
      });
  EXPECT_EQ(stopped[1], std::vector<int64_t>(full[1].begin(), full[1].begin() + 2));
  for (size_t i : {0u, 2u, 3u}) EXPECT_EQ(stopped[i], full[i]) << "row " << i;
  // Row 1 left the batch: it was asked exactly twice.
  EXPECT_EQ(std::count(rows_asked.begin(), rows_asked.end(), 1u), 2);
}

TEST(Generation, StopsAtEveryEosIdOfTheGenerationConfig) {
  const auto prompts = fixture_prompts();
  std::vector<std::vector<int64_t>> full;
  {
    auto model = CausalLM::load(fixture_model("qwen3-tiny"), "float32", torch::kCPU);
    full = model->generate_greedy(model->make_batch(prompts), kNewTokens);
  }
  // A copy of the model whose generation config makes row 0's third token an EOS id.
  const int64_t eos = full[0][2];
  const fs::path dir = fs::temp_directory_path() / ("heretic-eos-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  for (const char* file : {"config.json", "model.safetensors"})
    fs::copy_file(fixture_model("qwen3-tiny") / file, dir / file, fs::copy_options::overwrite_existing);
  std::ofstream(dir / "generation_config.json") << "{\"eos_token_id\": [127, " << eos << "], \"pad_token_id\": 1}";
  auto model = CausalLM::load(dir, "float32", torch::kCPU);
  const auto stopped = model->generate_greedy(model->make_batch(prompts), kNewTokens);
  fs::remove_all(dir);
  for (size_t i = 0; i < prompts.size(); ++i) {
    const auto first_eos = std::find(full[i].begin(), full[i].end(), eos);
    const auto expected_end = first_eos == full[i].end() ? full[i].end() : first_eos + 1;
    EXPECT_EQ(stopped[i], std::vector<int64_t>(full[i].begin(), expected_end)) << "row " << i;
  }
  EXPECT_LT(stopped[0].size(), full[0].size());  // the new EOS id ended row 0 early
}

TEST(Generation, ZeroNewTokensGivesEmptyRows) {
  auto model = CausalLM::load(fixture_model("mistral-tiny"), "float32", torch::kCPU);
  const auto result = model->generate_greedy(model->make_batch(fixture_prompts()), 0);
  for (const auto& row : result) EXPECT_TRUE(row.empty());
}

}  // namespace
