// Where a model's files are: a local folder, or a Hugging Face repo id resolved offline in
// the hub cache (compute nodes have no internet; nothing is downloaded).
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace heretic::hf {

struct ModelLocation {
  std::filesystem::path folder;  // holds config.json and the safetensors files
  std::string repo_id;           // "" for a local folder
  std::string commit;            // hub snapshot commit; "" for a local folder
};

// `model` is a folder path or an "org/name" repo id; `revision` applies to repo ids only.
// A path that exists wins over a repo id of the same spelling. Throws InputError when the
// folder has no config.json, or (through resolve_hub_snapshot) when the repo is not cached,
// saying what to run on a login node.
ModelLocation locate_model(const std::string& model, const std::optional<std::string>& revision = std::nullopt);

}  // namespace heretic::hf
