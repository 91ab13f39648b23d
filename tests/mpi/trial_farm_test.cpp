// The trial farm with 2-4 in-process ranks: trials go to idle groups and each is recorded once,
// groups of several ranks evaluate together, failures and stop signals behave as a user of a
// cluster needs (a failed trial does not end the run; a signal stops it resumably; trials still
// running after the grace time are abandoned and redone on resume).
#include "mpi/trial_farm.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "common/error.h"
#include "mpi/in_process_communicator.h"
#include "optimize/study.h"
#include "optimize/tpe_sampler.h"

namespace heretic::dist {
namespace {

using namespace std::chrono_literals;

// Hands out trials 0..n-1 (parameter x = number / 2) and keeps what comes back.
class ListSource : public TrialSource {
 public:
  explicit ListSource(int n) : n_(n) {}
  std::optional<TrialAssignment> next_trial() override {
    std::lock_guard<std::mutex> lock(mutex);
    if (next_ >= n_) return std::nullopt;
    TrialAssignment a;
    a.number = next_++;
    a.params = {{"x", a.number / 2.0}};
    in_flight.insert(a.number);
    max_in_flight = std::max(max_in_flight, in_flight.size());
    return a;
  }
  void record(const TrialOutcome& outcome, int leader) override {
    std::lock_guard<std::mutex> lock(mutex);
    in_flight.erase(outcome.number);
    outcomes[outcome.number] = outcome;
    leaders[outcome.number] = leader;
    if (on_record) on_record(static_cast<int>(outcomes.size()));
  }
  void stopping(int signal, const std::string& who, size_t running, double) override {
    std::lock_guard<std::mutex> lock(mutex);
    stops.push_back({signal, who, running});
  }
  void abandon(const std::vector<int32_t>& running) override {
    std::lock_guard<std::mutex> lock(mutex);
    abandoned = running;
  }

  struct Stop {
    int signal;
    std::string who;
    size_t running;
  };
  std::mutex mutex;
  std::map<int, TrialOutcome> outcomes;
  std::map<int, int> leaders;
  std::set<int> in_flight;
  size_t max_in_flight = 0;
  std::vector<Stop> stops;
  std::vector<int32_t> abandoned;
  std::function<void(int)> on_record;

 private:
  int n_;
  int next_ = 0;
};

double x_of(const TrialAssignment& a) { return a.params.at(0).second; }

// Every rank runs a farm; rank 0 with `source`. Returns each rank's exception and stop value.
struct FarmRun {
  std::vector<std::exception_ptr> errors;
  std::vector<int> stops;
};

FarmRun run_farm(int ranks, FarmOptions options, TrialSource& source,
                 const std::function<TrialOutcome(const TrialAssignment&, TrialFarm&, Communicator&)>& evaluate,
                 const std::function<int(int rank)>& stop_signal = nullptr) {
  FarmRun run;
  run.stops.assign(static_cast<size_t>(ranks), -1);
  std::mutex mutex;
  run.errors = run_in_process(ranks, [&](Communicator& world) {
    FarmOptions mine = options;
    const int rank = world.rank();
    mine.stop_signal = [&stop_signal, rank] { return stop_signal ? stop_signal(rank) : 0; };
    TrialFarm farm(world, mine);
    const int stop = farm.run(rank == 0 ? &source : nullptr,
                              [&](const TrialAssignment& a) { return evaluate(a, farm, world); });
    std::lock_guard<std::mutex> lock(mutex);
    run.stops[static_cast<size_t>(rank)] = stop;
  });
  return run;
}

int exit_code_of(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const Aborted& aborted) {
    return aborted.exit_code();
  } catch (...) {
    return -1;
  }
}

void expect_no_errors(const FarmRun& run) {
  for (size_t r = 0; r < run.errors.size(); ++r) {
    if (!run.errors[r]) continue;
    try {
      std::rethrow_exception(run.errors[r]);
    } catch (const std::exception& e) {
      ADD_FAILURE() << "rank " << r << ": " << e.what();
    }
  }
}

TEST(TrialFarm, EveryTrialGoesToAnIdleGroupAndIsRecordedOnce) {
  ListSource source(14);
  std::mutex mutex;
  std::map<int, int> evaluated_by;  // trial -> world rank
  const FarmRun run = run_farm(4, FarmOptions{}, source, [&](const TrialAssignment& a, TrialFarm&, Communicator& world) {
    {
      std::lock_guard<std::mutex> lock(mutex);
      EXPECT_TRUE(evaluated_by.emplace(a.number, world.rank()).second) << "trial " << a.number << " evaluated twice";
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5 + 7 * ((a.number * 3) % 4)));
    TrialOutcome outcome;
    outcome.scores = {{x_of(a), 1}};
    outcome.seconds = 0.01;
    return outcome;
  });
  expect_no_errors(run);
  ASSERT_EQ(source.outcomes.size(), 14u);
  for (const auto& [number, outcome] : source.outcomes) {
    EXPECT_EQ(outcome.scores.at(0).sum, number / 2.0);  // the outcome of that very trial
    EXPECT_EQ(source.leaders.at(number), evaluated_by.at(number));
    EXPECT_FALSE(outcome.failed);
  }
  EXPECT_EQ(source.max_in_flight, 4u);  // every group was kept busy
  std::set<int> workers;
  for (const auto& [number, rank] : evaluated_by) workers.insert(rank);
  EXPECT_EQ(workers.size(), 4u);
  EXPECT_EQ(run.stops, (std::vector<int>{0, 0, 0, 0}));
}

