#include "mpi/in_process_communicator.h"

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>

namespace heretic::dist {
namespace {

// One message in flight between two ranks of one communicator.
struct Envelope {
  uint64_t group = 0;
  int from = 0;
  int to = 0;
  int tag = 0;
  std::string bytes;
};

struct Group;

// One collective call, matched across the ranks of a communicator by its sequence number.
struct Round {
  std::vector<std::string> contributions;
  int arrived = 0;
  int left = 0;
  std::map<int, std::shared_ptr<Group>> children;  // split: one new communicator per color
};

// What the ranks of one communicator share.
struct Group {
  uint64_t id = 0;
  std::vector<int> world_ranks;  // index: rank in this group
  std::map<uint64_t, Round> rounds;
};

// Everything the ranks of a world share; one mutex keeps it simple (tests use a few ranks).
struct World {
  explicit World(int size) : size(size) {}
  const int size;
  std::mutex mutex;
  std::condition_variable changed;
  std::optional<int> abort_code;
  std::deque<Envelope> mail;
  uint64_t next_group = 1;
};

class InProcessCommunicator final : public Communicator {
 public:
  InProcessCommunicator(std::shared_ptr<World> world, std::shared_ptr<Group> group, int rank)
      : world_(std::move(world)), group_(std::move(group)), rank_(rank) {}

  int rank() const override { return rank_; }
  int size() const override { return static_cast<int>(group_->world_ranks.size()); }
  // One node: a rank's node-local rank is its world rank.
  int local_rank() const override { return group_->world_ranks[static_cast<size_t>(rank_)]; }
  int local_size() const override { return world_->size; }

  void barrier() override { exchange(std::string()); }

  void allreduce_sum(double* data, size_t count) override { sum_in_rank_order(data, count); }
  void allreduce_sum(int64_t* data, size_t count) override { sum_in_rank_order(data, count); }

  void broadcast(void* data, size_t bytes, int root) override {
    check_rank(root, "broadcast root");
    const auto* p = static_cast<const char*>(data);
    const auto all = exchange(rank_ == root ? std::string(p, p + bytes) : std::string());
    const std::string& source = all[static_cast<size_t>(root)];
    if (source.size() != bytes) throw std::runtime_error("broadcast: the ranks passed different sizes");
    std::memcpy(data, source.data(), bytes);
  }

  std::vector<std::string> allgather(const std::string& value) override { return exchange(value); }

  void send(const void* data, size_t bytes, int dest, int tag) override {
    check_rank(dest, "send destination");
    const auto* p = static_cast<const char*>(data);
    std::lock_guard<std::mutex> lock(world_->mutex);
    if (world_->abort_code) throw Aborted(*world_->abort_code);
    world_->mail.push_back({group_->id, rank_, dest, tag, std::string(p, p + bytes)});
    world_->changed.notify_all();
  }

  std::optional<Message> receive(int source, int tag, Deadline deadline) override {
    if (source != kAnySource) check_rank(source, "receive source");
    std::unique_lock<std::mutex> lock(world_->mutex);
    while (true) {
      if (world_->abort_code) throw Aborted(*world_->abort_code);
      for (auto it = world_->mail.begin(); it != world_->mail.end(); ++it) {
        if (it->group != group_->id || it->to != rank_ || it->tag != tag) continue;
        if (source != kAnySource && it->from != source) continue;
        Message message{it->from, std::move(it->bytes)};
        world_->mail.erase(it);
        return message;
      }
      if (deadline == Deadline::max()) {
        world_->changed.wait(lock);
      } else if (world_->changed.wait_until(lock, deadline) == std::cv_status::timeout) {
        return std::nullopt;
      }
    }
  }

  std::unique_ptr<Communicator> split(int color, int key) override {
    std::string mine(2 * sizeof(int), '\0');
    std::memcpy(mine.data(), &color, sizeof color);
    std::memcpy(mine.data() + sizeof color, &key, sizeof key);
    std::shared_ptr<Group> child;
    int child_rank = 0;
    collective(std::move(mine), [&](Round& round) {
      // The first rank to leave builds every color's group, so that all members share one.
      if (round.children.empty()) {
        std::map<int, std::vector<std::pair<int, int>>> members;  // color -> (key, rank)
        for (int r = 0; r < size(); ++r) {
          int c = 0, k = 0;
          std::memcpy(&c, round.contributions[static_cast<size_t>(r)].data(), sizeof c);
          std::memcpy(&k, round.contributions[static_cast<size_t>(r)].data() + sizeof c, sizeof k);
          members[c].emplace_back(k, r);
        }
        for (auto& [c, list] : members) {
          std::sort(list.begin(), list.end());
          auto group = std::make_shared<Group>();
          group->id = world_->next_group++;
          for (const auto& entry : list) group->world_ranks.push_back(group_->world_ranks[static_cast<size_t>(entry.second)]);
          round.children[c] = group;
        }
      }
      child = round.children.at(color);
      const int me = group_->world_ranks[static_cast<size_t>(rank_)];
      child_rank = static_cast<int>(std::find(child->world_ranks.begin(), child->world_ranks.end(), me) -
                                    child->world_ranks.begin());
    });
    return std::make_unique<InProcessCommunicator>(world_, child, child_rank);
  }

