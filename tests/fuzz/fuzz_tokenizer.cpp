#include <spdlog/spdlog.h>

#include <string>

#include "common/error.h"
#include "fuzz_input.h"
#include "fuzz_targets.h"
#include "hf/tokenizer.h"

namespace heretic::fuzz {
namespace {

void check_encoding(const hf::Tokenizer& tokenizer, const hf::Encoding& encoding) {
  FUZZ_CHECK(encoding.ids.size() == encoding.tokens.size(), "one token string per id");
  for (const hf::TokenId id : encoding.ids) {
    // Every id indexes the model's embedding: it must lie inside the vocabulary.
    FUZZ_CHECK(id >= 0 && static_cast<size_t>(id) < tokenizer.vocab_size(),
               "id " + std::to_string(id) + " outside the vocabulary of " + std::to_string(tokenizer.vocab_size()));
  }
}

}  // namespace

int fuzz_tokenizer(const uint8_t* data, size_t size) {
  // tokenizer.json, tokenizer_config.json (when present) and a text, separated by NULs.
  static const ScratchFolder folder("tokenizer");
  // The loader warns about every renumbered added token; millions of inputs need no warnings.
  static const bool quiet = (spdlog::set_level(spdlog::level::err), true);
  (void)quiet;
  const auto sections = split_sections(data, size, 3);
  folder.write("tokenizer.json", sections[0]);
  if (sections.size() > 1) {
    folder.write("tokenizer_config.json", sections[1]);
  } else {
    folder.remove("tokenizer_config.json");
  }
  const std::string_view text = sections.size() > 2 ? sections[2] : std::string_view("Hello world! 123 héllo");
  try {
    const hf::Tokenizer tokenizer = hf::Tokenizer::from_folder(folder.path());
    // Text from a dataset is not the model's input: encoding and decoding never fail once the
    // tokenizer loaded, whatever the text.
    for (const bool special : {false, true}) {
      const hf::Encoding encoding = tokenizer.encode(text, special);
      check_encoding(tokenizer, encoding);
      FUZZ_CHECK(tokenizer.encode_ids(text, special) == encoding.ids, "encode_ids differs from encode");
      tokenizer.decode(encoding.ids, false);
      tokenizer.decode(encoding.ids, true);
    }
    // Any ids at all, as a model may generate them: pairs of text bytes, some past the vocabulary.
    std::vector<hf::TokenId> ids;
    for (size_t i = 0; i + 1 < text.size(); i += 2) {
      ids.push_back(static_cast<hf::TokenId>(static_cast<uint8_t>(text[i]) << 8 | static_cast<uint8_t>(text[i + 1])) -
                    1024);
    }
    tokenizer.decode(ids, false);
    hf::clean_up_tokenization(tokenizer.decode(ids, true));
    if (tokenizer.pad_id()) {
      const hf::BatchEncoding batch = tokenizer.encode_batch({std::string(text), "a", ""}, true);
      FUZZ_CHECK(batch.ids.size() == batch.rows * batch.columns, "batch shape");
    }
  } catch (const InputError&) {
  }
  return 0;
}

}  // namespace heretic::fuzz
