// The command line as a user meets it: exit codes, messages, --print-config, --help.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tests/config/bad_config_cases.h"
#include "tests/support/run_process.h"

namespace heretic {
namespace {

using heretic::testing::run_process;
using heretic::testing::shell_quote;

const std::string kExe = HERETIC_EXECUTABLE;
const std::string kSource = HERETIC_SOURCE_DIR;

std::filesystem::path scratch(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / ("heretic-cli-" + name);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

class BadConfigCli : public ::testing::TestWithParam<BadConfigCase> {};

TEST_P(BadConfigCli, ExitsWithCode2AndNamesTheProblem) {
  const BadConfigCase& c = GetParam();
  const auto dir = scratch(c.name);
  const auto file = dir / "job.toml";
  if (c.toml != nullptr) std::ofstream(file) << c.toml;
  std::string command = "cd " + shell_quote(dir.string()) + " && " + shell_quote(kExe) + " --config " +
                        shell_quote(file.string());
  for (const auto& set : c.sets) command += " --set " + shell_quote(set);
  const auto result = run_process(command);
  EXPECT_EQ(result.exit_code, 2) << result.err;
  EXPECT_NE((result.err + "\n").find(c.fragment), std::string::npos)
      << "stderr: " << result.err << "\nexpected fragment: " << c.fragment;
  // Nothing is written for a run that never started.
  EXPECT_FALSE(std::filesystem::exists(dir / "heretic-output"));
  std::filesystem::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Cases, BadConfigCli, ::testing::ValuesIn(bad_config_cases()),
                         [](const auto& param_info) { return std::string(param_info.param.name); });

TEST(Cli, PrintConfigRoundTripsTheShippedDefault) {
  const auto dir = scratch("print-config");
  const auto first = run_process(shell_quote(kExe) + " --config " + shell_quote(kSource + "/configs/default.toml") +
                                 " --print-config");
  ASSERT_EQ(first.exit_code, 0) << first.err;
  std::ofstream(dir / "printed.toml") << first.out;
  const auto second =
      run_process(shell_quote(kExe) + " --config " + shell_quote((dir / "printed.toml").string()) + " --print-config");
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_EQ(first.out, second.out);
  EXPECT_NE(first.out.find("n_trials = 200\n"), std::string::npos);
}

TEST(Cli, PrintConfigShowsOverrides) {
  const auto result = run_process(shell_quote(kExe) + " --config " + shell_quote(kSource + "/configs/default.toml") +
                                  " --set n_trials=12 --set n_startup_trials=5 --set mpi.ranks_per_trial=2 --print-config");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("n_trials = 12\n"), std::string::npos);
  EXPECT_NE(result.out.find("ranks_per_trial = 2\n"), std::string::npos);
}

TEST(Cli, HelpListsOptionsAndSubcommands) {
  const auto result = run_process(shell_quote(kExe) + " --help");
  EXPECT_EQ(result.exit_code, 0);
  for (const char* text : {"--config", "--set", "--print-config", "--version", "Exit codes"}) {
    EXPECT_NE(result.out.find(text), std::string::npos) << text;
  }
}

TEST(Cli, VersionPrintsTheVersion) {
  const auto result = run_process(shell_quote(kExe) + " --version");
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(result.out.rfind("heretic-mpi ", 0), 0u) << result.out;
}

TEST(Cli, MissingConfigOptionIsUsageError) {
  const auto result = run_process(shell_quote(kExe));
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("--config FILE is required"), std::string::npos) << result.err;
}

TEST(Cli, UnknownOptionIsUsageError) {
  const auto result = run_process(shell_quote(kExe) + " --confg x.toml");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("confg"), std::string::npos) << result.err;
}

TEST(Cli, UnknownSubcommandIsUsageError) {
  const auto result = run_process(shell_quote(kExe) + " tokenise --model x");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("unknown command 'tokenise'"), std::string::npos) << result.err;
}

}  // namespace
}  // namespace heretic
