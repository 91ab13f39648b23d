// The main job under mpirun with 2 ranks, as a user starts it.
#include <gtest/gtest.h>

#include "io/results_file.h"

#include <filesystem>
#include <fstream>

#include "tests/support/run_process.h"

namespace heretic {
namespace {

using heretic::testing::read_whole_file;
using heretic::testing::run_process;
using heretic::testing::shell_quote;

std::string mpirun(int ranks) {
  return "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 " + shell_quote(HERETIC_MPIEXEC) + " -n " +
         std::to_string(ranks) + " --oversubscribe " + shell_quote(HERETIC_EXECUTABLE);
}

std::filesystem::path scratch(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / ("heretic-mpi-" + name);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

// A job on the model organism with its own prompt files.
std::string organism_job(const std::filesystem::path& out, const std::string& bad_prompts_file = "harmful_train.txt") {
  const std::string fixture = std::string(HERETIC_SOURCE_DIR) + "/tests/fixtures/organism";
  return "model = \"" + fixture + "/model\"\n" +
         "[good_prompts]\ndataset = \"" + fixture + "/prompts/harmless_train.txt\"\nsplit = \"[:400]\"\n" +
         "[bad_prompts]\ndataset = \"" + fixture + "/prompts/" + bad_prompts_file + "\"\nsplit = \"[:400]\"\n" +
         "[scorer.KeywordRate.prompts]\ndataset = \"" + fixture + "/prompts/harmful_test.txt\"\n" +
         "[scorer.KLDivergence.prompts]\ndataset = \"" + fixture + "/prompts/harmless_test.txt\"\n" +
         "[output]\ndir = \"" + out.string() + "\"\n";
}

// A short search on the organism: three random trials with responses cut at 16 tokens.
std::string short_search(const std::filesystem::path& out) {
  return "n_trials = 3\nn_startup_trials = 3\nseed = 7\nmax_response_length = 16\n" + organism_job(out);
}

TEST(MainJobMpi, TwoRanksStartLoadLogAndReportTheWorld) {
  const auto dir = scratch("start");
  std::ofstream(dir / "job.toml") << short_search(dir / "out");
  const auto result = run_process(mpirun(2) + " --config " + shell_quote((dir / "job.toml").string()));
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  EXPECT_NE(result.out.find("world: 2 rank(s)"), std::string::npos) << result.out;
  // Each rank has its own log file, with rank and host on every line.
  for (const char* name : {"rank-00000.log", "rank-00001.log"}) {
    const auto log = dir / "out" / "logs" / name;
    ASSERT_TRUE(std::filesystem::exists(log)) << log;
    const std::string text = read_whole_file(log);
    EXPECT_NE(text.find(std::string("[rank ") + (name[9] == '0' ? "0" : "1") + "@"), std::string::npos) << text;
  }
  // Phase 1 loaded the model and every prompt set.
  EXPECT_NE(result.out.find("(qwen3, 6 layers, hidden 64, float32"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("good_prompts: 400 prompts"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("scorer.KeywordRate.prompts: 100 prompts"), std::string::npos) << result.out;
  // Phases 2-5 ran: three trials, a front, results.h5.
  EXPECT_NE(result.out.find("[trial   3/3]"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("Pareto front"), std::string::npos) << result.out;
  EXPECT_TRUE(std::filesystem::exists(dir / "out" / "results.h5"));
}

// Sharding must not change what is computed: one rank and two ranks give the same directions
// (to 1e-6) and, for the same seeded trials, the same refusal counts and KL values.
TEST(MainJobMpi, OneAndTwoRanksComputeTheSameDirectionsAndScores) {
  const auto dir = scratch("same");
  std::ofstream(dir / "one.toml") << short_search(dir / "one");
  std::ofstream(dir / "two.toml") << short_search(dir / "two");
  const auto one = run_process(mpirun(1) + " --config " + shell_quote((dir / "one.toml").string()));
  ASSERT_EQ(one.exit_code, 0) << one.out << one.err;
  const auto two = run_process(mpirun(2) + " --config " + shell_quote((dir / "two.toml").string()));
  ASSERT_EQ(two.exit_code, 0) << two.out << two.err;
  const io::Results a = io::read_results(dir / "one" / "results.h5");
  const io::Results b = io::read_results(dir / "two" / "results.h5");
  ASSERT_EQ(a.directions.values.size(), b.directions.values.size());
  ASSERT_FALSE(a.directions.values.empty());
  for (size_t i = 0; i < a.directions.values.size(); ++i) {
    EXPECT_NEAR(a.directions.values[i], b.directions.values[i], 1e-6) << "element " << i;
  }
  ASSERT_EQ(a.trials.size(), 3u);
  ASSERT_EQ(b.trials.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(a.trials[i].params_json, b.trials[i].params_json);
    EXPECT_EQ(a.trials[i].refusals, b.trials[i].refusals);
    EXPECT_NEAR(a.trials[i].kl, b.trials[i].kl, 1e-6);
  }
  EXPECT_EQ(b.run.world_size, 2);
}

TEST(MainJobMpi, MissingPromptFileIsReportedOnceWithExitCode2) {
  const auto dir = scratch("missing-prompts");
  std::ofstream(dir / "job.toml") << organism_job(dir / "out", "no_such_file.txt");
  const auto result = run_process(mpirun(2) + " --config " + shell_quote((dir / "job.toml").string()));
  EXPECT_EQ(result.exit_code, 2) << result.out << result.err;
  const size_t first = result.err.find("no_such_file.txt");
  ASSERT_NE(first, std::string::npos) << result.err;
  EXPECT_EQ(result.err.find("heretic-mpi: error:", result.err.find("heretic-mpi: error:") + 1), std::string::npos)
      << "printed more than once:\n" << result.err;
}

TEST(MainJobMpi, BadConfigIsReportedOnceAndEveryRankExits2) {
  const auto dir = scratch("bad");
  std::ofstream(dir / "job.toml") << "model = \"m\"\nn_trials = 0\n";
  const auto result = run_process(mpirun(2) + " --config " + shell_quote((dir / "job.toml").string()));
  EXPECT_EQ(result.exit_code, 2) << result.out << result.err;
  const std::string fragment = "key 'n_trials': must be at least 1, got 0";
  const size_t first = result.err.find(fragment);
  ASSERT_NE(first, std::string::npos) << result.err;
  EXPECT_EQ(result.err.find(fragment, first + 1), std::string::npos) << "printed more than once:\n" << result.err;
}

TEST(MainJobMpi, RanksPerTrialMustDivideTheWorld) {
  const auto dir = scratch("rpt");
  std::ofstream(dir / "job.toml") << "model = \"m\"\n[mpi]\nranks_per_trial = 2\n[output]\ndir = \""
                                  << (dir / "out").string() << "\"\n";
  const auto result = run_process(mpirun(3) + " --config " + shell_quote((dir / "job.toml").string()));
  EXPECT_EQ(result.exit_code, 2) << result.out << result.err;
  EXPECT_NE(result.err.find("does not divide the number of ranks (3)"), std::string::npos) << result.err;
}

}  // namespace
}  // namespace heretic
