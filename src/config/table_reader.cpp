#include "config/table_reader.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "common/suggest.h"

namespace heretic::config {
namespace {

std::string join_key(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

std::string leaf_of(const std::string& dotted) {
  const size_t dot = dotted.rfind('.');
  return dot == std::string::npos ? dotted : dotted.substr(dot + 1);
}

}  // namespace

std::string describe(const toml::node& node) {
  std::ostringstream out;
  switch (node.type()) {
    case toml::node_type::string: out << "a string (\"" << *node.value<std::string>() << "\")"; break;
    case toml::node_type::integer: out << "an integer (" << *node.value<int64_t>() << ")"; break;
    case toml::node_type::floating_point: out << "a float (" << *node.value<double>() << ")"; break;
    case toml::node_type::boolean: out << "a boolean (" << (*node.value<bool>() ? "true" : "false") << ")"; break;
    case toml::node_type::array: out << "an array"; break;
    case toml::node_type::table: out << "a table"; break;
    default: out << "a date/time value"; break;
  }
  return out.str();
}

// ---- Diagnostics ------------------------------------------------------------------------

std::string Diagnostics::location(const std::string& key, const toml::node* node) const {
  // A key set on the command line (or inside a table set there) points at that --set.
  for (auto it = overrides_.begin(); it != overrides_.end(); ++it) {
    // The key itself, a key inside a table set there, or a table on the path of that --set.
    if (key == it->first || key.rfind(it->first + ".", 0) == 0 || it->first.rfind(key + ".", 0) == 0) {
      return it->second;
    }
  }
  if (node != nullptr && node->source().begin.line > 0) {
    return file_ + ":" + std::to_string(node->source().begin.line) + ":" +
           std::to_string(node->source().begin.column);
  }
  return file_;
}

void Diagnostics::error(const std::string& key, const toml::node* node, const std::string& message) {
  errors_.push_back(location(key, node) + ": key '" + key + "': " + message);
}

void Diagnostics::error_at(const std::string& key, const toml::source_region& region, const std::string& message) {
  std::string where = location(key, nullptr);
  if (where == file_ && region.begin.line > 0) {
    where += ":" + std::to_string(region.begin.line) + ":" + std::to_string(region.begin.column);
  }
  errors_.push_back(where + ": key '" + key + "': " + message);
}

void Diagnostics::warning(const std::string& key, const toml::node* node, const std::string& message) {
  warnings_.push_back(location(key, node) + ": key '" + key + "': " + message);
}

// ---- TableReader ------------------------------------------------------------------------

TableReader::TableReader(std::vector<Layer> layers, Diagnostics& diagnostics)
    : layers_(std::move(layers)), diagnostics_(diagnostics) {}

bool TableReader::absent() const {
  for (const auto& layer : layers_) {
    if (layer.table != nullptr) return false;
  }
  return true;
}

TableReader::Found TableReader::find(const std::string& key) const {
  for (size_t i = layers_.size(); i-- > 0;) {
    if (layers_[i].table == nullptr) continue;
    if (const toml::node* n = layers_[i].table->get(key)) return Found{n, i};
  }
  return Found{};
}

std::string TableReader::dotted(const std::string& key) const {
  return join_key(layers_.empty() ? std::string() : layers_.front().path, key);
}

std::string TableReader::dotted_in_source(const std::string& key) const {
  const Found found = find(key);
  return found.node ? join_key(layers_[found.layer].path, key) : dotted(key);
}

void TableReader::note(const std::string& key) {
  known_.insert(key);
  diagnostics_.known_keys.insert(dotted(key));
}

void TableReader::error(const std::string& key, const std::string& message) {
  diagnostics_.error(dotted_in_source(key), find(key).node, message);
}

std::string TableReader::type_error(const std::string& key, const toml::node& node,
                                    const std::string& expected) {
  const std::string message = "expected " + expected + ", got " + describe(node);
  error(key, message);
  return message;
}

const toml::node* TableReader::node(const std::string& key) {
  note(key);
  return find(key).node;
}

std::string TableReader::string(const std::string& key, const std::string& fallback) {
  note(key);
  const toml::node* n = find(key).node;
  if (n == nullptr) return fallback;
  if (!n->is_string()) {
    type_error(key, *n, "a string");
    return fallback;
  }
  return *n->value<std::string>();
}

std::optional<std::string> TableReader::optional_string(const std::string& key) {
  if (!has(key)) {
    note(key);
    return std::nullopt;
  }
  return string(key, "");
}

std::string TableReader::required_string(const std::string& key) {
  note(key);
  if (!has(key)) {
    const std::string where = layers_.empty() || layers_.front().path.empty()
                                  ? std::string()
                                  : " in [" + layers_.front().path + "]";
    diagnostics_.error_at_file("missing required key '" + dotted(key) + "'" + where);
    return "";
  }
  const std::string value = string(key, "");
  if (value.empty() && find(key).node->is_string()) error(key, "must not be empty");
  return value;
}

std::string TableReader::choice(const std::string& key, const std::string& fallback,
                                const std::vector<std::string>& allowed,
                                const std::map<std::string, std::string>& hints) {
  const std::string value = string(key, fallback);
  if (std::find(allowed.begin(), allowed.end(), value) != allowed.end()) return value;
  if (!has(key) || !find(key).node->is_string()) return fallback;
  const auto hint = hints.find(value);
  if (hint != hints.end()) {
    error(key, "'" + value + "' " + hint->second);
  } else {
    error(key, "'" + value + "' is not one of " + quoted_list(allowed) + did_you_mean(value, allowed));
  }
  return fallback;
}

bool TableReader::boolean(const std::string& key, bool fallback) {
  note(key);
  const toml::node* n = find(key).node;
  if (n == nullptr) return fallback;
  if (!n->is_boolean()) {
    type_error(key, *n, "a boolean (true or false)");
    return fallback;
  }
  return *n->value<bool>();
}

std::optional<int64_t> TableReader::optional_integer(const std::string& key, int64_t min, int64_t max) {
  note(key);
  const toml::node* n = find(key).node;
  if (n == nullptr) return std::nullopt;
  if (!n->is_integer()) {
    type_error(key, *n, "an integer");
    return std::nullopt;
  }
  const int64_t value = *n->value<int64_t>();
  if (value < min || value > max) {
    const bool bounded = max != INT64_MAX;
    std::string range = bounded ? "between " + std::to_string(min) + " and " + std::to_string(max)
                        : value < min ? "at least " + std::to_string(min)
                                      : "at most " + std::to_string(max);
    error(key, "must be " + range + ", got " + std::to_string(value));
    return std::nullopt;
  }
  return value;
}

int64_t TableReader::integer(const std::string& key, int64_t fallback, int64_t min, int64_t max) {
  return optional_integer(key, min, max).value_or(fallback);
}

double TableReader::number(const std::string& key, double fallback, double min, double max) {
  note(key);
  const toml::node* n = find(key).node;
  if (n == nullptr) return fallback;
  double value = 0;
  if (n->is_floating_point()) {
    value = *n->value<double>();
  } else if (n->is_integer()) {
    value = static_cast<double>(*n->value<int64_t>());
  } else {
    type_error(key, *n, "a number");
    return fallback;
  }
  if (!std::isfinite(value) || value < min || value > max) {
    std::ostringstream message;
    message << "must be between " << min << " and " << max << ", got " << value;
    error(key, message.str());
    return fallback;
  }
  return value;
}

std::vector<std::string> TableReader::string_list(const std::string& key,
                                                  const std::vector<std::string>& fallback,
                                                  bool allow_empty) {
  note(key);
  const toml::node* n = find(key).node;
  if (n == nullptr) return fallback;
  const toml::array* array = n->as_array();
  if (array == nullptr) {
    type_error(key, *n, "an array of strings");
    return fallback;
  }
  std::vector<std::string> values;
  for (size_t i = 0; i < array->size(); ++i) {
    const toml::node& element = (*array)[i];
    if (!element.is_string()) {
      diagnostics_.error(dotted_in_source(key) + "[" + std::to_string(i) + "]", &element,
                         "expected a string, got " + describe(element));
      return fallback;
    }
    values.push_back(*element.value<std::string>());
  }
  if (values.empty() && !allow_empty) {
    error(key, "must not be empty");
    return fallback;
  }
  return values;
}

TableReader TableReader::sub_table(const std::string& key) {
  note(key);
  std::vector<Layer> layers;
  for (const auto& layer : layers_) {
    const toml::node* n = layer.table ? layer.table->get(key) : nullptr;
    if (n != nullptr && !n->is_table()) {
      diagnostics_.error(join_key(layer.path, key), n, "expected a table, got " + describe(*n));
      n = nullptr;
    }
    layers.push_back(Layer{n ? n->as_table() : nullptr, join_key(layer.path, key)});
  }
  return TableReader(std::move(layers), diagnostics_);
}

void TableReader::not_applicable(const std::string& key, const std::string& reason) {
  note(key);
  const Found found = find(key);
  if (found.node != nullptr) {
    diagnostics_.warning(dotted_in_source(key), found.node, "ignored: " + reason);
  }
}

void TableReader::rejected(const std::string& key, const std::string& reason) {
  const Found found = find(key);
  if (found.node != nullptr) {
    known_.insert(key);
    error(key, reason);
  }
}

void TableReader::finish() {
  std::vector<std::string> candidates(known_.begin(), known_.end());
  for (const auto& layer : layers_) {
    if (layer.table == nullptr) continue;
    for (const auto& [name, value] : *layer.table) {
      const std::string key(name.str());
      if (known_.count(key) != 0) continue;
      std::string hint = did_you_mean(key, candidates);
      if (hint.empty()) {
        // The same name in another section ("ranks_per_trial" at the top level).
        for (const auto& other : diagnostics_.known_keys) {
          if (leaf_of(other) == key && other != join_key(layer.path, key)) {
            hint = " (did you mean '" + other + "'?)";
            break;
          }
        }
      }
      const std::string where = layer.path.empty() ? "" : " in [" + layer.path + "]";
      diagnostics_.error_at(join_key(layer.path, key), name.source(), "unknown key" + where + hint);
    }
  }
}

}  // namespace heretic::config
