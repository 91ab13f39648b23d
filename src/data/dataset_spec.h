// What a [good_prompts], [bad_prompts] or evaluation-prompts section of the configuration
// says: Heretic's DatasetSpecification (spec/heretic-behavior.md §1.3, §4).
#pragma once

#include <optional>
#include <string>

namespace heretic::data {

struct DatasetSpec {
  // A local file (plain text, .jsonl, .json, .csv, .parquet), a local dataset folder, or a
  // Hugging Face dataset repo id ("org/name") resolved offline in the hub cache.
  std::string dataset;
  std::optional<std::string> commit;  // hub revision: branch, tag or commit hash (default main)
  // Split with optional slice ("train[:400]"); for a single file a bare slice ("[:400]").
  std::optional<std::string> split;
  std::optional<std::string> column;         // required except for plain text files
  std::string prefix;                        // prepended with one space: "{prefix} {prompt}"
  std::string suffix;                        // appended with one space: "{prompt} {suffix}"
  std::optional<std::string> system_prompt;  // overrides the global system_prompt
};

// One prompt as the chat template receives it.
struct Prompt {
  std::string system;
  std::string user;
};

}  // namespace heretic::data
