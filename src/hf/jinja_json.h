// JSON in and out of the interpreter: template variables arrive as nlohmann::ordered_json
// (key order matters: tojson must print tools and arguments in the order they were given),
// and the tojson filter prints exactly what Python's json.dumps(ensure_ascii=False) prints.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "hf/jinja_value.h"

namespace heretic::hf::jinja {

Value from_json(const nlohmann::ordered_json& json);

struct JsonDumpOptions {
  int indent = -1;             // -1: one line; >= 0: newline and that many spaces per level
  std::string item_separator;  // empty: json.dumps' default (", " one line, "," indented)
  std::string key_separator;   // empty: ": "
  bool sort_keys = false;
};

// json.dumps(value, ensure_ascii=False, ...). TypeError for values JSON cannot hold
// (Undefined, namespaces, callables); LimitError past max_bytes.
std::string dump_json(const Value& value, const JsonDumpOptions& options, size_t max_bytes);

}  // namespace heretic::hf::jinja
