#include "app/run_inputs.h"

#include <spdlog/spdlog.h>

#include "data/load_prompts.h"
#include "hf/chat_template.h"
#include "hf/model_location.h"
#include "hf/tokenizer.h"
#include "model/causal_lm.h"

namespace heretic::app {
namespace {

// Heretic's smoke conversation (spec/heretic-behavior.md §1.2).
std::vector<int64_t> smoke_prompt(const hf::ChatTemplate& chat, const hf::Tokenizer& tokenizer,
                                  const std::string& system_prompt) {
  nlohmann::ordered_json messages = nlohmann::ordered_json::array(
      {{{"role", "system"}, {"content", system_prompt}}, {{"role", "user"}, {"content", "What is 1+1?"}}});
  const auto ids = tokenizer.encode_ids(chat.render(messages, true), true);
  return std::vector<int64_t>(ids.begin(), ids.end());
}

}  // namespace

LoadedInputs load_inputs(const config::Config& config) {
  LoadedInputs inputs;
  const hf::ModelLocation location = hf::locate_model(config.model, config.model_commit);
  inputs.model_folder = location.folder.string();
  inputs.model_commit = location.commit;
  const hf::Tokenizer tokenizer = hf::Tokenizer::from_folder(location.folder);
  const hf::ChatTemplate chat = hf::ChatTemplate::from_folder(location.folder);
  const auto smoke = smoke_prompt(chat, tokenizer, config.system_prompt);
  const auto model = model::CausalLM::load_first_working(location.folder, config.dtypes, torch::kCPU, smoke);
  const model::ModelInfo& info = model->info();
  inputs.model_type = info.model_type;
  inputs.layers = info.num_layers;
  inputs.hidden_size = info.hidden_size;
  inputs.dtype = model::torch_dtype_name(info.dtype);
  const auto response = model->generate_greedy(model->make_batch({smoke}), 8);
  inputs.smoke_response =
      tokenizer.decode(std::vector<hf::TokenId>(response.front().begin(), response.front().end()), true);

  inputs.prompt_sets.emplace_back("good_prompts", data::load_prompts(config.good_prompts, config.system_prompt).size());
  inputs.prompt_sets.emplace_back("bad_prompts", data::load_prompts(config.bad_prompts, config.system_prompt).size());
  for (const auto& scorer : config.scorers) {
    const std::string name = "scorer." + scorer.class_name() + (scorer.instance_name ? "_" + *scorer.instance_name : "") +
                             ".prompts";
    inputs.prompt_sets.emplace_back(name, data::load_prompts(scorer.prompts, config.system_prompt).size());
  }
  return inputs;
}

}  // namespace heretic::app
