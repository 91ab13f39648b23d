#include "io/journal.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <utility>

#include "common/error.h"
#include "common/fault_injection.h"

namespace heretic::io {
namespace {

// The member journal_line() appends: `"crc32":"` + 8 lowercase hex digits + `"`, then the
// object's closing brace ends the line.
constexpr std::string_view kCrcKey = "\"crc32\":\"";
constexpr std::size_t kCrcSuffixSize = kCrcKey.size() + 8 + 2;  // ... "xxxxxxxx"}

// Reflected IEEE 802.3 polynomial, the one zlib, gzip and PNG use; a table keeps the library
// free of a zlib dependency for 30 lines of code.
constexpr std::array<uint32_t, 256> make_crc_table() {
  std::array<uint32_t, 256> table{};
  for (uint32_t n = 0; n < 256; ++n) {
    uint32_t c = n;
    for (int k = 0; k < 8; ++k) c = (c & 1u) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    table[n] = c;
  }
  return table;
}
constexpr std::array<uint32_t, 256> kCrcTable = make_crc_table();

std::string hex8(uint32_t value) {
  char text[9];
  std::snprintf(text, sizeof text, "%08x", value);
  return text;
}

std::string errno_text(int error) { return std::generic_category().message(error); }

std::optional<uint32_t> parse_hex8(std::string_view text) {
  if (text.size() != 8) return std::nullopt;
  uint32_t value = 0;
  for (const char c : text) {
    uint32_t digit;
    if (c >= '0' && c <= '9') {
      digit = static_cast<uint32_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      digit = static_cast<uint32_t>(c - 'a' + 10);
    } else {
      return std::nullopt;  // journal_line writes lowercase only
    }
    value = value << 4 | digit;
  }
  return value;
}

// Checks one line (without '\n') against its CRC and parses the record it carries. Works on
// the raw text, so the check does not depend on how a JSON library would re-print numbers.
// Returns the reason when the line is bad.
std::optional<std::string> verify_line(std::string_view line, nlohmann::ordered_json* record) {
  if (line.empty()) return std::string("empty line");
  if (line.size() < kCrcSuffixSize + 1 || line.back() != '}' ||
      line.substr(line.size() - kCrcSuffixSize, kCrcKey.size()) != kCrcKey || line[line.size() - 2] != '"') {
    return std::string("the line does not end with the \"crc32\" member (incomplete or not a journal line)");
  }
  const std::size_t member_start = line.size() - kCrcSuffixSize;
  const auto stored = parse_hex8(line.substr(member_start + kCrcKey.size(), 8));
  if (!stored) return std::string("the \"crc32\" member is not 8 lowercase hex digits");
  // The record's own text: everything before `,"crc32"...` plus the closing brace, or `{}` when
  // the record was empty and the member directly follows the opening brace.
  std::string original;
  if (member_start == 1 && line[0] == '{') {
    original = "{}";
  } else if (line[member_start - 1] == ',') {
    original.assign(line.substr(0, member_start - 1));
    original += '}';
  } else {
    return std::string("the \"crc32\" member is not a member of the line's object");
  }
  const uint32_t computed = crc32(original);
  if (computed != *stored) {
    return "CRC mismatch (stored " + hex8(*stored) + ", computed " + hex8(computed) + ")";
  }
  try {
    *record = nlohmann::ordered_json::parse(original);
  } catch (const nlohmann::json::exception& error) {  // parse_error, or out_of_range for a huge number
    return std::string("not valid JSON: ") + error.what();
  }
  if (!record->is_object()) return std::string("not a JSON object");
  // journal_line refuses such records, so the line was not written by it (fuzzing found lines
  // sealed twice, whose records then carried a "crc32" of their own).
  if (record->contains("crc32")) return std::string("the record has a second \"crc32\" member");
  return std::nullopt;
}

// The whole file, or nullopt when it does not exist.
std::optional<std::string> read_file_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int error = errno;
    std::error_code ec;
    if (!std::filesystem::exists(path, ec) && !ec) return std::nullopt;
    throw InputError(path.string() + ": cannot read the journal: " + errno_text(error));
  }
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (in.bad()) throw InputError(path.string() + ": cannot read the journal: read error");
  return std::move(bytes).str();
}

// Where the torn last line starts: the byte count to keep so that the file holds only the
// lines read_journal accepts (as long as the earlier lines are sound). A last line without
// '\n' is torn whatever it contains: the writer's single write() did not finish.
std::size_t sound_prefix_size(const std::string& bytes) {
  if (bytes.empty()) return 0;
  if (bytes.back() != '\n') {
    const auto last_newline = bytes.rfind('\n');
    return last_newline == std::string::npos ? 0 : last_newline + 1;
  }
  // (A file of one "\n" has no byte before its newline: its last line starts at 0.)
  const auto previous_newline = bytes.size() < 2 ? std::string::npos : bytes.rfind('\n', bytes.size() - 2);
  const std::size_t line_start = previous_newline == std::string::npos ? 0 : previous_newline + 1;
  nlohmann::ordered_json record;
  const std::string_view last_line(bytes.data() + line_start, bytes.size() - 1 - line_start);
  return verify_line(last_line, &record) ? line_start : bytes.size();
}

