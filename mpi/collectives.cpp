#include "mpi/collectives.h"

#include <algorithm>
#include <cstdint>
#include <stdexcept>

namespace heretic::dist {

std::string broadcast_string(Communicator& comm, const std::string& value, int root) {
  uint64_t size = value.size();
  comm.broadcast(&size, sizeof size, root);
  std::string result = comm.rank() == root ? value : std::string(size, '\0');
  if (size > 0) comm.broadcast(result.data(), size, root);
  return result;
}

std::vector<std::string> gather_to_rank0(Communicator& comm, const std::string& mine) {
  // Tags of their own, so that the pieces never meet other point-to-point traffic.
  constexpr int kTagSize = 301;
  constexpr int kTagPiece = 302;
  constexpr size_t kPiece = size_t{1} << 28;
  if (comm.rank() != 0) {
    const uint64_t size = mine.size();
    comm.send(&size, sizeof size, 0, kTagSize);
    for (size_t offset = 0; offset < mine.size(); offset += kPiece) {
      comm.send(mine.data() + offset, std::min(kPiece, mine.size() - offset), 0, kTagPiece);
    }
    return {};
  }
  std::vector<std::string> all{mine};
  for (int r = 1; r < comm.size(); ++r) {
    uint64_t size = 0;
    const auto header = comm.receive(r, kTagSize);
    if (header.bytes.size() != sizeof size) throw std::runtime_error("gather_to_rank0: malformed size message");
    std::copy(header.bytes.begin(), header.bytes.end(), reinterpret_cast<char*>(&size));
    std::string bytes;
    bytes.reserve(size);
    while (bytes.size() < size) bytes += comm.receive(r, kTagPiece).bytes;
    if (bytes.size() != size) throw std::runtime_error("gather_to_rank0: rank " + std::to_string(r) + " sent too much");
    all.push_back(std::move(bytes));
  }
  return all;
}

}  // namespace heretic::dist
