// `heretic-mpi report --run DIR`: the Pareto table of a finished or stopped run, from its
// results.h5, and its HTML report (DIR/report.html) drawn again. Needs no model and no MPI.
#include <cstdio>
#include <cxxopts.hpp>
#include <filesystem>
#include <iostream>
#include <map>
#include <string>

#include "app/command.h"
#include "app/run_folder.h"
#include "common/error.h"
#include "io/results_file.h"
#include "report/html_report.h"
#include "report/svg_plot.h"

namespace heretic::app {
namespace {

namespace fs = std::filesystem;

std::string describe(const io::Results& results, const io::TrialRecord& trial) {
  std::string text;
  for (size_t i = 0; i < results.scorers.size() && i < trial.score_values.size(); ++i) {
    text += (i ? ", " : "") + results.scorers[i] + " " + report::format_number(trial.score_values[i]);
  }
  if (trial.refusals >= 0) text += " | refusals " + std::to_string(trial.refusals) + "/" + std::to_string(trial.refusal_prompts);
  return text;
}

}  // namespace

int run_report(int argc, char** argv) {
  cxxopts::Options options("heretic-mpi report",
                           "Print the Pareto front of a run and draw its HTML report again (DIR/report.html).");
  options.add_options()("run", "the run's output folder (output.dir)", cxxopts::value<std::string>())(
      "h,help", "show this help");
  cxxopts::ParseResult args;
  try {
    args = options.parse(argc, argv);
  } catch (const std::exception& error) {
    throw InputError(std::string("report: ") + error.what());
  }
  if (args.count("help")) {
    std::cout << options.help() << "\n";
    return 0;
  }
  if (!args.count("run")) throw InputError("report: --run DIR is required (see heretic-mpi report --help)");
  const fs::path run = args["run"].as<std::string>();
  const io::Results results = read_run_folder(run);

  std::map<int64_t, const io::TrialRecord*> by_number;
  for (const auto& trial : results.trials) by_number[trial.number] = &trial;
  std::cout << "run: " << run.string() << " (model " << results.run.model << ", " << results.trials.size()
            << " finished trials, " << results.run.world_size << " ranks)\n";
  std::cout << "Pareto front (" << results.pareto.size() << " of " << results.trials.size() << " trials):\n";
  for (const int64_t number : results.pareto) {
    const auto found = by_number.find(number);
    if (found == by_number.end()) continue;
    char label[32];
    std::snprintf(label, sizeof label, "  [Trial %3lld] ", static_cast<long long>(number));
    std::cout << label << describe(results, *found->second) << "\n";
  }
  const fs::path page = run / "report.html";
  report::write_html_report(page, results);
  std::cout << "report: " << page.string() << "\n";
  return 0;
}

HERETIC_REGISTER_COMMAND("report", "print a run's Pareto front and draw its HTML report again", run_report);

}  // namespace heretic::app
