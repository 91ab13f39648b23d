// The communication seam between ranks (~ a c10d ProcessGroup, much smaller). The rest of
// the program talks to this interface; one implementation per backend: MPI (host buffers),
// a single-rank one for one-process runs, and an in-process world of N ranks (threads) for
// unit tests, like PyTorch's fake process group. Device buffers go through
// DeviceCommunicator (nccl_communicator.h). This header does not include <mpi.h>.
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

  // Point-to-point messages of any length (blocking; safe from several threads at once).
  // receive takes the oldest message from `source` (kAnySource: from any rank) with `tag`.
  static constexpr int kAnySource = -1;
  using Deadline = std::chrono::steady_clock::time_point;
  struct Message {
    int source = 0;
    std::string bytes;
  };
  virtual void send(const void* data, size_t bytes, int dest, int tag) = 0;
  void send(const std::string& bytes, int dest, int tag) { send(bytes.data(), bytes.size(), dest, tag); }
  // Gives up at `deadline`: nullopt when no matching message arrived by then.
  virtual std::optional<Message> receive(int source, int tag, Deadline deadline) = 0;
  Message receive(int source, int tag) { return *receive(source, tag, Deadline::max()); }

  // Collective: the ranks passing the same `color` form a new communicator, ordered by `key`
  // (then by rank here). Node-local ranks are those of the parent.
  virtual std::unique_ptr<Communicator> split(int color, int key) = 0;
  // Ends the whole job at once (any rank's fatal error); never returns. The in-process world
  // throws Aborted instead, on this thread and in every rank's next call.
  [[noreturn]] virtual void abort(int exit_code) = 0;
};

// One process, no MPI: rank 0 of 1.
std::unique_ptr<Communicator> make_single_rank_communicator();

}  // namespace heretic::dist
