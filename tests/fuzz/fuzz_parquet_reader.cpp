#include "common/error.h"
#include "data/parquet_reader.h"
#include "fuzz_targets.h"

namespace heretic::fuzz {

int fuzz_parquet_reader(const uint8_t* data, size_t size) {
  // A lower value limit than the default keeps a corrupt header from costing seconds per input.
  data::ParquetReadLimits limits;
  limits.max_values = 1 << 20;
  try {
    const data::ParquetFile file(std::vector<uint8_t>(data, data + size), "fuzz.parquet", limits);
    for (const std::string& column : file.column_names()) {
      // The whole column, then a slice as load_prompts asks for one (skipping row groups and
      // pages); InputError is expected for non-string, nested and corrupt columns.
      try {
        file.read_string_column(column);
      } catch (const InputError&) {
      }
      try {
        file.read_string_column(column, nullptr, 17, 40);
      } catch (const InputError&) {
      }
    }
  } catch (const InputError&) {
  }
  return 0;
}

}  // namespace heretic::fuzz
