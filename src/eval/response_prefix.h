// Response-prefix detection (spec/heretic-behavior.md §1.6) with chain-of-thought skips.
// Torch-free: the caller supplies the responses, so that the same logic runs on one rank or
// on responses gathered from many.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace heretic::eval {

// Longest common (byte-wise, never ending inside a UTF-8 character) prefix of all strings;
// "" for an empty list.
std::string longest_common_prefix(const std::vector<std::string>& texts);

// `respond(prefix)` returns the responses (special tokens kept) to the detection prompts
// (first 100 good + first 100 bad) with `prefix` appended to the rendered prompt.
// Heretic's algorithm: common prefix of respond(""), trailing spaces stripped; if it starts
// with the initializer of a skip pair (first match in order), the prefix becomes that pair's
// closed block plus the space-stripped common prefix of respond(closed block).
std::string detect_response_prefix(const std::function<std::vector<std::string>(const std::string& prefix)>& respond,
                                   const std::vector<std::pair<std::string, std::string>>& chain_of_thought_skips);

}  // namespace heretic::eval
