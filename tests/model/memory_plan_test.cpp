// The memory planner's arithmetic against numbers computed here independently: a fixture's
// weights from its own safetensors headers (whole, and split by a tensor-parallel pair), and
// Llama-3.1-70B's shape (141 GB of bfloat16 weights) from config.json alone.
#include "model/memory_plan.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "hf/safetensors_reader.h"
#include "model_fixtures.h"

namespace heretic::model {
namespace {

namespace fs = std::filesystem;

const fs::path kLlama70B = fs::path(HERETIC_SOURCE_DIR) / "tests/fixtures/plan/llama-3.1-70b";

// Llama-3.1-70B's parameters from its published shape, written out.
int64_t llama70b_parameters() {
  const int64_t h = 8192, i = 28672, v = 128256, kv = 8 * 128;
  const int64_t per_layer = h * h /*q*/ + 2 * kv * h /*k, v*/ + h * h /*o*/ + 3 * i * h + 2 * h /*norms*/;
  return 2 * v * h + 80 * per_layer + h;
}

TEST(MemoryPlan, FixtureWeightsAreTheSumOfItsHeadersInTheComputeDtype) {
  const fs::path folder = fixture_model("llama-tiny");
  ModelInfo info = read_model_info(folder, "float32");
  const auto checkpoint = hf::SafetensorsCheckpoint::open(folder);
  bind_checkpoint_layout(info, checkpoint);
  const ModelElements elements = count_elements(info, checkpoint);
  int64_t stored_elements = 0, stored_bytes = 0, projection_elements = 0;
  for (const std::string& name : checkpoint.tensor_names()) {
    const hf::TensorInfo& tensor = *checkpoint.at(name).info;
    stored_elements += static_cast<int64_t>(tensor.element_count());
    stored_bytes += static_cast<int64_t>(tensor.byte_size());
    if (name.find("_proj") != std::string::npos) projection_elements += static_cast<int64_t>(tensor.element_count());
  }
  EXPECT_TRUE(elements.from_checkpoint);
  EXPECT_EQ(elements.total(), stored_elements);
  EXPECT_EQ(elements.checkpoint_bytes, stored_bytes);  // the file is bfloat16 ...
  const Workload workload{4, 10, 6};
  const RankMemory whole = rank_memory(info, elements, Layout{1, 1}, 0, 0, 4, workload);
  EXPECT_EQ(whole.weights, stored_elements * 4);  // ... counted as the float32 the rank holds
  // llama-tiny has 4 heads and 2 KV heads: at t = 2 every projection is halved, the rest stays.
  for (int part = 0; part < 2; ++part) {
    const RankMemory half = rank_memory(info, elements, Layout{2, 1}, 0, part, 4, workload);
    EXPECT_EQ(half.weights, (stored_elements - projection_elements / 2) * 4) << "rank " << part;
    EXPECT_EQ(half.kv_cache, whole.kv_cache / 2);
  }
  // The shape alone gives the same count.
  EXPECT_EQ(count_elements(info).total(), stored_elements);
}

TEST(MemoryPlan, KvCacheIsTwoTensorsPerLayerOfTheWholeSequence) {
  const ModelInfo info = read_model_info(fixture_model("llama-tiny"), "bfloat16");
  const RankMemory rank = rank_memory(info, count_elements(info), Layout{1, 1}, 0, 0, 3, Workload{3, 20, 7});
  EXPECT_EQ(rank.kv_cache, 2 * info.num_layers * 3 * info.num_kv_heads * (20 + 7) * info.head_dim * 2);
  EXPECT_EQ(rank.workspace, kWorkspaceBytes);
}

TEST(MemoryPlan, Llama70BFromConfigJsonAloneHas141GBOfWeights) {
  const ModelInfo info = read_model_info(kLlama70B, "auto");
  EXPECT_EQ(info.dtype, hf::DType::kBF16);
  const ModelElements elements = count_elements(info);
  EXPECT_FALSE(elements.from_checkpoint);
  EXPECT_EQ(elements.total(), llama70b_parameters());
  const Workload workload;
  const RankMemory one = rank_memory(info, elements, Layout{1, 1}, 0, 0, 1, workload);
  EXPECT_NEAR(static_cast<double>(one.weights) / 1e9, 141.1, 0.05);
  // t = 8: the embeddings and LM head (2 x 128256 x 8192) are replicated, the rest is split.
  const int64_t replicated = 2 * int64_t{128256} * 8192 + 8192 + 80 * 2 * 8192;
  const RankMemory eighth = rank_memory(info, elements, Layout{8, 1}, 0, 3, 1, workload);
  EXPECT_EQ(eighth.weights, (replicated + (llama70b_parameters() - replicated) / 8) * 2);
  // Two stages: the first holds layers 0-39 and the embeddings, the second 40-79 and the head.
  const RankMemory first = rank_memory(info, elements, Layout{1, 2}, 0, 0, 1, workload);
  const RankMemory second = rank_memory(info, elements, Layout{1, 2}, 1, 0, 1, workload);
  EXPECT_EQ(first.end_layer, 40);
  EXPECT_EQ(second.first_layer, 40);
  EXPECT_EQ(first.weights + second.weights, one.weights);
  EXPECT_EQ(first.kv_cache + second.kv_cache, one.kv_cache);
}

TEST(MemoryPlan, SmallestLayoutThatFitsEightyGiBDevices) {
  const ModelInfo info = read_model_info(kLlama70B, "auto");
  const ModelElements elements = count_elements(info);
  const int64_t memory = int64_t{80} << 30;
  const Workload workload;
  EXPECT_FALSE(fit_layout(info, elements, Layout{1, 1}, workload, memory).runs());  // 131 GiB of weights
  const LayoutFit two = fit_layout(info, elements, Layout{2, 1}, workload, memory);
  EXPECT_TRUE(two.runs());
  EXPECT_LT(two.largest_batch, workload.batch_size);
  EXPECT_LE(two.at_one.total(), memory);
  EXPECT_TRUE(fit_layout(info, elements, Layout{8, 1}, workload, memory).fits_ceiling(workload));
  EXPECT_EQ(fit_layout(info, elements, Layout{3, 1}, workload, memory).problem,
            "key 'mpi.tensor_parallel': 3 does not divide num_attention_heads (64); use a divisor of it");
  EXPECT_NE(fit_layout(info, elements, Layout{1, 81}, workload, memory).problem.find("mpi.pipeline_stages"),
            std::string::npos);
}

TEST(MemoryPlan, CandidateLayoutsSmallestFirstTensorParallelWithinANode) {
  const auto layouts = candidate_layouts(4, 2);
  std::vector<std::pair<int, int>> seen;
  for (const Layout& layout : layouts) seen.emplace_back(layout.tensor_parallel, layout.pipeline_stages);
  const std::vector<std::pair<int, int>> expected = {{1, 1}, {2, 1}, {1, 2}, {4, 1}, {2, 2}, {1, 4},
                                                     {4, 2}, {2, 4}, {1, 8}};
  EXPECT_EQ(seen, expected);
  // The planner counts each stage's layers as the loader assigns them (pipeline_stages.h).
  const ModelInfo llama70b = read_model_info(kLlama70B, "auto");
  const std::vector<RankMemory> stages = layout_memory(llama70b, count_elements(llama70b), Layout{1, 3}, 1, Workload{});
  ASSERT_EQ(stages.size(), 3u);
  EXPECT_EQ(stages[0].first_layer, 0);
  EXPECT_EQ(stages[0].end_layer, 27);
  EXPECT_EQ(stages[2].first_layer, 54);
  EXPECT_EQ(stages[2].end_layer, 80);
}

}  // namespace
}  // namespace heretic::model
