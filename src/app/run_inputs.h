// What phase 1 of a run (DESIGN.md §1) loaded on a rank — the model (Heretic's dtype chain
// with a one-token smoke test), its tokenizer and chat template, and every prompt set of the
// configuration — as a torch-free summary for the logs (see app/run.h).
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "config/config.h"

namespace heretic::app {

struct LoadedInputs {
  std::string model_folder;
  std::string model_commit;  // hub snapshot, "" for a local folder
  std::string model_type;
  int64_t layers = 0;
  int64_t hidden_size = 0;
  std::string dtype;  // the dtype that passed the smoke test
  std::string smoke_response;
  std::vector<std::pair<std::string, size_t>> prompt_sets;  // name, number of prompts
};

}  // namespace heretic::app
