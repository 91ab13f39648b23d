#include "eval/scorer_settings.h"

#include <stdexcept>

namespace heretic::eval {
namespace {

template <typename T>
const T& get(const SettingValue& value, const std::string& key, const char* type) {
  if (const T* typed = std::get_if<T>(&value)) return *typed;
  throw std::logic_error("scorer setting '" + key + "' is not " + type);
}

}  // namespace

const SettingValue& ScorerSettings::at(const std::string& key) const {
  const auto it = values_.find(key);
  if (it == values_.end()) throw std::logic_error("scorer setting '" + key + "' was not declared");
  return it->second;
}

bool ScorerSettings::boolean(const std::string& key) const { return get<bool>(at(key), key, "a boolean"); }
int64_t ScorerSettings::integer(const std::string& key) const { return get<int64_t>(at(key), key, "an integer"); }
double ScorerSettings::number(const std::string& key) const { return get<double>(at(key), key, "a number"); }
const std::string& ScorerSettings::string(const std::string& key) const {
  return get<std::string>(at(key), key, "a string");
}
const std::vector<std::string>& ScorerSettings::string_list(const std::string& key) const {
  return get<std::vector<std::string>>(at(key), key, "a list of strings");
}

ScorerSettings default_settings(const std::vector<SettingSpec>& specs) {
  ScorerSettings settings;
  for (const SettingSpec& spec : specs) settings.set(spec.key, spec.default_value);
  return settings;
}

}  // namespace heretic::eval
