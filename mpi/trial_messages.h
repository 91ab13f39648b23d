// The messages of the trial farm (trial_farm.h), and their wire format: the one place where a
// trial or its outcome becomes bytes. A trial travels with its parameters by name, so no rank
// needs to rebuild the sampler's search space to read it, and its outcome as per-scorer partial
// sums that the group already added up.
//
// Wire format (little-endian): u8 version, u8 type, payload, u64 FNV-1a of all bytes before it.
//   assignment: i32 number, u32 n, n x (u32 length, name bytes, f64 value)
//   outcome:    i32 number, u8 failed, u32 length, error bytes, u32 n, n x (f64 sum, i64 count),
//               f64 seconds, i32 stop signal
//   shutdown:   (no payload)
// A message of another version, an unknown type, a bad checksum or a length that runs past the
// end is a WireError, never a crash.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace heretic::dist {

inline constexpr uint8_t kTrialWireVersion = 1;

// A trial handed to a worker group: its number and the sampler's values of its parameters, by
// name (optimize::ParamValues).
struct TrialAssignment {
  int32_t number = 0;
  std::vector<std::pair<std::string, double>> params;
};

// One scorer's share of a trial: a sum over prompts and the number of prompts, which add up
// over ranks (the value is sum / count).
struct ScoreSum {
  double sum = 0.0;
  int64_t count = 0;
};

// What a worker group reports for a trial.
struct TrialOutcome {
  int32_t number = 0;
  bool failed = false;          // the evaluation threw (e.g. out of memory at batch size 1)
  std::string error;            // why, when failed
  std::vector<ScoreSum> scores;  // per scorer, in configuration order, summed over the group
  double seconds = 0.0;         // the group leader's wall time for the trial
  int32_t stop_signal = 0;      // a stop signal the group leader received, or 0
};

// No more trials: the worker loop ends.
struct Shutdown {};

using FarmMessage = std::variant<TrialAssignment, TrialOutcome, Shutdown>;

class WireError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

std::string encode_message(const FarmMessage& message);
// Throws WireError naming what is wrong and where.
FarmMessage decode_message(std::string_view bytes);

}  // namespace heretic::dist
