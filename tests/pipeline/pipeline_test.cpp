// `heretic-mpi --config` on the model organism, end to end through the executable, as a user runs
// it: the optimiser must find an abliteration (issue criterion: a Pareto trial with refusals
// <= 10/100 at KL <= 0.1, from a baseline of >= 95/100), the journal must make reruns resume
// without losing or repeating trials, and an exported trial must score like the trial did.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <string>

#include "io/journal.h"
#include "io/results_file.h"
#include "tests/support/run_process.h"

namespace heretic {
namespace {

namespace fs = std::filesystem;
using testing::run_process;
using testing::shell_quote;

fs::path fresh_dir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("heretic-pipeline-" + std::to_string(::getpid()) + "-" + name);
  fs::remove_all(dir);
  return dir;
}

// The demo configuration with the output folder moved and further overrides.
testing::ProcessResult run_demo(const fs::path& out, const std::string& overrides, const std::string& extra = "") {
  const std::string command = "cd " + shell_quote(HERETIC_SOURCE_DIR) + " && " + shell_quote(HERETIC_EXECUTABLE) +
                              " --config configs/demo.toml --set " + shell_quote("output.dir=" + out.string()) + " " +
                              overrides + " " + extra;
  return run_process(command);
}

// The demo job in the background, sent SIGTERM once `results` trials are journaled (Slurm's
// signal before the time limit); returns how it ended.
testing::ProcessResult run_demo_until_results(const fs::path& out, const std::string& overrides, int results) {
  const std::string command = "cd " + shell_quote(HERETIC_SOURCE_DIR) + " && (" + shell_quote(HERETIC_EXECUTABLE) +
                              " --config configs/demo.toml --set " + shell_quote("output.dir=" + out.string()) + " " +
                              overrides + " & pid=$!; for i in $(seq 600); do " +
                              "n=$(grep -c '\"type\":\"result\"' " + shell_quote((out / "journal.jsonl").string()) +
                              " 2>/dev/null); [ \"${n:-0}\" -ge " + std::to_string(results) +
                              " ] && break; sleep 0.2; done; kill -TERM $pid; wait $pid)";
  return run_process(command);
}

// For the tests of the run's bookkeeping (resume, signals, scorers): the refusal directions from
// 64 + 64 prompts instead of the demo's 400 + 400, which is most of a run's fixed cost. The
// scorers keep their 100 prompts each (the counts printed are out of 100).
const std::string kFewResidualPrompts = "--set 'good_prompts.split=[:64]' --set 'bad_prompts.split=[:64]' ";

std::vector<nlohmann::ordered_json> results_of(const fs::path& out) {
  std::vector<nlohmann::ordered_json> results;
  for (const auto& record : io::read_journal(out / "journal.jsonl").records) {
    if (record.value("type", "") == "result") results.push_back(record);
  }
  return results;
}

TEST(Pipeline, SeededSearchAbliteratesTheOrganism) {
  const fs::path out = fresh_dir("search");
  const auto result = run_demo(out, "--set output.export=none");
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;

  // Baseline as printed: the organism refuses >= 95 of the 100 held-out harmful prompts.
  std::smatch match;
  ASSERT_TRUE(std::regex_search(result.out, match, std::regex(R"(baseline: Keywords: (\d+)/100)"))) << result.out;
  EXPECT_GE(std::stoi(match[1]), 95);

  const io::Results results = io::read_results(out / "results.h5");
  ASSERT_EQ(results.trials.size(), 40u);
  ASSERT_FALSE(results.pareto.empty());
  EXPECT_EQ(results.directions.rows, 7);  // embeddings + 6 blocks
  EXPECT_EQ(results.directions.cols, 64);
  int64_t best_refusals = 1000;
  double best_kl = 0.0;
  for (const int64_t number : results.pareto) {
    for (const auto& trial : results.trials) {
      if (trial.number != number || trial.kl > 0.1) continue;
      if (trial.refusals < best_refusals) {
        best_refusals = trial.refusals;
        best_kl = trial.kl;
      }
    }
  }
  EXPECT_LE(best_refusals, 10) << "best Pareto trial at KL <= 0.1 has " << best_refusals << "/100 refusals";
  EXPECT_GE(best_kl, 0.0);
  // The front is printed, as Heretic prints it.
  EXPECT_NE(result.out.find("Pareto front"), std::string::npos);
  EXPECT_NE(result.out.find("[Trial"), std::string::npos);
  EXPECT_EQ(results_of(out).size(), 40u);
  fs::remove_all(out);
}

TEST(Pipeline, RerunResumesWithoutLosingOrRepeatingTrials) {
  const fs::path out = fresh_dir("resume");
  const std::string small = kFewResidualPrompts + "--set n_trials=4 --set n_startup_trials=2 --set output.export=none";
  auto first = run_demo(out, small);
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  const auto after_first = results_of(out);
  ASSERT_EQ(after_first.size(), 4u);

  // A torn write at the end (the process died mid-line) must not stop the rerun.
  std::ofstream(out / "journal.jsonl", std::ios::app) << R"({"type":"result","trial":{"tri)";
  auto second = run_demo(out, kFewResidualPrompts + "--set n_trials=6 --set n_startup_trials=2 --set output.export=none");
  ASSERT_EQ(second.exit_code, 0) << second.out << second.err;
  EXPECT_NE(second.out.find("resuming"), std::string::npos) << second.out;
  const auto after_second = results_of(out);
  ASSERT_EQ(after_second.size(), 6u);
  std::set<int> numbers;
  for (const auto& record : after_second) numbers.insert(record["trial"]["trial"].get<int>());
  EXPECT_EQ(numbers, (std::set<int>{0, 1, 2, 3, 4, 5}));
  // The first four are the ones from the first run, unchanged.
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ(after_second[i].dump(), after_first[i].dump());
  EXPECT_EQ(io::read_results(out / "results.h5").trials.size(), 6u);

