// Mixture-of-experts models beyond matching a reference (moe_reference_test.cpp): ablation of
// the MLP component really changes a fused-expert model's experts; the two checkpoint layouts
// load to the same model; the experts' config keys are checked with messages naming the key;
// inspect reports the experts.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "ablation/ablator.h"
#include "common/error.h"
#include "model/causal_lm.h"
#include "model_fixtures.h"

using namespace heretic;
using heretic::model::CausalLM;

namespace {

namespace fs = std::filesystem;

std::vector<ablation::ModuleAblation> plan_for(const model::ModelInfo& info, model::Component component, double weight) {
  torch::manual_seed(3);
  const torch::Tensor v = torch::randn({info.hidden_size});
  std::vector<ablation::ModuleAblation> plan;
  for (int64_t layer = 0; layer < info.num_layers; ++layer) plan.push_back({layer, component, weight, v / v.norm()});
  return plan;
}

// The MLP component alone, on a model whose experts are fused [E, out, in] tensors, moves the
// logits: Heretic's failure on transformers 5 layouts (experts skipped, attention edited only) is
// not reproduced. Restricted to the MoE layers, it still moves them, so the experts themselves
// are edited, not only the dense layer.
TEST(MixtureOfExperts, AblatingTheMlpComponentChangesAFusedModelsExperts) {
  auto model = CausalLM::load(fixture_model("qwen3_moe-fused-tiny"), "float32", torch::kCPU);
  ASSERT_TRUE(model->info().experts.fused);
  const model::Batch batch = model->make_batch(fixture_prompts());
  const torch::Tensor before = model->next_token_logits(batch);
  for (const config::RowNormalization mode :
       {config::RowNormalization::kNone, config::RowNormalization::kPre, config::RowNormalization::kFull}) {
    ablation::Ablator ablator(*model, mode);
    std::vector<ablation::ModuleAblation> plan;
    for (const auto& entry : plan_for(model->info(), model::Component::kMlpDown, 1.0))
      if (model->info().is_moe_layer(entry.layer)) plan.push_back(entry);
    ASSERT_EQ(plan.size(), 2u);  // layers 0 and 1 route, layer 2 is dense (mlp_only_layers)
    ablator.apply(plan);
    const torch::Tensor after = model->next_token_logits(batch);
    EXPECT_GT((after - before).abs().max().item<double>(), 1e-2) << config::to_string(mode);
    ablator.clear();
    EXPECT_TRUE(torch::equal(model->next_token_logits(batch), before)) << config::to_string(mode);
  }
}

// Each expert gets a transform built from its own row norms: under "full" the slots of one
// layer hold a different transform per expert, and the same ablation written into every
// expert's weights (merged_weight, expert by expert) gives the ablated model's outputs.
TEST(MixtureOfExperts, FullRowNormalizationUsesEachExpertsOwnRowNorms) {
  auto model = CausalLM::load(fixture_model("qwen3_moe-tiny"), "float32", torch::kCPU);
  ablation::Ablator ablator(*model, config::RowNormalization::kFull);
  ablator.apply(plan_for(model->info(), model::Component::kMlpDown, 0.7));
  const int64_t experts = model->info().experts.count;
  const torch::Tensor y = torch::randn({3, model->info().hidden_size});
  const torch::Tensor first = (*model->slots().get(0, model::Component::kMlpDown, 0))(y);
  const torch::Tensor second = (*model->slots().get(0, model::Component::kMlpDown, 1))(y);
  EXPECT_GT((first - second).abs().max().item<double>(), 1e-4);
  EXPECT_EQ(model->slots().get(0, model::Component::kMlpDown, experts), nullptr);  // no shared expert
  // Expert 1's transform is its merged weight's map: W' h == T(W h).
  const torch::Tensor W = model->weights().layers[0].experts.down[1];
  const torch::Tensor h = torch::randn({4, W.size(1)});
  const torch::Tensor merged =
      ablation::merged_weight(W, plan_for(model->info(), model::Component::kMlpDown, 0.7)[0].direction, 0.7,
                              config::RowNormalization::kFull);
  const torch::Tensor expected = torch::mm(h, merged.t());
  const torch::Tensor actual = (*model->slots().get(0, model::Component::kMlpDown, 1))(torch::mm(h, W.t()));
  EXPECT_LE((actual - expected).abs().max().item<double>(), 1e-5);
}

TEST(MixtureOfExperts, BothCheckpointLayoutsLoadToTheSameModel) {
  auto per_expert = CausalLM::load(fixture_model("qwen3_moe-tiny"), "float32", torch::kCPU);
  auto fused = CausalLM::load(fixture_model("qwen3_moe-fused-tiny"), "float32", torch::kCPU);
  EXPECT_FALSE(per_expert->info().experts.fused);
  EXPECT_TRUE(fused->info().experts.fused);
  const model::Batch batch = per_expert->make_batch(fixture_prompts());
  EXPECT_TRUE(torch::equal(per_expert->next_token_logits(batch), fused->next_token_logits(batch)));
  EXPECT_EQ(per_expert->info().module_name(0, model::Component::kMlpDown), "model.layers.0.mlp.experts.*.down_proj");
  EXPECT_EQ(fused->info().module_name(0, model::Component::kMlpDown), "model.layers.0.mlp.experts.down_proj");
  EXPECT_EQ(per_expert->info().module_count(0, model::Component::kMlpDown), 8);
  EXPECT_EQ(per_expert->info().module_count(2, model::Component::kMlpDown), 1);  // the dense layer
}

TEST(MixtureOfExperts, ResolvesRoutingAndSharedExpertFromConfig) {
  const model::ModelInfo qwen2 = model::read_model_info(fixture_model("qwen2_moe-tiny"), "float32");
  EXPECT_EQ(qwen2.experts.count, 6);
  EXPECT_EQ(qwen2.experts.per_token, 2);
  EXPECT_EQ(qwen2.experts.shared_intermediate_size, 40);
  EXPECT_FALSE(qwen2.experts.normalize_top_k);
  EXPECT_EQ(qwen2.experts.layers, (std::vector<bool>{true, false, true}));
  EXPECT_EQ(qwen2.module_count(0, model::Component::kMlpDown), 7);  // 6 experts and the shared one
  const model::ModelInfo mixtral = model::read_model_info(fixture_model("mixtral-tiny"), "float32");
  EXPECT_TRUE(mixtral.experts.normalize_top_k);  // always, in Mixtral
  EXPECT_EQ(mixtral.experts.layers, (std::vector<bool>{true, true}));
}

// A copy of a fixture with config.json edited.
fs::path edited_copy(const std::string& fixture, const std::function<void(nlohmann::json&)>& edit) {
  const fs::path dir = fs::temp_directory_path() / ("heretic-moe-test-" + std::to_string(::getpid()) + "-" + fixture);
  fs::remove_all(dir);
  fs::copy(fixture_model(fixture), dir, fs::copy_options::recursive);
  nlohmann::json config = nlohmann::json::parse(std::ifstream(dir / "config.json"));
  edit(config);
  std::ofstream(dir / "config.json", std::ios::trunc) << config.dump(1);
  return dir;
}

std::string load_error(const fs::path& folder) {
  try {
    CausalLM::load(folder, "float32", torch::kCPU);
  } catch (const InputError& error) {
    return error.what();
  }
  return "(loaded)";
}

TEST(MixtureOfExperts, BadExpertKeysNameTheFileAndKey) {
  struct Case {
    std::function<void(nlohmann::json&)> edit;
    std::vector<std::string> named;
  };
  const std::vector<Case> cases = {
      {[](nlohmann::json& c) { c["num_experts_per_tok"] = 9; }, {"config.json", "'num_experts_per_tok' is 9", "8 experts"}},
      {[](nlohmann::json& c) { c["num_experts"] = 0; }, {"config.json", "'num_experts' must be a positive integer"}},
      {[](nlohmann::json& c) { c["num_experts"] = 1000000000; }, {"'num_experts' is 1000000000", "65536"}},
      {[](nlohmann::json& c) { c["num_experts"] = 12; }, {"'num_experts'", "mlp.gate.weight"}},
      {[](nlohmann::json& c) { c["moe_intermediate_size"] = 17; }, {"'moe_intermediate_size'", "experts.0.gate_proj"}},
      {[](nlohmann::json& c) { c["mlp_only_layers"] = {7}; }, {"'mlp_only_layers' holds 7"}},
      {[](nlohmann::json& c) { c["norm_topk_prob"] = "yes"; }, {"'norm_topk_prob' must be true or false"}},
      {[](nlohmann::json& c) { c["decoder_sparse_step"] = -1; }, {"'decoder_sparse_step'"}},
  };
  for (const Case& c : cases) {
    const fs::path dir = edited_copy("qwen3_moe-tiny", c.edit);
    const std::string message = load_error(dir);
    for (const std::string& part : c.named) EXPECT_NE(message.find(part), std::string::npos) << message;
    fs::remove_all(dir);
  }
}

TEST(MixtureOfExperts, MissingExpertTensorsAreNamed) {
  // qwen3_moe-tiny with mlp_only_layers emptied: layer 2 routes, but the checkpoint has a dense MLP there.
  const fs::path dir = edited_copy("qwen3_moe-tiny", [](nlohmann::json& c) { c["mlp_only_layers"] = nlohmann::json::array(); });
  const std::string message = load_error(dir);
  EXPECT_NE(message.find("model.layers.2.mlp.gate.weight"), std::string::npos) << message;
  fs::remove_all(dir);
}

}  // namespace
