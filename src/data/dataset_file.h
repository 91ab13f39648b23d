// Reading one column of one dataset file, whatever its format: plain text (one prompt per
// line), JSON Lines, JSON, CSV or Parquet. The format comes from the file name's extension.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "data/string_column.h"

namespace heretic::data {

enum class DatasetFileFormat { kText, kJsonLines, kJson, kCsv, kParquet };

// The format for a file name: .jsonl/.ndjson, .json, .csv, .parquet; nullopt for anything else.
std::optional<DatasetFileFormat> dataset_format_from_name(const std::filesystem::path& path);

// Plain text as Heretic reads a prompt file: lines (split at LF, CRLF or CR) with surrounding
// whitespace stripped, empty lines dropped. Invalid UTF-8 is an InputError naming the line.
std::vector<std::string> read_text_lines(std::string_view text, const std::string& source);

// Reads `column` (ignored for kText) of the file at `path`. Nulls stay nullopt. Every value is
// checked to be valid UTF-8; an error names the file, column and row index.
StringColumn read_dataset_file_column(const std::filesystem::path& path, DatasetFileFormat format,
                                      const std::string& column);

// Throws InputError naming `source`, `column` and the row index (first_row + i) of the first
// value that is not valid UTF-8.
void check_column_utf8(const StringColumn& values, const std::string& source,
                       const std::string& column, size_t first_row = 0);

// The same on bytes already in memory (what the fuzz targets call).
StringColumn read_dataset_bytes_column(std::string_view bytes, DatasetFileFormat format,
                                       const std::string& source, const std::string& column);

}  // namespace heretic::data
