// The Parquet reader against files written by a real writer (arrow-rs through parquet-wasm,
// tools/fixtures/make-parquet.mjs): every codec, both data page versions, dictionary and plain
// encodings, nulls and several row groups must give back exactly the strings that were written.
#include "data/parquet_reader.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "common/error.h"

namespace heretic::data {
namespace {

const std::filesystem::path kFixtures =
    std::filesystem::path(HERETIC_SOURCE_DIR) / "tests" / "fixtures" / "data" / "parquet";

nlohmann::json expected() {
  std::ifstream stream(kFixtures / "expected.json");
  return nlohmann::json::parse(stream);
}

std::vector<std::optional<std::string>> to_optional_strings(const nlohmann::json& array) {
  std::vector<std::optional<std::string>> values;
  for (const auto& value : array) {
    if (value.is_null()) {
      values.emplace_back(std::nullopt);
    } else {
      values.emplace_back(value.get<std::string>());
    }
  }
  return values;
}

std::string error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const InputError& error) {
    return error.what();
  }
  return "(no error)";
}

TEST(ParquetReader, EveryCodecPageVersionAndEncodingReturnsTheWrittenStrings) {
  const nlohmann::json truth = expected();
  int files_checked = 0;
  for (const auto& name : truth["files"]) {
    const std::string file = name.get<std::string>();
    if (file == "types.parquet" || file == "brotli.parquet") continue;
    SCOPED_TRACE(file);
    const ParquetFile parquet = ParquetFile::open(kFixtures / file);
    EXPECT_EQ(parquet.num_rows(), 60);
    EXPECT_EQ(parquet.column_names(), (std::vector<std::string>{"text", "maybe", "required"}));
    for (const char* column : {"text", "maybe", "required"}) {
      ParquetColumnLayout layout;
      EXPECT_EQ(parquet.read_string_column(column, &layout), to_optional_strings(truth[column]))
          << column;
      // The file really has what its name says (so that this test cannot pass vacuously).
      if (file == "dictionary-fallback.parquet") {
        EXPECT_EQ(layout.encodings, (std::set<std::string>{"PLAIN", "RLE_DICTIONARY"}));
        continue;
      }
      if (file.rfind("delta-", 0) == 0) {
        EXPECT_EQ(layout.row_groups, 2u);
        EXPECT_EQ(layout.encodings, (std::set<std::string>{file == "delta-byte-array.parquet"
                                                               ? "DELTA_BYTE_ARRAY"
                                                               : "DELTA_LENGTH_BYTE_ARRAY"}));
        continue;
      }
      EXPECT_EQ(layout.row_groups, 4u);
      const bool dictionary = file.find("-dict") != std::string::npos;
      // arrow-rs cuts plain pages at the tiny size limit; dictionary indices stay in one page.
      if (!dictionary) {
        EXPECT_GT(layout.data_pages_v1 + layout.data_pages_v2, layout.row_groups);
      }
      const bool v2 = file.find("-v2-") != std::string::npos;
      EXPECT_EQ(layout.data_pages_v1 == 0, v2);
      EXPECT_EQ(layout.data_pages_v2 == 0, !v2);
      EXPECT_EQ(layout.dictionary_pages > 0, dictionary);
      EXPECT_EQ(layout.encodings, (std::set<std::string>{dictionary ? "RLE_DICTIONARY" : "PLAIN"}));
      std::string codec = file.substr(0, file.find('-'));
      for (char& c : codec) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      EXPECT_EQ(layout.codecs, (std::set<std::string>{codec}));
    }
    ++files_checked;
  }
  // 4 codecs x 2 page versions x 2 encodings, dictionary fallback, 2 delta encodings.
  EXPECT_EQ(files_checked, 19);
}

TEST(ParquetReader, NullsComeBackAsEmptyOptionals) {
  const auto values =
      ParquetFile::open(kFixtures / "zstd-v2-dict.parquet").read_string_column("maybe");
  ASSERT_EQ(values.size(), 60u);
  EXPECT_FALSE(values[0].has_value());
  EXPECT_FALSE(values[59].has_value());
  EXPECT_EQ(values[1], std::optional<std::string>("How do I bake bread?"));
}

