// bench_tpe: hypervolume and ask() time of the C++ TPE sampler against Optuna 3.1.0, which it
// runs in the same invocation (tools/bench/tpe/optuna_runner.py under /usr/bin/python3).
// Problems, protocol and metric: spec/tpe.md §13 (ZDT1-C, ZDT2-C, DTLZ2-C; 10 floats + one
// two-way categorical; FIFO of at most W pending trials; exact 2-D hypervolume).
//
//   bench_tpe [--seeds 10] [--trials 200] [--startup 60] [--candidates 128] [--workers 1,8]
//             [--problems zdt1c,zdt2c,dtlz2c] [--no-optuna] [--python /usr/bin/python3]
//             [--optuna-cache DIR]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <cxxopts.hpp>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "optimize/hypervolume.h"
#include "optimize/tpe_sampler.h"

namespace {

using heretic::optimize::ObjectivePoint;
using heretic::optimize::SearchSpace;
using heretic::optimize::TpeOptions;
using heretic::optimize::TpeSampler;
using heretic::optimize::TpeSemantics;
using heretic::optimize::Trial;

constexpr double kPi = 3.141592653589793;

// numpy's sum of 9 doubles (8 interleaved partial sums, then the ninth), so that the objective
// values equal the Python runner's bit for bit and Optuna-3.1-mode runs can be compared per trial.
double numpy_sum9(const double* a) {
  return (((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]))) + a[8];
}

ObjectivePoint evaluate(const std::string& problem, const std::vector<double>& params) {
  const double x0 = params[0];
  const int c = static_cast<int>(params[10]);
  double terms[9];
  if (problem == "dtlz2c") {
    const double centre = c == 0 ? 0.5 : 0.25;
    for (int i = 0; i < 9; ++i) terms[i] = (params[i + 1] - centre) * (params[i + 1] - centre);
    const double g = numpy_sum9(terms) + 0.1 * c;
    const double angle = x0 * kPi / 2.0;
    return {(1.0 + g) * std::cos(angle), (1.0 + g) * std::sin(angle)};
  }
  for (int i = 0; i < 9; ++i) terms[i] = c == 0 ? params[i + 1] : 1.0 - params[i + 1];
  const double g = 1.0 + 9.0 * (numpy_sum9(terms) / 9.0) + 0.25 * c;
  const double ratio = x0 / g;
  const double f2 = problem == "zdt2c" ? g * (1.0 - ratio * ratio) : g * (1.0 - std::sqrt(ratio));
  return {x0, f2};
}

ObjectivePoint reference_of(const std::string& problem) {
  return problem == "dtlz2c" ? ObjectivePoint{2.5, 2.5} : ObjectivePoint{1.1, 6.0};
}

double ideal_hypervolume(const std::string& problem) {
  if (problem == "zdt1c") return 6.2667;
  if (problem == "zdt2c") return 5.9333;
  return 5.4646;
}

struct Settings {
  int trials = 200, startup = 60, candidates = 128;
};

struct RunResult {
  std::map<int, double> hv;  // told trials -> hypervolume
  double ask_ms_model = 0, ask_ms_last20 = 0;
  double ask_cpu_ms_model = NAN;       // process CPU time: robust when the machine is shared
  std::vector<ObjectivePoint> values;  // in tell order
  double fraction_a_last100 = NAN;
};

const std::vector<int> kCheckpoints = {60, 100, 150, 200};

