// Export of an ablated model as a LoRA adapter: applied to the base model's weights as PEFT
// applies it (W + lora_alpha / r · B A, read back from the files alone), it gives the logits of
// the merged export of the same plan: equal for row normalisation none and pre (rank 1, exact),
// within what the adapter's card reports for full (rank-r approximation). The files follow
// PEFT's naming, adapter_config.json lists exactly the ablated modules, and a failure leaves
// nothing behind.
#include "ablation/lora_export.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "ablation/export.h"
#include "common/error.h"
#include "hf/safetensors_reader.h"
#include "hf/safetensors_writer.h"
#include "model/causal_lm.h"
#include "model/tensor_view.h"
#include "tests/export/export_test_support.h"
#include "tests/model/model_fixtures.h"
#include "tests/support/error_of.h"

using namespace heretic;
using namespace heretic::ablation;
using heretic::config::RowNormalization;
using heretic::model::Component;
namespace fs = std::filesystem;
using heretic::testing::folder_entries;
using heretic::testing::mixed_plan;
using heretic::testing::organism_model;
using heretic::testing::read_file;
using heretic::testing::relative_difference;

namespace {

std::string module_of(const ModuleAblation& module) {
  return "model.layers." + std::to_string(module.layer) +
         (module.component == Component::kAttnOutput ? ".self_attn.o_proj" : ".mlp.down_proj");
}

torch::Tensor logits_of(const fs::path& folder) {
  auto model = model::CausalLM::load(folder, "float32", torch::kCPU);
  return model->next_token_logits(model->make_batch(fixture_prompts()));  // [B, V]
}

// Writes `source` to `out` with every tensor in float32 and, when `adapter` is given, every
// weight the adapter targets replaced by W + lora_alpha / r · B A, as PEFT merges a LoRA layer.
// It reads only the adapter's files; every adapter tensor must be used.
void write_float32_model(const fs::path& source, const fs::path& out, const fs::path& adapter = {}) {
  fs::create_directories(out);
  for (const char* name : {"config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json"})
    if (fs::exists(source / name)) fs::copy_file(source / name, out / name);
  std::set<std::string> targets;
  double scaling = 0.0;
  std::unique_ptr<hf::SafetensorsFile> factors;
  std::set<std::string> unused;
  if (!adapter.empty()) {
    const auto config = nlohmann::json::parse(read_file(adapter / "adapter_config.json"));
    for (const auto& target : config["target_modules"]) targets.insert(target.get<std::string>());
    scaling = config["lora_alpha"].get<double>() / config["r"].get<double>();
    factors = std::make_unique<hf::SafetensorsFile>(adapter / "adapter_model.safetensors");
    for (const auto& tensor : factors->tensors()) unused.insert(tensor.name);
  }
  auto factor = [&](const std::string& key) {
    const hf::TensorInfo* info = factors->find(key);
    EXPECT_NE(info, nullptr) << key << " is missing from the adapter";
    unused.erase(key);
    return model::load_tensor(hf::TensorLocation{factors.get(), info}, torch::kFloat32, torch::kCPU);
  };

  const auto checkpoint = hf::SafetensorsCheckpoint::open(source);
  std::vector<torch::Tensor> keep;
  std::vector<hf::TensorToWrite> tensors;
  for (const std::string& name : checkpoint.tensor_names()) {
    torch::Tensor tensor = model::load_tensor(checkpoint.at(name), torch::kFloat32, torch::kCPU).clone();
    const std::string module = name.substr(0, name.size() - std::string(".weight").size());
    if (targets.count(module) != 0 && name.size() > 7 && name.compare(name.size() - 7, 7, ".weight") == 0) {
      const torch::Tensor A = factor("base_model.model." + module + ".lora_A.weight");  // [r, in]
      const torch::Tensor B = factor("base_model.model." + module + ".lora_B.weight");  // [out, r]
      tensor = tensor + scaling * torch::mm(B, A);
    }
    keep.push_back(tensor.contiguous());
    tensors.push_back({name, hf::DType::kF32, keep.back().sizes().vec(),
                       static_cast<const std::byte*>(keep.back().data_ptr()), {}});
  }
  hf::write_safetensors_file(out / "model.safetensors", tensors);
  EXPECT_TRUE(unused.empty()) << "adapter tensors that match no weight of the base model: " << *unused.begin();
}

// The relative errors the card's table lists, by module.
std::map<std::string, double> card_errors(const std::string& card) {
  std::map<std::string, double> errors;
  static const std::regex row(R"(\| (model\.layers\.[0-9]+\.[a-z_]+\.[a-z_]+) \| ([0-9.e+-]+) \|)");
  for (auto it = std::sregex_iterator(card.begin(), card.end(), row); it != std::sregex_iterator(); ++it)
    errors[(*it)[1]] = std::stod((*it)[2]);
  return errors;
}

class LoraExportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = std::string(info->test_suite_name()) + "-" + info->name();
    std::replace(name.begin(), name.end(), '/', '-');
    dir_ = fs::temp_directory_path() / ("heretic-lora-" + std::to_string(::getpid()) + "-" + name);
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  LoraExportRequest request_for(const fs::path& source, const std::vector<ModuleAblation>& plan,
                                RowNormalization mode, const std::string& out_name = "adapter") const {
    LoraExportRequest request;
    request.model_folder = source;
    request.out_folder = dir_ / out_name;
    request.base_model = "org/base-model";
    request.mode = mode;
    request.plan = plan;
    request.readme = "# ablated\n";
    return request;
  }

