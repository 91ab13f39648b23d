// A Parquet reader for what prompt datasets use: flat BYTE_ARRAY (UTF-8 string) columns in
// any number of row groups, data pages v1 and v2, PLAIN, dictionary (PLAIN_DICTIONARY,
// RLE_DICTIONARY) and delta (DELTA_LENGTH_BYTE_ARRAY, DELTA_BYTE_ARRAY) encodings, definition
// levels of optional columns, and the codecs UNCOMPRESSED, SNAPPY, GZIP and ZSTD. Anything else
// (nested columns, other physical types in the selected column, other encodings or codecs,
// encryption) is an InputError that names it.
#pragma once

#include <climits>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "data/parquet_metadata.h"

namespace heretic::data {

// What reading a column met: lets tests (and curious users) check what a file holds.
struct ParquetColumnLayout {
  size_t row_groups = 0;
  size_t dictionary_pages = 0;
  size_t data_pages_v1 = 0;
  size_t data_pages_v2 = 0;
  std::set<std::string> codecs;     // e.g. "ZSTD"
  std::set<std::string> encodings;  // value encodings of data pages, e.g. "RLE_DICTIONARY"
};

struct ParquetReadLimits {
  // A corrupt file can claim any number of values; a prompt dataset has far fewer than this.
  int64_t max_values = int64_t{1} << 26;
};

class ParquetFile {
 public:
  // Reads the file at `path` (whole; prompt datasets are small) and parses its footer.
  static ParquetFile open(const std::filesystem::path& path, ParquetReadLimits limits = {});
  // Parses `bytes`; `source` names them in error messages.
  ParquetFile(std::vector<uint8_t> bytes, std::string source, ParquetReadLimits limits = {});

  int64_t num_rows() const { return metadata_.num_rows; }
  // Top-level column names in schema order.
  std::vector<std::string> column_names() const;
  // The values of top-level column `name`, one per row (nullopt for nulls). Values are the raw
  // bytes; UTF-8 validity is checked by the caller, which knows how to name a row.
  // Only rows [row_begin, row_end) are returned (clamped to the file); row groups outside that
  // range are not decoded. `layout`, if given, receives what the decoded pages looked like.
  std::vector<std::optional<std::string>> read_string_column(const std::string& name,
                                                             ParquetColumnLayout* layout = nullptr,
                                                             int64_t row_begin = 0,
                                                             int64_t row_end = INT64_MAX) const;

 private:
  struct Leaf {
    size_t schema_index = 0;  // in metadata_.schema
    size_t column_index = 0;  // position among leaves = index of its ColumnChunk in a row group
    int top_level = -1;       // index of the top-level field it belongs to
    int max_definition_level = 0;
    int max_repetition_level = 0;
  };
  void index_schema();
  // Appends values [want_begin, want_end) of the chunk to `out`; data pages before want_begin
  // are skipped undecoded (their headers give their value counts), and reading stops at
  // want_end.
  void read_chunk(const parquet::ColumnChunk& chunk, const Leaf& leaf, const std::string& column,
                  int64_t want_begin, int64_t want_end, int64_t& values_budget,
                  std::vector<std::optional<std::string>>& out, ParquetColumnLayout& layout) const;

  std::vector<uint8_t> bytes_;
  std::string source_;
  ParquetReadLimits limits_;
  parquet::FileMetaData metadata_;
  std::vector<size_t> top_level_fields_;  // schema indices of the root's children
  std::vector<Leaf> leaves_;
};

}  // namespace heretic::data
