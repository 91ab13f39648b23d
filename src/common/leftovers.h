// What an interrupted writer leaves behind. Files that must never be seen half-written
// (results.h5, exported models) are written next to their target under a temporary name with
// the writer's process id, then renamed into place; a process killed in between (SIGKILL, a lost
// node) leaves that temporary behind, and the next writer has another process id.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace heretic {

// Removes every sibling of `target` named <target's name><marker><anything>, for each marker
// (e.g. ".tmp-" removes "results.h5.tmp-1234"). Call it before writing `target` anew: only one
// writer of a target runs at a time. Failures are ignored: a leftover only costs disk space.
void remove_leftovers(const std::filesystem::path& target, const std::vector<std::string>& markers);

}  // namespace heretic
