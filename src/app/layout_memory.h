// The memory planner as the program uses it (model/memory_plan.h does the arithmetic): reading a
// model folder's shape and sizes, the report of `heretic-mpi plan`, and the main job's check of
// its own layout before anything is loaded. Torch-free.
#pragma once

#include <cstdint>
#include <filesystem>
#include <ostream>
#include <string>

#include "config/config.h"
#include "model/memory_plan.h"
#include "model/model_info.h"

namespace heretic::app {

struct PlannedModel {
  std::filesystem::path folder;
  model::ModelInfo info;
  model::ModelElements elements;
};

// config.json (and generation_config.json) of `folder`, and the sizes of the tensors the model
// loads from the safetensors headers when the folder has a checkpoint, else from the shape.
// `dtype` is the compute dtype ("auto" = config.json's). Throws InputError naming the file.
PlannedModel plan_model(const std::filesystem::path& folder, const std::string& dtype);

// What the planner is asked.
struct PlanQuestion {
  model::Workload workload;
  std::string workload_source;  // where the batch ceiling and the lengths come from, for the report
  int ranks_per_node = 1;
  int nodes = 1;
  int64_t memory_per_rank = 0;
  std::string memory_source;  // where memory_per_rank comes from
  model::Layout configured;   // the configuration's layout, reported in full
};

// The report of `heretic-mpi plan`: the model, the assumptions, every candidate layout, the
// smallest that runs and the smallest that holds the batch ceiling, and each rank of the chosen
// one. Returns whether any layout runs.
bool print_plan(std::ostream& out, const PlannedModel& model, const PlanQuestion& question);

// The workload of a configuration: its batch ceiling (batch_size, else max_batch_size), the
// assumed longest prompt, and max_response_length.
model::Workload workload_of(const config::Config& config);

// The main job's check: "" when the configured layout fits `memory_per_rank` at batch size 1,
// else a message with the numbers naming the keys to change. Warnings (the batch ceiling does
// not fit) go to the log. Throws InputError for an unreadable model folder.
std::string check_layout_memory(const config::Config& config, const std::string& config_path,
                                const std::filesystem::path& model_folder, int64_t memory_per_rank,
                                const std::string& memory_source);

}  // namespace heretic::app
