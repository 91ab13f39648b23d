// Quantised checkpoints through the command a user checks a model with: `inspect` loads the
// block-FP8 fixture (tests/fixtures/quantized, tools/fixtures/make_quantized_fixtures.py) and
// says how it is stored; broken scale tensors end with exit code 2 and a message naming the
// file and the tensor.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "hf/safetensors_reader.h"
#include "hf/safetensors_writer.h"
#include "tests/support/run_process.h"

namespace heretic {
namespace {

namespace fs = std::filesystem;
using testing::run_process;
using testing::shell_quote;

const fs::path kFp8 = fs::path(HERETIC_SOURCE_DIR) / "tests/fixtures/quantized/llama-fp8";
const std::string kQProj = "model.layers.0.self_attn.q_proj.weight";

testing::ProcessResult inspect(const fs::path& folder) {
  return run_process("timeout 120 " + shell_quote(HERETIC_EXECUTABLE) + " inspect --model " + shell_quote(folder.string()));
}

TEST(QuantizedCli, InspectSaysTheCheckpointIsBlockFp8) {
  const auto result = inspect(kFp8);
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  EXPECT_NE(result.out.find("quantisation:   fp8 (float8 blocks of 24x20 with scale_inv), dequantised on load to bfloat16"),
            std::string::npos)
      << result.out;
}

// A copy of the FP8 fixture with its tensors passed through `edit`, run through inspect.
testing::ProcessResult inspect_edited(const std::string& label,
                                      const std::function<void(std::map<std::string, hf::TensorToWrite>&)>& edit) {
  const fs::path dir = fs::temp_directory_path() / ("heretic-quantized-cli-" + std::to_string(::getpid()) + "-" + label);
  fs::remove_all(dir);
  fs::create_directories(dir);
  for (const auto& entry : fs::directory_iterator(kFp8))
    if (entry.path().filename() != "model.safetensors") fs::copy(entry.path(), dir / entry.path().filename());
  {
    const hf::SafetensorsFile source(kFp8 / "model.safetensors");
    std::map<std::string, hf::TensorToWrite> tensors;
    for (const hf::TensorInfo& info : source.tensors())
      tensors[info.name] = hf::TensorToWrite{info.name, info.dtype, info.shape, source.data(info)};
    edit(tensors);
    std::vector<hf::TensorToWrite> list;
    for (auto& [name, tensor] : tensors) list.push_back(tensor);
    hf::write_safetensors_file(dir / "model.safetensors", list);
  }
  auto result = inspect(dir);
  fs::remove_all(dir);
  return result;
}

TEST(QuantizedCli, MissingScaleInvEndsWithExitCode2NamingTheTensor) {
  const auto result = inspect_edited("missing", [](auto& t) { t.erase(kQProj + "_scale_inv"); });
  EXPECT_EQ(result.exit_code, 2) << result.err;
  EXPECT_NE(result.err.find("model.safetensors: tensor '" + kQProj + "'"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("no scale tensor '" + kQProj + "_scale_inv'"), std::string::npos) << result.err;
}

TEST(QuantizedCli, ScaleShapeForAnotherBlockSizeEndsWithExitCode2) {
  static const std::vector<float> one(1, 1.0F);
  const auto result = inspect_edited("shape", [](auto& t) {
    t[kQProj + "_scale_inv"] =
        hf::TensorToWrite{kQProj + "_scale_inv", hf::DType::kF32, {1, 1}, reinterpret_cast<const std::byte*>(one.data())};
  });
  EXPECT_EQ(result.exit_code, 2) << result.err;
  EXPECT_NE(result.err.find("tensor '" + kQProj + "_scale_inv' has shape [1, 1]"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("needs [2, 2]"), std::string::npos) << result.err;
}

}  // namespace
}  // namespace heretic
