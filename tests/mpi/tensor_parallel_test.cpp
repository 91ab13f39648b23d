// Tensor parallelism (model/tensor_parallel.h) with 2 in-process ranks: each rank loads only its
// slices of the organism and of every family's fixture, and the group computes what one rank
// holding the whole model computes: hidden states of every layer, next-token logits, greedy
// responses, with and without each kind of ablation (whose "full" row norms and products are
// reduced over the group).
#include <gtest/gtest.h>

#include <mutex>

#include "ablation/ablator.h"
#include "model/causal_lm.h"
#include "model/tensor_parallel.h"
#include "mpi/communicator_tensor_group.h"
#include "mpi/in_process_communicator.h"
#include "tests/model/model_fixtures.h"

namespace heretic {
namespace {

namespace fs = std::filesystem;
using config::RowNormalization;

fs::path organism() { return fs::path(HERETIC_SOURCE_DIR) / "tests/fixtures/organism/model"; }

// What the tests compare: outputs of one model on fixed prompts, unablated and ablated.
struct Outputs {
  torch::Tensor hidden;  // [B, L+1, H]
  torch::Tensor logits;  // [B, V]
  std::vector<std::vector<int64_t>> responses;
  std::vector<torch::Tensor> ablated_logits;  // none, pre, full
  std::vector<std::vector<std::vector<int64_t>>> ablated_responses;
  int64_t parameter_bytes = 0;
  int64_t split_bytes = 0;  // of the modules tensor parallelism splits (q/k/v, o, gate/up, down)
};

// Every layer's o_proj and down_proj ablated with a fixed pseudo-random direction and weight.
std::vector<ablation::ModuleAblation> test_plan(const model::ModelInfo& info) {
  std::vector<ablation::ModuleAblation> plan;
  const torch::Tensor directions = torch::nn::functional::normalize(
      torch::sin(torch::arange(info.num_layers * info.hidden_size, torch::kFloat32) * 0.37)
          .reshape({info.num_layers, info.hidden_size}),
      torch::nn::functional::NormalizeFuncOptions().dim(1));
  for (int64_t layer = 0; layer < info.num_layers; ++layer) {
    for (const model::Component component : model::kAllComponents) {
      ablation::ModuleAblation entry;
      entry.layer = layer;
      entry.component = component;
      entry.weight = 0.8 + 0.1 * static_cast<double>(layer);
      entry.direction = directions[layer].contiguous();
      plan.push_back(entry);
    }
  }
  return plan;
}

Outputs run_model(model::CausalLM& model, const std::vector<std::vector<int64_t>>& prompts) {
  Outputs out;
  const model::Batch batch = model.make_batch(prompts);
  out.hidden = model.last_position_hidden_states(batch);
  out.logits = model.next_token_logits(batch);
  out.responses = model.generate_greedy(batch, 6);
  for (const RowNormalization mode : {RowNormalization::kNone, RowNormalization::kPre, RowNormalization::kFull}) {
    ablation::Ablator ablator(model, mode);
    ablator.apply(test_plan(model.info()));
    out.ablated_logits.push_back(model.next_token_logits(batch));
    out.ablated_responses.push_back(model.generate_greedy(batch, 6));
    ablator.clear();
  }
  out.parameter_bytes = model.weights().parameter_bytes();
  for (const model::DecoderLayerWeights& layer : model.weights().layers) {
    for (const model::LinearWeights* linear : {&layer.q_proj, &layer.k_proj, &layer.v_proj, &layer.o_proj,
                                               &layer.gate_proj, &layer.up_proj, &layer.down_proj})
      out.split_bytes += linear->weight.numel() * linear->weight.element_size();
  }
  return out;
}

// The in-process ranks are threads of one process and share its BLAS library, and Debian's
// serial OpenBLAS (libopenblas0-serial, built without locking) returns wrong products when two
// threads call it at once. Real ranks are processes; here the ranks take turns: a rank computes
// only while it holds `turn`, and lets go of it while it waits inside a collective.
class TakingTurns : public model::TensorParallelGroup {
 public:
  TakingTurns(std::shared_ptr<dist::CommunicatorTensorGroup> group, std::mutex& turn)
      : group_(std::move(group)), turn_(turn) {}
  int rank() const override { return group_->rank(); }
  int size() const override { return group_->size(); }
  void all_reduce_sum(torch::Tensor& tensor) override {
    turn_.unlock();
    struct TakeItBack {
      std::mutex& turn;
      ~TakeItBack() { turn.lock(); }  // also when the collective throws (an aborted world)
    } take_it_back{turn_};
    group_->all_reduce_sum(tensor);
  }

 private:
  std::shared_ptr<dist::CommunicatorTensorGroup> group_;
  std::mutex& turn_;
};

// Each rank of an in-process world of `ranks` loads its slices and runs the same prompts.
std::vector<Outputs> run_tensor_parallel(const fs::path& folder, int ranks,
                                         const std::vector<std::vector<int64_t>>& prompts) {
  std::vector<Outputs> outputs(static_cast<size_t>(ranks));
  std::mutex turn;
  const auto errors = dist::run_in_process(ranks, [&](dist::Communicator& comm) {
    auto group_comm = std::make_shared<dist::CommunicatorTensorGroup>(comm.split(0, comm.rank()));
    std::unique_lock<std::mutex> my_turn(turn);
    auto group = std::make_shared<TakingTurns>(group_comm, turn);
    const auto model = model::CausalLM::load(folder, "float32", torch::kCPU, group);
    outputs[static_cast<size_t>(comm.rank())] = run_model(*model, prompts);
  });
  for (const auto& error : errors) {
    if (error) std::rethrow_exception(error);
  }
  return outputs;
}

double max_relative_difference(const torch::Tensor& a, const torch::Tensor& b) {
  return ((a - b).abs().max() / b.abs().max().clamp_min(1e-12)).item<double>();
}

void expect_same_as_one_rank(const fs::path& folder, const std::vector<std::vector<int64_t>>& prompts) {
  torch::set_num_threads(1);  // the ranks are threads of this process
  const auto whole = model::CausalLM::load(folder, "float32", torch::kCPU);
  const Outputs expected = run_model(*whole, prompts);
  const std::vector<Outputs> parts = run_tensor_parallel(folder, 2, prompts);
  for (size_t rank = 0; rank < parts.size(); ++rank) {
    SCOPED_TRACE("rank " + std::to_string(rank));
    const Outputs& got = parts[rank];
    EXPECT_LT(max_relative_difference(got.hidden, expected.hidden), 1e-5);
    EXPECT_LT(max_relative_difference(got.logits, expected.logits), 1e-5);
    EXPECT_EQ(got.responses, expected.responses);
    for (size_t mode = 0; mode < 3; ++mode) {
      SCOPED_TRACE("row normalisation " + std::to_string(mode));
      // The ablation changes the model: the comparison is not between two unablated copies.
      EXPECT_GT(max_relative_difference(expected.ablated_logits[mode], expected.logits), 1e-3);
      EXPECT_LT(max_relative_difference(got.ablated_logits[mode], expected.ablated_logits[mode]), 1e-5);
      EXPECT_EQ(got.ablated_responses[mode], expected.ablated_responses[mode]);
    }
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
