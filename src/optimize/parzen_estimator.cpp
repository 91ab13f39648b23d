#include "optimize/parzen_estimator.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace heretic::optimize {
namespace {

constexpr double kMinBandwidth = 1e-12;
const double kLogSqrt2Pi = std::log(std::sqrt(2.0 * 3.141592653589793));

// numpy searchsorted(cumulative, u, side="right") for an ascending array.
std::size_t count_at_most(const std::vector<double>& cumulative, double u) {
  return static_cast<std::size_t>(std::upper_bound(cumulative.begin(), cumulative.end(), u) -
                                  cumulative.begin());
}

}  // namespace

ParzenEstimator::ParzenEstimator(const std::vector<ParamSpec>& params,
                                 const std::vector<std::vector<double>>& observations,
                                 const std::vector<double>& kernel_weights,
                                 const EstimatorSettings& settings)
    : params_(params), settings_(settings) {
  const std::size_t m = observations.size();
  const std::size_t kernels = m + 1;  // the prior kernel is always present (consider_prior)

  // Mixture weights: normalise [w_1 .. w_m, prior_weight].
  mixture_weights_.assign(kernel_weights.begin(), kernel_weights.end());
  mixture_weights_.push_back(settings.prior_weight);
  double total = 0.0;
  for (double w : mixture_weights_) total += w;
  for (double& w : mixture_weights_) w /= total;
  double running = 0.0;
  for (double w : mixture_weights_) {
    log_mixture_weights_.push_back(std::log(w));
    running += w;
    cumulative_weights_.push_back(running);
  }
  const double last = cumulative_weights_.back();
  for (double& c : cumulative_weights_) c /= last;

  // Scott-like common bandwidth (3.1-4.9 multivariate): 0.2 * max(m,1)^(-1/(D+4)) * range,
  // D counting every sampled parameter, categoricals included.
  const double sigma0 = 0.2 * std::pow(static_cast<double>(std::max<std::size_t>(m, 1)),
                                       -1.0 / (static_cast<double>(params.size()) + 4.0));
  const std::size_t n_params = params.size();
  mus_.resize(n_params);
  sigmas_.resize(n_params);
  log_constants_.resize(n_params);
  alphas_.resize(n_params);
  betas_.resize(n_params);
  log_masses_.resize(n_params);
  log_tails_.resize(n_params);
  rows_.resize(n_params);
  log_rows_.resize(n_params);
  cumulative_rows_.resize(n_params);
  for (std::size_t p = 0; p < n_params; ++p) {
    const ParamSpec& spec = params[p];
    if (spec.kind == ParamKind::kCategorical) {
      const std::size_t n_choices = spec.n_choices();
      const double smoothing = settings.prior_weight / static_cast<double>(m + 1);
      std::vector<double>& row = rows_[p];
      row.assign(kernels * n_choices, smoothing);
      for (std::size_t k = 0; k < m; ++k) {
        row[k * n_choices + static_cast<std::size_t>(observations[k][p])] += 1.0;
      }
      for (std::size_t k = 0; k < kernels; ++k) {
        double row_sum = 0.0;
        for (std::size_t c = 0; c < n_choices; ++c) row_sum += row[k * n_choices + c];
        double cumulative = 0.0;
        for (std::size_t c = 0; c < n_choices; ++c) {
          double& entry = row[k * n_choices + c];
          entry /= row_sum;
          log_rows_[p].push_back(std::log(entry));
          cumulative += entry;
          cumulative_rows_[p].push_back(cumulative);
        }
      }
      continue;
    }
    const double low = spec.low;
    const double high = spec.high;
    const double range = high - low;
    const double min_sigma =
        settings.magic_clip ? range / std::min(100.0, 1.0 + static_cast<double>(kernels)) : kMinBandwidth;
    for (std::size_t k = 0; k < kernels; ++k) {
      const bool prior = k == m;
      const double mu = prior ? 0.5 * (low + high) : observations[k][p];
      const double sigma = prior ? range : std::clamp(sigma0 * range, min_sigma, range);
      const double alpha = (low - mu) / sigma;
      const double beta = (high - mu) / sigma;
      const double log_mass = truncnorm::log_gauss_mass(alpha, beta);
      double constant = -kLogSqrt2Pi - log_mass;
      if (!settings.omit_log_sigma) constant -= std::log(sigma);
      mus_[p].push_back(mu);
      sigmas_[p].push_back(sigma);
      alphas_[p].push_back(alpha);
      betas_[p].push_back(beta);
      log_constants_[p].push_back(constant);
      log_masses_[p].push_back(log_mass);
      log_tails_[p].push_back(alpha < 0 ? truncnorm::log_ndtr(alpha) : truncnorm::log_ndtr(-beta));
    }
  }
}

