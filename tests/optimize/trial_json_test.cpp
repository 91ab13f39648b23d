#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "common/error.h"
#include "optimize/trial.h"

namespace heretic::optimize {
namespace {

SearchSpace space() {
  SearchSpace s;
  s.add_categorical("scope", {"global", "per layer"});
  s.add_float("index", 0.4, 27.9);
  return s;
}

TEST(TrialJson, RoundTripsExactlyIncludingNonFiniteValues) {
  Trial t;
  t.number = 12;
  t.state = TrialState::kComplete;
  t.params = {1.0, 1.1 + 0.2};  // 1.3000000000000003: needs all 17 digits
  t.values = {0.30000000000000004, INFINITY, -INFINITY};
  t.streams = {24, 3072};
  const std::string line = to_json_line(t, space());
  EXPECT_EQ(line.find('\n'), std::string::npos);
  const Trial back = trial_from_json_line(line, space(), "journal.jsonl line 3");
  EXPECT_EQ(back.number, 12);
  EXPECT_EQ(back.state, TrialState::kComplete);
  EXPECT_EQ(back.params, t.params);
  EXPECT_EQ(back.values, t.values);
  EXPECT_EQ(back.streams.startup, 24u);
  EXPECT_EQ(back.streams.tpe, 3072u);
  EXPECT_EQ(back.choice(space(), 0), "per layer");
}

void expect_error_mentions(const std::string& line, const std::string& needle) {
  try {
    trial_from_json_line(line, space(), "journal.jsonl line 9");
    ADD_FAILURE() << "no error for " << line;
  } catch (const InputError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("journal.jsonl line 9"), std::string::npos) << message;
    EXPECT_NE(message.find(needle), std::string::npos) << message;
  }
}

TEST(TrialJson, BadLinesNameTheKey) {
  const std::string streams = R"("streams":{"startup":0,"tpe":0})";
  expect_error_mentions("{not json", "byte");
  expect_error_mentions(
      R"({"trial":1,"state":"complete","params":{"scope":0},"values":[1],)" + streams + "}",
      "params.index");
  expect_error_mentions(
      R"({"trial":1,"state":"done","params":{"scope":0,"index":1},"values":[1],)" + streams + "}",
      "state");
  expect_error_mentions(
      R"({"trial":1,"state":"running","params":{"scope":2,"index":1},"values":[],)" + streams + "}",
      "params.scope");
  expect_error_mentions(
      R"({"trial":1,"state":"running","params":{"scope":0,"index":99},"values":[],)" + streams +
          "}",
      "params.index");
  expect_error_mentions(
      R"({"trial":1,"state":"complete","params":{"scope":0,"index":1},"values":[],)" + streams +
          "}",
      "values");
  expect_error_mentions(
      R"({"trial":-1,"state":"running","params":{"scope":0,"index":1},"values":[],)" + streams +
          "}",
      "trial");
  expect_error_mentions(
      R"({"trial":1,"state":"running","params":{"scope":0,"index":1,"extra":2},"values":[],)" +
          streams + "}",
      "params.extra");
  expect_error_mentions(
      R"({"trial":1,"state":"running","params":{"scope":0,"index":1},"values":[]})", "streams");
}

}  // namespace
}  // namespace heretic::optimize
