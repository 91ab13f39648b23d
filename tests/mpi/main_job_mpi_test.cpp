// The main job under mpirun with 2 ranks, as a user starts it.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <cmath>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <regex>
#include <set>
#include <vector>

#include "io/journal.h"
#include "io/results_file.h"
#include "tests/mpi/main_job_runs.h"
#include "tests/support/run_process.h"

namespace heretic {
namespace {

using heretic::testing::baseline_of;
using heretic::testing::mpirun;
using heretic::testing::organism_job;
using heretic::testing::read_whole_file;
using heretic::testing::run_process;
using heretic::testing::scratch;
using heretic::testing::shell_quote;

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

// Sharding must not change what is computed: the single-process engine, 2 ranks (a farm of two
// 1-rank groups) and 3 ranks (one group sharding every trial's prompts 34/33/33) give the same
// baseline, directions (to 1e-5), per-prompt residuals and, for the same seeded trials, the same
// refusal counts and KL values.
TEST(MainJobMpi, OneTwoAndThreeRanksComputeTheSameDirectionsAndScores) {
  const auto dir = scratch("same");
  const std::string research = "print_residual_geometry = true\n";
  std::ofstream(dir / "one.toml") << research << short_search(dir / "one") << "per_prompt_residuals = true\n";
  std::ofstream(dir / "two.toml") << research << short_search(dir / "two") << "per_prompt_residuals = true\n";
  std::ofstream(dir / "three.toml") << research << short_search(dir / "three") << "per_prompt_residuals = true\n"
                                    << "[mpi]\nranks_per_trial = 3\n";
  const auto one = run_process(shell_quote(HERETIC_EXECUTABLE) + " --config " + shell_quote((dir / "one.toml").string()));
  ASSERT_EQ(one.exit_code, 0) << one.out << one.err;
  const auto two = run_process(mpirun(2) + " --config " + shell_quote((dir / "two.toml").string()));
  ASSERT_EQ(two.exit_code, 0) << two.out << two.err;
  const auto three = run_process(mpirun(3) + " --config " + shell_quote((dir / "three.toml").string()));
  ASSERT_EQ(three.exit_code, 0) << three.out << three.err;

  EXPECT_NE(baseline_of(one.out), "none") << one.out;
  EXPECT_EQ(baseline_of(two.out), baseline_of(one.out));
  EXPECT_EQ(baseline_of(three.out), baseline_of(one.out));

  // Heretic's residual geometry table, with its geometric-median and silhouette columns.
  EXPECT_NE(three.out.find("S(g*,b*)"), std::string::npos) << three.out;
  EXPECT_NE(three.out.find("Silh"), std::string::npos) << three.out;

  const io::Results a = io::read_results(dir / "one" / "results.h5");
  for (const char* name : {"two", "three"}) {
    SCOPED_TRACE(name);
    const io::Results b = io::read_results(dir / name / "results.h5");
    ASSERT_EQ(a.directions.values.size(), b.directions.values.size());
    ASSERT_FALSE(a.directions.values.empty());
    for (size_t i = 0; i < a.directions.values.size(); ++i) {
      // Shards are batched differently (other left-padding lengths), so the float32 forward
      // passes differ in their last bits; the directions, differences of means, amplify that
      // to a few 1e-6 on some machines' BLAS.
      ASSERT_NEAR(a.directions.values[i], b.directions.values[i], 1e-5) << "element " << i;
    }
    // 400 prompts x 7 rows (embeddings + 6 blocks) of 64, in prompt order.
    ASSERT_EQ(b.per_prompt_residuals_bad.rows, 400 * 7);
    ASSERT_EQ(b.per_prompt_residuals_bad.cols, 64);
    ASSERT_EQ(a.per_prompt_residuals_good.values.size(), b.per_prompt_residuals_good.values.size());
    for (size_t i = 0; i < a.per_prompt_residuals_good.values.size(); ++i) {
      ASSERT_NEAR(a.per_prompt_residuals_good.values[i], b.per_prompt_residuals_good.values[i], 1e-4) << "element " << i;
    }
    ASSERT_EQ(a.trials.size(), 3u);
    ASSERT_EQ(b.trials.size(), 3u);
    for (size_t i = 0; i < 3; ++i) {
      EXPECT_EQ(a.trials[i].params_json, b.trials[i].params_json);
      EXPECT_EQ(a.trials[i].refusals, b.trials[i].refusals);
      EXPECT_NEAR(a.trials[i].kl, b.trials[i].kl, 1e-6);
    }
  }
  EXPECT_EQ(io::read_results(dir / "three" / "results.h5").run.world_size, 3);
}

TEST(MainJobMpi, PipelineStagesThatDoNotFitTheModelOrTheWorldAreRefused) {
  const auto dir = scratch("pipeline-layers");
  // The organism has 6 layers.
  std::ofstream(dir / "job.toml") << short_search(dir / "out") << "[mpi]\npipeline_stages = 7\n";
  const auto layers = run_process(mpirun(7) + " --config " + shell_quote((dir / "job.toml").string()));
  EXPECT_EQ(layers.exit_code, 2) << layers.out << layers.err;
  EXPECT_NE(layers.err.find("key 'mpi.pipeline_stages': 7 stages exceed num_hidden_layers (6)"), std::string::npos)
      << layers.err;
  EXPECT_NE(layers.err.find("organism/model/config.json"), std::string::npos) << layers.err;
  std::ofstream(dir / "job.toml") << "model = \"m\"\n[mpi]\npipeline_stages = 2\ntensor_parallel = 2\n[output]\ndir = \""
                                  << (dir / "out").string() << "\"\n";
  const auto world = run_process(mpirun(2) + " --config " + shell_quote((dir / "job.toml").string()));
  EXPECT_EQ(world.exit_code, 2) << world.out << world.err;
  EXPECT_NE(world.err.find("key 'mpi.pipeline_stages': 2 stages x mpi.tensor_parallel 2 = 4 ranks per model copy "
                           "does not divide the number of ranks (2)"),
            std::string::npos)
      << world.err;
}

TEST(MainJobMpi, TensorParallelThatDoesNotFitTheModelIsRefusedBeforeLoading) {
  const auto dir = scratch("tensor-parallel-heads");
  // The organism has 4 attention heads.
  std::ofstream(dir / "job.toml") << short_search(dir / "out") << "[mpi]\ntensor_parallel = 3\n";
  const auto result = run_process(mpirun(3) + " --config " + shell_quote((dir / "job.toml").string()));
  EXPECT_EQ(result.exit_code, 2) << result.out << result.err;
  EXPECT_NE(result.err.find("key 'mpi.tensor_parallel': 3 does not divide num_attention_heads (4)"), std::string::npos)
      << result.err;
  EXPECT_NE(result.err.find("organism/model/config.json"), std::string::npos) << result.err;
}

TEST(MainJobMpi, WorkerGroupsOfTensorParallelCopiesMustDivideTheWorld) {
  const auto dir = scratch("tensor-parallel-world");
  std::ofstream(dir / "job.toml") << "model = \"m\"\n[mpi]\ntensor_parallel = 2\n[output]\ndir = \""
                                  << (dir / "out").string() << "\"\n";
  const auto result = run_process(mpirun(3) + " --config " + shell_quote((dir / "job.toml").string()));
  EXPECT_EQ(result.exit_code, 2) << result.out << result.err;
  EXPECT_NE(result.err.find("key 'mpi.tensor_parallel': 2 does not divide the number of ranks (3)"), std::string::npos)
      << result.err;
  std::ofstream(dir / "job.toml") << "model = \"m\"\n[mpi]\ntensor_parallel = 2\nranks_per_trial = 2\n[output]\ndir = \""
                                  << (dir / "out").string() << "\"\n";
  const auto groups = run_process(mpirun(2) + " --config " + shell_quote((dir / "job.toml").string()));
  EXPECT_EQ(groups.exit_code, 2) << groups.out << groups.err;
  EXPECT_NE(groups.err.find("key 'mpi.ranks_per_trial': 2 model copies x mpi.tensor_parallel 2 = 4 ranks per worker "
                            "group does not divide the number of ranks (2)"),
            std::string::npos)
      << groups.err;
}

// Node-local storage as output.dir: rank 1 runs in its own mount namespace with an empty tmpfs
// over the folder, as a second node with its own /tmp would see it. The job must refuse to
// start (exit 2) and say why, instead of scattering logs and results over nodes.
TEST(MainJobMpi, OutputDirNotSharedBetweenRanksIsExplained) {
  if (::geteuid() != 0 || std::system("command -v unshare >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "needs root and unshare(1) to give one rank its own mount namespace (CI runs as root)";
  }
  const auto dir = scratch("not-shared");
  std::filesystem::create_directories(dir / "out");
  std::ofstream(dir / "job.toml") << short_search(dir / "out");
  const std::string exe = shell_quote(HERETIC_EXECUTABLE);
  const std::string job = shell_quote((dir / "job.toml").string());
  const std::string node_local = "mount -t tmpfs tmpfs " + shell_quote((dir / "out").string()) + " && exec " + exe +
                                 " --config " + job;
  const auto result = run_process(mpirun(1) + " --config " + job + " : -n 1 unshare -m --propagation private sh -c " +
                                  shell_quote(node_local));
  EXPECT_EQ(result.exit_code, 2) << result.out << result.err;
  EXPECT_NE(result.err.find("output.dir '" + (dir / "out").string() + "' is not shared with rank 0"), std::string::npos)
      << result.err;
  EXPECT_NE(result.err.find("every node mounts"), std::string::npos) << result.err;
  EXPECT_FALSE(std::filesystem::exists(dir / "out" / "journal.jsonl"));
}

// The batch script's choice of threads (OMP_NUM_THREADS, e.g. from --cpus-per-task) decides
// how many threads torch uses; without it a lone process uses the cores it may run on.
TEST(MainJobMpi, OmpNumThreadsDecidesTorchThreads) {
  const auto dir = scratch("threads");
  std::ofstream(dir / "job.toml") << "print_debug_information = true\n" << short_search(dir / "out");
  const auto result = run_process("OMP_NUM_THREADS=1 " + shell_quote(HERETIC_EXECUTABLE) + " --config " +
                                  shell_quote((dir / "job.toml").string()) + " --set n_trials=1 --set n_startup_trials=1");
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  EXPECT_NE(result.out.find(", 1 intra-op thread(s)"), std::string::npos) << result.out;
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

namespace heretic {
namespace {

using testing::run_process;
using testing::shell_quote;

// Trial numbers of the finished trials in a run's journal, one entry per result record.
std::vector<int> journaled_trials(const std::filesystem::path& out) {
  std::vector<int> numbers;
  for (const auto& record : io::read_journal(out / "journal.jsonl").records) {
    if (record.value("type", "") == "result") numbers.push_back(record["trial"]["trial"].get<int>());
  }
  return numbers;
}

std::string farm_job(const std::filesystem::path& out, int n_trials) {
  return "n_trials = " + std::to_string(n_trials) + "\nn_startup_trials = 4\nseed = 3\nmax_response_length = 16\n" +
         organism_job(out);
}

// A shell command: `ranks` ranks run `job` in the background; once `results` trials are in the
// journal of `out`, `action` runs (in it, $ranks lists the pids of the job's ranks, mpirun
// excluded, and $job_pattern matches their command lines); then it waits for the job, prints
// "elapsed=S" (seconds from the action to the job's end) and exits with the job's code.
std::string act_during_job(int ranks, const std::filesystem::path& job, const std::filesystem::path& out, int results,
                           const std::string& action) {
  return "(job_pattern=" + shell_quote("heretic-mpi --config " + job.string()) + "; " + mpirun(ranks) +
         " --config " + shell_quote(job.string()) + " & pid=$!; for i in $(seq 900); do " +
         "n=$(grep -c '\"type\":\"result\"' " + shell_quote((out / "journal.jsonl").string()) +
         " 2>/dev/null); [ \"${n:-0}\" -ge " + std::to_string(results) + " ] && break; sleep 0.1; done; " +
         "ranks=$(for p in $(pgrep -f \"$job_pattern\"); do grep -qz OMPI_COMM_WORLD_RANK /proc/$p/environ && "
         "echo $p; done); " + action + "; start=$(date +%s); wait $pid; rc=$?; " +
         "echo \"elapsed=$(( $(date +%s) - start ))\"; exit $rc)";
}

// Three worker groups of one rank: every trial is evaluated once and journaled once.
TEST(TrialFarm, ThreeRanksFinishEveryTrialExactlyOnce) {
  const auto dir = scratch("farm");
  std::ofstream(dir / "job.toml") << farm_job(dir / "out", 9);
  const auto result = run_process(mpirun(3) + " --config " + shell_quote((dir / "job.toml").string()));
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  EXPECT_NE(result.out.find("3 worker group(s) of 1 rank(s)"), std::string::npos) << result.out;
  auto numbers = journaled_trials(dir / "out");
  std::sort(numbers.begin(), numbers.end());
  EXPECT_EQ(numbers, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8}));
  // Every group did some of the work.
  const io::Results results = io::read_results(dir / "out" / "results.h5");
  std::set<int64_t> ranks;
  for (const auto& trial : results.trials) ranks.insert(trial.rank);
  EXPECT_EQ(ranks, (std::set<int64_t>{0, 1, 2})) << result.out;
}

// A rank killed with SIGKILL must end the job (non-zero, no hang), and the rerun completes the
// trials that were lost in flight, so the run ends with exactly n_trials, none repeated.
TEST(TrialFarm, KilledRankEndsTheJobAndTheRerunCompletesIt) {
  const auto dir = scratch("kill");
  const auto job = dir / "job.toml";
  std::ofstream(job) << farm_job(dir / "out", 12);
  // Once two trials are journaled, SIGKILL the newest heretic-mpi process of this job (not rank 0's
  // coordinator necessarily; any rank will do). The whole job must be gone within 60 s.
  const std::string command = act_during_job(3, job, dir / "out", 2, "kill -KILL $(pgrep -n -f \"$job_pattern\")");
  const auto killed = run_process(command);
  EXPECT_NE(killed.exit_code, 0) << killed.out << killed.err;
  std::smatch match;
  ASSERT_TRUE(std::regex_search(killed.out, match, std::regex(R"(elapsed=(\d+))"))) << killed.out;
  EXPECT_LT(std::stoi(match[1]), 60);
  const auto before = journaled_trials(dir / "out");
  EXPECT_LT(before.size(), 12u);

  const auto rerun = run_process(mpirun(3) + " --config " + shell_quote(job.string()));
  ASSERT_EQ(rerun.exit_code, 0) << rerun.out << rerun.err;
  auto numbers = journaled_trials(dir / "out");
  EXPECT_EQ(numbers.size(), 12u);
  std::sort(numbers.begin(), numbers.end());
  std::vector<int> expected(12);
  std::iota(expected.begin(), expected.end(), 0);
  EXPECT_EQ(numbers, expected);
}

}  // namespace
}  // namespace heretic

namespace heretic {
namespace {

// The organism end to end over two ranks (two worker groups sharing the search): the seeded
// 40-trial demo job must still find an abliteration, refusals <= 10/100 at KL <= 0.1.
TEST(TrialFarm, TwoRanksAbliterateTheOrganism) {
  const auto dir = scratch("demo2");
  const auto result = run_process("cd " + shell_quote(HERETIC_SOURCE_DIR) + " && " + mpirun(2) +
                                  " --config configs/demo.toml --set " + shell_quote("output.dir=" + (dir / "out").string()) +
                                  " --set output.export=none");
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  const io::Results results = io::read_results(dir / "out" / "results.h5");
  ASSERT_EQ(results.trials.size(), 40u);
  int64_t best = 1000;
  for (const int64_t number : results.pareto) {
    for (const auto& trial : results.trials) {
      if (trial.number == number && trial.kl <= 0.1) best = std::min(best, trial.refusals);
    }
  }
  EXPECT_LE(best, 10) << result.out;
}

}  // namespace
}  // namespace heretic

namespace heretic {
namespace {

// A stop signal that reaches one rank only (not rank 0) still stops the whole job cleanly:
// exit code 3, every finished trial kept. Open MPI tells each process its rank in its
// environment, which is how the test finds rank 1.
TEST(TrialFarm, SigtermToRankOneStopsTheJobWithExitCode3) {
  const auto dir = scratch("sigterm1");
  const auto job = dir / "job.toml";
  std::ofstream(job) << farm_job(dir / "out", 500);
  const std::string command = act_during_job(
      2, job, dir / "out", 3,
      "for p in $ranks; do tr '\\0' '\\n' < /proc/$p/environ | grep -qx OMPI_COMM_WORLD_RANK=1 && kill -TERM $p; done");
  const auto result = run_process(command);
  EXPECT_EQ(result.exit_code, 3) << result.out << result.err;
  EXPECT_NE(result.out.find("rank 1 received SIGTERM"), std::string::npos) << result.out;
  const auto kept = journaled_trials(dir / "out");
  EXPECT_GE(kept.size(), 3u);
  EXPECT_LT(kept.size(), 500u);
  EXPECT_EQ(io::read_results(dir / "out" / "results.h5").trials.size(), kept.size());
}

// Preemption with no grace time on a 2-rank farm: both ranks get SIGTERM (as srun delivers
// it), the two trials in flight are abandoned at once, the job still ends with exit code 3
// (MPI_Abort(3) from rank 0) with results.h5 matching the journal, and the rerun evaluates the
// abandoned trials again and finishes with every trial exactly once.
TEST(TrialFarm, GraceTimeOverAbandonsRunningTrialsAndTheRerunRedoesThem) {
  const auto dir = scratch("grace");
  const auto job = dir / "job.toml";
  std::ofstream(job) << farm_job(dir / "out", 12) << "[mpi]\nstop_grace_seconds = 0\n";
  const std::string command = act_during_job(2, job, dir / "out", 2, "kill -TERM $ranks");  // the ranks, not mpirun
  const auto stopped = run_process(command);
  EXPECT_EQ(stopped.exit_code, 3) << stopped.out << stopped.err;
  EXPECT_NE(stopped.out.find("abandoned, they run again on resume"), std::string::npos) << stopped.out;
  const auto kept = journaled_trials(dir / "out");
  ASSERT_LT(kept.size(), 12u);
  EXPECT_EQ(io::read_results(dir / "out" / "results.h5").trials.size(), kept.size());

  const auto rerun = run_process(mpirun(2) + " --config " + shell_quote(job.string()));
  ASSERT_EQ(rerun.exit_code, 0) << rerun.out << rerun.err;
  EXPECT_NE(rerun.out.find("interrupted one(s) run again"), std::string::npos) << rerun.out;
  auto numbers = journaled_trials(dir / "out");
  std::sort(numbers.begin(), numbers.end());
  EXPECT_EQ(numbers, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}));
}

}  // namespace
}  // namespace heretic
