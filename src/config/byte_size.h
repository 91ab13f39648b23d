// Memory sizes as people write them: "80GiB", "24 GB", "512MiB", "1.5TiB", "1000000" (bytes).
// Binary units (KiB, MiB, GiB, TiB) are powers of 1024, decimal ones (kB, MB, GB, TB) of 1000.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace heretic::config {

// The number of bytes, or nullopt when `text` is not a positive size.
std::optional<int64_t> parse_byte_size(const std::string& text);

}  // namespace heretic::config
