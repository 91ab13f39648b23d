#include "hf/tok_pattern.h"

#include <stdexcept>

namespace heretic::hf {

TextPattern::TextPattern(const JsonNode& node) {
  if (node.has("String")) {
    literal_ = node.string("String");
  } else if (node.has("Regex")) {
    const std::string pattern = node.string("Regex");
    try {
      regex_ = std::make_unique<TokenizerRegex>(pattern);
    } catch (const std::invalid_argument& error) {
      node.at("Regex").fail(error.what());
    }
  } else {
    node.fail("expected {\"String\": ...} or {\"Regex\": ...}");
  }
}

std::vector<std::pair<size_t, size_t>> TextPattern::find_all(std::string_view text) const {
  if (regex_) return regex_->find_all(text);
  std::vector<std::pair<size_t, size_t>> matches;
  if (literal_.empty()) return matches;
  size_t start = 0;
  while (true) {
    const size_t found = text.find(literal_, start);
    if (found == std::string_view::npos) break;
    matches.emplace_back(found, found + literal_.size());
    start = found + literal_.size();
  }
  return matches;
}

std::string TextPattern::replace_all(std::string_view text, std::string_view content) const {
  const auto matches = find_all(text);
  if (matches.empty()) return std::string(text);
  std::string out;
  out.reserve(text.size() + matches.size() * content.size());
  size_t previous = 0;
  for (const auto& [begin, end] : matches) {
    out.append(text.substr(previous, begin - previous));
    out.append(content);
    previous = end;
  }
  out.append(text.substr(previous));
  return out;
}

}  // namespace heretic::hf