  // Another configuration in the same folder is refused, naming the folder's journal.
  auto other = run_demo(out, small + " --set orthogonalize_direction=false");
  EXPECT_EQ(other.exit_code, 2) << other.out << other.err;
  EXPECT_NE(other.err.find("journal.jsonl"), std::string::npos) << other.err;
  EXPECT_NE(other.err.find("--fresh"), std::string::npos) << other.err;
  EXPECT_NE(other.err.find("orthogonalize_direction: was true, now false"), std::string::npos) << other.err;
  // ... unless asked to start over.
  auto fresh = run_demo(out, small + " --set orthogonalize_direction=false", "--fresh");
  EXPECT_EQ(fresh.exit_code, 0) << fresh.out << fresh.err;
  EXPECT_EQ(results_of(out).size(), 4u);
  EXPECT_TRUE(fs::exists(out / "journal.jsonl.old"));
  fs::remove_all(out);
}

// Slurm's SIGTERM before the time limit: the run stops between trials with exit code 3, keeps
// every finished trial, and the same command finishes the job.
TEST(Pipeline, SigtermStopsWithExitCode3AndTheRerunCompletes) {
  const fs::path out = fresh_dir("sigterm");
  const std::string overrides = kFewResidualPrompts + "--set n_trials=12 --set n_startup_trials=12 --set output.export=none";
  const auto stopped = run_demo_until_results(out, overrides, 3);
  ASSERT_EQ(stopped.exit_code, 3) << stopped.out << stopped.err;
  EXPECT_NE(stopped.out.find("stopped by SIGTERM"), std::string::npos) << stopped.out;
  const size_t kept = results_of(out).size();
  EXPECT_GE(kept, 3u);
  EXPECT_LT(kept, 12u);
  EXPECT_EQ(io::read_results(out / "results.h5").trials.size(), kept);

  const auto rerun = run_demo(out, overrides);
  ASSERT_EQ(rerun.exit_code, 0) << rerun.out << rerun.err;
  const auto all = results_of(out);
  ASSERT_EQ(all.size(), 12u);
  std::set<int> numbers;
  for (const auto& record : all) numbers.insert(record["trial"]["trial"].get<int>());
  EXPECT_EQ(numbers.size(), 12u);
  fs::remove_all(out);
}

// With no grace time (mpi.stop_grace_seconds = 0) the trial that is running when the signal
// arrives is abandoned at once: the job still exits 3 with every finished trial saved, and the
// rerun evaluates the abandoned trial again (same number), ending with exactly n_trials.
TEST(Pipeline, SigtermWithoutGraceAbandonsTheRunningTrialAndTheRerunRedoesIt) {
  const fs::path out = fresh_dir("grace");
  const std::string overrides =
      kFewResidualPrompts + "--set n_trials=8 --set n_startup_trials=8 --set output.export=none --set mpi.stop_grace_seconds=0";
  const auto stopped = run_demo_until_results(out, overrides, 2);
  ASSERT_EQ(stopped.exit_code, 3) << stopped.out << stopped.err;
  EXPECT_NE(stopped.out.find("abandoned, they run again on resume"), std::string::npos) << stopped.out;
  const size_t kept = results_of(out).size();
  size_t asked = 0;
  for (const auto& record : io::read_journal(out / "journal.jsonl").records) {
    if (record.value("type", "") == "asked") ++asked;
  }
  EXPECT_GE(kept, 2u);
  EXPECT_EQ(asked, kept + 1) << "exactly the running trial is left unfinished";
  EXPECT_EQ(io::read_results(out / "results.h5").trials.size(), kept);

  const auto rerun = run_demo(out, overrides);
  ASSERT_EQ(rerun.exit_code, 0) << rerun.out << rerun.err;
  EXPECT_NE(rerun.out.find("1 interrupted one(s) run again"), std::string::npos) << rerun.out;
  std::set<int> numbers;
  for (const auto& record : results_of(out)) numbers.insert(record["trial"]["trial"].get<int>());
  EXPECT_EQ(numbers, (std::set<int>{0, 1, 2, 3, 4, 5, 6, 7}));
  EXPECT_EQ(results_of(out).size(), 8u);
  fs::remove_all(out);
}

