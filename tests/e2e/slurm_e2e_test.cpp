// heretic-mpi under a real Slurm, the way users run it: srun with and without PMIx, and the
// sbatch templates of slurm/ (a job-array sweep, a preemptible job stopped by its time limit and
// requeued, a stopped job resubmitted by hand). The cluster is tools/slurm/local-cluster.sh's
// single-node one, started by the CTest fixture, which also sets SLURM_CONF for these tests.
//
// Every wait is bounded; a job still running at the end of its wait is cancelled and its output
// printed. Jobs run in the repository root (configs/demo.toml's paths are relative to it) and
// write everything else under /tmp/heretic-e2e-<port>-*.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "io/journal.h"
#include "io/results_file.h"
#include "tests/support/run_process.h"

namespace heretic {
namespace {

namespace fs = std::filesystem;
using testing::read_whole_file;
using testing::run_process;
using testing::shell_quote;

const std::string kSource = HERETIC_SOURCE_DIR;
const std::string kProgram = HERETIC_EXECUTABLE;

// A fresh folder under /tmp (visible to slurmd), named after the test cluster's port so that two
// build folders' tests do not share it.
fs::path scratch(const std::string& name) {
  const char* port = std::getenv("HERETIC_SLURM_PORT");
  const fs::path dir = fs::path("/tmp") / ("heretic-e2e-" + std::string(port ? port : "0") + "-" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// Text of every file in `dir` whose name starts with `prefix`, each under a header line (for
// failure messages: job output, per-rank console files).
std::string files_text(const fs::path& dir, const std::string& prefix) {
  std::vector<fs::path> paths;
  if (fs::exists(dir)) {
    for (const auto& entry : fs::directory_iterator(dir)) {
      if (entry.path().filename().string().rfind(prefix, 0) == 0) paths.push_back(entry.path());
    }
  }
  std::sort(paths.begin(), paths.end());
  std::string text;
  for (const auto& path : paths) text += "---- " + path.string() + "\n" + read_whole_file(path);
  return text;
}

// One `scontrol show job -o` line per job (an array job gives one per task), as key -> value.
using JobFields = std::map<std::string, std::string>;
std::vector<JobFields> show_job(const std::string& id) {
  const auto result = run_process("scontrol show job -o " + shell_quote(id));
  std::vector<JobFields> jobs;
  std::istringstream lines(result.out);
  const std::regex field(R"((\w+)=(\S*))");
  for (std::string line; std::getline(lines, line);) {
    if (line.find("JobId=") == std::string::npos) continue;
    JobFields fields;
    for (auto it = std::sregex_iterator(line.begin(), line.end(), field); it != std::sregex_iterator(); ++it) {
      fields.emplace((*it)[1].str(), (*it)[2].str());
    }
    jobs.push_back(fields);
  }
  return jobs;
}

bool is_final(const std::string& state) {
  static const std::set<std::string> kFinal = {"COMPLETED", "FAILED",        "CANCELLED", "TIMEOUT",  "NODE_FAIL",
                                               "PREEMPTED", "OUT_OF_MEMORY", "BOOT_FAIL", "DEADLINE"};
  return kFinal.count(state) > 0;
}

// Waits until every job (array task) of `id` has ended, at most `seconds`; then cancels the job
// and returns nothing, so that a stuck job neither hangs the suite nor outlives the test.
std::vector<JobFields> wait_for_job(const std::string& id, int seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    const auto jobs = show_job(id);
    if (!jobs.empty() && std::all_of(jobs.begin(), jobs.end(), [](const JobFields& job) {
          return is_final(job.count("JobState") ? job.at("JobState") : "");
        })) {
      return jobs;
    }
    std::this_thread::sleep_for(std::chrono::seconds(2));
  }
  run_process("scancel --full " + shell_quote(id));
  return {};
}

// Polls a condition every second for at most `seconds`.
template <typename Condition>
bool wait_until(Condition condition, int seconds) {
  for (int i = 0; i < seconds; ++i) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  return condition();
}

// Submits a job from the repository root; the templates read HERETIC_MPI (the program under
// test) and HERETIC_RANK_OUTPUT (where srun puts the per-rank console files) from the
// environment that sbatch passes on. Returns the job id.
std::string submit(const fs::path& dir, const std::string& environment, const std::string& arguments) {
  const std::string command = "cd " + shell_quote(kSource) + " && env HERETIC_MPI=" + shell_quote(kProgram) +
                              " HERETIC_RANK_OUTPUT=" + shell_quote((dir / "rank-%j-%t.out").string()) + " " +
                              environment + " sbatch --parsable --output=" + shell_quote((dir / "job-%j.out").string()) +
                              " " + arguments;
  const auto result = run_process(command);
  EXPECT_EQ(result.exit_code, 0) << command << "\n" << result.out << result.err;
  std::string id = result.out.substr(0, result.out.find_first_of(";\n"));
  return id;
}

// Trial numbers of the finished trials in a run's journal, one entry per result record.
std::vector<int> journaled_trials(const fs::path& out) {
  std::vector<int> numbers;
  for (const auto& record : io::read_journal(out / "journal.jsonl").records) {
    if (record.value("type", "") == "result") numbers.push_back(record["trial"]["trial"].get<int>());
  }
  return numbers;
}

std::vector<int> zero_to(int n) {
  std::vector<int> numbers(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) numbers[static_cast<size_t>(i)] = i;
  return numbers;
}

std::vector<int> sorted(std::vector<int> numbers) {
  std::sort(numbers.begin(), numbers.end());
  return numbers;
}

// a. The README's launch line on the demo job: two ranks through PMIx find an abliteration of
// the organism (best Pareto trial: at most 10 of 100 refusals at KL <= 0.1).
TEST(SlurmE2E, SrunWithPmixRunsTheDemoJob) {
  const fs::path dir = scratch("srun-pmix");
  const auto result = run_process("cd " + shell_quote(kSource) + " && timeout 500 srun -n 2 --mpi=pmix --time=8 " +
                                  shell_quote(kProgram) + " --config configs/demo.toml --set " +
                                  shell_quote("output.dir=" + (dir / "out").string()));
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  EXPECT_NE(result.out.find("world: 2 rank(s)"), std::string::npos) << result.out;
  const io::Results results = io::read_results(dir / "out" / "results.h5");
  EXPECT_EQ(results.run.world_size, 2);
  ASSERT_EQ(results.trials.size(), 40u);
  ASSERT_FALSE(results.pareto.empty());
  int64_t best = 1000;
  for (const int64_t number : results.pareto) {
    for (const auto& trial : results.trials) {
      if (trial.number == number && trial.kl <= 0.1) best = std::min(best, trial.refusals);
    }
  }
  EXPECT_LE(best, 10) << result.out;
  // Both ranks logged, and the Pareto front was exported.
  EXPECT_TRUE(fs::exists(dir / "out" / "logs" / "rank-00000.log"));
  EXPECT_TRUE(fs::exists(dir / "out" / "logs" / "rank-00001.log"));
  EXPECT_TRUE(fs::exists(dir / "out" / "models")) << result.out;
}

// d. srun without a PMI plugin (--mpi=none, or a cluster whose MpiDefault is none): Open MPI
// cannot start that way, so heretic-mpi recognises it before MPI_Init and explains it once
// (Slurm task 0), with exit code 2 and nothing written. (MPIs that start singletons instead
// reach the check after MPI_Init, tests/mpi/launch_test.cpp.)
TEST(SlurmE2E, SrunWithoutPmixIsExplainedWithExitCode2) {
  const fs::path dir = scratch("srun-nopmix");
  const auto result = run_process("cd " + shell_quote(kSource) + " && timeout 300 srun -n 2 --mpi=none --time=4 " +
                                  shell_quote(kProgram) + " --config configs/demo.toml --set " +
                                  shell_quote("output.dir=" + (dir / "out").string()));
  const std::string all = result.out + result.err;
  EXPECT_EQ(result.exit_code, 2) << all;
  EXPECT_NE(all.find("srun started 2 tasks without a PMI plugin"), std::string::npos) << all;
  EXPECT_NE(all.find("srun --mpi=pmix"), std::string::npos) << all;
  const size_t first = all.find("heretic-mpi: error:");
  EXPECT_EQ(all.find("heretic-mpi: error:", first + 1), std::string::npos) << "printed more than once:\n" << all;
  EXPECT_FALSE(fs::exists(dir / "out" / "results.h5"));
}

// c. slurm/sweep-array.sbatch: one run per array index, each complete in its own folder.
TEST(SlurmE2E, ArraySweepWritesOneCompleteRunPerIndex) {
  const fs::path dir = scratch("sweep");
  const int n_trials = 6;
  const std::string common = " --set n_trials=6 --set n_startup_trials=6 --set output.export=none\n";
  std::ofstream(dir / "sweep.txt") << "# two seeds of the demo job\n\n"
                                   << "configs/demo.toml --set seed=11" << common
                                   << "configs/demo.toml --set seed=12" << common;
  const std::string id = submit(dir, "HERETIC_SWEEP_DIR=" + shell_quote((dir / "runs").string()),
                                "--array=0-1 --time=10 slurm/sweep-array.sbatch " +
                                    shell_quote((dir / "sweep.txt").string()));
  ASSERT_FALSE(id.empty());
  const auto jobs = wait_for_job(id, 400);
  ASSERT_EQ(jobs.size(), 2u) << "the array job did not end within 400 s\n" << files_text(dir, "job-");
  for (const auto& job : jobs) {
    EXPECT_EQ(job.at("JobState"), "COMPLETED") << files_text(dir, "job-") << files_text(dir, "rank-");
    EXPECT_EQ(job.at("ExitCode"), "0:0");
  }
  std::set<int64_t> seeds;
  for (const char* index : {"0", "1"}) {
    const fs::path out = dir / "runs" / index;
    ASSERT_TRUE(fs::exists(out / "results.h5")) << out << "\n" << files_text(dir, "job-") << files_text(dir, "rank-");
    const io::Results results = io::read_results(out / "results.h5");
    EXPECT_EQ(results.trials.size(), static_cast<size_t>(n_trials)) << out;
    EXPECT_EQ(sorted(journaled_trials(out)), zero_to(n_trials)) << out;
    EXPECT_TRUE(fs::exists(out / "logs" / "rank-00000.log")) << out;
    seeds.insert(results.run.seed);
  }
  EXPECT_EQ(seeds, (std::set<int64_t>{11, 12})) << "each index must run its own line of sweep.txt";
}

// Numbers K and N of the "stopped by SIG... after K of N trials" lines in a rank-0 log.
std::vector<std::pair<int, int>> stops_in_log(const fs::path& log) {
  const std::string text = read_whole_file(log);
  std::vector<std::pair<int, int>> stops;
  const std::regex stop(R"(stopped by SIG\w+ after (\d+) of (\d+) trials)");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), stop); it != std::sregex_iterator(); ++it) {
    stops.emplace_back(std::stoi((*it)[1].str()), std::stoi((*it)[2].str()));
  }
  return stops;
}

