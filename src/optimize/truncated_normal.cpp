#include "optimize/truncated_normal.h"

#include <cfloat>
#include <cmath>
#include <limits>

namespace heretic::optimize::truncnorm {
namespace {

constexpr double kPi = 3.141592653589793;
constexpr double kLn2 = 0.6931471805599453;
constexpr double kSqrt2 = 1.4142135623730951;
constexpr double kInvSqrt2 = 0.7071067811865476;  // 1/sqrt(2): branch points of ndtr
const double kLogSqrt2Pi = std::log(std::sqrt(2.0 * kPi));

// numpy.logaddexp
double log_add_exp(double x, double y) {
  if (x == y) return x + std::log(2.0);
  const double d = x - y;
  if (d > 0) return x + std::log1p(std::exp(-d));
  if (d <= 0) return y + std::log1p(std::exp(d));
  return d;  // NaN
}

// log_p + log(1 - exp(log_q - log_p)), i.e. log(p - q) for q <= p.
double log_diff(double log_p, double log_q) { return log_p + std::log1p(-std::exp(log_q - log_p)); }

// The vectorised Phi of Optuna (1/2 + erf/2), used only in the central mass case.
double ndtr_central(double a) { return 0.5 + 0.5 * std::erf(a / kSqrt2); }

double log_mass_left_tail(double a, double b) { return log_diff(log_ndtr(b), log_ndtr(a)); }

// Newton for log Phi(z) = t with t <= log(1/2), i.e. a root z <= 0. The start is Abramowitz &
// Stegun 26.2.23 (|error| < 4.5e-4), written in s = sqrt(-2 t) so that it never underflows.
// log Phi is concave and increasing: from the right Newton lands left of the root once, and
// from the left it converges monotonically, so it cannot diverge.
double newton_left(double t) {
  const double s = std::sqrt(-2.0 * t);
  double z = -(s - (2.515517 + s * (0.802853 + s * 0.010328)) /
                       (1.0 + s * (1.432788 + s * (0.189269 + s * 0.001308))));
  for (int iteration = 0; iteration < 100; ++iteration) {
    const double log_phi = log_ndtr(z);
    const double slope = std::exp(-0.5 * z * z - kLogSqrt2Pi - log_phi);  // phi(z) / Phi(z)
    const double step = (t - log_phi) / slope;
    z += step;
    if (!(std::fabs(step) > 1e-15 * std::fmax(1.0, std::fabs(z)))) break;
  }
  return z;
}

}  // namespace

double ndtr(double a) {
  const double x = a / kSqrt2;
  if (x < -kInvSqrt2) return 0.5 * std::erfc(-x);
  if (x < kInvSqrt2) return 0.5 + 0.5 * std::erf(x);
  return 1.0 - 0.5 * std::erfc(x);
}

double log_ndtr(double a) {
  if (a > 6) return -ndtr(-a);
  if (a > -20) return std::log(ndtr(a));
  // Asymptotic expansion: log Phi(a) = -a^2/2 - log(-a) - log(2 pi)/2
  //                                    + log(1 - 1/a^2 + 3/a^4 - 15/a^6 + ...)
  const double log_lhs = -0.5 * a * a - std::log(-a) - 0.5 * std::log(2 * kPi);
  double last_total = 0.0;
  double right_hand_side = 1.0;
  double numerator = 1.0;
  double denominator_factor = 1.0;
  const double denominator_step = 1.0 / (a * a);
  double sign = 1.0;
  int i = 0;
  while (std::fabs(last_total - right_hand_side) > DBL_EPSILON) {
    ++i;
    last_total = right_hand_side;
    sign = -sign;
    denominator_factor *= denominator_step;
    numerator *= 2 * i - 1;
    right_hand_side += sign * numerator * denominator_factor;
  }
  return log_lhs + std::log(right_hand_side);
}

double log_gauss_mass(double a, double b) {
  if (b <= 0) return log_mass_left_tail(a, b);
  if (a > 0) return log_mass_left_tail(-b, -a);  // mirror the right tail into the left
  // Central: 1 - Phi(a) - Phi(-b) avoids cancellation when the mass approaches 1.
  return std::log1p(-ndtr_central(a) - ndtr_central(-b));
}

double ndtri_exp(double log_p, Inversion inversion) {
  if (inversion == Inversion::kBisection) {
    double lo = -100.0;
    double hi = 100.0;
    double mid = 0.0;
    for (int step = 0; step < 100; ++step) {
      mid = (lo + hi) / 2;
      if (log_ndtr(mid) < log_p) {
        lo = mid;
      } else {
        hi = mid;
      }
    }
    return mid;
  }
  if (log_p >= 0) return std::numeric_limits<double>::infinity();
  // Right half: Phi(z) = p  <=>  Phi(-z) = 1 - p = -expm1(log p), solved on the left.
  if (log_p > -kLn2) return -newton_left(std::log(-std::expm1(log_p)));
  return newton_left(log_p);
}

double ppf(double q, double a, double b, Inversion inversion) {
  return ppf(q, a, b, log_gauss_mass(a, b), a < 0 ? log_ndtr(a) : log_ndtr(-b), inversion);
}

double ppf(double q, double a, double b, double log_mass, double log_tail, Inversion inversion) {
  if (a == b) return std::numeric_limits<double>::quiet_NaN();
  if (q == 0) return a;
  if (q == 1) return b;
  // Work from the lower tail when it is the left one (a < 0), else mirror: no cancellation.
  if (a < 0) return ndtri_exp(log_add_exp(log_tail, std::log(q) + log_mass), inversion);
  return -ndtri_exp(log_add_exp(log_tail, std::log1p(-q) + log_mass), inversion);
}

double log_pdf_standard(double z, double a, double b, double log_mass) {
  if (a == b) return std::numeric_limits<double>::quiet_NaN();
  if (z < a || b < z) return -std::numeric_limits<double>::infinity();
  return -(z * z) / 2.0 - kLogSqrt2Pi - log_mass;
}

}  // namespace heretic::optimize::truncnorm
