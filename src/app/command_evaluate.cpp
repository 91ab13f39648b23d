// `heretic-mpi evaluate --config job.toml --model OTHER`: scores another model (an export, or an
// abliterated model from elsewhere) against the configured one, as Heretic's --evaluate-model
// does: the response prefix and the KL baselines come from the configured model, then OTHER is
// loaded and every scorer reports its value next to the configured model's.
#include <spdlog/spdlog.h>

#include <cstdio>
#include <cxxopts.hpp>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "app/command.h"
#include "app/engine.h"
#include "common/error.h"
#include "config/load.h"
#include "io/logging.h"

namespace heretic::app {
namespace {

int run_evaluate(int argc, char** argv) {
  cxxopts::Options options("heretic-mpi evaluate",
                           "Score another model against the configured one (refusals and KL divergence).");
  options.add_options()("c,config", "job configuration (TOML); its model is the reference",
                        cxxopts::value<std::string>(), "FILE")(
      "model", "the model to evaluate: a folder or a Hugging Face repo id", cxxopts::value<std::string>(), "OTHER")(
      "revision", "hub revision of OTHER", cxxopts::value<std::string>(), "REV")(
      "set", "override a configuration key (repeatable)", cxxopts::value<std::vector<std::string>>(), "KEY=VALUE")(
      "h,help", "show this help");
  cxxopts::ParseResult args;
  try {
    args = options.parse(argc, argv);
  } catch (const std::exception& error) {
    throw InputError(std::string("evaluate: ") + error.what());
  }
  if (args.count("help")) {
    std::cout << options.help() << "\n";
    return 0;
  }
  if (!args.count("config")) throw InputError("evaluate: --config FILE is required (see heretic-mpi evaluate --help)");
  if (!args.count("model")) throw InputError("evaluate: --model OTHER is required (see heretic-mpi evaluate --help)");
  std::vector<std::string> overrides;
  if (args.count("set")) overrides = args["set"].as<std::vector<std::string>>();
  io::setup_command_logging();
  const config::LoadedConfig loaded = config::load_config(args["config"].as<std::string>(), overrides);
  const config::Config& config = loaded.config;
  for (const auto& warning : loaded.warnings) spdlog::warn("{}", warning);

  auto comm = dist::make_single_rank_communicator();
  auto reference = Engine::load(config, torch::kCPU);
  const std::string prefix = reference->response_prefix(*comm);
  reference->prepare(prefix);
  const Scores base = reference->baseline(*comm);
  spdlog::info("{}: {}", config.model, describe_scores(reference->scorers(), base));

  config::Config other_config = config;
  other_config.model = args["model"].as<std::string>();
  other_config.model_commit.reset();
  if (args.count("revision")) other_config.model_commit = args["revision"].as<std::string>();
  auto other = Engine::load(other_config, torch::kCPU);
  other->prepare(prefix);
  other->copy_baselines_from(*reference);
  const Scores scores = other->score(*comm);

  std::printf("%-28s %14s %14s\n", "scorer", "evaluated", "configured");
  for (size_t i = 0; i < scores.values.size(); ++i) {
    const ScorerInstance& scorer = other->scorers()[i];
    std::printf("%-28s %14s %14s\n", scorer.name().c_str(), scorer.scorer->format(scores.partial[i]).c_str(),
                scorer.scorer->format(base.partial[i]).c_str());
  }
  return 0;
}

}  // namespace

HERETIC_REGISTER_COMMAND("evaluate", "score another model against the configured one (Heretic's --evaluate-model)",
                         run_evaluate);

}  // namespace heretic::app
