// The safetensors file format, without torch: header parsing and strict validation.
//
// Layout (https://huggingface.co/docs/safetensors): 8 bytes little-endian u64 N, then N bytes
// of UTF-8 JSON {"name": {"dtype": "BF16", "shape": [..], "data_offsets": [begin, end]}, ...,
// "__metadata__": {"k": "v"}}, then the data section. Offsets are relative to the data section.
// Validation follows the reference implementation: offsets inside the file, tensors tile the
// data section exactly (no overlap, no gap, no trailing bytes), byte sizes agree with
// dtype x shape. Every violation is an InputError naming the file and the tensor or byte offset.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace heretic::hf {

// Element types this program reads: the three it computes with (BF16, F16, F32) and the
// storage types of quantised checkpoints (float8 values, U8 for MXFP4 blocks and scales),
// which are dequantised on load (quantized_formats.h). The format knows more (F64, I64, ...);
// those are recognised by name and rejected with a clear message.
enum class DType { kBF16, kF16, kF32, kF8E4M3, kF8E5M2, kU8 };

const char* dtype_name(DType dtype);  // "BF16", "F16", "F32", "F8_E4M3", ... (safetensors spelling)
// True for BF16, F16 and F32: a tensor of one of these can be used as it is stored.
bool is_compute_dtype(DType dtype);
size_t dtype_size(DType dtype);       // bytes per element
// Parses the safetensors spelling; nullopt for any other string (supported or not).
std::optional<DType> parse_dtype(const std::string& name);

// The largest header accepted (the reference implementation's limit, 100 MB).
constexpr uint64_t kMaxHeaderBytes = 100'000'000;

struct TensorInfo {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;
  uint64_t begin = 0;  // byte offset inside the data section
  uint64_t end = 0;    // one past the last byte
  uint64_t byte_size() const { return end - begin; }
  uint64_t element_count() const;
};

struct SafetensorsHeader {
  uint64_t data_start = 0;          // byte offset of the data section in the file (8 + N)
  std::vector<TensorInfo> tensors;  // in data-offset order
  std::map<std::string, std::string> metadata;
};

// Validates the first bytes of a file of `file_size` bytes (at least the 8-byte prefix and the
// header must be present in `bytes`; the data section is only checked against file_size).
// `file_label` names the file in error messages.
SafetensorsHeader parse_safetensors_header(const std::byte* bytes, uint64_t available_bytes, uint64_t file_size,
                                           const std::string& file_label);

}  // namespace heretic::hf
