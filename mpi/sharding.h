// How the ranks of a communicator share a list of items (prompts): contiguous shards in rank
// order, so that concatenating the shards gives the list, and a gather in rank order gives the
// items in their original order.
#pragma once

#include <cstddef>
#include <utility>

namespace heretic::dist {

// [begin, end) of `rank`'s share of n items split over `size` ranks; the first n % size ranks
// get one more.
std::pair<size_t, size_t> shard_range(size_t n, int rank, int size);

}  // namespace heretic::dist
