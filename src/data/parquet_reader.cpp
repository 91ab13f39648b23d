#include "data/parquet_reader.h"

#include <algorithm>
#include <cstring>
#include <fstream>

#include "common/error.h"
#include "common/suggest.h"
#include "data/parquet_codecs.h"
#include "data/parquet_delta_encoding.h"
#include "data/parquet_encoding.h"

namespace heretic::data {

using parquet::ByteSpan;
using parquet::Encoding;
using parquet::PageType;
using parquet::Repetition;

namespace {

constexpr size_t kMagicSize = 4;
constexpr size_t kMaxSchemaDepth = 64;

uint32_t read_le32(const uint8_t* data) {
  return static_cast<uint32_t>(data[0]) | static_cast<uint32_t>(data[1]) << 8 |
         static_cast<uint32_t>(data[2]) << 16 | static_cast<uint32_t>(data[3]) << 24;
}

std::vector<uint8_t> read_whole_file(const std::filesystem::path& path) {
  std::ifstream stream(path, std::ios::binary | std::ios::ate);
  if (!stream) throw InputError(path.string() + ": cannot open the file");
  const std::streamoff size = stream.tellg();
  std::vector<uint8_t> bytes(static_cast<size_t>(std::max<std::streamoff>(size, 0)));
  stream.seekg(0);
  if (!stream.read(reinterpret_cast<char*>(bytes.data()), size)) {
    throw InputError(path.string() + ": read error");
  }
  return bytes;
}

int repetition_of(const parquet::SchemaElement& element) {
  return element.repetition.value_or(static_cast<int32_t>(Repetition::kRequired));
}

}  // namespace

ParquetFile ParquetFile::open(const std::filesystem::path& path, ParquetReadLimits limits) {
  return ParquetFile(read_whole_file(path), path.string(), limits);
}

ParquetFile::ParquetFile(std::vector<uint8_t> bytes, std::string source, ParquetReadLimits limits)
    : bytes_(std::move(bytes)), source_(std::move(source)), limits_(limits) {
  const size_t size = bytes_.size();
  if (size < 2 * kMagicSize + 4 || std::memcmp(bytes_.data(), "PAR1", kMagicSize) != 0) {
    if (size >= kMagicSize && std::memcmp(bytes_.data(), "PARE", kMagicSize) == 0) {
      throw InputError(source_ + ": encrypted Parquet files are not supported");
    }
    throw InputError(source_ + ": not a Parquet file (no PAR1 magic at byte offset 0)");
  }
  const uint8_t* tail = bytes_.data() + size - kMagicSize;
  if (std::memcmp(tail, "PARE", kMagicSize) == 0) {
    throw InputError(source_ + ": encrypted Parquet files (encrypted footer) are not supported");
  }
  if (std::memcmp(tail, "PAR1", kMagicSize) != 0) {
    throw InputError(source_ + ": truncated Parquet file (no PAR1 magic at byte offset " +
                     std::to_string(size - kMagicSize) + ")");
  }
  const uint32_t footer_length = read_le32(bytes_.data() + size - kMagicSize - 4);
  if (footer_length > size - 2 * kMagicSize - 4) {
    throw InputError(source_ + ": footer length " + std::to_string(footer_length) +
                     " at byte offset " + std::to_string(size - kMagicSize - 4) +
                     " is larger than the file");
  }
  const size_t footer_start = size - kMagicSize - 4 - footer_length;
  ThriftCompactReader reader(bytes_.data() + footer_start, footer_length, source_, footer_start);
  metadata_ = parquet::parse_file_metadata(reader);
  if (metadata_.encrypted) {
    throw InputError(source_ + ": encrypted Parquet files (encrypted columns) are not supported");
  }
  if (metadata_.schema.empty()) throw InputError(source_ + ": Parquet footer has no schema");
  index_schema();
}

void ParquetFile::index_schema() {
  // Walk the depth-first schema list with an explicit stack of (remaining children, levels).
  struct Frame {
    int64_t remaining_children;
    int definition_level;
    int repetition_level;
  };
  const auto& schema = metadata_.schema;
  std::vector<Frame> stack;
  stack.push_back({schema[0].num_children, 0, 0});
  int top_level = -1;
  for (size_t i = 1; i < schema.size(); ++i) {
    while (!stack.empty() && stack.back().remaining_children <= 0) stack.pop_back();
    if (stack.empty()) {
      throw InputError(source_ + ": Parquet schema has more elements than the root declares");
    }
    Frame& parent = stack.back();
    --parent.remaining_children;
    const auto& element = schema[i];
    const int repetition = repetition_of(element);
    const int definition = parent.definition_level + (repetition != 0 ? 1 : 0);
    const int repetition_level =
        parent.repetition_level + (repetition == static_cast<int>(Repetition::kRepeated) ? 1 : 0);
    if (stack.size() == 1) {
      top_level_fields_.push_back(i);
      ++top_level;
    }
    if (element.num_children > 0) {
      if (stack.size() >= kMaxSchemaDepth) {
        throw InputError(source_ + ": Parquet schema nested deeper than " +
                         std::to_string(kMaxSchemaDepth));
      }
      stack.push_back({element.num_children, definition, repetition_level});
    } else {
      leaves_.push_back({i, leaves_.size(), top_level, definition, repetition_level});
    }
  }
}

std::vector<std::string> ParquetFile::column_names() const {
  std::vector<std::string> names;
  for (size_t index : top_level_fields_) names.push_back(metadata_.schema[index].name);
  return names;
}

std::vector<std::optional<std::string>> ParquetFile::read_string_column(const std::string& name,
                                                                        ParquetColumnLayout* layout,
                                                                        int64_t row_begin,
                                                                        int64_t row_end) const {
  ParquetColumnLayout ignored_layout;
  ParquetColumnLayout& seen = layout != nullptr ? *layout : ignored_layout;
  const std::vector<std::string> names = column_names();
  int field = -1;
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == name) {
      field = static_cast<int>(i);
      break;
    }
  }
  if (field < 0) {
    throw InputError(source_ + ": no column '" + name + "'" + did_you_mean(name, names) +
                     "; the columns are " + quoted_list(names));
  }
  const auto& element = metadata_.schema[top_level_fields_[static_cast<size_t>(field)]];
  if (element.num_children > 0 ||
      repetition_of(element) == static_cast<int>(Repetition::kRepeated)) {
    throw InputError(source_ + ": column '" + name +
                     "' is a nested column (list, map or struct); only flat string columns can "
                     "hold prompts");
  }
  const Leaf* leaf = nullptr;
  for (const Leaf& candidate : leaves_) {
    if (candidate.top_level == field) leaf = &candidate;
  }
  if (leaf == nullptr) throw InputError(source_ + ": column '" + name + "' has no data");
  if (element.type != static_cast<int32_t>(parquet::PhysicalType::kByteArray)) {
    throw InputError(source_ + ": column '" + name + "' has physical type " +
                     parquet::physical_type_name(element.type.value_or(-1)) +
                     "; a prompt column must hold strings (BYTE_ARRAY)");
  }

  std::vector<std::optional<std::string>> values;
  int64_t values_budget = limits_.max_values;
  int64_t group_start = 0;  // row index of the group's first row
  for (size_t group_index = 0; group_index < metadata_.row_groups.size(); ++group_index) {
    const parquet::RowGroup& group = metadata_.row_groups[group_index];
    const std::string where = source_ + ": row group " + std::to_string(group_index);
    if (group.num_rows < 0 || group.num_rows > limits_.max_values) {
      throw InputError(where + " declares " + std::to_string(group.num_rows) + " rows");
    }
    const int64_t group_end = group_start + group.num_rows;
    const bool wanted = group_end > row_begin && group_start < row_end;
    if (!wanted) {
      group_start = group_end;
      continue;
    }
    if (leaf->column_index >= group.columns.size()) {
      throw InputError(where + " has " + std::to_string(group.columns.size()) +
                       " column chunks, fewer than the schema's columns");
    }
    const parquet::ColumnChunk& chunk = group.columns[leaf->column_index];
    if (chunk.encrypted) throw InputError(where + ": column '" + name + "' is encrypted");
    if (!chunk.file_path.empty()) {
      throw InputError(where + ": column '" + name + "' is stored in another file ('" +
                       chunk.file_path + "'), which is not supported");
    }
    if (!chunk.has_metadata) throw InputError(where + ": column '" + name + "' has no metadata");
    if (chunk.type != static_cast<int32_t>(parquet::PhysicalType::kByteArray)) {
      throw InputError(where + ": column '" + name + "' chunk has physical type " +
                       parquet::physical_type_name(chunk.type) + ", not BYTE_ARRAY");
    }
    // Rows of this group that the caller wants, relative to the group.
    const int64_t want_begin = std::max(row_begin, group_start) - group_start;
    const int64_t want_end = std::min(row_end, group_end) - group_start;
    const size_t before = values.size();
    read_chunk(chunk, *leaf, name, want_begin, want_end, values_budget, values, seen);
    ++seen.row_groups;
    seen.codecs.insert(parquet::codec_name(chunk.codec));
    if (static_cast<int64_t>(values.size() - before) != want_end - want_begin) {
      throw InputError(where + ": column '" + name + "' holds fewer values than the row group's " +
                       std::to_string(group.num_rows) + " rows");
    }
    group_start = group_end;
  }
  return values;
}

