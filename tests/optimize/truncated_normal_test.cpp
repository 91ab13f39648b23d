#include "optimize/truncated_normal.h"

#include <gtest/gtest.h>

#include <cmath>

namespace heretic::optimize::truncnorm {
namespace {

// Closed form via erfc (accurate in the left tail down to about -37).
double phi_cdf(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }

TEST(TruncatedNormal, LogNdtrMatchesClosedFormAcrossBranches) {
  for (double x : {-35.0, -25.0, -20.5, -20.0, -19.5, -8.0, -1.0, 0.0, 0.3, 2.0, 5.9, 6.1, 9.0}) {
    const double expected = x > 6 ? std::log1p(-phi_cdf(-x)) : std::log(phi_cdf(x));
    // Above 6 Optuna uses log Phi(x) ~ -Phi(-x), relative error Phi(-x)/2 < 5e-10.
    const double tolerance = x > 6 ? 5e-10 : 1e-12;
    EXPECT_NEAR(log_ndtr(x), expected, tolerance * std::fabs(expected)) << x;
  }
}

TEST(TruncatedNormal, LogMassMatchesClosedFormInAllThreeCases) {
  const double cases[][2] = {{-3, -1}, {-30, -29}, {1, 2}, {8, 9}, {-0.5, 0.7}, {-4, 4}};
  for (const auto& c : cases) {
    const double a = c[0], b = c[1];
    // Mirror into the left tail for the closed form, where erfc is accurate.
    const double expected = b <= 0  ? std::log(phi_cdf(b) - phi_cdf(a))
                            : a > 0 ? std::log(phi_cdf(-a) - phi_cdf(-b))
                                    : std::log(1 - phi_cdf(a) - phi_cdf(-b));
    EXPECT_NEAR(log_gauss_mass(a, b), expected, 1e-10 * std::fabs(expected)) << a << " " << b;
  }
}

TEST(TruncatedNormal, PpfInvertsTheTruncatedCdfWithBothInversions) {
  const double bounds[][2] = {{-2, 3}, {-0.5, 0.5}, {1.5, 6}, {-9, -3}, {4, 8}, {-50, -40}};
  for (const auto& ab : bounds) {
    const double a = ab[0], b = ab[1];
    for (double q : {1e-9, 0.01, 0.3, 0.5, 0.77, 0.999}) {
      const double z_bisect = ppf(q, a, b, Inversion::kBisection);
      const double z_newton = ppf(q, a, b, Inversion::kNewton);
      ASSERT_GE(z_newton, a);
      ASSERT_LE(z_newton, b);
      EXPECT_NEAR(z_newton, z_bisect, 1e-11 * std::fmax(1.0, std::fabs(z_bisect))) << a << " " << q;
      // F(z) = (Phi(z) - Phi(a)) / (Phi(b) - Phi(a)), computed in log space for the tails.
      if (b <= 6 && a >= -30) {
        const double mass = std::exp(log_gauss_mass(a, b));
        const double cdf =
            (a > 0 ? phi_cdf(-a) - phi_cdf(-z_newton) : phi_cdf(z_newton) - phi_cdf(a)) / mass;
        EXPECT_NEAR(cdf, q, 1e-9) << a << " " << b << " " << q;
      }
    }
    EXPECT_EQ(ppf(0.0, a, b, Inversion::kNewton), a);
    EXPECT_EQ(ppf(1.0, a, b, Inversion::kNewton), b);
  }
}

TEST(TruncatedNormal, DensityIntegratesToOneAndIsZeroOutside) {
  const double bounds[][2] = {{-1, 2}, {0.5, 3}, {-6, -2}};
  for (const auto& ab : bounds) {
    const double a = ab[0], b = ab[1];
    const double log_mass = log_gauss_mass(a, b);
    const int n = 2000;  // Simpson's rule
    const double h = (b - a) / n;
    double sum = 0;
    for (int i = 0; i <= n; ++i) {
      const double weight = (i == 0 || i == n) ? 1 : (i % 2 ? 4 : 2);
      sum += weight * std::exp(log_pdf_standard(a + i * h, a, b, log_mass));
    }
    EXPECT_NEAR(sum * h / 3, 1.0, 1e-9);
    EXPECT_EQ(log_pdf_standard(b + 1e-9, a, b, log_mass), -INFINITY);
    EXPECT_EQ(log_pdf_standard(a - 1e-9, a, b, log_mass), -INFINITY);
  }
}

}  // namespace
}  // namespace heretic::optimize::truncnorm
