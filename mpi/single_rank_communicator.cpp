#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <stdexcept>

#include <string>
#include <utility>

#include "mpi/communicator.h"

namespace heretic::dist {
namespace {

class SingleRankCommunicator final : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  int local_rank() const override { return 0; }
  int local_size() const override { return 1; }
  void barrier() override {}
  void allreduce_sum(double*, size_t) override {}
  void allreduce_sum(int64_t*, size_t) override {}
  void broadcast(void*, size_t, int) override {}
  std::vector<std::string> allgather(const std::string& value) override { return {value}; }
  [[noreturn]] void abort(int exit_code) override { std::_Exit(exit_code); }

  // Messages to itself, e.g. between a coordinator thread and the worker of the same process.
  void send(const void* data, size_t bytes, int dest, int tag) override {
    if (dest != 0) throw std::invalid_argument("send to rank " + std::to_string(dest) + " of a 1-rank communicator");
    const auto* p = static_cast<const char*>(data);
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.push_back({tag, std::string(p, p + bytes)});
    ready_.notify_all();
  }
  std::optional<Message> receive(int source, int tag, Deadline deadline) override {
    if (source != 0 && source != kAnySource) {
      throw std::invalid_argument("receive from rank " + std::to_string(source) + " of a 1-rank communicator");
    }
    std::unique_lock<std::mutex> lock(mutex_);
    while (true) {
      for (auto it = queue_.begin(); it != queue_.end(); ++it) {
        if (it->first != tag) continue;
        Message message{0, std::move(it->second)};
        queue_.erase(it);
        return message;
      }
      if (deadline == Deadline::max()) {
        ready_.wait(lock);
      } else if (ready_.wait_until(lock, deadline) == std::cv_status::timeout) {
        return std::nullopt;
      }
    }
  }
  std::unique_ptr<Communicator> split(int, int) override { return std::make_unique<SingleRankCommunicator>(); }

 private:
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::pair<int, std::string>> queue_;
};

}  // namespace

std::unique_ptr<Communicator> make_single_rank_communicator() {
  return std::make_unique<SingleRankCommunicator>();
}

}  // namespace heretic::dist
