// CSV files as RFC 4180 defines them: comma-separated fields, records ending in CRLF or LF,
// fields in double quotes may contain commas, line breaks and doubled quotes (""). The first
// record is the header that names the columns. An empty field is a null, as the datasets
// library (through pandas) reads it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "data/string_column.h"

namespace heretic::data {

struct CsvTable {
  std::vector<std::string> header;
  std::vector<std::vector<std::optional<std::string>>> records;  // each as long as the header
};

// Parses `text`; `source` names it in errors, which give the line of the offending record.
CsvTable parse_csv(std::string_view text, const std::string& source);

// The values of column `column` (InputError listing the columns when it is missing).
StringColumn read_csv_column(std::string_view text, const std::string& source,
                             const std::string& column);

}  // namespace heretic::data
