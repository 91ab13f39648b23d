// A run's output folder as the after-the-job commands (report, export) find it.
#pragma once

#include <filesystem>

#include "io/results_file.h"

namespace heretic::app {

// DIR/results.h5, or InputError saying why DIR is not a run folder (--run).
io::Results read_run_folder(const std::filesystem::path& run);

}  // namespace heretic::app
