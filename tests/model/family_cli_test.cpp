// Every family through the executable, as a user meets it: `heretic-mpi inspect` describes each
// fixture (family, abliterable modules, memory); a corrupt or mismatched checkpoint of a new
// family ends with exit code 2 and a message naming the tensor or key; and a seeded 10-trial run
// on each fixture completes and exports a model folder that loads again.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

#include "hf/safetensors_reader.h"
#include "hf/safetensors_writer.h"
#include "model_fixtures.h"
#include "tests/support/run_process.h"

namespace heretic {
namespace {

namespace fs = std::filesystem;
using heretic::testing::read_whole_file;
using heretic::testing::run_process;
using heretic::testing::shell_quote;

heretic::testing::ProcessResult inspect(const fs::path& folder) {
  return run_process(shell_quote(HERETIC_EXECUTABLE) + " inspect --model " + shell_quote(folder.string()));
}

fs::path fresh_dir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("heretic-family-cli-" + std::to_string(::getpid()) + "-" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

class EveryFamilyCli : public ::testing::TestWithParam<std::string> {};

TEST_P(EveryFamilyCli, InspectPrintsTheFamilyItsModulesAndMemory) {
  const auto result = inspect(fixture_model(GetParam()));
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const std::string family = GetParam().substr(0, GetParam().find('-'));
  EXPECT_NE(result.out.find("architecture:   " + family + " (model_type " + family + ")"), std::string::npos)
      << result.out;
  EXPECT_NE(result.out.find("attn.o_proj: "), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("mlp.down_proj: "), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("self_attn.o_proj .. "), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("weights memory: "), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("KV cache:       "), std::string::npos) << result.out;
}

// A seeded 10-trial run on the fixture (with its tiny tokenizer and the organism's prompts)
// completes, journals 10 trials and exports the Pareto front as folders that load again.
TEST_P(EveryFamilyCli, SeededTenTrialRunExportsAModelThatLoadsAgain) {
  const fs::path dir = fresh_dir("run-" + GetParam());
  const fs::path prompts = fs::path(HERETIC_SOURCE_DIR) / "tests/fixtures/organism/prompts";
  std::ofstream(dir / "job.toml") << "model = \"" << fixture_model(GetParam()).string() << "\"\n"
                                  << "dtypes = [\"float32\"]\n"
                                  << "max_response_length = 6\n"
                                  << "response_prefix = \"\"\n"
                                  << "n_trials = 10\n"
                                  << "n_startup_trials = 5\n"
                                  << "seed = 3\n"
                                  << "[good_prompts]\ndataset = \"" << (prompts / "harmless_train.txt").string()
                                  << "\"\nsplit = \"[:16]\"\n"
                                  << "[bad_prompts]\ndataset = \"" << (prompts / "harmful_train.txt").string()
                                  << "\"\nsplit = \"[:16]\"\n"
                                  << "[scorer.KeywordRate.prompts]\ndataset = \""
                                  << (prompts / "harmful_test.txt").string() << "\"\nsplit = \"[:8]\"\n"
                                  << "[scorer.KLDivergence.prompts]\ndataset = \""
                                  << (prompts / "harmless_test.txt").string() << "\"\nsplit = \"[:8]\"\n"
                                  << "[output]\ndir = \"" << (dir / "out").string() << "\"\nexport = \"pareto\"\n";
  const auto run = run_process(shell_quote(HERETIC_EXECUTABLE) + " --config " + shell_quote((dir / "job.toml").string()));
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  const std::string journal = read_whole_file(dir / "out/journal.jsonl");
  size_t results = 0;
  for (size_t at = journal.find("\"type\":\"result\""); at != std::string::npos;
       at = journal.find("\"type\":\"result\"", at + 1))
    ++results;
  EXPECT_EQ(results, 10u);
  int exported = 0;
  for (const auto& entry : fs::directory_iterator(dir / "out/models")) {
    const auto again = inspect(entry.path());
    EXPECT_EQ(again.exit_code, 0) << entry.path() << ": " << again.err;
    EXPECT_NE(again.out.find("architecture:   " + GetParam().substr(0, GetParam().find('-'))), std::string::npos);
    ++exported;
  }
  EXPECT_GE(exported, 1);
  fs::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, EveryFamilyCli, ::testing::ValuesIn(fixture_model_names()), fixture_test_name);

// ---- broken checkpoints of the new families -----------------------------------------------------

struct Breakage {
  std::string fixture;
  std::string kind;                 // "missing", "shape", "shape_fused", "model_type", "wrapped_model_type"
  std::string detail;               // the tensor dropped, or the config text replaced
  std::string replacement;          // config text put in its place
  std::vector<std::string> expect;  // substrings of the message
};
void PrintTo(const Breakage& b, std::ostream* out) { *out << b.fixture << "/" << b.kind; }

const std::string kSupported =
    "supported: 'gemma2', 'gemma3', 'gemma3_text', 'gpt_oss', 'llama', 'mistral', 'mistral3', 'mixtral', 'phi3', 'qwen2', "
    "'qwen2_moe', 'qwen3', 'qwen3_moe'";

std::vector<Breakage> breakages() {
  std::vector<Breakage> cases;
  const std::vector<std::pair<std::string, std::string>> dropped = {
      {"gemma2-tiny", "model.layers.1.post_feedforward_layernorm.weight"},
      {"gemma3_text-tiny", "model.layers.0.self_attn.k_norm.weight"},
      {"gemma3-tiny", "language_model.model.layers.1.pre_feedforward_layernorm.weight"},
      {"phi3-tiny", "model.layers.1.self_attn.qkv_proj.weight"},
      {"mistral3-tiny", "model.language_model.layers.0.mlp.down_proj.weight"}};
  for (const auto& [fixture, tensor] : dropped) {
    cases.push_back({fixture, "missing", tensor, "", {"no tensor '" + tensor + "'"}});
    cases.push_back({fixture, "shape", "\"intermediate_size\": 64", "\"intermediate_size\": 65",
                     {"config.json: keys", "'intermediate_size'", "imply shape"}});
  }
  cases.back().expect.push_back("model.language_model.layers.0.mlp.gate_proj.weight");
  cases.push_back({"phi3-tiny", "shape_fused", "\"num_key_value_heads\": 2", "\"num_key_value_heads\": 1",
                   {"'num_key_value_heads'", "imply shape [48, 32] for tensor 'model.layers.0.self_attn.qkv_proj.weight'",
                    "has [64, 32]"}});
  for (const std::string fixture : {"gemma2-tiny", "gemma3_text-tiny", "phi3-tiny"}) {
    const std::string type = fixture.substr(0, fixture.find('-'));
    cases.push_back({fixture, "model_type", "\"model_type\": \"" + type + "\"", "\"model_type\": \"" + type + "x\"",
                     {"key 'model_type' is '" + type + "x'", kSupported}});
  }
  cases.push_back({"gemma3-tiny", "model_type", "\"model_type\": \"gemma3\"", "\"model_type\": \"gemma4\"",
                   {"key 'model_type' is 'gemma4'", kSupported}});
  cases.push_back({"gemma3-tiny", "wrapped_model_type", "\"model_type\": \"gemma3_text\"", "\"model_type\": \"gemma2\"",
                   {"key 'text_config.model_type' is 'gemma2'", "supported: 'gemma3_text'"}});
  cases.push_back({"mistral3-tiny", "wrapped_model_type", "\"model_type\": \"mistral\"", "\"model_type\": \"ministral3\"",
                   {"key 'text_config.model_type' is 'ministral3'", "supported: 'mistral'"}});
  return cases;
}

class BrokenFamilyCheckpoint : public ::testing::TestWithParam<Breakage> {};

TEST_P(BrokenFamilyCheckpoint, ExitsWithCode2NamingTheTensorOrKey) {
  const Breakage& b = GetParam();
  const fs::path dir = fresh_dir("broken-" + b.fixture + "-" + b.kind);
  for (const auto& entry : fs::directory_iterator(fixture_model(b.fixture)))
    if (entry.path().filename() != "model.safetensors") fs::copy_file(entry.path(), dir / entry.path().filename());
  {
    const auto checkpoint = hf::SafetensorsCheckpoint::open(fixture_model(b.fixture));
    std::vector<hf::TensorToWrite> tensors;
    for (const std::string& name : checkpoint.tensor_names()) {
      if (b.kind == "missing" && name == b.detail) continue;
      const hf::TensorLocation location = checkpoint.at(name);
      tensors.push_back({name, location.info->dtype, location.info->shape, location.data(), nullptr});
    }
    hf::write_safetensors_checkpoint(dir, tensors, uint64_t{1} << 40);
  }
  if (b.kind != "missing") {
    std::string config = read_whole_file(dir / "config.json");
    const size_t at = config.find(b.detail);
    ASSERT_NE(at, std::string::npos) << b.detail;
    config.replace(at, b.detail.size(), b.replacement);
    std::ofstream(dir / "config.json", std::ios::trunc) << config;
  }
  const auto result = inspect(dir);
  EXPECT_EQ(result.exit_code, 2) << result.out << result.err;
  for (const std::string& part : b.expect) EXPECT_NE(result.err.find(part), std::string::npos) << result.err;
  EXPECT_EQ(result.err.find('\n'), result.err.rfind('\n')) << "one message: " << result.err;
  fs::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(NewFamilies, BrokenFamilyCheckpoint, ::testing::ValuesIn(breakages()),
                         [](const ::testing::TestParamInfo<Breakage>& param) {
                           return fixture_test_name({param.param.fixture, param.index}) + "_" + param.param.kind;
                         });

}  // namespace
}  // namespace heretic
