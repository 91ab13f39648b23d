// `heretic-mpi plan --config job.toml` (or --model DIR): the memory each rank of a tensor x
// pipeline layout needs and the smallest layout that fits, from config.json and the safetensors
// headers (or config.json alone) — nothing is loaded, so it runs on a login node.
#include <cxxopts.hpp>
#include <iostream>
#include <optional>
#include <string>

#include "app/command.h"
#include "app/layout_memory.h"
#include "common/error.h"
#include "config/byte_size.h"
#include "config/load.h"
#include "hf/model_location.h"
#include "io/memory_usage.h"

namespace heretic::app {
namespace {

int positive(const cxxopts::ParseResult& args, const char* name, int fallback) {
  if (!args.count(name)) return fallback;
  const int value = args[name].as<int>();
  if (value < 1) throw InputError(std::string("plan: --") + name + " must be at least 1");
  return value;
}

int run_plan(int argc, char** argv) {
  cxxopts::Options options("heretic-mpi plan",
                           "Print the memory each rank of a tensor x pipeline layout needs and the smallest layout "
                           "that fits.");
  options.add_options()("config", "job configuration (model, dtypes, batch sizes, max_response_length, [mpi])",
                        cxxopts::value<std::string>())(
      "model", "model folder or cached repo id (instead of, or overriding, the configuration's)",
      cxxopts::value<std::string>())("dtype", "compute dtype: auto, bfloat16, float16 or float32 (default: the "
                                              "configuration's first dtypes entry, else auto)",
                                     cxxopts::value<std::string>())(
      "devices-per-node", "ranks (devices) per node (default 1)", cxxopts::value<int>())(
      "nodes", "nodes (default 1)", cxxopts::value<int>())(
      "memory-per-device", "memory of one rank, e.g. 80GiB (default: mpi.memory_per_rank when it is a size, "
                           "else this node's memory over --devices-per-node)",
      cxxopts::value<std::string>())("prompt-tokens", "the longest prompt in tokens (default 512, an assumption)",
                                     cxxopts::value<int>())(
      "batch-size", "the batch ceiling (default: batch_size, else max_batch_size, else 128)", cxxopts::value<int>())(
      "max-response-length", "response tokens (default: max_response_length, else 100)", cxxopts::value<int>())(
      "h,help", "show this help");
  cxxopts::ParseResult args;
  try {
    args = options.parse(argc, argv);
  } catch (const std::exception& error) {
    throw InputError(std::string("plan: ") + error.what());
  }
  if (args.count("help")) {
    std::cout << options.help() << "\n";
    return 0;
  }
  if (!args.unmatched().empty()) throw InputError("plan: unexpected argument '" + args.unmatched().front() + "'");
  if (!args.count("config") && !args.count("model"))
    throw InputError("plan: --config FILE or --model DIR is required\n" + options.help());

  std::optional<config::Config> config;
  if (args.count("config")) config = config::load_config(args["config"].as<std::string>()).config;
  std::string model = args.count("model") ? args["model"].as<std::string>() : config->model;
  std::optional<std::string> revision;
  if (!args.count("model") && config) revision = config->model_commit;
  std::string dtype = "auto";
  if (args.count("dtype")) {
    dtype = args["dtype"].as<std::string>();
  } else if (config && !config->dtypes.empty()) {
    dtype = config->dtypes.front();
  }
  const PlannedModel planned = plan_model(hf::locate_model(model, revision).folder, dtype);

  PlanQuestion question;
  std::string source = config ? "batch ceiling and response length from " + args["config"].as<std::string>()
                              : std::string("batch ceiling and response length are the defaults");
  if (config) {
    question.workload = workload_of(*config);
    question.configured = model::Layout{config->mpi.tensor_parallel, config->mpi.pipeline_stages};
  }
  question.workload.batch_size = positive(args, "batch-size", static_cast<int>(question.workload.batch_size));
  question.workload.response_tokens =
      positive(args, "max-response-length", static_cast<int>(question.workload.response_tokens));
  question.workload.prompt_tokens = positive(args, "prompt-tokens", static_cast<int>(question.workload.prompt_tokens));
  question.workload_source =
      source + "; the longest prompt is " + (args.count("prompt-tokens") ? "--prompt-tokens" : "assumed") +
      " (prompts are not tokenized here)";
  question.ranks_per_node = positive(args, "devices-per-node", 1);
  question.nodes = positive(args, "nodes", 1);
  if (args.count("memory-per-device")) {
    const std::string text = args["memory-per-device"].as<std::string>();
    const auto bytes = config::parse_byte_size(text);
    if (!bytes) throw InputError("plan: --memory-per-device: expected a size such as 80GiB, got '" + text + "'");
    question.memory_per_rank = *bytes;
    question.memory_source = "--memory-per-device";
  } else if (config && config->mpi.memory_per_rank > 0) {
    question.memory_per_rank = config->mpi.memory_per_rank;
    question.memory_source = "mpi.memory_per_rank";
  } else {
    const int64_t node = io::node_memory_bytes();
    if (node <= 0) throw InputError("plan: this node's memory is unknown; give --memory-per-device");
    question.memory_per_rank = node / question.ranks_per_node;
    question.memory_source = "this node's " + io::format_bytes(node) + " over " +
                             std::to_string(question.ranks_per_node) + " rank(s)";
  }
  return static_cast<int>(print_plan(std::cout, planned, question) ? ExitCode::kOk : ExitCode::kBadInput);
}

}  // namespace

HERETIC_REGISTER_COMMAND("plan", "print each rank's memory per tensor x pipeline layout and the smallest that fits",
                         run_plan);

}  // namespace heretic::app
