#include "data/json_reader.h"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace heretic::data {
namespace {

using nlohmann::json;

std::string type_name_of(const json& value) { return value.type_name(); }

// Adds the keys of `object` to `names` in order of first appearance.
void collect_keys(const json& object, std::vector<std::string>& names) {
  for (const auto& item : object.items()) {
    if (std::find(names.begin(), names.end(), item.key()) == names.end()) {
      names.push_back(item.key());
    }
  }
}

std::optional<std::string> string_value(const json& value, const std::string& where,
                                        const std::string& column) {
  if (value.is_null()) return std::nullopt;
  if (!value.is_string()) {
    throw InputError(where + ": column '" + column + "' holds a " + type_name_of(value) +
                     ", not a string");
  }
  return value.get<std::string>();
}

json parse(std::string_view text, const std::string& where) {
  try {
    return json::parse(text.begin(), text.end());
  } catch (const json::exception& error) {
    // parse_error (with the byte position; also for invalid UTF-8) or out_of_range (a number
    // too large for a double).
    throw InputError(where + ": invalid JSON: " + error.what());
  }
}

}  // namespace

StringColumn read_jsonl_column(std::string_view text, const std::string& source,
                               const std::string& column) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  StringColumn values;
  std::vector<std::string> names;
  bool found = false;
  size_t line_number = 0;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    ++line_number;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    const std::string where = source + ": line " + std::to_string(line_number);
    const json row = parse(line, where);
    if (!row.is_object()) {
      throw InputError(where + ": expected a JSON object per line, found a " + type_name_of(row));
    }
    collect_keys(row, names);
    const auto value = row.find(column);
    if (value == row.end()) {
      values.emplace_back(std::nullopt);
    } else {
      found = true;
      values.push_back(string_value(*value, where, column));
    }
  }
  if (!found) throw_missing_column(source, column, names);
  return values;
}

StringColumn read_json_column(std::string_view text, const std::string& source,
                              const std::string& column) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  const json document = parse(text, source);
  StringColumn values;
  std::vector<std::string> names;
  if (document.is_array()) {
    bool found = false;
    size_t row = 0;
    for (const json& object : document) {
      const std::string where = source + ": row index " + std::to_string(row);
      if (!object.is_object()) {
        throw InputError(where + ": expected an array of JSON objects, found a " +
                         type_name_of(object));
      }
      collect_keys(object, names);
      const auto value = object.find(column);
      if (value == object.end()) {
        values.emplace_back(std::nullopt);
      } else {
        found = true;
        values.push_back(string_value(*value, where, column));
      }
      ++row;
    }
    if (!found) throw_missing_column(source, column, names);
    return values;
  }
  if (document.is_object()) {
    collect_keys(document, names);
    if (!document.contains(column)) throw_missing_column(source, column, names);
    const json& array = document.at(column);
    if (!array.is_array()) {
      throw InputError(source + ": column '" + column + "' is a " + type_name_of(array) +
                       "; a JSON object dataset maps each column to an array");
    }
    size_t row = 0;
    for (const json& value : array) {
      values.push_back(
          string_value(value, source + ": row index " + std::to_string(row++), column));
    }
    return values;
  }
  throw InputError(source + ": expected a JSON array of objects or an object of arrays, found a " +
                   type_name_of(document));
}

}  // namespace heretic::data