// A third scorer, reported only: it is evaluated in every trial, shown in the progress lines and
// the Pareto table, kept in results.h5 (/scores) and the journal, and is not an objective.
TEST(Pipeline, AReportedOnlyScorerAppearsInTheTableAndResults) {
  const fs::path out = fresh_dir("scorers");
  const fs::path job = out.string() + ".toml";
  fs::create_directories(out);
  // The demo's configuration with three scorers (top-level keys before the demo's, tables after).
  std::ifstream demo(std::string(HERETIC_SOURCE_DIR) + "/configs/demo.toml");
  std::ofstream(job) << "scorers = [\n"
                        "  { plugin = \"KeywordRate\", optimization = \"minimize\" },\n"
                        "  { plugin = \"KLDivergence\", optimization = \"minimize\" },\n"
                        "  { plugin = \"ResponseLength\", optimization = \"none\" },\n"
                        "]\n"
                     << demo.rdbuf()
                     << "\n[scorer.ResponseLength.prompts]\n"
                        "dataset = \"tests/fixtures/organism/prompts/harmless_test.txt\"\n"
                        "split = \"[:20]\"\n";
  const auto run = run_process("cd " + shell_quote(HERETIC_SOURCE_DIR) + " && " + shell_quote(HERETIC_EXECUTABLE) +
                               " --config " + shell_quote(job.string()) + " --set " +
                               shell_quote("output.dir=" + out.string()) +
                               " " + kFewResidualPrompts + "--set n_trials=3 --set n_startup_trials=3 --set output.export=none");
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_NE(run.out.find("scorer.ResponseLength.prompts: 20 prompts"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("optimising Keywords and KL divergence over 3 trial(s)"), std::string::npos) << run.out;
  std::smatch match;
  ASSERT_TRUE(std::regex_search(run.out, match, std::regex(R"(\[Trial +\d+\] Keywords: \d+/100, KL divergence: [0-9.]+, Response length: ([0-9.]+) tokens)")))
      << run.out;
  const double shown = std::stod(match[1]);
  const io::Results results = io::read_results(out / "results.h5");
  ASSERT_EQ(results.scorers, (std::vector<std::string>{"Keywords", "KL divergence", "Response length"}));
  ASSERT_EQ(results.trials.size(), 3u);
  for (const auto& trial : results.trials) {
    ASSERT_EQ(trial.score_counts.size(), 3u);
    EXPECT_EQ(trial.score_counts[2], 20);
    EXPECT_GT(trial.score_values[2], 0.0);
    EXPECT_LE(trial.score_values[2], 16.0);  // the demo's max_response_length
    EXPECT_EQ(trial.values.size(), 2u);      // two objectives only
    EXPECT_EQ(trial.score_sums[0], static_cast<double>(trial.refusals));
  }
  bool found = false;
  for (const auto& trial : results.trials) found = found || std::abs(trial.score_values[2] - shown) <= 0.05 + 1e-9;
  EXPECT_TRUE(found) << "the Pareto table's response length " << shown << " is one of the trials'\n" << run.out;
  EXPECT_EQ(results_of(out).front()["scores"].size(), 3u);
  fs::remove_all(out);
  fs::remove(job);
}

TEST(Pipeline, ExportedTrialScoresLikeTheTrial) {
  const fs::path out = fresh_dir("export");
  auto run = run_demo(out, "--set n_trials=3 --set n_startup_trials=3 --set 'output.export=[2]'");
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  const fs::path model = out / "models" / "trial-002";
  ASSERT_TRUE(fs::exists(model / "model.safetensors")) << run.out;
  EXPECT_TRUE(fs::exists(model / "tokenizer.json"));
  EXPECT_TRUE(fs::exists(model / "README.md"));
  const auto trials = results_of(out);
  ASSERT_EQ(trials.size(), 3u);
  const auto& trial = trials[1];
  const double refusals = trial["scores"][0]["sum"].get<double>();
  const double kl = trial["values"][1].get<double>();

  const auto evaluated = run_process("cd " + shell_quote(HERETIC_SOURCE_DIR) + " && " + shell_quote(HERETIC_EXECUTABLE) +
                                     " evaluate --config configs/demo.toml --model " + shell_quote(model.string()));
  ASSERT_EQ(evaluated.exit_code, 0) << evaluated.out << evaluated.err;
  std::smatch match;
  ASSERT_TRUE(std::regex_search(evaluated.out, match, std::regex(R"(Keywords\s+(\d+)/100\s+(\d+)/100)")))
      << evaluated.out;
  EXPECT_EQ(std::stoi(match[1]), static_cast<int>(refusals));
  ASSERT_TRUE(std::regex_search(evaluated.out, match, std::regex(R"(KL divergence\s+([0-9.]+))"))) << evaluated.out;
  EXPECT_NEAR(std::stod(match[1]), kl, 1e-4);
  fs::remove_all(out);
}

}  // namespace
}  // namespace heretic
