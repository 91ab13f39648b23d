// After the job, through the executable on the model organism: the report a run leaves and
// `heretic-mpi report` (after a finished run and after one stopped by SIGTERM, a page whose Pareto
// chart has one point per trial of results.h5, opened without errors in a real headless
// browser), and `heretic-mpi export` (any finished trial, alone or under mpirun, byte for byte
// what the run exported; with --lora, LoRA adapters). Run folders that are not runs and unknown trials end with exit 2
// naming them.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <filesystem>
#include <fstream>
#include <string>

#include "io/results_file.h"
#include "tests/support/run_process.h"

namespace heretic {
namespace {

namespace fs = std::filesystem;
using testing::read_whole_file;
using testing::run_process;
using testing::shell_quote;

fs::path fresh_dir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("heretic-report-cli-" + std::to_string(::getpid()) + "-" + name);
  fs::remove_all(dir);
  return dir;
}

// Six trials of the demo job; it exports its Pareto front unless `extra` says otherwise.
std::string demo_command(const fs::path& out, const std::string& extra = "") {
  return "cd " + shell_quote(HERETIC_SOURCE_DIR) + " && " + shell_quote(HERETIC_EXECUTABLE) +
         " --config configs/demo.toml --set n_trials=6 --set n_startup_trials=3 --set " +
         shell_quote("output.dir=" + out.string()) + " " + extra;
}

testing::ProcessResult export_trials(const fs::path& run, const std::string& trials, int ranks = 1) {
  const std::string launcher = ranks == 1 ? "" : "mpirun -n " + std::to_string(ranks) + " --oversubscribe ";
  return run_process("cd " + shell_quote(HERETIC_SOURCE_DIR) + " && OMPI_ALLOW_RUN_AS_ROOT=1 "
                     "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 " + launcher + shell_quote(HERETIC_EXECUTABLE) +
                     " export --run " + shell_quote(run.string()) + " " + trials);
}

// Every file of folder `a` has the same bytes in `b`, and `b` has no other file.
void expect_same_folder(const fs::path& a, const fs::path& b) {
  size_t files = 0;
  for (const auto& entry : fs::directory_iterator(a)) {
    ++files;
    const fs::path other = b / entry.path().filename();
    ASSERT_TRUE(fs::exists(other)) << other;
    EXPECT_TRUE(read_whole_file(entry.path()) == read_whole_file(other)) << other << " differs from " << entry.path();
  }
  EXPECT_EQ(files, static_cast<size_t>(std::distance(fs::directory_iterator(b), fs::directory_iterator())));
}

testing::ProcessResult report(const fs::path& run) {
  return run_process(shell_quote(HERETIC_EXECUTABLE) + " report --run " + shell_quote(run.string()));
}

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++n;
  return n;
}

// Points of the Pareto chart in a page (or in the DOM a browser made of it).
size_t pareto_points(const std::string& html) {
  const size_t begin = html.find("<svg id=\"pareto\"");
  if (begin == std::string::npos) return 0;
  return count(html.substr(begin, html.find("</svg>", begin) - begin), "<circle class=\"trial");
}

class ReportOfARun : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    finished_ = new fs::path(fresh_dir("finished"));
    const auto run = run_process(demo_command(*finished_));
    ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  }
  static void TearDownTestSuite() {
    fs::remove_all(*finished_);
    delete finished_;
  }
  static fs::path* finished_;
};
fs::path* ReportOfARun::finished_ = nullptr;

TEST_F(ReportOfARun, TheRunWritesAPageWithOnePointPerTrial) {
  const io::Results results = io::read_results(*finished_ / "results.h5");
  ASSERT_EQ(results.trials.size(), 6u);
  const std::string html = read_whole_file(*finished_ / "report.html");
  EXPECT_EQ(pareto_points(html), results.trials.size());
  EXPECT_EQ(count(html, "<circle class=\"trial front\""), results.pareto.size());
  // The memory report: one rank, its peak after each phase, never shrinking, and what its node allows.
  ASSERT_EQ(results.memory.ranks(), 1u);
  EXPECT_EQ(results.memory.phases, (std::vector<std::string>{"load", "baselines", "directions", "trials"}));
  ASSERT_EQ(results.memory.peak_bytes.size(), 4u);
  EXPECT_GT(results.memory.peak_bytes[0], 10 << 20);
  for (size_t p = 1; p < 4; ++p) EXPECT_GE(results.memory.peak_bytes[p], results.memory.peak_bytes[p - 1]);
  EXPECT_GT(results.memory.node_bytes[0], results.memory.peak_bytes[3]);
  EXPECT_NE(html.find("<table id=\"memory\""), std::string::npos);
}

