// `heretic-mpi plan` as a user runs it, and the main job's own memory check: the 70B shape's
// figures and smallest layout, bad inputs ending with exit code 2 naming the flag, key or file,
// and a job whose layout cannot fit its memory per rank refused before anything is loaded.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "tests/support/run_process.h"

namespace heretic {
namespace {

namespace fs = std::filesystem;
using heretic::testing::run_process;
using heretic::testing::shell_quote;

const fs::path kLlama70B = fs::path(HERETIC_SOURCE_DIR) / "tests/fixtures/plan/llama-3.1-70b";
const fs::path kPrompts = fs::path(HERETIC_SOURCE_DIR) / "tests/fixtures/organism/prompts";

heretic::testing::ProcessResult plan(const std::string& arguments) {
  return run_process(shell_quote(HERETIC_EXECUTABLE) + " plan " + arguments);
}

fs::path fresh_dir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("heretic-plan-cli-" + std::to_string(::getpid()) + "-" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// A small job on the llama-tiny fixture with `extra` lines in its [mpi] table.
fs::path write_job(const fs::path& dir, const std::string& mpi_lines) {
  const fs::path model = fs::path(HERETIC_SOURCE_DIR) / "tests/fixtures/models/llama-tiny";
  std::ofstream(dir / "job.toml") << "model = \"" << model.string() << "\"\ndtypes = [\"float32\"]\n"
                                  << "max_response_length = 4\nresponse_prefix = \"\"\nn_trials = 2\nn_startup_trials = 1\n"
                                  << "[good_prompts]\ndataset = \"" << (kPrompts / "harmless_train.txt").string()
                                  << "\"\nsplit = \"[:4]\"\n[bad_prompts]\ndataset = \""
                                  << (kPrompts / "harmful_train.txt").string() << "\"\nsplit = \"[:4]\"\n"
                                  << "[scorer.KeywordRate.prompts]\ndataset = \""
                                  << (kPrompts / "harmful_test.txt").string() << "\"\nsplit = \"[:4]\"\n"
                                  << "[scorer.KLDivergence.prompts]\ndataset = \""
                                  << (kPrompts / "harmless_test.txt").string() << "\"\nsplit = \"[:4]\"\n"
                                  << "[mpi]\n" << mpi_lines << "[output]\ndir = \"" << (dir / "out").string() << "\"\n";
  return dir / "job.toml";
}

TEST(PlanCli, Llama70BOnEightyGiBDevicesFromConfigJsonAlone) {
  const auto result = plan("--model " + shell_quote(kLlama70B.string()) +
                           " --devices-per-node 8 --memory-per-device 80GiB --nodes 2");
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  EXPECT_NE(result.out.find("computed from config.json's shape"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("70553706496 parameters = 141.1 GB"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("world:           2 node(s) x 8 rank(s) = 16 ranks"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("longest prompt is assumed"), std::string::npos) << result.out;
  // 131 GiB of weights do not fit one 80 GiB device; two do, with 8 worker groups of 2 ranks.
  EXPECT_NE(result.out.find("smallest layout that runs:            mpi.tensor_parallel = 2, mpi.pipeline_stages = 1 "
                            "(8 worker group(s) of 2 ranks"),
            std::string::npos)
      << result.out;
  EXPECT_NE(result.out.find("smallest layout for the batch ceiling: mpi.tensor_parallel = "), std::string::npos)
      << result.out;
}

TEST(PlanCli, ThreeDevicesPerNodeCannotSplitSixtyFourHeadsAndFallBackToPipelineStages) {
  const auto result = plan("--model " + shell_quote(kLlama70B.string()) + " --devices-per-node 3 --memory-per-device 80GiB");
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  EXPECT_NE(result.out.find("cannot split: key 'mpi.tensor_parallel': 3 does not divide num_attention_heads (64)"),
            std::string::npos)
      << result.out;
  EXPECT_NE(result.out.find("smallest layout that runs:            mpi.tensor_parallel = 1, mpi.pipeline_stages = 3"),
            std::string::npos)
      << result.out;
  EXPECT_NE(result.out.find("pipeline stages cannot be run yet"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("stage 2 rank 0, layers 54-79: "), std::string::npos) << result.out;
}

TEST(PlanCli, ReadsTheJobConfiguration) {
  const fs::path dir = fresh_dir("config");
  const fs::path job = write_job(dir, "tensor_parallel = 2\nmemory_per_rank = \"2GiB\"\n");
  const auto result = plan("--config " + shell_quote(job.string()));
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  EXPECT_NE(result.out.find("from the safetensors headers"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("compute dtype:   float32"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("batch 128 x (512 prompt + 4 response tokens)"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("2.00 GiB (mpi.memory_per_rank)"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("the configured layout 2 x 1: "), std::string::npos) << result.out;
  fs::remove_all(dir);
}

TEST(PlanCli, BadInputsExitWithCode2NamingTheFlagKeyOrFile) {
  auto expect_bad = [](const heretic::testing::ProcessResult& result, const std::string& named) {
    EXPECT_EQ(result.exit_code, 2) << result.out << result.err;
    EXPECT_NE(result.err.find(named), std::string::npos) << result.err;
  };
  const std::string model = "--model " + shell_quote(kLlama70B.string());
  expect_bad(plan(model + " --memory-per-device lots"), "--memory-per-device");
  expect_bad(plan(model + " --devices-per-node 0"), "--devices-per-node");
  expect_bad(plan("--model /nonexistent/model-folder --memory-per-device 1GiB"), "/nonexistent/model-folder");
  expect_bad(plan(""), "--config FILE or --model DIR");
  const fs::path dir = fresh_dir("bad");
  expect_bad(plan("--config " + shell_quote(write_job(dir, "memory_per_rank = \"lots\"\n").string())),
             "mpi.memory_per_rank");
  fs::remove_all(dir);
  // Nothing fits: the answer is exit code 2 and what to change.
  const auto none = plan(model + " --devices-per-node 2 --memory-per-device 16GiB");
  EXPECT_EQ(none.exit_code, 2) << none.out << none.err;
  EXPECT_NE(none.out.find("no layout of this world fits 16.00 GiB per rank"), std::string::npos) << none.out;
}

TEST(MainJobMemoryCheck, RefusesALayoutThatCannotFitBeforeLoading) {
  const fs::path dir = fresh_dir("refuse");
  const fs::path job = write_job(dir, "memory_per_rank = \"1MiB\"\n");
  const auto result = run_process(shell_quote(HERETIC_EXECUTABLE) + " --config " + shell_quote(job.string()));
  EXPECT_EQ(result.exit_code, 2) << result.out << result.err;
  EXPECT_NE(result.err.find("the layout mpi.tensor_parallel = 1 x mpi.pipeline_stages = 1 does not fit"),
            std::string::npos)
      << result.err;
  EXPECT_NE(result.err.find("a rank has 1.0 MiB (mpi.memory_per_rank)"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("workspace 768.0 MiB"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("Raise mpi.tensor_parallel"), std::string::npos) << result.err;
  EXPECT_FALSE(fs::exists(dir / "out/journal.jsonl"));
  // "off" skips the check: the same job runs.
  const fs::path unchecked = write_job(dir, "memory_per_rank = \"off\"\n");
  const auto run = run_process(shell_quote(HERETIC_EXECUTABLE) + " --config " + shell_quote(unchecked.string()));
  EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace heretic