  fs::path dir_;
};

// ---- Applied as PEFT applies it, the adapter is the merged export ------------------------------

struct AdapterCase {
  std::string model;  // "organism" or a fixture family (converted to float32 first)
  RowNormalization mode;
};
void PrintTo(const AdapterCase& c, std::ostream* out) { *out << c.model << "/" << config::to_string(c.mode); }

class AdapterEqualsMergedExport : public LoraExportTest, public ::testing::WithParamInterface<AdapterCase> {};

TEST_P(AdapterEqualsMergedExport, AppliedAdapterGivesTheMergedLogits) {
  const AdapterCase& c = GetParam();
  // A bf16 family is compared in float32: merged and adapter both start from its float32 copy,
  // so that neither result is rounded to bf16.
  fs::path base = organism_model();
  if (c.model != "organism") {
    base = dir_ / "base";
    write_float32_model(fixture_model(c.model), base);
  }
  const model::ModelInfo info = model::read_model_info(base, "float32");
  const std::vector<ModuleAblation> plan = mixed_plan(info.num_layers, info.hidden_size);

  ExportRequest merged;
  merged.model_folder = base;
  merged.out_folder = dir_ / "merged";
  merged.mode = c.mode;
  merged.plan = plan;
  export_ablated_model(merged);
  const LoraExport adapter = export_lora_adapter(request_for(base, plan, c.mode));
  write_float32_model(base, dir_ / "applied", dir_ / "adapter");

  const torch::Tensor base_logits = logits_of(base);
  const torch::Tensor merged_logits = logits_of(dir_ / "merged");
  const torch::Tensor applied_logits = logits_of(dir_ / "applied");
  const double ablation_effect = relative_difference(merged_logits, base_logits);
  ASSERT_GT(ablation_effect, 1e-2);  // the plan matters, or equality proves nothing
  const double difference = relative_difference(applied_logits, merged_logits);

  ASSERT_EQ(adapter.modules.size(), plan.size());
  double max_error = 0.0;
  for (const ModuleFit& module : adapter.modules) max_error = std::max(max_error, module.relative_error);
  std::printf("%s/%s: logits of the applied adapter vs the merged export %.3e (relative), ablation effect %.3e, "
              "max reported module error %.3e\n",
              c.model.c_str(), config::to_string(c.mode).c_str(), difference, ablation_effect, max_error);
  if (c.mode != RowNormalization::kFull) {
    EXPECT_EQ(adapter.rank, 1);
    EXPECT_EQ(max_error, 0.0);
    EXPECT_LE(difference, 1e-5);
    return;
  }
  EXPECT_EQ(adapter.rank, 3);
  // Rank 3 cannot hold the full delta of these matrices: the reported error is real, and the
  // logits differ from the merged ones by about that share of the ablation's own effect.
  EXPECT_GT(max_error, 1e-3);
  EXPECT_LT(max_error, 1.0);
  EXPECT_GT(difference, 1e-6);
  EXPECT_LE(difference, 2.0 * max_error * ablation_effect) << "max reported error " << max_error;

  // The card's errors are those of the files: ||W + B A - W'|| / ||W' - W|| per module.
  const std::map<std::string, double> listed = card_errors(read_file(dir_ / "adapter" / "README.md"));
  ASSERT_EQ(listed.size(), plan.size());
  const auto base_checkpoint = hf::SafetensorsCheckpoint::open(base);
  const auto merged_checkpoint = hf::SafetensorsCheckpoint::open(dir_ / "merged");
  const auto applied_checkpoint = hf::SafetensorsCheckpoint::open(dir_ / "applied");
  for (const ModuleAblation& module : plan) {
    const std::string name = module_of(module) + ".weight";
    const torch::Tensor W = model::load_tensor(base_checkpoint.at(name), torch::kFloat32, torch::kCPU);
    const torch::Tensor exact = model::load_tensor(merged_checkpoint.at(name), torch::kFloat32, torch::kCPU);
    const torch::Tensor applied = model::load_tensor(applied_checkpoint.at(name), torch::kFloat32, torch::kCPU);
    const double measured = (applied - exact).norm().item<double>() / (exact - W).norm().item<double>();
    ASSERT_EQ(listed.count(module_of(module)), 1u) << module_of(module);
    EXPECT_NEAR(listed.at(module_of(module)), measured, 1e-3 * measured + 1e-6) << module_of(module);
  }
}

