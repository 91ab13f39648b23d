// A scorer's settings: the keys of its [scorer.<Class>] table (deep-merged with
// [scorer.<Class>_<instance>], as Heretic does), declared by the scorer with their types and
// defaults, so that the configuration can validate them, print them and fill in defaults
// without knowing any scorer. Torch-free.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

namespace heretic::eval {

using SettingValue = std::variant<bool, int64_t, double, std::string, std::vector<std::string>>;

struct SettingSpec {
  std::string key;
  SettingValue default_value;
  std::string help;  // one line, for configs/default.toml and messages
  // False for settings that change only what is shown (a run may be resumed with another value).
  bool affects_results = true;
  // For integers and numbers: the accepted range.
  double min = -1e300;
  double max = 1e300;
  // For string lists: whether an empty list is allowed.
  bool allow_empty = false;
};

// The values of one scorer instance, by key (every declared key is present once the
// configuration is loaded).
class ScorerSettings {
 public:
  void set(const std::string& key, SettingValue value) { values_[key] = std::move(value); }
  bool has(const std::string& key) const { return values_.count(key) != 0; }
  const std::map<std::string, SettingValue>& values() const { return values_; }

  // Typed access; throws std::logic_error for a key the scorer did not declare or another type
  // (a programming error: the configuration checked the user's values).
  bool boolean(const std::string& key) const;
  int64_t integer(const std::string& key) const;
  double number(const std::string& key) const;
  const std::string& string(const std::string& key) const;
  const std::vector<std::string>& string_list(const std::string& key) const;

  bool operator==(const ScorerSettings& other) const { return values_ == other.values_; }

 private:
  const SettingValue& at(const std::string& key) const;
  std::map<std::string, SettingValue> values_;
};

// The settings with every declared key at its default.
ScorerSettings default_settings(const std::vector<SettingSpec>& specs);

}  // namespace heretic::eval
