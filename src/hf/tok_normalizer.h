// Normalizers of tokenizer.json: NFC/NFD/NFKC/NFKD, Lowercase, Strip, Replace, Prepend and
// Sequence. A normalizer rewrites one piece of text between added tokens; offsets are not
// tracked because nothing downstream needs them.
#pragma once

#include <memory>
#include <string>

#include "hf/tok_json.h"

namespace heretic::hf {

class Normalizer {
 public:
  virtual ~Normalizer() = default;
  // Rewrites valid UTF-8 `text` in place.
  virtual void normalize(std::string& text) const = 0;
};

// Builds the normalizer described by `node` (an object with "type"); a type this
// implementation does not know is an InputError naming it.
std::unique_ptr<Normalizer> make_normalizer(const JsonNode& node);

}  // namespace heretic::hf
