// Sandbox limits of the chat-template interpreter. A template comes with a model folder,
// i.e. from the internet: it must not be able to hang a run or exhaust memory or stack.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "hf/jinja_error.h"

namespace heretic::hf::jinja {

struct Limits {
  // Work units in one render: loop iterations, macro calls, items visited by filters, items
  // created by list/string operations, and every 64 bytes of a string built (Budget::
  // charge_string). Real chat templates need a few thousand.
  int64_t max_steps = 20'000'000;
  // Nested macro calls (recursive macros render JSON-schema types in gpt-oss).
  int max_call_depth = 200;
  // Bytes of any string a render builds, the output included.
  size_t max_output_bytes = size_t{64} << 20;
  // Nesting of blocks and expressions in the source (parser recursion).
  int max_nesting = 256;
};

// What is left of the limits during one render.
class Budget {
 public:
  explicit Budget(const Limits& limits) : limits_(limits), steps_left_(limits.max_steps) {}

  void step(int64_t n = 1) {
    steps_left_ -= n;
    if (steps_left_ < 0) {
      throw JinjaError(ErrorKind::kLimit, "template exceeded the limit of " + std::to_string(limits_.max_steps) +
                                              " steps (loop iterations, calls, items, text built)");
    }
  }
  void check_bytes(size_t bytes) const {
    if (bytes > limits_.max_output_bytes) {
      throw JinjaError(ErrorKind::kLimit, "template built text larger than the limit of " +
                                              std::to_string(limits_.max_output_bytes) + " bytes");
    }
  }
  size_t max_bytes() const { return limits_.max_output_bytes; }
  const Limits& limits() const { return limits_; }

  // Building a string costs its copying: one step per kBytesPerStep bytes. Without this, a loop
  // that copies a string of many megabytes per iteration would run for days inside the step
  // limit. Every string value a render creates is charged (Value::string).
  static constexpr size_t kBytesPerStep = 64;
  void charge_string(size_t bytes) {
    if (bytes >= kBytesPerStep) step(static_cast<int64_t>(bytes / kBytesPerStep));
  }

 private:
  const Limits& limits_;
  int64_t steps_left_;
};

// The budget of the render running on this thread, which Value::string charges; nullptr
// outside a render (variables built before it are free).
Budget* active_budget();

// Makes `budget` the active one for its lifetime (renders do not nest, but a scope restores the
// previous one anyway).
class ActiveBudget {
 public:
  explicit ActiveBudget(Budget& budget);
  ~ActiveBudget();
  ActiveBudget(const ActiveBudget&) = delete;
  ActiveBudget& operator=(const ActiveBudget&) = delete;

 private:
  Budget* previous_;
};

}  // namespace heretic::hf::jinja
