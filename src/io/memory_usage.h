// What this process and its node have in memory (Linux /proc and cgroups), for the memory
// report of a run: each rank's resident memory, its peak, and the memory the node (or the
// job's cgroup, under Slurm) allows.
#pragma once

#include <cstdint>
#include <string>

namespace heretic::io {

struct MemorySample {
  int64_t resident_bytes = 0;       // VmRSS now
  int64_t peak_resident_bytes = 0;  // VmHWM: the most this process has held so far
};

// This process's resident memory; zeros where /proc is not available.
MemorySample sample_memory();

// The memory this process may use on its node: the smaller of the node's MemTotal and the
// limit of its cgroup (v2 memory.max or v1 memory.limit_in_bytes), 0 when unknown.
int64_t node_memory_bytes();

// "1.50 GiB", "312.0 MiB", "12 KiB".
std::string format_bytes(int64_t bytes);

}  // namespace heretic::io