TEST(Report, ARankAboveTheMemoryShareIsWarnedAbout) {
  // A share so small that a libtorch process passes it on any machine with less than ~1 TB.
  const fs::path out = fresh_dir("memory");
  const auto run = run_process(demo_command(out, "--set n_trials=2 --set n_startup_trials=1 --set output.export=none "
                                                 "--set output.memory_warning=0.01"));
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  const io::Results results = io::read_results(out / "results.h5");
  ASSERT_EQ(results.memory.ranks(), 1u);
  const bool above = static_cast<double>(results.memory.peak_bytes.back()) > 0.01 * static_cast<double>(results.memory.node_bytes[0]);
  const std::string log = read_whole_file(out / "logs" / "rank-00000.log");
  EXPECT_EQ(log.find("is above output.memory_warning = 0.01") != std::string::npos, above) << log;
  EXPECT_NE(log.find("memory after directions: peak resident"), std::string::npos) << log;
  fs::remove_all(out);
}

TEST_F(ReportOfARun, ReportPrintsTheFrontAndRedrawsThePage) {
  fs::remove(*finished_ / "report.html");
  const auto result = report(*finished_);
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  const io::Results results = io::read_results(*finished_ / "results.h5");
  EXPECT_NE(result.out.find("Pareto front (" + std::to_string(results.pareto.size()) + " of 6 trials)"),
            std::string::npos)
      << result.out;
  EXPECT_EQ(count(result.out, "[Trial "), results.pareto.size()) << result.out;
  EXPECT_EQ(pareto_points(read_whole_file(*finished_ / "report.html")), 6u);
}

// Debian's chromium, headless: the page loads without errors, the DOM the browser built has the
// points, and a screenshot lands in the test's output folder. CI installs chromium
// (tools/install-deps.sh), so there a missing browser is a failure, not a skip.
TEST_F(ReportOfARun, AHeadlessBrowserOpensThePage) {
  std::string browser;
  for (const char* name : {"chromium", "chromium-browser", "google-chrome"}) {
    if (run_process(std::string("command -v ") + name).exit_code == 0) {
      browser = name;
      break;
    }
  }
  if (browser.empty()) {
    if (std::getenv("CI") != nullptr) FAIL() << "chromium is not installed (tools/install-deps.sh installs it)";
    GTEST_SKIP() << "no chromium here; tools/install-deps.sh installs it";
  }
  const fs::path page = *finished_ / "report.html";
  ASSERT_TRUE(fs::exists(page) || report(*finished_).exit_code == 0);
  const fs::path output = fs::path(HERETIC_BINARY_DIR) / "test-output" / "report";
  fs::create_directories(output);
  const fs::path screenshot = output / "report-screenshot.png";
  fs::remove(screenshot);
  const std::string flags = " --headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run "
                            "--user-data-dir=" + shell_quote((output / "profile").string()) +
                            " --enable-logging=stderr --v=0 --window-size=1200,1600 ";
  const std::string url = shell_quote("file://" + page.string());
  const auto dom = run_process("timeout 120 " + browser + flags + "--dump-dom " + url);
  ASSERT_EQ(dom.exit_code, 0) << dom.err;
  EXPECT_EQ(pareto_points(dom.out), io::read_results(*finished_ / "results.h5").trials.size()) << dom.out.substr(0, 2000);
  for (const char* problem : {"Uncaught", "Failed to load resource", "net::ERR_", "CONSOLE"}) {
    EXPECT_EQ(dom.err.find(problem), std::string::npos) << problem << " in the browser's log:\n" << dom.err;
  }
  const auto shot = run_process("cd " + shell_quote(output.string()) + " && timeout 120 " + browser + flags +
                                "--screenshot=" + shell_quote(screenshot.string()) + " " + url);
  ASSERT_EQ(shot.exit_code, 0) << shot.err;
  ASSERT_TRUE(fs::exists(screenshot)) << shot.err;
  EXPECT_GT(fs::file_size(screenshot), 10000u);  // a drawn page, not a blank one
  std::printf("screenshot: %s\n", screenshot.c_str());
}

