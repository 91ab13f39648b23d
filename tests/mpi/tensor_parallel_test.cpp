// Tensor parallelism (model/tensor_parallel.h) with 2 in-process ranks: each rank loads only its
// slices of the organism and of every family's fixture, and the group computes what one rank
// holding the whole model computes: hidden states of every layer, next-token logits, greedy
// responses, with and without each kind of ablation (whose "full" row norms and products are
// reduced over the group).
#include <gtest/gtest.h>

#include <mutex>

#include "model/tensor_parallel.h"
#include "mpi/in_process_communicator.h"
#include "tests/model/model_fixtures.h"
#include "tests/mpi/model_parallel_outputs.h"

namespace heretic {
namespace {

namespace fs = std::filesystem;

// Each rank of an in-process world of `ranks` loads its slices and runs the same prompts.
std::vector<Outputs> run_tensor_parallel(const fs::path& folder, int ranks,
                                         const std::vector<std::vector<int64_t>>& prompts) {
  std::vector<Outputs> outputs(static_cast<size_t>(ranks));
  std::mutex turn;
  const auto errors = dist::run_in_process(ranks, [&](dist::Communicator& comm) {
    auto group_comm = std::make_shared<dist::CommunicatorTensorGroup>(comm.split(0, comm.rank()));
    std::unique_lock<std::mutex> my_turn(turn);
    auto group = std::make_shared<TakingTurnsTensorGroup>(group_comm, turn);
    const auto model = model::CausalLM::load(folder, "float32", torch::kCPU, group);
    outputs[static_cast<size_t>(comm.rank())] = run_model(*model, prompts);
  });
  for (const auto& error : errors) {
    if (error) std::rethrow_exception(error);
  }
  return outputs;
}

void expect_same_as_one_rank(const fs::path& folder, const std::vector<std::vector<int64_t>>& prompts) {
  torch::set_num_threads(1);  // the ranks are threads of this process
  const auto whole = model::CausalLM::load(folder, "float32", torch::kCPU);
  const Outputs expected = run_model(*whole, prompts);
  const std::vector<Outputs> parts = run_tensor_parallel(folder, 2, prompts);
  for (size_t rank = 0; rank < parts.size(); ++rank) {
    SCOPED_TRACE("rank " + std::to_string(rank));
    const Outputs& got = parts[rank];
    expect_same_results(got, expected);
    // Each rank holds half of every split module (KV heads may be replicated: mistral-tiny has
    // one) and all of the rest.
    EXPECT_LT(got.split_bytes, expected.split_bytes);
    if (whole->info().num_kv_heads % 2 == 0) {
      EXPECT_EQ(got.split_bytes * 2, expected.split_bytes);
    }
    // The rest (embeddings, norms, LM head, o/down biases) is whole; q/k/v biases are split.
    EXPECT_LE(got.parameter_bytes, expected.parameter_bytes - expected.split_bytes + got.split_bytes);
    EXPECT_GT(got.parameter_bytes, expected.parameter_bytes - expected.split_bytes);
  }
  // Both ranks continue with bit-identical hidden states (the sums are the same everywhere).
  EXPECT_TRUE(torch::equal(parts[0].hidden, parts[1].hidden));
  EXPECT_TRUE(torch::equal(parts[0].ablated_logits[2], parts[1].ablated_logits[2]));
}

TEST(TensorParallel, OrganismOnTwoRanksComputesWhatOneRankComputes) {
  expect_same_as_one_rank(organism(), {{656, 10, 11, 12, 13, 14}, {656, 30, 31}, {656, 50, 51, 52, 53, 54, 55, 56}});
}

class EveryFamily : public ::testing::TestWithParam<std::string> {};

TEST_P(EveryFamily, TwoRanksComputeWhatOneRankComputes) {
  expect_same_as_one_rank(fixture_model(GetParam()), fixture_prompts());
}

INSTANTIATE_TEST_SUITE_P(Fixtures, EveryFamily, ::testing::ValuesIn(fixture_model_names()), fixture_test_name);

// Block FP8 (tests/fixtures/quantized): each rank dequantises only its slices, whose rows and
// columns cross the fixture's 24 x 20 blocks.
TEST(TensorParallel, BlockFp8CheckpointOnTwoRanksComputesWhatOneRankComputes) {
  expect_same_as_one_rank(fs::path(HERETIC_SOURCE_DIR) / "tests/fixtures/quantized/llama-fp8", fixture_prompts());
}

TEST(TensorParallel, SlicesFollowTheHeadsAndTheIntermediateSize) {
  const model::TensorSplit second{1, 2};
  EXPECT_EQ(second.start(128), 64);
  EXPECT_EQ(second.length(128), 64);
  // KV heads are shared out when there are enough, else the one a rank's query heads use is
  // replicated (mistral-tiny: 1 KV head).
  EXPECT_EQ(model::kv_heads_of(second, 2).first, 1);
  EXPECT_EQ(model::kv_heads_of(second, 2).count, 1);
  EXPECT_EQ(model::kv_heads_of({3, 4}, 2).first, 1);
  EXPECT_EQ(model::kv_heads_of({3, 4}, 2).count, 1);

  model::ModelInfo info;
  info.num_heads = 4;
  info.num_kv_heads = 2;
  info.intermediate_size = 128;
  EXPECT_EQ(model::tensor_parallel_problem(info, 2), "");
  EXPECT_EQ(model::tensor_parallel_problem(info, 4), "");
  EXPECT_EQ(model::tensor_parallel_problem(info, 3), "3 does not divide num_attention_heads (4); use a divisor of it");
  info.num_heads = 12;
  info.num_kv_heads = 4;
  info.intermediate_size = 96;
  EXPECT_EQ(model::tensor_parallel_problem(info, 6),
            "6 neither divides nor is a multiple of num_key_value_heads (4)");
  info.intermediate_size = 102;
  EXPECT_EQ(model::tensor_parallel_problem(info, 4), "4 does not divide intermediate_size (102); use a divisor of it");
}

}  // namespace
}  // namespace heretic
