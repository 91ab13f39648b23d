#include "mpi/trial_messages.h"

#include <cstring>
#include <type_traits>

#include "common/fnv_hash.h"

namespace heretic::dist {
namespace {

enum class MessageType : uint8_t { kAssignment = 1, kOutcome = 2, kShutdown = 3 };

// Bounds a corrupted length field cannot exceed (a real trial has ~10 parameters and a few
// scorers).
constexpr uint32_t kMaxItems = 4096;
constexpr uint32_t kMaxText = 1u << 20;

class Writer {
 public:
  void u8(uint8_t v) { bytes_.push_back(static_cast<char>(v)); }
  void u32(uint32_t v) { little_endian(v); }
  void i32(int32_t v) { little_endian(static_cast<uint32_t>(v)); }
  void i64(int64_t v) { little_endian(static_cast<uint64_t>(v)); }
  void u64(uint64_t v) { little_endian(v); }
  void f64(double v) {
    uint64_t bits = 0;
    std::memcpy(&bits, &v, sizeof bits);
    little_endian(bits);
  }
  void text(const std::string& s) {
    u32(static_cast<uint32_t>(s.size()));
    bytes_ += s;
  }
  std::string finish() {
    u64(fnv1a(bytes_.data(), bytes_.size()));
    return std::move(bytes_);
  }

 private:
  template <typename T>
  void little_endian(T v) {
    for (size_t i = 0; i < sizeof(T); ++i) bytes_.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }
  std::string bytes_;
};

class Reader {
 public:
  explicit Reader(std::string_view bytes) : bytes_(bytes) {}
  uint8_t u8() { return static_cast<uint8_t>(take(1)[0]); }
  uint32_t u32() { return little_endian<uint32_t>(); }
  int32_t i32() { return static_cast<int32_t>(little_endian<uint32_t>()); }
  int64_t i64() { return static_cast<int64_t>(little_endian<uint64_t>()); }
  uint64_t u64() { return little_endian<uint64_t>(); }
  double f64() {
    const uint64_t bits = little_endian<uint64_t>();
    double v = 0;
    std::memcpy(&v, &bits, sizeof v);
    return v;
  }
  uint32_t count(const char* what) {
    const uint32_t n = u32();
    if (n > kMaxItems) fail(std::string(what) + " count " + std::to_string(n) + " is implausible");
    return n;
  }
  std::string text(const char* what) {
    const uint32_t n = u32();
    if (n > kMaxText) fail(std::string(what) + " length " + std::to_string(n) + " is implausible");
    return std::string(take(n));
  }
  size_t offset() const { return offset_; }
  [[noreturn]] void fail(const std::string& what) const {
    throw WireError("trial farm message (" + std::to_string(bytes_.size()) + " bytes): " + what + " at byte " +
                    std::to_string(offset_));
  }

 private:
  std::string_view take(size_t n) {
    if (n > bytes_.size() - offset_) fail("truncated (needs " + std::to_string(n) + " more bytes)");
    const std::string_view part = bytes_.substr(offset_, n);
    offset_ += n;
    return part;
  }
  template <typename T>
  T little_endian() {
    const std::string_view part = take(sizeof(T));
    T v = 0;
    for (size_t i = 0; i < sizeof(T); ++i) v |= static_cast<T>(static_cast<unsigned char>(part[i])) << (8 * i);
    return v;
  }
  std::string_view bytes_;
  size_t offset_ = 0;
};

}  // namespace

std::string encode_message(const FarmMessage& message) {
  Writer w;
  w.u8(kTrialWireVersion);
  std::visit(
      [&w](const auto& m) {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, TrialAssignment>) {
          w.u8(static_cast<uint8_t>(MessageType::kAssignment));
          w.i32(m.number);
          w.u32(static_cast<uint32_t>(m.params.size()));
          for (const auto& [name, value] : m.params) {
            w.text(name);
            w.f64(value);
          }
        } else if constexpr (std::is_same_v<T, TrialOutcome>) {
          w.u8(static_cast<uint8_t>(MessageType::kOutcome));
          w.i32(m.number);
          w.u8(m.failed ? 1 : 0);
          w.text(m.error);
          w.u32(static_cast<uint32_t>(m.scores.size()));
          for (const ScoreSum& s : m.scores) {
            w.f64(s.sum);
            w.i64(s.count);
          }
          w.f64(m.seconds);
          w.i32(m.stop_signal);
        } else {
          w.u8(static_cast<uint8_t>(MessageType::kShutdown));
        }
      },
      message);
  return w.finish();
}

FarmMessage decode_message(std::string_view bytes) {
  Reader header(bytes);
  if (bytes.size() < 2 + sizeof(uint64_t)) header.fail("too short for a message");
  const std::string_view body = bytes.substr(0, bytes.size() - sizeof(uint64_t));
  Reader checksum(bytes.substr(body.size()));
  if (checksum.u64() != fnv1a(body.data(), body.size())) {
    throw WireError("trial farm message (" + std::to_string(bytes.size()) + " bytes): checksum mismatch (corrupted)");
  }
  Reader r(body);
  const uint8_t version = r.u8();
  if (version != kTrialWireVersion) {
    r.fail("version " + std::to_string(version) + ", expected " + std::to_string(kTrialWireVersion) +
           " (every rank must run the same heretic-mpi)");
  }
  FarmMessage message;
  switch (static_cast<MessageType>(r.u8())) {
    case MessageType::kAssignment: {
      TrialAssignment a;
      a.number = r.i32();
      const uint32_t n = r.count("parameter");
      for (uint32_t i = 0; i < n; ++i) {
        std::string name = r.text("parameter name");
        const double value = r.f64();
        a.params.emplace_back(std::move(name), value);
      }
      message = std::move(a);
      break;
    }
    case MessageType::kOutcome: {
      TrialOutcome o;
      o.number = r.i32();
      const uint8_t failed = r.u8();
      if (failed > 1) r.fail("failed flag " + std::to_string(failed));
      o.failed = failed == 1;
      o.error = r.text("error");
      const uint32_t n = r.count("score");
      for (uint32_t i = 0; i < n; ++i) {
        ScoreSum s;
        s.sum = r.f64();
        s.count = r.i64();
        o.scores.push_back(s);
      }
      o.seconds = r.f64();
      o.stop_signal = r.i32();
      message = std::move(o);
      break;
    }
    case MessageType::kShutdown:
      message = Shutdown{};
      break;
    default:
      r.fail("unknown message type");
  }
  if (r.offset() != body.size()) r.fail(std::to_string(body.size() - r.offset()) + " unexpected trailing bytes");
  return message;
}

}  // namespace heretic::dist
