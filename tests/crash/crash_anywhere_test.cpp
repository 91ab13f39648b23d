// Crash-anywhere test of a run, black box through the executable: a seeded loop interrupts a
// 2-rank run (mpirun -n 2) at random moments — SIGKILL to a random rank, SIGTERM to the job, or
// SIGTERM followed by a SIGKILL during the grace time — and inside the narrow windows where a
// file is written, through the fault points of src/common/fault_injection.h (a rank kills itself
// after half a journal line, with results.h5 written but not renamed, after half of a
// safetensors write, or with an export complete but not yet renamed into place; or it pauses
// there while the test signals the job). Then it reruns the job until it finishes. After every
// round:
//   - the journal reads back whole, and holds trials 0..N-1 exactly once each, with the
//     parameters an uninterrupted run gives them (every trial is a seeded startup trial);
//   - results.h5 reads back and holds the same N trials, and the same Pareto front;
//   - models/ holds exactly the front's exports, and `heretic-mpi inspect` loads each one;
//   - no temporary file or folder is left anywhere in the output folder.
//
//   ctest -R CrashAnywhere                                           # 3 rounds, as CI runs it
//   HERETIC_CRASH_ROUNDS=50 HERETIC_CRASH_SEED=7 build/tests/crash/test_crash_anywhere
//
// Every round prints what it did, so that a failure can be replayed with its seed.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "io/journal.h"
#include "io/results_file.h"
#include "tests/support/run_process.h"

