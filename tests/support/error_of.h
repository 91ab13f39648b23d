// The message of the InputError an action throws, or "(no error)": lets tests assert on the
// text a user would see.
#pragma once

#include <string>

#include "common/error.h"

namespace heretic::testing {

template <typename Action>
std::string error_of(Action action) {
  try {
    action();
  } catch (const InputError& error) {
    return error.what();
  }
  return "(no error)";
}

}  // namespace heretic::testing
