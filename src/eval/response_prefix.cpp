#include "eval/response_prefix.h"

#include <algorithm>

namespace heretic::eval {
namespace {

bool is_continuation_byte(char byte) { return (static_cast<unsigned char>(byte) & 0xC0) == 0x80; }

// str.rstrip(" "): Heretic strips spaces only, so that the prefix never ends inside a token
// that starts with a space; newlines stay (a "\n\n" after a closed thinking block is kept).
std::string strip_trailing_spaces(std::string text) {
  text.erase(text.find_last_not_of(' ') + 1);
  return text;
}

bool starts_with(const std::string& text, const std::string& prefix) {
  return text.compare(0, prefix.size(), prefix) == 0;
}

}  // namespace

std::string longest_common_prefix(const std::vector<std::string>& texts) {
  if (texts.empty()) return "";
  size_t length = texts.front().size();
  for (const std::string& text : texts) {
    const auto mismatch = std::mismatch(
        text.begin(), text.begin() + static_cast<std::ptrdiff_t>(std::min(length, text.size())), texts.front().begin());
    length = static_cast<size_t>(mismatch.first - text.begin());
  }
  // Python's os.path.commonprefix compares characters: when the texts part inside a
  // multi-byte character, the shared lead bytes are not part of the prefix.
  while (length > 0 && std::any_of(texts.begin(), texts.end(), [&](const std::string& text) {
           return length < text.size() && is_continuation_byte(text[length]);
         })) {
    --length;
  }
  return texts.front().substr(0, length);
}

std::string detect_response_prefix(const std::function<std::vector<std::string>(const std::string& prefix)>& respond,
                                   const std::vector<std::pair<std::string, std::string>>& chain_of_thought_skips) {
  std::string prefix = strip_trailing_spaces(longest_common_prefix(respond("")));
  if (prefix.empty()) return prefix;
  for (const auto& [initializer, closed_block] : chain_of_thought_skips) {
    if (!starts_with(prefix, initializer)) continue;
    // Skip the thinking: the prompt ends with the closed block, and whatever all responses
    // still share after it (often "\n\n") joins the prefix. Only the first matching pair counts.
    return closed_block + strip_trailing_spaces(longest_common_prefix(respond(closed_block)));
  }
  return prefix;
}

}  // namespace heretic::eval
