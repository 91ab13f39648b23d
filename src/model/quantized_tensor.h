// Checkpoint tensors as the model uses them, whatever their storage: BF16/F16/F32 tensors
// through tensor_view.h, quantised ones (config.json quantization_config) dequantised on load,
// one tensor at a time (hf/quantized_formats.h has the formats).
#pragma once

#include <torch/utils.h>

#include <string>
#include <vector>

#include "hf/quantization_config.h"
#include "hf/safetensors_reader.h"

namespace heretic::model {

// A tensor shape as error messages print it: "[4096, 11008]".
std::string shape_text(const std::vector<int64_t>& shape);

// The checkpoint tensor `name` as `dtype` on `device`; with `dim` >= 0 only elements
// start .. start + length - 1 of that dimension (a tensor-parallel rank's slice). A float8
// tensor needs `quantization` to be block FP8 and a companion `<name>_scale_inv`; only the
// requested rows and columns and their scales are decoded, in chunks of block rows, so that
// the working memory beyond the result is one chunk in float32. Throws InputError naming the
// file and tensor for a missing or mis-shaped scale tensor or a float8 tensor in a checkpoint
// whose config.json declares no block FP8.
torch::Tensor load_weight_tensor(const hf::SafetensorsCheckpoint& checkpoint, const hf::QuantizationConfig& quantization,
                                 const std::string& name, torch::ScalarType dtype, const torch::Device& device,
                                 int64_t dim = -1, int64_t start = 0, int64_t length = 0);

// The MXFP4 tensor stored as `<name>_blocks` (U8 [..., rows, G, 16]) and `<name>_scales`
// (U8 [..., rows, G]), dequantised to [..., rows, 32 G] in `dtype` on `device`, one leading
// index (one expert) at a time; with `dim` >= 1 only elements start .. start + length - 1 of
// that dimension of the dequantised shape (a tensor-parallel rank's slice), so that the working
// memory beyond the result is one leading index in float32. The order is the file's; gpt-oss'
// loader transposes the last two dimensions into transformers' [E, in, out] layout
// (architectures.md §3.10). Throws InputError naming the file and tensor when either part is
// missing, not U8, or the shapes disagree.
torch::Tensor load_mxfp4_tensor(const hf::SafetensorsCheckpoint& checkpoint, const std::string& name,
                                torch::ScalarType dtype, const torch::Device& device, int64_t dim = -1,
                                int64_t start = 0, int64_t length = 0);

// The dequantised shape of that tensor, [..., rows, 32 G], from the headers alone (the same
// checks and errors as load_mxfp4_tensor).
std::vector<int64_t> mxfp4_shape(const hf::SafetensorsCheckpoint& checkpoint, const std::string& name);

}  // namespace heretic::model
