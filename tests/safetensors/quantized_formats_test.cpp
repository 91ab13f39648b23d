// The quantised number formats (hf/quantized_formats.h) against the expected values that
// tools/fixtures/make_quantized_fixtures.py computes with its own bit-level implementation,
// compared bit for bit; and config.json's quantization_config.
#include "hf/quantized_formats.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "common/error.h"
#include "hf/quantization_config.h"
#include "hf/safetensors_reader.h"

namespace heretic::hf {
namespace {

namespace fs = std::filesystem;
const fs::path kFixtures = fs::path(HERETIC_SOURCE_DIR) / "tests/fixtures/quantized";

uint32_t bits_of(float value) {
  uint32_t bits = 0;
  std::memcpy(&bits, &value, 4);
  return bits;
}

std::vector<float> f32_tensor(const SafetensorsFile& file, const std::string& name) {
  const TensorInfo* info = file.find(name);
  EXPECT_NE(info, nullptr) << name;
  if (info == nullptr) return {};
  EXPECT_EQ(info->dtype, DType::kF32);
  std::vector<float> values(info->element_count());
  std::memcpy(values.data(), file.data(*info), info->byte_size());
  return values;
}

TEST(Float8, EveryByteDecodesToThePythonReferenceBitForBit) {
  const SafetensorsFile file(kFixtures / "formats.safetensors");
  const std::vector<float> e4m3 = f32_tensor(file, "e4m3_values");
  const std::vector<float> e5m2 = f32_tensor(file, "e5m2_values");
  ASSERT_EQ(e4m3.size(), 256U);
  ASSERT_EQ(e5m2.size(), 256U);
  for (int byte = 0; byte < 256; ++byte) {
    const auto b = static_cast<uint8_t>(byte);
    if (std::isnan(e4m3[b]))
      EXPECT_TRUE(std::isnan(decode_f8_e4m3(b))) << byte;
    else
      EXPECT_EQ(bits_of(decode_f8_e4m3(b)), bits_of(e4m3[b])) << byte;
    if (std::isnan(e5m2[b]))
      EXPECT_TRUE(std::isnan(decode_f8_e5m2(b))) << byte;
    else
      EXPECT_EQ(bits_of(decode_f8_e5m2(b)), bits_of(e5m2[b])) << byte;
  }
}

TEST(Float8, E4m3fnHasNoInfinityAndTwoNaNs) {
  int nans = 0;
  for (int byte = 0; byte < 256; ++byte) {
    const float value = decode_f8_e4m3(static_cast<uint8_t>(byte));
    EXPECT_FALSE(std::isinf(value)) << byte;
    nans += std::isnan(value) ? 1 : 0;
  }
  EXPECT_EQ(nans, 2);
  EXPECT_TRUE(std::isnan(decode_f8_e4m3(0x7F)));
  EXPECT_TRUE(std::isnan(decode_f8_e4m3(0xFF)));
  EXPECT_EQ(decode_f8_e4m3(0x7E), 448.0F);                    // the largest value
  EXPECT_EQ(decode_f8_e4m3(0x01), std::ldexp(1.0F, -9));      // the smallest subnormal
  EXPECT_EQ(bits_of(decode_f8_e4m3(0x80)), bits_of(-0.0F));   // negative zero
  EXPECT_EQ(decode_f8_e4m3(0x38), 1.0F);                      // exponent 7 = bias
  EXPECT_TRUE(std::isinf(decode_f8_e5m2(0x7C)));
  EXPECT_EQ(decode_f8_e5m2(0x7B), 57344.0F);
}

TEST(Mxfp4, BlocksDecodeToThePythonReferenceBitForBit) {
  const SafetensorsFile file(kFixtures / "mxfp4/model.safetensors");
  const std::string name = "model.layers.0.mlp.experts.down_proj";
  const TensorInfo* blocks = file.find(name + "_blocks");
  const TensorInfo* scales = file.find(name + "_scales");
  ASSERT_NE(blocks, nullptr);
  ASSERT_NE(scales, nullptr);
  EXPECT_EQ(blocks->dtype, DType::kU8);
  const std::vector<float> expected = f32_tensor(file, "expected_f32");
  const auto block_count = static_cast<int64_t>(scales->element_count());
  ASSERT_EQ(static_cast<int64_t>(expected.size()), block_count * kMxfp4BlockValues);
  std::vector<float> decoded(expected.size());
  dequantize_mxfp4(reinterpret_cast<const uint8_t*>(file.data(*blocks)),
                   reinterpret_cast<const uint8_t*>(file.data(*scales)), block_count, decoded.data());
  int infinities = 0, subnormals = 0;
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(bits_of(decoded[i]), bits_of(expected[i])) << i;
    infinities += std::isinf(expected[i]) ? 1 : 0;
    subnormals += std::fpclassify(expected[i]) == FP_SUBNORMAL ? 1 : 0;
  }
  EXPECT_GT(infinities, 0);  // exponent 254 with |nibble| >= 2 overflows, as ldexp in float32
  EXPECT_GT(subnormals, 0);  // exponent 0: 2^-127
}

TEST(Mxfp4, NibbleOrderAndScale) {
  const uint8_t blocks[16] = {0x21, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                              0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xF8};
  const uint8_t scale = 128;  // x 2
  float out[32];
  dequantize_mxfp4(blocks, &scale, 1, out);
  EXPECT_EQ(out[0], 1.0F);    // low nibble 1 -> 0.5
  EXPECT_EQ(out[1], 2.0F);    // high nibble 2 -> 1.0
  EXPECT_EQ(bits_of(out[30]), bits_of(-0.0F));  // nibble 8 -> -0
  EXPECT_EQ(out[31], -12.0F);  // nibble 15 -> -6
}

TEST(BlockFp8, AnyRectangleEqualsTheSameRectangleOfTheWhole) {
  const SafetensorsFile file(kFixtures / "llama-fp8/model.safetensors");
  for (const char* name : {"model.layers.0.self_attn.q_proj.weight", "model.layers.1.mlp.down_proj.weight"}) {
    const TensorInfo* values = file.find(name);
    const TensorInfo* scales = file.find(std::string(name) + "_scale_inv");
    ASSERT_NE(values, nullptr);
    ASSERT_NE(scales, nullptr);
    BlockFp8Matrix matrix;
    matrix.values = file.data(*values);
    matrix.rows = values->shape[0];
    matrix.cols = values->shape[1];
    matrix.scales = file.data(*scales);
    matrix.scale_dtype = scales->dtype;
    matrix.block_rows = 24;
    matrix.block_cols = 20;
    std::vector<float> whole(static_cast<size_t>(matrix.rows * matrix.cols));
    dequantize_block_fp8(matrix, 0, matrix.rows, 0, matrix.cols, whole.data());
    const int64_t r0 = 5, rows = 21, c0 = 13, cols = 17;  // crosses a block edge both ways
    std::vector<float> part(static_cast<size_t>(rows * cols));
    dequantize_block_fp8(matrix, r0, rows, c0, cols, part.data());
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < cols; ++c)
        ASSERT_EQ(bits_of(part[static_cast<size_t>(r * cols + c)]),
                  bits_of(whole[static_cast<size_t>((r0 + r) * matrix.cols + c0 + c)]))
            << name << " " << r << "," << c;
  }
}

