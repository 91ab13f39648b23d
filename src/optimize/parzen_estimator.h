// The multivariate Parzen estimator of TPE (spec/tpe.md §5-§7): a mixture of m observation
// kernels plus one broad prior kernel; each kernel is a product over parameters of a
// truncated normal (floats) or a smoothed one-hot row (categoricals). Sampling picks one
// kernel per candidate and uses it for every parameter, which is what makes it joint.
#pragma once

#include <cstddef>
#include <vector>

#include "optimize/numpy_random.h"
#include "optimize/search_space.h"
#include "optimize/truncated_normal.h"

namespace heretic::optimize {

struct EstimatorSettings {
  double prior_weight = 1.0;
  bool magic_clip = true;          // sigma >= range / min(100, m + 2)
  bool omit_log_sigma = false;     // Optuna 3.1's density bug (-log sigma missing)
  bool categoricals_first = true;  // draw order: 4.5+ (true) or per parameter in order (3.1)
  truncnorm::Inversion inversion = truncnorm::Inversion::kNewton;
};

// Candidates are stored row-major: candidate i, parameter p at [i * n_params + p].
class ParzenEstimator {
 public:
  // params: the sampled (non-single) parameters; observations[k]: kernel k's centre, one value
  // per parameter (categoricals as indices); kernel_weights[k] >= 0, same length.
  ParzenEstimator(const std::vector<ParamSpec>& params,
                  const std::vector<std::vector<double>>& observations,
                  const std::vector<double>& kernel_weights, const EstimatorSettings& settings);

  std::vector<double> sample(NumpyRandom& rng, int n_candidates) const;
  // log of the mixture density at each candidate.
  std::vector<double> log_pdf(const std::vector<double>& candidates) const;

  std::size_t n_kernels() const { return mixture_weights_.size(); }  // observations + prior
  const std::vector<double>& mixture_weights() const { return mixture_weights_; }
  double mu(std::size_t param, std::size_t kernel) const { return mus_[param][kernel]; }
  double sigma(std::size_t param, std::size_t kernel) const { return sigmas_[param][kernel]; }
  // Probability of choice c under kernel k for categorical parameter `param`.
  double category_probability(std::size_t param, std::size_t kernel, std::size_t c) const;

 private:
  std::vector<ParamSpec> params_;
  EstimatorSettings settings_;
  std::vector<double> mixture_weights_;      // [kernels], normalised, prior last
  std::vector<double> log_mixture_weights_;  // [kernels]
  std::vector<double> cumulative_weights_;   // [kernels], cumsum / total, for kernel draws
  // Float parameters, [param][kernel] (empty rows for categoricals). log_constants_ holds
  // -log sqrt(2 pi) - log mass (- log sigma unless omitted), the part of a kernel's log density
  // that does not depend on the candidate.
  std::vector<std::vector<double>> mus_, sigmas_, log_constants_;
  std::vector<std::vector<double>> alphas_, betas_;          // truncation bounds in standard units
  std::vector<std::vector<double>> log_masses_, log_tails_;  // for truncnorm::ppf
  // Categorical parameters, [param][kernel * n_choices + c] (empty rows for floats):
  std::vector<std::vector<double>> rows_, log_rows_, cumulative_rows_;
};

}  // namespace heretic::optimize