double ParzenEstimator::category_probability(std::size_t param, std::size_t kernel,
                                             std::size_t c) const {
  return rows_[param][kernel * params_[param].n_choices() + c];
}

std::vector<double> ParzenEstimator::sample(NumpyRandom& rng, int n_candidates) const {
  const std::size_t n = static_cast<std::size_t>(n_candidates);
  const std::size_t n_params = params_.size();
  std::vector<double> candidates(n * n_params);  // [candidate, param]

  std::vector<std::size_t> kernel(n);
  for (std::size_t i = 0; i < n; ++i) {
    kernel[i] = std::min(count_at_most(cumulative_weights_, rng.next_double()), n_kernels() - 1);
  }
  auto draw_param = [&](std::size_t p) {
    const ParamSpec& spec = params_[p];
    for (std::size_t i = 0; i < n; ++i) {
      const double u = rng.next_double();
      const std::size_t k = kernel[i];
      double value;
      if (spec.kind == ParamKind::kCategorical) {
        // Number of cumulative entries strictly below u (3.1 does not force the last to 1,
        // so clamp a rounding-deficient row).
        const std::size_t n_choices = spec.n_choices();
        const double* cumulative = &cumulative_rows_[p][k * n_choices];
        std::size_t index = 0;
        while (index < n_choices && cumulative[index] < u) ++index;
        value = static_cast<double>(std::min(index, n_choices - 1));
      } else {
        const double z = truncnorm::ppf(u, alphas_[p][k], betas_[p][k], log_masses_[p][k],
                                        log_tails_[p][k], settings_.inversion);
        value = std::clamp(z * sigmas_[p][k] + mus_[p][k], spec.low, spec.high);
      }
      candidates[i * n_params + p] = value;
    }
  };
  if (settings_.categoricals_first) {
    for (std::size_t p = 0; p < n_params; ++p) {
      if (params_[p].kind == ParamKind::kCategorical) draw_param(p);
    }
    for (std::size_t p = 0; p < n_params; ++p) {
      if (params_[p].kind == ParamKind::kFloat) draw_param(p);
    }
  } else {
    for (std::size_t p = 0; p < n_params; ++p) draw_param(p);
  }
  return candidates;
}

std::vector<double> ParzenEstimator::log_pdf(const std::vector<double>& candidates) const {
  const std::size_t n_params = params_.size();
  const std::size_t kernels = n_kernels();
  const std::size_t n = n_params == 0 ? 0 : candidates.size() / n_params;
  const double minus_infinity = -std::numeric_limits<double>::infinity();
  std::vector<double> result(n);
  std::vector<double> component(kernels);  // [kernels] log density of each kernel
  for (std::size_t i = 0; i < n; ++i) {
    std::fill(component.begin(), component.end(), 0.0);
    for (std::size_t p = 0; p < n_params; ++p) {
      const double x = candidates[i * n_params + p];
      if (params_[p].kind == ParamKind::kCategorical) {
        const std::size_t n_choices = params_[p].n_choices();
        const std::size_t c = static_cast<std::size_t>(x);
        const double* log_row = log_rows_[p].data();
        for (std::size_t k = 0; k < kernels; ++k) component[k] += log_row[k * n_choices + c];
        continue;
      }
      const double* mu = mus_[p].data();
      const double* sigma = sigmas_[p].data();
      const double* constant = log_constants_[p].data();
      const double* alpha = alphas_[p].data();
      const double* beta = betas_[p].data();
      for (std::size_t k = 0; k < kernels; ++k) {
        const double z = (x - mu[k]) / sigma[k];
        const bool outside = z < alpha[k] || beta[k] < z;
        component[k] += outside ? minus_infinity : -(z * z) / 2.0 + constant[k];
      }
    }
    double top = minus_infinity;
    for (std::size_t k = 0; k < kernels; ++k) {
      component[k] += log_mixture_weights_[k];
      top = std::max(top, component[k]);
    }
    if (top == minus_infinity) {
      result[i] = minus_infinity;
      continue;
    }
    double sum = 0.0;
    for (std::size_t k = 0; k < kernels; ++k) sum += std::exp(component[k] - top);
    result[i] = std::log(sum) + top;
  }
  return result;
}

}  // namespace heretic::optimize
