// results.h5: every field survives a write and a read, the file is plain HDF5 (h5dump reads
// it), and a write replaces the old file atomically without leaving temporary files behind.
#include "io/results_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/error_of.h"
#include "tests/support/run_process.h"

namespace heretic::io {
namespace {

namespace fs = std::filesystem;
using heretic::testing::error_of;
using heretic::testing::read_whole_file;
using heretic::testing::run_process;
using heretic::testing::shell_quote;

class ResultsFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    folder_ = fs::temp_directory_path() / ("heretic-results-" + std::to_string(::getpid()) + "-" + info->name());
    fs::remove_all(folder_);
    fs::create_directories(folder_);
    path_ = folder_ / "results.h5";
  }
  void TearDown() override { fs::remove_all(folder_); }

  // Everything in the folder except the results file itself (temporary files, if any).
  std::vector<std::string> leftovers() const {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(folder_)) {
      if (entry.path().filename() != "results.h5") names.push_back(entry.path().filename().string());
    }
    return names;
  }

  fs::path folder_;
  fs::path path_;
};

Matrix matrix(int64_t rows, int64_t cols, float scale) {
  Matrix m{rows, cols, {}};
  for (int64_t i = 0; i < rows * cols; ++i) m.values.push_back(scale * static_cast<float>(i) - 1.5f);
  return m;
}

TrialRecord trial(int64_t number, std::vector<double> values, std::string status) {
  TrialRecord t;
  t.number = number;
  t.params_json = R"({"direction_index":)" + std::to_string(number) + R"(.5,"attn.o_proj.max_weight":1.25})";
  t.values = std::move(values);
  t.objectives = {"Keywords", "KL divergence"};
  t.refusals = 10 + number;
  t.refusal_prompts = 100;
  t.kl = 0.125 * static_cast<double>(number);
  t.rank = number % 3;
  t.seconds = 12.5 + static_cast<double>(number);
  t.status = std::move(status);
  return t;
}

Results full_results() {
  Results r;
  r.run.version = "heretic-mpi 0.1.0 (abc123)";
  r.run.config_toml = "[model]\nname = \"Qwen/Qwen3-0.6B\"\n# Grüße ✓\n\n[optimize]\ntrials = 200\n";
  r.run.model = "Qwen/Qwen3-0.6B";
  r.run.model_revision = "c1899de289a04d12100db370d81485cdf75e47ca";
  r.run.world_size = 8;
  r.run.seed = -42;
  r.good_mean = matrix(7, 5, 0.25f);
  r.bad_mean = matrix(7, 5, -0.5f);
  r.directions = matrix(7, 5, 1e-3f);
  r.per_prompt_residuals_good = matrix(3 * 7, 5, 2.0f);
  r.per_prompt_residuals_bad = matrix(2 * 7, 5, 3.0f);
  r.trials.push_back(trial(0, {0.5, 0.01}, "complete"));
  r.trials.push_back(trial(1, {1e-300, std::numeric_limits<double>::infinity()}, "complete"));
  auto failed = trial(2, {}, "failed");
  failed.refusals = -1;
  failed.kl = std::numeric_limits<double>::quiet_NaN();
  r.trials.push_back(failed);
  r.objective_directions = {"minimize", "maximize"};
  r.memory = {{"load", "trials"}, {1000, 2000}, {1, 2, 3, 4}};
  r.pareto = {0, 1};
  return r;
}

void expect_same_matrix(const Matrix& actual, const Matrix& expected, const char* name) {
  EXPECT_EQ(actual.rows, expected.rows) << name;
  EXPECT_EQ(actual.cols, expected.cols) << name;
  EXPECT_EQ(actual.values, expected.values) << name;
}

void expect_same_trial(const TrialRecord& actual, const TrialRecord& expected) {
  SCOPED_TRACE("trial " + std::to_string(expected.number));
  EXPECT_EQ(actual.number, expected.number);
  EXPECT_EQ(actual.params_json, expected.params_json);
  EXPECT_EQ(actual.values, expected.values);
  EXPECT_EQ(actual.objectives, expected.objectives);
  EXPECT_EQ(actual.refusals, expected.refusals);
  EXPECT_EQ(actual.refusal_prompts, expected.refusal_prompts);
  if (std::isnan(expected.kl)) {
    EXPECT_TRUE(std::isnan(actual.kl));
  } else {
    EXPECT_EQ(actual.kl, expected.kl);
  }
  EXPECT_EQ(actual.rank, expected.rank);
  EXPECT_EQ(actual.seconds, expected.seconds);
  EXPECT_EQ(actual.status, expected.status);
}

