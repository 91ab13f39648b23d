#include "hf/tok_post_processor.h"

namespace heretic::hf {

void PostProcessor::apply(std::vector<TokenId>& ids, std::vector<std::string>& tokens) const {
  if (adds_nothing()) return;
  std::vector<TokenId> out_ids;
  std::vector<std::string> out_tokens;
  out_ids.reserve(ids.size() + 4);
  out_tokens.reserve(tokens.size() + 4);
  for (const Item& item : template_) {
    if (item.is_sequence) {
      out_ids.insert(out_ids.end(), ids.begin(), ids.end());
      out_tokens.insert(out_tokens.end(), tokens.begin(), tokens.end());
    } else {
      out_ids.insert(out_ids.end(), item.ids.begin(), item.ids.end());
      out_tokens.insert(out_tokens.end(), item.tokens.begin(), item.tokens.end());
    }
  }
  ids = std::move(out_ids);
  tokens = std::move(out_tokens);
}

bool PostProcessor::adds_nothing() const {
  for (const Item& item : template_) {
    if (!item.is_sequence) return false;
  }
  return true;
}

namespace {

PostProcessor::Item sequence_item() {
  PostProcessor::Item item;
  item.is_sequence = true;
  return item;
}

// Pieces a post-processor may add around the sequence: real ones add two or three, a Sequence
// of processors multiplies them, so a hostile file could otherwise ask for billions.
constexpr size_t kMaxItems = 1024;

TokenId token_id(const JsonNode& id) {
  const nlohmann::json& value = id.value();
  if (!value.is_number_integer() || value.get<long long>() < 0 || value.get<long long>() > INT32_MAX) {
    id.fail("expected a token id (an integer from 0 to 2147483647)");
  }
  return static_cast<TokenId>(value.get<long long>());
}

// Bert/Roberta store [token, id] pairs.
PostProcessor::Item pair_item(const JsonNode& pair) {
  if (pair.size() != 2 || !pair.value()[0].is_string()) pair.fail("expected [\"token\", id]");
  PostProcessor::Item item;
  item.tokens.push_back(pair.value()[0].get<std::string>());
  item.ids.push_back(token_id(pair.at(1)));
  return item;
}

std::vector<PostProcessor::Item> template_items(const JsonNode& node) {
  const JsonNode single = node.at("single");
  const JsonNode specials = node.at("special_tokens");
  if (single.size() > kMaxItems) single.fail("more than 1024 pieces");
  std::vector<PostProcessor::Item> items;
  for (size_t i = 0; i < single.size(); ++i) {
    const JsonNode piece = single.at(i);
    if (piece.has("Sequence")) {
      const std::string which = piece.at("Sequence").string("id");
      if (which != "A") piece.fail("a single-sequence template can only refer to $A");
      items.push_back(sequence_item());
    } else if (piece.has("SpecialToken")) {
      const std::string name = piece.at("SpecialToken").string("id");
      if (!specials.has(name.c_str())) {
        piece.fail("special token '" + name + "' is missing from special_tokens");
      }
      const JsonNode entry = specials.at(name.c_str());
      PostProcessor::Item item;
      const JsonNode ids = entry.at("ids");
      const JsonNode tokens = entry.at("tokens");
      for (size_t k = 0; k < ids.size(); ++k) item.ids.push_back(token_id(ids.at(k)));
      for (size_t k = 0; k < tokens.size(); ++k) {
        if (!tokens.value()[k].is_string()) tokens.at(k).fail("expected a string");
        item.tokens.push_back(tokens.value()[k].get<std::string>());
      }
      if (item.ids.size() != item.tokens.size()) entry.fail("ids and tokens differ in length");
      items.push_back(std::move(item));
    } else {
      piece.fail("expected {\"Sequence\": ...} or {\"SpecialToken\": ...}");
    }
  }
  return items;
}

std::vector<PostProcessor::Item> items_of(const JsonNode& node) {
  const std::string type = node.type();
  if (type == "ByteLevel") return {sequence_item()};
  if (type == "TemplateProcessing") return template_items(node);
  if (type == "BertProcessing" || type == "RobertaProcessing") {
    return {pair_item(node.at("cls")), sequence_item(), pair_item(node.at("sep"))};
  }
  if (type == "Sequence") {
    // Each processor wraps the output of the previous one.
    const JsonNode list = node.at("processors");
    std::vector<PostProcessor::Item> items{sequence_item()};
    for (size_t i = 0; i < list.size(); ++i) {
      const std::vector<PostProcessor::Item> outer = items_of(list.at(i));
      std::vector<PostProcessor::Item> combined;
      for (const auto& item : outer) {
        if (item.is_sequence) {
          combined.insert(combined.end(), items.begin(), items.end());
        } else {
          combined.push_back(item);
        }
      }
      if (combined.size() > kMaxItems) list.at(i).fail("the processors add more than 1024 pieces in all");
      items = std::move(combined);
    }
    return items;
  }
  node.unsupported("post_processor");
}

}  // namespace

PostProcessor make_post_processor(const JsonNode& node) {
  if (node.value().is_null()) return PostProcessor();
  return PostProcessor(items_of(node));
}

}  // namespace heretic::hf