  [[noreturn]] void abort(int exit_code) override {
    {
      std::lock_guard<std::mutex> lock(world_->mutex);
      if (!world_->abort_code) world_->abort_code = exit_code;
      world_->changed.notify_all();
    }
    throw Aborted(exit_code);
  }

 private:
  void check_rank(int rank, const char* what) const {
    if (rank < 0 || rank >= size()) {
      throw std::invalid_argument(std::string(what) + " " + std::to_string(rank) + " is not a rank of this " +
                                  std::to_string(size()) + "-rank communicator");
    }
  }

  // Contributes `mine` to this communicator's next collective and waits for every rank's;
  // `with_round` runs under the world's lock once all have arrived.
  template <typename F>
  void collective(std::string mine, F&& with_round) {
    std::unique_lock<std::mutex> lock(world_->mutex);
    if (world_->abort_code) throw Aborted(*world_->abort_code);
    const uint64_t sequence = sequence_++;
    Round& round = group_->rounds[sequence];
    if (round.contributions.empty()) round.contributions.resize(static_cast<size_t>(size()));
    round.contributions[static_cast<size_t>(rank_)] = std::move(mine);
    ++round.arrived;
    world_->changed.notify_all();
    world_->changed.wait(lock, [&] { return world_->abort_code.has_value() || round.arrived == size(); });
    if (world_->abort_code) throw Aborted(*world_->abort_code);
    with_round(round);
    if (++round.left == size()) group_->rounds.erase(sequence);
  }

  std::vector<std::string> exchange(std::string mine) {
    std::vector<std::string> all;
    collective(std::move(mine), [&](Round& round) { all = round.contributions; });
    return all;
  }

  template <typename T>
  void sum_in_rank_order(T* data, size_t count) {
    const auto* p = reinterpret_cast<const char*>(data);
    const auto all = exchange(std::string(p, p + count * sizeof(T)));
    std::vector<T> total(count, T{});
    for (const std::string& part : all) {
      if (part.size() != count * sizeof(T)) throw std::runtime_error("allreduce_sum: the ranks passed different counts");
      std::vector<T> values(count);
      std::memcpy(values.data(), part.data(), part.size());
      for (size_t i = 0; i < count; ++i) total[i] += values[i];
    }
    std::memcpy(data, total.data(), count * sizeof(T));
  }

  std::shared_ptr<World> world_;
  std::shared_ptr<Group> group_;
  int rank_;
  uint64_t sequence_ = 0;  // this rank's collectives on this communicator so far
};

}  // namespace

Aborted::Aborted(int exit_code)
    : std::runtime_error("the job was aborted with exit code " + std::to_string(exit_code)), exit_code_(exit_code) {}

std::vector<std::unique_ptr<Communicator>> make_in_process_world(int size) {
  if (size < 1) throw std::invalid_argument("an in-process world needs at least one rank");
  auto world = std::make_shared<World>(size);
  auto group = std::make_shared<Group>();
  group->id = world->next_group++;
  for (int r = 0; r < size; ++r) group->world_ranks.push_back(r);
  std::vector<std::unique_ptr<Communicator>> ranks;
  for (int r = 0; r < size; ++r) ranks.push_back(std::make_unique<InProcessCommunicator>(world, group, r));
  return ranks;
}

std::vector<std::exception_ptr> run_in_process(int size, const std::function<void(Communicator&)>& body) {
  auto ranks = make_in_process_world(size);
  std::vector<std::exception_ptr> errors(static_cast<size_t>(size));
  std::vector<std::thread> threads;
  for (int r = 0; r < size; ++r) {
    threads.emplace_back([&, r] {
      Communicator& comm = *ranks[static_cast<size_t>(r)];
      try {
        body(comm);
      } catch (const Aborted&) {
        errors[static_cast<size_t>(r)] = std::current_exception();
      } catch (...) {
        errors[static_cast<size_t>(r)] = std::current_exception();
        try {
          comm.abort(1);
        } catch (const Aborted&) {
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  return errors;
}

}  // namespace heretic::dist
