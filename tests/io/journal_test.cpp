// The run journal: CRC'd lines, fsync'd appends, torn last lines after a crash, and errors
// that name the damaged line.
#include "io/journal.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tests/support/error_of.h"
#include "tests/support/run_process.h"

namespace heretic::io {
namespace {

namespace fs = std::filesystem;
using heretic::testing::error_of;
using heretic::testing::read_whole_file;
using nlohmann::ordered_json;

class JournalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    folder_ = fs::temp_directory_path() / ("heretic-journal-" + std::to_string(::getpid()) + "-" + info->name());
    fs::remove_all(folder_);
    fs::create_directories(folder_);
    path_ = folder_ / "journal.jsonl";
  }
  void TearDown() override { fs::remove_all(folder_); }

  void write_bytes(const std::string& bytes) {
    std::ofstream out(path_, std::ios::binary | std::ios::trunc);
    out << bytes;
  }
  void append_bytes(const std::string& bytes) {
    std::ofstream out(path_, std::ios::binary | std::ios::app);
    out << bytes;
  }

  fs::path folder_;
  fs::path path_;
};

ordered_json record(int trial) {
  return ordered_json{{"type", "trial finished"}, {"trial", trial}, {"values", {0.1 * trial, 1e-300}}};
}

TEST(Crc32, MatchesTheIeeeCheckValue) {
  // The standard check value of CRC-32/ISO-HDLC (zlib's crc32) for "123456789".
  EXPECT_EQ(crc32("123456789"), 0xCBF43926u);
  EXPECT_EQ(crc32(""), 0u);
  EXPECT_EQ(crc32("The quick brown fox jumps over the lazy dog"), 0x414FA339u);
}

TEST(JournalLine, AppendsTheCrcOfTheRecordTextAsLastMember) {
  const ordered_json object{{"b", 1}, {"a", "x"}};
  char hex[9];
  std::snprintf(hex, sizeof hex, "%08x", crc32(R"({"b":1,"a":"x"})"));
  EXPECT_EQ(journal_line(object), std::string(R"({"b":1,"a":"x","crc32":")") + hex + "\"}");

  std::snprintf(hex, sizeof hex, "%08x", crc32("{}"));
  EXPECT_EQ(journal_line(ordered_json::object()), std::string(R"({"crc32":")") + hex + "\"}");
}

TEST(JournalLine, RefusesNonObjectsAndRecordsThatCarryACrc) {
  EXPECT_THROW(journal_line(ordered_json::array({1, 2})), std::invalid_argument);
  EXPECT_THROW(journal_line(ordered_json{{"crc32", "00000000"}}), std::invalid_argument);
}

TEST_F(JournalTest, RecordsRoundTripExactly) {
  std::vector<ordered_json> records = {
      ordered_json{{"type", "header"}, {"config_hash", "abc"}, {"world_size", 4}},
      ordered_json{{"z", 0.1}, {"a", 1e-300}, {"m", -2.5e+300}, {"big", 9007199254740993LL}, {"neg", -0.0}},
      ordered_json{{"text", "Grüße, \"quoted\"\n\t\u00e9 \xF0\x9F\x98\x80"}, {"nan", "nan"}, {"inf", "-inf"}},
      ordered_json{{"nested", {{"list", {1, 2.75, nullptr, true}}, {"empty", ordered_json::object()}}}},
      ordered_json::object(),
  };
  {
    JournalWriter writer(path_);
    for (const auto& r : records) writer.append(r);
  }
  const auto contents = read_journal(path_);
  EXPECT_FALSE(contents.torn_tail);
  ASSERT_EQ(contents.records.size(), records.size());
  for (std::size_t i = 0; i < records.size(); ++i) {
    EXPECT_EQ(contents.records[i], records[i]) << "record " << i;
    EXPECT_EQ(contents.records[i].dump(), records[i].dump()) << "member order and number text of record " << i;
  }
  EXPECT_EQ(contents.records[1]["z"].get<double>(), 0.1);
  EXPECT_EQ(contents.records[1]["a"].get<double>(), 1e-300);
  // One line per record, each with its CRC as the last member.
  const std::string text = read_whole_file(path_);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), static_cast<long>(records.size()));
  EXPECT_NE(text.find(",\"crc32\":\""), std::string::npos);
}