TEST(TrialFarm, AGroupOfTwoEvaluatesEachTrialTogether) {
  ListSource source(6);
  std::mutex mutex;
  std::map<int, std::set<int>> members;  // trial -> world ranks that evaluated it
  const FarmRun run = run_farm(4, FarmOptions{2, 60.0, {}}, source,
                               [&](const TrialAssignment& a, TrialFarm& farm, Communicator& world) {
                                 {
                                   std::lock_guard<std::mutex> lock(mutex);
                                   members[a.number].insert(world.rank());
                                 }
                                 // Each rank scores its shard; the group's sum is the trial's.
                                 double part[2] = {x_of(a) * (farm.group().rank() + 1), 1.0};
                                 farm.group().allreduce_sum(part, 2);
                                 TrialOutcome outcome;
                                 outcome.scores = {{part[0], static_cast<int64_t>(part[1])}};
                                 return outcome;
                               });
  expect_no_errors(run);
  ASSERT_EQ(source.outcomes.size(), 6u);
  for (const auto& [number, outcome] : source.outcomes) {
    EXPECT_EQ(outcome.scores.at(0).sum, 3 * number / 2.0);
    EXPECT_EQ(outcome.scores.at(0).count, 2);
    const std::set<int> pair = members.at(number);
    EXPECT_TRUE(pair == (std::set<int>{0, 1}) || pair == (std::set<int>{2, 3})) << "trial " << number;
    EXPECT_EQ(source.leaders.at(number), *pair.begin());
  }
}

TEST(TrialFarm, AFailedTrialIsRecordedAsFailedAndTheRunGoesOn) {
  ListSource source(6);
  const FarmRun run = run_farm(2, FarmOptions{}, source, [&](const TrialAssignment& a, TrialFarm&, Communicator&) {
    if (a.number == 2) throw std::runtime_error("CUDA out of memory at batch size 1");
    TrialOutcome outcome;
    outcome.scores = {{1.0, 1}};
    return outcome;
  });
  expect_no_errors(run);
  ASSERT_EQ(source.outcomes.size(), 6u);
  EXPECT_TRUE(source.outcomes.at(2).failed);
  EXPECT_EQ(source.outcomes.at(2).error, "CUDA out of memory at batch size 1");
  EXPECT_TRUE(source.outcomes.at(2).scores.empty());
  EXPECT_FALSE(source.outcomes.at(3).failed);
}

TEST(TrialFarm, ARankWhoseEvaluateThrowsInsideALargerGroupEndsTheJob) {
  ListSource source(4);
  const FarmRun run = run_farm(2, FarmOptions{2, 60.0, {}}, source,
                               [&](const TrialAssignment& a, TrialFarm& farm, Communicator&) -> TrialOutcome {
                                 if (a.number == 1 && farm.group().rank() == 1) throw std::runtime_error("rank 1 broke");
                                 double part = 1.0;
                                 farm.group().allreduce_sum(&part, 1);  // rank 0 waits here for rank 1
                                 TrialOutcome outcome;
                                 outcome.scores = {{part, 1}};
                                 return outcome;
                               });
  ASSERT_TRUE(run.errors[1]);
  EXPECT_THROW(std::rethrow_exception(run.errors[1]), std::runtime_error);
  ASSERT_TRUE(run.errors[0]);
  EXPECT_EQ(exit_code_of(run.errors[0]), 1);  // the job ended instead of waiting forever
  EXPECT_EQ(source.outcomes.count(1), 0u);
}