void expect_same_results(const Results& actual, const Results& expected) {
  EXPECT_EQ(actual.run.version, expected.run.version);
  EXPECT_EQ(actual.run.config_toml, expected.run.config_toml);
  EXPECT_EQ(actual.run.model, expected.run.model);
  EXPECT_EQ(actual.run.model_revision, expected.run.model_revision);
  EXPECT_EQ(actual.run.world_size, expected.run.world_size);
  EXPECT_EQ(actual.run.seed, expected.run.seed);
  expect_same_matrix(actual.good_mean, expected.good_mean, "good_mean");
  expect_same_matrix(actual.bad_mean, expected.bad_mean, "bad_mean");
  expect_same_matrix(actual.directions, expected.directions, "directions");
  expect_same_matrix(actual.per_prompt_residuals_good, expected.per_prompt_residuals_good, "per_prompt_good");
  expect_same_matrix(actual.per_prompt_residuals_bad, expected.per_prompt_residuals_bad, "per_prompt_bad");
  ASSERT_EQ(actual.trials.size(), expected.trials.size());
  for (std::size_t i = 0; i < expected.trials.size(); ++i) expect_same_trial(actual.trials[i], expected.trials[i]);
  EXPECT_EQ(actual.objective_directions, expected.objective_directions);
  EXPECT_EQ(actual.memory.phases, expected.memory.phases);
  EXPECT_EQ(actual.memory.node_bytes, expected.memory.node_bytes);
  EXPECT_EQ(actual.memory.peak_bytes, expected.memory.peak_bytes);
  EXPECT_EQ(actual.pareto, expected.pareto);
}

TEST_F(ResultsFileTest, EveryFieldRoundTrips) {
  const Results written = full_results();
  write_results(path_, written);
  expect_same_results(read_results(path_), written);
  EXPECT_TRUE(leftovers().empty());
}

TEST_F(ResultsFileTest, AnEmptyRunRoundTrips) {
  Results written;
  written.run.version = "v";
  written.run.config_toml = "";
  written.run.world_size = 1;
  write_results(path_, written);
  const Results read = read_results(path_);
  expect_same_results(read, written);
  EXPECT_TRUE(read.trials.empty());
  EXPECT_TRUE(read.pareto.empty());
  EXPECT_TRUE(read.directions.values.empty());
}

TEST_F(ResultsFileTest, TheObjectiveNamesAreTheStudysEvenForATrialWithout) {
  Results written = full_results();
  written.trials[2].objectives.clear();  // a failed trial may not know them
  write_results(path_, written);
  EXPECT_EQ(read_results(path_).trials[2].objectives, written.trials[0].objectives);

  written.trials[1].objectives = {"Refusals", "KL divergence"};
  EXPECT_THROW(write_results(path_, written), std::invalid_argument);
}

TEST_F(ResultsFileTest, LargeMatricesAndLongTextRoundTrip) {
  Results written = full_results();
  // 4 MiB: above the size where the matrix is chunked and compressed.
  std::mt19937 random(7);
  std::normal_distribution<float> normal;
  written.per_prompt_residuals_good = Matrix{1000, 1024, {}};
  for (int i = 0; i < 1000 * 1024; ++i) written.per_prompt_residuals_good.values.push_back(normal(random));
  // Larger than the 64 KiB an attribute stored inside an object header may hold.
  written.run.config_toml = std::string(200000, 'x') + "\nend = true\n";
  write_results(path_, written);
  expect_same_results(read_results(path_), written);
}

