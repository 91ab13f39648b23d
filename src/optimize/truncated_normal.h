// The standard normal distribution truncated to [a, b]: log CDF, log mass, inverse CDF and
// log density, computed the way Optuna's _truncnorm module does (spec/tpe.md §11) so that
// the Optuna 3.1 replay matches to ~1e-12, with a Newton inverse for speed elsewhere.
#pragma once

namespace heretic::optimize::truncnorm {

// How the inverse of log Phi is found.
enum class Inversion {
  kBisection,  // Optuna 3.1: 100 bisection steps on [-100, 100] (slow, reference)
  kNewton,     // Newton from a start left of the root; log Phi is concave, so it never overshoots
};

// Phi(a), with erfc in the tails for accuracy.
double ndtr(double a);
// log Phi(a), with an asymptotic series below -20.
double log_ndtr(double a);
// log(Phi(b) - Phi(a)) for a <= b, accurate in both tails.
double log_gauss_mass(double a, double b);
// Inverse of log_ndtr: z with log Phi(z) = log_p (log_p <= 0).
double ndtri_exp(double log_p, Inversion inversion);
// Quantile q in [0, 1] of N(0, 1) truncated to [a, b].
double ppf(double q, double a, double b, Inversion inversion);
// The same with the per-kernel constants precomputed: log_mass = log_gauss_mass(a, b) and
// log_tail = log_ndtr(a) if a < 0, else log_ndtr(-b).
double ppf(double q, double a, double b, double log_mass, double log_tail, Inversion inversion);
// log density of N(0, 1) truncated to [a, b] at z, given log_mass = log_gauss_mass(a, b);
// -inf outside [a, b]. (Scaling by sigma is the caller's: it subtracts log sigma.)
double log_pdf_standard(double z, double a, double b, double log_mass);

}  // namespace heretic::optimize::truncnorm
