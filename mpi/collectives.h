// Small collectives built on the Communicator seam.
#pragma once

#include <string>
#include <vector>

#include "mpi/communicator.h"

namespace heretic::dist {

// `root`'s string on every rank.
std::string broadcast_string(Communicator& comm, const std::string& value, int root);

// Rank 0 receives every rank's `mine` (any length, its own included) in rank order; other
// ranks get an empty vector. Large buffers travel in pieces of at most 256 MiB, within MPI's
// int counts.
std::vector<std::string> gather_to_rank0(Communicator& comm, const std::string& mine);

}  // namespace heretic::dist
