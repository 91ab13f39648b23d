// The memory report's measurements: this process's peak resident memory follows what it
// touches, and the node's memory is known.
#include "io/memory_usage.h"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>

namespace heretic::io {
namespace {

TEST(MemoryUsage, ThePeakGrowsWithWhatTheProcessTouches) {
  const MemorySample before = sample_memory();
  ASSERT_GT(before.resident_bytes, 0);
  ASSERT_GE(before.peak_resident_bytes, before.resident_bytes);
  constexpr size_t kBytes = 256u << 20;
  {
    std::unique_ptr<char[]> block(new char[kBytes]);
    std::memset(block.get(), 1, kBytes);  // resident only once written
    const MemorySample during = sample_memory();
    EXPECT_GE(during.resident_bytes, before.resident_bytes + static_cast<int64_t>(kBytes) * 9 / 10);
    EXPECT_GE(during.peak_resident_bytes, during.resident_bytes);
    volatile char keep = block[kBytes - 1];
    (void)keep;
  }
  // Freed memory leaves the resident set; the peak remembers it.
  const MemorySample after = sample_memory();
  EXPECT_GE(after.peak_resident_bytes, before.resident_bytes + static_cast<int64_t>(kBytes) * 9 / 10);
}

TEST(MemoryUsage, TheNodeAllowsMoreThanThisProcessHolds) {
  const int64_t node = node_memory_bytes();
  EXPECT_GT(node, sample_memory().peak_resident_bytes);
}

TEST(MemoryUsage, BytesAreShownInBinaryUnits) {
  EXPECT_EQ(format_bytes(512), "512 B");
  EXPECT_EQ(format_bytes(3 << 10), "3 KiB");
  EXPECT_EQ(format_bytes(312LL << 20), "312.0 MiB");
  EXPECT_EQ(format_bytes(3LL << 29), "1.50 GiB");
}

}  // namespace
}  // namespace heretic::io
