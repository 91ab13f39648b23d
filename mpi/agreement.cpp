#include "mpi/agreement.h"

#include <set>
#include <vector>

namespace heretic::dist {

void agree(Communicator& comm, const std::string& problem) {
  const std::vector<std::string> problems = comm.allgather(problem);
  std::set<std::string> seen;
  std::string message;
  for (size_t r = 0; r < problems.size(); ++r) {
    if (problems[r].empty() || !seen.insert(problems[r]).second) continue;
    const std::string who = r > 0 ? "rank " + std::to_string(r) + ": " : "";
    message += (message.empty() ? "" : "\n") + who + problems[r];
  }
  if (!message.empty()) throw AgreedFailure(message);
}

}  // namespace heretic::dist
