// Typed, validating access to TOML tables that records every problem with its location
// (file:line:column and the dotted key) instead of stopping at the first one, and reports
// keys nobody asked for as unknown, with a "did you mean" hint.
#pragma once

#include <toml++/toml.h>

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace heretic::config {

// Collects errors and warnings of one parse. `overrides` maps dotted keys set on the
// command line to the "--set k=v" text, so that their messages point there.
class Diagnostics {
 public:
  explicit Diagnostics(std::string file) : file_(std::move(file)) {}

  void error(const std::string& key, const toml::node* node, const std::string& message);
  void error_at(const std::string& key, const toml::source_region& region, const std::string& message);
  void error_at_file(const std::string& message) { errors_.push_back(file_ + ": " + message); }
  void warning(const std::string& key, const toml::node* node, const std::string& message);
  void mark_override(const std::string& key, const std::string& text) { overrides_[key] = text; }

  const std::vector<std::string>& errors() const { return errors_; }
  const std::vector<std::string>& warnings() const { return warnings_; }
  const std::string& file() const { return file_; }

  // Every dotted key the schema knows, for suggestions across sections.
  std::set<std::string> known_keys;

 private:
  std::string location(const std::string& key, const toml::node* node) const;

  std::string file_;
  std::map<std::string, std::string> overrides_;
  std::vector<std::string> errors_;
  std::vector<std::string> warnings_;
};

// Reads one logical table that may be layered: later layers override earlier ones key by
// key (Heretic's deep merge of [scorer.<Class>] and [scorer.<Class>_<instance>]). Each
// accessor records the key as known; finish() reports the rest as unknown.
class TableReader {
 public:
  struct Layer {
    const toml::table* table;  // may be null (absent)
    std::string path;          // dotted path of this table, "" for the root
  };

  TableReader(std::vector<Layer> layers, Diagnostics& diagnostics);
  TableReader(const toml::table* table, const std::string& path, Diagnostics& diagnostics)
      : TableReader(std::vector<Layer>{{table, path}}, diagnostics) {}

  bool has(const std::string& key) const { return find(key).node != nullptr; }

  std::string string(const std::string& key, const std::string& fallback);
  std::optional<std::string> optional_string(const std::string& key);
  std::string required_string(const std::string& key);
  // A string from a fixed set; `hints` maps rejected-but-known values to an explanation.
  std::string choice(const std::string& key, const std::string& fallback,
                     const std::vector<std::string>& allowed,
                     const std::map<std::string, std::string>& hints = {});
  bool boolean(const std::string& key, bool fallback);
  int64_t integer(const std::string& key, int64_t fallback, int64_t min, int64_t max);
  std::optional<int64_t> optional_integer(const std::string& key, int64_t min, int64_t max);
  // Accepts integers too (TOML "1" for a float option is a common, harmless spelling).
  double number(const std::string& key, double fallback, double min, double max);
  std::vector<std::string> string_list(const std::string& key, const std::vector<std::string>& fallback,
                                       bool allow_empty);

  // Raw access for options with a custom shape; the key counts as known. Returns the node
  // of the highest layer that has the key, or null.
  const toml::node* node(const std::string& key);
  // Sub-reader over the tables named `key` in every layer (absent layers stay null). Reports a
  // type error when `key` exists but is not a table.
  TableReader sub_table(const std::string& key);
  // A key Heretic knows that has no effect in heretic-mpi: accepted with a warning.
  void not_applicable(const std::string& key, const std::string& reason);
  // A key whose presence is an error with a specific explanation (e.g. a renamed option).
  void rejected(const std::string& key, const std::string& reason);

  // Reports the keys of every layer that no accessor asked for as unknown.
  void finish();

  // Dotted key of `key` in the highest layer (for messages).
  std::string dotted(const std::string& key) const;
  // Dotted key of `key` in the layer that provides it, for locating errors.
  std::string dotted_in_source(const std::string& key) const;
  Diagnostics& diagnostics() { return diagnostics_; }
  // True when no layer has a table at all (the whole section is absent).
  bool absent() const;

  std::string type_error(const std::string& key, const toml::node& node, const std::string& expected);

 private:
  struct Found {
    const toml::node* node = nullptr;
    size_t layer = 0;
  };
  Found find(const std::string& key) const;
  void note(const std::string& key);
  void error(const std::string& key, const std::string& message);

  std::vector<Layer> layers_;
  Diagnostics& diagnostics_;
  std::set<std::string> known_;
};

// "an integer (3)", "a string (\"abc\")" — a value described for messages.
std::string describe(const toml::node& node);

}  // namespace heretic::config