TEST_F(ResultsFileTest, H5dumpReadsTheFile) {
  if (!fs::exists("/usr/bin/h5dump")) GTEST_SKIP() << "h5dump not installed (Debian: hdf5-tools)";
  const std::string h5dump = "/usr/bin/h5dump ";
  write_results(path_, full_results());
  const auto dump = run_process(h5dump + shell_quote(path_.string()));
  ASSERT_EQ(dump.exit_code, 0) << dump.err;
  for (const char* expected :
       {"GROUP \"run\"", "ATTRIBUTE \"config\"", "(0): \"Qwen/Qwen3-0.6B\"", "GROUP \"residuals\"",
        "DATASET \"directions\"", "H5T_IEEE_F32LE", "DATASET \"trials\"", "\"refusal_prompts\"",
        "ATTRIBUTE \"objectives\"", "\"KL divergence\"", "DATASET \"pareto\"", "H5T_CSET_UTF8", "\"failed\""}) {
    EXPECT_NE(dump.out.find(expected), std::string::npos) << expected;
  }

  // Zero-row /trials and /pareto, no residual datasets.
  Results empty;
  write_results(path_, empty);
  const auto empty_dump = run_process(h5dump + shell_quote(path_.string()));
  ASSERT_EQ(empty_dump.exit_code, 0) << empty_dump.err;
  EXPECT_NE(empty_dump.out.find("DATASET \"trials\""), std::string::npos) << empty_dump.out;

  // A large matrix is chunked and compressed.
  Results large;
  large.directions = Matrix{512, 1024, std::vector<float>(512 * 1024, 0.5f)};
  write_results(path_, large);
  const auto layout = run_process(h5dump + "-p -H -d /residuals/directions " + shell_quote(path_.string()));
  ASSERT_EQ(layout.exit_code, 0) << layout.err;
  EXPECT_NE(layout.out.find("CHUNKED"), std::string::npos) << layout.out;
  EXPECT_NE(layout.out.find("DEFLATE"), std::string::npos) << layout.out;
  EXPECT_LT(fs::file_size(path_), 512u * 1024u * sizeof(float) / 10) << "constant data compresses well";
}

TEST_F(ResultsFileTest, AnExistingFileIsReplacedWholeAndNoTemporaryRemains) {
  Results first = full_results();
  write_results(path_, first);
  const std::string first_bytes = read_whole_file(path_);
  // A reader that opened the old file keeps seeing the old file: the new one is a different
  // file renamed over it, not the old one rewritten in place.
  std::ifstream old_reader(path_, std::ios::binary);
  ASSERT_TRUE(old_reader);

  Results second = full_results();
  second.run.seed = 7;
  second.trials.pop_back();
  second.pareto = {1};
  write_results(path_, second);

  std::stringstream old_bytes;
  old_bytes << old_reader.rdbuf();
  EXPECT_EQ(old_bytes.str(), first_bytes);
  expect_same_results(read_results(path_), second);
  EXPECT_TRUE(leftovers().empty());
}

TEST_F(ResultsFileTest, AMissingFolderIsAnInputErrorNamingThePath) {
  const auto path = folder_ / "missing" / "results.h5";
  ::testing::internal::CaptureStderr();
  const std::string message = error_of([&] { write_results(path, full_results()); });
  const std::string printed = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(message.find(path.string()), std::string::npos) << message;
  EXPECT_NE(message.find("No such file or directory"), std::string::npos) << message;
  EXPECT_EQ(printed.find("HDF5-DIAG"), std::string::npos) << "HDF5's error stack reached stderr:\n" << printed;
  EXPECT_FALSE(fs::exists(folder_ / "missing"));
  EXPECT_TRUE(leftovers().empty());
}

TEST_F(ResultsFileTest, AWriteThatFailsAfterTheTemporaryFileRemovesIt) {
  // A folder in the way: the HDF5 file is written completely, then rename() fails.
  fs::create_directories(path_ / "occupied");
  const std::string message = error_of([&] { write_results(path_, full_results()); });
  EXPECT_NE(message.find(path_.string()), std::string::npos) << message;
  EXPECT_NE(message.find("rename"), std::string::npos) << message;
  EXPECT_TRUE(leftovers().empty());
  EXPECT_TRUE(fs::is_directory(path_ / "occupied"));
}

TEST_F(ResultsFileTest, ReadingSomethingElseIsAnInputErrorNamingThePath) {
  { std::ofstream(path_) << "not hdf5"; }
  ::testing::internal::CaptureStderr();
  const std::string message = error_of([&] { read_results(path_); });
  const std::string printed = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(message.find(path_.string()), std::string::npos) << message;
  EXPECT_TRUE(printed.empty()) << printed;

  const auto absent = folder_ / "absent.h5";
  EXPECT_NE(error_of([&] { read_results(absent); }).find(absent.string()), std::string::npos);
}

TEST_F(ResultsFileTest, AMatrixWhoseSizeDisagreesIsRefusedBeforeWriting) {
  Results written = full_results();
  written.directions.values.pop_back();
  EXPECT_THROW(write_results(path_, written), std::invalid_argument);
  EXPECT_FALSE(fs::exists(path_));
  EXPECT_TRUE(leftovers().empty());
}

}  // namespace
}  // namespace heretic::io
