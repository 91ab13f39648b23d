#include "app/run_folder.h"

#include "common/error.h"

namespace heretic::app {

io::Results read_run_folder(const std::filesystem::path& run) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(run, ec)) throw InputError(run.string() + ": no such run folder (--run)");
  const fs::path file = run / "results.h5";
  if (!fs::exists(file, ec)) {
    throw InputError(run.string() + ": no results.h5 here (--run): not a heretic-mpi output folder, or a run that " +
                     "stopped before computing its refusal directions; rerun its job to resume it");
  }
  return io::read_results(file);
}

}  // namespace heretic::app