TEST(TrialFarm, AStopSignalStartsNoNewTrialAndLetsRunningOnesFinish) {
  ListSource source(40);
  std::atomic<int> signal{0};
  source.on_record = [&](int recorded) {
    if (recorded == 3) signal = SIGTERM;
  };
  const FarmRun run = run_farm(
      3, FarmOptions{1, 30.0, {}}, source,
      [&](const TrialAssignment&, TrialFarm&, Communicator&) {
        std::this_thread::sleep_for(20ms);
        TrialOutcome outcome;
        outcome.scores = {{0.0, 1}};
        return outcome;
      },
      [&](int rank) { return rank == 0 ? signal.load() : 0; });
  expect_no_errors(run);
  EXPECT_EQ(run.stops, (std::vector<int>{SIGTERM, SIGTERM, SIGTERM}));  // every rank knows
  ASSERT_EQ(source.stops.size(), 1u);
  EXPECT_EQ(source.stops[0].who, "");
  EXPECT_LE(source.outcomes.size(), 6u);  // the 3 recorded + at most the 3 in flight then
  EXPECT_TRUE(source.in_flight.empty());  // every started trial finished
  EXPECT_TRUE(source.abandoned.empty());
}

TEST(TrialFarm, AGroupLeaderThatGetsASignalStopsTheFarm) {
  ListSource source(40);
  std::atomic<int> evaluated{0};
  const FarmRun run = run_farm(
      2, FarmOptions{1, 30.0, {}}, source,
      [&](const TrialAssignment&, TrialFarm&, Communicator&) {
        ++evaluated;
        std::this_thread::sleep_for(10ms);
        TrialOutcome outcome;
        outcome.scores = {{0.0, 1}};
        return outcome;
      },
      [&](int rank) { return rank == 1 && evaluated >= 4 ? SIGUSR1 : 0; });
  expect_no_errors(run);
  EXPECT_EQ(run.stops, (std::vector<int>{SIGUSR1, SIGUSR1}));
  ASSERT_EQ(source.stops.size(), 1u);
  EXPECT_EQ(source.stops[0].who, "rank 1");
  EXPECT_LT(source.outcomes.size(), 40u);
}

TEST(TrialFarm, ACoordinatorThatCannotRecordEndsTheJobWithItsError) {
  class FullDisk : public ListSource {
   public:
    FullDisk() : ListSource(10) {}
    void record(const TrialOutcome&, int) override { throw InputError("journal.jsonl: No space left on device"); }
  } source;
  const FarmRun run = run_farm(2, FarmOptions{}, source, [&](const TrialAssignment&, TrialFarm&, Communicator&) {
    std::this_thread::sleep_for(5ms);
    return TrialOutcome{};
  });
  ASSERT_TRUE(run.errors[0] && run.errors[1]);
  EXPECT_THROW(std::rethrow_exception(run.errors[0]), InputError);
  EXPECT_EQ(exit_code_of(run.errors[1]), 2);
}

// ---- with a real study: constant liar, abandon and resume -----------------------------------

// Trials from a journaled study; the outcome's score is the objective.
class StudySource : public TrialSource {
 public:
  explicit StudySource(optimize::Study& study, int n_trials) : study_(study), n_trials_(n_trials) {}
  std::optional<TrialAssignment> next_trial() override {
    if (static_cast<int>(study_.finished().size() + in_flight.size()) >= n_trials_) return std::nullopt;
    const optimize::Trial trial = study_.ask();
    // With trials in flight, a model-based ask must count them as constant liars.
    const optimize::TpeAskRecord record = study_.sampler().last_ask_record();
    if (record.n_complete > 0 && record.best >= 0) {
      for (int running : in_flight) {
        if (std::find(record.above.begin(), record.above.end(), running) == record.above.end()) ++liars_missed;
        ++liars_checked;
      }
    }
    in_flight.insert(trial.number);
    return TrialAssignment{trial.number, study_.space().named(trial.params)};
  }
  void record(const TrialOutcome& outcome, int) override {
    in_flight.erase(outcome.number);
    study_.tell(outcome.number, {outcome.scores.at(0).sum}, {{"seconds", outcome.seconds}});
  }
  void stopping(int, const std::string&, size_t, double) override {}
  void abandon(const std::vector<int32_t>& running) override { abandoned = running; }

