// One column of a dataset file as the readers return it: a value per row, nullopt for null.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/suggest.h"

namespace heretic::data {

using StringColumn = std::vector<std::optional<std::string>>;

// The error for a column that a file does not have: names the file and lists its columns.
[[noreturn]] inline void throw_missing_column(const std::string& source, const std::string& column,
                                              const std::vector<std::string>& available) {
  if (available.empty())
    throw InputError(source + ": no column '" + column + "'; the file has no columns");
  throw InputError(source + ": no column '" + column + "'" + did_you_mean(column, available) +
                   "; the columns are " + quoted_list(available));
}

}  // namespace heretic::data
