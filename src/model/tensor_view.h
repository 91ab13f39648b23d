// The thin adapter between the torch-free safetensors reader and torch: wraps mmapped bytes
// in a torch::Tensor (zero-copy where possible) or converts them to the wanted dtype/device.
#pragma once

#include <torch/utils.h>

#include "hf/safetensors_reader.h"

namespace heretic::model {

// The torch dtype of a BF16, F16, F32 or U8 tensor; float8 (no torch type in libtorch 1.13) is
// a programming error (std::invalid_argument): quantized_tensor.h decodes it.
torch::ScalarType to_torch(hf::DType dtype);

// The tensor at `location` as `dtype` on `device`. On the CPU with the file's own dtype and
// an aligned offset, the result aliases the read-only mapping (no copy; the mapping stays
// alive while the tensor does) and must never be written to. Otherwise it is a fresh copy.
// A quantised tensor (float8, U8) is an InputError naming it: quantized_tensor.h reads those.
torch::Tensor load_tensor(const hf::TensorLocation& location, torch::ScalarType dtype, const torch::Device& device);

// Elements start .. start + length - 1 of dimension `dim` of the tensor at `location`, as
// `dtype` on `device` (tensor parallelism: one rank's slice). Only the slice is converted or
// copied; on the CPU in the file's dtype a slice of rows (dim 0) aliases the mapping like
// load_tensor, and any other slice is a contiguous copy of just its elements.
torch::Tensor load_tensor_slice(const hf::TensorLocation& location, torch::ScalarType dtype, const torch::Device& device,
                                int64_t dim, int64_t start, int64_t length);

}  // namespace heretic::model
