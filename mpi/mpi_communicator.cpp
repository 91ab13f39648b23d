#include "mpi/mpi_communicator.h"

#include <mpi.h>

#include <chrono>
#include <stdexcept>
#include <thread>

namespace heretic::dist {
namespace {

// Every MPI call goes through this check: MPI's default handler aborts, but communicators
// get MPI_ERRORS_RETURN so that the message names the call.
void check(int code, const char* call) {
  if (code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  throw std::runtime_error(std::string(call) + " failed: " + std::string(text, static_cast<size_t>(length)));
}
#define HERETIC_MPI_CHECK(call) check((call), #call)

class MpiCommunicator final : public Communicator {
 public:
  // `owned`: the communicator was created for this object (split) and is freed with it.
  explicit MpiCommunicator(MPI_Comm comm, bool owned = false) : comm_(comm), owned_(owned) {
    HERETIC_MPI_CHECK(MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN));
    HERETIC_MPI_CHECK(MPI_Comm_rank(comm_, &rank_));
    HERETIC_MPI_CHECK(MPI_Comm_size(comm_, &size_));
    // Ranks sharing memory are the ranks of one node.
    HERETIC_MPI_CHECK(MPI_Comm_split_type(comm_, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &node_));
    HERETIC_MPI_CHECK(MPI_Comm_rank(node_, &local_rank_));
    HERETIC_MPI_CHECK(MPI_Comm_size(node_, &local_size_));
  }
  ~MpiCommunicator() override {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized) {
      MPI_Comm_free(&node_);
      if (owned_) MPI_Comm_free(&comm_);
    }
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  int local_rank() const override { return local_rank_; }
  int local_size() const override { return local_size_; }

  void barrier() override { HERETIC_MPI_CHECK(MPI_Barrier(comm_)); }

  void allreduce_sum(double* data, size_t count) override {
    HERETIC_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, data, checked_count(count), MPI_DOUBLE, MPI_SUM, comm_));
  }
  void allreduce_sum(int64_t* data, size_t count) override {
    HERETIC_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, data, checked_count(count), MPI_INT64_T, MPI_SUM, comm_));
  }
  void broadcast(void* data, size_t bytes, int root) override {
    HERETIC_MPI_CHECK(MPI_Bcast(data, checked_count(bytes), MPI_BYTE, root, comm_));
  }

  std::vector<std::string> allgather(const std::string& value) override {
    const int length = checked_count(value.size());
    std::vector<int> lengths(static_cast<size_t>(size_));
    HERETIC_MPI_CHECK(MPI_Allgather(&length, 1, MPI_INT, lengths.data(), 1, MPI_INT, comm_));
    std::vector<int> offsets(static_cast<size_t>(size_), 0);
    size_t total = 0;
    for (int r = 0; r < size_; ++r) {
      offsets[static_cast<size_t>(r)] = checked_count(total);
      total += static_cast<size_t>(lengths[static_cast<size_t>(r)]);
    }
    std::string buffer(total, '\0');
    HERETIC_MPI_CHECK(MPI_Allgatherv(value.data(), length, MPI_CHAR, buffer.data(), lengths.data(), offsets.data(),
                                     MPI_CHAR, comm_));
    std::vector<std::string> values;
    for (int r = 0; r < size_; ++r) {
      values.push_back(buffer.substr(static_cast<size_t>(offsets[static_cast<size_t>(r)]),
                                     static_cast<size_t>(lengths[static_cast<size_t>(r)])));
    }
    return values;
  }

  void send(const void* data, size_t bytes, int dest, int tag) override {
    HERETIC_MPI_CHECK(MPI_Send(data, checked_count(bytes), MPI_BYTE, dest, tag, comm_));
  }
  std::optional<Message> receive(int source, int tag, Deadline deadline) override {
    // Wait politely: a blocking MPI_Recv busy-polls, and the trial coordinator waits on one
    // while the same process computes a trial. Probing every 200 us costs nothing measurable
    // for messages that arrive once per trial. A matched probe (MPI_Improbe) reserves the
    // message for this thread, so two threads receiving on one communicator cannot take each
    // other's message between the probe and the receive.
    const int from = source == kAnySource ? MPI_ANY_SOURCE : source;
    MPI_Message handle = MPI_MESSAGE_NULL;
    MPI_Status status;
    for (int arrived = 0;;) {
      HERETIC_MPI_CHECK(MPI_Improbe(from, tag, comm_, &arrived, &handle, &status));
      if (arrived) break;
      if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    int count = 0;
    HERETIC_MPI_CHECK(MPI_Get_count(&status, MPI_BYTE, &count));
    Message message;
    message.source = status.MPI_SOURCE;
    message.bytes.resize(static_cast<size_t>(count));
    HERETIC_MPI_CHECK(MPI_Mrecv(message.bytes.data(), count, MPI_BYTE, &handle, MPI_STATUS_IGNORE));
    return message;
  }
  std::unique_ptr<Communicator> split(int color, int key) override {
    MPI_Comm part = MPI_COMM_NULL;
    HERETIC_MPI_CHECK(MPI_Comm_split(comm_, color, key, &part));
    return std::make_unique<MpiCommunicator>(part, true);
  }

  [[noreturn]] void abort(int exit_code) override {
    // A job of one process has nobody to take down: a plain exit says less than MPI_Abort's
    // banner.
    int world_size = 0;
    MPI_Comm_size(MPI_COMM_WORLD, &world_size);
    if (world_size > 1) MPI_Abort(comm_, exit_code);
    std::_Exit(exit_code);  // MPI_Abort should not return; make sure.
  }

 private:
  static int checked_count(size_t count) {
    if (count > static_cast<size_t>(INT32_MAX)) throw std::runtime_error("MPI message larger than 2^31 elements");
    return static_cast<int>(count);
  }

  MPI_Comm comm_;
  bool owned_ = false;
  MPI_Comm node_ = MPI_COMM_NULL;
  int rank_ = 0;
  int size_ = 1;
  int local_rank_ = 0;
  int local_size_ = 1;
};

}  // namespace

MpiSession::MpiSession(int* argc, char*** argv) {
  HERETIC_MPI_CHECK(MPI_Init_thread(argc, argv, MPI_THREAD_MULTIPLE, &thread_level_));
}

MpiSession::~MpiSession() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();
}

std::unique_ptr<Communicator> MpiSession::world() const { return std::make_unique<MpiCommunicator>(MPI_COMM_WORLD); }

}  // namespace heretic::dist