TEST(QuantizationConfig, ReadsFp8BlockSizeAndMxfp4) {
  const auto fp8 = parse_quantization_config(
      nlohmann::json::parse(R"({"quant_method": "fp8", "fmt": "e4m3", "weight_block_size": [64, 32]})"),
      "config.json", "quantization_config");
  EXPECT_EQ(fp8.method, QuantMethod::kBlockFp8);
  EXPECT_EQ(fp8.block_rows, 64);
  EXPECT_EQ(fp8.block_cols, 32);
  const auto fp8_default =
      parse_quantization_config(nlohmann::json::parse(R"({"quant_method": "fp8"})"), "config.json", "q");
  EXPECT_EQ(fp8_default.block_rows, 128);  // transformers' FineGrainedFP8Config default
  EXPECT_EQ(fp8_default.block_cols, 128);
  const auto mxfp4 =
      parse_quantization_config(nlohmann::json::parse(R"({"quant_method": "mxfp4"})"), "config.json", "q");
  EXPECT_EQ(mxfp4.method, QuantMethod::kMxfp4);
}

void expect_input_error(const std::string& json, const std::vector<std::string>& fragments) {
  try {
    parse_quantization_config(nlohmann::json::parse(json), "/m/config.json", "quantization_config");
    ADD_FAILURE() << "accepted " << json;
  } catch (const InputError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("/m/config.json"), std::string::npos) << message;
    for (const std::string& fragment : fragments) EXPECT_NE(message.find(fragment), std::string::npos) << message;
  }
}

TEST(QuantizationConfig, RejectsUnknownMethodsAndBadBlockSizesNamingTheKey) {
  expect_input_error(R"({"quant_method": "gptq", "bits": 4})", {"'quantization_config.quant_method'", "'gptq'", "fp8, mxfp4"});
  expect_input_error(R"({"bits": 4})", {"'quantization_config.quant_method'", "fp8, mxfp4"});
  for (const char* block : {"[128]", "[0, 128]", "[128, -1]", "[128.5, 128]", "\"128x128\"", "[128, 128, 1]", "null"})
    expect_input_error(std::string(R"({"quant_method": "fp8", "weight_block_size": )") + block + "}",
                       {"'quantization_config.weight_block_size'", "two positive integers"});
}

}  // namespace
}  // namespace heretic::hf
