#include "data/csv_reader.h"

namespace heretic::data {
namespace {

// One field during parsing: its text, and whether it was quoted (a quoted "" is an empty
// string, not a null).
struct Field {
  std::string text;
  bool quoted = false;
};

}  // namespace

CsvTable parse_csv(std::string_view text, const std::string& source) {
  // A UTF-8 byte-order mark is not part of the first column's name.
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  std::vector<std::vector<Field>> rows;
  std::vector<size_t> row_lines;  // 1-based line where each record starts
  std::vector<Field> record;
  Field field;
  size_t line = 1, record_line = 1;
  size_t i = 0;
  bool at_field_start = true;
  const auto end_record = [&] {
    record.push_back(std::move(field));
    field = Field{};
    // A line with nothing on it is not a record (RFC 4180 files may end with an empty line).
    if (!(record.size() == 1 && record[0].text.empty() && !record[0].quoted)) {
      rows.push_back(std::move(record));
      row_lines.push_back(record_line);
    }
    record.clear();
    at_field_start = true;
  };
  while (i < text.size()) {
    const char c = text[i];
    if (at_field_start && c == '"') {
      // Quoted field: runs to the closing quote; "" inside stands for one quote.
      field.quoted = true;
      const size_t open_line = line;
      ++i;
      while (true) {
        if (i >= text.size()) {
          throw InputError(source + ": line " + std::to_string(open_line) +
                           ": quoted field is never closed");
        }
        if (text[i] == '"') {
          if (i + 1 < text.size() && text[i + 1] == '"') {
            field.text += '"';
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        if (text[i] == '\n') ++line;
        field.text += text[i++];
      }
      at_field_start = false;
      if (i < text.size() && text[i] != ',' && text[i] != '\n' && text[i] != '\r') {
        throw InputError(source + ": line " + std::to_string(line) +
                         ": unexpected character after a closing quote (a quote inside a quoted "
                         "field must be doubled: \"\")");
      }
      continue;
    }
    if (c == ',') {
      record.push_back(std::move(field));
      field = Field{};
      at_field_start = true;
      ++i;
      continue;
    }
    if (c == '\r' || c == '\n') {
      end_record();
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      ++i;
      ++line;
      record_line = line;
      continue;
    }
    if (field.quoted) {
      throw InputError(source + ": line " + std::to_string(line) +
                       ": unexpected character after a closing quote");
    }
    field.text += c;
    at_field_start = false;
    ++i;
  }
  if (!record.empty() || !field.text.empty() || field.quoted) end_record();

  CsvTable table;
  if (rows.empty()) return table;
  for (Field& name : rows[0]) table.header.push_back(std::move(name.text));
  for (size_t r = 1; r < rows.size(); ++r) {
    if (rows[r].size() != table.header.size()) {
      throw InputError(source + ": line " + std::to_string(row_lines[r]) + ": record has " +
                       std::to_string(rows[r].size()) + " fields but the header has " +
                       std::to_string(table.header.size()));
    }
    std::vector<std::optional<std::string>> values;
    values.reserve(rows[r].size());
    for (Field& value : rows[r]) {
      if (value.text.empty()) {
        values.emplace_back(std::nullopt);
      } else {
        values.emplace_back(std::move(value.text));
      }
    }
    table.records.push_back(std::move(values));
  }
  return table;
}

StringColumn read_csv_column(std::string_view text, const std::string& source,
                             const std::string& column) {
  CsvTable table = parse_csv(text, source);
  size_t index = table.header.size();
  for (size_t i = 0; i < table.header.size(); ++i) {
    if (table.header[i] == column) {
      index = i;
      break;
    }
  }
  if (index == table.header.size()) throw_missing_column(source, column, table.header);
  StringColumn values;
  values.reserve(table.records.size());
  for (auto& record : table.records) values.push_back(std::move(record[index]));
  return values;
}

}  // namespace heretic::data