  std::set<int> in_flight;
  std::vector<int32_t> abandoned;
  int liars_checked = 0;
  int liars_missed = 0;

 private:
  optimize::Study& study_;
  int n_trials_;
};

optimize::SearchSpace study_space() {
  optimize::SearchSpace space;
  space.add_float("x", 0.0, 1.0);
  space.add_float("y", 0.0, 1.0);
  return space;
}

optimize::StudyOptions study_options() {
  optimize::StudyOptions options;
  options.objectives = {{"loss", false}};
  options.n_startup_trials = 3;
  options.n_ei_candidates = 8;
  options.seed = 11;
  return options;
}

std::filesystem::path journal(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / ("heretic-farm-" + std::to_string(::getpid()) + "-" + name);
  std::filesystem::remove_all(dir);
  return dir / "journal.jsonl";
}

TrialOutcome quadratic(const TrialAssignment& a) {
  const double x = a.params.at(0).second, y = a.params.at(1).second;
  TrialOutcome outcome;
  outcome.scores = {{(x - 0.3) * (x - 0.3) + (y - 0.6) * (y - 0.6), 1}};
  return outcome;
}

TEST(TrialFarm, ConcurrentAsksSeeTheTrialsInFlightAsConstantLiars) {
  auto study = optimize::Study::open(journal("liar"), study_space(), study_options(), false);
  StudySource source(*study, 16);
  const FarmRun run = run_farm(4, FarmOptions{}, source, [&](const TrialAssignment& a, TrialFarm&, Communicator&) {
    std::this_thread::sleep_for(15ms);
    return quadratic(a);
  });
  expect_no_errors(run);
  EXPECT_EQ(study->finished().size(), 16u);
  EXPECT_GT(source.liars_checked, 10);  // asks with trials in flight happened
  EXPECT_EQ(source.liars_missed, 0);
}

TEST(TrialFarm, TrialsStillRunningAfterTheGraceTimeAreAbandonedAndRedoneOnResume) {
  const auto path = journal("abandon");
  std::atomic<int> signal{0};
  std::vector<int32_t> abandoned;
  {
    auto study = optimize::Study::open(path, study_space(), study_options(), false);
    StudySource source(*study, 12);
    const FarmRun run = run_farm(
        3, FarmOptions{1, 0.2, {}}, source,
        [&](const TrialAssignment& a, TrialFarm&, Communicator& world) {
          if (a.number == 4) signal = SIGTERM;
          // Trials after the signal take far longer than the grace time.
          if (signal != 0) {
            for (int i = 0; i < 200 && signal != 0; ++i) {
              std::this_thread::sleep_for(10ms);
              world.barrier();  // a collective, as a real trial has: the abort reaches it
            }
          }
          return quadratic(a);
        },
        [&](int rank) { return rank == 0 ? signal.load() : 0; });
    for (const auto& error : run.errors) {
      ASSERT_TRUE(error);
      EXPECT_EQ(exit_code_of(error), 3);  // the job ends resumably
    }
    abandoned = source.abandoned;
    EXPECT_FALSE(abandoned.empty());
  }
  // The rerun: the abandoned trials come first, with their numbers and parameters.
  auto study = optimize::Study::open(path, study_space(), study_options(), false);
  EXPECT_EQ(study->pending(), abandoned.size());
  std::map<int, std::vector<double>> asked_before;
  for (const auto& trial : study->sampler().trials()) asked_before[trial.number] = trial.params;
  StudySource source(*study, 12);
  signal = 0;
  const FarmRun rerun = run_farm(3, FarmOptions{}, source,
                                 [&](const TrialAssignment& a, TrialFarm&, Communicator&) { return quadratic(a); });
  expect_no_errors(rerun);
  ASSERT_EQ(study->finished().size(), 12u);
  for (int number = 0; number < 12; ++number) EXPECT_EQ(study->finished().count(number), 1u);
  for (int32_t number : abandoned) {
    EXPECT_EQ(study->finished().at(number).trial.params, asked_before.at(number)) << "trial " << number;
  }
}

}  // namespace
}  // namespace heretic::dist
