#include <string_view>

#include "common/error.h"
#include "data/dataset_file.h"
#include "data/split_spec.h"
#include "fuzz_targets.h"

namespace heretic::fuzz {

int fuzz_text_readers(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  try {
    switch (data[0] % 5) {
      case 0:
        data::read_dataset_bytes_column(input, data::DatasetFileFormat::kCsv, "fuzz.csv", "text");
        break;
      case 1:
        data::read_dataset_bytes_column(input, data::DatasetFileFormat::kJsonLines, "fuzz.jsonl",
                                        "text");
        break;
      case 2:
        data::read_dataset_bytes_column(input, data::DatasetFileFormat::kJson, "fuzz.json", "text");
        break;
      case 3:
        data::read_dataset_bytes_column(input, data::DatasetFileFormat::kText, "fuzz.txt", "");
        break;
      default:
        data::resolve_split_spec(std::string(input), {{"train", 400}, {"test", 7}}, "fuzz split");
        break;
    }
  } catch (const InputError&) {
  }
  return 0;
}

}  // namespace heretic::fuzz
