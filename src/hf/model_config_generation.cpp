#include "hf/model_config_generation.h"

#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/json_input.h"

namespace heretic::hf {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::vector<int64_t> read_ids(const json& root, const char* key, const fs::path& file) {
  std::vector<int64_t> ids;
  const auto it = root.find(key);
  if (it == root.end() || it->is_null()) return ids;
  if (it->is_number_integer()) return {it->get<int64_t>()};
  if (!it->is_array()) throw InputError(file.string() + ": key '" + key + "' must be an integer or a list of integers");
  for (const json& item : *it) {
    if (!item.is_number_integer())
      throw InputError(file.string() + ": key '" + key + "' has a non-integer entry " + json_excerpt(item));
    ids.push_back(item.get<int64_t>());
  }
  return ids;
}

}  // namespace

GenerationConfig read_generation_config(const fs::path& folder, const ModelConfig& model) {
  GenerationConfig config;
  config.eos_token_ids = model.eos_token_ids;
  config.pad_token_id = model.pad_token_id;
  config.bos_token_id = model.bos_token_id;

  const fs::path file = folder / "generation_config.json";
  if (fs::exists(file)) {
    std::ifstream stream(file, std::ios::binary);
    const json root = parse_json_input(std::string(std::istreambuf_iterator<char>(stream), {}), file.string());
    if (!root.is_object()) throw InputError(file.string() + ": not a JSON object");
    if (auto eos = read_ids(root, "eos_token_id", file); !eos.empty()) config.eos_token_ids = eos;
    if (auto pad = read_ids(root, "pad_token_id", file); !pad.empty()) config.pad_token_id = pad[0];
    if (auto bos = read_ids(root, "bos_token_id", file); !bos.empty()) config.bos_token_id = bos[0];
    const auto penalty = root.find("repetition_penalty");
    if (penalty != root.end() && !penalty->is_null()) {
      if (!penalty->is_number() || penalty->get<double>() <= 0.0)
        throw InputError(file.string() + ": key 'repetition_penalty' must be a positive number");
      config.repetition_penalty = penalty->get<double>();
    }
  }
  if (!config.pad_token_id && !config.eos_token_ids.empty()) config.pad_token_id = config.eos_token_ids.front();
  return config;
}

}  // namespace heretic::hf
