// Adaptive batch sizes (Heretic issue #248): halve on out-of-memory, retry the failed chunk,
// remember the size; any other error, or an out-of-memory at size 1, reaches the caller.
#include <gtest/gtest.h>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>
#include <torch/utils.h>

#include <new>
#include <stdexcept>
#include <utility>
#include <vector>

#include "eval/adaptive_batch.h"

namespace heretic::eval {
namespace {

using Chunk = std::pair<int64_t, int64_t>;

// Routes spdlog's default logger into memory for one test.
class CapturedLog {
 public:
  CapturedLog() : sink_(std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(64)), previous_(spdlog::default_logger()) {
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("captured", sink_));
  }
  ~CapturedLog() { spdlog::set_default_logger(previous_); }
  std::vector<std::string> lines() const { return sink_->last_formatted(); }

 private:
  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> sink_;
  std::shared_ptr<spdlog::logger> previous_;
};

TEST(BatchSizer, HalvesOnOutOfMemoryAndCoversEveryItemOnceInOrder) {
  CapturedLog log;
  BatchSizer sizer("generation", 8);
  std::vector<Chunk> done;
  int failures = 0;
  sizer.for_each_chunk(10, [&](int64_t begin, int64_t end) {
    if (end - begin > 3) {
      ++failures;
      throw std::bad_alloc();
    }
    done.emplace_back(begin, end);
  });
  EXPECT_EQ(failures, 2);  // 8 and 4 failed
  EXPECT_EQ(done, (std::vector<Chunk>{{0, 2}, {2, 4}, {4, 6}, {6, 8}, {8, 10}}));
  EXPECT_EQ(sizer.size(), 2);
  const auto lines = log.lines();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_NE(lines[0].find("generation: out of memory at batch size 8, retrying with 4"), std::string::npos) << lines[0];
  EXPECT_NE(lines[1].find("generation: out of memory at batch size 4, retrying with 2"), std::string::npos) << lines[1];

  // The size is remembered: the next call starts at 2 and does not fail again.
  done.clear();
  sizer.for_each_chunk(5, [&](int64_t begin, int64_t end) {
    if (end - begin > 3) ++failures;
    done.emplace_back(begin, end);
  });
  EXPECT_EQ(failures, 2);
  EXPECT_EQ(done, (std::vector<Chunk>{{0, 2}, {2, 4}, {4, 5}}));
}

TEST(BatchSizer, HalvesTheShortLastChunkItTried) {
  CapturedLog log;
  BatchSizer sizer("logits", 8);
  std::vector<Chunk> done;
  // 11 items: [0, 8) works, the remaining 3 fail together.
  sizer.for_each_chunk(11, [&](int64_t begin, int64_t end) {
    if (begin == 8 && end - begin > 1) throw std::bad_alloc();
    done.emplace_back(begin, end);
  });
  EXPECT_EQ(done, (std::vector<Chunk>{{0, 8}, {8, 9}, {9, 10}, {10, 11}}));
  EXPECT_EQ(sizer.size(), 1);
}

TEST(BatchSizer, OtherErrorsPropagateAtOnce) {
  BatchSizer sizer("residuals", 8);
  int calls = 0;
  EXPECT_THROW(sizer.for_each_chunk(10,
                                    [&](int64_t, int64_t) {
                                      ++calls;
                                      throw std::runtime_error("shape mismatch");
                                    }),
               std::runtime_error);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(sizer.size(), 8);
}

TEST(BatchSizer, OutOfMemoryAtSizeOnePropagates) {
  CapturedLog log;
  BatchSizer sizer("generation", 4);
  std::vector<int64_t> tried;
  EXPECT_THROW(sizer.for_each_chunk(10,
                                    [&](int64_t begin, int64_t end) {
                                      tried.push_back(end - begin);
                                      throw std::bad_alloc();
                                    }),
               std::bad_alloc);
  EXPECT_EQ(tried, (std::vector<int64_t>{4, 2, 1}));
}

TEST(BatchSizer, NothingToDoForNoItems) {
  BatchSizer sizer("generation", 4);
  int calls = 0;
  sizer.for_each_chunk(0, [&](int64_t, int64_t) { ++calls; });
  EXPECT_EQ(calls, 0);
  EXPECT_THROW(BatchSizer("generation", 0), std::invalid_argument);
}

template <typename Throw>
bool out_of_memory_of(Throw action) {
  try {
    action();
  } catch (const std::exception& error) {
    return is_out_of_memory(error);
  }
  ADD_FAILURE() << "nothing thrown";
  return false;
}

TEST(IsOutOfMemory, RecognisesTorchAndStandardOutOfMemoryOnly) {
  EXPECT_TRUE(out_of_memory_of([] { throw std::bad_alloc(); }));
  // libtorch 1.13's CUDA allocator: a c10::Error with this message.
  EXPECT_TRUE(out_of_memory_of([] { TORCH_CHECK(false, "CUDA out of memory. Tried to allocate 2.00 GiB"); }));
  // libtorch 2.x: c10::OutOfMemoryError.
  EXPECT_TRUE(out_of_memory_of([] { TORCH_CHECK_WITH(OutOfMemoryError, false, "XPU ran short"); }));
  // The CPU allocator.
  EXPECT_TRUE(out_of_memory_of(
      [] { TORCH_CHECK(false, "DefaultCPUAllocator: can't allocate memory: you tried to allocate 1 bytes"); }));
  EXPECT_FALSE(out_of_memory_of([] { TORCH_CHECK(false, "mat1 and mat2 shapes cannot be multiplied"); }));
  EXPECT_FALSE(out_of_memory_of([] { throw std::runtime_error("out of memory"); }));
}

}  // namespace
}  // namespace heretic::eval
