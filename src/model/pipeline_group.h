// The transport a pipeline-parallel model needs (pipeline_stages.h), as a torch-level seam like
// TensorParallelGroup: the model calls it and knows nothing of MPI; the program implements it
// over its communicator (mpi/communicator_pipeline_group.h). Every tensor's shape and dtype
// are known to both sides from the model and the request, so only the elements travel.
#pragma once

#include <torch/utils.h>

#include "model/pipeline_stages.h"

namespace heretic::model {

class PipelineGroup {
 public:
  virtual ~PipelineGroup() = default;

  virtual int stage() const = 0;
  virtual int stages() const = 0;
  PipelineStage position() const { return {stage(), stages()}; }
  // Micro-batches a forward pass splits its batch into (micro_batch_rows), so that the stages
  // overlap; 1 sends the whole batch at once and the stages compute one after the other.
  virtual int micro_batches() const { return 1; }

  // Hands `tensor` to the next stage, which receives it with receive_from_previous.
  virtual void send_to_next(const torch::Tensor& tensor) = 0;
  // Overwrites `tensor` (its shape and dtype set by the caller) with what the previous stage sent.
  virtual void receive_from_previous(torch::Tensor& tensor) = 0;
  // Replaces `tensor` on every stage by stage `root`'s (same shape and dtype everywhere).
  // Called by every stage in the same order.
  virtual void broadcast(torch::Tensor& tensor, int root) = 0;
};

}  // namespace heretic::model
