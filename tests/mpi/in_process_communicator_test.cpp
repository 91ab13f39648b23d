// The in-process world (N ranks as threads) behaves like an MPI job: the same collectives,
// messages, split and abort; and the distribution helpers on top of it (agreement, sharding,
// gathering) work with 2-4 ranks without mpirun.
#include "mpi/in_process_communicator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <numeric>
#include <thread>

#include "mpi/agreement.h"
#include "mpi/collectives.h"
#include "mpi/sharding.h"

namespace heretic::dist {
namespace {

void expect_no_errors(const std::vector<std::exception_ptr>& errors) {
  for (size_t r = 0; r < errors.size(); ++r) {
    if (!errors[r]) continue;
    try {
      std::rethrow_exception(errors[r]);
    } catch (const std::exception& e) {
      ADD_FAILURE() << "rank " << r << ": " << e.what();
    }
  }
}

TEST(InProcessWorld, CollectivesGiveEveryRankTheSameResult) {
  std::mutex mutex;
  std::vector<std::vector<double>> sums(3);
  std::vector<std::vector<std::string>> gathered(3);
  std::vector<int64_t> broadcasts(3);
  expect_no_errors(run_in_process(3, [&](Communicator& comm) {
    EXPECT_EQ(comm.size(), 3);
    std::vector<double> values = {1.0 + comm.rank(), 0.1 * comm.rank()};
    comm.allreduce_sum(values.data(), values.size());
    int64_t counts[2] = {comm.rank(), 10};
    comm.allreduce_sum(counts, 2);
    EXPECT_EQ(counts[0], 3);
    EXPECT_EQ(counts[1], 30);
    int64_t value = comm.rank() == 2 ? 42 : 0;
    comm.broadcast(&value, sizeof value, 2);
    comm.barrier();
    const auto all = comm.allgather(std::string(static_cast<size_t>(comm.rank()), 'x'));
    std::lock_guard<std::mutex> lock(mutex);
    sums[static_cast<size_t>(comm.rank())] = values;
    gathered[static_cast<size_t>(comm.rank())] = all;
    broadcasts[static_cast<size_t>(comm.rank())] = value;
  }));
  for (int r = 0; r < 3; ++r) {
    EXPECT_EQ(sums[static_cast<size_t>(r)], sums[0]);  // bit-identical on every rank
    EXPECT_EQ(gathered[static_cast<size_t>(r)], (std::vector<std::string>{"", "x", "xx"}));
    EXPECT_EQ(broadcasts[static_cast<size_t>(r)], 42);
  }
  EXPECT_DOUBLE_EQ(sums[0][0], 6.0);
}

TEST(InProcessWorld, SplitFormsGroupsOrderedByKey) {
  std::mutex mutex;
  std::vector<std::pair<int, int>> placement(4);  // world rank -> (group size, rank in group)
  std::vector<double> group_sums(4);
  expect_no_errors(run_in_process(4, [&](Communicator& comm) {
    // Colors {0,1,0,1}; keys reverse the order inside each color.
    auto group = comm.split(comm.rank() % 2, -comm.rank());
    double one = comm.rank();
    group->allreduce_sum(&one, 1);
    std::lock_guard<std::mutex> lock(mutex);
    placement[static_cast<size_t>(comm.rank())] = {group->size(), group->rank()};
    group_sums[static_cast<size_t>(comm.rank())] = one;
  }));
  EXPECT_EQ(placement[0], std::make_pair(2, 1));
  EXPECT_EQ(placement[2], std::make_pair(2, 0));
  EXPECT_EQ(placement[1], std::make_pair(2, 1));
  EXPECT_EQ(placement[3], std::make_pair(2, 0));
  EXPECT_EQ(group_sums[0], 2.0);  // ranks 0 + 2
  EXPECT_EQ(group_sums[3], 4.0);  // ranks 1 + 3
}

TEST(InProcessWorld, MessagesOfAnyLengthByTagAndSource) {
  expect_no_errors(run_in_process(3, [&](Communicator& comm) {
    if (comm.rank() > 0) {
      comm.send(std::string(1000 * static_cast<size_t>(comm.rank()), 'a'), 0, 7);
      comm.send(std::string("other tag"), 0, 8);
      return;
    }
    std::vector<int> sources;
    for (int i = 0; i < 2; ++i) {
      const auto message = comm.receive(Communicator::kAnySource, 7);
      EXPECT_EQ(message.bytes.size(), 1000u * static_cast<size_t>(message.source));
      sources.push_back(message.source);
    }
    std::sort(sources.begin(), sources.end());
    EXPECT_EQ(sources, (std::vector<int>{1, 2}));
    EXPECT_EQ(comm.receive(2, 8).bytes, "other tag");
    EXPECT_EQ(comm.receive(1, 8).source, 1);
    // Nothing more is coming: the deadline ends the wait.
    const auto start = std::chrono::steady_clock::now();
    EXPECT_FALSE(comm.receive(Communicator::kAnySource, 7, start + std::chrono::milliseconds(50)).has_value());
    EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(50));
  }));
}

TEST(InProcessWorld, AbortEndsEveryRankEvenWhileItWaits) {
  const auto errors = run_in_process(3, [&](Communicator& comm) {
    if (comm.rank() == 1) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      comm.abort(3);
    }
    if (comm.rank() == 2) comm.receive(0, 1);  // would wait forever
    comm.barrier();                               // would wait for rank 1 forever
  });
  for (const auto& error : errors) {
    ASSERT_TRUE(error);
    try {
      std::rethrow_exception(error);
    } catch (const Aborted& aborted) {
      EXPECT_EQ(aborted.exit_code(), 3);
    }
  }
}

