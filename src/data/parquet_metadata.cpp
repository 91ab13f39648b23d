#include "data/parquet_metadata.h"

namespace heretic::data::parquet {
namespace {

// Calls `on_field(header)` for every field of the struct at the reader's position; the callback
// returns false for fields it does not read, which are then skipped.
template <typename OnField>
void read_struct(ThriftCompactReader& reader, OnField on_field) {
  reader.begin_struct();
  for (ThriftFieldHeader field = reader.read_field_header(); field.type != ThriftType::kStop;
       field = reader.read_field_header()) {
    if (!on_field(field)) reader.skip(field.type);
  }
  reader.end_struct();
}

bool is(const ThriftFieldHeader& field, int16_t id, ThriftType type) {
  return field.id == id && field.type == type;
}

bool is_bool(const ThriftFieldHeader& field, int16_t id) {
  return field.id == id &&
         (field.type == ThriftType::kBoolTrue || field.type == ThriftType::kBoolFalse);
}

template <typename OnElement>
void read_list(ThriftCompactReader& reader, ThriftType expected, OnElement on_element) {
  const ThriftListHeader list = reader.read_list_header();
  if (list.element_type != expected && list.size > 0) {
    reader.fail("list of unexpected element type " +
                std::to_string(static_cast<int>(list.element_type)));
  }
  for (uint32_t i = 0; i < list.size; ++i) on_element();
}

SchemaElement parse_schema_element(ThriftCompactReader& reader) {
  SchemaElement element;
  read_struct(reader, [&](const ThriftFieldHeader& field) {
    if (is(field, 1, ThriftType::kI32)) {
      element.type = reader.read_i32();
    } else if (is(field, 3, ThriftType::kI32)) {
      element.repetition = reader.read_i32();
    } else if (is(field, 4, ThriftType::kBinary)) {
      element.name = reader.read_string();
    } else if (is(field, 5, ThriftType::kI32)) {
      element.num_children = reader.read_i32();
    } else if (is(field, 6, ThriftType::kI32)) {
      element.converted_type = reader.read_i32();
    } else {
      return false;
    }
    return true;
  });
  return element;
}

void parse_column_metadata(ThriftCompactReader& reader, ColumnChunk& chunk) {
  chunk.has_metadata = true;
  read_struct(reader, [&](const ThriftFieldHeader& field) {
    if (is(field, 1, ThriftType::kI32)) {
      chunk.type = reader.read_i32();
    } else if (is(field, 3, ThriftType::kList)) {
      read_list(reader, ThriftType::kBinary,
                [&] { chunk.path_in_schema.push_back(reader.read_string()); });
    } else if (is(field, 4, ThriftType::kI32)) {
      chunk.codec = reader.read_i32();
    } else if (is(field, 5, ThriftType::kI64)) {
      chunk.num_values = reader.read_i64();
    } else if (is(field, 7, ThriftType::kI64)) {
      chunk.total_compressed_size = reader.read_i64();
    } else if (is(field, 9, ThriftType::kI64)) {
      chunk.data_page_offset = reader.read_i64();
    } else if (is(field, 11, ThriftType::kI64)) {
      chunk.dictionary_page_offset = reader.read_i64();
    } else {
      return false;
    }
    return true;
  });
}

ColumnChunk parse_column_chunk(ThriftCompactReader& reader) {
  ColumnChunk chunk;
  read_struct(reader, [&](const ThriftFieldHeader& field) {
    if (is(field, 1, ThriftType::kBinary)) {
      chunk.file_path = reader.read_string();
    } else if (is(field, 3, ThriftType::kStruct)) {
      parse_column_metadata(reader, chunk);
    } else if (field.id == 8 || field.id == 9) {  // crypto_metadata, encrypted_column_metadata
      chunk.encrypted = true;
      return false;
    } else {
      return false;
    }
    return true;
  });
  return chunk;
}

RowGroup parse_row_group(ThriftCompactReader& reader) {
  RowGroup group;
  read_struct(reader, [&](const ThriftFieldHeader& field) {
    if (is(field, 1, ThriftType::kList)) {
      read_list(reader, ThriftType::kStruct,
                [&] { group.columns.push_back(parse_column_chunk(reader)); });
    } else if (is(field, 3, ThriftType::kI64)) {
      group.num_rows = reader.read_i64();
    } else {
      return false;
    }
    return true;
  });
  return group;
}

DataPageHeader parse_data_page_header(ThriftCompactReader& reader, bool v2) {
  DataPageHeader page;
  read_struct(reader, [&](const ThriftFieldHeader& field) {
    if (field.type == ThriftType::kI32) {
      const int32_t value = reader.read_i32();
      if (field.id == 1) page.num_values = value;
      if (!v2 && field.id == 2) page.encoding = value;
      if (!v2 && field.id == 3) page.definition_level_encoding = value;
      if (v2 && field.id == 2) page.num_nulls = value;
      if (v2 && field.id == 4) page.encoding = value;
      if (v2 && field.id == 5) page.definition_levels_byte_length = value;
      if (v2 && field.id == 6) page.repetition_levels_byte_length = value;
      return true;
    }
    if (v2 && is_bool(field, 7)) {
      page.is_compressed = reader.read_bool(field);
      return true;
    }
    return false;
  });
  return page;
}

DictionaryPageHeader parse_dictionary_page_header(ThriftCompactReader& reader) {
  DictionaryPageHeader page;
  read_struct(reader, [&](const ThriftFieldHeader& field) {
    if (is(field, 1, ThriftType::kI32)) {
      page.num_values = reader.read_i32();
    } else if (is(field, 2, ThriftType::kI32)) {
      page.encoding = reader.read_i32();
    } else {
      return false;
    }
    return true;
  });
  return page;
}

}  // namespace

std::string physical_type_name(int32_t type) {
  static const char* const kNames[] = {"BOOLEAN", "INT32",  "INT64",      "INT96",
                                       "FLOAT",   "DOUBLE", "BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY"};
  if (type >= 0 && type < 8) return kNames[type];
  return "type " + std::to_string(type);
}

std::string codec_name(int32_t codec) {
  static const char* const kNames[] = {"UNCOMPRESSED", "SNAPPY", "GZIP", "LZO",
                                       "BROTLI",       "LZ4",    "ZSTD", "LZ4_RAW"};
  if (codec >= 0 && codec < 8) return kNames[codec];
  return "codec " + std::to_string(codec);
}

std::string encoding_name(int32_t encoding) {
  static const char* const kNames[] = {
      "PLAIN",          "GROUP_VAR_INT",       "PLAIN_DICTIONARY",        "RLE",
      "BIT_PACKED",     "DELTA_BINARY_PACKED", "DELTA_LENGTH_BYTE_ARRAY", "DELTA_BYTE_ARRAY",
      "RLE_DICTIONARY", "BYTE_STREAM_SPLIT"};
  if (encoding >= 0 && encoding < 10) return kNames[encoding];
  return "encoding " + std::to_string(encoding);
}

FileMetaData parse_file_metadata(ThriftCompactReader& reader) {
  FileMetaData metadata;
  read_struct(reader, [&](const ThriftFieldHeader& field) {
    if (is(field, 2, ThriftType::kList)) {
      read_list(reader, ThriftType::kStruct,
                [&] { metadata.schema.push_back(parse_schema_element(reader)); });
    } else if (is(field, 3, ThriftType::kI64)) {
      metadata.num_rows = reader.read_i64();
    } else if (is(field, 4, ThriftType::kList)) {
      read_list(reader, ThriftType::kStruct,
                [&] { metadata.row_groups.push_back(parse_row_group(reader)); });
    } else if (field.id == 8) {  // encryption_algorithm
      metadata.encrypted = true;
      return false;
    } else {
      return false;
    }
    return true;
  });
  return metadata;
}

PageHeader parse_page_header(ThriftCompactReader& reader) {
  PageHeader header;
  const size_t start = reader.position();
  read_struct(reader, [&](const ThriftFieldHeader& field) {
    if (is(field, 1, ThriftType::kI32)) {
      header.type = reader.read_i32();
    } else if (is(field, 2, ThriftType::kI32)) {
      header.uncompressed_page_size = reader.read_i32();
    } else if (is(field, 3, ThriftType::kI32)) {
      header.compressed_page_size = reader.read_i32();
    } else if (is(field, 5, ThriftType::kStruct)) {
      header.data_page = parse_data_page_header(reader, /*v2=*/false);
    } else if (is(field, 7, ThriftType::kStruct)) {
      header.dictionary_page = parse_dictionary_page_header(reader);
    } else if (is(field, 8, ThriftType::kStruct)) {
      header.data_page = parse_data_page_header(reader, /*v2=*/true);
    } else {
      return false;
    }
    return true;
  });
  header.header_size = reader.position() - start;
  return header;
}

}  // namespace heretic::data::parquet
