#include "eval/adaptive_batch.h"

#include <c10/util/Exception.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <new>
#include <stdexcept>
#include <utility>

namespace heretic::eval {

bool is_out_of_memory(const std::exception& error) {
  if (dynamic_cast<const std::bad_alloc*>(&error) != nullptr) return true;
  // c10::OutOfMemoryError is declared by libtorch 1.13 and 2.x alike; 2.x throws it for CUDA
  // (and other accelerators), while 1.13 throws a plain c10::Error, so the message decides
  // there. The CPU allocator reports "can't allocate memory" as a c10::Error in both.
  if (dynamic_cast<const c10::OutOfMemoryError*>(&error) != nullptr) return true;
  if (const auto* torch_error = dynamic_cast<const c10::Error*>(&error)) {
    const std::string& message = torch_error->msg();
    return message.find("out of memory") != std::string::npos ||
           message.find("can't allocate memory") != std::string::npos;
  }
  return false;
}

BatchSizer::BatchSizer(std::string operation, int64_t initial) : operation_(std::move(operation)), size_(initial) {
  if (initial < 1) throw std::invalid_argument(operation_ + ": the initial batch size must be at least 1");
}

void BatchSizer::for_each_chunk(int64_t n, const std::function<void(int64_t begin, int64_t end)>& fn) {
  int64_t begin = 0;
  while (begin < n) {
    const int64_t end = std::min(n, begin + size_);
    try {
      fn(begin, end);
    } catch (const std::exception& error) {
      if (!is_out_of_memory(error) || end - begin == 1) throw;
      // Halve what was tried (the last chunk may be shorter than size_) and retry the same
      // chunk; the smaller size stays for the rest of the run.
      const int64_t tried = end - begin;
      size_ = tried / 2;
      spdlog::warn("{}: out of memory at batch size {}, retrying with {}", operation_, tried, size_);
      continue;
    }
    begin = end;
  }
}

}  // namespace heretic::eval
