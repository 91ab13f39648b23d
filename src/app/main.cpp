// heretic-mpi entry point: chooses the subcommand or the main job and maps every error type
// to its exit code (DESIGN.md §4) in one place.
#include <cstdio>
#include <exception>
#include <string>

#include "app/command.h"
#include "app/main_job.h"
#include "common/error.h"
#include "common/suggest.h"
#include "io/logging.h"
#include "mpi/launch.h"

namespace {

int run_command(int argc, char** argv) {
  const std::string name = argv[1];
  std::vector<std::string> names;
  for (const auto& command : heretic::app::registered_commands()) {
    names.push_back(command.name);
    if (command.name == name) {
      // The command sees "heretic-mpi <name>" as its program name.
      std::string program = std::string(argv[0]) + " " + name;
      std::vector<char*> args = {program.data()};
      for (int i = 2; i < argc; ++i) args.push_back(argv[i]);
      args.push_back(nullptr);
      return command.run(static_cast<int>(args.size() - 1), args.data());
    }
  }
  throw heretic::InputError("unknown command '" + name + "'" + heretic::did_you_mean(name, names) +
                            "; run `heretic-mpi --help` for the list");
}

}  // namespace

int main(int argc, char** argv) {
  using heretic::ExitCode;
  try {
    if (argc > 1 && argv[1][0] != '-') {
      heretic::io::setup_command_logging(
          heretic::dist::started_by_launcher(heretic::dist::LaunchEnvironment::from_process()));
      return run_command(argc, argv);
    }
    return heretic::app::run_main_job(argc, argv);
  } catch (const heretic::InputError& e) {
    std::fprintf(stderr, "heretic-mpi: error: %s\n", e.what());
    return static_cast<int>(ExitCode::kBadInput);
  } catch (const heretic::StopRequested& e) {
    std::fprintf(stderr, "heretic-mpi: stopped: %s\n", e.what());
    return static_cast<int>(ExitCode::kStopped);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "heretic-mpi: internal error: %s\n", e.what());
    return static_cast<int>(ExitCode::kInternal);
  }
}