INSTANTIATE_TEST_SUITE_P(Modes, AdapterEqualsMergedExport,
                         ::testing::Values(AdapterCase{"organism", RowNormalization::kNone},
                                           AdapterCase{"organism", RowNormalization::kPre},
                                           AdapterCase{"organism", RowNormalization::kFull},
                                           AdapterCase{"qwen2-tiny", RowNormalization::kNone},
                                           AdapterCase{"qwen2-tiny", RowNormalization::kPre},
                                           AdapterCase{"qwen2-tiny", RowNormalization::kFull}),
                         [](const ::testing::TestParamInfo<AdapterCase>& param) {
                           return param.param.model.substr(0, param.param.model.find('-')) + "_" +
                                  config::to_string(param.param.mode);
                         });

// A mixture of experts stored one module per expert gets one LoRA pair per expert (each with
// its own row norms), and PEFT's merge of them is the merged export; a fused checkpoint, whose
// experts are one parameter per layer that PEFT cannot address, ends with an InputError naming
// the tensor and the alternative, before anything is written.
TEST_F(LoraExportTest, EveryExpertOfAPerExpertMoeGetsItsOwnPairAndFusedExpertsAreRefused) {
  const fs::path base = dir_ / "base";
  write_float32_model(fixture_model("mixtral-tiny"), base);
  const model::ModelInfo info = model::read_model_info(base, "float32");
  const std::vector<ModuleAblation> plan = mixed_plan(info.num_layers, info.hidden_size);
  ExportRequest merged;
  merged.model_folder = base;
  merged.out_folder = dir_ / "merged";
  merged.mode = RowNormalization::kPre;
  merged.plan = plan;
  export_ablated_model(merged);
  const LoraExport adapter = export_lora_adapter(request_for(base, plan, RowNormalization::kPre));
  size_t mlp_entries = 0, expert_modules = 0;
  for (const ModuleAblation& module : plan) mlp_entries += module.component == Component::kMlpDown ? 1 : 0;
  for (const ModuleFit& module : adapter.modules)
    expert_modules += module.module.find(".block_sparse_moe.experts.") != std::string::npos ? 1 : 0;
  EXPECT_EQ(expert_modules, 4 * mlp_entries);  // mixtral-tiny: 4 experts per layer, each its own pair
  EXPECT_EQ(adapter.modules.size(), plan.size() - mlp_entries + expert_modules);
  write_float32_model(base, dir_ / "applied", dir_ / "adapter");
  EXPECT_GT(relative_difference(logits_of(dir_ / "merged"), logits_of(base)), 1e-2);
  EXPECT_LE(relative_difference(logits_of(dir_ / "applied"), logits_of(dir_ / "merged")), 1e-5);

  const fs::path fused = fixture_model("qwen3_moe-fused-tiny");
  const model::ModelInfo fused_info = model::read_model_info(fused, "float32");
  LoraExportRequest request = request_for(fused, mixed_plan(fused_info.num_layers, fused_info.hidden_size),
                                          RowNormalization::kPre, "fused-adapter");
  const std::string message = heretic::testing::error_of([&] { export_lora_adapter(request); });
  EXPECT_NE(message.find("model.layers.0.mlp.experts.down_proj"), std::string::npos) << message;
  EXPECT_NE(message.find("export_format = \"merged\""), std::string::npos) << message;
  EXPECT_FALSE(fs::exists(dir_ / "fused-adapter"));
}

