#include "eval/prompt_encoding.h"

#include <new>
#include <nlohmann/json.hpp>

#include "common/error.h"

namespace heretic::eval {
namespace {

std::string describe(size_t index, const data::Prompt& prompt) {
  constexpr size_t kShown = 60;
  const std::string user = prompt.user.size() > kShown ? prompt.user.substr(0, kShown) + "..." : prompt.user;
  return "prompt " + std::to_string(index) + " (\"" + user + "\")";
}

}  // namespace

std::vector<TokenIds> encode_prompts(const hf::Tokenizer& tokenizer, const hf::ChatTemplate& chat,
                                     const std::vector<data::Prompt>& prompts, const std::string& response_prefix) {
  std::vector<TokenIds> encoded;
  encoded.reserve(prompts.size());
  for (size_t i = 0; i < prompts.size(); ++i) {
    const data::Prompt& prompt = prompts[i];
    // Heretic's Model.generate always sends [system, user], even when the system prompt is
    // empty (the template then decides what an empty system message looks like).
    const nlohmann::ordered_json messages = nlohmann::ordered_json::array(
        {{{"role", "system"}, {"content", prompt.system}}, {{"role", "user"}, {"content", prompt.user}}});
    std::vector<hf::TokenId> ids;
    try {
      // The prefix goes after the rendered generation prompt, so the assistant turn already
      // starts with it; tokenizer(text) adds special tokens (a BOS may be doubled, as in Heretic).
      ids = tokenizer.encode_ids(chat.render(messages, true) + response_prefix, true);
    } catch (const std::bad_alloc&) {
      throw;
    } catch (const std::exception& error) {
      throw InputError(describe(i, prompt) + ": " + error.what());
    }
    if (ids.empty()) throw InputError(describe(i, prompt) + ": the rendered chat encodes to no tokens");
    encoded.emplace_back(ids.begin(), ids.end());
  }
  return encoded;
}

std::string decode_response(const hf::Tokenizer& tokenizer, const TokenIds& ids, bool skip_special_tokens) {
  const std::vector<hf::TokenId> tokens(ids.begin(), ids.end());
  std::string text = tokenizer.decode(tokens, skip_special_tokens);
  if (tokenizer.clean_up_tokenization_spaces()) text = hf::clean_up_tokenization(std::move(text));
  return text;
}

}  // namespace heretic::eval
