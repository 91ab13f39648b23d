#include "common/leftovers.h"

#include <system_error>

namespace heretic {
namespace fs = std::filesystem;

void remove_leftovers(const fs::path& target, const std::vector<std::string>& markers) {
  const fs::path folder = target.parent_path().empty() ? fs::path(".") : target.parent_path();
  const std::string name = target.filename().string();
  std::error_code error;
  std::vector<fs::path> leftovers;
  for (fs::directory_iterator it(folder, error), end; !error && it != end; it.increment(error)) {
    const std::string sibling = it->path().filename().string();
    for (const std::string& marker : markers) {
      if (sibling.size() > name.size() + marker.size() && sibling.compare(0, name.size(), name) == 0 &&
          sibling.compare(name.size(), marker.size(), marker) == 0) {
        leftovers.push_back(it->path());
      }
    }
  }
  for (const fs::path& leftover : leftovers) fs::remove_all(leftover, error);
}

}  // namespace heretic