TEST(InProcessWorld, ACrashedRankAbortsTheOthersWithExitCode1) {
  const auto errors = run_in_process(2, [&](Communicator& comm) {
    if (comm.rank() == 1) throw std::runtime_error("rank 1 crashed");
    comm.barrier();
  });
  ASSERT_TRUE(errors[0] && errors[1]);
  EXPECT_THROW(std::rethrow_exception(errors[1]), std::runtime_error);
  try {
    std::rethrow_exception(errors[0]);
  } catch (const Aborted& aborted) {
    EXPECT_EQ(aborted.exit_code(), 1);
  }
}

TEST(Agreement, AProblemOnOneRankFailsEveryRankWithTheSameMessage) {
  std::mutex mutex;
  std::vector<std::string> messages(3);
  expect_no_errors(run_in_process(3, [&](Communicator& comm) {
    agree(comm, "");  // nobody has a problem: nothing happens
    try {
      agree_on(comm, [&] {
        if (comm.rank() == 2) throw InputError("prompts.txt: not found");
      });
      ADD_FAILURE() << "rank " << comm.rank() << " did not fail";
    } catch (const AgreedFailure& e) {
      std::lock_guard<std::mutex> lock(mutex);
      messages[static_cast<size_t>(comm.rank())] = e.what();
    }
  }));
  for (const auto& message : messages) EXPECT_EQ(message, "rank 2: prompts.txt: not found");
}

TEST(Agreement, IdenticalProblemsAreReportedOnceAndValuesPassThrough) {
  std::atomic<int> failures{0};
  expect_no_errors(run_in_process(2, [&](Communicator& comm) {
    EXPECT_EQ(agree_on(comm, [&] { return comm.rank() + 10; }), comm.rank() + 10);
    try {
      agree(comm, "job.toml: bad key");
    } catch (const AgreedFailure& e) {
      EXPECT_STREQ(e.what(), "job.toml: bad key");
      ++failures;
    }
  }));
  EXPECT_EQ(failures, 2);
}

TEST(Sharding, ShardsCoverTheItemsContiguouslyInRankOrder) {
  for (size_t n : {0u, 1u, 7u, 100u}) {
    for (int size : {1, 2, 3, 4}) {
      size_t next = 0;
      for (int rank = 0; rank < size; ++rank) {
        const auto [begin, end] = shard_range(n, rank, size);
        EXPECT_EQ(begin, next);
        EXPECT_LE(end - begin, n / static_cast<size_t>(size) + 1);
        next = end;
      }
      EXPECT_EQ(next, n);
    }
  }
  EXPECT_EQ(shard_range(100, 0, 3), std::make_pair(size_t{0}, size_t{34}));
  EXPECT_EQ(shard_range(100, 2, 3), std::make_pair(size_t{67}, size_t{100}));
}

TEST(Collectives, GatherToRankZeroKeepsRankOrderAndBroadcastStringsReachEveryone) {
  std::vector<std::string> gathered;
  expect_no_errors(run_in_process(3, [&](Communicator& comm) {
    const std::string mine(static_cast<size_t>(comm.rank()) * 3 + 1, static_cast<char>('a' + comm.rank()));
    auto all = gather_to_rank0(comm, mine);
    if (comm.rank() == 0) {
      gathered = all;
    } else {
      EXPECT_TRUE(all.empty());
    }
    EXPECT_EQ(broadcast_string(comm, comm.rank() == 1 ? "from one" : "", 1), "from one");
  }));
  EXPECT_EQ(gathered, (std::vector<std::string>{"a", "bbbb", "ccccccc"}));
}

}  // namespace
}  // namespace heretic::dist
