#include "machine.h"

#include <algorithm>
#include <filesystem>
#include <fstream>

namespace heretic::bench {

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  }
  return "unknown CPU";
}

std::string blas_libraries() {
  namespace fs = std::filesystem;
  std::ifstream in("/proc/self/maps");
  std::string line, found;
  while (std::getline(in, line)) {
    const auto slash = line.find('/');
    if (slash == std::string::npos) continue;
    const std::string path = line.substr(slash);
    const std::string name = fs::path(path).filename().string();
    if (name.find("blas") == std::string::npos && name.find("mkl") == std::string::npos) continue;
    std::error_code error;
    const std::string real = fs::canonical(path, error).string();
    const std::string entry = error ? path : real;
    if (found.find(entry) == std::string::npos) found += (found.empty() ? "" : ", ") + entry;
  }
  return found.empty() ? "none found" : found;
}

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string one, five, fifteen;
  in >> one >> five >> fifteen;
  return one + " " + five + " " + fifteen;
}

double matmul_peak_flops(torch::ScalarType dtype, int repeats) {
  const int64_t n = 2048;
  const torch::Tensor a = torch::randn({n, n}).to(dtype);
  const torch::Tensor b = torch::randn({n, n}).to(dtype);
  torch::matmul(a, b);  // warm-up
  double best = 1e30;
  for (int i = 0; i < repeats; ++i) {
    const auto start = Clock::now();
    torch::matmul(a, b);
    best = std::min(best, seconds_since(start));
  }
  return 2.0 * static_cast<double>(n * n * n) / best;
}

}  // namespace heretic::bench
