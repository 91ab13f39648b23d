#include "mpi/sharding.h"

#include <algorithm>

namespace heretic::dist {

std::pair<size_t, size_t> shard_range(size_t n, int rank, int size) {
  const auto r = static_cast<size_t>(rank);
  const auto s = static_cast<size_t>(size);
  const size_t base = n / s;
  const size_t extra = n % s;
  const size_t begin = r * base + std::min(r, extra);
  return {begin, begin + base + (r < extra ? 1 : 0)};
}

}  // namespace heretic::dist