// The demo job on `n_trials` trials, without the export. `slow` makes each trial take a few
// seconds (500 prompts per scorer, responses up to 64 tokens) so that a job is still in its
// trials when Slurm's time-limit warning comes.
std::string demo_job(const fs::path& out, int n_trials, bool slow) {
  const std::string prompts = "tests/fixtures/organism/prompts/";
  std::string arguments = "configs/demo.toml --set " + shell_quote("output.dir=" + out.string()) +
                          " --set n_trials=" + std::to_string(n_trials) + " --set output.export=none";
  if (slow) {
    arguments += " --set max_response_length=64 --set scorer.KeywordRate.prompts.dataset=" + prompts +
                 "harmful_train.txt --set " + shell_quote("scorer.KeywordRate.prompts.split=[:500]") +
                 " --set scorer.KLDivergence.prompts.dataset=" + prompts + "harmless_train.txt --set " +
                 shell_quote("scorer.KLDivergence.prompts.split=[:500]");
  }
  return arguments;
}

// Seconds per trial of the slow demo job on 2 ranks on this machine (wall time of a short run's
// trial phase over its trials), or 0 when the run failed.
double seconds_per_trial(const fs::path& dir) {
  const auto result = run_process("cd " + shell_quote(kSource) + " && timeout 300 srun -n 2 --mpi=pmix --time=4 " +
                                  shell_quote(kProgram) + " --config " + demo_job(dir, 15, true));
  std::smatch match;
  if (result.exit_code != 0 ||
      !std::regex_search(result.out, match, std::regex(R"(ran (\d+) trial\(s\) in (?:(\d+)m)?([0-9.]+)s)"))) {
    ADD_FAILURE() << "calibration run failed\n" << result.out << result.err;
    return 0.0;
  }
  const double seconds = (match[2].matched ? 60.0 * std::stod(match[2].str()) : 0.0) + std::stod(match[3].str());
  return seconds / std::stod(match[1].str());
}

