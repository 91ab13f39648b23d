// A world of N ranks inside one process, one thread per rank: the whole Communicator
// (collectives, messages of any length, split, abort) over shared memory. It lets the trial
// farm, sharding and agreement be unit-tested with 2-4 ranks without mpirun, as PyTorch's fake
// process group does for c10d. Collectives combine contributions in rank order, so every rank
// gets bit-identical sums. The mpirun tests still test the real thing.
#pragma once

#include <exception>
#include <functional>
#include <memory>
#include <stdexcept>
#include <vector>

#include "mpi/communicator.h"

namespace heretic::dist {

// Thrown by abort() in the calling thread, and by every later (or waiting) call of any rank of
// the same world: the in-process stand-in for MPI_Abort ending every process of a job.
class Aborted : public std::runtime_error {
 public:
  explicit Aborted(int exit_code);
  int exit_code() const { return exit_code_; }

 private:
  int exit_code_;
};

// The communicators of one world, indexed by rank; each is used by its own thread.
std::vector<std::unique_ptr<Communicator>> make_in_process_world(int size);

// Runs `body` on `size` threads, each with its rank's communicator of a new world, and waits
// for all of them. Returns each rank's exception (null where the body returned). A rank whose
// body throws anything but Aborted aborts the world with exit code 1 first, as a crashed MPI
// process ends the job, so that no other rank waits forever.
std::vector<std::exception_ptr> run_in_process(int size, const std::function<void(Communicator&)>& body);

}  // namespace heretic::dist
