// Run under mpirun by nccl_communicator_test: each rank takes the GPU of its node-local rank,
// sums float32, float64 and bfloat16 buffers whose exact sums are known, broadcasts a byte
// pattern from the last rank, and checks every element. Exit code 0 only when every rank saw
// exactly the expected values; rank 0 then prints "all checks passed".
// With --bad-device-rank R, rank R asks for device 1000 instead (the failure path).
#include <cuda_runtime_api.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

#include "mpi/mpi_communicator.h"
#include "mpi/nccl_communicator.h"

namespace heretic::dist {
namespace {

void check(cudaError_t code, const char* call) {
  if (code != cudaSuccess) throw std::runtime_error(std::string(call) + ": " + cudaGetErrorString(code));
}

// Copies `host` to the device, runs `op` on the device copy, and copies the result back.
template <typename T, typename Op>
std::vector<T> on_device(const std::vector<T>& host, Op op) {
  void* device = nullptr;
  check(cudaMalloc(&device, host.size() * sizeof(T)), "cudaMalloc");
  check(cudaMemcpy(device, host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice), "cudaMemcpy");
  op(device);
  std::vector<T> back(host.size());
  check(cudaMemcpy(back.data(), device, host.size() * sizeof(T), cudaMemcpyDeviceToHost), "cudaMemcpy");
  check(cudaFree(device), "cudaFree");
  return back;
}

// bfloat16 is the upper half of a float32; the values used here are small integers, exact in both.
uint16_t to_bf16(float value) {
  uint32_t bits = 0;
  std::memcpy(&bits, &value, sizeof(bits));
  return static_cast<uint16_t>(bits >> 16);
}

// Counts the elements that differ from `expected` and reports the first one.
template <typename T>
int64_t mismatches(const char* what, int rank, const std::vector<T>& got, const std::vector<T>& expected) {
  int64_t wrong = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    if (got[i] == expected[i]) continue;
    if (wrong++ == 0) {
      std::fprintf(stderr, "rank %d: %s element %zu is %.17g, expected %.17g\n", rank, what, i,
                   static_cast<double>(got[i]), static_cast<double>(expected[i]));
    }
  }
  return wrong;
}

constexpr int kMissingDevice = 1000;

int run(Communicator& world, int bad_device_rank) {
  const int rank = world.rank();
  const int size = world.size();
  auto nccl = make_nccl_communicator(world, rank == bad_device_rank ? kMissingDevice : world.local_rank());
  cudaStream_t stream = nullptr;
  check(cudaStreamCreate(&stream), "cudaStreamCreate");
  // Rank r contributes (r + 1) * base[i], so the sum is S * base[i] with S = size (size + 1) / 2;
  // every partial sum is exactly representable, so any summation order gives exactly this.
  const int factor_sum = size * (size + 1) / 2;
  int64_t wrong = 0;

  // float32: an odd length, multiples of 1/4.
  {
    const size_t n = 1001;
    std::vector<float> mine(n), expected(n);
    for (size_t i = 0; i < n; ++i) {
      mine[i] = static_cast<float>(rank + 1) * static_cast<float>(i) * 0.25F;
      expected[i] = static_cast<float>(factor_sum) * static_cast<float>(i) * 0.25F;
    }
    const auto got = on_device(mine, [&](void* data) {
      nccl->allreduce_sum(data, n, DeviceDtype::kFloat32, stream);
      nccl->synchronize(stream);
    });
    wrong += mismatches("float32", rank, got, expected);
  }
  // float64: more than a million elements, so NCCL splits the work into many chunks.
  {
    const size_t n = (size_t{1} << 20) + 3;
    std::vector<double> mine(n), expected(n);
    for (size_t i = 0; i < n; ++i) {
      mine[i] = (rank + 1) * (static_cast<double>(i) + 0.5);
      expected[i] = factor_sum * (static_cast<double>(i) + 0.5);
    }
    const auto got = on_device(mine, [&](void* data) {
      nccl->allreduce_sum(data, n, DeviceDtype::kFloat64, stream);
      nccl->synchronize(stream);
    });
    wrong += mismatches("float64", rank, got, expected);
  }
  // bfloat16: integers below 256 are exact (8 significant bits).
  {
    const size_t n = 4099;
    std::vector<uint16_t> mine(n), expected(n);
    for (size_t i = 0; i < n; ++i) {
      mine[i] = to_bf16(static_cast<float>((rank + 1) * static_cast<int>(i % 16)));
      expected[i] = to_bf16(static_cast<float>(factor_sum * static_cast<int>(i % 16)));
    }
    const auto got = on_device(mine, [&](void* data) {
      nccl->allreduce_sum(data, n, DeviceDtype::kBFloat16, stream);
      nccl->synchronize(stream);
    });
    wrong += mismatches("bfloat16 (bits)", rank, got, expected);
  }
  // broadcast: the last rank's byte pattern replaces everyone's zeros.
  {
    const size_t n = 12345;
    const int root = size - 1;
    std::vector<uint8_t> mine(n, 0), expected(n);
    for (size_t i = 0; i < n; ++i) expected[i] = static_cast<uint8_t>((i * 7 + 3) & 0xFF);
    if (rank == root) mine = expected;
    const auto got = on_device(mine, [&](void* data) {
      nccl->broadcast(data, n, root, stream);
      nccl->barrier(stream);
    });
    wrong += mismatches("broadcast byte", rank, got, expected);
  }
  check(cudaStreamDestroy(stream), "cudaStreamDestroy");

  world.allreduce_sum(&wrong, 1);
  if (rank == 0) {
    if (wrong == 0) {
      std::printf("nccl worker: %d rank(s), all checks passed\n", size);
    } else {
      std::printf("nccl worker: %lld wrong element(s)\n", static_cast<long long>(wrong));
    }
  }
  return wrong == 0 ? 0 : 1;
}

}  // namespace
}  // namespace heretic::dist

int main(int argc, char** argv) {
  heretic::dist::MpiSession session(&argc, &argv);
  auto world = session.world();
  int bad_device_rank = -1;
  if (argc == 3 && std::string(argv[1]) == "--bad-device-rank") bad_device_rank = std::stoi(argv[2]);
  try {
    return heretic::dist::run(*world, bad_device_rank);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "rank %d: %s\n", world->rank(), e.what());
    std::fflush(stderr);
    world->abort(2);
  }
}
