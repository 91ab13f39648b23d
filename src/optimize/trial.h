// One trial of a study: its number, state, parameters and objective values, and how far the
// sampler's two random streams had advanced when it was asked. Serialises to one JSON line
// (the journal record); a sampler rebuilt from these lines continues exactly where it was.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "optimize/search_space.h"

namespace heretic::optimize {

enum class TrialState { kRunning, kComplete, kFailed };

const char* to_string(TrialState state);

// Positions (32-bit words drawn) of the sampler's random streams right after an ask.
struct StreamPositions {
  std::uint64_t startup = 0;  // the random-startup stream
  std::uint64_t tpe = 0;      // the candidate stream
};

struct Trial {
  int number = 0;
  TrialState state = TrialState::kRunning;
  std::vector<double> params;  // internal representation, in search-space order
  std::vector<double> values;  // one per objective, all minimised; empty unless complete
  StreamPositions streams;

  // The choice name of categorical parameter `index` (which must be categorical).
  const std::string& choice(const SearchSpace& space, std::size_t index) const;
};

// {"trial":N,"state":"complete","params":{"name":value,...},"values":[...],
//  "streams":{"startup":S,"tpe":T}}; categoricals as choice indices; non-finite values as
// the strings "inf", "-inf", "nan" (JSON has no such numbers).
std::string to_json_line(const Trial& trial, const SearchSpace& space);

// Parses a line written by to_json_line. Throws heretic::InputError naming `where` (e.g.
// "journal.jsonl line 12") and the key when the line does not fit the search space.
Trial trial_from_json_line(const std::string& line, const SearchSpace& space,
                           const std::string& where);

}  // namespace heretic::optimize
