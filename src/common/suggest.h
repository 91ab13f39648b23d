// "Did you mean" suggestions for misspelt names (config keys, model types, columns).
#pragma once

#include <string>
#include <vector>

namespace heretic {

// Optimal-string-alignment distance (Levenshtein plus adjacent transpositions).
size_t edit_distance(const std::string& a, const std::string& b);

// The candidate closest to `name`, or "" when none is close enough to be a plausible typo
// (distance at most max(2, |name| / 3)).
std::string closest_match(const std::string& name, const std::vector<std::string>& candidates);

// " (did you mean 'x'?)" or "" — ready to append to an error message.
std::string did_you_mean(const std::string& name, const std::vector<std::string>& candidates);

// "'a', 'b', 'c'" — for messages that list the accepted values.
std::string quoted_list(const std::vector<std::string>& items);

}  // namespace heretic
