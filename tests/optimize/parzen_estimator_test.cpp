#include "optimize/parzen_estimator.h"

#include <gtest/gtest.h>

#include <cmath>

namespace heretic::optimize {
namespace {

std::vector<ParamSpec> eleven_params() {
  SearchSpace space;
  for (int i = 0; i < 10; ++i) space.add_float("x" + std::to_string(i), 0.0, 1.0);
  space.add_categorical("c", {"a", "b"});
  return space.params();
}

std::vector<std::vector<double>> observations(int m) {
  NumpyRandom rng(1);
  std::vector<std::vector<double>> rows;
  for (int k = 0; k < m; ++k) {
    std::vector<double> row;
    for (int p = 0; p < 10; ++p) row.push_back(rng.next_double());
    row.push_back(k % 3 == 0 ? 1.0 : 0.0);
    rows.push_back(row);
  }
  return rows;
}

TEST(ParzenEstimator, ScottBandwidthWithMagicClip) {
  // sigma / range for D = 11 (spec/tpe.md §5.2); the clip range/(m+2) is active for m <= 3.
  const std::pair<int, double> table[] = {{1, .3333},   {2, .2500},  {3, .2000},  {4, .1823},
                                          {6, .1775},   {10, .1715}, {20, .1638}, {54, .1533},
                                          {100, .1471}, {180, .1415}};
  for (const auto& [m, expected] : table) {
    const ParzenEstimator pe(eleven_params(), observations(m), std::vector<double>(m, 1.0), {});
    EXPECT_NEAR(pe.sigma(0, 0), expected, 5e-5) << m;
    EXPECT_EQ(pe.sigma(0, static_cast<std::size_t>(m)), 1.0);  // prior kernel: whole range
    EXPECT_EQ(pe.mu(0, static_cast<std::size_t>(m)), 0.5);
  }
}

TEST(ParzenEstimator, CategoricalRowsAndMixtureWeights) {
  const auto obs = observations(6);
  const ParzenEstimator pe(eleven_params(), obs, {1, 1, 1, 1, 1, 0.5}, {});
  EXPECT_NEAR(pe.category_probability(10, 0, 1), 8.0 / 9.0, 1e-15);  // observed b
  EXPECT_NEAR(pe.category_probability(10, 0, 0), 1.0 / 9.0, 1e-15);
  EXPECT_NEAR(pe.category_probability(10, 6, 0), 0.5, 1e-15);  // prior: uniform
  ASSERT_EQ(pe.n_kernels(), 7u);
  EXPECT_NEAR(pe.mixture_weights()[5], 0.5 / 6.5, 1e-15);
  EXPECT_NEAR(pe.mixture_weights()[6], 1.0 / 6.5, 1e-15);  // prior last
}

// One float on [0, 2], one observation at 0.5: mixture of N(0.5, s) and N(1, 2), truncated.
TEST(ParzenEstimator, LogPdfEqualsClosedFormMixture) {
  SearchSpace space;
  space.add_float("x", 0.0, 2.0);
  for (bool omit_log_sigma : {false, true}) {
    EstimatorSettings settings;
    settings.omit_log_sigma = omit_log_sigma;
    const ParzenEstimator pe(space.params(), {{0.5}}, {1.0}, settings);
    const double s = pe.sigma(0, 0);
    EXPECT_NEAR(s, 2.0 / 3.0, 1e-15);  // 0.2 * 2 = 0.4 clipped up to range / (1 + 2)
    auto truncated = [omit_log_sigma](double x, double mu, double sigma) {
      const double phi =
          std::exp(-0.5 * ((x - mu) / sigma) * ((x - mu) / sigma)) / std::sqrt(2 * M_PI);
      auto cdf = [](double z) { return 0.5 * std::erfc(-z / std::sqrt(2.0)); };
      const double mass = cdf((2.0 - mu) / sigma) - cdf((0.0 - mu) / sigma);
      return phi / mass / (omit_log_sigma ? 1.0 : sigma);
    };
    for (double x : {0.0, 0.3, 1.0, 1.99}) {
      const double expected = std::log(0.5 * truncated(x, 0.5, s) + 0.5 * truncated(x, 1.0, 2.0));
      EXPECT_NEAR(pe.log_pdf({x})[0], expected, 1e-12) << x;
    }
  }
}

TEST(ParzenEstimator, CorrectDensityIntegratesToOne) {
  SearchSpace space;
  space.add_float("x", -1.0, 3.0);
  const ParzenEstimator pe(space.params(), {{-0.9}, {0.2}, {2.5}}, {1.0, 0.3, 1.0}, {});
  const int n = 4000;
  const double h = 4.0 / n;
  double sum = 0;
  for (int i = 0; i <= n; ++i) {
    const double weight = (i == 0 || i == n) ? 1 : (i % 2 ? 4 : 2);
    sum += weight * std::exp(pe.log_pdf({-1.0 + i * h})[0]);
  }
  EXPECT_NEAR(sum * h / 3, 1.0, 1e-8);
}

TEST(ParzenEstimator, SamplesStayInBoundsAndFollowTheKernels) {
  const auto obs = observations(4);
  const ParzenEstimator pe(eleven_params(), obs, {1, 1, 1, 1}, {});
  NumpyRandom rng(2);
  const std::vector<double> candidates = pe.sample(rng, 4000);
  ASSERT_EQ(candidates.size(), 4000u * 11);
  double sum_b = 0;
  for (std::size_t i = 0; i < 4000; ++i) {
    for (std::size_t p = 0; p < 10; ++p) {
      EXPECT_GE(candidates[i * 11 + p], 0.0);
      EXPECT_LE(candidates[i * 11 + p], 1.0);
    }
    const double c = candidates[i * 11 + 10];
    EXPECT_TRUE(c == 0.0 || c == 1.0);
    sum_b += c;
  }
  // P(c = b): kernel 0 observed b (0.8 * 1/5 + ...); exact: sum_k pi_k row_k[b].
  double expected_b = 0;
  for (std::size_t k = 0; k < pe.n_kernels(); ++k) {
    expected_b += pe.mixture_weights()[k] * pe.category_probability(10, k, 1);
  }
  EXPECT_NEAR(sum_b / 4000, expected_b, 0.025);
}

}  // namespace
}  // namespace heretic::optimize
