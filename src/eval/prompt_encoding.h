// Turning prompts into model input as Heretic does (spec/heretic-behavior.md §1.4): the chat
// [system, user] rendered with the generation prompt, the response prefix appended to the
// rendered text, then tokenised with add_special_tokens = true.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/load_prompts.h"
#include "hf/chat_template.h"
#include "hf/tokenizer.h"

namespace heretic::eval {

using TokenIds = std::vector<int64_t>;

// Throws InputError (template or tokenizer failure) naming the prompt's index.
std::vector<TokenIds> encode_prompts(const hf::Tokenizer& tokenizer, const hf::ChatTemplate& chat,
                                     const std::vector<data::Prompt>& prompts, const std::string& response_prefix);

// Generated ids to text as Heretic's tokenizer.batch_decode does: special tokens dropped when
// asked, then transformers' clean-up of tokenization spaces when the model's tokenizer_config
// sets clean_up_tokenization_spaces.
std::string decode_response(const hf::Tokenizer& tokenizer, const TokenIds& ids, bool skip_special_tokens);

}  // namespace heretic::eval
