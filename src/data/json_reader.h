// JSON datasets as the datasets library's "json" builder reads them:
//   JSON Lines: one object per line ({"text": "..."}), blank lines ignored;
//   JSON: an array of such objects, or one object mapping column names to arrays of values.
// A key missing from a row is a null. A value in the selected column must be a string or null.
#pragma once

#include <string>
#include <string_view>

#include "data/string_column.h"

namespace heretic::data {

// Errors name `source` and the line (JSON Lines) or row index (JSON) of the offending value.
StringColumn read_jsonl_column(std::string_view text, const std::string& source,
                               const std::string& column);
StringColumn read_json_column(std::string_view text, const std::string& source,
                              const std::string& column);

}  // namespace heretic::data
