// Loading a configuration file: TOML parsing, --set overrides, complete validation.
#pragma once

#include <string>
#include <vector>

#include "common/error.h"
#include "config/config.h"

namespace heretic::config {

// A configuration that failed validation. what() holds every problem, one per line, each
// naming the file (or --set), line, column and key.
class ConfigError : public InputError {
 public:
  explicit ConfigError(const std::vector<std::string>& problems);
  const std::vector<std::string>& problems() const { return problems_; }

 private:
  std::vector<std::string> problems_;
};

struct LoadedConfig {
  Config config;
  std::vector<std::string> warnings;  // ignored Heretic-only keys, with the reason
};

// Reads `path`, applies `overrides` ("key.sub=value", value in TOML syntax or a bare string)
// and validates everything before any heavy work. Throws ConfigError.
LoadedConfig load_config(const std::string& path, const std::vector<std::string>& overrides = {});

// The same for TOML text already in memory; `label` names it in messages.
LoadedConfig parse_config(const std::string& text, const std::string& label,
                          const std::vector<std::string>& overrides = {});

}  // namespace heretic::config
