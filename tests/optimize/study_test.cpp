// The study: a journaled sampler that a later process continues exactly where it stopped.
#include "optimize/study.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <limits>

#include "io/journal.h"
#include "optimize/tpe_sampler.h"
#include "tests/support/error_of.h"

namespace heretic::optimize {
namespace {

namespace fs = std::filesystem;
using nlohmann::ordered_json;
using testing::error_of;

SearchSpace space() {
  SearchSpace s;
  s.add_categorical("scope", {"global", "per layer"});
  s.add_float("x", 0.0, 1.0);
  s.add_float("y", -1.0, 1.0);
  return s;
}

StudyOptions options(uint32_t seed = 5) {
  StudyOptions o;
  o.objectives = {{"loss", false}, {"gain", true}};
  o.n_startup_trials = 3;
  o.n_ei_candidates = 16;
  o.seed = seed;
  o.version = "test";
  o.identity = {{"study", "abc"}, {"directions", "d1"}};
  return o;
}

std::vector<double> measure(const Trial& t) { return {t.params[1] + 0.1 * t.params[0], 1.0 - std::fabs(t.params[2])}; }

fs::path journal_path(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("heretic-study-" + std::to_string(::getpid()) + "-" + name);
  fs::remove_all(dir);
  return dir / "journal.jsonl";
}

TEST(Study, ReopenedStudyContinuesAsIfNeverInterrupted) {
  const fs::path whole = journal_path("whole");
  const fs::path split = journal_path("split");
  std::vector<Trial> expected;
  {
    auto study = Study::open(whole, space(), options(), false);
    for (int i = 0; i < 10; ++i) {
      const Trial t = study->ask();
      study->tell(t.number, measure(t), {{"note", i}});
      expected.push_back(t);
    }
  }
  {
    auto study = Study::open(split, space(), options(), false);
    for (int i = 0; i < 6; ++i) {
      const Trial t = study->ask();
      study->tell(t.number, measure(t), {{"note", i}});
    }
  }
  auto study = Study::open(split, space(), options(), false);
  EXPECT_EQ(study->resumed(), 6u);
  EXPECT_EQ(study->seed(), 5u);
  EXPECT_EQ(study->finished().at(4).attributes, (ordered_json{{"note", 4}}));
  for (int i = 6; i < 10; ++i) {
    const Trial t = study->ask();
    EXPECT_EQ(t.number, i);
    EXPECT_EQ(t.params, expected[static_cast<size_t>(i)].params) << "trial " << i;
    study->tell(t.number, measure(t), {});
  }
}

TEST(Study, AskedButUnfinishedTrialsAreHandedOutAgainFirst) {
  const fs::path path = journal_path("pending");
  Trial lost;
  {
    auto study = Study::open(path, space(), options(), false);
    for (int i = 0; i < 4; ++i) {
      const Trial t = study->ask();
      study->tell(t.number, measure(t), {});
    }
    lost = study->ask();  // the process dies while this one runs
  }
  auto study = Study::open(path, space(), options(), false);
  EXPECT_EQ(study->resumed(), 4u);
  EXPECT_EQ(study->pending(), 1u);
  const Trial again = study->ask();
  EXPECT_EQ(again.number, lost.number);
  EXPECT_EQ(again.params, lost.params);
  EXPECT_EQ(study->pending(), 0u);
  EXPECT_EQ(study->ask().number, lost.number + 1);
  // The re-asked trial is not journaled as asked twice.
  int asked = 0;
  for (const auto& record : io::read_journal(path).records) asked += record.value("type", "") == "asked";
  EXPECT_EQ(asked, 6);
}

TEST(Study, HeaderKeepsIdentitySeedAndObjectives) {
  const fs::path path = journal_path("header");
  StudyOptions o = options();
  o.seed.reset();  // drawn at random, then kept
  uint32_t seed = 0;
  {
    auto study = Study::open(path, space(), o, false);
    seed = study->seed();
  }
  const ordered_json header = io::read_journal(path).records.at(0);
  EXPECT_EQ(header["type"], "header");
  EXPECT_EQ(header["study"], "abc");
  EXPECT_EQ(header["directions"], "d1");
  EXPECT_EQ(header["n_startup_trials"], 3);
  EXPECT_EQ(header["objectives"], (ordered_json{"loss", "gain"}));
  EXPECT_EQ(header["seed"], seed);
  EXPECT_EQ(Study::open(path, space(), o, false)->seed(), seed);
}

TEST(Study, AnotherStudyInTheSameJournalIsRefusedWithWhatDiffers) {
  const fs::path path = journal_path("mismatch");
  Study::open(path, space(), options(), false);
  StudyOptions other = options();
  other.identity["directions"] = "d2";
  const std::string message = error_of([&] { Study::open(path, space(), other, false); });
  EXPECT_NE(message.find(path.string()), std::string::npos) << message;
  EXPECT_NE(message.find("'directions' differs"), std::string::npos) << message;
  EXPECT_NE(message.find("--fresh"), std::string::npos) << message;

  other = options();
  other.check_identity = [](const ordered_json& stored) { return "the study was " + stored["study"].get<std::string>(); };
  EXPECT_NE(error_of([&] { Study::open(path, space(), other, false); }).find("the study was abc"), std::string::npos);

  other = options();
  other.n_startup_trials = 4;
  EXPECT_NE(error_of([&] { Study::open(path, space(), other, false); }).find("'n_startup_trials' differs"),
            std::string::npos);
  other = options();
  other.objectives[1].name = "other";
  EXPECT_NE(error_of([&] { Study::open(path, space(), other, false); }).find("'objectives' differs"),
            std::string::npos);

  // --fresh keeps the old journal beside the new one.
  other = options();
  other.identity["directions"] = "d2";
  auto fresh = Study::open(path, space(), other, true);
  EXPECT_TRUE(fs::exists(path.string() + ".old"));
  EXPECT_EQ(fresh->resumed(), 0u);
}

TEST(Study, DamagedJournalIsAnInputErrorNamingTheFile) {
  const fs::path path = journal_path("damaged");
  fs::create_directories(path.parent_path());
  {
    io::JournalWriter writer(path);
    writer.append({{"type", "result"}, {"trial", {{"trial", 0}}}});
  }
  const std::string message = error_of([&] { Study::open(path, space(), options(), false); });
  EXPECT_NE(message.find(path.string() + " line 1: not a heretic-mpi journal header"), std::string::npos) << message;
}

TEST(Study, MaximisedObjectivesAreNegatedAndFailedTrialsLeaveTheFront) {
  const fs::path path = journal_path("front");
  auto study = Study::open(path, space(), options(), false);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const std::vector<std::vector<double>> values = {{1.0, 0.5}, {0.5, 0.2}, {0.4, 0.9}, {0.2, nan}, {2.0, 0.1}};
  for (const auto& v : values) study->tell(study->ask().number, v, {});
  EXPECT_EQ(study->finished().at(0).trial.values, (std::vector<double>{1.0, -0.5}));
  EXPECT_EQ(study->finished().at(3).trial.state, TrialState::kFailed);
  // Trial 2 (loss 0.4, gain 0.9) dominates 0, 1 and 4; trial 3 failed.
  EXPECT_EQ(study->pareto_front(), std::vector<int>{2});
  ASSERT_NE(study->best(), nullptr);
  EXPECT_EQ(study->best()->trial.number, 2);
  // The failed trial's values come back as NaN from the journal (JSON null).
  auto reopened = Study::open(path, space(), options(), false);
  EXPECT_EQ(reopened->finished().at(3).trial.state, TrialState::kFailed);
  EXPECT_EQ(reopened->pareto_front(), std::vector<int>{2});
}

TEST(Study, TrialsInFlightAreConstantLiars) {
  // With two trials asked and unfinished, the third ask sees them: Optuna's constant liar puts
  // running trials into the "above" group, pushing concurrent workers apart.
  const fs::path path = journal_path("liar");
  auto study = Study::open(path, space(), options(), false);
  for (int i = 0; i < 5; ++i) {
    const Trial t = study->ask();
    study->tell(t.number, measure(t), {});
  }
  const Trial a = study->ask();
  const Trial b = study->ask();
  study->ask();
  const TpeAskRecord record = study->sampler().last_ask_record();
  EXPECT_NE(std::find(record.above.begin(), record.above.end(), a.number), record.above.end());
  EXPECT_NE(std::find(record.above.begin(), record.above.end(), b.number), record.above.end());
}

}  // namespace
}  // namespace heretic::optimize
