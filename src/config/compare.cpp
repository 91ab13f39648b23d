#include "config/compare.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <sstream>
#include <stdexcept>
#include <toml++/toml.h>

#include "config/print.h"
#include "eval/scorer_registry.h"

namespace heretic::config {
namespace {

// Dotted key -> the value printed as TOML; tables are walked, arrays (also of tables) are leaves.
void flatten(const toml::table& table, const std::string& prefix, std::map<std::string, std::string>& out) {
  for (const auto& [key, node] : table) {
    const std::string name = prefix.empty() ? std::string(key.str()) : prefix + "." + std::string(key.str());
    if (const toml::table* child = node.as_table()) {
      flatten(*child, name, out);
      continue;
    }
    if (const auto* number = node.as_floating_point()) {
      // Shortest round-trip form, as to_toml writes it ("0.99", not "0.98999999999999999").
      char buffer[64];
      const auto end = std::to_chars(buffer, buffer + sizeof buffer, number->get()).ptr;
      std::string text(buffer, end);
      if (text.find_first_of(".eEni") == std::string::npos) text += ".0";
      out[name] = text;
      continue;
    }
    std::ostringstream text;
    node.visit([&text](const auto& value) { text << toml::toml_formatter(value, toml::format_flags::none); });
    out[name] = text.str();
  }
}

std::map<std::string, std::string> flat(const std::string& text, const char* what) {
  std::map<std::string, std::string> out;
  try {
    flatten(toml::parse(text), "", out);
  } catch (const toml::parse_error& e) {
    throw std::runtime_error(std::string(what) + " configuration is not valid TOML: " + std::string(e.description()));
  }
  return out;
}

}  // namespace

std::vector<std::string> config_differences(const std::string& was, const std::string& now,
                                            const std::string& defaults) {
  const auto before = flat(was, "the earlier");
  const auto after = flat(now, "the current");
  const auto fallback = flat(defaults, "the default");
  std::vector<std::string> differences;
  for (const auto& [key, value] : before) {
    const auto it = after.find(key);
    if (it == after.end()) {
      differences.push_back(key + ": was " + value + ", now unset");
    } else if (it->second != value) {
      differences.push_back(key + ": was " + value + ", now " + it->second);
    }
  }
  for (const auto& [key, value] : after) {
    if (before.count(key) != 0) continue;
    const auto it = fallback.find(key);
    if (it != fallback.end() && it->second == value) continue;  // an option newer than the journal, at its default
    differences.push_back(key + ": was unset, now " + value);
  }
  std::sort(differences.begin(), differences.end());
  return differences;
}

Config study_config(const Config& config) {
  Config c = config;
  const Config d = default_config();
  c.n_trials = d.n_trials;
  c.n_startup_trials = d.n_startup_trials;  // checked by the study: changing it changes the sampler
  c.batch_size = d.batch_size;
  c.max_batch_size = d.max_batch_size;
  c.mpi = d.mpi;
  c.output = d.output;
  c.print_debug_information = d.print_debug_information;
  c.print_residual_geometry = d.print_residual_geometry;
  for (auto& scorer : c.scorers) {
    const eval::ScorerPlugin* plugin = eval::find_scorer_plugin(scorer.class_name);
    if (plugin == nullptr) continue;
    for (const eval::SettingSpec& spec : plugin->settings) {
      if (!spec.affects_results) scorer.settings.set(spec.key, spec.default_value);
    }
  }
  return c;
}

std::string study_mismatch(const std::string& stored_fingerprint, const std::string& stored_toml,
                           const Config& config) {
  const Config study = study_config(config);
  if (stored_fingerprint == config_fingerprint(study)) return "";
  if (stored_toml.empty()) return "the configuration differs";  // journals before the configuration was kept
  const auto differences =
      config_differences(stored_toml, to_toml(study), to_toml(study_config(default_config())));
  if (differences.empty()) return "";
  std::string text = "the configuration differs (";
  for (size_t i = 0; i < differences.size() && i < 8; ++i) text += (i ? "; " : "") + differences[i];
  if (differences.size() > 8) text += "; and " + std::to_string(differences.size() - 8) + " more";
  return text + ")";
}

}  // namespace heretic::config
