#include "optimize/tpe_sampler.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "common/error.h"
#include "optimize/parzen_estimator.h"

namespace heretic::optimize {

TpeSampler::TpeSampler(SearchSpace space, TpeOptions options)
    : space_(std::move(space)),
      options_(options),
      startup_rng_(options.seed),
      tpe_rng_(options.seed) {
  if (options_.n_objectives < 1) throw std::invalid_argument("n_objectives must be >= 1");
  if (options_.n_ei_candidates < 1) throw std::invalid_argument("n_ei_candidates must be >= 1");
}

std::vector<double> TpeSampler::sample_startup() {
  // Optuna's RandomSampler, one parameter at a time in suggest order (spec/tpe.md §3.1).
  std::vector<double> params;
  for (const ParamSpec& spec : space_.params()) {
    if (spec.single()) {
      params.push_back(spec.low);
    } else if (spec.kind == ParamKind::kFloat) {
      const double x = startup_rng_.uniform(spec.low, spec.high);
      params.push_back(std::min(x, std::nextafter(spec.high, -INFINITY)));
    } else {
      // One-hot relaxation: one uniform per choice, the first maximum wins.
      std::size_t best = 0;
      double best_u = -1.0;
      for (std::size_t c = 0; c < spec.n_choices(); ++c) {
        const double u = startup_rng_.uniform(0.0, 1.0);
        if (u > best_u) {
          best_u = u;
          best = c;
        }
      }
      params.push_back(static_cast<double>(best));
    }
  }
  return params;
}

bool TpeSampler::sample_model(std::vector<double>& params) {
  // The jointly sampled space: every parameter whose range is more than one point.
  std::vector<std::size_t> sampled;
  std::vector<ParamSpec> sampled_specs;
  for (std::size_t p = 0; p < space_.size(); ++p) {
    if (!space_[p].single()) {
      sampled.push_back(p);
      sampled_specs.push_back(space_[p]);
    }
  }
  std::vector<int> complete;  // trial numbers
  std::vector<int> running;
  for (const Trial& t : trials_) {
    if (t.state == TrialState::kComplete) complete.push_back(t.number);
    if (t.state == TrialState::kRunning) running.push_back(t.number);
  }
  const int n = static_cast<int>(complete.size());
  if (sampled.empty() || n == 0 || n < options_.n_startup_trials) return false;

  const TpeSemantics& semantics = options_.semantics;
  const bool multi_objective = options_.n_objectives > 1;
  const int n_below = default_gamma(n);
  ObservationSplit split;
  std::vector<ObjectivePoint> points;
  for (int number : complete) points.push_back(trials_[static_cast<std::size_t>(number)].values);
  if (multi_objective) {
    split = split_multi_objective(points, n_below, semantics.chronological_below);
  } else {
    std::vector<double> values;
    for (const ObjectivePoint& p : points) values.push_back(p[0]);
    split = split_single_objective(values, n_below);
  }

  TpeAskRecord record;
  record.n_complete = n;
  record.n_below = n_below;
  for (int i : split.below) record.below.push_back(complete[static_cast<std::size_t>(i)]);
  for (int i : split.above) record.above.push_back(complete[static_cast<std::size_t>(i)]);
  const bool liar =
      options_.constant_liar && (!multi_objective || semantics.constant_liar_multi_objective);
  if (liar) {
    // Running trials are "worse than everything": they join the above group, which stays in
    // trial order, so they are the newest kernels and carry full weight.
    record.above.insert(record.above.end(), running.begin(), running.end());
    std::sort(record.above.begin(), record.above.end());
  }

  if (multi_objective) {
    std::vector<ObjectivePoint> below_points;
    for (int i : split.below) below_points.push_back(points[static_cast<std::size_t>(i)]);
    record.below_weights = below_weights_multi_objective(below_points, semantics.below_weighting);
  } else {
    record.below_weights = default_weights(static_cast<int>(record.below.size()));
  }

  auto observations_of = [&](const std::vector<int>& numbers) {
    std::vector<std::vector<double>> rows;
    for (int number : numbers) {
      std::vector<double> row;
      for (std::size_t p : sampled)
        row.push_back(trials_[static_cast<std::size_t>(number)].params[p]);
      rows.push_back(std::move(row));
    }
    return rows;
  };
  EstimatorSettings settings;
  settings.prior_weight = options_.prior_weight;
  settings.magic_clip = options_.magic_clip;
  settings.omit_log_sigma = semantics.omit_log_sigma;
  settings.categoricals_first = semantics.categoricals_first;
  settings.inversion = semantics.inversion;
  const ParzenEstimator below(sampled_specs, observations_of(record.below), record.below_weights,
                              settings);
  const ParzenEstimator above(sampled_specs, observations_of(record.above),
                              default_weights(static_cast<int>(record.above.size())), settings);

  // Draw candidates from l(x) and keep the one maximising log l(x) - log g(x).
  record.candidates = below.sample(tpe_rng_, options_.n_ei_candidates);
  record.log_l = below.log_pdf(record.candidates);
  record.log_g = above.log_pdf(record.candidates);
  int best = 0;
  double best_score = -INFINITY;
  for (std::size_t i = 0; i < record.log_l.size(); ++i) {
    const double score = record.log_l[i] - record.log_g[i];
    if (score > best_score) {  // NaN never wins; ties keep the lowest index
      best_score = score;
      best = static_cast<int>(i);
    }
  }
  record.best = best;
  record.mixture_weights_below = below.mixture_weights();
  record.mixture_weights_above = above.mixture_weights();
  for (std::size_t p = 0; p < sampled_specs.size(); ++p) {
    if (sampled_specs[p].kind != ParamKind::kFloat) continue;
    for (std::size_t k = 0; k < below.n_kernels(); ++k)
      record.sigma_below.push_back(below.sigma(p, k));
    for (std::size_t k = 0; k < above.n_kernels(); ++k)
      record.sigma_above.push_back(above.sigma(p, k));
    break;
  }

  params.assign(space_.size(), 0.0);
  for (std::size_t p = 0; p < space_.size(); ++p) params[p] = space_[p].low;  // single points
  for (std::size_t j = 0; j < sampled.size(); ++j) {
    params[sampled[j]] = record.candidates[static_cast<std::size_t>(best) * sampled.size() + j];
  }
  last_record_ = std::move(record);
  return true;
}

Trial TpeSampler::ask() {
  std::lock_guard<std::mutex> lock(mutex_);
  Trial trial;
  trial.number = static_cast<int>(trials_.size());
  trial.state = TrialState::kRunning;
  if (!sample_model(trial.params)) trial.params = sample_startup();
  trial.streams = {startup_rng_.position(), tpe_rng_.position()};
  trials_.push_back(trial);
  return trial;
}

Trial& TpeSampler::running_trial(int number) {
  if (number < 0 || number >= static_cast<int>(trials_.size())) {
    throw std::invalid_argument("no trial number " + std::to_string(number));
  }
  Trial& trial = trials_[static_cast<std::size_t>(number)];
  if (trial.state != TrialState::kRunning) {
    throw std::invalid_argument("trial " + std::to_string(number) + " is already finished");
  }
  return trial;
}

void TpeSampler::tell(int number, const std::vector<double>& values) {
  std::lock_guard<std::mutex> lock(mutex_);
  Trial& trial = running_trial(number);
  if (static_cast<int>(values.size()) != options_.n_objectives) {
    throw std::invalid_argument("trial " + std::to_string(number) + " needs " +
                                std::to_string(options_.n_objectives) + " objective values");
  }
  trial.values = values;
  const bool has_nan =
      std::any_of(values.begin(), values.end(), [](double v) { return std::isnan(v); });
  trial.state = has_nan ? TrialState::kFailed : TrialState::kComplete;
}

void TpeSampler::fail(int number) {
  std::lock_guard<std::mutex> lock(mutex_);
  Trial& trial = running_trial(number);
  trial.state = TrialState::kFailed;
  trial.values.clear();
}

std::vector<Trial> TpeSampler::trials() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return trials_;
}

