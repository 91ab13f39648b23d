// `heretic-mpi inspect` as a user runs it: a good model is described; a corrupt checkpoint is
// exit code 2 with a message that names the file.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>

#include "tests/support/run_process.h"

namespace heretic {
namespace {

namespace fs = std::filesystem;
using heretic::testing::read_whole_file;
using heretic::testing::run_process;
using heretic::testing::shell_quote;

const fs::path kQwen3 = fs::path(HERETIC_SOURCE_DIR) / "tests/fixtures/models/qwen3-tiny";

heretic::testing::ProcessResult inspect(const fs::path& folder) {
  return run_process(shell_quote(HERETIC_EXECUTABLE) + " inspect --model " + shell_quote(folder.string()));
}

// A copy of the qwen3 fixture whose model.safetensors is rewritten by `corrupt`.
fs::path corrupted_copy(const std::string& name, const std::function<void(std::string&)>& corrupt) {
  const fs::path dir = fs::temp_directory_path() / ("heretic-inspect-" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  for (const auto& entry : fs::directory_iterator(kQwen3)) fs::copy(entry.path(), dir / entry.path().filename());
  std::string bytes = read_whole_file(dir / "model.safetensors");
  corrupt(bytes);
  std::ofstream(dir / "model.safetensors", std::ios::binary | std::ios::trunc) << bytes;
  return dir;
}

TEST(InspectCli, DescribesAModel) {
  const auto result = inspect(kQwen3);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("model_type qwen3"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("layers:"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("o_proj"), std::string::npos) << result.out;
}

struct Corruption {
  const char* name;
  std::function<void(std::string&)> apply;
};

class InspectCorrupt : public ::testing::TestWithParam<Corruption> {};

TEST_P(InspectCorrupt, ExitsWithCode2NamingTheFile) {
  const fs::path dir = corrupted_copy(GetParam().name, GetParam().apply);
  const auto result = inspect(dir);
  EXPECT_EQ(result.exit_code, 2) << result.out << result.err;
  EXPECT_NE(result.err.find("model.safetensors"), std::string::npos) << result.err;
  fs::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(
    Kinds, InspectCorrupt,
    ::testing::Values(Corruption{"Empty", [](std::string& b) { b.clear(); }},
                      Corruption{"TruncatedData", [](std::string& b) { b.resize(b.size() / 2); }},
                      Corruption{"TruncatedHeader", [](std::string& b) { b.resize(12); }},
                      Corruption{"HugeHeaderLength", [](std::string& b) { b[7] = '\x7f'; }},
                      Corruption{"GarbageHeader", [](std::string& b) { b.replace(8, 4, "!!!!"); }}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

TEST(InspectCli, MissingModelSaysWhatToRunOnALoginNode) {
  const auto result = run_process("HF_HUB_CACHE=/nonexistent " + shell_quote(HERETIC_EXECUTABLE) +
                                  " inspect --model some-org/some-model");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("huggingface-cli download some-org/some-model"), std::string::npos) << result.err;
}

}  // namespace
}  // namespace heretic
