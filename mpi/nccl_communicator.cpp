// NCCL implementation of DeviceCommunicator. Compiled only when NCCL and the CUDA runtime were
// found (mpi/CMakeLists.txt); the only file that includes CUDA and NCCL headers.
#include "mpi/nccl_communicator.h"

#include <cuda_runtime_api.h>
#include <nccl.h>

#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

namespace heretic::dist {
namespace {

void check_cuda(cudaError_t code, const std::string& call) {
  if (code == cudaSuccess) return;
  throw std::runtime_error(call + " failed: " + cudaGetErrorString(code));
}

// NCCL's code says what kind of failure; its last-error text (2.13+) says why.
void check_nccl(ncclResult_t code, const std::string& call, ncclComm_t comm = nullptr) {
  if (code == ncclSuccess) return;
  std::string message = call + " failed: " + ncclGetErrorString(code);
#if NCCL_VERSION_CODE >= NCCL_VERSION(2, 13, 0)
  const char* detail = ncclGetLastError(comm);
  if (detail != nullptr && detail[0] != '\0') message += std::string(" (") + detail + ")";
#else
  (void)comm;
#endif
  throw std::runtime_error(message);
}

cudaStream_t as_stream(void* stream) { return static_cast<cudaStream_t>(stream); }

ncclDataType_t nccl_type(DeviceDtype dtype) {
  switch (dtype) {
    case DeviceDtype::kFloat32:
      return ncclFloat32;
    case DeviceDtype::kFloat64:
      return ncclFloat64;
    case DeviceDtype::kBFloat16:
      return ncclBfloat16;
  }
  throw std::invalid_argument("unknown DeviceDtype");
}

const char* dtype_name(DeviceDtype dtype) {
  switch (dtype) {
    case DeviceDtype::kFloat32:
      return "float32";
    case DeviceDtype::kFloat64:
      return "float64";
    case DeviceDtype::kBFloat16:
      return "bfloat16";
  }
  return "?";
}

// Makes `device` current for one scope and restores the caller's device after: the thread
// that calls a collective may have another device current (torch switches devices freely).
class DeviceScope {
 public:
  explicit DeviceScope(int device) {
    check_cuda(cudaGetDevice(&previous_), "cudaGetDevice");
    if (previous_ != device) check_cuda(cudaSetDevice(device), "cudaSetDevice(" + std::to_string(device) + ")");
  }
  ~DeviceScope() { cudaSetDevice(previous_); }
  DeviceScope(const DeviceScope&) = delete;
  DeviceScope& operator=(const DeviceScope&) = delete;

 private:
  int previous_ = 0;
};

// Collective: every rank passes its own failure ("" for none); if any rank failed, all throw
// with every failing rank's reason, so that no rank waits in NCCL for a rank that gave up.
void agree_or_throw(Communicator& host, const std::string& failure, const std::string& what) {
  const std::vector<std::string> failures = host.allgather(failure);
  std::string message;
  for (size_t r = 0; r < failures.size(); ++r) {
    if (failures[r].empty()) continue;
    message += (message.empty() ? "" : "; ") + std::string("rank ") + std::to_string(r) + ": " + failures[r];
  }
  if (!message.empty()) throw std::runtime_error(what + ": " + message);
}

class NcclCommunicator final : public DeviceCommunicator {
 public:
  NcclCommunicator(Communicator& host, int device) : rank_(host.rank()), size_(host.size()), device_(device) {
    std::string failure;
    try {
      if (device < 0) throw std::invalid_argument("negative CUDA device index " + std::to_string(device));
      check_cuda(cudaSetDevice(device), "cudaSetDevice(" + std::to_string(device) + ")");
    } catch (const std::exception& e) {
      failure = e.what();
    }
    agree_or_throw(host, failure, "NCCL communicator: selecting the CUDA device");

    ncclUniqueId id;
    std::memset(&id, 0, sizeof(id));
    failure.clear();
    if (rank_ == 0) {
      try {
        check_nccl(ncclGetUniqueId(&id), "ncclGetUniqueId");
      } catch (const std::exception& e) {
        failure = e.what();
      }
    }
    agree_or_throw(host, failure, "NCCL communicator");
    host.broadcast(&id, sizeof(id), 0);
    check_nccl(ncclCommInitRank(&comm_, size_, id, rank_), "ncclCommInitRank(rank " + std::to_string(rank_) + " of " +
                                                               std::to_string(size_) + ", device " +
                                                               std::to_string(device) + ")");
    // One float for barrier(): an all-reduce completes only after every rank's earlier work.
    const cudaError_t allocated = cudaMalloc(&scratch_, sizeof(float));
    if (allocated != cudaSuccess) {
      ncclCommDestroy(comm_);
      check_cuda(allocated, "cudaMalloc(barrier scratch)");
    }
  }

  ~NcclCommunicator() override {
    int previous = 0;
    const bool restore = cudaGetDevice(&previous) == cudaSuccess;
    cudaSetDevice(device_);
    cudaFree(scratch_);
    ncclCommDestroy(comm_);
    if (restore) cudaSetDevice(previous);
  }
  NcclCommunicator(const NcclCommunicator&) = delete;
  NcclCommunicator& operator=(const NcclCommunicator&) = delete;

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  int device_index() const override { return device_; }

  void allreduce_sum(void* device_data, size_t count, DeviceDtype dtype, void* stream) override {
    DeviceScope scope(device_);
    check_nccl(ncclAllReduce(device_data, device_data, count, nccl_type(dtype), ncclSum, comm_, as_stream(stream)),
               std::string("ncclAllReduce(") + dtype_name(dtype) + ", " + std::to_string(count) + " elements)", comm_);
  }

  void broadcast(void* device_data, size_t bytes, int root, void* stream) override {
    DeviceScope scope(device_);
    check_nccl(ncclBroadcast(device_data, device_data, bytes, ncclUint8, root, comm_, as_stream(stream)),
               "ncclBroadcast(" + std::to_string(bytes) + " bytes from rank " + std::to_string(root) + ")", comm_);
  }

  void synchronize(void* stream) override {
    DeviceScope scope(device_);
    check_cuda(cudaStreamSynchronize(as_stream(stream)), "cudaStreamSynchronize");
  }

  void barrier(void* stream) override {
    DeviceScope scope(device_);
    check_nccl(ncclAllReduce(scratch_, scratch_, 1, ncclFloat32, ncclSum, comm_, as_stream(stream)),
               "ncclAllReduce(barrier)", comm_);
    check_cuda(cudaStreamSynchronize(as_stream(stream)), "cudaStreamSynchronize(barrier)");
  }

 private:
  int rank_;
  int size_;
  int device_;
  ncclComm_t comm_ = nullptr;
  void* scratch_ = nullptr;
};

}  // namespace

std::unique_ptr<DeviceCommunicator> make_nccl_communicator(Communicator& host, int device_index) {
  return std::make_unique<NcclCommunicator>(host, device_index);
}

}  // namespace heretic::dist