double cpu_ms() {
  timespec now{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  return 1e3 * static_cast<double>(now.tv_sec) + 1e-6 * static_cast<double>(now.tv_nsec);
}

RunResult run_cpp(const std::string& problem, int seed, int workers, const Settings& s,
                  const TpeSemantics& semantics) {
  SearchSpace space;
  for (int i = 0; i < 10; ++i) space.add_float("x" + std::to_string(i), 0.0, 1.0);
  space.add_categorical("c", {"a", "b"});
  TpeOptions options;
  options.n_objectives = 2;
  options.n_startup_trials = s.startup;
  options.n_ei_candidates = s.candidates;
  options.seed = static_cast<std::uint32_t>(seed);
  options.semantics = semantics;
  options.constant_liar = true;
  TpeSampler sampler(space, options);
  RunResult result;
  struct Pending {
    int number;
    ObjectivePoint values;
    bool choice_a;
  };
  std::vector<Pending> pending;  // FIFO
  std::vector<bool> told_a;
  std::vector<double> ask_ms, ask_cpu_ms;
  int asked = 0;
  while (static_cast<int>(result.values.size()) < s.trials) {
    while (static_cast<int>(pending.size()) < workers && asked < s.trials) {
      const auto start = std::chrono::steady_clock::now();
      const double start_cpu = cpu_ms();
      const Trial t = sampler.ask();
      ask_cpu_ms.push_back(cpu_ms() - start_cpu);
      ask_ms.push_back(
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
              .count());
      ++asked;
      pending.push_back({t.number, evaluate(problem, t.params), t.params[10] == 0.0});
    }
    const Pending done = pending.front();
    pending.erase(pending.begin());
    sampler.tell(done.number, done.values);
    result.values.push_back(done.values);
    told_a.push_back(done.choice_a);
    const int told = static_cast<int>(result.values.size());
    if (std::count(kCheckpoints.begin(), kCheckpoints.end(), told) || told == s.trials) {
      result.hv[told] = heretic::optimize::hypervolume(result.values, reference_of(problem));
    }
  }
  auto mean = [](auto begin, auto end) {
    double sum = 0;
    for (auto it = begin; it != end; ++it) sum += *it;
    return end > begin ? sum / static_cast<double>(end - begin) : NAN;
  };
  result.ask_ms_model =
      mean(ask_ms.begin() + std::min<std::ptrdiff_t>(s.startup, ask_ms.size()), ask_ms.end());
  result.ask_ms_last20 =
      mean(ask_ms.end() - std::min<std::ptrdiff_t>(20, ask_ms.size()), ask_ms.end());
  result.ask_cpu_ms_model =
      mean(ask_cpu_ms.begin() + std::min<std::ptrdiff_t>(s.startup, ask_cpu_ms.size()),
           ask_cpu_ms.end());
  const std::size_t last = std::min<std::size_t>(100, told_a.size());
  result.fraction_a_last100 =
      static_cast<double>(
          std::count(told_a.end() - static_cast<std::ptrdiff_t>(last), told_a.end(), true)) /
      static_cast<double>(last);
  return result;
}

std::vector<RunResult> parse_runner_output(std::istream& in) {
  std::vector<RunResult> results;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const nlohmann::json j = nlohmann::json::parse(line);
    RunResult r;
    for (const auto& [key, value] : j["hv"].items()) r.hv[std::stoi(key)] = value.get<double>();
    r.ask_ms_model = j["ask_ms_model"].get<double>();
    r.ask_ms_last20 = j["ask_ms_last20"].get<double>();
    r.ask_cpu_ms_model = j.value("ask_cpu_ms_model", static_cast<double>(NAN));
    r.fraction_a_last100 = j.value("frac_a_last100", static_cast<double>(NAN));
    for (const auto& v : j["values"]) r.values.push_back(v.get<ObjectivePoint>());
    results.push_back(std::move(r));
  }
  return results;
}

// Runs the Python runner and returns its stdout. With a cache folder, a previous identical run's
// output is reused (Optuna is deterministic; its ask times are then those of that run).
std::string run_optuna(const std::string& python, const std::string& problem, int seeds,
                       int workers, const Settings& s, const std::string& cache_dir) {
  std::ostringstream key;
  key << problem << "_w" << workers << "_s" << seeds << "_t" << s.trials << "_st" << s.startup
      << "_c" << s.candidates << ".jsonl";
  const std::string cache_file = cache_dir.empty() ? "" : cache_dir + "/" + key.str();
  if (!cache_file.empty()) {
    std::ifstream cached(cache_file);
    if (cached.good()) {
      std::ostringstream text;
      text << cached.rdbuf();
      return text.str();
    }
  }
  std::ostringstream command;
  command << python << " " << HERETIC_TPE_RUNNER << " --problem " << problem << " --trials "
          << s.trials << " --startup " << s.startup << " --candidates " << s.candidates
          << " --workers " << workers << " --seeds";
  for (int seed = 0; seed < seeds; ++seed) command << " " << seed;
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.str().c_str(), "r"), pclose);
  std::string output;
  if (!pipe) return output;
  char buffer[65536];
  std::size_t got;
  while ((got = std::fread(buffer, 1, sizeof buffer, pipe.get())) > 0) output.append(buffer, got);
  if (!cache_file.empty() && !output.empty()) std::ofstream(cache_file) << output;
  return output;
}

// Two-sided 95% Student t quantile.
double t_quantile(double df) {
  static const double table[] = {12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306,
                                 2.262,  2.228, 2.201, 2.179, 2.160, 2.145, 2.131, 2.120,
                                 2.110,  2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
                                 2.060,  2.056, 2.052, 2.048, 2.045, 2.042};
  if (df < 1) return NAN;
  if (df <= 30) return table[static_cast<int>(std::floor(df)) - 1];
  return 1.96 + 2.4 / df;
}

