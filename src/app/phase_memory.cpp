#include "app/phase_memory.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "io/memory_usage.h"
#include "mpi/collectives.h"

namespace heretic::app {
namespace {

std::string share_text(int64_t bytes, int64_t node) {
  return node > 0 ? " (" + std::to_string(static_cast<int>(100.0 * static_cast<double>(bytes) / static_cast<double>(node) + 0.5)) +
                        "% of the " + io::format_bytes(node) + " this node allows)"
                  : "";
}

}  // namespace

PhaseMemory::PhaseMemory(int rank, double warning_share)
    : rank_(rank), warning_share_(warning_share), node_bytes_(io::node_memory_bytes()) {}

void PhaseMemory::record(const std::string& phase) {
  const io::MemorySample sample = io::sample_memory();
  phases_.push_back(phase);
  peaks_.push_back(sample.peak_resident_bytes);
  spdlog::debug("memory after {}: peak resident {}, resident now {}{}", phase, io::format_bytes(sample.peak_resident_bytes),
                io::format_bytes(sample.resident_bytes), share_text(sample.peak_resident_bytes, node_bytes_));
  if (!warned_ && node_bytes_ > 0 &&
      static_cast<double>(sample.peak_resident_bytes) > warning_share_ * static_cast<double>(node_bytes_)) {
    warned_ = true;
    spdlog::warn("rank {}: peak resident memory {} after {}{} is above output.memory_warning = {}: the job risks "
                 "being killed for memory (fewer ranks per node, or a smaller max_batch_size, lowers it)",
                 rank_, io::format_bytes(sample.peak_resident_bytes), phase, share_text(sample.peak_resident_bytes, node_bytes_),
                 warning_share_);
  }
}

io::MemoryTable PhaseMemory::gather(dist::Communicator& comm) const {
  const nlohmann::json mine = {{"node", node_bytes_}, {"peaks", peaks_}};
  const std::vector<std::string> all = dist::gather_to_rank0(comm, mine.dump());
  io::MemoryTable table;
  if (comm.rank() != 0) return table;
  table.phases = phases_;
  for (size_t r = 0; r < all.size(); ++r) {
    const auto rank = nlohmann::json::parse(all[r]);
    const auto peaks = rank.at("peaks").get<std::vector<int64_t>>();
    const int64_t node = rank.at("node").get<int64_t>();
    table.node_bytes.push_back(node);
    // Every rank goes through the same phases; a short list would be a bug, padded to keep the table square.
    for (size_t p = 0; p < phases_.size(); ++p) table.peak_bytes.push_back(p < peaks.size() ? peaks[p] : 0);
    const int64_t peak = peaks.empty() ? 0 : *std::max_element(peaks.begin(), peaks.end());
    if (r != 0 && node > 0 && static_cast<double>(peak) > warning_share_ * static_cast<double>(node)) {
      spdlog::warn("rank {}: peak resident memory {}{} is above output.memory_warning = {}", r, io::format_bytes(peak),
                   share_text(peak, node), warning_share_);
    }
  }
  return table;
}

}  // namespace heretic::app
