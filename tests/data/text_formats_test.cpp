// The text-based readers: plain text lines, CSV (RFC 4180), JSON Lines and JSON.
#include <gtest/gtest.h>

#include "tests/support/error_of.h"
#include "common/error.h"
#include "data/csv_reader.h"
#include "data/dataset_file.h"
#include "data/json_reader.h"
#include "data/utf8_validation.h"

namespace heretic::data {
namespace {

using Column = StringColumn;

using heretic::testing::error_of;

TEST(TextLines, StripsWhitespaceAndDropsEmptyLinesLikeHeretic) {
  const auto lines =
      read_text_lines("\xEF\xBB\xBF  first \r\n\r\n\tsecond\rthird\n   \nlast", "p.txt");
  EXPECT_EQ(lines, (std::vector<std::string>{"first", "second", "third", "last"}));
}

TEST(TextLines, InvalidUtf8NamesTheLine) {
  const std::string message =
      error_of([] { read_text_lines("ok\nstill ok\nbad \xC3\x28 byte\n", "p.txt"); });
  EXPECT_NE(message.find("p.txt: line 3: invalid UTF-8 at byte 4"), std::string::npos) << message;
}

TEST(Utf8Validation, RejectsOverlongSurrogatesAndTruncation) {
  EXPECT_FALSE(find_invalid_utf8("plain, é, 中文, 🙂"));
  EXPECT_EQ(find_invalid_utf8("ab\xC0\xAF"), 2u);         // overlong '/'
  EXPECT_EQ(find_invalid_utf8("\xED\xA0\x80"), 0u);       // surrogate U+D800
  EXPECT_EQ(find_invalid_utf8("x\xF4\x90\x80\x80"), 1u);  // above U+10FFFF
  EXPECT_EQ(find_invalid_utf8("xy\xE4\xB8"), 2u);         // truncated
}

TEST(Csv, QuotedFieldsHoldCommasNewlinesAndDoubledQuotes) {
  const std::string text =
      "id,text\r\n"
      "1,plain\r\n"
      "2,\"with, comma\"\r\n"
      "3,\"two\nlines\"\n"
      "4,\"say \"\"hi\"\"\"\n"
      "5,\n";
  const Column values = read_csv_column(text, "p.csv", "text");
  ASSERT_EQ(values.size(), 5u);
  EXPECT_EQ(values[0], std::optional<std::string>("plain"));
  EXPECT_EQ(values[1], std::optional<std::string>("with, comma"));
  EXPECT_EQ(values[2], std::optional<std::string>("two\nlines"));
  EXPECT_EQ(values[3], std::optional<std::string>("say \"hi\""));
  EXPECT_EQ(values[4], std::nullopt);  // empty field = null, as pandas reads it
}

TEST(Csv, ErrorsNameTheLine) {
  EXPECT_NE(error_of([] {
              read_csv_column("a,b\n1,2\n3\n", "p.csv", "a");
            }).find("p.csv: line 3: record has 1 fields but the header has 2"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              read_csv_column("a\n\"open\n", "p.csv", "a");
            }).find("line 2: quoted field is never closed"),
            std::string::npos);
  EXPECT_NE(error_of([] { read_csv_column("a\n\"x\"y\n", "p.csv", "a"); }).find("line 2"),
            std::string::npos);
  const std::string missing =
      error_of([] { read_csv_column("prompt,label\nx,1\n", "p.csv", "text"); });
  EXPECT_NE(missing.find("no column 'text'; the columns are 'prompt', 'label'"), std::string::npos)
      << missing;
}

TEST(JsonLines, ReadsOneObjectPerLineWithNullsForMissingKeys) {
  const Column values = read_jsonl_column(
      "{\"text\": \"a\", \"n\": 1}\n\n{\"n\": 2}\r\n{\"text\": null}\n{\"text\": \"\\u00e9\"}",
      "p.jsonl", "text");
  EXPECT_EQ(values, (Column{"a", std::nullopt, std::nullopt, "é"}));
}

TEST(JsonLines, ErrorsNameTheLine) {
  const std::string bad_json =
      error_of([] { read_jsonl_column("{\"text\": \"a\"}\n{\"text\": ", "p.jsonl", "text"); });
  EXPECT_NE(bad_json.find("p.jsonl: line 2: invalid JSON"), std::string::npos) << bad_json;
  const std::string not_string =
      error_of([] { read_jsonl_column("{\"text\": 5}", "p.jsonl", "text"); });
  EXPECT_NE(not_string.find("line 1: column 'text' holds a number, not a string"),
            std::string::npos)
      << not_string;
  const std::string missing = error_of(
      [] { read_jsonl_column("{\"prompt\": \"x\"}\n{\"goal\": \"y\"}", "p.jsonl", "text"); });
  EXPECT_NE(missing.find("the columns are 'prompt', 'goal'"), std::string::npos) << missing;
  const std::string bad_utf8 =
      error_of([] { read_jsonl_column("{\"text\": \"\xff\"}", "p.jsonl", "text"); });
  EXPECT_NE(bad_utf8.find("line 1: invalid JSON"), std::string::npos) << bad_utf8;
}

TEST(Json, ArrayOfObjectsAndObjectOfArrays) {
  EXPECT_EQ(read_json_column("[{\"text\": \"a\"}, {\"text\": \"b\"}, {}]", "p.json", "text"),
            (Column{"a", "b", std::nullopt}));
  EXPECT_EQ(
      read_json_column("{\"text\": [\"a\", null, \"c\"], \"n\": [1, 2, 3]}", "p.json", "text"),
      (Column{"a", std::nullopt, "c"}));
  EXPECT_NE(error_of([] {
              read_json_column("[{\"text\": \"a\"}, {\"text\": [1]}]", "p.json", "text");
            }).find("row index 1: column 'text' holds a array"),
            std::string::npos);
  EXPECT_NE(
      error_of([] { read_json_column("42", "p.json", "text"); }).find("expected a JSON array"),
      std::string::npos);
  // A number too large for a double is a JSON error, not a crash (found by the fuzzer).
  EXPECT_NE(error_of([] {
              read_json_column("[{\"n\": 222e24222}]", "p.json", "text");
            }).find("p.json: invalid JSON"),
            std::string::npos);
}

TEST(DatasetBytes, InvalidUtf8InAParsedValueNamesTheRow) {
  const std::string message = error_of([] {
    read_dataset_bytes_column("text\nfine\n\"bro\xE2\x82ken\"\n", DatasetFileFormat::kCsv, "p.csv",
                              "text");
  });
  EXPECT_NE(message.find("p.csv: column 'text', row index 1: invalid UTF-8 at byte 3"),
            std::string::npos)
      << message;
}

TEST(DatasetBytes, FormatComesFromTheExtension) {
  EXPECT_EQ(dataset_format_from_name("a/b.JSONL"), DatasetFileFormat::kJsonLines);
  EXPECT_EQ(dataset_format_from_name("b.json"), DatasetFileFormat::kJson);
  EXPECT_EQ(dataset_format_from_name("b.csv"), DatasetFileFormat::kCsv);
  EXPECT_EQ(dataset_format_from_name("b.parquet"), DatasetFileFormat::kParquet);
  EXPECT_EQ(dataset_format_from_name("prompts.txt"), std::nullopt);  // plain text
}

}  // namespace
}  // namespace heretic::data
