// A study: the sampler, its journal, resume and the Pareto front, in the spirit of an Optuna
// study with journal storage. Every ask and every finished trial is appended to the journal
// (journal.jsonl, fsync'd; io/journal.h) before the caller goes on, so a study reopened from
// its journal continues exactly where it stopped: finished trials are read back into the
// sampler, whose random streams resume at the same positions, and trials that were asked but
// never finished are handed out again with the same numbers and parameters.
//
// Journal records: one header {"type":"header","format":1,"version":...,<identity>...,
// "n_startup_trials":N,"objectives":[names],"seed":S}, then {"type":"asked","trial":{...}} and
// {"type":"result","trial":{...},<attributes>...} (trial.h's JSON for "trial").
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "optimize/search_space.h"
#include "optimize/trial.h"

namespace heretic::io {
class JournalWriter;
}

namespace heretic::optimize {

class TpeSampler;

struct StudyObjective {
  std::string name;  // e.g. "Keywords"
  bool maximize = false;
};

struct StudyOptions {
  std::vector<StudyObjective> objectives;
  int n_startup_trials = 10;
  int n_ei_candidates = 24;
  std::optional<uint32_t> seed;  // drawn at random (and kept in the header) when unset
  std::string version;           // of the program, kept in the header
  // Members written into the header that identify what the trials compute (the run's
  // configuration, its refusal directions); a study can only be resumed with the same.
  nlohmann::ordered_json identity = nlohmann::ordered_json::object();
  // "" when a journal with header `stored` may be continued with `identity`, else what differs.
  // Unset: every identity member must be equal.
  std::function<std::string(const nlohmann::ordered_json& stored)> check_identity;
};

// A finished trial: the sampler's record (state complete or failed; values minimised, i.e.
// negated for maximised objectives) and what the caller recorded with it.
struct StudyTrial {
  Trial trial;
  nlohmann::ordered_json attributes;
};

class Study {
 public:
  // Opens the study journaled at `journal`, or starts one there. With `fresh`, an existing
  // journal is moved to <journal>.old first. Throws InputError naming the file when the journal
  // is damaged or belongs to a study that cannot be continued with `options` (the message says
  // what differs).
  static std::unique_ptr<Study> open(const std::filesystem::path& journal, SearchSpace space, StudyOptions options,
                                     bool fresh);
  ~Study();
  Study(const Study&) = delete;
  Study& operator=(const Study&) = delete;

  const SearchSpace& space() const { return space_; }
  const StudyOptions& options() const { return options_; }
  uint32_t seed() const { return seed_; }
  const std::filesystem::path& journal_path() const { return path_; }
  size_t resumed() const { return resumed_; }  // finished trials read back from the journal
  size_t pending() const { return pending_.size(); }  // asked before, never finished, not yet asked again

  // The next trial to evaluate: a pending one first, else a new one from the sampler (its
  // parameters chosen with the trials in flight as constant liars), journaled as asked.
  Trial ask();
  // Records trial `number` as finished with `values` per objective as measured (a NaN value:
  // the trial failed) and `attributes` (JSON members kept with it); journaled and fsync'd
  // before it returns.
  const StudyTrial& tell(int number, const std::vector<double>& values, nlohmann::ordered_json attributes);

  const std::map<int, StudyTrial>& finished() const { return finished_; }
  // The complete trials that no other complete trial dominates, best first (the smallest
  // minimised values, compared objective by objective).
  std::vector<int> pareto_front() const;
  // The lexicographically best complete trial, or nullptr.
  const StudyTrial* best() const;
  // The sampler, for inspection (tests, logging).
  const TpeSampler& sampler() const { return *sampler_; }

 private:
  Study(std::filesystem::path path, SearchSpace space, StudyOptions options);
  void load(bool fresh);

  std::filesystem::path path_;
  SearchSpace space_;
  StudyOptions options_;
  uint32_t seed_ = 0;
  std::unique_ptr<TpeSampler> sampler_;
  std::unique_ptr<io::JournalWriter> journal_;
  std::map<int, StudyTrial> finished_;
  std::vector<Trial> pending_;
  size_t resumed_ = 0;
};

}  // namespace heretic::optimize
