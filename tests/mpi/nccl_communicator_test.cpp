// The NCCL communicator: exact sums and broadcasts on real GPUs (skipped without them), and
// failures that name the CUDA call instead of hanging (runs everywhere).
#include "mpi/nccl_communicator.h"

#include <cuda_runtime_api.h>
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "mpi/communicator.h"
#include "tests/support/run_process.h"

namespace heretic::dist {
namespace {

using heretic::testing::run_process;
using heretic::testing::shell_quote;

struct Gpus {
  int count = 0;
  std::string why_none;  // CUDA's reason when count is 0
};

Gpus visible_gpus() {
  Gpus gpus;
  const cudaError_t code = cudaGetDeviceCount(&gpus.count);
  if (code != cudaSuccess) {
    gpus.count = 0;
    gpus.why_none = cudaGetErrorString(code);
  } else if (gpus.count == 0) {
    gpus.why_none = "no CUDA device";
  }
  return gpus;
}

std::string mpirun_worker(int ranks) {
  return "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 " + shell_quote(HERETIC_MPIEXEC) + " -n " +
         std::to_string(ranks) + " --oversubscribe " + shell_quote(HERETIC_NCCL_WORKER);
}

// Runs the worker on `ranks` ranks, one GPU each: NCCL refuses two ranks of one communicator
// on the same device ("Duplicate GPU detected", NCCL >= 2.5), so fewer GPUs means a skip.
void expect_worker_passes(int ranks) {
  const Gpus gpus = visible_gpus();
  if (gpus.count < ranks) {
    GTEST_SKIP() << "needs " << ranks << " CUDA device(s), one per rank (NCCL does not allow two ranks on one GPU); "
                 << "this machine has " << gpus.count << (gpus.why_none.empty() ? "" : " (" + gpus.why_none + ")");
  }
  const auto result = run_process(mpirun_worker(ranks));
  EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
  EXPECT_NE(result.out.find(std::to_string(ranks) + " rank(s), all checks passed"), std::string::npos)
      << result.out << result.err;
}

TEST(NcclCommunicator, IsAvailableInThisBuild) {
  // This test is registered only when CMake found NCCL; the header must agree with CMake.
  static_assert(nccl_available(), "HERETIC_HAVE_NCCL must reach the users of heretic_dist");
  SUCCEED();
}

TEST(NcclCommunicator, AnUnusableDeviceFailsWithTheCudaCallNamed) {
  // Without a GPU device 0 is unusable; with GPUs, the first index past the last one is.
  const Gpus gpus = visible_gpus();
  auto host = make_single_rank_communicator();
  try {
    make_nccl_communicator(*host, gpus.count);
    FAIL() << "a communicator on device " << gpus.count << " of " << gpus.count << " was created";
  } catch (const std::runtime_error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("selecting the CUDA device"), std::string::npos) << message;
    EXPECT_NE(message.find("rank 0: cudaSetDevice(" + std::to_string(gpus.count) + ") failed: "), std::string::npos)
        << message;
  }
}

TEST(NcclCommunicator, NegativeDeviceIndexIsRefused) {
  auto host = make_single_rank_communicator();
  try {
    make_nccl_communicator(*host, -1);
    FAIL() << "a communicator on device -1 was created";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("negative CUDA device index -1"), std::string::npos) << e.what();
  }
}

TEST(NcclCommunicator, ARankWithoutItsDeviceMakesEveryRankFailWithItsReason) {
  // Rank 1 asks for a device that does not exist. Rank 0 (with or without a GPU of its own)
  // must not wait for it in NCCL's initialisation: it fails too, quoting rank 1's reason.
  const auto result = run_process(mpirun_worker(2) + " --bad-device-rank 1");
  EXPECT_NE(result.exit_code, 0) << result.out << result.err;
  const std::string rank0_line = "rank 0: NCCL communicator: selecting the CUDA device: ";
  const size_t at = result.err.find(rank0_line);
  ASSERT_NE(at, std::string::npos) << result.err;
  EXPECT_NE(result.err.find("rank 1: cudaSetDevice(1000) failed: ", at), std::string::npos) << result.err;
}

TEST(NcclCommunicator, OneRankOnOneGpuKeepsItsValues) { expect_worker_passes(1); }

TEST(NcclCommunicator, TwoRanksSumFloat32Float64Bfloat16AndBroadcastExactly) { expect_worker_passes(2); }

}  // namespace
}  // namespace heretic::dist
