// The main job under mpirun with model-parallel worker groups, as a user starts it: tensor
// parallel (mpirun -n 2), pipeline stages (mpirun -n 2) and 2 stages of 2 tensor-parallel ranks
// (mpirun -n 4 --oversubscribe) find what one rank holding the whole model finds — the baseline,
// directions (1e-5), refusal counts, KL (1e-5 relative) and Pareto front of a seeded search — on
// the organism and on every family's fixture; and what a 2 x 2 run exports is, byte for byte,
// what one process exports for the same trials of that run.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "io/results_file.h"
#include "tests/model/model_fixtures.h"
#include "tests/mpi/main_job_runs.h"
#include "tests/support/run_process.h"

namespace heretic {
namespace {

namespace fs = std::filesystem;
using testing::expect_same_folder;
using testing::expect_the_one_rank_run;
using testing::mpirun;
using testing::organism_job;
using testing::read_whole_file;
using testing::run_process;
using testing::scratch;
using testing::shell_quote;

std::string one_process() { return shell_quote(HERETIC_EXECUTABLE); }

std::string export_folder_name(int64_t trial) {
  char name[32];
  std::snprintf(name, sizeof name, "trial-%03lld", static_cast<long long>(trial));
  return name;
}

// The trials that the run in `run` exported (models/trial-NNN) are, byte for byte, what one
// process holding the whole model exports for them afterwards (`heretic-mpi export`, with the
// run's directions from its results.h5). The run's folders are moved aside for the comparison.
void expect_one_process_exports_the_same(const fs::path& run, const std::vector<int64_t>& trials) {
  ASSERT_FALSE(trials.empty());
  const fs::path reference = run.string() + "-exported-by-the-run";
  fs::remove_all(reference);
  fs::rename(run / "models", reference);
  std::string numbers;
  for (const int64_t trial : trials) numbers += " --trial " + std::to_string(trial);
  const auto again = run_process(one_process() + " export --run " + shell_quote(run.string()) + numbers +
                                 " --set mpi.tensor_parallel=1 --set mpi.pipeline_stages=1");
  ASSERT_EQ(again.exit_code, 0) << again.out << again.err;
  for (const int64_t trial : trials) {
    SCOPED_TRACE("trial " + std::to_string(trial));
    const std::string name = export_folder_name(trial);
    ASSERT_TRUE(fs::exists(reference / name / "model.safetensors")) << reference / name;
    expect_same_folder(reference / name, run / "models" / name);
  }
}

// Tensor parallelism (mpi.tensor_parallel = 2): two ranks hold one copy of the organism, each
// with half of every block's heads and MLP columns, and compute what one rank holding all of it
// computes in a seeded 10-trial search (TPE after 4 random trials).
TEST(MainJobMpi, TensorParallelTwoRanksComputeTheOneRankRun) {
  const auto dir = scratch("tensor-parallel");
  const std::string search =
      "n_trials = 10\nn_startup_trials = 4\nseed = 7\nmax_response_length = 16\nrow_normalization = \"full\"\n";
  std::ofstream(dir / "one.toml") << search << organism_job(dir / "one");
  std::ofstream(dir / "tp.toml") << search << organism_job(dir / "tp") << "[mpi]\ntensor_parallel = 2\n";
  const auto one = run_process(one_process() + " --config " + shell_quote((dir / "one.toml").string()));
  ASSERT_EQ(one.exit_code, 0) << one.out << one.err;
  const auto tp = run_process(mpirun(2) + " --config " + shell_quote((dir / "tp.toml").string()));
  ASSERT_EQ(tp.exit_code, 0) << tp.out << tp.err;
  EXPECT_NE(tp.out.find("1 worker group(s) of 2 rank(s)"), std::string::npos) << tp.out;
  expect_the_one_rank_run(dir / "one", one.out, dir / "tp", tp.out, 10);
}

// Pipeline stages: 2 stages on 2 ranks (batches in 3 micro-batches), and 2 stages of 2
// tensor-parallel ranks on 4 (in 2, the default), whose exports (trials 2-4: written by ranks 0,
// 1 and 2, i.e. by both stages) one process repeats.
TEST(MainJobMpi, PipelineStagesComputeTheOneRankRun) {
  const auto dir = scratch("pipeline");
  const std::string search =
      "n_trials = 5\nn_startup_trials = 3\nseed = 11\nmax_response_length = 12\nrow_normalization = \"full\"\n";
  std::ofstream(dir / "one.toml") << search << organism_job(dir / "one");
  std::ofstream(dir / "p2.toml") << search << organism_job(dir / "p2")
                                 << "[mpi]\npipeline_stages = 2\npipeline_micro_batches = 3\n";
  std::ofstream(dir / "t2p2.toml") << search << organism_job(dir / "t2p2") << "export = [2, 3, 4]\n"
                                   << "[mpi]\npipeline_stages = 2\ntensor_parallel = 2\n";
  const auto one = run_process(one_process() + " --config " + shell_quote((dir / "one.toml").string()));
  ASSERT_EQ(one.exit_code, 0) << one.out << one.err;
  {
    SCOPED_TRACE("pipeline_stages = 2");
    const auto p2 = run_process(mpirun(2) + " --config " + shell_quote((dir / "p2.toml").string()));
    ASSERT_EQ(p2.exit_code, 0) << p2.out << p2.err;
    EXPECT_NE(p2.out.find("1 worker group(s) of 2 rank(s)"), std::string::npos) << p2.out;
    expect_the_one_rank_run(dir / "one", one.out, dir / "p2", p2.out, 5);
    // Each stage logs what it sent to the other per trial.
    EXPECT_NE(read_whole_file(dir / "p2" / "logs" / "rank-00001.log").find("pipeline stages:"), std::string::npos);
  }
  {
    SCOPED_TRACE("tensor_parallel = 2 x pipeline_stages = 2");
    const auto t2p2 = run_process(mpirun(4) + " --config " + shell_quote((dir / "t2p2.toml").string()));
    ASSERT_EQ(t2p2.exit_code, 0) << t2p2.out << t2p2.err;
    EXPECT_NE(t2p2.out.find("1 worker group(s) of 4 rank(s)"), std::string::npos) << t2p2.out;
    expect_the_one_rank_run(dir / "one", one.out, dir / "t2p2", t2p2.out, 5);
    expect_one_process_exports_the_same(dir / "t2p2", {2, 3, 4});
  }
}

// A copy of a family's fixture in `dir` whose chat template is the prompt alone. With the
// fixture's own template, the families with a sliding window of 3 to 6 tokens see only the
// template's closing tokens at the last position, the same for every prompt: good and bad means
// are then equal to float32 rounding and the "directions" are rounding noise, not a function of
// the prompts that two layouts could agree on.
fs::path fixture_with_prompt_only_template(const std::string& name, const fs::path& dir) {
  const fs::path copy = dir / "model";
  fs::copy(fixture_model(name), copy);
  nlohmann::json tokenizer_config = nlohmann::json::parse(read_whole_file(copy / "tokenizer_config.json"));
  tokenizer_config["chat_template"] = "{{ messages[-1]['content'] }}";
  std::ofstream(copy / "tokenizer_config.json") << tokenizer_config.dump(2);
  return copy;
}

// Every family's fixture (its tiny tokenizer, the organism's prompts) on 2 stages of 2
// tensor-parallel ranks: a seeded 4-trial search finds the one-rank run's directions, refusal
// counts, KL values and front, and its exported front is what one process exports for it.
class EveryFamilyOnTwoByTwo : public ::testing::TestWithParam<std::string> {};

TEST_P(EveryFamilyOnTwoByTwo, ComputesAndExportsWhatOneRankDoes) {
  const auto dir = scratch("two-by-two-" + GetParam());
  const fs::path prompts = fs::path(HERETIC_SOURCE_DIR) / "tests/fixtures/organism/prompts";
  const fs::path model = fixture_with_prompt_only_template(GetParam(), dir);
  const std::string job = "model = \"" + model.string() + "\"\n" +
                          "dtypes = [\"float32\"]\nmax_response_length = 6\nresponse_prefix = \"\"\n" +
                          "n_trials = 4\nn_startup_trials = 3\nseed = 5\nrow_normalization = \"full\"\n" +
                          "[good_prompts]\ndataset = \"" + (prompts / "harmless_train.txt").string() +
                          "\"\nsplit = \"[:16]\"\n[bad_prompts]\ndataset = \"" + (prompts / "harmful_train.txt").string() +
                          "\"\nsplit = \"[:16]\"\n[scorer.KeywordRate.prompts]\ndataset = \"" +
                          (prompts / "harmful_test.txt").string() + "\"\nsplit = \"[:8]\"\n" +
                          "[scorer.KLDivergence.prompts]\ndataset = \"" + (prompts / "harmless_test.txt").string() +
                          "\"\nsplit = \"[:8]\"\n[output]\nexport = \"pareto\"\n";
  std::ofstream(dir / "job.toml") << job;
  const std::string config = " --config " + shell_quote((dir / "job.toml").string()) + " --set ";
  const auto one = run_process(one_process() + config + shell_quote("output.dir=" + (dir / "one").string()));
  ASSERT_EQ(one.exit_code, 0) << one.out << one.err;
  const auto t2p2 = run_process(mpirun(4) + config + shell_quote("output.dir=" + (dir / "t2p2").string()) +
                                " --set mpi.tensor_parallel=2 --set mpi.pipeline_stages=2");
  ASSERT_EQ(t2p2.exit_code, 0) << t2p2.out << t2p2.err;
  EXPECT_NE(t2p2.out.find("1 worker group(s) of 4 rank(s)"), std::string::npos) << t2p2.out;
  // The random fixtures' trials move the first token's distribution little (KL 3e-5 to 4e-3),
  // so their KL values are sums of float32 log-probabilities (about 5, resolved to 4.8e-7) that
  // mostly cancel: two layouts agree to 1e-5 relative or, below 0.05, to 5e-7 absolute (seen:
  // up to 1.2e-7).
  expect_the_one_rank_run(dir / "one", one.out, dir / "t2p2", t2p2.out, 4, 5e-7);
  expect_one_process_exports_the_same(dir / "t2p2", io::read_results(dir / "t2p2" / "results.h5").pareto);
  fs::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, EveryFamilyOnTwoByTwo, ::testing::ValuesIn(fixture_model_names()),
                         fixture_test_name);

}  // namespace
}  // namespace heretic
