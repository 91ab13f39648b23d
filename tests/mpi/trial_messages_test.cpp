// The trial farm's wire format: every message type survives the trip, and damaged bytes, a
// message of another version or of an unknown type are errors that say so, never a crash.
#include "mpi/trial_messages.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "common/fnv_hash.h"

namespace heretic::dist {
namespace {

// Re-seals `bytes` (without its checksum) with a valid checksum.
std::string seal(std::string body) {
  const uint64_t hash = fnv1a(body.data(), body.size());
  for (size_t i = 0; i < 8; ++i) body.push_back(static_cast<char>((hash >> (8 * i)) & 0xff));
  return body;
}

std::string unseal(const std::string& bytes) { return bytes.substr(0, bytes.size() - 8); }

std::string error_of(const std::string& bytes) {
  try {
    decode_message(bytes);
  } catch (const WireError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(TrialMessages, AssignmentRoundTrips) {
  TrialAssignment a;
  a.number = 41;
  a.params = {{"direction_scope", 1.0}, {"direction_index", 2.0546875}, {"mlp.down_proj.max_weight", -0.0},
              {"attn.o_proj.min_weight", std::numeric_limits<double>::denorm_min()}};
  const auto decoded = std::get<TrialAssignment>(decode_message(encode_message(a)));
  EXPECT_EQ(decoded.number, 41);
  EXPECT_EQ(decoded.params, a.params);
  EXPECT_TRUE(std::signbit(decoded.params[2].second));  // bit for bit, sign of zero included
}

TEST(TrialMessages, OutcomeRoundTrips) {
  TrialOutcome o;
  o.number = 7;
  o.failed = true;
  o.error = "out of memory at batch size 1 (ünïcode)";
  o.scores = {{3.0, 100}, {0.0123456789, 100}, {std::nan(""), 0}};
  o.seconds = 12.5;
  o.stop_signal = 15;
  const auto decoded = std::get<TrialOutcome>(decode_message(encode_message(o)));
  EXPECT_EQ(decoded.number, 7);
  EXPECT_TRUE(decoded.failed);
  EXPECT_EQ(decoded.error, o.error);
  ASSERT_EQ(decoded.scores.size(), 3u);
  EXPECT_EQ(decoded.scores[1].sum, 0.0123456789);
  EXPECT_EQ(decoded.scores[0].count, 100);
  EXPECT_TRUE(std::isnan(decoded.scores[2].sum));
  EXPECT_EQ(decoded.seconds, 12.5);
  EXPECT_EQ(decoded.stop_signal, 15);
}

TEST(TrialMessages, ShutdownRoundTrips) {
  EXPECT_TRUE(std::holds_alternative<Shutdown>(decode_message(encode_message(Shutdown{}))));
}

TEST(TrialMessages, EveryFlippedByteIsDetected) {
  TrialAssignment a;
  a.number = 3;
  a.params = {{"x", 0.25}};
  const std::string bytes = encode_message(a);
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::string damaged = bytes;
    damaged[i] = static_cast<char>(damaged[i] ^ 0x10);
    EXPECT_NE(error_of(damaged).find("trial farm message"), std::string::npos) << "byte " << i;
  }
}

TEST(TrialMessages, TruncatedAndPaddedMessagesAreErrors) {
  const std::string bytes = encode_message(TrialOutcome{});
  for (size_t n = 0; n < bytes.size(); ++n) EXPECT_NE(error_of(bytes.substr(0, n)), "(no error)") << n;
  EXPECT_NE(error_of(seal(unseal(bytes) + "x")).find("unexpected trailing bytes"), std::string::npos);
  // A length field that points past the end, with a valid checksum.
  std::string body = unseal(encode_message(TrialAssignment{}));
  body.replace(6, 4, std::string("\x05\x00\x00\x00", 4));  // one parameter, then nothing
  EXPECT_NE(error_of(seal(body)).find("truncated"), std::string::npos) << error_of(seal(body));
  body.replace(6, 4, std::string("\xff\xff\xff\x7f", 4));
  EXPECT_NE(error_of(seal(body)).find("implausible"), std::string::npos) << error_of(seal(body));
}

TEST(TrialMessages, AnotherVersionOrTypeIsRefusedByName) {
  std::string body = unseal(encode_message(Shutdown{}));
  body[0] = static_cast<char>(kTrialWireVersion + 1);
  const std::string version = error_of(seal(body));
  EXPECT_NE(version.find("version 2, expected 1"), std::string::npos) << version;
  EXPECT_NE(version.find("same heretic-mpi"), std::string::npos) << version;
  body[0] = static_cast<char>(kTrialWireVersion);
  body[1] = 9;
  EXPECT_NE(error_of(seal(body)).find("unknown message type"), std::string::npos);
}

}  // namespace
}  // namespace heretic::dist
