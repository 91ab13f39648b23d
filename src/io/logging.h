// Logging set-up (spdlog). Rank 0 prints human-readable progress on the console; every rank
// writes its own file <output.dir>/logs/rank-NNNNN.log (spdlog sinks are thread-safe, not
// process-safe, so ranks never share a file). Library code just calls spdlog::info() etc.
#pragma once

#include <filesystem>
#include <string>

namespace heretic::io {

// Whether console lines may carry ANSI colours: only when the stream is a terminal the user
// sees directly. Under mpirun or srun the launcher forwards the stream (Open MPI through a
// pseudo-terminal, so isatty() says yes) into Slurm output files and other parsers, so never
// there; and never when NO_COLOR is set to a non-empty value (no-color.org).
bool console_colors(bool stream_is_terminal, bool started_by_launcher, const char* no_color_variable);

// Console logging before the output folder is known: rank 0 prints info and above to
// stdout, other ranks only errors to stderr (so a rank-local failure is still seen).
void setup_console_logging(int rank, const std::string& host, bool started_by_launcher);

// Logging for subcommands (tokenize, inspect, ...): warnings and errors to stderr, so that
// what a command prints on stdout stays machine-readable.
void setup_command_logging(bool started_by_launcher);

// Adds the rank's log file (debug and above; time, level, rank and host on every line).
// Creates the folder. Returns the file's path. Throws InputError if it cannot be created.
std::filesystem::path add_rank_log_file(const std::filesystem::path& output_dir, int rank, const std::string& host);

// "rank-00003.log"
std::string rank_log_name(int rank);

// Flushes all sinks (before exit or abort).
void flush_logs();

}  // namespace heretic::io