// ---- The files PEFT reads ------------------------------------------------------------------------

TEST_F(LoraExportTest, FilesFollowPeftsNamingAndConfigListsExactlyTheAblatedModules) {
  const std::vector<ModuleAblation> plan = mixed_plan(6, 64);  // organism: hidden 64, MLP 128
  const LoraExport adapter = export_lora_adapter(request_for(organism_model(), plan, RowNormalization::kFull));
  EXPECT_EQ(adapter.files, (std::vector<std::string>{"README.md", "adapter_config.json", "adapter_model.safetensors"}));

  const auto config = nlohmann::json::parse(read_file(dir_ / "adapter" / "adapter_config.json"));
  EXPECT_EQ(config["peft_type"], "LORA");
  EXPECT_EQ(config["task_type"], "CAUSAL_LM");
  EXPECT_EQ(config["r"], 3);
  EXPECT_EQ(config["lora_alpha"], 3);  // scaling 1, as Heretic sets it
  EXPECT_EQ(config["lora_dropout"], 0.0);
  EXPECT_EQ(config["bias"], "none");
  EXPECT_EQ(config["fan_in_fan_out"], false);
  EXPECT_EQ(config["use_dora"], false);
  EXPECT_EQ(config["use_rslora"], false);
  EXPECT_EQ(config["base_model_name_or_path"], "org/base-model");
  std::set<std::string> targets, planned;
  for (const auto& target : config["target_modules"]) targets.insert(target.get<std::string>());
  for (const ModuleAblation& module : plan) planned.insert(module_of(module));
  EXPECT_EQ(targets, planned);
  EXPECT_EQ(config["target_modules"].size(), plan.size());

  const hf::SafetensorsFile file(dir_ / "adapter" / "adapter_model.safetensors");
  std::map<std::string, std::vector<int64_t>> shapes;
  for (const auto& tensor : file.tensors()) {
    EXPECT_EQ(tensor.dtype, hf::DType::kF32) << tensor.name;
    shapes[tensor.name] = tensor.shape;
  }
  std::map<std::string, std::vector<int64_t>> expected;
  for (const ModuleAblation& module : plan) {
    const bool attention = module.component == Component::kAttnOutput;
    const int64_t in = attention ? 64 : 128;  // o_proj: heads x head_dim = hidden; down_proj: intermediate
    expected["base_model.model." + module_of(module) + ".lora_A.weight"] = {3, in};
    expected["base_model.model." + module_of(module) + ".lora_B.weight"] = {64, 3};
  }
  EXPECT_EQ(shapes, expected);
  EXPECT_EQ(file.metadata().at("format"), "pt");

  const std::string card = read_file(dir_ / "adapter" / "README.md");
  EXPECT_EQ(card.rfind("# ablated\n", 0), 0u);  // the given card comes first
  EXPECT_NE(card.find("PeftModel.from_pretrained"), std::string::npos);
  EXPECT_EQ(card_errors(card).size(), plan.size());
}

TEST_F(LoraExportTest, RankFollowsTheModeAndTheConfiguredRankForFull) {
  const std::vector<ModuleAblation> plan = mixed_plan(6, 64);
  LoraExportRequest request = request_for(organism_model(), plan, RowNormalization::kNone, "none");
  request.full_rank = 5;  // ignored: none is exact with rank 1
  EXPECT_EQ(export_lora_adapter(request).rank, 1);
  const auto none_config = nlohmann::json::parse(read_file(dir_ / "none" / "adapter_config.json"));
  EXPECT_EQ(none_config["r"], 1);
  EXPECT_NE(read_file(dir_ / "none" / "README.md").find("stored exactly"), std::string::npos);

  // A higher rank approximates every module at least as well (the truncated SVD is optimal).
  std::vector<double> previous(plan.size(), 2.0);
  for (const int64_t rank : {1, 2, 8}) {
    request = request_for(organism_model(), plan, RowNormalization::kFull, "full-" + std::to_string(rank));
    request.full_rank = rank;
    const LoraExport adapter = export_lora_adapter(request);
    EXPECT_EQ(adapter.rank, rank);
    for (size_t i = 0; i < plan.size(); ++i) {
      EXPECT_LE(adapter.modules[i].relative_error, previous[i] + 1e-6) << adapter.modules[i].module << " rank " << rank;
      previous[i] = adapter.modules[i].relative_error;
    }
  }
}

