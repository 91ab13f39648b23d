// Pre-tokenizers of tokenizer.json: Split (String or Regex pattern, all five delimiter
// behaviours, invert), ByteLevel, Metaspace, Digits, Whitespace, WhitespaceSplit and
// Sequence. They cut the normalized text between added tokens into the pieces ("words")
// that the BPE model encodes one at a time.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "hf/tok_json.h"

namespace heretic::hf {

struct PreToken {
  std::string text;
  // True when the piece starts at the very beginning of the input text; Metaspace's
  // prepend_scheme "first" adds its prefix only then.
  bool at_input_start = false;
};

class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;
  // Replaces every piece by the pieces it splits into; empty pieces are dropped.
  virtual void pre_tokenize(std::vector<PreToken>& pieces) const = 0;
};

std::unique_ptr<PreTokenizer> make_pre_tokenizer(const JsonNode& node);

}  // namespace heretic::hf