// b. slurm/preemptible.sbatch with a real time limit: Slurm sends SIGUSR1 (--signal=B:USR1@...)
// to the batch shell before the limit, the template forwards it to the srun step, heretic-mpi
// saves its progress and exits 3, and the template requeues the job, whose next attempt resumes
// from the journal and finishes: exactly n_trials trials, none lost, none run twice.
TEST(SlurmE2E, TimeLimitSignalStopsTheJobAndItsRequeueFinishesIt) {
  const fs::path dir = scratch("timelimit");
  // A 2-minute limit with the warning 60 s before it: slurmctld checks time limits every 30 s
  // and sends the warning at the first check within warn + 30 s of the end, i.e. 30 to 60 s after
  // the start (sbatch(1) allows up to 60 s early). The run starts its trials after ~10 s; with
  // ~90 s of trials every attempt stops with trials done and trials left, and two or three
  // attempts, ~25 s apart (the requeue delay), finish the run. The number of trials that takes
  // ~90 s on this machine is measured first, so that a faster machine does not finish before the
  // signal and a slower one does not need many attempts.
  const double per_trial = seconds_per_trial(dir / "calibration");
  ASSERT_GT(per_trial, 0.0);
  const int n_trials = std::clamp(static_cast<int>(90.0 / per_trial), 40, 400);
  std::cout << "calibration: " << per_trial << " s per trial on 2 ranks; " << n_trials << " trials\n";
  const std::string id =
      submit(dir, "", "--time=2 --signal=B:USR1@60 slurm/preemptible.sbatch " + demo_job(dir / "out", n_trials, true));
  ASSERT_FALSE(id.empty());
  const auto jobs = wait_for_job(id, 540);
  const std::string output = files_text(dir, "job-");
  ASSERT_EQ(jobs.size(), 1u) << "the job did not end within 540 s\n" << output << files_text(dir, "rank-");
  const JobFields& job = jobs.front();
  EXPECT_EQ(job.at("JobState"), "COMPLETED") << output;
  EXPECT_EQ(job.at("ExitCode"), "0:0") << output;
  EXPECT_GE(std::stoi(job.at("Restarts")), 1) << "the job was never requeued\n" << output;
  // The batch script saw the signal, heretic-mpi stopped with exit code 3, the script requeued.
  EXPECT_NE(output.find("SIGUSR1 received"), std::string::npos) << output;
  EXPECT_NE(output.find("heretic-mpi exited with status 3"), std::string::npos) << output;
  EXPECT_NE(output.find("requeueing job " + id), std::string::npos) << output;
  EXPECT_NE(output.find("attempt 2"), std::string::npos) << output;
  EXPECT_NE(output.find("heretic-mpi exited with status 0"), std::string::npos) << output;
  // Each stop kept some trials and left others to do; the journal ends with every trial once.
  const auto stops = stops_in_log(dir / "out" / "logs" / "rank-00000.log");
  ASSERT_FALSE(stops.empty()) << read_whole_file(dir / "out" / "logs" / "rank-00000.log");
  EXPECT_GT(stops.front().first, 0) << "stopped before any trial finished";
  EXPECT_LT(stops.front().first, n_trials) << "every trial finished before the signal came: make the job slower";
  EXPECT_EQ(stops.front().second, n_trials);
  const auto numbers = journaled_trials(dir / "out");
  EXPECT_EQ(numbers.size(), static_cast<size_t>(n_trials)) << "lost or repeated trials";
  EXPECT_EQ(sorted(numbers), zero_to(n_trials));
  EXPECT_EQ(io::read_results(dir / "out" / "results.h5").trials.size(), static_cast<size_t>(n_trials));
}

