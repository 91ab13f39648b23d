// The collective a tensor-parallel model needs (tensor_parallel.h), as a torch-level seam: the
// model calls it and knows nothing of MPI; the program implements it over its communicator
// (app/communicator_tensor_group.h). A model without a group is one rank's whole model.
#pragma once

#include <torch/utils.h>

#include "model/tensor_parallel.h"

namespace heretic::model {

class TensorParallelGroup {
 public:
  virtual ~TensorParallelGroup() = default;

  virtual int rank() const = 0;
  virtual int size() const = 0;
  TensorSplit split() const { return {rank(), size()}; }

  // Replaces `tensor` by the elementwise sum of every rank's `tensor` (same shape and dtype on
  // every rank). Every rank receives bit-identical values, so the ranks' forward passes never
  // diverge. Called by every rank of the group in the same order.
  virtual void all_reduce_sum(torch::Tensor& tensor) = 0;
};

}  // namespace heretic::model