struct Stats {
  double mean = NAN, sd = NAN, half_width = NAN;
  int n = 0;
};

Stats stats_of(const std::vector<double>& v) {
  Stats s;
  s.n = static_cast<int>(v.size());
  if (v.empty()) return s;
  double sum = 0;
  for (double x : v) sum += x;
  s.mean = sum / s.n;
  double squares = 0;
  for (double x : v) squares += (x - s.mean) * (x - s.mean);
  s.sd = s.n > 1 ? std::sqrt(squares / (s.n - 1)) : 0.0;
  s.half_width = s.n > 1 ? t_quantile(s.n - 1) * s.sd / std::sqrt(s.n) : NAN;
  return s;
}

// Welch's 95% interval for mean(a) - mean(b).
std::pair<double, double> difference_interval(const Stats& a, const Stats& b) {
  const double va = a.sd * a.sd / a.n, vb = b.sd * b.sd / b.n;
  const double se = std::sqrt(va + vb);
  const double df = (va + vb) * (va + vb) / (va * va / (a.n - 1) + vb * vb / (b.n - 1));
  const double d = a.mean - b.mean;
  const double t = t_quantile(std::isfinite(df) ? df : 1e9);
  return {d - t * se, d + t * se};
}

std::vector<double> column(const std::vector<RunResult>& runs, int checkpoint) {
  std::vector<double> v;
  for (const RunResult& r : runs) {
    auto it = r.hv.find(checkpoint);
    if (it != r.hv.end()) v.push_back(it->second);
  }
  return v;
}

double mean_ask_ms(const std::vector<RunResult>& runs, bool cpu) {
  double sum = 0;
  for (const RunResult& r : runs) sum += cpu ? r.ask_cpu_ms_model : r.ask_ms_model;
  return runs.empty() ? NAN : sum / static_cast<double>(runs.size());
}

// Share of the last 100 told trials with c = "a" (the better basin); a diagnostic of whether
// the sampler learnt the categorical-continuous interaction.
double fraction_a_last100(const std::vector<RunResult>& runs) {
  double sum = 0;
  for (const RunResult& r : runs) sum += r.fraction_a_last100;
  return runs.empty() ? NAN : sum / static_cast<double>(runs.size());
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  }
  return "unknown";
}

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> items;
  std::stringstream stream(s);
  std::string item;
  while (std::getline(stream, item, ',')) items.push_back(item);
  return items;
}