TEST_F(JournalTest, AMissingFileHasNoRecords) {
  const auto contents = read_journal(folder_ / "absent.jsonl");
  EXPECT_TRUE(contents.records.empty());
  EXPECT_FALSE(contents.torn_tail);
}

TEST_F(JournalTest, ReopeningAppendsAfterTheExistingRecords) {
  {
    JournalWriter writer(path_);
    writer.append(record(0));
    writer.append(record(1));
  }
  JournalWriter writer(path_);
  writer.append(record(2));
  // Readable while the writer is still open: every append is already on disk.
  const auto contents = read_journal(path_);
  ASSERT_EQ(contents.records.size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(contents.records[i]["trial"], i);
}

TEST_F(JournalTest, CreatesMissingParentFolders) {
  const auto nested = folder_ / "a" / "b" / "journal.jsonl";
  JournalWriter writer(nested);
  writer.append(record(7));
  EXPECT_EQ(writer.path(), nested);
  ASSERT_EQ(read_journal(nested).records.size(), 1u);
}

TEST_F(JournalTest, AMovedWriterKeepsAppending) {
  JournalWriter first(path_);
  JournalWriter second(std::move(first));
  second.append(record(1));
  JournalWriter third(folder_ / "other.jsonl");
  third = std::move(second);
  third.append(record(2));
  EXPECT_EQ(read_journal(path_).records.size(), 2u);
}

// Each way a crash or a bad disk can leave the last line.
struct TornTail {
  const char* name;
  std::string bytes;
};

std::vector<TornTail> torn_tails() {
  const std::string full = journal_line(record(2));
  std::string wrong_crc = full;
  wrong_crc[wrong_crc.size() - 3] = wrong_crc[wrong_crc.size() - 3] == '0' ? '1' : '0';
  std::string changed_value = full;
  changed_value[changed_value.find("trial\":2") + 7] = '3';
  return {
      {"cut mid-line", full.substr(0, full.size() / 2)},
      {"complete line without its newline", full},
      {"wrong CRC", wrong_crc + "\n"},
      {"value changed after the CRC", changed_value + "\n"},
      {"garbage bytes", std::string("\x00\x00\xff\xfe garbage", 12)},
      {"garbage line", std::string("\x00\x00\x00\x00\n", 5)},
      {"empty last line", "\n"},
  };
}

TEST_F(JournalTest, ATornLastLineIsDroppedAndTheRecordsBeforeItKept) {
  for (const auto& tail : torn_tails()) {
    SCOPED_TRACE(tail.name);
    const std::string sound = journal_line(record(0)) + "\n" + journal_line(record(1)) + "\n";
    write_bytes(sound + tail.bytes);
    const auto contents = read_journal(path_);
    EXPECT_TRUE(contents.torn_tail);
    ASSERT_EQ(contents.records.size(), 2u);
    EXPECT_EQ(contents.records[1]["trial"], 1);
  }
}

TEST_F(JournalTest, AWriterCutsATornLastLineSoTheNextAppendMakesASoundJournal) {
  for (const auto& tail : torn_tails()) {
    SCOPED_TRACE(tail.name);
    const std::string sound = journal_line(record(0)) + "\n" + journal_line(record(1)) + "\n";
    write_bytes(sound + tail.bytes);
    {
      JournalWriter writer(path_);
      EXPECT_EQ(read_whole_file(path_), sound);
      writer.append(record(5));
    }
    const auto contents = read_journal(path_);
    EXPECT_FALSE(contents.torn_tail);
    ASSERT_EQ(contents.records.size(), 3u);
    EXPECT_EQ(contents.records[2]["trial"], 5);
  }
}

TEST_F(JournalTest, AWriterLeavesASoundJournalAlone) {
  const std::string sound = journal_line(record(0)) + "\n";
  write_bytes(sound);
  { JournalWriter writer(path_); }
  EXPECT_EQ(read_whole_file(path_), sound);
}

TEST_F(JournalTest, ATornLineOfAFileWithOneLineLeavesNothing) {
  write_bytes(journal_line(record(0)).substr(0, 10));
  EXPECT_TRUE(read_journal(path_).torn_tail);
  EXPECT_TRUE(read_journal(path_).records.empty());
  { JournalWriter writer(path_); }
  EXPECT_EQ(read_whole_file(path_), "");
}

// A file of one newline (found by fuzz_journal: the writer's cut read before the file's start).
TEST_F(JournalTest, AFileOfOneNewlineIsATornLineAndTheWriterStartsItAfresh) {
  write_bytes("\n");
  EXPECT_TRUE(read_journal(path_).records.empty());
  {
    JournalWriter writer(path_);
    writer.append(record(0));
  }
  EXPECT_EQ(read_whole_file(path_), journal_line(record(0)) + "\n");
  EXPECT_EQ(read_journal(path_).records.size(), 1u);
}

TEST_F(JournalTest, DamageBeforeTheLastLineIsAnErrorNamingTheLine) {
  const std::string good0 = journal_line(record(0)) + "\n";
  const std::string good2 = journal_line(record(2)) + "\n";
  std::string wrong_crc = journal_line(record(1));
  wrong_crc[wrong_crc.size() - 3] = wrong_crc[wrong_crc.size() - 3] == '0' ? '1' : '0';
  // Valid CRC over text that is not JSON: only a parser notices.
  const std::string not_json = "{oops";
  char hex[9];
  std::snprintf(hex, sizeof hex, "%08x", crc32(not_json + "}"));
  const std::string bad_json = not_json + ",\"crc32\":\"" + hex + "\"}";
  // A line sealed twice: both CRCs are right, but journal_line never writes a record that has one.
  const std::string once = journal_line(record(1));
  std::snprintf(hex, sizeof hex, "%08x", crc32(once));
  const std::string sealed_twice = once.substr(0, once.size() - 1) + ",\"crc32\":\"" + hex + "\"}";

  struct Case {
    std::string middle;
    std::string why;
  };
  for (const auto& c : std::vector<Case>{{wrong_crc, "CRC mismatch"},
                                         {"", "empty line"},
                                         {bad_json, "not valid JSON"},
                                         {sealed_twice, "second \"crc32\" member"},
                                         {"[1,2,3]", "crc32"},
                                         {journal_line(record(1)).substr(0, 20), "crc32"}}) {
    SCOPED_TRACE(c.why);
    write_bytes(good0 + c.middle + "\n" + good2);
    const std::string message = error_of([&] { read_journal(path_); });
    EXPECT_NE(message.find(path_.string() + " line 2: "), std::string::npos) << message;
    EXPECT_NE(message.find(c.why), std::string::npos) << message;
  }
}

TEST_F(JournalTest, ATornLineFollowedByMoreLinesIsNotATail) {
  // A crash cuts only the end; damage followed by a sound line means a corrupted file.
  const std::string sound = journal_line(record(0)) + "\n";
  write_bytes(sound + journal_line(record(1)).substr(0, 15) + "\n" + sound);
  EXPECT_NE(error_of([&] { read_journal(path_); }).find("line 2"), std::string::npos);
}

TEST_F(JournalTest, AnUnusableFolderIsAnInputErrorNamingThePath) {
  // A regular file where a folder should be (root ignores permission bits, so a read-only
  // folder would not stop this test's user).
  write_bytes("not a folder");
  const auto path = path_ / "journal.jsonl";
  const std::string message = error_of([&] { JournalWriter writer(path); });
  EXPECT_NE(message.find(path.string()), std::string::npos) << message;
  EXPECT_NE(message.find("Not a directory"), std::string::npos) << message;
}

TEST_F(JournalTest, AFailedWriteIsAnInputErrorNamingThePath) {
  if (!fs::exists("/dev/full")) GTEST_SKIP() << "no /dev/full";
  JournalWriter writer("/dev/full");
  const std::string message = error_of([&] { writer.append(record(0)); });
  EXPECT_NE(message.find("/dev/full"), std::string::npos) << message;
  EXPECT_NE(message.find("No space left on device"), std::string::npos) << message;
}

}  // namespace
}  // namespace heretic::io
