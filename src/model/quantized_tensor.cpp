#include "model/quantized_tensor.h"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/error.h"
#include "hf/quantized_formats.h"
#include "model/tensor_view.h"

namespace heretic::model {

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i) text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

namespace {

std::string label(const hf::TensorLocation& location) {
  return location.file->path().string() + ": tensor '" + location.info->name + "'";
}

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// The block-FP8 matrix at `values` with its scale tensor, every shape checked.
hf::BlockFp8Matrix block_fp8_matrix(const hf::SafetensorsCheckpoint& checkpoint,
                                    const hf::QuantizationConfig& quantization, const hf::TensorLocation& values) {
  const hf::TensorInfo& info = *values.info;
  const std::string dtype = hf::dtype_name(info.dtype);
  if (quantization.method != hf::QuantMethod::kBlockFp8)
    throw InputError(label(values) + " is " + dtype + ", but " + (checkpoint.folder() / "config.json").string() +
                     " declares no block FP8 quantisation (quantization_config with quant_method 'fp8'" +
                     (quantization.quantized() ? ", not '" + quantization.method_name + "'" : std::string()) + ")");
  if (info.shape.size() != 2)
    throw InputError(label(values) + " is " + dtype + " with shape " + shape_text(info.shape) +
                     "; block FP8 is supported for matrices only");
  const std::string scale_name = info.name + "_scale_inv";
  if (!checkpoint.contains(scale_name))
    throw InputError(label(values) + " is " + dtype + ", but the checkpoint in " + checkpoint.folder().string() +
                     " has no scale tensor '" + scale_name + "'");
  const hf::TensorLocation scales = checkpoint.at(scale_name);
  const hf::DType scale_dtype = scales.info->dtype;
  if (!hf::is_compute_dtype(scale_dtype))
    throw InputError(label(scales) + " is " + hf::dtype_name(scale_dtype) + "; a scale must be F32, BF16 or F16");
  const std::vector<int64_t> expected = {ceil_div(info.shape[0], quantization.block_rows),
                                         ceil_div(info.shape[1], quantization.block_cols)};
  if (scales.info->shape != expected)
    throw InputError(label(scales) + " has shape " + shape_text(scales.info->shape) + ", but '" + info.name +
                     "' " + shape_text(info.shape) + " in blocks of weight_block_size [" +
                     std::to_string(quantization.block_rows) + ", " + std::to_string(quantization.block_cols) +
                     "] (config.json) needs " + shape_text(expected));
  hf::BlockFp8Matrix matrix;
  matrix.values = values.data();
  matrix.value_dtype = info.dtype;
  matrix.rows = info.shape[0];
  matrix.cols = info.shape[1];
  matrix.scales = scales.data();
  matrix.scale_dtype = scale_dtype;
  matrix.block_rows = quantization.block_rows;
  matrix.block_cols = quantization.block_cols;
  return matrix;
}

torch::Tensor load_block_fp8(const hf::BlockFp8Matrix& matrix, torch::ScalarType dtype, const torch::Device& device,
                             int64_t dim, int64_t start, int64_t length) {
  const int64_t row_begin = dim == 0 ? start : 0;
  const int64_t rows = dim == 0 ? length : matrix.rows;
  const int64_t col_begin = dim == 1 ? start : 0;
  const int64_t cols = dim == 1 ? length : matrix.cols;
  torch::Tensor result = torch::empty({rows, cols}, torch::TensorOptions().dtype(dtype));
  // Chunks of whole block rows (at least one row), so that the float32 buffer stays small.
  const int64_t chunk_rows = std::max<int64_t>(1, std::min<int64_t>(rows, matrix.block_rows));
  torch::Tensor buffer = dtype == torch::kFloat32 ? torch::Tensor() : torch::empty({chunk_rows, cols}, torch::kFloat32);
  for (int64_t r = 0; r < rows; r += chunk_rows) {
    const int64_t count = std::min(chunk_rows, rows - r);
    if (dtype == torch::kFloat32) {
      hf::dequantize_block_fp8(matrix, row_begin + r, count, col_begin, cols, result[r].data_ptr<float>());
      continue;
    }
    hf::dequantize_block_fp8(matrix, row_begin + r, count, col_begin, cols, buffer.data_ptr<float>());
    result.narrow(0, r, count).copy_(buffer.narrow(0, 0, count));  // rounds to nearest even
  }
  return device.is_cpu() ? result : result.to(device);
}

}  // namespace

torch::Tensor load_weight_tensor(const hf::SafetensorsCheckpoint& checkpoint, const hf::QuantizationConfig& quantization,
                                 const std::string& name, torch::ScalarType dtype, const torch::Device& device,
                                 int64_t dim, int64_t start, int64_t length) {
  const hf::TensorLocation location = checkpoint.at(name);
  const hf::DType stored = location.info->dtype;
  if (hf::is_compute_dtype(stored)) {
    if (dim < 0) return load_tensor(location, dtype, device);
    return load_tensor_slice(location, dtype, device, dim, start, length);
  }
  if (stored == hf::DType::kF8E4M3 || stored == hf::DType::kF8E5M2)
    return load_block_fp8(block_fp8_matrix(checkpoint, quantization, location), dtype, device, dim, start, length);
  throw InputError(label(location) + " is " + hf::dtype_name(stored) +
                   ", which is not a weight format (MXFP4 weights are stored as <name>_blocks and <name>_scales)");
}

