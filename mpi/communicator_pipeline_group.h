// The pipeline transport of a model copy (model/pipeline_group.h) over the ranks of a
// dist::Communicator, stage = rank. Header-only so that the distribution library itself stays
// torch-free; the main job and tests that hold a model include it.
//
// Tensors travel as their bytes from host buffers: a copy, exact in every dtype. A device
// backend (NCCL send/recv) would move device tensors instead.
#pragma once

#include <cstring>
#include <memory>
#include <stdexcept>
#include <utility>

#include "model/pipeline_group.h"
#include "mpi/communicator.h"

namespace heretic::dist {

class CommunicatorPipelineGroup : public model::PipelineGroup {
 public:
  explicit CommunicatorPipelineGroup(std::unique_ptr<Communicator> comm, int micro_batches = 1)
      : comm_(std::move(comm)), micro_batches_(micro_batches) {}

  int stage() const override { return comm_->rank(); }
  int stages() const override { return comm_->size(); }
  int micro_batches() const override { return micro_batches_; }

  void send_to_next(const torch::Tensor& tensor) override {
    const torch::Tensor host = tensor.to(torch::kCPU).contiguous();
    const size_t bytes = host.numel() * host.element_size();
    comm_->send(host.data_ptr(), bytes, stage() + 1, kActivationTag);
    sent_bytes_ += static_cast<int64_t>(bytes);
  }

  void receive_from_previous(torch::Tensor& tensor) override {
    const Communicator::Message message = comm_->receive(stage() - 1, kActivationTag);
    torch::Tensor host = torch::empty(tensor.sizes(), tensor.options().device(torch::kCPU));
    if (message.bytes.size() != static_cast<size_t>(host.numel() * host.element_size()))
      throw std::logic_error("CommunicatorPipelineGroup: stage " + std::to_string(stage() - 1) + " sent " +
                             std::to_string(message.bytes.size()) + " bytes where " +
                             std::to_string(host.numel() * host.element_size()) + " were expected");
    std::memcpy(host.data_ptr(), message.bytes.data(), message.bytes.size());
    tensor = host.to(tensor.device());
  }

  void broadcast(torch::Tensor& tensor, int root) override {
    torch::Tensor host = tensor.to(torch::kCPU, tensor.scalar_type(), /*non_blocking=*/false, /*copy=*/true).contiguous();
    const size_t bytes = host.numel() * host.element_size();
    comm_->broadcast(host.data_ptr(), bytes, root);
    tensor = host.to(tensor.device());
    if (stage() == root) sent_bytes_ += static_cast<int64_t>(bytes) * (stages() - 1);
  }

  // Bytes this stage has sent so far: activations to the next stage, and broadcast payloads
  // counted once per receiving stage.
  int64_t sent_bytes() const { return sent_bytes_; }

 private:
  static constexpr int kActivationTag = 7201;
  std::unique_ptr<Communicator> comm_;
  int micro_batches_ = 1;
  int64_t sent_bytes_ = 0;
};

}  // namespace heretic::dist
