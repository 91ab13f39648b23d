// Ranks failing together. A problem found on some ranks (a bad configuration, a missing file,
// a journal that does not fit) must end the job on every rank at the same point, with one
// message, rather than leaving the others waiting in a collective: every rank reports its
// problem or none, every rank learns all of them, and every rank throws the same error.
#pragma once

#include <string>
#include <type_traits>
#include <utility>

#include "common/error.h"
#include "mpi/communicator.h"

namespace heretic::dist {

// The error every rank of a communicator throws together (exit code 2). what() holds the
// problems of all ranks, the first rank's unprefixed and the others as "rank N: ...".
class AgreedFailure : public InputError {
 public:
  using InputError::InputError;
};

// Collective: `problem` is this rank's problem, or "" for none. Throws AgreedFailure on every
// rank when any rank has one; identical problems of several ranks are reported once.
void agree(Communicator& comm, const std::string& problem);

// Runs `step` on this rank and agrees on the InputError it may throw (other exceptions are
// this rank's own failure and propagate: they abort the job). Returns what `step` returned.
template <typename Step>
auto agree_on(Communicator& comm, Step&& step) -> decltype(step()) {
  std::string problem;
  if constexpr (std::is_void_v<decltype(step())>) {
    try {
      step();
    } catch (const InputError& e) {
      problem = e.what();
      if (problem.empty()) problem = "unknown input error";
    }
    agree(comm, problem);
  } else {
    decltype(step()) result{};
    try {
      result = step();
    } catch (const InputError& e) {
      problem = e.what();
      if (problem.empty()) problem = "unknown input error";
    }
    agree(comm, problem);
    return result;
  }
}

}  // namespace heretic::dist
