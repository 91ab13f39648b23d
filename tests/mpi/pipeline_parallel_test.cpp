// Pipeline parallelism (model/pipeline_stages.h) with in-process ranks: 2 stages, and 2 stages
// of 2 tensor-parallel ranks each (4 ranks, stage-major). Each rank loads only its stage's
// layers (and slices of them) of the organism and of every family's fixture, and every rank
// returns what one rank holding the whole model computes: hidden states of every layer,
// next-token logits, greedy responses, with and without each kind of ablation, whether a batch
// goes through the stages whole or in micro-batches.
#include <gtest/gtest.h>

#include <mutex>

#include "common/error.h"
#include "model/pipeline_stages.h"
#include "mpi/in_process_communicator.h"
#include "tests/model/model_fixtures.h"
#include "tests/mpi/model_parallel_outputs.h"

namespace heretic {
namespace {

namespace fs = std::filesystem;

struct Layout {
  int tensor_parallel = 1;
  int stages = 2;
  int micro_batches = 1;
};

// Each rank of an in-process world of t x p ranks loads its part and runs the same prompts.
// Stage-major: ranks s*t .. s*t + t - 1 are stage s; the pipelines are the ranks with the same
// tensor-parallel index. Returns each rank's outputs, or throws a rank's error.
std::vector<Outputs> run_pipeline(const fs::path& folder, Layout layout,
                                  const std::vector<std::vector<int64_t>>& prompts) {
  const int ranks = layout.tensor_parallel * layout.stages;
  std::vector<Outputs> outputs(static_cast<size_t>(ranks));
  std::mutex turn;
  const auto errors = dist::run_in_process(ranks, [&](dist::Communicator& comm) {
    const int t = layout.tensor_parallel;
    auto tensor_comm = comm.split(comm.rank() / t, comm.rank());
    auto pipeline_comm = std::make_shared<dist::CommunicatorPipelineGroup>(comm.split(comm.rank() % t, comm.rank()),
                                                                           layout.micro_batches);
    std::unique_lock<std::mutex> my_turn(turn);
    std::shared_ptr<model::TensorParallelGroup> group;
    if (t > 1)
      group = std::make_shared<TakingTurnsTensorGroup>(
          std::make_shared<dist::CommunicatorTensorGroup>(std::move(tensor_comm)), turn);
    auto pipeline = std::make_shared<TakingTurnsPipeline>(pipeline_comm, turn);
    const auto model = model::CausalLM::load(folder, "float32", torch::kCPU, group, pipeline);
    outputs[static_cast<size_t>(comm.rank())] = run_model(*model, prompts);
  });
  // The cause, not the Aborted that a rank's failure raises in the ranks still communicating.
  std::exception_ptr first;
  for (const auto& error : errors) {
    if (!error) continue;
    try {
      std::rethrow_exception(error);
    } catch (const dist::Aborted&) {
      if (!first) first = error;
    } catch (...) {
      throw;
    }
  }
  if (first) std::rethrow_exception(first);
  return outputs;
}

void expect_same_as_one_rank(const fs::path& folder, Layout layout, const std::vector<std::vector<int64_t>>& prompts) {
  torch::set_num_threads(1);  // the ranks are threads of this process
  const auto whole = model::CausalLM::load(folder, "float32", torch::kCPU);
  const model::ModelInfo& info = whole->info();
  const Outputs expected = run_model(*whole, prompts);
  const std::vector<Outputs> parts = run_pipeline(folder, layout, prompts);
  int64_t split_bytes = 0, parameter_bytes = 0;
  for (size_t rank = 0; rank < parts.size(); ++rank) {
    SCOPED_TRACE("rank " + std::to_string(rank));
    const Outputs& got = parts[rank];
    expect_same_results(got, expected);
    // The rank holds exactly its stage's layers, and less than the whole model.
    const model::PipelineStage stage{static_cast<int>(rank) / layout.tensor_parallel, layout.stages};
    const model::LayerRange layers = stage.layers(info.num_layers);
    for (int64_t layer = 0; layer < info.num_layers; ++layer)
      EXPECT_EQ(got.held_layers[static_cast<size_t>(layer)], layers.contains(layer)) << "layer " << layer;
    EXPECT_LT(got.split_bytes, expected.split_bytes);
    EXPECT_LT(got.parameter_bytes, expected.parameter_bytes);
    split_bytes += got.split_bytes;
    if (rank % static_cast<size_t>(layout.tensor_parallel) == 0) parameter_bytes += got.parameter_bytes;
  }
  // Together the ranks hold every layer's modules once (KV heads may be replicated under tensor
  // parallelism: mistral-tiny has one).
  if (info.num_kv_heads % layout.tensor_parallel == 0) {
    EXPECT_EQ(split_bytes, expected.split_bytes);
  }
  // One pipeline of whole layers holds the whole model once; with tied embeddings the first
  // stage's embedding and the last stage's LM head are two copies of one matrix.
  if (layout.tensor_parallel == 1) {  // (with t > 1 the ranks of a stage replicate its norms)
    const int64_t embedding_bytes = info.vocab_size * info.hidden_size * static_cast<int64_t>(sizeof(float));
    EXPECT_EQ(parameter_bytes, expected.parameter_bytes + (info.tie_word_embeddings ? embedding_bytes : 0));
  }
  // Every rank returns bit-identical results (they are shared, not recomputed).
  for (size_t rank = 1; rank < parts.size(); ++rank) {
    EXPECT_TRUE(torch::equal(parts[0].hidden, parts[rank].hidden));
    EXPECT_TRUE(torch::equal(parts[0].ablated_logits[2], parts[rank].ablated_logits[2]));
  }
}

const std::vector<std::vector<int64_t>>& organism_prompts() {
  static const std::vector<std::vector<int64_t>> prompts = {
      {656, 10, 11, 12, 13, 14}, {656, 30, 31}, {656, 50, 51, 52, 53, 54, 55, 56}};
  return prompts;
}

TEST(PipelineParallel, OrganismOnTwoStagesComputesWhatOneRankComputes) {
  expect_same_as_one_rank(organism(), {1, 2}, organism_prompts());
}

TEST(PipelineParallel, OrganismOnTwoStagesOfTwoTensorRanksComputesWhatOneRankComputes) {
  expect_same_as_one_rank(organism(), {2, 2}, organism_prompts());
}

// Micro-batches (mpi.pipeline_micro_batches): the 3 prompts as 2 + 1 and as 1 + 1 + 1 rows, on
// 2 stages and on 2 stages of 2 tensor-parallel ranks, through prefill and the decode steps
// (each micro-batch's KV cache is its rows of the batch's, rows leaving as they finish).
TEST(PipelineParallel, OrganismInMicroBatchesComputesWhatOneRankComputes) {
  for (const Layout layout : {Layout{1, 2, 2}, Layout{1, 2, 3}, Layout{2, 2, 2}}) {
    SCOPED_TRACE(std::to_string(layout.tensor_parallel) + " x " + std::to_string(layout.stages) + ", " +
                 std::to_string(layout.micro_batches) + " micro-batches");
    expect_same_as_one_rank(organism(), layout, organism_prompts());
  }
}

class EveryFamily : public ::testing::TestWithParam<std::string> {};

TEST_P(EveryFamily, TwoStagesComputeWhatOneRankComputes) {
  expect_same_as_one_rank(fixture_model(GetParam()), {1, 2}, fixture_prompts());
}

TEST_P(EveryFamily, TwoStagesOfTwoTensorRanksComputeWhatOneRankComputes) {
  expect_same_as_one_rank(fixture_model(GetParam()), {2, 2}, fixture_prompts());
}

// 4 prompts in 3 micro-batches (2 + 1 + 1 rows) of different lengths: each micro-batch has its
// own padding, sliding windows and RoPE rows.
TEST_P(EveryFamily, TwoStagesInMicroBatchesComputeWhatOneRankComputes) {
  expect_same_as_one_rank(fixture_model(GetParam()), {1, 2, 3}, fixture_prompts());
}

INSTANTIATE_TEST_SUITE_P(Fixtures, EveryFamily, ::testing::ValuesIn(fixture_model_names()), fixture_test_name);

// Every stage needs a layer: the organism's 6 layers cannot fill 7 stages, which the load says
// on every rank, naming config.json and the layer count, before any weight is read.
TEST(PipelineParallel, MoreStagesThanLayersAreRefused) {
  try {
    run_pipeline(organism(), {1, 7}, organism_prompts());
    ADD_FAILURE() << "a 6-layer model loaded on 7 stages";
  } catch (const InputError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("organism/model/config.json: pipeline stages: 7 stages exceed num_hidden_layers (6)"),
              std::string::npos)
        << message;
  }
}

TEST(PipelineParallel, StagesHoldContiguousLayerRangesAsEvenAsPossible) {
  const auto range = [](int index, int stages, int64_t layers) {
    const model::LayerRange r = model::PipelineStage{index, stages}.layers(layers);
    return std::make_pair(r.first, r.count);
  };
  EXPECT_EQ(range(0, 4, 10), std::make_pair(int64_t{0}, int64_t{3}));
  EXPECT_EQ(range(1, 4, 10), std::make_pair(int64_t{3}, int64_t{3}));
  EXPECT_EQ(range(2, 4, 10), std::make_pair(int64_t{6}, int64_t{2}));
  EXPECT_EQ(range(3, 4, 10), std::make_pair(int64_t{8}, int64_t{2}));
  EXPECT_EQ(range(1, 2, 3), std::make_pair(int64_t{2}, int64_t{1}));
  EXPECT_EQ(range(0, 1, 3), std::make_pair(int64_t{0}, int64_t{3}));
  // Micro-batches split a batch's rows by the same rule.
  const model::RowRange rows = model::micro_batch_rows(10, 2, 4);
  EXPECT_EQ(std::make_pair(rows.first, rows.count), std::make_pair(int64_t{6}, int64_t{2}));

  model::ModelInfo info;
  info.num_layers = 3;
  EXPECT_EQ(model::pipeline_problem(info, 3), "");
  EXPECT_EQ(model::pipeline_problem(info, 4),
            "4 stages exceed num_hidden_layers (3); every stage needs at least one layer");
  EXPECT_EQ(model::pipeline_problem(info, 0), "must be at least 1");
}

}  // namespace
}  // namespace heretic
