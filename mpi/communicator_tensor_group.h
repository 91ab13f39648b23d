// The tensor-parallel collective of a model copy (model/tensor_parallel_group.h) over the
// ranks of a dist::Communicator. Header-only so that the distribution library itself stays
// torch-free; the main job and tests that hold a model include it.
//
// The sum travels as float64 on host buffers: every rank receives the same, correctly rounded
// sum of its float32 (or bf16/fp16) parts, whatever the backend's reduction order. A device
// backend (NCCL) would reduce in place in the model dtype instead.
#pragma once

#include <memory>
#include <utility>

#include "model/tensor_parallel_group.h"
#include "mpi/communicator.h"

namespace heretic::dist {

class CommunicatorTensorGroup : public model::TensorParallelGroup {
 public:
  explicit CommunicatorTensorGroup(std::unique_ptr<Communicator> comm) : comm_(std::move(comm)) {}

  int rank() const override { return comm_->rank(); }
  int size() const override { return comm_->size(); }

  void all_reduce_sum(torch::Tensor& tensor) override {
    torch::Tensor sums = tensor.to(torch::kCPU, torch::kFloat64, /*non_blocking=*/false, /*copy=*/true).contiguous();
    comm_->allreduce_sum(sums.data_ptr<double>(), static_cast<size_t>(sums.numel()));
    tensor = sums.to(tensor.device(), tensor.scalar_type());
    summed_bytes_ += sums.numel() * static_cast<int64_t>(sizeof(double));
  }

  // Bytes this rank has contributed to all-reduces so far (float64 payload).
  int64_t summed_bytes() const { return summed_bytes_; }

 private:
  std::unique_ptr<Communicator> comm_;
  int64_t summed_bytes_ = 0;
};

}  // namespace heretic::dist
