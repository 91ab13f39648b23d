// Decompression of Parquet pages: UNCOMPRESSED, SNAPPY (libsnappy), GZIP (zlib) and ZSTD
// (libzstd). Other codecs are refused with their name.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace heretic::data::parquet {

// Decompresses one page body of `size` bytes that must expand to exactly `uncompressed_size`
// bytes. `where` ("file.parquet: column 'text', page at byte offset N") prefixes every error.
std::vector<uint8_t> decompress_page(int32_t codec, const uint8_t* data, size_t size,
                                     size_t uncompressed_size, const std::string& where);

}  // namespace heretic::data::parquet
