// Post-processors of tokenizer.json for a single sequence: TemplateProcessing (BOS/EOS
// around $A), Bert/Roberta ([CLS] $A [SEP]), ByteLevel (offsets only: ids unchanged) and
// Sequence. Applied only when the caller asks for special tokens.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "hf/tok_bpe.h"
#include "hf/tok_json.h"

namespace heretic::hf {

class PostProcessor {
 public:
  // One element of the single-sequence template: the sequence itself, or special tokens.
  struct Item {
    bool is_sequence = false;
    std::vector<TokenId> ids;  // special tokens (empty for the sequence)
    std::vector<std::string> tokens;
  };

  PostProcessor() = default;  // adds nothing
  explicit PostProcessor(std::vector<Item> single_template)
      : template_(std::move(single_template)) {}

  // Wraps a sequence's ids and tokens in the template.
  void apply(std::vector<TokenId>& ids, std::vector<std::string>& tokens) const;
  bool adds_nothing() const;
  const std::vector<Item>& items() const { return template_; }

 private:
  std::vector<Item> template_;
};

// Reads the "post_processor" object; `node` null-valued means no post-processor.
PostProcessor make_post_processor(const JsonNode& node);

}  // namespace heretic::hf
