// FNV-1a (64 bit): the fingerprints that tell whether a configuration or the refusal
// directions changed between runs (journal header, rank agreement), and the integrity check
// of the trial farm's messages. Not cryptographic.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

namespace heretic {

inline uint64_t fnv1a(const void* data, size_t bytes) {
  uint64_t hash = 1469598103934665603ULL;
  const auto* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < bytes; ++i) {
    hash ^= p[i];
    hash *= 1099511628211ULL;
  }
  return hash;
}

// As 16 hex digits.
inline std::string fnv1a_hex(const void* data, size_t bytes) {
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(fnv1a(data, bytes)));
  return text;
}

}  // namespace heretic
