// Collectives over GPU memory through NCCL, for data that lives on a CUDA device (the host
// Communicator moves host buffers). Buffers are raw CUDA device pointers and streams are
// cudaStream_t values passed as void*, so this header needs neither CUDA nor torch headers; the
// torch glue (data_ptr(), the current stream) sits on top of it.
#pragma once

#include <cstddef>
#include <memory>

#include "mpi/communicator.h"

namespace heretic::dist {

// Element types of the device reductions.
enum class DeviceDtype { kFloat32, kFloat64, kBFloat16 };

// Every operation is collective: all ranks call them in the same order, with the same count,
// type and root. They are enqueued on `stream` (a cudaStream_t; nullptr is the default stream)
// and may return before the data has moved, like torch's collectives: synchronize() or a
// later operation on the same stream orders what follows. Failures throw std::runtime_error
// naming the CUDA or NCCL call.
class DeviceCommunicator {
 public:
  virtual ~DeviceCommunicator() = default;

  virtual int rank() const = 0;
  virtual int size() const = 0;
  // The CUDA device this rank's buffers must live on.
  virtual int device_index() const = 0;

  // In-place elementwise sums of `count` elements over all ranks.
  virtual void allreduce_sum(void* device_data, size_t count, DeviceDtype dtype, void* stream) = 0;
  // Copies `bytes` bytes from `root`'s device buffer into everyone's.
  virtual void broadcast(void* device_data, size_t bytes, int root, void* stream) = 0;
  // Waits until the work queued on `stream` by this rank is done (not collective).
  virtual void synchronize(void* stream) = 0;
  // Returns once every rank has finished the work it queued on its `stream` before the barrier.
  virtual void barrier(void* stream) = 0;
};

// Whether this build has the NCCL communicator (HERETIC_NCCL and the CUDA toolkit, see
// cmake/HereticCuda.cmake). Usable from every build; false in a CPU-only one.
constexpr bool nccl_available() {
#ifdef HERETIC_HAVE_NCCL
  return true;
#else
  return false;
#endif
}

#ifdef HERETIC_HAVE_NCCL
// Collective over `host`: makes `device_index` the calling thread's current CUDA device, then
// rank 0 creates NCCL's unique id and broadcasts it through `host`, and every rank joins with
// its host rank and size. The caller chooses the device (usually host.local_rank()); NCCL
// needs a different device for each rank of a node. If any rank cannot select its device,
// every rank throws with that rank's reason instead of waiting for it.
std::unique_ptr<DeviceCommunicator> make_nccl_communicator(Communicator& host, int device_index);
#endif

}  // namespace heretic::dist