namespace {

// The blocks and scales of the MXFP4 tensor `name`, checked against each other.
struct Mxfp4Parts {
  hf::TensorLocation blocks, scales;
  std::vector<int64_t> shape;  // dequantised: [..., rows, 32 G]
};

Mxfp4Parts mxfp4_parts(const hf::SafetensorsCheckpoint& checkpoint, const std::string& name) {
  for (const char* suffix : {"_blocks", "_scales"})
    if (!checkpoint.contains(name + suffix))
      throw InputError(checkpoint.folder().string() + ": the MXFP4 tensor '" + name + "' has no '" + name + suffix +
                       "' in the checkpoint");
  Mxfp4Parts parts{checkpoint.at(name + "_blocks"), checkpoint.at(name + "_scales"), {}};
  for (const hf::TensorLocation* part : {&parts.blocks, &parts.scales})
    if (part->info->dtype != hf::DType::kU8)
      throw InputError(label(*part) + " is " + hf::dtype_name(part->info->dtype) + "; MXFP4 blocks and scales are U8");
  const std::vector<int64_t>& block_shape = parts.blocks.info->shape;
  const std::vector<int64_t>& scale_shape = parts.scales.info->shape;
  if (block_shape.size() < 3 || block_shape.back() != hf::kMxfp4BlockBytes)
    throw InputError(label(parts.blocks) + " has shape " + shape_text(block_shape) + "; MXFP4 blocks are [..., rows, " +
                     "blocks per row, 16]");
  if (std::vector<int64_t>(block_shape.begin(), block_shape.end() - 1) != scale_shape)
    throw InputError(label(parts.scales) + " has shape " + shape_text(scale_shape) + ", but '" +
                     parts.blocks.info->name + "' " + shape_text(block_shape) + " needs one scale per block: " +
                     shape_text(std::vector<int64_t>(block_shape.begin(), block_shape.end() - 1)));
  parts.shape = scale_shape;
  parts.shape.back() *= hf::kMxfp4BlockValues;
  return parts;
}

}  // namespace

std::vector<int64_t> mxfp4_shape(const hf::SafetensorsCheckpoint& checkpoint, const std::string& name) {
  return mxfp4_parts(checkpoint, name).shape;
}

torch::Tensor load_mxfp4_tensor(const hf::SafetensorsCheckpoint& checkpoint, const std::string& name,
                                torch::ScalarType dtype, const torch::Device& device, int64_t dim, int64_t start,
                                int64_t length) {
  const Mxfp4Parts parts = mxfp4_parts(checkpoint, name);
  const std::vector<int64_t> inner(parts.shape.begin() + 1, parts.shape.end());  // one leading index
  std::vector<int64_t> shape = parts.shape;
  if (dim >= 0) {
    if (dim < 1 || dim >= static_cast<int64_t>(shape.size()) || start < 0 || length < 0 ||
        start + length > shape[static_cast<size_t>(dim)])
      throw std::invalid_argument("load_mxfp4_tensor: elements " + std::to_string(start) + " + " +
                                  std::to_string(length) + " of dimension " + std::to_string(dim) + " of '" + name +
                                  "' " + shape_text(shape) + " (the leading dimension is not sliced)");
    shape[static_cast<size_t>(dim)] = length;
  }
  // Decoded one leading index (e.g. one expert) at a time into a float32 buffer, of which only
  // the requested slice is kept: the working memory beyond the result is that one buffer.
  torch::Tensor result = torch::empty(shape, torch::TensorOptions().dtype(dtype));
  const int64_t outer = parts.shape.front();
  const int64_t blocks_per_outer = outer == 0 ? 0 : static_cast<int64_t>(parts.scales.info->element_count()) / outer;
  torch::Tensor buffer = torch::empty(inner, torch::kFloat32);
  const auto* block_bytes = reinterpret_cast<const uint8_t*>(parts.blocks.data());
  const auto* scale_bytes = reinterpret_cast<const uint8_t*>(parts.scales.data());
  for (int64_t i = 0; i < outer; ++i) {
    hf::dequantize_mxfp4(block_bytes + i * blocks_per_outer * hf::kMxfp4BlockBytes, scale_bytes + i * blocks_per_outer,
                         blocks_per_outer, buffer.data_ptr<float>());
    result[i].copy_(dim >= 0 ? buffer.narrow(dim - 1, start, length) : buffer);
  }
  return device.is_cpu() ? result : result.to(device);
}

}  // namespace heretic::model