TEST_F(ReportOfARun, ExportWritesAnyFinishedTrialAsTheRunDid) {
  const io::Results results = io::read_results(*finished_ / "results.h5");
  const int64_t trial = results.pareto.front();
  char name[32];
  std::snprintf(name, sizeof name, "trial-%03lld", static_cast<long long>(trial));
  const fs::path reference = finished_->string() + "-reference";
  fs::remove_all(reference);
  fs::rename(*finished_ / "models" / name, reference);
  // Alone, then with two ranks sharing two trials out: the same bytes as the run's own export.
  auto result = export_trials(*finished_, "--trial " + std::to_string(trial));
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  expect_same_folder(reference, *finished_ / "models" / name);
  fs::remove_all(*finished_ / "models" / name);
  int64_t other = 0;
  for (const auto& t : results.trials) {
    if (t.number != trial && t.status == "complete") other = t.number;
  }
  result = export_trials(*finished_, "--trial " + std::to_string(trial) + " --trial " + std::to_string(other), 2);
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  expect_same_folder(reference, *finished_ / "models" / name);
  char other_name[32];
  std::snprintf(other_name, sizeof other_name, "trial-%03lld", static_cast<long long>(other));
  EXPECT_TRUE(fs::exists(*finished_ / "models" / other_name / "model.safetensors"));
  // The journal is untouched: no trial ran.
  EXPECT_EQ(io::read_results(*finished_ / "results.h5").trials.size(), 6u);
  fs::remove_all(reference);
}

TEST_F(ReportOfARun, ExportRefusesTrialsTheRunDidNotFinish) {
  for (const std::string trial : {"7", "0"}) {
    const auto result = export_trials(*finished_, "--trial " + trial);
    EXPECT_EQ(result.exit_code, 2) << result.out << result.err;
    EXPECT_NE(result.err.find("--trial " + trial + ": "), std::string::npos) << result.err;
    EXPECT_NE(result.err.find("has no successfully finished trial " + trial), std::string::npos) << result.err;
  }
  const auto missing = export_trials(*finished_, "");
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("--trial N is required"), std::string::npos) << missing.err;
}

TEST_F(ReportOfARun, ExportWithLoraWritesAdaptersAloneOrUnderMpirun) {
  const io::Results results = io::read_results(*finished_ / "results.h5");
  const int64_t trial = results.pareto.front();
  int64_t other = 0;
  for (const auto& t : results.trials) {
    if (t.number != trial && t.status == "complete") other = t.number;
  }
  auto folder = [&](int64_t number) {
    char name[32];
    std::snprintf(name, sizeof name, "trial-%03lld-lora", static_cast<long long>(number));
    return *finished_ / "models" / name;
  };
  auto result = export_trials(*finished_, "--trial " + std::to_string(trial) + " --lora");
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  // The demo uses row normalization "full": rank 3, and the log sums up the fit.
  EXPECT_NE((result.out + result.err).find("LoRA adapter: rank 3, "), std::string::npos) << result.out << result.err;
  const fs::path alone = finished_->string() + "-lora-alone";
  fs::remove_all(alone);
  fs::rename(folder(trial), alone);
  for (const char* file : {"adapter_config.json", "adapter_model.safetensors", "README.md"})
    EXPECT_TRUE(fs::is_regular_file(alone / file)) << file;
  const std::string card = read_whole_file(alone / "README.md");
  EXPECT_NE(card.find("relative Frobenius error"), std::string::npos) << card;
  EXPECT_NE(card.find("model.layers."), std::string::npos) << card;

  // Two ranks sharing two trials out write the same bytes; the merged exports stay as they were.
  result = export_trials(*finished_, "--trial " + std::to_string(trial) + " --trial " + std::to_string(other) +
                                         " --lora", 2);
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  expect_same_folder(alone, folder(trial));
  EXPECT_TRUE(fs::exists(folder(other) / "adapter_model.safetensors"));
  fs::remove_all(alone);

  // An unknown trial is refused before anything is written, naming it.
  result = export_trials(*finished_, "--trial 9 --lora");
  EXPECT_EQ(result.exit_code, 2) << result.out << result.err;
  EXPECT_NE(result.err.find("--trial 9: "), std::string::npos) << result.err;
  EXPECT_FALSE(fs::exists(folder(9)));
}

TEST_F(ReportOfARun, ExportToAPlaceThatCannotBeAFolderEndsWithExitTwoAndWritesNothing) {
  const io::Results results = io::read_results(*finished_ / "results.h5");
  const int64_t trial = results.pareto.front();
  char name[32];
  std::snprintf(name, sizeof name, "trial-%03lld-lora", static_cast<long long>(trial));
  const fs::path target = *finished_ / "models" / name;
  fs::remove_all(target);
  std::ofstream(target) << "a file in the way";
  const auto result = export_trials(*finished_, "--trial " + std::to_string(trial) + " --lora");
  EXPECT_EQ(result.exit_code, 2) << result.out << result.err;
  EXPECT_NE(result.err.find(target.string()), std::string::npos) << result.err;
  EXPECT_EQ(result.err.find("internal error"), std::string::npos) << result.err;
  EXPECT_EQ(read_whole_file(target), "a file in the way");
  for (const auto& entry : fs::directory_iterator(*finished_ / "models"))
    EXPECT_EQ(entry.path().filename().string().find(".tmp-"), std::string::npos) << entry.path();
  fs::remove(target);
}

