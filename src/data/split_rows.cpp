#include "data/split_rows.h"

#include <algorithm>

#include "common/error.h"
#include "data/dataset_file.h"

namespace heretic::data {

SplitRows::SplitRows(const std::vector<std::filesystem::path>& files, const std::string& column,
                     bool text_files_need_column_text)
    : column_(column) {
  for (const std::filesystem::path& file : files) {
    Part part;
    part.path = file;
    const auto format = dataset_format_from_name(file).value_or(DatasetFileFormat::kText);
    if (format == DatasetFileFormat::kParquet) {
      part.parquet.emplace(ParquetFile::open(file));
      // An empty range decodes nothing but checks that the column exists and holds strings.
      part.parquet->read_string_column(column, nullptr, 0, 0);
      if (part.parquet->num_rows() < 0) throw InputError(file.string() + ": negative row count");
      part.rows = static_cast<size_t>(part.parquet->num_rows());
    } else {
      if (format == DatasetFileFormat::kText && text_files_need_column_text && column != "text") {
        throw_missing_column(file.string(), column, {"text"});
      }
      part.values = read_dataset_file_column(file, format, column);
      part.rows = part.values.size();
    }
    total_rows_ += part.rows;
    parts_.push_back(std::move(part));
  }
}

StringColumn SplitRows::read(size_t from, size_t to) const {
  StringColumn values;
  size_t offset = 0;  // split row index of the part's first row
  for (const Part& part : parts_) {
    const size_t begin = std::max(from, offset), end = std::min(to, offset + part.rows);
    if (begin < end) {
      const size_t local_begin = begin - offset, local_end = end - offset;
      if (part.parquet) {
        StringColumn read = part.parquet->read_string_column(
            column_, nullptr, static_cast<int64_t>(local_begin), static_cast<int64_t>(local_end));
        if (read.size() != local_end - local_begin) {
          throw InputError(part.path.string() + ": the footer declares " +
                           std::to_string(part.rows) + " rows but the row groups hold fewer");
        }
        check_column_utf8(read, part.path.string(), column_, local_begin);
        values.insert(values.end(), std::make_move_iterator(read.begin()),
                      std::make_move_iterator(read.end()));
      } else {
        values.insert(values.end(), part.values.begin() + static_cast<std::ptrdiff_t>(local_begin),
                      part.values.begin() + static_cast<std::ptrdiff_t>(local_end));
      }
    }
    offset += part.rows;
  }
  return values;
}

}  // namespace heretic::data
