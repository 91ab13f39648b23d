// `heretic-mpi export --run DIR --trial N [--lora]`: exports finished trials of a run after the job
// (merged models, or LoRA adapters with --lora),
// without running trials, alone or under mpirun/srun (the trials are shared out among the
// ranks). It is the main job with the configuration results.h5 keeps (or --config) and
// output.dir = DIR: the model is loaded, the refusal directions are computed again and checked
// against the run's journal, so the export equals what the run itself would have written.
#include <cxxopts.hpp>
#include <iostream>
#include <set>
#include <string>
#include <vector>

#include "app/command.h"
#include "app/main_job.h"
#include "app/run_folder.h"
#include "common/error.h"

namespace heretic::app {
namespace {

int run_export(int argc, char** argv) {
  cxxopts::Options options("heretic-mpi export",
                           "Export finished trials of a run (merged model folders in DIR/models/trial-NNN, or with "
                           "--lora LoRA adapters in PEFT's format in DIR/models/trial-NNN-lora) without running "
                           "trials; under mpirun the trials are shared out among the ranks.");
  options.custom_help("--run DIR --trial N [--trial M ...] [--lora] [--config FILE] [--set KEY=VALUE ...]");
  options.add_options()("run", "the run's output folder (output.dir)", cxxopts::value<std::string>(), "DIR")(
      "trial", "trial number to export, as the Pareto table shows it (repeatable)",
      cxxopts::value<std::vector<int64_t>>(), "N")(
      "lora",
      "write LoRA adapters (exact rank 1 for row normalization none and pre; rank output.lora_rank, default 3, "
      "for full) instead of merged models (output.export_format=lora)")(
      "config", "the job's configuration file (default: the one DIR/results.h5 keeps)", cxxopts::value<std::string>(),
      "FILE")("set", "override a configuration key, e.g. --set output.max_shard_size=2GB (repeatable)",
              cxxopts::value<std::vector<std::string>>(), "KEY=VALUE")("h,help", "show this help");
  cxxopts::ParseResult args;
  try {
    args = options.parse(argc, argv);
  } catch (const std::exception& error) {
    throw InputError(std::string("export: ") + error.what());
  }
  if (args.count("help")) {
    std::cout << options.help() << "\n";
    return 0;
  }
  if (!args.count("run")) throw InputError("export: --run DIR is required (see heretic-mpi export --help)");
  if (!args.count("trial")) throw InputError("export: --trial N is required (see heretic-mpi export --help)");
  const std::string run = args["run"].as<std::string>();
  const io::Results results = read_run_folder(run);

  // Unknown trials are refused here, before a model is loaded.
  std::set<int64_t> finished;
  for (const auto& trial : results.trials) {
    if (trial.status == "complete") finished.insert(trial.number);
  }
  JobRequest job;
  for (const int64_t number : args["trial"].as<std::vector<int64_t>>()) {
    if (finished.count(number) == 0) {
      throw InputError("export: --trial " + std::to_string(number) + ": " + run + "/results.h5 has no successfully " +
                       "finished trial " + std::to_string(number) + " (" + std::to_string(finished.size()) +
                       " finished trials" +
                       (finished.empty() ? "" : ", numbers " + std::to_string(*finished.begin()) + " to " +
                                                    std::to_string(*finished.rbegin())) +
                       ")");
    }
    job.export_only.push_back(number);
  }
  if (args.count("config")) {
    job.config_path = args["config"].as<std::string>();
  } else {
    job.config_path = run + "/results.h5 (/run config)";
    job.config_text = results.run.config_toml;
  }
  if (args.count("set")) job.overrides = args["set"].as<std::vector<std::string>>();
  if (args.count("lora")) job.overrides.push_back("output.export_format=lora");
  job.overrides.push_back("output.dir=" + run);
  return run_job(job, &argc, &argv);
}

}  // namespace

HERETIC_REGISTER_COMMAND("export",
                         "export finished trials of a run (merged models or LoRA adapters) without running trials",
                         run_export);

}  // namespace heretic::app
