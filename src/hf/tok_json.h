// Reading tokenizer.json components: every accessor knows the file and the key path it is
// reading ("pre_tokenizer.pretokenizers[0].pattern"), so that a bad or unsupported entry
// becomes an InputError that names both.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

namespace heretic::hf {

// Parses the JSON file at `path`; a missing file or a syntax error is an InputError naming
// the file (and the byte offset of the error).
nlohmann::json read_json_file(const std::filesystem::path& path);

class JsonNode {
 public:
  JsonNode(const nlohmann::json& value, std::string file, std::string key)
      : value_(&value), file_(std::move(file)), key_(std::move(key)) {}

  const nlohmann::json& value() const { return *value_; }
  const std::string& file() const { return file_; }
  const std::string& key() const { return key_; }

  bool has(const char* name) const;     // present and not null
  JsonNode at(const char* name) const;  // throws when absent
  JsonNode at(size_t index) const;
  size_t size() const;  // of an array; throws for other kinds

  std::string string(const char* name) const;  // required string member
  std::string string_or(const char* name, const std::string& fallback) const;
  bool boolean_or(const char* name, bool fallback) const;
  long long integer(const char* name) const;
  // The "type" member, which every component object carries.
  std::string type() const { return string("type"); }

  // Throws InputError "<file>: <key>: <message>".
  [[noreturn]] void fail(const std::string& message) const;
  // Throws the error for a component whose type this implementation does not support.
  [[noreturn]] void unsupported(const std::string& what) const;

 private:
  const nlohmann::json* value_;
  std::string file_;
  std::string key_;
};

}  // namespace heretic::hf