namespace heretic {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using testing::read_whole_file;
using testing::run_process;
using testing::shell_quote;

constexpr int kTrials = 8;

int env_int(const char* name, int fallback) {
  const char* text = std::getenv(name);
  return text != nullptr && *text != '\0' ? std::atoi(text) : fallback;
}

// The job: the organism with small prompt sets, every trial a seeded random startup trial (so
// that a trial's parameters depend on its number only), the Pareto front exported.
void write_job(const fs::path& file) {
  const std::string fixture = std::string(HERETIC_SOURCE_DIR) + "/tests/fixtures/organism";
  std::ofstream(file) << "model = \"" << fixture << "/model\"\n"
                      << "dtypes = [\"float32\"]\nmax_response_length = 8\nseed = 11\n"
                      << "n_trials = " << kTrials << "\nn_startup_trials = " << kTrials << "\n"
                      << "[good_prompts]\ndataset = \"" << fixture << "/prompts/harmless_train.txt\"\nsplit = \"[:64]\"\n"
                      << "[bad_prompts]\ndataset = \"" << fixture << "/prompts/harmful_train.txt\"\nsplit = \"[:64]\"\n"
                      << "[scorer.KeywordRate.prompts]\ndataset = \"" << fixture
                      << "/prompts/harmful_test.txt\"\nsplit = \"[:24]\"\n"
                      << "[scorer.KLDivergence.prompts]\ndataset = \"" << fixture
                      << "/prompts/harmless_test.txt\"\nsplit = \"[:24]\"\n"
                      << "[mpi]\nstop_grace_seconds = 5\n"
                      << "[output]\nexport = \"pareto\"\n";
}

std::string job_command(const fs::path& job, const fs::path& out) {
  return shell_quote(HERETIC_MPIEXEC) + " -n 2 --oversubscribe " + shell_quote(HERETIC_EXECUTABLE) + " --config " +
         shell_quote(job.string()) + " --set " + shell_quote("output.dir=" + out.string());
}

// One launch of the job in its own process group, output to files in `log_folder`.
class Job {
 public:
  // `log_folder` holds job.toml (write_job) and receives the output.
  Job(const fs::path& out, const fs::path& log_folder, const std::string& fault, const std::string& tag)
      : log_(log_folder / ("job-" + tag)) {
    const std::string command = "exec " + job_command(log_folder / "job.toml", out) + " >" + shell_quote(log_.string() + ".out") + " 2>" +
                                shell_quote(log_.string() + ".err") + " </dev/null";
    pid_ = ::fork();
    if (pid_ == 0) {
      ::setpgid(0, 0);
      ::setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 1);
      ::setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 1);
      ::setenv("HERETIC_CRASH_JOB", tag.c_str(), 1);  // marks this job's ranks (see ranks())
      if (fault.empty()) {
        ::unsetenv("HERETIC_FAULT_AT");
      } else {
        ::setenv("HERETIC_FAULT_AT", fault.c_str(), 1);
      }
      ::execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    tag_ = tag;
  }
  Job(const Job&) = delete;
  Job& operator=(const Job&) = delete;
  ~Job() {
    if (pid_ > 0 && !exit_code_) {
      ::kill(-pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }

  // The pids of the job's ranks by rank (from their environment, which Open MPI gives the rank).
  std::map<int, pid_t> ranks() const {
    std::map<int, pid_t> found;
    for (const auto& entry : fs::directory_iterator("/proc")) {
      const std::string name = entry.path().filename().string();
      if (name.find_first_not_of("0123456789") != std::string::npos) continue;
      const std::string environ = read_whole_file(entry.path() / "environ");
      if (environ.find(std::string("HERETIC_CRASH_JOB=") + tag_ + '\0') == std::string::npos) continue;
      const auto at = environ.find("OMPI_COMM_WORLD_RANK=");
      if (at == std::string::npos) continue;
      found[std::atoi(environ.c_str() + at + 21)] = static_cast<pid_t>(std::stoi(name));
    }
    return found;
  }

  // The exit code once the job ended, nullopt while it runs.
  std::optional<int> poll() {
    if (exit_code_) return exit_code_;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return exit_code_;
  }
  // Waits up to `seconds`; a job still running then is killed and reported as -1.
  int wait(int seconds) {
    const auto deadline = Clock::now() + std::chrono::seconds(seconds);
    while (!poll() && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (!poll()) {
      ::kill(-pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
      exit_code_ = -1;
    }
    return *exit_code_;
  }
  std::string output() const { return read_whole_file(log_.string() + ".out") + read_whole_file(log_.string() + ".err"); }

 private:
  fs::path log_;
  std::string tag_;
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
};

// How one attempt is interrupted.
struct Interruption {
  std::string fault;           // HERETIC_FAULT_AT, or empty
  double delay_seconds = 0.0;  // when the external signal comes (after the pause, for pause faults)
  enum Signal { kNone, kKillRank, kTermJob, kTermThenKill } signal = kNone;
  std::string describe() const {
    static const char* const names[] = {"none", "SIGKILL to a rank", "SIGTERM to the job", "SIGTERM, then SIGKILL"};
    return (fault.empty() ? "" : "fault " + fault + ", ") + names[signal] + " at " +
           std::to_string(delay_seconds).substr(0, 4) + " s";
  }
};

Interruption draw_interruption(std::mt19937& random, double run_seconds) {
  std::uniform_real_distribution<double> anywhere(0.0, run_seconds * 1.1);
  Interruption interruption;
  const int kind = std::uniform_int_distribution<int>(0, 9)(random);
  const auto pick = [&](int low, int high) { return std::uniform_int_distribution<int>(low, high)(random); };
  if (kind <= 3) {  // a signal at a random moment
    interruption.signal = static_cast<Interruption::Signal>(1 + kind % 3);
    interruption.delay_seconds = anywhere(random);
    return interruption;
  }
  // A fault point: the n-th journal append (header, asked and result records), the results
  // file, one of the writes of an export's safetensors file (length, header, each tensor), or
  // the publication of an export.
  const std::vector<std::pair<std::string, int>> points = {
      {"journal_append", 2 * kTrials + 1}, {"results_write", 1}, {"safetensors_write", 40}, {"export_publish", 2}};
  const auto& [point, arrivals] = points[static_cast<size_t>(pick(0, 3))];
  const bool pause = kind >= 8;
  interruption.fault = point + ":" + std::to_string(pick(1, arrivals)) + (pause ? ":pause" : "");
  if (pause) {
    interruption.signal = static_cast<Interruption::Signal>(pick(1, 3));
    interruption.delay_seconds = std::uniform_real_distribution<double>(0.0, 1.0)(random);
  }
  return interruption;
}

// Sends `signal` to every rank, or to one: `paused` (a rank inside a fault point's window), else
// a random one.
void send(const Job& job, int signal, std::mt19937& random, bool one_rank, pid_t paused = 0) {
  const auto ranks = job.ranks();
  if (ranks.empty()) return;
  if (!one_rank) {
    for (const auto& [rank, pid] : ranks) ::kill(pid, signal);
    return;
  }
  if (paused > 0) {
    ::kill(paused, signal);
    return;
  }
  auto it = ranks.begin();
  std::advance(it, std::uniform_int_distribution<size_t>(0, ranks.size() - 1)(random));
  ::kill(it->second, signal);
}

// The process that reported a pause at a fault point, or 0.
pid_t paused_process(const std::string& output) {
  const std::string marker = "heretic-mpi: process ";
  const auto at = output.find(marker);
  if (at == std::string::npos || output.find("paused at fault point", at) == std::string::npos) return 0;
  return static_cast<pid_t>(std::atol(output.c_str() + at + marker.size()));
}

// Runs one interrupted attempt; returns its exit code.
int interrupted_attempt(const fs::path& out, const fs::path& logs, const Interruption& interruption,
                        std::mt19937& random, const std::string& tag) {
  Job job(out, logs, interruption.fault, tag);
  const bool pause = interruption.fault.find(":pause") != std::string::npos;
  const auto start = Clock::now();
  pid_t paused = 0;
  if (pause) {  // wait until a rank reports that it paused at the fault point
    while (!job.poll() && (paused = paused_process(job.output())) == 0 &&
           Clock::now() - start < std::chrono::seconds(300)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  const auto signal_at = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                            std::chrono::duration<double>(interruption.delay_seconds));
  while (!job.poll() && Clock::now() < signal_at) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  if (!job.poll()) {
    switch (interruption.signal) {
      case Interruption::kNone:
        break;
      case Interruption::kKillRank:
        send(job, SIGKILL, random, true, paused);
        break;
      case Interruption::kTermJob:
        send(job, SIGTERM, random, false);
        break;
      case Interruption::kTermThenKill:
        send(job, SIGTERM, random, false);
        std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(0, 3000)(random)));
        send(job, SIGKILL, random, true, paused);
        break;
    }
  }
  const int code = job.wait(600);
  // Any exit code will do (a killed rank ends the job with mpirun's code for it); a job that
  // hangs instead does not.
  EXPECT_NE(code, -1) << "the interrupted job did not end within 10 minutes:\n" << job.output();
  return code;
}

struct Outcome {
  std::map<int, std::string> params;  // trial number -> its parameters as journaled
  std::vector<int64_t> pareto;
};

// Checks everything a user relies on after a finished run; returns what the run decided.
Outcome check_finished_run(const fs::path& out, const std::string& context) {
  Outcome outcome;
  const io::JournalContents journal = io::read_journal(out / "journal.jsonl");
  EXPECT_FALSE(journal.torn_tail) << context;
  EXPECT_FALSE(journal.records.empty()) << context;
  if (journal.records.empty()) return outcome;
  EXPECT_EQ(journal.records.front().value("type", ""), "header") << context;
  std::map<int, int> results_per_trial;
  for (const auto& record : journal.records) {
    if (record.value("type", "") != "result") continue;
    const int number = record.at("trial").at("trial").get<int>();
    ++results_per_trial[number];
    outcome.params[number] = record.at("trial").at("params").dump();
  }
  std::map<int, int> once;
  for (int i = 0; i < kTrials; ++i) once[i] = 1;
  EXPECT_EQ(results_per_trial, once) << context << ": every trial must be journaled exactly once";

  const io::Results results = io::read_results(out / "results.h5");
  std::set<int64_t> numbers;
  for (const auto& trial : results.trials) numbers.insert(trial.number);
  std::set<int64_t> one_to_n;
  for (int64_t i = 1; i <= kTrials; ++i) one_to_n.insert(i);
  EXPECT_EQ(results.trials.size(), static_cast<size_t>(kTrials)) << context;
  EXPECT_EQ(numbers, one_to_n) << context << ": results.h5 must hold every trial once";
  EXPECT_FALSE(results.pareto.empty()) << context;
  outcome.pareto = results.pareto;

  std::set<std::string> expected_exports, exports;
  for (const int64_t number : results.pareto) {  // numbered from 1 there, as printed
    char name[32];
    std::snprintf(name, sizeof name, "trial-%03lld", static_cast<long long>(number));
    expected_exports.insert(name);
  }
  if (fs::exists(out / "models")) {
    for (const auto& entry : fs::directory_iterator(out / "models")) exports.insert(entry.path().filename().string());
  }
  EXPECT_EQ(exports, expected_exports) << context << ": models/ must hold exactly the Pareto front's exports";
  for (const std::string& name : exports) {
    const auto inspect = run_process(shell_quote(HERETIC_EXECUTABLE) + " inspect --model " +
                                     shell_quote((out / "models" / name).string()));
    EXPECT_EQ(inspect.exit_code, 0) << context << ": export " << name << " does not load:\n" << inspect.err;
  }
  for (const auto& entry : fs::recursive_directory_iterator(out)) {
    const std::string name = entry.path().filename().string();
    EXPECT_TRUE(name.find(".tmp-") == std::string::npos && name.find(".old-") == std::string::npos)
        << context << ": left behind: " << entry.path();
  }
  return outcome;
}

TEST(CrashAnywhere, EveryInterruptionLeavesARunThatResumesToCompleteConsistentFiles) {
  const int rounds = env_int("HERETIC_CRASH_ROUNDS", 3);
  const int seed = env_int("HERETIC_CRASH_SEED", 1);
  const fs::path base = fs::temp_directory_path() / ("heretic-crash-" + std::to_string(::getpid()));
  fs::remove_all(base);
  fs::create_directories(base);
  write_job(base / "job.toml");

  // The uninterrupted run: what every round must end with, and how long a run takes.
  const auto reference_start = Clock::now();
  Job reference(base / "reference", base, "", "reference");
  ASSERT_EQ(reference.wait(900), 0) << reference.output();
  const double run_seconds = std::chrono::duration<double>(Clock::now() - reference_start).count();
  const Outcome expected = check_finished_run(base / "reference", "reference run");
  ASSERT_EQ(expected.params.size(), static_cast<size_t>(kTrials));
  std::printf("reference run: %.1f s, Pareto front of %zu\n", run_seconds, expected.pareto.size());

  std::mt19937 random(static_cast<uint32_t>(seed));
  for (int round = 1; round <= rounds; ++round) {
    const fs::path out = base / ("round-" + std::to_string(round));
    std::string story;
    const int attempts = std::uniform_int_distribution<int>(1, 2)(random);
    for (int attempt = 1; attempt <= attempts; ++attempt) {
      const Interruption interruption = draw_interruption(random, run_seconds);
      const std::string tag = std::to_string(round) + "-" + std::to_string(attempt);
      const int code = interrupted_attempt(out, base, interruption, random, tag);
      story += " [" + interruption.describe() + " -> exit " + std::to_string(code) + "]";
    }
    Job rerun(out, base, "", std::to_string(round) + "-final");
    const int code = rerun.wait(900);
    const std::string context = "round " + std::to_string(round) + " (seed " + std::to_string(seed) + "):" + story;
    std::printf("%s, rerun -> exit %d\n", context.c_str(), code);
    std::fflush(stdout);
    ASSERT_EQ(code, 0) << context << "\n" << rerun.output();
    const Outcome outcome = check_finished_run(out, context);
    EXPECT_EQ(outcome.params, expected.params) << context << ": a trial's parameters differ from the uninterrupted run";
    EXPECT_EQ(outcome.pareto, expected.pareto) << context << ": the Pareto front differs from the uninterrupted run";
    if (::testing::Test::HasFailure()) {
      std::printf("kept %s for inspection\n", out.c_str());
      return;
    }
    fs::remove_all(out);
  }
  fs::remove_all(base);
}

}  // namespace
}  // namespace heretic
