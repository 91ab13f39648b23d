#include <cstring>
#include <limits>

#include "common/error.h"
#include "fuzz_input.h"
#include "fuzz_targets.h"
#include "hf/safetensors_reader.h"
#include "hf/safetensors_writer.h"

namespace heretic::fuzz {
namespace {

// Writes the accepted tensor table with the project's writer and reads the file back: the
// writer must produce what the reader accepts, with the same table.
void check_round_trip(const hf::SafetensorsHeader& header) {
  std::vector<hf::TensorToWrite> tensors;
  uint64_t largest = 0;
  for (const hf::TensorInfo& info : header.tensors) largest = std::max(largest, info.byte_size());
  const std::vector<std::byte> zeros(static_cast<size_t>(largest));
  for (const hf::TensorInfo& info : header.tensors) {
    tensors.push_back({info.name, info.dtype, info.shape, zeros.data(), nullptr});
  }
  static const ScratchFolder folder("safetensors");
  const std::filesystem::path path = folder.path() / "round-trip.safetensors";
  hf::write_safetensors_file(path, tensors, header.metadata);
  const hf::SafetensorsFile reread(path);
  FUZZ_CHECK(reread.tensors().size() == header.tensors.size(), path.string());
  FUZZ_CHECK(reread.metadata() == header.metadata, "metadata differs after writing");
  // By name: tensors of zero bytes share an offset, so their order is not part of the file.
  for (const hf::TensorInfo& was : header.tensors) {
    const hf::TensorInfo* now = reread.find(was.name);
    FUZZ_CHECK(now != nullptr && now->dtype == was.dtype && now->shape == was.shape &&
                   now->begin == was.begin && now->end == was.end,
               "tensor '" + was.name + "' differs after writing");
  }
}

}  // namespace

int fuzz_safetensors_header(const uint8_t* data, size_t size) {
  if (size < 8) return 0;
  // The first 8 bytes (little endian) say how many bytes the file has beyond the rest of the
  // input: the data section is checked against the file size only, never read.
  uint64_t beyond = 0;
  for (int i = 7; i >= 0; --i) beyond = (beyond << 8) | data[i];
  const auto* bytes = reinterpret_cast<const std::byte*>(data + 8);
  const uint64_t available = size - 8;
  const uint64_t file_size =
      beyond > std::numeric_limits<uint64_t>::max() - available ? std::numeric_limits<uint64_t>::max()
                                                                 : available + beyond;
  hf::SafetensorsHeader header;
  try {
    header = hf::parse_safetensors_header(bytes, available, file_size, "fuzz.safetensors");
  } catch (const InputError&) {
    return 0;
  }
  // An accepted header describes the file exactly: tensors tile the data section and each
  // byte size is dtype size x element count.
  FUZZ_CHECK(header.data_start >= 8 && header.data_start <= file_size, std::to_string(header.data_start));
  uint64_t next = 0;
  for (const hf::TensorInfo& tensor : header.tensors) {
    FUZZ_CHECK(tensor.begin == next, tensor.name);
    FUZZ_CHECK(tensor.element_count() * hf::dtype_size(tensor.dtype) == tensor.byte_size(), tensor.name);
    next = tensor.end;
  }
  FUZZ_CHECK(header.data_start + next == file_size, "data section not covered");
  if (next <= (uint64_t{1} << 20)) check_round_trip(header);
  return 0;
}

}  // namespace heretic::fuzz
