// Every family, old and new: the model ablated through its output slots equals its merged
// export (logits within 1e-5 relative in float32, for row normalisation none, pre and full), and
// the export keeps every tensor it does not ablate byte for byte, a multimodal wrapper's vision
// tower included.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <set>

#include "ablation/ablator.h"
#include "ablation/export.h"
#include "hf/safetensors_reader.h"
#include "hf/safetensors_writer.h"
#include "model/causal_lm.h"
#include "model/tensor_view.h"
#include "model_fixtures.h"

using namespace heretic;
using heretic::config::RowNormalization;
using heretic::model::Component;
namespace fs = std::filesystem;

namespace {

struct Case {
  std::string model;
  RowNormalization mode;
};
void PrintTo(const Case& c, std::ostream* out) { *out << c.model << "/" << config::to_string(c.mode); }

std::vector<Case> every_family_and_mode() {
  std::vector<Case> cases;
  for (const std::string& name : fixture_model_names())
    for (const RowNormalization mode : {RowNormalization::kNone, RowNormalization::kPre, RowNormalization::kFull})
      cases.push_back({name, mode});
  return cases;
}

// Modules of both kinds in the first and last layer, with random unit directions.
std::vector<ablation::ModuleAblation> mixed_plan(int64_t layers, int64_t hidden) {
  torch::manual_seed(11);
  auto direction = [hidden] {
    const torch::Tensor v = torch::randn({hidden});  // [H]
    return v / v.norm();
  };
  return {{0, Component::kAttnOutput, 1.0, direction()},
          {0, Component::kMlpDown, 0.7, direction()},
          {layers - 1, Component::kAttnOutput, 0.8, direction()},
          {layers - 1, Component::kMlpDown, 1.2, direction()}};
}

double relative_difference(const torch::Tensor& a, const torch::Tensor& reference) {
  return (a - reference).abs().max().item<double>() / reference.abs().max().item<double>();
}

// A copy of a fixture with every tensor stored as float32, so that merged weights are not
// rounded to half precision on export and the comparison is exact up to float32 arithmetic.
void write_float32_copy(const fs::path& source, const fs::path& target) {
  fs::create_directories(target);
  for (const auto& entry : fs::directory_iterator(source)) {
    if (entry.path().extension() != ".safetensors") fs::copy_file(entry.path(), target / entry.path().filename());
  }
  const auto checkpoint = hf::SafetensorsCheckpoint::open(source);
  std::vector<torch::Tensor> keep;
  std::vector<hf::TensorToWrite> tensors;
  for (const std::string& name : checkpoint.tensor_names()) {
    const hf::TensorLocation location = checkpoint.at(name);
    if (location.info->dtype == hf::DType::kU8) {  // MXFP4 blocks and scales stay as they are
      tensors.push_back({name, hf::DType::kU8, location.info->shape, location.data(), nullptr});
      continue;
    }
    keep.push_back(model::load_tensor(location, torch::kFloat32, torch::kCPU).contiguous());
    tensors.push_back({name, hf::DType::kF32, location.info->shape, static_cast<const std::byte*>(keep.back().data_ptr()),
                       nullptr});
  }
  hf::write_safetensors_checkpoint(target, tensors, uint64_t{1} << 40);
}

class FamilyExport : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("heretic-family-export-" + std::to_string(::getpid()) + "-" + GetParam().model + "-" +
            config::to_string(GetParam().mode));
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_P(FamilyExport, ExportedModelEqualsTheAblatedOne) {
  const fs::path source = dir_ / "source";
  write_float32_copy(fixture_model(GetParam().model), source);
  auto original = model::CausalLM::load(source, "float32", torch::kCPU);
  const auto plan = mixed_plan(original->info().num_layers, original->info().hidden_size);
  const model::Batch batch = original->make_batch(long_prompts());
  const torch::Tensor base = original->next_token_logits(batch);  // [B, V]
  ablation::Ablator ablator(*original, GetParam().mode);
  ablator.apply(plan);
  const torch::Tensor ablated = original->next_token_logits(batch);
  ASSERT_GT(relative_difference(base, ablated), 1e-3) << "the plan must matter, or equality proves nothing";

  ablation::ExportRequest request;
  request.model_folder = source;
  request.out_folder = dir_ / "export";
  request.mode = GetParam().mode;
  request.plan = plan;
  request.readme = "# ablated\n";
  ablation::export_ablated_model(request);

  auto exported = model::CausalLM::load(dir_ / "export", "float32", torch::kCPU);
  EXPECT_LE(relative_difference(exported->next_token_logits(batch), ablated), 1e-5);

  // Every tensor outside the plan is copied byte for byte (vision towers included); planned
  // ones are named as the checkpoint names them.
  // A MoE layer's MLP is every expert's down projection (one tensor each, or one fused tensor).
  std::set<std::string> planned;
  for (const auto& module : plan)
    for (const model::ModuleTensor& tensor : original->info().module_tensors(module.layer, module.component))
      planned.insert(tensor.name);
  const auto before = hf::SafetensorsCheckpoint::open(source);
  const auto after = hf::SafetensorsCheckpoint::open(dir_ / "export");
  // MXFP4 tensors (<name>_blocks + <name>_scales) are exported dequantised as <name>.
  const bool mxfp4 = original->info().quantization.method == hf::QuantMethod::kMxfp4;
  std::set<std::string> expected_names, dequantized;
  for (const std::string& name : before.tensor_names()) {
    const size_t blocks = name.rfind("_blocks"), scales = name.rfind("_scales");
    if (mxfp4 && blocks != std::string::npos && blocks + 7 == name.size()) {
      dequantized.insert(name.substr(0, blocks));
    } else if (!(mxfp4 && scales != std::string::npos && scales + 7 == name.size())) {
      expected_names.insert(name);
    }
  }
  expected_names.insert(dequantized.begin(), dequantized.end());
  const std::vector<std::string> names = after.tensor_names();
  ASSERT_EQ(std::set<std::string>(names.begin(), names.end()), expected_names);
  EXPECT_EQ(dequantized.empty(), !mxfp4);
  int vision_tensors = 0;
  for (const std::string& name : names) {
    if (dequantized.count(name) != 0) continue;  // written in bf16 from MXFP4, compared through the logits above
    const hf::TensorLocation a = before.at(name), b = after.at(name);
    const bool same = a.info->byte_size() == b.info->byte_size() &&
                      std::memcmp(a.data(), b.data(), a.info->byte_size()) == 0;
    EXPECT_EQ(same, planned.count(name) == 0) << name;
    vision_tensors += name.find("vision_tower") != std::string::npos ? 1 : 0;
  }
  if (original->info().family->is_wrapper()) {
    EXPECT_GT(vision_tensors, 0);
  }
}

INSTANTIATE_TEST_SUITE_P(EveryFamily, FamilyExport, ::testing::ValuesIn(every_family_and_mode()),
                         [](const ::testing::TestParamInfo<Case>& param) {
                           return fixture_test_name({param.param.model, param.index}) + "_" +
                                  config::to_string(param.param.mode);
                         });

}  // namespace
