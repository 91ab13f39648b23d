#include "data/parquet_codecs.h"

#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>

#include <climits>

#include "common/error.h"
#include "data/parquet_encoding.h"
#include "data/parquet_metadata.h"

namespace heretic::data::parquet {
namespace {

// deflate cannot expand data more than about 1032:1; a page header that claims more is corrupt,
// and refusing it early keeps a corrupt file from making us allocate gigabytes.
constexpr size_t kMaxDeflateRatio = 1032;
// Writers cut pages at about 1 MiB; a page header that claims more than this is corrupt (and
// would otherwise make a tiny file allocate gigabytes).
constexpr size_t kMaxPageBytes = size_t{256} << 20;

std::vector<uint8_t> snappy_decompress(const uint8_t* data, size_t size, size_t expected,
                                       const std::string& where) {
  const auto* input = reinterpret_cast<const char*>(data);
  size_t length = 0;
  if (snappy_uncompressed_length(input, size, &length) != SNAPPY_OK || length != expected) {
    fail_at(where, "SNAPPY data does not expand to the " + std::to_string(expected) +
                    " bytes the page header announces");
  }
  std::vector<uint8_t> output(expected);
  size_t written = expected;
  if (snappy_uncompress(input, size, reinterpret_cast<char*>(output.data()), &written) !=
          SNAPPY_OK ||
      written != expected) {
    fail_at(where, "corrupt SNAPPY data");
  }
  return output;
}

std::vector<uint8_t> gzip_decompress(const uint8_t* data, size_t size, size_t expected,
                                     const std::string& where) {
  if (expected / kMaxDeflateRatio > size + 64) fail_at(where, "GZIP page size is implausible");
  if (size > UINT_MAX || expected > UINT_MAX) fail_at(where, "GZIP page too large");
  std::vector<uint8_t> output(expected);
  z_stream stream{};
  // 15 + 32: a window of 32 KiB, and accept both gzip and zlib headers.
  if (inflateInit2(&stream, 15 + 32) != Z_OK) fail_at(where, "zlib could not be initialised");
  stream.next_in = const_cast<Bytef*>(data);
  stream.avail_in = static_cast<uInt>(size);
  stream.next_out = output.data();
  stream.avail_out = static_cast<uInt>(expected);
  int status = Z_OK;
  while (true) {
    status = inflate(&stream, Z_FINISH);
    // Some writers emit several gzip members back to back: continue with the next one.
    if (status == Z_STREAM_END && stream.avail_in > 0 && stream.avail_out > 0) {
      if (inflateReset(&stream) != Z_OK) break;
      continue;
    }
    break;
  }
  const size_t written = expected - stream.avail_out;
  inflateEnd(&stream);
  if (status != Z_STREAM_END || written != expected) {
    fail_at(where, "corrupt GZIP data (expanded to " + std::to_string(written) + " of " +
                    std::to_string(expected) + " bytes)");
  }
  return output;
}

std::vector<uint8_t> zstd_decompress(const uint8_t* data, size_t size, size_t expected,
                                     const std::string& where) {
  const unsigned long long content_size = ZSTD_getFrameContentSize(data, size);
  if (content_size == ZSTD_CONTENTSIZE_ERROR) fail_at(where, "corrupt ZSTD data (no frame header)");
  if (content_size != ZSTD_CONTENTSIZE_UNKNOWN && content_size > expected) {
    fail_at(where, "ZSTD frame expands to " + std::to_string(content_size) + " bytes, more than the " +
                    std::to_string(expected) + " the page header announces");
  }
  std::vector<uint8_t> output(expected);
  const size_t written = ZSTD_decompress(output.data(), expected, data, size);
  if (ZSTD_isError(written))
    fail_at(where, std::string("corrupt ZSTD data: ") + ZSTD_getErrorName(written));
  if (written != expected) {
    fail_at(where, "ZSTD data expands to " + std::to_string(written) + " bytes, not " +
                    std::to_string(expected));
  }
  return output;
}

}  // namespace

std::vector<uint8_t> decompress_page(int32_t codec, const uint8_t* data, size_t size,
                                     size_t uncompressed_size, const std::string& where) {
  if (uncompressed_size > kMaxPageBytes) {
    fail_at(where, "page of " + std::to_string(uncompressed_size) +
                    " bytes exceeds the reader's limit of " + std::to_string(kMaxPageBytes) +
                    " bytes");
  }
  switch (static_cast<Codec>(codec)) {
    case Codec::kUncompressed:
      if (size != uncompressed_size) {
        fail_at(where, "uncompressed page of " + std::to_string(size) + " bytes announces " +
                        std::to_string(uncompressed_size));
      }
      return std::vector<uint8_t>(data, data + size);
    case Codec::kSnappy:
      return snappy_decompress(data, size, uncompressed_size, where);
    case Codec::kGzip:
      return gzip_decompress(data, size, uncompressed_size, where);
    case Codec::kZstd:
      return zstd_decompress(data, size, uncompressed_size, where);
    default:
      break;
  }
  fail_at(where, "compression codec " + codec_name(codec) +
                  " is not supported (supported: UNCOMPRESSED, SNAPPY, GZIP, ZSTD); rewrite the "
                  "file with one of those, e.g. pyarrow.parquet.write_table(t, f, "
                  "compression='zstd')");
}

}  // namespace heretic::data::parquet
