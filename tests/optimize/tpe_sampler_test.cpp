#include "optimize/tpe_sampler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <deque>
#include <set>
#include <stdexcept>

#include "common/error.h"
#include "optimize/hypervolume.h"

namespace heretic::optimize {
namespace {

SearchSpace small_space() {
  SearchSpace space;
  space.add_float("x", 0.0, 1.0);
  space.add_float("y", -2.0, 2.0);
  space.add_categorical("c", {"a", "b", "c"});
  return space;
}

std::vector<double> two_objectives(const std::vector<double>& p) {
  const double penalty = p[2] == 0 ? 0.0 : 0.5;
  return {p[0] + penalty, (1 - p[0]) + (p[1] - 0.5) * (p[1] - 0.5) + penalty};
}

TpeOptions options(int n_objectives, int startup, std::uint32_t seed = 0) {
  TpeOptions o;
  o.n_objectives = n_objectives;
  o.n_startup_trials = startup;
  o.n_ei_candidates = 32;
  o.seed = seed;
  return o;
}

void expect_in_space(const SearchSpace& space, const Trial& t) {
  ASSERT_EQ(t.params.size(), space.size());
  for (std::size_t p = 0; p < space.size(); ++p) {
    EXPECT_GE(t.params[p], space[p].low);
    EXPECT_LE(t.params[p], space[p].high);
    if (space[p].kind == ParamKind::kCategorical) {
      EXPECT_EQ(t.params[p], std::floor(t.params[p]));
    }
  }
}

TEST(TpeSampler, StartupTrialsAreRandomAndIgnoreResults) {
  TpeSampler a(small_space(), options(2, 10));
  TpeSampler b(small_space(), options(2, 10));
  for (int i = 0; i < 10; ++i) {
    const Trial ta = a.ask();
    const Trial tb = b.ask();
    EXPECT_EQ(ta.params, tb.params);  // what was told so far does not matter during startup
    expect_in_space(a.space(), ta);
    a.tell(ta.number, two_objectives(ta.params));
    b.tell(tb.number, {static_cast<double>(i), -static_cast<double>(i)});
    EXPECT_EQ(a.last_ask_record().best, -1);  // no model-based ask yet
  }
  a.ask();
  EXPECT_EQ(a.last_ask_record().n_complete, 10);
  EXPECT_EQ(a.last_ask_record().n_below, 1);
}

TEST(TpeSampler, FailedAndRunningTrialsDoNotCountTowardStartup) {
  TpeSampler sampler(small_space(), options(2, 5));
  std::set<int> failed;
  for (int i = 0; i < 12; ++i) {
    const Trial t = sampler.ask();
    if (i % 2 == 0) {
      sampler.fail(t.number);
      failed.insert(t.number);
    } else if (i == 3) {
      sampler.tell(t.number, {NAN, 1.0});  // a NaN objective fails the trial
      failed.insert(t.number);
    } else {
      sampler.tell(t.number, two_objectives(t.params));
    }
  }
  // Only 5 trials completed (1, 5, 7, 9, 11): the first ask after the 5th completion is the
  // first model-based one, and failed trials are nowhere in its groups.
  EXPECT_EQ(sampler.trial(3).state, TrialState::kFailed);
  const Trial next = sampler.ask();
  const TpeAskRecord record = sampler.last_ask_record();
  EXPECT_EQ(record.n_complete, 5);
  for (int number : record.below) EXPECT_EQ(failed.count(number), 0u);
  for (int number : record.above) EXPECT_EQ(failed.count(number), 0u);
  EXPECT_EQ(record.below.size() + record.above.size(), 5u);
  expect_in_space(sampler.space(), next);
}

TEST(TpeSampler, AllFailedStaysRandomForever) {
  TpeSampler sampler(small_space(), options(1, 0));
  for (int i = 0; i < 20; ++i) sampler.fail(sampler.ask().number);
  sampler.ask();
  EXPECT_EQ(sampler.last_ask_record().best, -1);
}

TEST(TpeSampler, SameSeedAndCallsGiveSameProposals) {
  auto run = [](std::uint32_t seed) {
    TpeSampler sampler(small_space(), options(2, 8, seed));
    std::vector<std::vector<double>> proposals;
    for (int i = 0; i < 30; ++i) {
      const Trial t = sampler.ask();
      proposals.push_back(t.params);
      sampler.tell(t.number, two_objectives(t.params));
    }
    return proposals;
  };
  EXPECT_EQ(run(4), run(4));
  EXPECT_NE(run(4), run(5));
}

TEST(TpeSampler, SingleObjectiveConvergesOnAQuadratic) {
  SearchSpace space;
  space.add_float("x", -5.0, 5.0);
  space.add_float("y", -5.0, 5.0);
  TpeOptions o = options(1, 10, 3);
  o.n_ei_candidates = 24;
  TpeSampler sampler(space, o);
  double best_random = INFINITY, best_model = INFINITY;
  for (int i = 0; i < 80; ++i) {
    const Trial t = sampler.ask();
    const double v =
        (t.params[0] - 1.3) * (t.params[0] - 1.3) + (t.params[1] + 0.7) * (t.params[1] + 0.7);
    (i < 10 ? best_random : best_model) = std::min(i < 10 ? best_random : best_model, v);
    sampler.tell(t.number, {v});
  }
  EXPECT_LT(best_model, 0.05);
  EXPECT_LT(best_model, best_random / 10);
}

TEST(TpeSampler, InfiniteObjectivesAreHandled) {
  for (int n_objectives : {1, 2, 3}) {
    TpeSampler sampler(small_space(), options(n_objectives, 4));
    for (int i = 0; i < 25; ++i) {
      const Trial t = sampler.ask();
      expect_in_space(sampler.space(), t);
      std::vector<double> values(static_cast<std::size_t>(n_objectives), t.params[0]);
      if (i % 3 == 0) values[0] = INFINITY;
      if (i % 5 == 0) values.back() = -INFINITY;
      sampler.tell(t.number, values);
      EXPECT_EQ(sampler.trial(t.number).state, TrialState::kComplete);
    }
  }
}

TEST(TpeSampler, ConstantLiarPutsRunningTrialsAbove) {
  for (bool liar : {true, false}) {
    TpeOptions o = options(2, 6);
    o.constant_liar = liar;
    TpeSampler sampler(small_space(), o);
    for (int i = 0; i < 6; ++i) {
      const Trial t = sampler.ask();
      sampler.tell(t.number, two_objectives(t.params));
    }
    std::vector<Trial> in_flight;
    for (int w = 0; w < 4; ++w) in_flight.push_back(sampler.ask());  // four workers ask at once
    const TpeAskRecord record = sampler.last_ask_record();
    const std::size_t running_above = static_cast<std::size_t>(
        std::count_if(record.above.begin(), record.above.end(), [](int n) { return n >= 6; }));
    EXPECT_EQ(running_above, liar ? 3u : 0u);
    std::set<std::vector<double>> distinct;
    for (const Trial& t : in_flight) distinct.insert(t.params);
    EXPECT_EQ(distinct.size(), 4u);
  }
}

TEST(TpeSampler, Optuna31SemanticsIgnoreTheLiarForSeveralObjectives) {
  TpeOptions o = options(2, 6);
  o.semantics = TpeSemantics::optuna_3_1();
  TpeSampler sampler(small_space(), o);
  for (int i = 0; i < 6; ++i) {
    const Trial t = sampler.ask();
    sampler.tell(t.number, two_objectives(t.params));
  }
  sampler.ask();
  sampler.ask();
  EXPECT_EQ(sampler.last_ask_record().above.size(), 5u);  // 6 complete, 1 below, no running
}

TEST(TpeSampler, SinglePointParametersAreFixedAndNotSampled) {
  SearchSpace space;
  space.add_float("x", 0.0, 1.0);
  space.add_float("fixed", 2.5, 2.5);
  space.add_categorical("only", {"one"});
  TpeSampler sampler(space, options(1, 3));
  for (int i = 0; i < 10; ++i) {
    const Trial t = sampler.ask();
    EXPECT_EQ(t.params[1], 2.5);
    EXPECT_EQ(t.params[2], 0.0);
    sampler.tell(t.number, {t.params[0]});
  }
  EXPECT_EQ(sampler.last_ask_record().candidates.size(), 32u);  // one sampled parameter
}

TEST(TpeSampler, RejectsBadTells) {
  TpeSampler sampler(small_space(), options(2, 3));
  const Trial t = sampler.ask();
  EXPECT_THROW(sampler.tell(t.number, {1.0}), std::invalid_argument);
  sampler.tell(t.number, {1.0, 2.0});
  EXPECT_THROW(sampler.tell(t.number, {1.0, 2.0}), std::invalid_argument);
  EXPECT_THROW(sampler.fail(7), std::invalid_argument);
}

// An interrupted run rebuilt from the journal lines proposes what the uninterrupted one does.
TEST(TpeSampler, RebuiltFromJsonLinesContinuesIdentically) {
  for (TpeSemantics semantics : {TpeSemantics::optuna_4_9(), TpeSemantics::optuna_3_1()}) {
    TpeOptions o = options(2, 10, 17);
    o.semantics = semantics;
    TpeSampler original(small_space(), o);
    std::vector<std::string> journal;  // asked and finished records, as a coordinator writes
    std::deque<int> pending;
    auto step = [&](TpeSampler& sampler, std::vector<std::string>* lines) {
      const Trial t = sampler.ask();
      if (lines) lines->push_back(to_json_line(t, sampler.space()));
      pending.push_back(t.number);
      if (pending.size() == 4) {  // four workers, FIFO completion
        const int number = pending.front();
        pending.pop_front();
        const Trial done = sampler.trial(number);
        if (number % 7 == 3) {
          sampler.fail(number);
        } else {
          sampler.tell(number, two_objectives(done.params));
        }
        if (lines) lines->push_back(to_json_line(sampler.trial(number), sampler.space()));
      }
      return t.params;
    };
    for (int i = 0; i < 40; ++i) step(original, &journal);
    const std::deque<int> pending_at_restart = pending;

    TpeSampler rebuilt(small_space(), o);
    rebuilt.restore_from_json_lines(journal, "journal.jsonl");
    ASSERT_EQ(rebuilt.trials().size(), original.trials().size());
    std::vector<std::vector<double>> from_original, from_rebuilt;
    for (int i = 0; i < 15; ++i) from_original.push_back(step(original, nullptr));
    pending = pending_at_restart;
    for (int i = 0; i < 15; ++i) from_rebuilt.push_back(step(rebuilt, nullptr));
    EXPECT_EQ(from_original, from_rebuilt);
  }
}

TEST(TpeSampler, RestoreRejectsGapsInTrialNumbers) {
  TpeSampler sampler(small_space(), options(2, 3));
  const Trial a = sampler.ask();
  sampler.ask();
  const Trial c = sampler.ask();
  TpeSampler other(small_space(), options(2, 3));
  EXPECT_THROW(other.restore({a, c}, "journal.jsonl"), InputError);
}

// A damaged (yet CRC-valid) journal must not make the resume allocate a trial table of its
// trial number, nor draw as many random numbers as its stream position says.
TEST(TpeSampler, RestoreRefusesTrialNumbersAndStreamPositionsFarBeyondTheJournal) {
  TpeSampler sampler(small_space(), options(2, 3));
  Trial far_number = sampler.ask();
  far_number.number = 1000000000;
  TpeSampler other(small_space(), options(2, 3));
  try {
    other.restore_from_json_lines({to_json_line(far_number, sampler.space())}, "journal.jsonl");
    ADD_FAILURE() << "accepted trial number 10^9";
  } catch (const InputError& error) {
    EXPECT_NE(std::string(error.what()).find("journal.jsonl line 1: key 'trial' is 1000000000"), std::string::npos)
        << error.what();
  }
  Trial far_position = sampler.trial(0);
  far_position.streams.startup = 1000000000000000000ULL;
  try {
    other.restore_from_json_lines({to_json_line(far_position, sampler.space())}, "journal.jsonl");
    ADD_FAILURE() << "accepted stream position 10^18";
  } catch (const InputError& error) {
    EXPECT_NE(std::string(error.what()).find("journal.jsonl: trial 0 key 'streams'"), std::string::npos)
        << error.what();
  }
}

}  // namespace
}  // namespace heretic::optimize
