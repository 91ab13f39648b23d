// A journal written before the study and the trial farm existed (heretic-mpi at commit 5a6c594,
// the demo configuration with n_trials = 6, n_startup_trials = 3; see
// tests/fixtures/journal/README.md) resumes under this code: its stored configuration is
// accepted as the same study, its trials are read back, and the sampler proposes exactly the
// trials that the old code proposed next (taken from its 8-trial run of the same job).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "ablation/trial_params.h"
#include "config/compare.h"
#include "config/load.h"
#include "config/print.h"
#include "io/journal.h"
#include "optimize/study.h"

namespace heretic {
namespace {

namespace fs = std::filesystem;
using nlohmann::ordered_json;

const fs::path kFixtures = fs::path(HERETIC_SOURCE_DIR) / "tests/fixtures/journal";

TEST(LegacyJournal, ResumesAndProposesWhatTheOldCodeProposedNext) {
  const fs::path dir = fs::temp_directory_path() / ("heretic-legacy-journal-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  fs::copy_file(kFixtures / "demo-6-trials-5a6c594.jsonl", dir / "journal.jsonl");
  const auto old_run = io::read_journal(kFixtures / "demo-8-trials-5a6c594.jsonl").records;
  const ordered_json header = io::read_journal(dir / "journal.jsonl").records.at(0);

  // The run's configuration is the one the journal stored (the demo's, output folder aside).
  const config::Config config = config::parse_config(header.at("config").get<std::string>(), "stored").config;
  const config::Config study = config::study_config(config);
  optimize::StudyOptions options;
  options.objectives = {{"Keywords", false}, {"KL divergence", false}};
  options.n_startup_trials = header.at("n_startup_trials").get<int>();  // the stored study config has the default
  options.n_ei_candidates = 128;
  options.identity = {{"study", config::config_fingerprint(study)}, {"config", config::to_toml(study)},
                      {"directions", header.at("directions")}};
  options.check_identity = [&](const ordered_json& stored) {
    return config::study_mismatch(stored.value("study", ""), stored.value("config", ""), config);
  };
  const optimize::SearchSpace space = ablation::trial_search_space(
      6, {model::Component::kAttnOutput, model::Component::kMlpDown}, config.search_space);
  auto resumed = optimize::Study::open(dir / "journal.jsonl", space, options, false);
  EXPECT_EQ(resumed->resumed(), 6u);
  EXPECT_EQ(resumed->seed(), 1u);
  // What the old run recorded with each trial is kept as it was.
  const ordered_json& first = resumed->finished().at(0).attributes;
  EXPECT_TRUE(first.at("params").contains("attn.o_proj"));
  EXPECT_EQ(first.at("scores").size(), 2u);

  // The old 8-trial run: its trials 6 and 7, each asked after the previous one finished.
  std::vector<ordered_json> old_results;
  for (const auto& record : old_run) {
    if (record.value("type", "") == "result") old_results.push_back(record);
  }
  ASSERT_EQ(old_results.size(), 8u);
  for (int number = 6; number < 8; ++number) {
    const optimize::Trial trial = resumed->ask();
    const ordered_json& old = old_results[static_cast<size_t>(number)];
    ASSERT_EQ(trial.number, number);
    const optimize::Trial expected =
        optimize::trial_from_json_line(old.at("trial").dump(), space, "old trial " + std::to_string(number));
    EXPECT_EQ(trial.params, expected.params) << "trial " << number;
    EXPECT_EQ(ablation::to_json(ablation::decode_trial_params(space.named(trial.params))), old.at("params"));
    resumed->tell(trial.number, {old.at("values")[0].get<double>(), old.at("values")[1].get<double>()}, {});
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace heretic
