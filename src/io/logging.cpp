#include "io/logging.h"

#include <spdlog/sinks/ansicolor_sink.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/spdlog.h>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "common/error.h"

namespace heretic::io {
namespace {

std::string file_pattern(int rank, const std::string& host) {
  // Host names contain no '%', so they can be part of the pattern literally.
  return "[%Y-%m-%d %H:%M:%S.%e] [%l] [rank " + std::to_string(rank) + "@" + host + "] %v";
}

spdlog::color_mode colors_for(std::FILE* stream, bool started_by_launcher) {
  const bool terminal = ::isatty(::fileno(stream)) == 1;
  return console_colors(terminal, started_by_launcher, std::getenv("NO_COLOR")) ? spdlog::color_mode::always
                                                                                 : spdlog::color_mode::never;
}

}  // namespace

bool console_colors(bool stream_is_terminal, bool started_by_launcher, const char* no_color_variable) {
  const bool no_color = no_color_variable != nullptr && no_color_variable[0] != '\0';
  return stream_is_terminal && !started_by_launcher && !no_color;
}

std::string rank_log_name(int rank) {
  char name[32];
  std::snprintf(name, sizeof name, "rank-%05d.log", rank);
  return name;
}

void setup_console_logging(int rank, const std::string& host, bool started_by_launcher) {
  std::shared_ptr<spdlog::sinks::sink> console;
  if (rank == 0) {
    console = std::make_shared<spdlog::sinks::ansicolor_stdout_sink_mt>(colors_for(stdout, started_by_launcher));
    console->set_level(spdlog::level::info);
    console->set_pattern("[%H:%M:%S] %^%-5l%$ %v");
  } else {
    console = std::make_shared<spdlog::sinks::ansicolor_stderr_sink_mt>(colors_for(stderr, started_by_launcher));
    console->set_level(spdlog::level::err);
    console->set_pattern(file_pattern(rank, host));
  }
  auto logger = std::make_shared<spdlog::logger>("heretic", console);
  logger->set_level(spdlog::level::debug);
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(logger);
}

void setup_command_logging(bool started_by_launcher) {
  auto console = std::make_shared<spdlog::sinks::ansicolor_stderr_sink_mt>(colors_for(stderr, started_by_launcher));
  console->set_pattern("heretic-mpi: %l: %v");
  auto logger = std::make_shared<spdlog::logger>("heretic", console);
  logger->set_level(spdlog::level::warn);
  spdlog::set_default_logger(logger);
}

std::filesystem::path add_rank_log_file(const std::filesystem::path& output_dir, int rank, const std::string& host) {
  const auto folder = output_dir / "logs";
  std::error_code ec;
  std::filesystem::create_directories(folder, ec);
  if (ec) throw InputError(folder.string() + ": cannot create the log folder (output.dir): " + ec.message());
  const auto path = folder / rank_log_name(rank);
  std::shared_ptr<spdlog::sinks::basic_file_sink_mt> file;
  try {
    file = std::make_shared<spdlog::sinks::basic_file_sink_mt>(path.string(), /*truncate=*/false);
  } catch (const spdlog::spdlog_ex& e) {
    throw InputError(path.string() + ": cannot open the rank's log file: " + e.what());
  }
  file->set_level(spdlog::level::debug);
  file->set_pattern(file_pattern(rank, host));
  spdlog::default_logger()->sinks().push_back(file);
  return path;
}

void flush_logs() {
  if (auto logger = spdlog::default_logger()) logger->flush();
}

}  // namespace heretic::io
