#include "hf/safetensors_format.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <vector>

#include "common/error.h"

namespace heretic::hf {
namespace {

// Format dtypes that are valid safetensors but that this program does not compute with.
const std::vector<std::string> kKnownUnsupportedDtypes = {"F64",  "I64",     "I32",     "I16",     "I8", "U64", "U32",
                                                          "U16",  "BOOL",    "F8_E8M0", "F6_E2M3", "F6_E3M2", "F4",
                                                          "C64"};

// Header JSON is an object of objects of arrays: depth 3 is all a valid header needs. Limiting
// nesting keeps a hostile file from exhausting the parser's stack.
constexpr int kMaxJsonDepth = 4;

[[noreturn]] void fail(const std::string& file_label, const std::string& what) {
  throw InputError(file_label + ": invalid safetensors file: " + what);
}

uint64_t read_le_u64(const std::byte* bytes) {
  uint64_t value = 0;
  for (int i = 7; i >= 0; --i) value = (value << 8) | static_cast<uint8_t>(bytes[i]);
  return value;
}

// Parses with a callback that rejects duplicate keys (nlohmann keeps the last silently) and
// deep nesting.
nlohmann::json parse_header_json(const char* text, size_t size, const std::string& file_label) {
  std::vector<std::set<std::string>> keys_per_object;
  std::string duplicate;
  bool too_deep = false;
  auto callback = [&](int depth, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    using Event = nlohmann::json::parse_event_t;
    if (depth > kMaxJsonDepth) too_deep = true;
    if (event == Event::object_start) keys_per_object.emplace_back();
    if (event == Event::object_end && !keys_per_object.empty()) keys_per_object.pop_back();
    if (event == Event::key && !keys_per_object.empty()) {
      const std::string key = parsed.get<std::string>();
      if (!keys_per_object.back().insert(key).second && duplicate.empty()) duplicate = key;
    }
    return !too_deep && duplicate.empty();
  };
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(text, text + size, callback);
  } catch (const nlohmann::json::parse_error& error) {
    // error.byte counts from 1 inside the header; the header starts at file byte 8.
    fail(file_label, "header JSON does not parse at file byte " +
                         std::to_string(8 + (error.byte > 0 ? error.byte - 1 : 0)) + " (" + error.what() + ")");
  } catch (const nlohmann::json::exception& error) {  // out_of_range: a number too large for a double
    fail(file_label, std::string("header JSON does not parse (") + error.what() + ")");
  }
  if (too_deep) fail(file_label, "header JSON nests deeper than a safetensors header can");
  if (!duplicate.empty()) fail(file_label, "header names '" + duplicate + "' twice");
  return header;
}

std::vector<int64_t> parse_shape(const nlohmann::json& entry, const std::string& name, const std::string& file_label) {
  const auto it = entry.find("shape");
  if (it == entry.end() || !it->is_array()) fail(file_label, "tensor '" + name + "' has no \"shape\" array");
  std::vector<int64_t> shape;
  for (const auto& dim : *it) {
    if (!dim.is_number_unsigned())
      fail(file_label, "tensor '" + name + "' has a shape entry that is not a non-negative integer: " + dim.dump());
    const uint64_t value = dim.get<uint64_t>();
    if (value > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      fail(file_label, "tensor '" + name + "' has an impossibly large dimension " + dim.dump());
    shape.push_back(static_cast<int64_t>(value));
  }
  return shape;
}

TensorInfo parse_tensor_entry(const std::string& name, const nlohmann::json& entry, uint64_t data_size,
                              const std::string& file_label) {
  if (!entry.is_object()) fail(file_label, "entry '" + name + "' is not a JSON object");
  for (const auto& item : entry.items()) {
    if (item.key() != "dtype" && item.key() != "shape" && item.key() != "data_offsets")
      fail(file_label, "tensor '" + name + "' has an unknown field '" + item.key() + "'");
  }
  TensorInfo info;
  info.name = name;

  const auto dtype_it = entry.find("dtype");
  if (dtype_it == entry.end() || !dtype_it->is_string())
    fail(file_label, "tensor '" + name + "' has no \"dtype\" string");
  const std::string dtype_text = dtype_it->get<std::string>();
  const auto dtype = parse_dtype(dtype_text);
  if (!dtype) {
    const bool known = std::find(kKnownUnsupportedDtypes.begin(), kKnownUnsupportedDtypes.end(), dtype_text) !=
                       kKnownUnsupportedDtypes.end();
    fail(file_label, "tensor '" + name + "' has " + (known ? "unsupported" : "unknown") + " dtype '" + dtype_text +
                         "' (supported: BF16, F16, F32, F8_E4M3, F8_E5M2, U8)");
  }
  info.dtype = *dtype;
  info.shape = parse_shape(entry, name, file_label);

  const auto offsets_it = entry.find("data_offsets");
  if (offsets_it == entry.end() || !offsets_it->is_array() || offsets_it->size() != 2 ||
      !(*offsets_it)[0].is_number_unsigned() || !(*offsets_it)[1].is_number_unsigned())
    fail(file_label, "tensor '" + name + "' needs \"data_offsets\": [begin, end] (non-negative)");
  info.begin = (*offsets_it)[0].get<uint64_t>();
  info.end = (*offsets_it)[1].get<uint64_t>();
  if (info.begin > info.end)
    fail(file_label, "tensor '" + name + "' has data_offsets begin " + std::to_string(info.begin) + " after end " +
                         std::to_string(info.end));
  if (info.end > data_size)
    fail(file_label, "tensor '" + name + "' ends at data byte " + std::to_string(info.end) +
                         " but the data section holds only " + std::to_string(data_size) + " bytes (file truncated?)");

  // element count x element size, with overflow checks: a hostile shape must not wrap around.
  uint64_t bytes = dtype_size(info.dtype);
  for (const int64_t dim : info.shape) {
    const auto udim = static_cast<uint64_t>(dim);
    if (udim != 0 && bytes > std::numeric_limits<uint64_t>::max() / udim)
      fail(file_label, "tensor '" + name + "' has a shape whose byte size overflows");
    bytes *= udim;
  }
  if (bytes != info.byte_size())
    fail(file_label, "tensor '" + name + "' has shape and dtype " + dtype_text + " needing " + std::to_string(bytes) +
                         " bytes but data_offsets span " + std::to_string(info.byte_size()));
  return info;
}

}  // namespace

const char* dtype_name(DType dtype) {
  switch (dtype) {
    case DType::kBF16:
      return "BF16";
    case DType::kF16:
      return "F16";
    case DType::kF32:
      return "F32";
    case DType::kF8E4M3:
      return "F8_E4M3";
    case DType::kF8E5M2:
      return "F8_E5M2";
    case DType::kU8:
      return "U8";
  }
  return "?";
}

bool is_compute_dtype(DType dtype) {
  return dtype == DType::kBF16 || dtype == DType::kF16 || dtype == DType::kF32;
}

size_t dtype_size(DType dtype) {
  switch (dtype) {
    case DType::kBF16:
      return 2;
    case DType::kF16:
      return 2;
    case DType::kF32:
      return 4;
    case DType::kF8E4M3:
    case DType::kF8E5M2:
    case DType::kU8:
      return 1;
  }
  return 0;
}

std::optional<DType> parse_dtype(const std::string& name) {
  if (name == "BF16") return DType::kBF16;
  if (name == "F16") return DType::kF16;
  if (name == "F32") return DType::kF32;
  if (name == "F8_E4M3") return DType::kF8E4M3;
  if (name == "F8_E5M2") return DType::kF8E5M2;
  if (name == "U8") return DType::kU8;
  return std::nullopt;
}

uint64_t TensorInfo::element_count() const {
  uint64_t count = 1;
  for (const int64_t dim : shape) count *= static_cast<uint64_t>(dim);
  return count;
}

SafetensorsHeader parse_safetensors_header(const std::byte* bytes, uint64_t available_bytes, uint64_t file_size,
                                           const std::string& file_label) {
  if (file_size < 8)
    fail(file_label, "the file has " + std::to_string(file_size) + " bytes, fewer than the 8-byte header length");
  if (available_bytes < 8) fail(file_label, "internal: header length not readable");
  const uint64_t header_size = read_le_u64(bytes);
  if (header_size > kMaxHeaderBytes)
    fail(file_label, "header length " + std::to_string(header_size) + " (bytes 0-7) exceeds the " +
                         std::to_string(kMaxHeaderBytes) + "-byte limit");
  if (8 + header_size > file_size)
    fail(file_label, "header length " + std::to_string(header_size) + " (bytes 0-7) runs past the end of the " +
                         std::to_string(file_size) + "-byte file (file truncated?)");
  if (8 + header_size > available_bytes) fail(file_label, "internal: header not fully readable");
  const char* text = reinterpret_cast<const char*>(bytes + 8);
  if (header_size == 0 || text[0] != '{') fail(file_label, "header (file byte 8) does not start with '{'");

  const nlohmann::json header = parse_header_json(text, header_size, file_label);
  if (!header.is_object()) fail(file_label, "header JSON is not an object");

  SafetensorsHeader result;
  result.data_start = 8 + header_size;
  const uint64_t data_size = file_size - result.data_start;
  for (const auto& item : header.items()) {
    if (item.key() == "__metadata__") {
      if (!item.value().is_object()) fail(file_label, "__metadata__ is not an object");
      for (const auto& meta : item.value().items()) {
        if (!meta.value().is_string()) fail(file_label, "__metadata__ value of '" + meta.key() + "' is not a string");
        result.metadata[meta.key()] = meta.value().get<std::string>();
      }
      continue;
    }
    result.tensors.push_back(parse_tensor_entry(item.key(), item.value(), data_size, file_label));
  }

  // Tensors must tile the data section: sorted by offset, each starts where the previous ended.
  std::sort(result.tensors.begin(), result.tensors.end(), [](const TensorInfo& a, const TensorInfo& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  uint64_t expected_begin = 0;
  const TensorInfo* previous = nullptr;
  for (const TensorInfo& tensor : result.tensors) {
    if (tensor.begin < expected_begin)
      fail(file_label, "tensors '" + previous->name + "' and '" + tensor.name + "' overlap at data byte " +
                           std::to_string(tensor.begin));
    if (tensor.begin > expected_begin)
      fail(file_label, "data bytes " + std::to_string(expected_begin) + ".." + std::to_string(tensor.begin) +
                           " before tensor '" + tensor.name + "' belong to no tensor");
    expected_begin = tensor.end;
    previous = &tensor;
  }
  if (expected_begin != data_size)
    fail(file_label, "the data section has " + std::to_string(data_size - expected_begin) +
                         " bytes after the last tensor (ends at data byte " + std::to_string(expected_begin) + " of " +
                         std::to_string(data_size) + ")");
  return result;
}

}  // namespace heretic::hf
