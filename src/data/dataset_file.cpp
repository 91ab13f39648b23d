#include "data/dataset_file.h"

#include <algorithm>
#include <cctype>
#include <fstream>

#include "data/csv_reader.h"
#include "data/json_reader.h"
#include "data/parquet_reader.h"
#include "data/utf8_validation.h"

namespace heretic::data {
namespace {

std::string lowercase(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

std::string read_file_bytes(const std::filesystem::path& path) {
  std::ifstream stream(path, std::ios::binary | std::ios::ate);
  if (!stream) throw InputError(path.string() + ": cannot open the file");
  const std::streamoff size = stream.tellg();
  std::string bytes(static_cast<size_t>(std::max<std::streamoff>(size, 0)), '\0');
  stream.seekg(0);
  if (!stream.read(bytes.data(), size)) throw InputError(path.string() + ": read error");
  return bytes;
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

}  // namespace

void check_column_utf8(const StringColumn& values, const std::string& source,
                       const std::string& column, size_t first_row) {
  for (size_t i = 0; i < values.size(); ++i) {
    if (!values[i]) continue;
    if (const auto offset = find_invalid_utf8(*values[i])) {
      throw InputError(source + ": column '" + column + "', row index " +
                       std::to_string(first_row + i) + ": invalid UTF-8 at byte " +
                       std::to_string(*offset) + " of the value");
    }
  }
}

std::optional<DatasetFileFormat> dataset_format_from_name(const std::filesystem::path& path) {
  const std::string extension = lowercase(path.extension().string());
  if (extension == ".jsonl" || extension == ".ndjson") return DatasetFileFormat::kJsonLines;
  if (extension == ".json") return DatasetFileFormat::kJson;
  if (extension == ".csv") return DatasetFileFormat::kCsv;
  if (extension == ".parquet") return DatasetFileFormat::kParquet;
  return std::nullopt;
}

std::vector<std::string> read_text_lines(std::string_view text, const std::string& source) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  std::vector<std::string> lines;
  size_t line_number = 0;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = start;
    while (end < text.size() && text[end] != '\n' && text[end] != '\r') ++end;
    std::string_view line = text.substr(start, end - start);
    start = end + ((end + 1 < text.size() && text[end] == '\r' && text[end + 1] == '\n') ? 2 : 1);
    ++line_number;
    while (!line.empty() && is_space(line.front())) line.remove_prefix(1);
    while (!line.empty() && is_space(line.back())) line.remove_suffix(1);
    if (line.empty()) continue;
    if (const auto offset = find_invalid_utf8(line)) {
      throw InputError(source + ": line " + std::to_string(line_number) +
                       ": invalid UTF-8 at byte " + std::to_string(*offset) + " of the line");
    }
    lines.emplace_back(line);
  }
  return lines;
}

StringColumn read_dataset_bytes_column(std::string_view bytes, DatasetFileFormat format,
                                       const std::string& source, const std::string& column) {
  StringColumn values;
  switch (format) {
    case DatasetFileFormat::kText: {
      for (std::string& line : read_text_lines(bytes, source)) values.emplace_back(std::move(line));
      return values;  // validated line by line
    }
    case DatasetFileFormat::kJsonLines:
      values = read_jsonl_column(bytes, source, column);
      break;
    case DatasetFileFormat::kJson:
      values = read_json_column(bytes, source, column);
      break;
    case DatasetFileFormat::kCsv:
      values = read_csv_column(bytes, source, column);
      break;
    case DatasetFileFormat::kParquet: {
      const ParquetFile parquet(std::vector<uint8_t>(bytes.begin(), bytes.end()), source);
      values = parquet.read_string_column(column);
      break;
    }
  }
  check_column_utf8(values, source, column);
  return values;
}

StringColumn read_dataset_file_column(const std::filesystem::path& path, DatasetFileFormat format,
                                      const std::string& column) {
  if (format == DatasetFileFormat::kParquet) {
    StringColumn values = ParquetFile::open(path).read_string_column(column);
    check_column_utf8(values, path.string(), column);
    return values;
  }
  return read_dataset_bytes_column(read_file_bytes(path), format, path.string(), column);
}

}  // namespace heretic::data
