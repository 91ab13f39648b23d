// Scorers as plug-ins (Heretic's `scorers = [...]`, spec/heretic-behavior.md §3.4): each
// configured scorer measures the model on its own prompt set, and the optimised ones are the
// study's objectives. A scorer works on a shard of its prompts and returns partial sums that
// add up across ranks (value = sum / count), so any number of ranks computes exactly what one
// does. A new scorer is one file (its class and its ScorerPlugin) plus one line in
// scorer_registry.cpp.
//
// Scorers are torch-free: they ask the model for what they need through ScorerPrompts
// (greedy responses, first-token distributions), which the run implements over its model.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "data/dataset_spec.h"
#include "eval/scorer_settings.h"

namespace heretic::eval {

// A scorer's share of one evaluation: a sum over prompts and the number of prompts scored.
struct PartialScore {
  double sum = 0.0;
  int64_t count = 0;
};

struct Response {
  std::string text;    // the new tokens decoded, special tokens skipped
  int64_t tokens = 0;  // new tokens, the end-of-sequence token not counted
};

// First-token log-probabilities of a run of prompts, kept by a scorer as its baseline; what
// they hold is the implementation's business.
class LogProbRows {
 public:
  virtual ~LogProbRows() = default;
  virtual size_t rows() const = 0;
};

// What a scorer can ask about its prompt set of the model as it is now (ablation applied).
class ScorerPrompts {
 public:
  virtual ~ScorerPrompts() = default;
  virtual size_t size() const = 0;
  // The user's prompt text (for printing responses).
  virtual std::string prompt(size_t index) const = 0;
  // Greedy responses to prompts [begin, end), at most `max_tokens` new tokens each; a row whose
  // text makes `stop` true ends early (stop may be empty).
  virtual std::vector<Response> responses(size_t begin, size_t end, int64_t max_tokens,
                                          const std::function<bool(const std::string& text)>& stop) = 0;
  // First-token log-probabilities of prompts [begin, end).
  virtual std::shared_ptr<const LogProbRows> first_token_log_probs(size_t begin, size_t end) = 0;
  // sum over prompts [begin, end) of KL(baseline || now) of the first-token distributions;
  // `baseline` holds the rows of prompts [baseline_begin, baseline_begin + rows).
  virtual double kl_divergence_sum(const LogProbRows& baseline, size_t baseline_begin, size_t begin, size_t end) = 0;
};

class Scorer {
 public:
  virtual ~Scorer() = default;
  // Called once per run, with no ablation applied, for this rank's shard [begin, end).
  virtual void capture_baseline(ScorerPrompts& prompts, size_t begin, size_t end);
  // Takes over `other`'s baseline (a scorer of the same plug-in on the same prompts and
  // shard): another model is scored against the configured one.
  virtual void adopt_baseline(const Scorer& other);
  // Partial sums over prompts [begin, end).
  virtual PartialScore score(ScorerPrompts& prompts, size_t begin, size_t end) = 0;
  // The value as tables show it, e.g. "5/100" (a count) or "0.0421" (a mean).
  virtual std::string format(const PartialScore& part) const;
};

// What is given to a plug-in's factory.
struct ScorerInit {
  ScorerSettings settings;           // every declared key present
  int64_t max_response_length = 100;  // the job's limit for generated responses
};

// One scorer class: how the configuration names it, its settings and its factory.
struct ScorerPlugin {
  std::string class_name;    // "KeywordRate": `plugin = "KeywordRate"` and table [scorer.KeywordRate]
  std::string import_path;   // Heretic's `plugin` spelling, "heretic.scorers.keyword_rate.KeywordRate", or ""
  std::string display_name;  // "Keywords" (Heretic's score_name)
  std::string summary;       // one line: what it measures
  data::DatasetSpec default_prompts;
  std::vector<SettingSpec> settings;
  // The fixed /trials column of results.h5 that the first instance fills: "refusals" (sum and
  // count), "kl" (value), or "" (the generic /scores datasets only).
  std::string results_column;
  std::function<std::unique_ptr<Scorer>(const ScorerInit&)> create;
};

// "%.4f" of sum / count ("nan" without prompts).
std::string format_mean(const PartialScore& part, int digits = 4);

}  // namespace heretic::eval