TEST(Report, ARunWithLoraExportFormatEndsWithAdaptersOfItsParetoFront) {
  const fs::path out = fresh_dir("lora-run");
  const auto run = run_process(demo_command(out, "--set n_trials=3 --set n_startup_trials=2 "
                                                 "--set output.export_format=lora --set row_normalization=none"));
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  const io::Results results = io::read_results(out / "results.h5");
  ASSERT_FALSE(results.pareto.empty());
  size_t adapters = 0;
  for (const auto& entry : fs::directory_iterator(out / "models")) {
    const std::string name = entry.path().filename().string();
    EXPECT_EQ(name.size(), std::string("trial-000-lora").size()) << name;
    EXPECT_EQ(name.substr(name.size() - 5), "-lora") << name;
    EXPECT_TRUE(fs::exists(entry.path() / "adapter_config.json")) << name;
    ++adapters;
  }
  EXPECT_EQ(adapters, results.pareto.size());
  // Row normalization "none": exact rank-1 adapters.
  EXPECT_NE((run.out + run.err).find("LoRA adapter: rank 1, "), std::string::npos) << run.out << run.err;
  EXPECT_NE((run.out + run.err).find("(exact)"), std::string::npos);
  fs::remove_all(out);
}

TEST(Report, ARunStoppedBySigtermHasAReportOfWhatItFinished) {
  const fs::path out = fresh_dir("stopped");
  const std::string command = "(" + demo_command(out, "--set n_trials=40") + " & pid=$!; for i in $(seq 900); do " +
                              "n=$(grep -c '\"type\":\"result\"' " + shell_quote((out / "journal.jsonl").string()) +
                              " 2>/dev/null); [ \"${n:-0}\" -ge 3 ] && break; sleep 0.2; done; kill -TERM $pid; wait $pid)";
  const auto run = run_process(command);
  ASSERT_EQ(run.exit_code, 3) << run.out << run.err;
  const io::Results results = io::read_results(out / "results.h5");
  ASSERT_GE(results.trials.size(), 3u);
  ASSERT_LT(results.trials.size(), 40u);
  EXPECT_EQ(pareto_points(read_whole_file(out / "report.html")), results.trials.size());
  fs::remove(out / "report.html");
  const auto result = report(out);
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  EXPECT_EQ(pareto_points(read_whole_file(out / "report.html")), results.trials.size());
  // Its finished trials can be exported (a stopped run exports nothing itself), and the
  // exported folder loads.
  EXPECT_FALSE(fs::exists(out / "models"));
  const auto exported = export_trials(out, "--trial 1");
  ASSERT_EQ(exported.exit_code, 0) << exported.out << exported.err;
  const auto inspect = run_process(shell_quote(HERETIC_EXECUTABLE) + " inspect --model " +
                                   shell_quote((out / "models" / "trial-001").string()));
  EXPECT_EQ(inspect.exit_code, 0) << inspect.out << inspect.err;
  EXPECT_EQ(io::read_results(out / "results.h5").trials.size(), results.trials.size());
  fs::remove_all(out);
}

TEST(Report, FoldersThatAreNotRunsEndWithExitTwoNamingThem) {
  const fs::path dir = fresh_dir("not-runs");
  fs::create_directories(dir / "empty");
  fs::create_directories(dir / "corrupt");
  std::ofstream(dir / "corrupt" / "results.h5") << "this is not HDF5";

  auto expect_refused = [](const testing::ProcessResult& result, const std::string& named) {
    EXPECT_EQ(result.exit_code, 2) << result.out << result.err;
    EXPECT_NE(result.err.find(named), std::string::npos) << result.err;
    EXPECT_EQ(result.err.find("internal error"), std::string::npos) << result.err;
  };
  expect_refused(report(dir / "nowhere"), (dir / "nowhere").string() + ": no such run folder");
  expect_refused(report(dir / "empty"), (dir / "empty").string() + ": no results.h5 here");
  expect_refused(report(dir / "corrupt"), (dir / "corrupt" / "results.h5").string());
  expect_refused(run_process(shell_quote(HERETIC_EXECUTABLE) + " report"), "--run DIR is required");
  expect_refused(export_trials(dir / "empty", "--trial 1"), (dir / "empty").string() + ": no results.h5 here");
  expect_refused(export_trials(dir / "corrupt", "--trial 1"), (dir / "corrupt" / "results.h5").string());
  EXPECT_FALSE(fs::exists(dir / "corrupt" / "report.html"));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace heretic
