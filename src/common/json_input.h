// Parsing JSON that comes with a download (config.json, tokenizer.json, ...). nlohmann parses
// without recursion, but printing a value (dump) and the readers that walk nested components
// recurse, so a file nested a million levels deep would overflow the stack: nesting is limited.
// Every problem is an InputError naming the file.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/error.h"

namespace heretic {

// Deeper than any real model file (tokenizer.json nests about 6 levels).
constexpr int kMaxJsonNesting = 64;

// `text` as JSON (nlohmann::json or nlohmann::ordered_json). Throws InputError "<label>: invalid
// JSON at byte N (...)" for a syntax error, and "<label>: invalid JSON (...)" for a number too
// large for a double or nesting deeper than kMaxJsonNesting.
template <typename Json = nlohmann::json>
Json parse_json_input(std::string_view text, const std::string& label) {
  bool too_deep = false;
  const auto limit_depth = [&too_deep](int depth, nlohmann::json::parse_event_t, Json&) {
    if (depth > kMaxJsonNesting) too_deep = true;
    return !too_deep;
  };
  Json value;
  try {
    value = Json::parse(text.begin(), text.end(), limit_depth);
  } catch (const nlohmann::json::parse_error& error) {
    throw InputError(label + ": invalid JSON at byte " + std::to_string(error.byte) + " (" + error.what() + ")");
  } catch (const nlohmann::json::exception& error) {  // out_of_range: a number too large for a double
    throw InputError(label + ": invalid JSON (" + error.what() + ")");
  }
  if (too_deep) {
    throw InputError(label + ": invalid JSON (nested deeper than " + std::to_string(kMaxJsonNesting) + " levels)");
  }
  return value;
}

// A JSON value for an error message, cut to about 80 characters.
template <typename Json>
std::string json_excerpt(const Json& value) {
  std::string text = value.dump(-1, ' ', false, Json::error_handler_t::replace);
  if (text.size() > 80) text = text.substr(0, 77) + "...";
  return text;
}

}  // namespace heretic
