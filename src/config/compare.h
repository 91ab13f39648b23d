// What changed between two effective configurations (as to_toml prints them): the journal of a
// run keeps its configuration, so that a rerun with another one is refused naming the keys that
// differ, and a newer heretic-mpi that prints keys an older one did not know still resumes, as
// long as those keys have their default values.
#pragma once

#include <string>
#include <vector>

#include "config/config.h"

namespace heretic::config {

// One line per difference, "key: was X, now Y" (dotted keys, values as TOML), sorted by key.
// A key only in `now` whose value equals its value in `defaults` is no difference (an option
// added after `was` was written). Throws std::runtime_error when a text is not valid TOML.
std::vector<std::string> config_differences(const std::string& was, const std::string& now,
                                            const std::string& defaults);

// The settings that decide what a trial computes. Options that only change how much is run,
// what is shown or where results go (n_trials, batch sizes, [mpi], [output], printing, scorer
// settings declared as not affecting results) are set to their defaults, so they may change
// between reruns. (n_startup_trials is checked by the study itself.)
Config study_config(const Config& config);

// "" when a run journaled with the study configuration `stored_toml` (to_toml of study_config)
// and fingerprint `stored_fingerprint` can be continued with `config`; else what differs, with
// the keys named ("the configuration differs (key: was X, now Y; ...)"). An empty
// `stored_toml` (journals before the configuration was kept) only compares fingerprints.
std::string study_mismatch(const std::string& stored_fingerprint, const std::string& stored_toml,
                           const Config& config);

}  // namespace heretic::config
