#include "hf/jinja_json.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "hf/jinja_error.h"

namespace heretic::hf::jinja {

Value from_json(const nlohmann::ordered_json& json) {
  switch (json.type()) {
    case nlohmann::ordered_json::value_t::null:
      return Value::none();
    case nlohmann::ordered_json::value_t::boolean:
      return Value::boolean(json.get<bool>());
    case nlohmann::ordered_json::value_t::number_integer:
      return Value::integer(json.get<int64_t>());
    case nlohmann::ordered_json::value_t::number_unsigned: {
      const auto u = json.get<uint64_t>();
      if (u > static_cast<uint64_t>(INT64_MAX)) return Value::floating(static_cast<double>(u));
      return Value::integer(static_cast<int64_t>(u));
    }
    case nlohmann::ordered_json::value_t::number_float:
      return Value::floating(json.get<double>());
    case nlohmann::ordered_json::value_t::string:
      return Value::string(json.get<std::string>());
    case nlohmann::ordered_json::value_t::array: {
      List items;
      items.reserve(json.size());
      for (const auto& item : json) items.push_back(from_json(item));
      return Value::list(std::move(items));
    }
    case nlohmann::ordered_json::value_t::object: {
      Dict d;
      d.items.reserve(json.size());
      for (auto it = json.begin(); it != json.end(); ++it) d.set(it.key(), from_json(it.value()));
      return Value::dict(std::move(d));
    }
    default:
      return Value::none();  // binary/discarded do not come out of a JSON file
  }
}

namespace {

void append_json_string(std::string& out, const std::string& text) {
  out.push_back('"');
  for (char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buffer[8];
          std::snprintf(buffer, sizeof buffer, "\\u%04x", static_cast<unsigned>(c));
          out += buffer;
        } else {
          out.push_back(c);  // ensure_ascii=False: everything else raw, including "</"
        }
    }
  }
  out.push_back('"');
}

class JsonWriter {
 public:
  JsonWriter(const JsonDumpOptions& options, size_t max_bytes) : options_(options), max_bytes_(max_bytes) {
    item_separator_ = !options.item_separator.empty() ? options.item_separator : options.indent >= 0 ? "," : ", ";
    key_separator_ = options.key_separator.empty() ? ": " : options.key_separator;
  }

  void write(std::string& out, const Value& v, int level) {
    switch (v.kind()) {
      case Value::Kind::kNone:
        out += "null";
        break;
      case Value::Kind::kBool:
        out += v.as_bool() ? "true" : "false";
        break;
      case Value::Kind::kInt:
        out += std::to_string(v.as_int());
        break;
      case Value::Kind::kFloat:
        write_float(out, v.as_double());
        break;
      case Value::Kind::kString:
        append_json_string(out, v.as_string());
        break;
      case Value::Kind::kList:
      case Value::Kind::kTuple:
        write_list(out, v.as_list(), level);
        break;
      case Value::Kind::kDict:
        write_dict(out, v.as_dict(), level);
        break;
      default: {
        std::string name = type_name(v);
        if (v.is_callable() && !v.as_callable().is_macro) name = "builtin_function_or_method";
        throw JinjaError(ErrorKind::kType, "Object of type " + name + " is not JSON serializable");
      }
    }
    if (out.size() > max_bytes_) {
      throw JinjaError(ErrorKind::kLimit,
                       "tojson output grew past the limit of " + std::to_string(max_bytes_) + " bytes");
    }
  }

 private:
  static void write_float(std::string& out, double f) {
    if (std::isnan(f)) {
      out += "NaN";
    } else if (std::isinf(f)) {
      out += f > 0 ? "Infinity" : "-Infinity";
    } else {
      out += python_float_repr(f);
    }
  }

  void newline(std::string& out, int level) const {
    if (options_.indent < 0) return;
    out.push_back('\n');
    out.append(static_cast<size_t>(options_.indent) * static_cast<size_t>(level), ' ');
  }

  void write_list(std::string& out, const List& items, int level) {
    if (items.empty()) {
      out += "[]";
      return;
    }
    out.push_back('[');
    for (size_t i = 0; i < items.size(); ++i) {
      if (i > 0) out += item_separator_;
      newline(out, level + 1);
      write(out, items[i], level + 1);
    }
    newline(out, level);
    out.push_back(']');
  }

  void write_dict(std::string& out, const Dict& d, int level) {
    if (d.items.empty()) {
      out += "{}";
      return;
    }
    std::vector<const std::pair<std::string, Value>*> entries;
    for (const auto& item : d.items) entries.push_back(&item);
    if (options_.sort_keys) {
      std::stable_sort(entries.begin(), entries.end(),
                       [](const auto* a, const auto* b) { return a->first < b->first; });
    }
    out.push_back('{');
    for (size_t i = 0; i < entries.size(); ++i) {
      if (i > 0) out += item_separator_;
      newline(out, level + 1);
      append_json_string(out, entries[i]->first);
      out += key_separator_;
      write(out, entries[i]->second, level + 1);
    }
    newline(out, level);
    out.push_back('}');
  }

  const JsonDumpOptions& options_;
  size_t max_bytes_;
  std::string item_separator_;
  std::string key_separator_;
};

}  // namespace

std::string dump_json(const Value& value, const JsonDumpOptions& options, size_t max_bytes) {
  std::string out;
  JsonWriter(options, max_bytes).write(out, value, 0);
  return out;
}

}  // namespace heretic::hf::jinja
