// Which keys differ between the configuration a journal was written with and the current one.
#include "config/compare.h"

#include <gtest/gtest.h>

#include "config/config.h"
#include "config/print.h"

namespace heretic::config {
namespace {

TEST(ConfigDifferences, NamesChangedAddedAndRemovedKeys) {
  const std::string was = "n_trials = 10\nseed = 1\n[good_prompts]\nsplit = \"[:400]\"\n";
  const std::string now = "n_trials = 12\n[good_prompts]\nsplit = \"[:200]\"\n[mpi]\nranks_per_trial = 2\n";
  const std::string defaults = "n_trials = 200\n[mpi]\nranks_per_trial = 1\n";
  EXPECT_EQ(config_differences(was, now, defaults),
            (std::vector<std::string>{"good_prompts.split: was \"[:400]\", now \"[:200]\"", "mpi.ranks_per_trial: was unset, now 2",
                                      "n_trials: was 10, now 12", "seed: was 1, now unset"}));
}

TEST(ConfigDifferences, AnOptionNewerThanTheJournalAtItsDefaultIsNoDifference) {
  // The journal was written before [mpi] stop_grace_seconds existed.
  const std::string was = "n_trials = 10\n[mpi]\nranks_per_trial = 1\n";
  const std::string now = "n_trials = 10\n[mpi]\nranks_per_trial = 1\nstop_grace_seconds = 60.0\n";
  EXPECT_TRUE(config_differences(was, now, "[mpi]\nstop_grace_seconds = 60.0\n").empty());
  EXPECT_EQ(config_differences(was, "n_trials = 10\n[mpi]\nranks_per_trial = 1\nstop_grace_seconds = 5.0\n",
                               "[mpi]\nstop_grace_seconds = 60.0\n"),
            (std::vector<std::string>{"mpi.stop_grace_seconds: was unset, now 5.0"}));
}

TEST(ConfigDifferences, TheEffectiveConfigurationEqualsItself) {
  Config config = default_config();
  config.model = "org/model";
  const std::string text = to_toml(config);
  EXPECT_TRUE(config_differences(text, text, to_toml(default_config())).empty());
  config.winsorization_quantile = 0.99;
  EXPECT_EQ(config_differences(text, to_toml(config), to_toml(default_config())),
            (std::vector<std::string>{"winsorization_quantile: was 1.0, now 0.99"}));
}

}  // namespace
}  // namespace heretic::config
