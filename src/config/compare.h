// What changed between two effective configurations (as to_toml prints them): the journal of a
// run keeps its configuration, so that a rerun with another one is refused naming the keys that
// differ, and a newer heretic-mpi that prints keys an older one did not know still resumes, as
// long as those keys have their default values.
#pragma once

#include <string>
#include <vector>

namespace heretic::config {

// One line per difference, "key: was X, now Y" (dotted keys, values as TOML), sorted by key.
// A key only in `now` whose value equals its value in `defaults` is no difference (an option
// added after `was` was written). Throws std::runtime_error when a text is not valid TOML.
std::vector<std::string> config_differences(const std::string& was, const std::string& now,
                                            const std::string& defaults);

}  // namespace heretic::config
