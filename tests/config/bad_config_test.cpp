// Every bad configuration is rejected with a message that names the place and the key.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "config/load.h"
#include "tests/config/bad_config_cases.h"

namespace heretic::config {
namespace {

class BadConfig : public ::testing::TestWithParam<BadConfigCase> {};

TEST_P(BadConfig, IsRejectedWithAClearMessage) {
  const BadConfigCase& c = GetParam();
  const auto dir = std::filesystem::temp_directory_path() / ("heretic-bad-config-" + std::string(c.name));
  std::filesystem::create_directories(dir);
  const auto file = dir / "job.toml";
  std::filesystem::remove(file);
  if (c.toml != nullptr) std::ofstream(file) << c.toml;
  try {
    load_config(file.string(), c.sets);
    FAIL() << "accepted a bad configuration";
  } catch (const ConfigError& e) {
    EXPECT_NE((std::string(e.what()) + "\n").find(c.fragment), std::string::npos)
        << "message: " << e.what() << "\nexpected fragment: " << c.fragment;
  }
  std::filesystem::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Cases, BadConfig, ::testing::ValuesIn(bad_config_cases()),
                         [](const auto& param_info) { return std::string(param_info.param.name); });

TEST(BadConfigDirectory, ADirectoryIsNotAConfigFile) {
  try {
    load_config(std::filesystem::temp_directory_path().string());
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("is a directory"), std::string::npos);
  }
}

TEST(BadConfigAll, EveryProblemIsReportedNotOnlyTheFirst) {
  try {
    parse_config("model = \"m\"\nn_trials = 0\nbatch_size = -1\nfoo = 1\n", "job.toml");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.problems().size(), 3u) << e.what();
  }
}

}  // namespace
}  // namespace heretic::config