// First told trial whose values differ (1-based), or 0 if the sequences agree.
int first_divergence(const RunResult& a, const RunResult& b) {
  const std::size_t n = std::min(a.values.size(), b.values.size());
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t k = 0; k < a.values[i].size(); ++k) {
      if (std::fabs(a.values[i][k] - b.values[i][k]) > 1e-9) return static_cast<int>(i) + 1;
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  cxxopts::Options cli("bench_tpe", "C++ TPE vs Optuna 3.1 on ZDT1-C, ZDT2-C, DTLZ2-C");
  cli.add_options()("seeds", "seeds 0..N-1", cxxopts::value<int>()->default_value("10"))(
      "trials", "trials per run", cxxopts::value<int>()->default_value("200"))(
      "startup", "random startup trials", cxxopts::value<int>()->default_value("60"))(
      "candidates", "n_ei_candidates", cxxopts::value<int>()->default_value("128"))(
      "workers", "comma-separated pool sizes", cxxopts::value<std::string>()->default_value("1,8"))(
      "problems", "comma-separated",
      cxxopts::value<std::string>()->default_value("zdt1c,zdt2c,dtlz2c"))(
      "python", "interpreter with optuna",
      cxxopts::value<std::string>()->default_value("/usr/bin/python3"))(
      "optuna-cache", "folder to keep/reuse Optuna's output (deterministic) between runs",
      cxxopts::value<std::string>()->default_value(""))("no-optuna", "only run the C++ sampler")(
      "h,help", "help");
  const auto args = cli.parse(argc, argv);
  if (args.count("help")) {
    std::cout << cli.help() << "\n";
    return 0;
  }
  Settings s;
  s.trials = args["trials"].as<int>();
  s.startup = args["startup"].as<int>();
  s.candidates = args["candidates"].as<int>();
  const int seeds = args["seeds"].as<int>();
  const bool with_optuna = !args.count("no-optuna");
  const std::string python = args["python"].as<std::string>();
  const std::string cache_dir = args["optuna-cache"].as<std::string>();

  std::printf("machine: %s, %u hardware threads\n", cpu_model().c_str(),
              std::thread::hardware_concurrency());
  std::printf(
      "settings: %d trials, %d startup, %d candidates, seeds 0..%d, constant liar on; "
      "HV at %d told trials: mean +- 95%% t-interval; diff = row - Optuna, mean [Welch 95%% "
      "interval]; (x) = HV / ideal front's HV\n\n",
      s.trials, s.startup, s.candidates, seeds - 1, s.trials);
  std::printf("%-7s %2s  %-24s %-26s %-27s %-7s %-6s %10s %8s %10s %8s\n", "problem", "W",
              "sampler", "HV", "diff vs Optuna", "verdict", "c=a", "wall ms", "speedup", "cpu ms",
              "speedup");

  // The samplers compared with Optuna 3.1.0 (all C++ runs share the same protocol).
  TpeSemantics density31 = TpeSemantics::optuna_4_9();
  density31.omit_log_sigma = true;
  const std::vector<std::pair<std::string, TpeSemantics>> variants = {
      {"C++ default (4.9)", TpeSemantics::optuna_4_9()},
      {"C++ 4.9 + 3.1 density", density31},
      {"C++ 3.1-compat", TpeSemantics::optuna_3_1()}};

  for (const std::string& problem : split_list(args["problems"].as<std::string>())) {
    for (const std::string& w : split_list(args["workers"].as<std::string>())) {
      const int workers = std::stoi(w);
      std::vector<RunResult> optuna;
      if (with_optuna) {
        std::istringstream text(run_optuna(python, problem, seeds, workers, s, cache_dir));
        optuna = parse_runner_output(text);
        if (optuna.empty()) {
          std::printf("(no output from %s %s: is Debian's python3-optuna installed?)\n",
                      python.c_str(), HERETIC_TPE_RUNNER);
        }
      }
      const Stats o = stats_of(column(optuna, s.trials));
      const double optuna_ms = mean_ask_ms(optuna, false);
      const double optuna_cpu_ms = mean_ask_ms(optuna, true);
      auto print_row = [&](const std::string& name, const std::vector<RunResult>& runs,
                           const std::string& extra) {
        const Stats st = stats_of(column(runs, s.trials));
        char hv[64], diff[80] = "-", verdict[16] = "-";
        std::snprintf(hv, sizeof hv, "%.3f +- %.3f (%.3f)", st.mean, st.half_width,
                      st.mean / ideal_hypervolume(problem));
        if (!optuna.empty() && &runs != &optuna) {
          const auto [lo, hi] = difference_interval(st, o);
          std::snprintf(diff, sizeof diff, "%+.3f [%+.3f, %+.3f]", st.mean - o.mean, lo, hi);
          // better/worse: the 95% interval excludes 0; else no significant difference.
          std::snprintf(verdict, sizeof verdict, "%s",
                        lo > 0   ? "better"
                        : hi < 0 ? "worse"
                                 : "n.s.");
        }
        const double ms = mean_ask_ms(runs, false);
        const double cpu_ms = mean_ask_ms(runs, true);
        std::printf("%-7s %2d  %-24s %-26s %-27s %-7s %-6.2f %10.3f %7.0fx %10.3f %7.0fx %s\n",
                    problem.c_str(), workers, name.c_str(), hv, diff, verdict,
                    fraction_a_last100(runs), ms, optuna_ms / ms, cpu_ms, optuna_cpu_ms / cpu_ms,
                    extra.c_str());
      };
      if (!optuna.empty()) print_row("Optuna 3.1.0 (python)", optuna, "");
      for (const auto& [name, semantics] : variants) {
        std::vector<RunResult> runs;
        for (int seed = 0; seed < seeds; ++seed) {
          runs.push_back(run_cpp(problem, seed, workers, s, semantics));
        }
        std::string extra;
        if (name == "C++ 3.1-compat" && !optuna.empty()) {
          int same = 0, first = 0;
          for (std::size_t i = 0; i < optuna.size() && i < runs.size(); ++i) {
            const int d = first_divergence(runs[i], optuna[i]);
            if (d == 0) {
              ++same;
            } else if (first == 0 || d < first) {
              first = d;
            }
          }
          extra = "identical to Optuna trial by trial: " + std::to_string(same) + "/" +
                  std::to_string(optuna.size()) + " seeds" +
                  (first ? ", first divergence at trial " + std::to_string(first) : "");
        }
        print_row(name, runs, extra);
      }
      std::printf("\n");
      std::fflush(stdout);
    }
  }
  std::printf(
      "wall/cpu ms: mean wall-clock / process CPU time per model-based ask (startup asks "
      "excluded); speedup = Optuna's / this row's; c=a: share of the last 100 trials in the "
      "better basin.\n");
  return 0;
}
