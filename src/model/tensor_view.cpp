#include "model/tensor_view.h"

#include <cstdint>
#include <cstring>

namespace heretic::model {

torch::ScalarType to_torch(hf::DType dtype) {
  switch (dtype) {
    case hf::DType::kBF16:
      return torch::kBFloat16;
    case hf::DType::kF16:
      return torch::kFloat16;
    case hf::DType::kF32:
      return torch::kFloat32;
  }
  return torch::kFloat32;
}

torch::Tensor load_tensor(const hf::TensorLocation& location, torch::ScalarType dtype, const torch::Device& device) {
  const hf::TensorInfo& info = *location.info;
  const torch::ScalarType file_dtype = to_torch(info.dtype);
  const std::byte* bytes = location.data();
  const bool aligned = reinterpret_cast<std::uintptr_t>(bytes) % hf::dtype_size(info.dtype) == 0;
  torch::Tensor view;
  if (aligned) {
    // The deleter holds the mapping: the tensor keeps the file mapped for its lifetime.
    auto mapping = location.file->mapping();
    view = torch::from_blob(
        const_cast<std::byte*>(bytes), info.shape, [mapping](void*) mutable { mapping.reset(); },
        torch::TensorOptions().dtype(file_dtype));
  } else {
    // Rare (mixed-dtype files): copy through an aligned buffer.
    view = torch::empty(info.shape, torch::TensorOptions().dtype(file_dtype));
    std::memcpy(view.data_ptr(), bytes, info.byte_size());
  }
  if (file_dtype == dtype && device.is_cpu()) return view;
  return view.to(device, dtype, /*non_blocking=*/false, /*copy=*/true);
}

}  // namespace heretic::model
