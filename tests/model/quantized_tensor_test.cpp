// Quantised checkpoints (model/quantized_tensor.h) on the fixtures written by
// tools/fixtures/make_quantized_fixtures.py: block-FP8 weights load as exactly the float32 and
// bfloat16 values its independent Python implementation computed, also as tensor-parallel
// slices; the FP8 model gives the same logits as its dequantised float32 copy; MXFP4 tensors
// decode exactly, whole or as a rank's slice; malformed scales, block sizes and shapes are
// InputErrors naming the tensor.
#include "model/quantized_tensor.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <tuple>

#include "common/error.h"
#include "hf/safetensors_writer.h"
#include "model/causal_lm.h"
#include "model/tensor_view.h"
#include "model_fixtures.h"

namespace heretic::model {
namespace {

namespace fs = std::filesystem;
const fs::path kFixtures = fs::path(HERETIC_SOURCE_DIR) / "tests/fixtures/quantized";

hf::QuantizationConfig fixture_quantization() {
  hf::QuantizationConfig quantization;
  quantization.method = hf::QuantMethod::kBlockFp8;
  quantization.method_name = "fp8";
  quantization.block_rows = 24;
  quantization.block_cols = 20;
  return quantization;
}

// Bitwise equality (NaN-safe, -0 distinct from +0).
void expect_same_bits(const torch::Tensor& actual, const torch::Tensor& expected, const std::string& what) {
  ASSERT_EQ(actual.sizes(), expected.sizes()) << what;
  ASSERT_EQ(actual.scalar_type(), expected.scalar_type()) << what;
  const auto integer = actual.element_size() == 4 ? torch::kInt32 : torch::kInt16;
  EXPECT_TRUE(torch::equal(actual.contiguous().view(integer), expected.contiguous().view(integer))) << what;
}

std::vector<std::string> quantized_names(const hf::SafetensorsCheckpoint& checkpoint) {
  std::vector<std::string> names;
  for (const std::string& name : checkpoint.tensor_names())
    if (checkpoint.at(name).info->dtype == hf::DType::kF8E4M3) names.push_back(name);
  return names;
}

TEST(BlockFp8, EveryWeightDequantisesToThePythonReferenceInFloat32AndBfloat16) {
  const auto fp8 = hf::SafetensorsCheckpoint::open(kFixtures / "llama-fp8");
  const auto dequantized = hf::SafetensorsCheckpoint::open(kFixtures / "llama-fp8-dequantized");
  const hf::SafetensorsFile expected_bf16(kFixtures / "llama-fp8-expected-bf16.safetensors");
  const std::vector<std::string> names = quantized_names(fp8);
  ASSERT_EQ(names.size(), 14U);  // 7 linear weights x 2 layers
  for (const std::string& name : names) {
    const torch::Tensor f32 = load_weight_tensor(fp8, fixture_quantization(), name, torch::kFloat32, torch::kCPU);
    expect_same_bits(f32, load_tensor(dequantized.at(name), torch::kFloat32, torch::kCPU), name + " float32");
    const torch::Tensor bf16 = load_weight_tensor(fp8, fixture_quantization(), name, torch::kBFloat16, torch::kCPU);
    const hf::TensorInfo* info = expected_bf16.find(name);
    ASSERT_NE(info, nullptr) << name;
    expect_same_bits(bf16, load_tensor({&expected_bf16, info}, torch::kBFloat16, torch::kCPU), name + " bfloat16");
  }
}

TEST(BlockFp8, TensorParallelSlicesEqualTheSlicesOfTheWholeTensor) {
  const auto fp8 = hf::SafetensorsCheckpoint::open(kFixtures / "llama-fp8");
  for (const std::string& name : quantized_names(fp8)) {
    const torch::Tensor whole = load_weight_tensor(fp8, fixture_quantization(), name, torch::kFloat32, torch::kCPU);
    for (int dim = 0; dim < 2; ++dim)
      for (const int parts : {2, 4}) {
        const int64_t length = whole.size(dim) / parts;
        for (int part = 0; part < parts; ++part) {
          const torch::Tensor slice = load_weight_tensor(fp8, fixture_quantization(), name, torch::kBFloat16,
                                                         torch::kCPU, dim, part * length, length);
          expect_same_bits(slice, whole.narrow(dim, part * length, length).to(torch::kBFloat16),
                           name + " dim " + std::to_string(dim) + " part " + std::to_string(part));
        }
      }
  }
}

std::vector<std::vector<int64_t>> prompts() { return {{40, 41, 42}, {50, 51, 52, 53, 54, 55}}; }

TEST(BlockFp8, ModelLogitsEqualTheDequantisedFloat32Copy) {
  const auto fp8 = CausalLM::load(kFixtures / "llama-fp8", "float32", torch::kCPU);
  const auto copy = CausalLM::load(kFixtures / "llama-fp8-dequantized", "float32", torch::kCPU);
  EXPECT_EQ(fp8->info().quantization.method, hf::QuantMethod::kBlockFp8);
  EXPECT_EQ(fp8->info().quantization.block_rows, 24);
  EXPECT_EQ(fp8->info().quantization.block_cols, 20);
  const torch::Tensor a = fp8->next_token_logits(fp8->make_batch(prompts()));
  const torch::Tensor b = copy->next_token_logits(copy->make_batch(prompts()));
  EXPECT_TRUE(torch::allclose(a, b, /*rtol=*/1e-6, /*atol=*/0.0)) << (a - b).abs().max().item<float>();
  // The same float32 weights, the same computation: in fact equal.
  EXPECT_EQ((a - b).abs().max().item<float>(), 0.0F);
}

TEST(BlockFp8, Bfloat16ModelRuns) {
  const auto fp8 = CausalLM::load(kFixtures / "llama-fp8", "auto", torch::kCPU);
  EXPECT_EQ(fp8->info().dtype, hf::DType::kBF16);
  EXPECT_TRUE(torch::isfinite(fp8->next_token_logits(fp8->make_batch(prompts()))).all().item<bool>());
}

TEST(Mxfp4, TensorDequantisesToThePythonReferenceInFloat32AndBfloat16) {
  const auto checkpoint = hf::SafetensorsCheckpoint::open(kFixtures / "mxfp4");
  const std::string name = "model.layers.0.mlp.experts.down_proj";
  const torch::Tensor f32 = load_mxfp4_tensor(checkpoint, name, torch::kFloat32, torch::kCPU);
  expect_same_bits(f32, load_tensor(checkpoint.at("expected_f32"), torch::kFloat32, torch::kCPU), "float32");
  const torch::Tensor bf16 = load_mxfp4_tensor(checkpoint, name, torch::kBFloat16, torch::kCPU);
  expect_same_bits(bf16, load_tensor(checkpoint.at("expected_bf16"), torch::kBFloat16, torch::kCPU), "bfloat16");
}

// A tensor-parallel rank decodes only its slice: rows of each expert, or columns that start and
// end inside 32-wide MXFP4 blocks, bit for bit those of the whole tensor; the shape comes from
// the headers alone.
TEST(Mxfp4, SlicesAreThoseOfTheWholeTensor) {
  const auto checkpoint = hf::SafetensorsCheckpoint::open(kFixtures / "mxfp4");
  const std::string name = "model.layers.0.mlp.experts.down_proj";
  const torch::Tensor whole = load_mxfp4_tensor(checkpoint, name, torch::kFloat32, torch::kCPU);
  ASSERT_EQ(whole.dim(), 3);
  EXPECT_EQ(mxfp4_shape(checkpoint, name), whole.sizes().vec());
  const int64_t rows = whole.size(1), columns = whole.size(2);
  ASSERT_GE(columns, 64);
  for (const auto& [dim, start, length] : {std::tuple<int64_t, int64_t, int64_t>{1, 1, rows - 2},
                                           {1, rows - 1, 1},
                                           {2, 5, 40},
                                           {2, 32, 32},
                                           {2, 0, columns}}) {
    SCOPED_TRACE("dim " + std::to_string(dim) + ", elements " + std::to_string(start) + " + " + std::to_string(length));
    const torch::Tensor part = load_mxfp4_tensor(checkpoint, name, torch::kBFloat16, torch::kCPU, dim, start, length);
    expect_same_bits(part, whole.narrow(dim, start, length).to(torch::kBFloat16), "slice");
  }
  EXPECT_THROW(load_mxfp4_tensor(checkpoint, name, torch::kFloat32, torch::kCPU, 2, columns - 8, 16),
               std::invalid_argument);
  EXPECT_THROW(load_mxfp4_tensor(checkpoint, name, torch::kFloat32, torch::kCPU, 0, 0, 1), std::invalid_argument);
}

// A copy of a fixture folder whose model.safetensors is rewritten by `edit` (name -> tensor).
class BrokenCopy : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("heretic-quantized-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  using Tensors = std::map<std::string, hf::TensorToWrite>;
  // Copies `fixture` into dir_, passing its tensors through `edit` first.
  void copy(const std::string& fixture, const std::function<void(Tensors&)>& edit) {
    fs::create_directories(dir_);
    for (const auto& entry : fs::directory_iterator(kFixtures / fixture))
      if (entry.path().filename() != "model.safetensors") fs::copy(entry.path(), dir_ / entry.path().filename());
    const hf::SafetensorsFile source(kFixtures / fixture / "model.safetensors");
    Tensors tensors;
    for (const hf::TensorInfo& info : source.tensors())
      tensors[info.name] = hf::TensorToWrite{info.name, info.dtype, info.shape, source.data(info)};
    edit(tensors);
    std::vector<hf::TensorToWrite> list;
    for (auto& [name, tensor] : tensors) list.push_back(tensor);
    hf::write_safetensors_file(dir_ / "model.safetensors", list);
  }

  void expect_load_error(const std::vector<std::string>& fragments) {
    try {
      CausalLM::load(dir_, "float32", torch::kCPU);
      ADD_FAILURE() << "loaded";
    } catch (const InputError& error) {
      for (const std::string& fragment : fragments)
        EXPECT_NE(std::string(error.what()).find(fragment), std::string::npos) << error.what();
    }
  }

  fs::path dir_;
  std::vector<float> zeros_ = std::vector<float>(64, 0.0F);
};

const std::string kQProj = "model.layers.1.self_attn.q_proj.weight";

TEST_F(BrokenCopy, MissingScaleInvNamesTheTensor) {
  copy("llama-fp8", [](Tensors& t) { t.erase(kQProj + "_scale_inv"); });
  expect_load_error({"model.safetensors", "'" + kQProj + "'", "no scale tensor '" + kQProj + "_scale_inv'"});
}

TEST_F(BrokenCopy, ScaleShapeThatDisagreesWithTheBlockSize) {
  copy("llama-fp8", [this](Tensors& t) {
    t[kQProj + "_scale_inv"] =
        hf::TensorToWrite{kQProj + "_scale_inv", hf::DType::kF32, {2, 1}, reinterpret_cast<const std::byte*>(zeros_.data())};
  });
  expect_load_error({"model.safetensors", "'" + kQProj + "_scale_inv' has shape [2, 1]", "weight_block_size [24, 20]",
                     "needs [2, 2]"});
}

TEST_F(BrokenCopy, Float8WithoutQuantizationConfig) {
  copy("llama-fp8", [](Tensors&) {});
  nlohmann::json config = nlohmann::json::parse(std::ifstream(dir_ / "config.json"));
  config.erase("quantization_config");
  std::ofstream(dir_ / "config.json") << config.dump();
  expect_load_error({"model.safetensors", "is F8_E4M3", "declares no block FP8"});
}

TEST_F(BrokenCopy, Mxfp4ScalesThatDisagreeWithTheBlocks) {
  copy("mxfp4", [this](Tensors& t) {
    const std::string name = "model.layers.0.mlp.experts.down_proj_scales";
    t[name] = hf::TensorToWrite{name, hf::DType::kU8, {2, 3, 3}, reinterpret_cast<const std::byte*>(zeros_.data())};
  });
  const auto checkpoint = hf::SafetensorsCheckpoint::open(dir_);
  try {
    load_mxfp4_tensor(checkpoint, "model.layers.0.mlp.experts.down_proj", torch::kFloat32, torch::kCPU);
    ADD_FAILURE() << "decoded";
  } catch (const InputError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("model.safetensors: tensor 'model.layers.0.mlp.experts.down_proj_scales' has shape [2, 3, 3]"),
              std::string::npos)
        << message;
    EXPECT_NE(message.find("needs one scale per block: [2, 3, 2]"), std::string::npos) << message;
  }
}

TEST_F(BrokenCopy, Mxfp4WithoutScales) {
  copy("mxfp4", [](Tensors& t) { t.erase("model.layers.0.mlp.experts.down_proj_scales"); });
  const auto checkpoint = hf::SafetensorsCheckpoint::open(dir_);
  EXPECT_THROW(load_mxfp4_tensor(checkpoint, "model.layers.0.mlp.experts.down_proj", torch::kFloat32, torch::kCPU),
               InputError);
}

}  // namespace
}  // namespace heretic::model
