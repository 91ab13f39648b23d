// Subcommands of heretic-mpi (`heretic-mpi tokenize ...`, `heretic-mpi inspect ...`).
// Each lives in its own src/app/command_<name>.cpp and registers itself with
// HERETIC_REGISTER_COMMAND, so adding one touches no other file. The main job (no
// subcommand) is not a Command.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace heretic::app {

struct Command {
  std::string name;     // first argument that selects it, e.g. "tokenize"
  std::string summary;  // one line for `heretic-mpi --help`
  // Runs with argv[0] = "heretic-mpi <name>" and the remaining arguments. Returns the exit
  // code; throws InputError for bad usage or input (main maps it to exit code 2).
  std::function<int(int argc, char** argv)> run;
};

// All registered commands, sorted by name.
std::vector<Command> registered_commands();

struct CommandRegistrar {
  CommandRegistrar(std::string name, std::string summary, std::function<int(int, char**)> run);
};

}  // namespace heretic::app

#define HERETIC_CONCAT_INNER(a, b) a##b
#define HERETIC_CONCAT(a, b) HERETIC_CONCAT_INNER(a, b)
#define HERETIC_REGISTER_COMMAND(name, summary, fn) \
  static const ::heretic::app::CommandRegistrar HERETIC_CONCAT(heretic_command_, __LINE__)(name, summary, fn)
