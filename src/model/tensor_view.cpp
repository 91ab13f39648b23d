#include "model/tensor_view.h"

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>

#include "common/error.h"

namespace heretic::model {

torch::ScalarType to_torch(hf::DType dtype) {
  switch (dtype) {
    case hf::DType::kBF16:
      return torch::kBFloat16;
    case hf::DType::kF16:
      return torch::kFloat16;
    case hf::DType::kF32:
      return torch::kFloat32;
    case hf::DType::kU8:
      return torch::kByte;
    case hf::DType::kF8E4M3:
    case hf::DType::kF8E5M2:
      break;  // no float8 type in every libtorch this builds with: decoded by quantized_tensor.h
  }
  throw std::invalid_argument(std::string("to_torch: no torch dtype for ") + hf::dtype_name(dtype));
}

namespace {

// The whole tensor at `location` in the file's dtype on the CPU, aliasing the mapping where
// the offset is aligned.
torch::Tensor mapped_view(const hf::TensorLocation& location) {
  const hf::TensorInfo& info = *location.info;
  if (!hf::is_compute_dtype(info.dtype))
    throw InputError(location.file->path().string() + ": tensor '" + info.name + "' is stored as " +
                     hf::dtype_name(info.dtype) + " (quantised), which cannot be used here without dequantisation");
  const torch::ScalarType file_dtype = to_torch(info.dtype);
  const std::byte* bytes = location.data();
  const bool aligned = reinterpret_cast<std::uintptr_t>(bytes) % hf::dtype_size(info.dtype) == 0;
  if (aligned) {
    // The deleter holds the mapping: the tensor keeps the file mapped for its lifetime.
    auto mapping = location.file->mapping();
    return torch::from_blob(
        const_cast<std::byte*>(bytes), info.shape, [mapping](void*) mutable { mapping.reset(); },
        torch::TensorOptions().dtype(file_dtype));
  }
  // Rare (mixed-dtype files): copy through an aligned buffer.
  torch::Tensor copy = torch::empty(info.shape, torch::TensorOptions().dtype(file_dtype));
  std::memcpy(copy.data_ptr(), bytes, info.byte_size());
  return copy;
}

}  // namespace

namespace {

// A tensor copied out of the mapping no longer needs the pages it was read from: without this,
// a rank that copies its columns of o_proj/down_proj (tensor parallelism) or converts dtypes
// keeps every page of the whole tensor resident, and its peak memory stops shrinking with 1/t.
torch::Tensor released_after_copy(const hf::TensorLocation& location, torch::Tensor copy) {
  location.file->mapping()->release(location.data(), location.info->byte_size());
  return copy;
}

}  // namespace

torch::Tensor load_tensor(const hf::TensorLocation& location, torch::ScalarType dtype, const torch::Device& device) {
  const torch::Tensor view = mapped_view(location);
  if (view.scalar_type() == dtype && device.is_cpu()) return view;
  return released_after_copy(location, view.to(device, dtype, /*non_blocking=*/false, /*copy=*/true));
}

torch::Tensor load_tensor_slice(const hf::TensorLocation& location, torch::ScalarType dtype, const torch::Device& device,
                                int64_t dim, int64_t start, int64_t length) {
  const torch::Tensor part = mapped_view(location).narrow(dim, start, length);
  if (part.scalar_type() == dtype && device.is_cpu() && part.is_contiguous()) return part;  // a view of its rows
  return released_after_copy(location, part.to(device, dtype, /*non_blocking=*/false, /*copy=*/true).contiguous());
}

}  // namespace heretic::model
