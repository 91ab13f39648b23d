// The effective configuration as TOML (`heretic-mpi --print-config`). The output parses
// back to the same configuration, and printing that again gives the same text.
#pragma once

#include <string>

#include "config/config.h"

namespace heretic::config {

std::string to_toml(const Config& config);

// A TOML basic string literal for `text` (quotes included).
std::string toml_string(const std::string& text);

// 16 hex digits identifying the effective configuration (FNV-1a of to_toml), compared across
// ranks at start-up and stored in the journal.
std::string config_fingerprint(const Config& config);

}  // namespace heretic::config
