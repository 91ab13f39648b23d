// Export from a block-FP8 checkpoint (tests/fixtures/quantized/llama-fp8): the export is an
// ordinary checkpoint (every float8 weight dequantised, the abliterated ones merged, no
// scale_inv tensors, no quantization_config), the unquantised tensors are copied byte for
// byte, the model card says so, and a reload gives the ablated model's logits. A LoRA adapter of
// the same checkpoint, added to its dequantised weights, is that merged export.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "ablation/ablator.h"
#include "ablation/export.h"
#include "ablation/lora_export.h"
#include "hf/safetensors_reader.h"
#include "hf/safetensors_writer.h"
#include "model/causal_lm.h"
#include "model/quantized_tensor.h"
#include "model/tensor_view.h"
#include "model_fixtures.h"

using namespace heretic;
using heretic::config::RowNormalization;
using heretic::model::Component;
namespace fs = std::filesystem;

namespace {

const fs::path kFp8 = fs::path(HERETIC_SOURCE_DIR) / "tests/fixtures/quantized/llama-fp8";

// llama-fp8 with its unquantised tensors in float32 (the float8 ones and their scales as they
// are), so that the export writes dequantised and merged weights in float32 and the reload is
// exact up to float32 arithmetic.
void write_float32_copy(const fs::path& target) {
  fs::create_directories(target);
  for (const auto& entry : fs::directory_iterator(kFp8))
    if (entry.path().extension() != ".safetensors") fs::copy_file(entry.path(), target / entry.path().filename());
  const auto checkpoint = hf::SafetensorsCheckpoint::open(kFp8);
  std::vector<torch::Tensor> keep;
  std::vector<hf::TensorToWrite> tensors;
  for (const std::string& name : checkpoint.tensor_names()) {
    const hf::TensorLocation location = checkpoint.at(name);
    if (location.info->dtype == hf::DType::kF8E4M3 || name.find("_scale_inv") != std::string::npos) {
      tensors.push_back({name, location.info->dtype, location.info->shape, location.data(), nullptr});
      continue;
    }
    keep.push_back(model::load_tensor(location, torch::kFloat32, torch::kCPU).contiguous());
    tensors.push_back({name, hf::DType::kF32, location.info->shape, static_cast<const std::byte*>(keep.back().data_ptr()),
                       nullptr});
  }
  hf::write_safetensors_checkpoint(target, tensors, uint64_t{1} << 40);
}

class QuantizedExport : public ::testing::TestWithParam<RowNormalization> {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("heretic-quantized-export-" + std::to_string(::getpid()) + "-" + config::to_string(GetParam()));
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_P(QuantizedExport, ReloadedExportEqualsTheAblatedModel) {
  const fs::path source = dir_ / "source";
  write_float32_copy(source);
  auto original = model::CausalLM::load(source, "float32", torch::kCPU);
  torch::manual_seed(5);
  auto direction = [] {
    const torch::Tensor v = torch::randn({32});
    return v / v.norm();
  };
  const std::vector<ablation::ModuleAblation> plan = {{0, Component::kAttnOutput, 1.0, direction()},
                                                      {1, Component::kMlpDown, 0.9, direction()}};
  const model::Batch batch = original->make_batch(long_prompts());
  const torch::Tensor base = original->next_token_logits(batch);
  ablation::Ablator ablator(*original, GetParam());
  ablator.apply(plan);
  const torch::Tensor ablated = original->next_token_logits(batch);
  ASSERT_GT((base - ablated).abs().max().item<double>() / base.abs().max().item<double>(), 1e-3);

  ablation::ExportRequest request;
  request.model_folder = source;
  request.out_folder = dir_ / "export";
  request.mode = GetParam();
  request.plan = plan;
  request.readme = "# ablated\n";
  ablation::export_ablated_model(request);

  auto exported = model::CausalLM::load(dir_ / "export", "float32", torch::kCPU);
  EXPECT_FALSE(exported->info().quantization.quantized());
  const torch::Tensor reloaded = exported->next_token_logits(batch);
  EXPECT_LE((reloaded - ablated).abs().max().item<double>() / ablated.abs().max().item<double>(), 1e-5);

  const nlohmann::json config = nlohmann::json::parse(std::ifstream(dir_ / "export/config.json"));
  EXPECT_FALSE(config.contains("quantization_config"));
  EXPECT_EQ(config.at("model_type"), "llama");
  std::ifstream readme(dir_ / "export/README.md");
  const std::string card((std::istreambuf_iterator<char>(readme)), {});
  EXPECT_NE(card.find("dequantised in float32"), std::string::npos) << card;

  const auto before = hf::SafetensorsCheckpoint::open(source);
  const auto after = hf::SafetensorsCheckpoint::open(dir_ / "export");
  int dequantized = 0;
  for (const std::string& name : after.tensor_names()) {
    EXPECT_EQ(name.find("_scale_inv"), std::string::npos) << name;
    const hf::TensorLocation a = before.at(name), b = after.at(name);
    EXPECT_EQ(b.info->dtype, hf::DType::kF32) << name;
    if (a.info->dtype == hf::DType::kF8E4M3) {
      ++dequantized;
      continue;
    }
    EXPECT_TRUE(a.info->byte_size() == b.info->byte_size() && std::memcmp(a.data(), b.data(), a.info->byte_size()) == 0)
        << name << " is not copied byte for byte";
  }
  EXPECT_EQ(dequantized, 14);
}

// A LoRA adapter of a block-FP8 checkpoint: PEFT adds lora_alpha / r · B A to the base model's
// weights, which transformers dequantises, so W + B A must be the merged export's weight
// (exactly for none and pre; for full within the error the card lists per module).
TEST_P(QuantizedExport, LoraAdapterOnTheDequantisedWeightsIsTheMergedExport) {
  const fs::path source = dir_ / "source";
  write_float32_copy(source);
  torch::manual_seed(7);
  std::vector<ablation::ModuleAblation> plan;
  for (int64_t layer = 0; layer < 2; ++layer)
    for (Component component : {Component::kAttnOutput, Component::kMlpDown}) {
      const torch::Tensor v = torch::randn({32});
      plan.push_back({layer, component, 0.8 + 0.1 * static_cast<double>(layer), v / v.norm()});
    }
  ablation::ExportRequest merged;
  merged.model_folder = source;
  merged.out_folder = dir_ / "merged";
  merged.mode = GetParam();
  merged.plan = plan;
  ablation::export_ablated_model(merged);
  ablation::LoraExportRequest request;
  request.model_folder = source;
  request.out_folder = dir_ / "adapter";
  request.base_model = "org/llama-fp8";
  request.mode = GetParam();
  request.plan = plan;
  request.readme = "# ablated\n";
  const ablation::LoraExport adapter = ablation::export_lora_adapter(request);
  ASSERT_EQ(adapter.modules.size(), plan.size());

  const model::ModelInfo info = model::read_model_info(source, "float32");
  ASSERT_EQ(info.quantization.method, hf::QuantMethod::kBlockFp8);
  const auto base = hf::SafetensorsCheckpoint::open(source);
  const auto exact = hf::SafetensorsCheckpoint::open(dir_ / "merged");
  const hf::SafetensorsFile factors(dir_ / "adapter/adapter_model.safetensors");
  const nlohmann::json config = nlohmann::json::parse(std::ifstream(dir_ / "adapter/adapter_config.json"));
  const double scaling = config.at("lora_alpha").get<double>() / config.at("r").get<double>();
  auto factor = [&](const std::string& key) {
    const hf::TensorInfo* tensor = factors.find(key);
    EXPECT_NE(tensor, nullptr) << key;
    return model::load_tensor(hf::TensorLocation{&factors, tensor}, torch::kFloat32, torch::kCPU);
  };
  for (const ablation::ModuleFit& module : adapter.modules) {
    const std::string name = module.module + ".weight";
    EXPECT_EQ(base.at(name).info->dtype, hf::DType::kF8E4M3) << name;
    const torch::Tensor W = model::load_weight_tensor(base, info.quantization, name, torch::kFloat32, torch::kCPU);
    const torch::Tensor merged_weight = model::load_tensor(exact.at(name), torch::kFloat32, torch::kCPU);
    const torch::Tensor applied =
        W + scaling * torch::mm(factor("base_model.model." + module.module + ".lora_B.weight"),
                                factor("base_model.model." + module.module + ".lora_A.weight"));
    const double change = (merged_weight - W).norm().item<double>();
    ASSERT_GT(change, 1e-3 * W.norm().item<double>()) << name << ": the plan must change the weight";
    const double error = (applied - merged_weight).norm().item<double>() / change;
    if (GetParam() == RowNormalization::kFull) {
      EXPECT_NEAR(error, module.relative_error, 1e-3 * module.relative_error + 1e-6) << name;
    } else {
      EXPECT_LE(error, 1e-5) << name;
    }
  }
  std::ifstream readme(dir_ / "adapter/README.md");
  const std::string card((std::istreambuf_iterator<char>(readme)), {});
  EXPECT_NE(card.find("block FP8 (weight_block_size [24, 20])"), std::string::npos) << card;
}

INSTANTIATE_TEST_SUITE_P(Modes, QuantizedExport,
                         ::testing::Values(RowNormalization::kNone, RowNormalization::kPre, RowNormalization::kFull),
                         [](const auto& param) { return config::to_string(param.param); });

TEST(QuantizedExportBf16, WritesDequantisedWeightsInTheCheckpointsDtype) {
  const fs::path dir = fs::temp_directory_path() / ("heretic-quantized-export-bf16-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  ablation::ExportRequest request;
  request.model_folder = kFp8;
  request.out_folder = dir;
  request.readme = "# ablated\n";
  ablation::export_ablated_model(request);
  const auto after = hf::SafetensorsCheckpoint::open(dir);
  for (const std::string& name : after.tensor_names()) EXPECT_EQ(after.at(name).info->dtype, hf::DType::kBF16) << name;
  // Unmerged, the reload holds the dequantised weights rounded to bfloat16.
  const auto expected = hf::SafetensorsCheckpoint::open(kFp8.parent_path() / "llama-fp8-dequantized");
  const std::string name = "model.layers.1.mlp.up_proj.weight";
  EXPECT_TRUE(torch::equal(model::load_tensor(after.at(name), torch::kFloat32, torch::kCPU),
                           model::load_tensor(expected.at(name), torch::kBFloat16, torch::kCPU).to(torch::kFloat32)));
  fs::remove_all(dir);
}

}  // namespace