TEST_F(LoraExportTest, FullRankApproximationIsTheTruncatedSvdOfTheExactDelta) {
  // Every module of the organism, each with its own direction: the error low_rank_delta reaches
  // is the optimum sqrt(sum of the squared singular values past r) / ||Δ|| (Eckart-Young) that
  // a full SVD of the exact delta gives.
  const auto checkpoint = hf::SafetensorsCheckpoint::open(organism_model());
  torch::manual_seed(3);
  for (int64_t layer = 0; layer < 6; ++layer) {
    for (const char* module : {".self_attn.o_proj.weight", ".mlp.down_proj.weight"}) {
      const std::string name = "model.layers." + std::to_string(layer) + module;
      const torch::Tensor W = model::load_tensor(checkpoint.at(name), torch::kFloat32, torch::kCPU);  // [64, in]
      torch::Tensor v = torch::randn({W.size(0)});
      v = v / v.norm();
      const torch::Tensor exact = merged_weight(W, v, 1.1, RowNormalization::kFull) - W;
      const torch::Tensor S = torch::linalg_svdvals(exact.to(torch::kFloat64));
      for (const int64_t rank : {1, 3}) {
        const double optimum = (S.narrow(0, rank, S.size(0) - rank).square().sum() / S.square().sum()).sqrt().item<double>();
        const LowRankDelta delta = low_rank_delta(W, v, 1.1, RowNormalization::kFull, rank);
        EXPECT_NEAR(delta.relative_error, optimum, 1e-4 * optimum + 1e-6) << name << " rank " << rank;
        EXPECT_GT(delta.relative_error, 1e-3) << name;  // the delta is not rank 3
      }
    }
  }
}

// ---- Errors ------------------------------------------------------------------------------------

TEST_F(LoraExportTest, UnwritableTargetNamesThePathAndLeavesNothing) {
  std::ofstream(dir_ / "a-file") << "x";
  LoraExportRequest request = request_for(organism_model(), mixed_plan(6, 64), RowNormalization::kFull);
  request.out_folder = dir_ / "a-file" / "adapter";
  const std::string message = heretic::testing::error_of([&] { export_lora_adapter(request); });
  EXPECT_NE(message.find(request.out_folder.string()), std::string::npos) << message;
  EXPECT_EQ(folder_entries(dir_), (std::vector<std::string>{"a-file"}));

  request.out_folder = dir_ / "a-file";  // an existing file is never replaced by a folder
  EXPECT_NE(heretic::testing::error_of([&] { export_lora_adapter(request); }).find("is not a folder"),
            std::string::npos);
  EXPECT_EQ(read_file(dir_ / "a-file"), "x");
}

TEST_F(LoraExportTest, ModuleTheModelLacksIsAnInputErrorAndNothingIsWritten) {
  std::vector<ModuleAblation> plan = mixed_plan(6, 64);
  plan.push_back({9, Component::kMlpDown, 1.0, plan[0].direction});  // the organism has 6 layers
  const std::string message = heretic::testing::error_of(
      [&] { export_lora_adapter(request_for(organism_model(), plan, RowNormalization::kFull)); });
  EXPECT_NE(message.find("model.layers.9.mlp.down_proj.weight"), std::string::npos) << message;
  EXPECT_TRUE(fs::is_empty(dir_));
}

TEST_F(LoraExportTest, ReplacesAPreviousAdapterCompletely) {
  export_lora_adapter(request_for(organism_model(), mixed_plan(6, 64), RowNormalization::kFull));
  std::ofstream(dir_ / "adapter" / "stale.txt") << "from before";
  const LoraExport again = export_lora_adapter(request_for(organism_model(), mixed_plan(6, 64), RowNormalization::kNone));
  EXPECT_EQ(folder_entries(dir_ / "adapter"), again.files);
  EXPECT_EQ(nlohmann::json::parse(read_file(dir_ / "adapter" / "adapter_config.json"))["r"], 1);
  EXPECT_EQ(folder_entries(dir_), (std::vector<std::string>{"adapter"}));
}

}  // namespace
