// Batch sizes per operation (residuals, logits, generation) that start at the configured size
// and halve on out-of-memory, retrying the failed batch, and remember the size for the rest of
// the run (no probing phase; Heretic issue #248). Torch-free header.
#pragma once

#include <cstdint>
#include <exception>
#include <functional>
#include <string>

namespace heretic::eval {

// True for a torch out-of-memory error (c10::OutOfMemoryError on libtorch 2.x, a c10::Error
// whose message says "out of memory" on 1.13) and std::bad_alloc.
bool is_out_of_memory(const std::exception& error);

class BatchSizer {
 public:
  // `operation` names the operation in log lines ("generation", ...). initial >= 1.
  BatchSizer(std::string operation, int64_t initial);

  int64_t size() const { return size_; }
  const std::string& operation() const { return operation_; }

  // Calls fn(begin, end) on consecutive chunks of [0, n) of at most size() items. When fn
  // throws an out-of-memory error, size() halves (a warning is logged) and the same chunk is
  // retried from `begin`; at size 1 the error propagates. Other errors propagate at once.
  void for_each_chunk(int64_t n, const std::function<void(int64_t begin, int64_t end)>& fn);

 private:
  std::string operation_;
  int64_t size_;
};

}  // namespace heretic::eval
