// The communication seam between ranks (~ a c10d ProcessGroup, much smaller). The rest of
// the program talks to this interface; one implementation per backend: MPI (host buffers),
// a single-rank one for tests and one-process runs, NCCL later for device tensors.
// This header does not include <mpi.h>.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace heretic::dist {

class Communicator {
 public:
  virtual ~Communicator() = default;

  virtual int rank() const = 0;
  virtual int size() const = 0;
  // Rank among the ranks of this node, and their number (for device selection).
  virtual int local_rank() const = 0;
  virtual int local_size() const = 0;

  virtual void barrier() = 0;
  // In-place elementwise sums over all ranks.
  virtual void allreduce_sum(double* data, size_t count) = 0;
  virtual void allreduce_sum(int64_t* data, size_t count) = 0;
  // Copies `bytes` bytes from `root`'s buffer into everyone's.
  virtual void broadcast(void* data, size_t bytes, int root) = 0;
  // Every rank's string, indexed by rank.
  virtual std::vector<std::string> allgather(const std::string& value) = 0;

  // Point-to-point messages of `bytes` bytes (blocking; safe from several threads at once).
  // recv takes a message from `source` (kAnySource: from any rank) with `tag`, whose size must
  // be exactly `bytes`; it returns the sender's rank.
  static constexpr int kAnySource = -1;
  virtual void send(const void* data, size_t bytes, int dest, int tag) = 0;
  int recv(void* data, size_t bytes, int source, int tag) {
    return *recv_until(data, bytes, source, tag, Deadline::max());
  }
  // Like recv, but gives up at `deadline`: nullopt when no matching message arrived by then.
  using Deadline = std::chrono::steady_clock::time_point;
  virtual std::optional<int> recv_until(void* data, size_t bytes, int source, int tag, Deadline deadline) = 0;

  // Collective: the ranks passing the same `color` form a new communicator, ordered by `key`
  // (then by rank here). Node-local ranks are those of the parent.
  virtual std::unique_ptr<Communicator> split(int color, int key) = 0;
  // Ends the whole job at once (any rank's fatal error); never returns.
  [[noreturn]] virtual void abort(int exit_code) = 0;
};

// One process, no MPI: rank 0 of 1.
std::unique_ptr<Communicator> make_single_rank_communicator();

}  // namespace heretic::dist
