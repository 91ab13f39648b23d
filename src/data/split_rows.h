// The rows of one split of a dataset: its files in order, read so that a slice decodes only
// what it needs. Parquet files give their row count from the footer, and only the row groups
// a slice touches are decoded (a "train[:400]" of a million-row split reads one row group);
// text, JSON and CSV files are parsed whole.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "data/parquet_reader.h"
#include "data/string_column.h"

namespace heretic::data {

class SplitRows {
 public:
  // Opens every file and checks that it has `column` (ignored for plain text files, whose one
  // column is "text" when `text_files_need_column_text`, as in a dataset folder).
  SplitRows(const std::vector<std::filesystem::path>& files, const std::string& column,
            bool text_files_need_column_text);

  size_t size() const { return total_rows_; }
  // Rows [from, to) of the split (to <= size()), checked to be valid UTF-8.
  StringColumn read(size_t from, size_t to) const;

 private:
  struct Part {
    std::filesystem::path path;
    std::optional<ParquetFile> parquet;  // set for Parquet files, decoded on demand
    StringColumn values;                 // other formats, parsed whole
    size_t rows = 0;
  };
  std::vector<Part> parts_;
  std::string column_;
  size_t total_rows_ = 0;
};

}  // namespace heretic::data
