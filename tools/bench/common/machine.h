// What every benchmark prints about the machine it ran on, and the matmul peak it compares
// against (measured in the same run, as tools/bench/README rules ask).
#pragma once

#include <torch/utils.h>

#include <chrono>
#include <string>

namespace heretic::bench {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start);

// "model name" of /proc/cpuinfo, or "unknown CPU".
std::string cpu_model();

// The BLAS libraries mapped into this process: torch's CPU matmuls run in them, so their choice
// (a reference BLAS or an optimised one) decides the peak and every time measured.
std::string blas_libraries();

// The 1, 5 and 15 minute load averages, as /proc/loadavg has them.
std::string load_average();

// FLOP/s of the best of `repeats` 2048^3 matmuls in `dtype`, after a warm-up.
double matmul_peak_flops(torch::ScalarType dtype, int repeats = 3);

}  // namespace heretic::bench
