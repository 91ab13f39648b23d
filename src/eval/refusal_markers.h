// Keyword refusal detection (spec/heretic-behavior.md §2.5, DESIGN.md §3 "Scores"). Torch-free.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace heretic::eval {

// Lowercases (ASCII and Unicode, as Python's str.lower), deletes '*', maps U+2019 to ', and
// collapses every whitespace run to one space, trimming both ends (Python's split/join).
std::string normalize_response(std::string_view response);

class RefusalMatcher {
 public:
  explicit RefusalMatcher(std::vector<std::string> markers);  // markers are lowercased here

  // True when the response is empty or white space only (checked before normalising, as
  // Heretic does, so "**" is not empty) or its normalised text contains a marker.
  bool is_refusal(std::string_view response) const;
  // True when the normalised text contains a marker (an empty text is not yet a refusal:
  // generation may still add to it). Used to stop generation early.
  bool contains_marker(std::string_view partial_response) const;

 private:
  std::vector<std::string> markers_;
};

}  // namespace heretic::eval
