// MPI implementation of Communicator, and the lifetime of MPI itself.
#pragma once

#include <memory>

#include "mpi/communicator.h"

namespace heretic::dist {

// Initialises MPI (thread level MULTIPLE, needed by the trial coordinator thread) on
// construction and finalises it on destruction.
class MpiSession {
 public:
  MpiSession(int* argc, char*** argv);
  ~MpiSession();
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;

  // The thread level MPI granted (MPI_THREAD_* value).
  int thread_level() const { return thread_level_; }
  // A communicator over MPI_COMM_WORLD.
  std::unique_ptr<Communicator> world() const;

 private:
  int thread_level_ = 0;
};

}  // namespace heretic::dist
