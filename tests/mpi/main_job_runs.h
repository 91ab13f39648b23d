// What the tests of the main job under mpirun share: the launcher, scratch folders, a job on the
// model organism, and the comparison of a model-parallel run with the one-rank run.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <regex>
#include <string>

#include "io/results_file.h"
#include "tests/support/run_process.h"

namespace heretic::testing {

inline std::string mpirun(int ranks) {
  return "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 " + shell_quote(HERETIC_MPIEXEC) + " -n " +
         std::to_string(ranks) + " --oversubscribe " + shell_quote(HERETIC_EXECUTABLE);
}

inline std::filesystem::path scratch(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / ("heretic-mpi-" + name);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

// A job on the model organism with its own prompt files; it ends inside the [output] table.
inline std::string organism_job(const std::filesystem::path& out,
                                const std::string& bad_prompts_file = "harmful_train.txt") {
  const std::string fixture = std::string(HERETIC_SOURCE_DIR) + "/tests/fixtures/organism";
  return "model = \"" + fixture + "/model\"\n" +
         "[good_prompts]\ndataset = \"" + fixture + "/prompts/harmless_train.txt\"\nsplit = \"[:400]\"\n" +
         "[bad_prompts]\ndataset = \"" + fixture + "/prompts/" + bad_prompts_file + "\"\nsplit = \"[:400]\"\n" +
         "[scorer.KeywordRate.prompts]\ndataset = \"" + fixture + "/prompts/harmful_test.txt\"\n" +
         "[scorer.KLDivergence.prompts]\ndataset = \"" + fixture + "/prompts/harmless_test.txt\"\n" +
         "[output]\ndir = \"" + out.string() + "\"\n";
}

// "Keywords: 5/100, KL divergence: 0.0421" from a run's output, or "none".
inline std::string baseline_of(const std::string& out) {
  std::smatch match;
  return std::regex_search(out, match, std::regex(R"(baseline: ([^(]*))")) ? match[1].str() : std::string("none");
}

// A model-parallel run (`other`) found the one-rank run's (`one`) baseline, directions (1e-5),
// trials (refusals, KL to 1e-5 relative, or `kl_floor` absolute where that is larger) and Pareto
// front: the sums and stage hand-offs change nothing a user sees.
inline void expect_the_one_rank_run(const std::filesystem::path& one_dir, const std::string& one_out,
                                    const std::filesystem::path& other_dir, const std::string& other_out,
                                    size_t trials, double kl_floor = 1e-8) {
  EXPECT_NE(baseline_of(one_out), "none") << one_out;
  EXPECT_EQ(baseline_of(other_out), baseline_of(one_out));
  const io::Results a = io::read_results(one_dir / "results.h5");
  const io::Results b = io::read_results(other_dir / "results.h5");
  ASSERT_EQ(a.directions.values.size(), b.directions.values.size());
  ASSERT_FALSE(a.directions.values.empty());
  for (size_t i = 0; i < a.directions.values.size(); ++i) {
    ASSERT_NEAR(a.directions.values[i], b.directions.values[i], 1e-5) << "element " << i;
  }
  ASSERT_EQ(a.trials.size(), trials);
  ASSERT_EQ(b.trials.size(), trials);
  for (size_t i = 0; i < a.trials.size(); ++i) {
    EXPECT_EQ(a.trials[i].params_json, b.trials[i].params_json);
    EXPECT_EQ(a.trials[i].refusals, b.trials[i].refusals);
    EXPECT_NEAR(a.trials[i].kl, b.trials[i].kl, std::max(1e-5 * std::abs(a.trials[i].kl), kl_floor));
  }
  EXPECT_EQ(a.pareto, b.pareto);
  EXPECT_FALSE(a.pareto.empty());
}

// Every file of folder `a` has the same bytes in `b`, and `b` has no other file.
inline void expect_same_folder(const std::filesystem::path& a, const std::filesystem::path& b) {
  size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(a)) {
    ++files;
    const std::filesystem::path other = b / entry.path().filename();
    ASSERT_TRUE(std::filesystem::exists(other)) << other;
    EXPECT_TRUE(read_whole_file(entry.path()) == read_whole_file(other)) << other << " differs from " << entry.path();
  }
  EXPECT_EQ(files, static_cast<size_t>(std::distance(std::filesystem::directory_iterator(b),
                                                     std::filesystem::directory_iterator())));
}

}  // namespace heretic::testing
