// The parts of Parquet's Thrift metadata (parquet.thrift) that a reader of flat string columns
// needs: the footer (schema, row groups, column chunks) and page headers. Field numbers and
// enum values are those of the Apache Parquet format specification.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "data/thrift_compact.h"

namespace heretic::data::parquet {

enum class PhysicalType : int32_t {
  kBoolean = 0,
  kInt32 = 1,
  kInt64 = 2,
  kInt96 = 3,
  kFloat = 4,
  kDouble = 5,
  kByteArray = 6,
  kFixedLenByteArray = 7,
};
std::string physical_type_name(int32_t type);

enum class Repetition : int32_t { kRequired = 0, kOptional = 1, kRepeated = 2 };

enum class Codec : int32_t {
  kUncompressed = 0,
  kSnappy = 1,
  kGzip = 2,
  kLzo = 3,
  kBrotli = 4,
  kLz4 = 5,
  kZstd = 6,
  kLz4Raw = 7,
};
std::string codec_name(int32_t codec);

enum class Encoding : int32_t {
  kPlain = 0,
  kPlainDictionary = 2,
  kRle = 3,
  kBitPacked = 4,
  kDeltaBinaryPacked = 5,
  kDeltaLengthByteArray = 6,
  kDeltaByteArray = 7,
  kRleDictionary = 8,
  kByteStreamSplit = 9,
};
std::string encoding_name(int32_t encoding);

enum class PageType : int32_t {
  kDataPage = 0,
  kIndexPage = 1,
  kDictionaryPage = 2,
  kDataPageV2 = 3
};

struct SchemaElement {
  std::optional<int32_t> type;  // PhysicalType; absent for groups
  std::optional<int32_t> repetition;
  std::string name;
  int32_t num_children = 0;
  std::optional<int32_t> converted_type;
};

struct ColumnChunk {
  bool has_metadata = false;
  bool encrypted = false;
  std::string file_path;  // non-empty: the chunk lives in another file (not supported)
  int32_t type = 0;
  int32_t codec = 0;
  std::vector<std::string> path_in_schema;
  int64_t num_values = 0;
  int64_t total_compressed_size = 0;
  int64_t data_page_offset = 0;
  std::optional<int64_t> dictionary_page_offset;
};

struct RowGroup {
  std::vector<ColumnChunk> columns;
  int64_t num_rows = 0;
};

struct FileMetaData {
  std::vector<SchemaElement> schema;  // depth-first, element 0 is the root
  int64_t num_rows = 0;
  std::vector<RowGroup> row_groups;
  bool encrypted = false;  // encryption_algorithm present (plaintext footer, encrypted columns)
};

struct DataPageHeader {  // v1 and v2 in one
  int32_t num_values = 0;
  int32_t num_nulls = 0;  // v2 only
  int32_t encoding = 0;
  int32_t definition_level_encoding = static_cast<int32_t>(Encoding::kRle);  // v1 only
  int32_t definition_levels_byte_length = 0;                                 // v2 only
  int32_t repetition_levels_byte_length = 0;                                 // v2 only
  bool is_compressed = true;                                                 // v2 only
};

struct DictionaryPageHeader {
  int32_t num_values = 0;
  int32_t encoding = 0;
};

struct PageHeader {
  int32_t type = 0;
  int32_t uncompressed_page_size = 0;
  int32_t compressed_page_size = 0;
  std::optional<DataPageHeader> data_page;
  std::optional<DictionaryPageHeader> dictionary_page;
  size_t header_size = 0;  // bytes the header itself took
};

// Parses the footer's FileMetaData struct.
FileMetaData parse_file_metadata(ThriftCompactReader& reader);

// Parses one page header at the reader's position.
PageHeader parse_page_header(ThriftCompactReader& reader);

}  // namespace heretic::data::parquet
