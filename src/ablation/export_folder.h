// A folder that an export writes as a whole (DESIGN.md §4 models/trial-NNN): filled under a
// temporary sibling name, flushed to disk, then renamed into place, so that it appears complete
// or not at all; a previous folder of that name is replaced only once the new one is complete.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace heretic::ablation {

// `out_folder` without a trailing separator, once it is known that it may become an export of
// the model in `source`: it is no file, and not `source` or a folder containing it. Throws
// InputError naming it otherwise.
std::filesystem::path checked_export_target(const std::filesystem::path& out_folder,
                                            const std::filesystem::path& source);

// Creates a temporary folder next to `target` (a checked target), lets `fill` write into it and
// return the files it wrote (relative names), flushes them and renames the folder to `target`.
// On any failure (InputError naming the path) the temporary folder is removed and a previous
// `target` is kept. Returns the files written, sorted.
std::vector<std::string> publish_folder(
    const std::filesystem::path& target,
    const std::function<std::vector<std::string>(const std::filesystem::path& folder)>& fill);

// Writes `text` to `path` (InputError naming it when it cannot).
void write_text_file(const std::filesystem::path& path, const std::string& text);

}  // namespace heretic::ablation
