#include "ablation/export_folder.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <system_error>
#include <utility>

#include "common/error.h"
#include "common/fault_injection.h"
#include "common/leftovers.h"

namespace heretic::ablation {
namespace fs = std::filesystem;

namespace {

// "out/" and "out" name the same folder; the temporary sibling is built from the last part.
fs::path without_trailing_separator(const fs::path& path) {
  fs::path normal = path.lexically_normal();
  if (!normal.has_filename() && normal.has_parent_path() && normal != normal.root_path()) normal = normal.parent_path();
  return normal;
}

fs::path sibling(const fs::path& folder, const std::string& suffix) {
  return folder.parent_path() / (folder.filename().string() + suffix + std::to_string(::getpid()));
}

// True when `inner` is `outer` or lies inside it (both must exist).
bool is_same_or_inside(const fs::path& inner, const fs::path& outer) {
  std::error_code error;
  const fs::path a = fs::weakly_canonical(inner, error);
  if (error) return false;
  const fs::path b = fs::weakly_canonical(outer, error);
  if (error) return false;
  const auto mismatch = std::mismatch(b.begin(), b.end(), a.begin(), a.end());
  return mismatch.first == b.end();
}

// The temporary folder the export is written into; removed unless the export completed.
class TemporaryFolder {
 public:
  explicit TemporaryFolder(fs::path path) : path_(std::move(path)) {}
  ~TemporaryFolder() {
    if (path_.empty()) return;
    std::error_code error;
    fs::remove_all(path_, error);
  }
  TemporaryFolder(const TemporaryFolder&) = delete;
  TemporaryFolder& operator=(const TemporaryFolder&) = delete;

  const fs::path& path() const { return path_; }
  void release() { path_.clear(); }

 private:
  fs::path path_;
};

// Flushes a file or folder to disk, so that the rename publishes data that survives a crash.
void fsync_path(const fs::path& path, bool folder) {
  const int fd = ::open(path.c_str(), (folder ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
  if (fd < 0) throw InputError(path.string() + ": cannot open to flush it: " + std::strerror(errno));
  const int status = ::fsync(fd);
  const int fsync_errno = errno;
  ::close(fd);
  // Some file systems cannot fsync a folder (EINVAL); the files themselves were flushed.
  if (status != 0 && !(folder && fsync_errno == EINVAL))
    throw InputError(path.string() + ": cannot flush to disk: " + std::strerror(fsync_errno));
}

void fsync_files(const fs::path& folder, const std::vector<std::string>& files) {
  for (const std::string& file : files) fsync_path(folder / file, /*folder=*/false);
  fsync_path(folder, /*folder=*/true);
}

// Makes the complete folder `temporary` appear at `target`. An existing target is moved aside
// first and removed only after the rename succeeded; on failure it is moved back.
void move_into_place(TemporaryFolder& temporary, const fs::path& target) {
  std::error_code error;
  if (!fs::exists(target, error)) {
    fs::rename(temporary.path(), target, error);
    if (error) throw InputError(target.string() + ": cannot rename the finished export into place: " + error.message());
    temporary.release();
    return;
  }
  const fs::path old = sibling(target, ".old-");
  fs::remove_all(old, error);
  fs::rename(target, old, error);
  if (error) throw InputError(target.string() + ": cannot move the previous export aside: " + error.message());
  fs::rename(temporary.path(), target, error);
  if (error) {
    std::error_code ignored;
    fs::rename(old, target, ignored);
    throw InputError(target.string() + ": cannot rename the finished export into place: " + error.message());
  }
  temporary.release();
  fs::remove_all(old, error);
  // The new export is complete either way; a leftover old copy only costs disk space.
  if (error) spdlog::warn("{}: could not remove the previous export: {}", old.string(), error.message());
}

}  // namespace

fs::path checked_export_target(const fs::path& out_folder, const fs::path& source) {
  const fs::path target = without_trailing_separator(out_folder);
  if (target.filename().empty()) throw InputError(out_folder.string() + ": not a valid export folder name");
  std::error_code error;
  if (fs::exists(target, error) && !fs::is_directory(target, error))
    throw InputError(target.string() + ": exists and is not a folder; refusing to replace it with an export");
  if (fs::exists(target, error) && is_same_or_inside(source, target))
    throw InputError(target.string() + ": is the source model folder " + source.string() +
                     " or contains it; export to another folder");
  return target;
}

std::vector<std::string> publish_folder(const fs::path& target,
                                        const std::function<std::vector<std::string>(const fs::path&)>& fill) {
  std::error_code error;
  fs::create_directories(target.parent_path().empty() ? fs::path(".") : target.parent_path(), error);
  if (error) throw InputError(target.string() + ": cannot create the folder it goes in: " + error.message());
  // Leftovers of an export of this target that was killed before it was renamed into place.
  remove_leftovers(target, {".tmp-", ".old-"});
  TemporaryFolder temporary(sibling(target, ".tmp-"));
  fs::create_directory(temporary.path(), error);
  if (error)
    throw InputError(target.string() + ": cannot create " + temporary.path().string() + ": " + error.message());

  std::vector<std::string> written = fill(temporary.path());
  fsync_files(temporary.path(), written);
  fault_point("export_publish");
  move_into_place(temporary, target);
  try {
    fsync_path(target.parent_path().empty() ? fs::path(".") : target.parent_path(), /*folder=*/true);
  } catch (const InputError& failure) {
    // The export is complete and in place; only the durability of its name is uncertain.
    spdlog::warn("{}", failure.what());
  }
  std::sort(written.begin(), written.end());
  return written;
}

void write_text_file(const fs::path& path, const std::string& text) {
  std::ofstream stream(path, std::ios::binary | std::ios::trunc);
  if (!stream) throw InputError(path.string() + ": cannot create");
  stream.write(text.data(), static_cast<std::streamsize>(text.size()));
  stream.close();
  if (!stream) throw InputError(path.string() + ": write failed (disk full?)");
}

}  // namespace heretic::ablation
