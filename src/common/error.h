// Error types that cross layer boundaries. Library code throws them; only main() turns
// them into exit codes (DESIGN.md §4), so no library code calls exit() or prints.
#pragma once

#include <stdexcept>
#include <string>

namespace heretic {

// Process exit codes, mapped in one place (src/app/main.cpp).
enum class ExitCode : int {
  kOk = 0,        // run finished
  kInternal = 1,  // a bug or an environment failure that is not the user's input
  kBadInput = 2,  // bad usage, configuration, input file or model
  kStopped = 3,   // stopped by SIGTERM/SIGUSR1 after flushing; rerun to resume
};

// Bad user input: configuration, command line, data file, model folder. The message must
// name the file and the key, line or byte offset, so that the user can fix it. Exit code 2.
class InputError : public std::runtime_error {
 public:
  explicit InputError(const std::string& message) : std::runtime_error(message) {}
};

// The run was asked to stop (signal) and has flushed everything; it can be resumed. Exit 3.
class StopRequested : public std::runtime_error {
 public:
  explicit StopRequested(const std::string& message) : std::runtime_error(message) {}
};

}  // namespace heretic
