// Strict UTF-8 validation (no overlong forms, no surrogates, nothing above U+10FFFF), so that a
// prompt with broken bytes is reported with its row instead of reaching the tokenizer.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace heretic::data {

// Byte offset of the first invalid sequence in `text`, or nullopt when it is valid UTF-8.
std::optional<size_t> find_invalid_utf8(std::string_view text);

}  // namespace heretic::data
