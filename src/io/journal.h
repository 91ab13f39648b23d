// The run journal (DESIGN.md §4): journal.jsonl in the output folder, append-only, one JSON
// object per line, each line carrying a CRC32 of its own text, flushed and fsync'd before
// append() returns. A torn last line (the process died mid-write) is detected and ignored on
// reading; damage anywhere else is an error naming the line.
//
// Line format: the record's JSON object with `"crc32":"xxxxxxxx"` as its last member, where
// the CRC-32 (IEEE, as zlib's crc32) is computed over the line's text with that member
// removed, i.e. over `<text before ,"crc32":...>}`.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace heretic::io {

uint32_t crc32(std::string_view bytes);

// The line (without '\n') that append() writes for `record` (an object without "crc32").
std::string journal_line(const nlohmann::ordered_json& record);

class JournalWriter {
 public:
  // Opens `path` for appending, creating it (and its parent folders) when missing. A torn
  // last line left by a crash is cut off first so that the next record starts a fresh line.
  // Throws InputError naming the path when it cannot be opened.
  explicit JournalWriter(const std::filesystem::path& path);
  JournalWriter(JournalWriter&&) noexcept;
  JournalWriter& operator=(JournalWriter&&) noexcept;
  JournalWriter(const JournalWriter&) = delete;
  JournalWriter& operator=(const JournalWriter&) = delete;
  ~JournalWriter();

  // Writes the record's line and '\n', then fsyncs. Throws InputError on a write error.
  void append(const nlohmann::ordered_json& record);
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  int fd_ = -1;
};

struct JournalContents {
  std::vector<nlohmann::ordered_json> records;  // in file order, "crc32" removed
  bool torn_tail = false;                        // the last line was incomplete or failed its CRC
};

// Reads and verifies a journal. A missing file gives no records. A line other than the last
// that is not valid JSON or fails its CRC throws InputError "<path> line N: ...".
JournalContents read_journal(const std::filesystem::path& path);

}  // namespace heretic::io
