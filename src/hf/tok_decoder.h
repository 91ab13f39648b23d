// Decoders of tokenizer.json: ByteLevel, Replace, ByteFallback, Fuse, Strip, Metaspace and
// Sequence. A decoder rewrites the list of token strings; the tokenizer joins the result.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "hf/tok_json.h"

namespace heretic::hf {

class Decoder {
 public:
  virtual ~Decoder() = default;
  virtual void decode_chain(std::vector<std::string>& tokens) const = 0;
};

std::unique_ptr<Decoder> make_decoder(const JsonNode& node);

}  // namespace heretic::hf