TEST(ParquetReader, RowRangesDecodeOnlyTheRowGroupsTheyTouch) {
  const nlohmann::json truth = expected();
  const ParquetFile parquet = ParquetFile::open(kFixtures / "zstd-v1-dict.parquet");
  ParquetColumnLayout layout;
  const auto values = parquet.read_string_column("maybe", &layout, 20, 40);  // groups 1 and 2
  const auto all = to_optional_strings(truth["maybe"]);
  EXPECT_EQ(values, decltype(all)(all.begin() + 20, all.begin() + 40));
  EXPECT_EQ(layout.row_groups, 2u);
  EXPECT_TRUE(parquet.read_string_column("text", nullptr, 0, 0).empty());
  EXPECT_EQ(parquet.read_string_column("text", nullptr, 55, 1000).size(), 5u);

  // Inside a row group, pages before the range are skipped and reading stops after it.
  const ParquetFile paged = ParquetFile::open(kFixtures / "gzip-v1-plain.parquet");
  ParquetColumnLayout whole, part;
  paged.read_string_column("maybe", &whole);
  const auto two_rows = paged.read_string_column("maybe", &part, 50, 52);
  EXPECT_EQ(two_rows, decltype(all)(all.begin() + 50, all.begin() + 52));
  EXPECT_EQ(part.row_groups, 1u);
  EXPECT_LT(part.data_pages_v1 * 4, whole.data_pages_v1);
}

TEST(ParquetReader, MissingColumnListsTheAvailableOnes) {
  const ParquetFile parquet = ParquetFile::open(kFixtures / "types.parquet");
  const std::string message = error_of([&] { parquet.read_string_column("txet"); });
  EXPECT_NE(message.find("types.parquet"), std::string::npos) << message;
  EXPECT_NE(message.find("no column 'txet'"), std::string::npos) << message;
  EXPECT_NE(message.find("did you mean 'text'"), std::string::npos) << message;
  EXPECT_NE(message.find("'id', 'tags', 'raw'"), std::string::npos) << message;
}

TEST(ParquetReader, NonStringAndNestedColumnsAreRefusedByName) {
  const ParquetFile parquet = ParquetFile::open(kFixtures / "types.parquet");
  const std::string int_message = error_of([&] { parquet.read_string_column("id"); });
  EXPECT_NE(int_message.find("'id' has physical type INT64"), std::string::npos) << int_message;
  const std::string nested_message = error_of([&] { parquet.read_string_column("tags"); });
  EXPECT_NE(nested_message.find("'tags' is a nested column"), std::string::npos) << nested_message;
  // Columns after a nested one still map to the right column chunk.
  const auto raw = parquet.read_string_column("raw");
  ASSERT_EQ(raw.size(), 3u);
  EXPECT_EQ(raw[1], std::optional<std::string>("also fine"));
  EXPECT_EQ(raw[2], std::optional<std::string>("f\xffo"));
  EXPECT_EQ(parquet.read_string_column("text")[0],
            std::optional<std::string>("Write a poem about the sea."));
}

TEST(ParquetReader, UnsupportedCodecIsNamed) {
  const ParquetFile parquet = ParquetFile::open(kFixtures / "brotli.parquet");
  const std::string message = error_of([&] { parquet.read_string_column("text"); });
  EXPECT_NE(message.find("brotli.parquet: column 'text'"), std::string::npos) << message;
  EXPECT_NE(message.find("compression codec BROTLI is not supported"), std::string::npos)
      << message;
}

TEST(ParquetReader, CorruptFilesGiveInputErrorsNotCrashes) {
  std::ifstream stream(kFixtures / "snappy-v1-dict.parquet", std::ios::binary);
  const std::vector<uint8_t> good((std::istreambuf_iterator<char>(stream)),
                                  std::istreambuf_iterator<char>());
  EXPECT_NE(error_of([&] {
              ParquetFile({'n', 'o', 'p', 'e'}, "x.parquet");
            }).find("not a Parquet file"),
            std::string::npos);
  std::vector<uint8_t> truncated(good.begin(), good.end() - 10);
  EXPECT_NE(error_of([&] { ParquetFile(truncated, "t.parquet"); }).find("truncated"),
            std::string::npos);
  // Flip every byte of the data region in turn: each must either decode or throw InputError.
  int errors = 0;
  for (size_t i = 4; i < good.size(); i += 7) {
    std::vector<uint8_t> bad = good;
    bad[i] ^= 0x5a;
    try {
      ParquetFile parquet(bad, "bad.parquet");
      parquet.read_string_column("maybe");
    } catch (const InputError&) {
      ++errors;
    }
  }
  EXPECT_GT(errors, 0);
}

}  // namespace
}  // namespace heretic::data