void fsync_directory(const std::filesystem::path& folder) {
  const int fd = ::open(folder.empty() ? "." : folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;  // best effort: the file itself is fsync'd on every append
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

uint32_t crc32(std::string_view bytes) {
  uint32_t c = 0xFFFFFFFFu;
  for (const char byte : bytes) c = kCrcTable[(c ^ static_cast<unsigned char>(byte)) & 0xFFu] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

std::string journal_line(const nlohmann::ordered_json& record) {
  if (!record.is_object()) throw std::invalid_argument("journal_line: a journal record must be a JSON object");
  if (record.contains("crc32")) throw std::invalid_argument("journal_line: the record already has a \"crc32\" member");
  // Invalid UTF-8 in a string is replaced rather than thrown: losing a trial's record over
  // one bad byte in a message would be worse than a replacement character.
  std::string line = record.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  const std::string member = std::string(kCrcKey) + hex8(crc32(line)) + "\"}";
  line.pop_back();  // the closing brace
  if (!record.empty()) line += ',';
  line += member;
  return line;
}

JournalWriter::JournalWriter(const std::filesystem::path& path) : path_(path) {
  std::error_code ec;
  if (path_.has_parent_path()) {
    std::filesystem::create_directories(path_.parent_path(), ec);
    if (ec) throw InputError(path_.string() + ": cannot create the journal's folder: " + ec.message());
  }
  const bool existed = std::filesystem::exists(path_, ec);
  fd_ = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw InputError(path_.string() + ": cannot open the journal for appending: " + errno_text(errno));
  if (!existed) {
    fsync_directory(path_.parent_path());  // the new file's name must survive a crash too
    return;
  }
  struct stat status {};
  if (::fstat(fd_, &status) != 0 || !S_ISREG(status.st_mode)) return;  // a device or pipe has no torn line
  try {
    const auto bytes = read_file_bytes(path_).value_or(std::string());
    const std::size_t keep = sound_prefix_size(bytes);
    if (keep < bytes.size()) {
      if (::ftruncate(fd_, static_cast<off_t>(keep)) != 0 || ::fsync(fd_) != 0) {
        throw InputError(path_.string() + ": cannot cut off the journal's torn last line: " + errno_text(errno));
      }
      spdlog::warn("{}: dropped a torn last line ({} bytes) left by an interrupted run", path_.string(),
                   bytes.size() - keep);
    }
  } catch (...) {
    ::close(fd_);
    fd_ = -1;
    throw;
  }
}

JournalWriter::JournalWriter(JournalWriter&& other) noexcept
    : path_(std::move(other.path_)), fd_(std::exchange(other.fd_, -1)) {}

JournalWriter& JournalWriter::operator=(JournalWriter&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    path_ = std::move(other.path_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

JournalWriter::~JournalWriter() {
  if (fd_ >= 0) ::close(fd_);
}

void JournalWriter::append(const nlohmann::ordered_json& record) {
  if (fd_ < 0) throw std::logic_error("JournalWriter::append on a moved-from writer");
  const std::string text = journal_line(record) + '\n';
  // The size before the write lets a failed write be undone, so that a half line never ends
  // up in the middle of the journal once later appends succeed.
  struct stat before {};
  const bool know_size = ::fstat(fd_, &before) == 0;
  fault_point("journal_append", [&] { (void)!::write(fd_, text.data(), text.size() / 2); });
  std::size_t written = 0;
  while (written < text.size()) {
    const ssize_t n = ::write(fd_, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int error = n < 0 ? errno : EIO;
      if (know_size && written > 0) (void)::ftruncate(fd_, before.st_size);
      throw InputError(path_.string() + ": cannot append to the journal: " + errno_text(error));
    }
    written += static_cast<std::size_t>(n);
  }
  while (::fsync(fd_) != 0) {
    if (errno != EINTR) throw InputError(path_.string() + ": cannot fsync the journal: " + errno_text(errno));
  }
}

JournalContents read_journal(const std::filesystem::path& path) {
  JournalContents contents;
  const auto bytes = read_file_bytes(path);
  if (!bytes) return contents;
  const std::string& text = *bytes;
  std::size_t line_start = 0;
  for (int line_number = 1; line_start < text.size(); ++line_number) {
    const auto newline = text.find('\n', line_start);
    const bool complete = newline != std::string::npos;
    const std::size_t line_end = complete ? newline : text.size();
    const bool last = line_end + 1 >= text.size();
    const std::string_view line(text.data() + line_start, line_end - line_start);
    nlohmann::ordered_json record;
    const auto problem = complete ? verify_line(line, &record) : std::optional<std::string>("no final newline");
    if (problem) {
      if (last) {
        contents.torn_tail = true;  // an interrupted append; the writer cuts it off too
        break;
      }
      throw InputError(path.string() + " line " + std::to_string(line_number) + ": " + *problem);
    }
    contents.records.push_back(std::move(record));
    line_start = line_end + 1;
  }
  return contents;
}

}  // namespace heretic::io