// b'. The same template without requeueing (HERETIC_MAX_REQUEUES=0), stopped the way a user or
// a preemption would stop it (SIGUSR1 to the batch shell, scancel --signal=USR1 --batch): it
// ends with exit code 3 and its progress saved, and submitting the same command again finishes
// the remaining trials.
TEST(SlurmE2E, ResubmittingAStoppedJobFinishesItsRemainingTrials) {
  const fs::path dir = scratch("resubmit");
  const int n_trials = 40;
  const std::string arguments = "--time=10 slurm/preemptible.sbatch " + demo_job(dir / "out", n_trials, false);
  const std::string first = submit(dir, "HERETIC_MAX_REQUEUES=0", arguments);
  ASSERT_FALSE(first.empty());
  // Signal once a few trials are journaled.
  const bool started = wait_until([&] { return journaled_trials(dir / "out").size() >= 3; }, 300);
  if (!started) run_process("scancel --full " + shell_quote(first));
  ASSERT_TRUE(started) << files_text(dir, "job-") << files_text(dir, "rank-");
  const auto signal = run_process("scancel --signal=USR1 --batch " + shell_quote(first));
  ASSERT_EQ(signal.exit_code, 0) << signal.out << signal.err;
  const auto stopped = wait_for_job(first, 300);
  const std::string output = files_text(dir, "job-");
  ASSERT_EQ(stopped.size(), 1u) << "the job did not end within 300 s of the signal\n" << output;
  EXPECT_EQ(stopped.front().at("ExitCode"), "3:0") << output;
  EXPECT_EQ(stopped.front().at("Restarts"), "0") << output;
  EXPECT_NE(output.find("not requeued"), std::string::npos) << output;
  const auto kept = journaled_trials(dir / "out");
  EXPECT_GE(kept.size(), 3u);
  ASSERT_LT(kept.size(), static_cast<size_t>(n_trials)) << "the job finished before the signal; nothing to resume";
  EXPECT_EQ(io::read_results(dir / "out" / "results.h5").trials.size(), kept.size())
      << "results.h5 must hold the trials that the journal holds";

  const std::string second = submit(dir, "HERETIC_MAX_REQUEUES=0", arguments);
  ASSERT_FALSE(second.empty());
  const auto finished = wait_for_job(second, 300);
  const std::string second_output = read_whole_file(dir / ("job-" + second + ".out"));
  ASSERT_EQ(finished.size(), 1u) << "the resubmitted job did not end within 300 s\n" << second_output;
  EXPECT_EQ(finished.front().at("JobState"), "COMPLETED") << second_output << files_text(dir, "rank-" + second);
  const std::string log = read_whole_file(dir / "out" / "logs" / "rank-00000.log");
  EXPECT_NE(log.find("resuming from "), std::string::npos) << log;
  const auto numbers = journaled_trials(dir / "out");
  EXPECT_EQ(numbers.size(), static_cast<size_t>(n_trials)) << "lost or repeated trials";
  EXPECT_EQ(sorted(numbers), zero_to(n_trials));
  EXPECT_EQ(io::read_results(dir / "out" / "results.h5").trials.size(), static_cast<size_t>(n_trials));
}

}  // namespace
}  // namespace heretic
