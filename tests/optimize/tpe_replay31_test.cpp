// Replays Optuna 3.1.0's fixtures (tests/fixtures/tpe/README.md): 60 random trials, then the
// first model-based proposal, which must match to 1e-9 in compat mode.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "optimize/tpe_sampler.h"

namespace heretic::optimize {
namespace {

using nlohmann::json;

json load_trace(int seed) {
  const std::string path = std::string(HERETIC_SOURCE_DIR) +
                           "/tests/fixtures/tpe/tpe31_trace_seed" + std::to_string(seed) + ".json";
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << path;
  return json::parse(in);
}

SearchSpace zdt_space() {
  SearchSpace space;
  for (int i = 0; i < 10; ++i) space.add_float("x" + std::to_string(i), 0.0, 1.0);
  space.add_categorical("c", {"a", "b"});
  return space;
}

TpeOptions options_31(int seed) {
  TpeOptions options;
  options.n_objectives = 2;
  options.n_startup_trials = 60;
  options.n_ei_candidates = 128;
  options.seed = static_cast<std::uint32_t>(seed);
  options.semantics = TpeSemantics::optuna_3_1();
  return options;
}

// Asks and tells the fixture's 60 random trials; checks that startup reproduces them exactly.
void replay_history(TpeSampler& sampler, const json& trace) {
  for (const json& h : trace["history"]) {
    const Trial t = sampler.ask();
    const std::vector<double> expected = h["params"].get<std::vector<double>>();
    ASSERT_EQ(t.params.size(), expected.size());
    for (std::size_t p = 0; p < expected.size(); ++p) {
      ASSERT_EQ(t.params[p], expected[p]) << "trial " << t.number << " param " << p;
    }
    sampler.tell(t.number, h["values"].get<std::vector<double>>());
  }
}

void expect_near_all(const std::vector<double>& actual, const std::vector<double>& expected,
                     double tolerance, const char* what) {
  ASSERT_EQ(actual.size(), expected.size()) << what;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_NEAR(actual[i], expected[i], tolerance) << what << "[" << i << "]";
  }
}

class Replay31 : public ::testing::TestWithParam<int> {};

TEST_P(Replay31, FirstModelProposalMatchesOptuna31) {
  const json trace = load_trace(GetParam());
  TpeSampler sampler(zdt_space(), options_31(GetParam()));
  replay_history(sampler, trace);
  const Trial proposal = sampler.ask();
  const TpeAskRecord record = sampler.last_ask_record();

  EXPECT_EQ(record.n_complete, trace["n"].get<int>());
  EXPECT_EQ(record.n_below, trace["n_below"].get<int>());
  EXPECT_EQ(record.below, trace["below_indices_in_order"].get<std::vector<int>>());
  EXPECT_EQ(record.above, trace["above_indices"].get<std::vector<int>>());
  expect_near_all(record.below_weights, trace["weights_below_raw"], 1e-12, "below weights");
  expect_near_all(record.mixture_weights_below, trace["mixture_weights_below"], 1e-12, "pi_l");
  expect_near_all(record.mixture_weights_above, trace["mixture_weights_above"], 1e-12, "pi_g");
  expect_near_all(record.sigma_below, trace["sigma_below_x0"], 1e-12, "sigma_l");
  expect_near_all(record.sigma_above, trace["sigma_above_x0"], 1e-12, "sigma_g");

  const json& candidates = trace["candidates"];
  const std::vector<std::string> order = trace["param_order"];
  for (std::size_t p = 0; p < order.size(); ++p) {
    const std::vector<double> column = candidates[order[p]];
    for (std::size_t i = 0; i < column.size(); ++i) {
      ASSERT_NEAR(record.candidates[i * order.size() + p], column[i], 1e-12)
          << order[p] << " candidate " << i;
    }
  }
  expect_near_all(record.log_l, trace["log_l"], 1e-9, "log l");
  expect_near_all(record.log_g, trace["log_g"], 1e-9, "log g");
  EXPECT_EQ(record.best, trace["best_index"].get<int>());
  expect_near_all(proposal.params, trace["proposal"], 1e-9, "proposal");
}

TEST_P(Replay31, CorrectedDensityPicksWhatOptunaWithLogSigmaPicks) {
  const json trace = load_trace(GetParam());
  TpeOptions options = options_31(GetParam());
  options.semantics.omit_log_sigma = false;
  TpeSampler sampler(zdt_space(), options);
  replay_history(sampler, trace);
  sampler.ask();
  const TpeAskRecord record = sampler.last_ask_record();
  expect_near_all(record.log_l, trace["log_l_fixed"], 1e-9, "log l fixed");
  expect_near_all(record.log_g, trace["log_g_fixed"], 1e-9, "log g fixed");
  EXPECT_EQ(record.best, trace["best_index_fixed"].get<int>());
}

INSTANTIATE_TEST_SUITE_P(Seeds, Replay31, ::testing::Values(0, 1, 2));

// ZDT1-C exactly as tools/bench/tpe/optuna_runner.py computes it (numpy's 9-term sum order).
std::vector<double> zdt1c(const std::vector<double>& p) {
  const int c = static_cast<int>(p[10]);
  double y[9];
  for (int i = 0; i < 9; ++i) y[i] = c == 0 ? p[i + 1] : 1.0 - p[i + 1];
  const double sum = (((y[0] + y[1]) + (y[2] + y[3])) + ((y[4] + y[5]) + (y[6] + y[7]))) + y[8];
  const double g = 1.0 + 9.0 * (sum / 9.0) + 0.25 * c;
  return {p[0], g * (1.0 - std::sqrt(p[0] / g))};
}

// A whole asynchronous run (8 workers, FIFO completion, 200 trials) in 3.1 mode tells exactly
// the values Optuna 3.1.0 told: every proposal along the way matched.
TEST(Replay31Run, EightWorkerRunMatchesOptunaTrialByTrial) {
  std::ifstream in(std::string(HERETIC_SOURCE_DIR) +
                   "/tests/fixtures/tpe/optuna31_zdt1c_w8_seed0.jsonl");
  ASSERT_TRUE(in.good());
  std::string line;
  std::getline(in, line);
  const json run = json::parse(line);
  const auto expected = run["values"].get<std::vector<std::vector<double>>>();
  ASSERT_EQ(expected.size(), 200u);

  TpeSampler sampler(zdt_space(), options_31(0));
  std::vector<std::pair<int, std::vector<double>>> pending;
  std::size_t told = 0;
  int asked = 0;
  while (told < expected.size()) {
    while (pending.size() < 8 && asked < 200) {
      const Trial t = sampler.ask();
      ++asked;
      pending.emplace_back(t.number, zdt1c(t.params));
    }
    const auto [number, values] = pending.front();
    pending.erase(pending.begin());
    sampler.tell(number, values);
    ASSERT_NEAR(values[0], expected[told][0], 1e-9) << "told trial " << told;
    ASSERT_NEAR(values[1], expected[told][1], 1e-9) << "told trial " << told;
    ++told;
  }
}

}  // namespace
}  // namespace heretic::optimize