Trial TpeSampler::trial(int number) const {
  std::lock_guard<std::mutex> lock(mutex_);
  return trials_.at(static_cast<std::size_t>(number));
}

TpeAskRecord TpeSampler::last_ask_record() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return last_record_;
}

void TpeSampler::restore(std::vector<Trial> trials, const std::string& source) {
  std::sort(trials.begin(), trials.end(),
            [](const Trial& a, const Trial& b) { return a.number < b.number; });
  for (std::size_t i = 0; i < trials.size(); ++i) {
    if (trials[i].number != static_cast<int>(i)) {
      throw InputError(source + ": trial numbers must run 0.." + std::to_string(trials.size() - 1) +
                       " without gaps or repeats; trial " + std::to_string(i) + " is missing");
    }
    if (trials[i].params.size() != space_.size()) {
      throw InputError(source + ": trial " + std::to_string(i) + " does not fit the search space");
    }
    if (trials[i].state == TrialState::kComplete &&
        static_cast<int>(trials[i].values.size()) != options_.n_objectives) {
      throw InputError(source + ": trial " + std::to_string(i) + " key 'values': expected " +
                       std::to_string(options_.n_objectives) + " objective values");
    }
  }
  // Seeking a stream draws every number up to its position: a damaged position of 10^18 would
  // take years. Real trials draw at most a few thousand numbers each.
  constexpr std::uint64_t kMostDrawsPerTrial = 1u << 20;
  const std::uint64_t most = (trials.size() + 1) * kMostDrawsPerTrial;
  if (!trials.empty() && (trials.back().streams.startup > most || trials.back().streams.tpe > most)) {
    throw InputError(source + ": trial " + std::to_string(trials.size() - 1) +
                     " key 'streams': a position beyond " + std::to_string(most) + " draws (" +
                     std::to_string(trials.size()) + " trials draw far fewer)");
  }
  std::lock_guard<std::mutex> lock(mutex_);
  trials_ = std::move(trials);
  const StreamPositions positions = trials_.empty() ? StreamPositions{} : trials_.back().streams;
  startup_rng_.seek(positions.startup);
  tpe_rng_.seek(positions.tpe);
  last_record_ = TpeAskRecord{};
}

void TpeSampler::restore_from_json_lines(const std::vector<std::string>& lines,
                                         const std::string& source) {
  std::vector<Trial> latest;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    Trial t = trial_from_json_line(lines[i], space_, source + " line " + std::to_string(i + 1));
    const std::size_t slot = static_cast<std::size_t>(t.number);
    // Trials number 0..n-1, each with a line: a larger number is damage, not a trial to wait for
    // (and would size the table below).
    if (slot >= lines.size()) {
      throw InputError(source + " line " + std::to_string(i + 1) + ": key 'trial' is " + std::to_string(t.number) +
                       ", but only " + std::to_string(lines.size()) + " trial lines exist (trials number from 0)");
    }
    if (slot >= latest.size()) latest.resize(slot + 1, Trial{-1, {}, {}, {}, {}});
    latest[slot] = std::move(t);
  }
  for (std::size_t i = 0; i < latest.size(); ++i) {
    if (latest[i].number < 0) {
      throw InputError(source + ": no line for trial " + std::to_string(i));
    }
  }
  restore(std::move(latest), source);
}

}  // namespace heretic::optimize
