#include "app/command.h"

#include <algorithm>

namespace heretic::app {
namespace {

// A function-local static avoids the static-initialisation-order problem between the
// registrars in different translation units.
std::vector<Command>& registry() {
  static std::vector<Command> commands;
  return commands;
}

}  // namespace

CommandRegistrar::CommandRegistrar(std::string name, std::string summary,
                                   std::function<int(int, char**)> run) {
  registry().push_back(Command{std::move(name), std::move(summary), std::move(run)});
}

std::vector<Command> registered_commands() {
  std::vector<Command> commands = registry();
  std::sort(commands.begin(), commands.end(),
            [](const Command& a, const Command& b) { return a.name < b.name; });
  return commands;
}

}  // namespace heretic::app
