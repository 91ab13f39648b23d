// Memory sizes as people (and transformers' max_shard_size) write them: "5GB", "500MB", "2GiB",
// "80 GiB", "1.5TB" or a byte count. Binary units (KiB, MiB, GiB, TiB) are powers of 1024,
// decimal ones (KB, MB, GB, TB) of 1000; units are case-insensitive.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace heretic::config {

// The number of bytes, or nullopt when `text` is not a size of at least one byte.
std::optional<int64_t> parse_byte_size(const std::string& text);

}  // namespace heretic::config