void ParquetFile::read_chunk(const parquet::ColumnChunk& chunk, const Leaf& leaf,
                             const std::string& column, int64_t want_begin, int64_t want_end,
                             int64_t& values_budget, std::vector<std::optional<std::string>>& out,
                             ParquetColumnLayout& layout) const {
  const std::string where = source_ + ": column '" + column + "'";
  if (chunk.num_values < 0 || chunk.num_values > values_budget) {
    throw InputError(where + ": column chunk declares " + std::to_string(chunk.num_values) +
                     " values, more than the reader accepts (" +
                     std::to_string(limits_.max_values) + " in all)");
  }
  values_budget -= chunk.num_values;
  if (leaf.max_repetition_level > 0) {
    throw InputError(where + " is a repeated (nested) column, which is not supported");
  }
  int64_t start = chunk.data_page_offset;
  if (chunk.dictionary_page_offset && *chunk.dictionary_page_offset > 0 &&
      *chunk.dictionary_page_offset < start) {
    start = *chunk.dictionary_page_offset;
  }
  // The footer and magic bytes follow the last column chunk.
  const auto data_end = static_cast<int64_t>(bytes_.size());
  if (start < static_cast<int64_t>(kMagicSize) || start >= data_end ||
      chunk.total_compressed_size < 0 || chunk.total_compressed_size > data_end - start) {
    throw InputError(where + ": column chunk at byte offset " + std::to_string(start) + " of " +
                     std::to_string(chunk.total_compressed_size) + " bytes lies outside the file");
  }
  const auto end = static_cast<size_t>(start + chunk.total_compressed_size);
  auto position = static_cast<size_t>(start);

  const int max_definition = leaf.max_definition_level;
  std::vector<std::string> dictionary;
  bool have_dictionary = false;
  int64_t values_read = 0;
  while (values_read < chunk.num_values && values_read < want_end) {
    if (position >= end) {
      throw InputError(where + ": column chunk ends after " + std::to_string(values_read) +
                       " of its " + std::to_string(chunk.num_values) + " values");
    }
    ThriftCompactReader header_reader(bytes_.data() + position, end - position, source_, position);
    const parquet::PageHeader header = parquet::parse_page_header(header_reader);
    const std::string page_where = where + ", page at byte offset " + std::to_string(position);
    const size_t body_start = position + header.header_size;
    if (header.compressed_page_size < 0 || header.uncompressed_page_size < 0 ||
        static_cast<size_t>(header.compressed_page_size) > end - body_start) {
      throw InputError(page_where + ": page size " + std::to_string(header.compressed_page_size) +
                       " runs past the end of the column chunk");
    }
    const uint8_t* body = bytes_.data() + body_start;
    const auto body_size = static_cast<size_t>(header.compressed_page_size);
    const auto uncompressed_size = static_cast<size_t>(header.uncompressed_page_size);
    position = body_start + body_size;

    if (header.type == static_cast<int32_t>(PageType::kDictionaryPage)) {
      if (!header.dictionary_page)
        throw InputError(page_where + ": dictionary page without header");
      const int32_t encoding = header.dictionary_page->encoding;
      if (encoding != static_cast<int32_t>(Encoding::kPlain) &&
          encoding != static_cast<int32_t>(Encoding::kPlainDictionary)) {
        throw InputError(page_where + ": dictionary page encoding " +
                         parquet::encoding_name(encoding) + " is not supported");
      }
      const std::vector<uint8_t> plain =
          parquet::decompress_page(chunk.codec, body, body_size, uncompressed_size, page_where);
      if (header.dictionary_page->num_values < 0) throw InputError(page_where + ": negative count");
      const auto entries = parquet::decode_plain_byte_arrays(
          {plain.data(), plain.size()}, static_cast<size_t>(header.dictionary_page->num_values),
          page_where);
      dictionary.assign(entries.begin(), entries.end());
      have_dictionary = true;
      ++layout.dictionary_pages;
      continue;
    }
    const bool v1 = header.type == static_cast<int32_t>(PageType::kDataPage);
    const bool v2 = header.type == static_cast<int32_t>(PageType::kDataPageV2);
    if (!v1 && !v2) continue;  // index pages and unknown page types carry no values
    if (!header.data_page) throw InputError(page_where + ": data page without header");
    const parquet::DataPageHeader& page = *header.data_page;
    if (page.num_values < 0 || page.num_values > chunk.num_values - values_read) {
      throw InputError(page_where + ": page declares " + std::to_string(page.num_values) +
                       " values, more than the column chunk has left");
    }
    if (values_read + page.num_values <= want_begin) {  // wholly before the wanted rows
      values_read += page.num_values;
      continue;
    }
    const auto count = static_cast<size_t>(page.num_values);
    ++(v1 ? layout.data_pages_v1 : layout.data_pages_v2);
    layout.encodings.insert(parquet::encoding_name(page.encoding));

    // Split the page into definition levels and values; v1 compresses both together, v2
    // stores the levels uncompressed in front of the (maybe compressed) values.
    std::vector<uint8_t> decompressed;
    ByteSpan levels{};
    ByteSpan encoded_values{};
    if (v1) {
      decompressed =
          parquet::decompress_page(chunk.codec, body, body_size, uncompressed_size, page_where);
      ByteSpan rest{decompressed.data(), decompressed.size()};
      if (max_definition > 0) {
        if (page.definition_level_encoding != static_cast<int32_t>(Encoding::kRle)) {
          throw InputError(page_where + ": definition levels in " +
                           parquet::encoding_name(page.definition_level_encoding) +
                           " encoding are not supported (only RLE)");
        }
        if (rest.size < 4) throw InputError(page_where + ": definition levels missing");
        const uint32_t length = read_le32(rest.data);
        if (length > rest.size - 4) {
          throw InputError(page_where + ": definition levels run past the end of the page");
        }
        levels = {rest.data + 4, length};
        rest = {rest.data + 4 + length, rest.size - 4 - length};
      }
      encoded_values = rest;
    } else {
      const int64_t level_bytes = static_cast<int64_t>(page.repetition_levels_byte_length) +
                                  page.definition_levels_byte_length;
      if (page.repetition_levels_byte_length < 0 || page.definition_levels_byte_length < 0 ||
          level_bytes > static_cast<int64_t>(body_size) ||
          level_bytes > static_cast<int64_t>(uncompressed_size)) {
        throw InputError(page_where + ": level lengths exceed the page size");
      }
      const auto level_size = static_cast<size_t>(level_bytes);
      levels = {body + page.repetition_levels_byte_length,
                static_cast<size_t>(page.definition_levels_byte_length)};
      if (page.is_compressed) {
        decompressed =
            parquet::decompress_page(chunk.codec, body + level_size, body_size - level_size,
                                     uncompressed_size - level_size, page_where);
      } else {
        decompressed.assign(body + level_size, body + body_size);
      }
      encoded_values = {decompressed.data(), decompressed.size()};
    }

    std::vector<uint32_t> definition_levels;
    size_t non_null = count;
    if (max_definition > 0) {
      definition_levels = parquet::decode_rle_hybrid(
          levels, parquet::bit_width_for(static_cast<uint32_t>(max_definition)), count,
          page_where + " (definition levels)");
      non_null = 0;
      for (uint32_t level : definition_levels) {
        if (level == static_cast<uint32_t>(max_definition)) ++non_null;
      }
    }

    std::vector<std::string_view> page_values;
    std::vector<std::string> decoded;  // storage for encodings that do not point into the page
    if (page.encoding == static_cast<int32_t>(Encoding::kDeltaLengthByteArray) ||
        page.encoding == static_cast<int32_t>(Encoding::kDeltaByteArray)) {
      if (non_null > 0) {
        decoded =
            page.encoding == static_cast<int32_t>(Encoding::kDeltaByteArray)
                ? parquet::decode_delta_byte_arrays(encoded_values, non_null, page_where)
                : parquet::decode_delta_length_byte_arrays(encoded_values, non_null, page_where);
      }
      page_values.assign(decoded.begin(), decoded.end());
    } else if (page.encoding == static_cast<int32_t>(Encoding::kPlain)) {
      page_values = parquet::decode_plain_byte_arrays(encoded_values, non_null, page_where);
    } else if (page.encoding == static_cast<int32_t>(Encoding::kPlainDictionary) ||
               page.encoding == static_cast<int32_t>(Encoding::kRleDictionary)) {
      if (!have_dictionary) {
        throw InputError(page_where +
                         ": dictionary-encoded page but the column chunk has no "
                         "dictionary page");
      }
      if (non_null > 0) {
        if (encoded_values.size < 1) throw InputError(page_where + ": missing index bit width");
        const int bit_width = encoded_values.data[0];
        const auto indices =
            parquet::decode_rle_hybrid({encoded_values.data + 1, encoded_values.size - 1},
                                       bit_width, non_null, page_where + " (dictionary indices)");
        page_values.reserve(indices.size());
        for (uint32_t index : indices) {
          if (index >= dictionary.size()) {
            throw InputError(page_where + ": dictionary index " + std::to_string(index) +
                             " out of range (dictionary has " + std::to_string(dictionary.size()) +
                             " entries)");
          }
          page_values.emplace_back(dictionary[index]);
        }
      }
    } else {
      throw InputError(page_where + ": value encoding " + parquet::encoding_name(page.encoding) +
                       " is not supported (supported: PLAIN, PLAIN_DICTIONARY, RLE_DICTIONARY, "
                       "DELTA_LENGTH_BYTE_ARRAY, DELTA_BYTE_ARRAY); "
                       "rewrite the file with pyarrow or datasets' default settings");
    }

    size_t next_value = 0;
    for (size_t i = 0; i < count; ++i) {
      const bool present =
          max_definition == 0 || definition_levels[i] == static_cast<uint32_t>(max_definition);
      const int64_t row = values_read + static_cast<int64_t>(i);
      if (row >= want_begin && row < want_end) {
        out.emplace_back(present ? std::optional<std::string>(page_values[next_value])
                                 : std::nullopt);
      }
      if (present) ++next_value;
    }
    values_read += page.num_values;
  }
}

}  // namespace heretic::data
