#include "mpi/trial_farm.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <deque>
#include <exception>
#include <map>
#include <stdexcept>
#include <thread>

#include "common/error.h"
#include "mpi/collectives.h"
#include "mpi/in_process_communicator.h"
#include "mpi/stop_signals.h"

namespace heretic::dist {
namespace {

// Message tags on the farm's private channel.
constexpr int kTagAssign = 1;
constexpr int kTagOutcome = 2;

// How often the coordinator looks at the stop flag while trials run.
constexpr auto kSlice = std::chrono::milliseconds(250);

void flush_logs() {
  spdlog::apply_all([](const std::shared_ptr<spdlog::logger>& logger) { logger->flush(); });
}

}  // namespace

TrialFarm::TrialFarm(Communicator& world, FarmOptions options) : world_(world), options_(std::move(options)) {
  const int k = options_.group_size;
  if (k < 1 || world_.size() % k != 0) {
    throw std::invalid_argument("TrialFarm: a group of " + std::to_string(k) + " rank(s) does not divide a world of " +
                                std::to_string(world_.size()));
  }
  group_ = world_.split(world_.rank() / k, world_.rank());
  channel_ = world_.split(0, world_.rank());
}

TrialFarm::~TrialFarm() = default;

int TrialFarm::stop_signal() const { return options_.stop_signal ? options_.stop_signal() : dist::stop_signal(); }

int TrialFarm::run(TrialSource* source, const Evaluate& evaluate) {
  const bool coordinator_rank = world_.rank() == 0;
  if (coordinator_rank && source == nullptr) throw std::invalid_argument("TrialFarm::run: rank 0 needs a source");
  std::exception_ptr coordinator_error;
  std::thread coordinator;
  if (coordinator_rank) {
    coordinator = std::thread([this, source, &coordinator_error] {
      try {
        coordinate(*source);
      } catch (const Aborted&) {
        coordinator_error = std::current_exception();  // the world is ending (in-process worlds)
      } catch (const std::exception& e) {
        coordinator_error = std::current_exception();
        // The workers wait for trials: a failed coordinator must end the job, not hang it.
        spdlog::error("trial coordinator failed: {}", e.what());
        std::fprintf(stderr, "heretic-mpi: rank 0: trial coordinator: %s\n", e.what());
        flush_logs();
        const bool input = dynamic_cast<const InputError*>(&e) != nullptr;
        try {
          world_.abort(static_cast<int>(input ? ExitCode::kBadInput : ExitCode::kInternal));
        } catch (const Aborted&) {
        }
      }
    });
  }
  try {
    work(evaluate);
  } catch (...) {
    if (coordinator.joinable()) {
      worker_failed_ = true;  // the coordinator returns within a slice
      coordinator.join();
    }
    // The coordinator's own failure explains more than the abort it caused here.
    if (coordinator_error) {
      try {
        std::rethrow_exception(coordinator_error);
      } catch (const Aborted&) {
      }
    }
    throw;
  }
  if (coordinator.joinable()) coordinator.join();
  if (coordinator_error) std::rethrow_exception(coordinator_error);
  int stop = stop_;
  world_.broadcast(&stop, sizeof stop, 0);
  return stop;
}

void TrialFarm::coordinate(TrialSource& source) {
  using Clock = std::chrono::steady_clock;
  const int k = options_.group_size;
  std::deque<int> idle;
  for (int leader = 0; leader < world_.size(); leader += k) idle.push_back(leader);
  std::map<int, int32_t> in_flight;  // group leader -> trial number
  Clock::time_point grace_end = Clock::time_point::max();
  auto begin_stop = [&](int signal, const std::string& who) {
    stop_ = signal;
    const auto grace = std::chrono::duration<double>(options_.stop_grace_seconds);
    grace_end = Clock::now() + std::chrono::duration_cast<Clock::duration>(grace);
    source.stopping(signal, who, in_flight.size(), options_.stop_grace_seconds);
  };
  while (!worker_failed_) {
    if (stop_ == 0 && stop_signal() != 0) begin_stop(stop_signal(), "");
    while (stop_ == 0 && !idle.empty()) {
      const std::optional<TrialAssignment> trial = source.next_trial();
      if (!trial) break;
      const int leader = idle.front();
      idle.pop_front();
      channel_->send(encode_message(*trial), leader, kTagAssign);
      in_flight[leader] = trial->number;
    }
    if (in_flight.empty()) break;
    // Wait in short slices, so that a signal is noticed while trials run and not only when one
    // ends, and the grace time is kept.
    const auto message = channel_->receive(Communicator::kAnySource, kTagOutcome, std::min(Clock::now() + kSlice, grace_end));
    if (!message) {
      if (Clock::now() < grace_end) continue;
      std::vector<int32_t> running;
      for (const auto& [leader, number] : in_flight) running.push_back(number);
      source.abandon(running);
      world_.abort(static_cast<int>(ExitCode::kStopped));
    }
    const FarmMessage decoded = decode_message(message->bytes);
    const auto* outcome = std::get_if<TrialOutcome>(&decoded);
    const auto sent = in_flight.find(message->source);
    if (outcome == nullptr || sent == in_flight.end() || sent->second != outcome->number) {
      throw std::runtime_error("trial farm: rank " + std::to_string(message->source) +
                               " sent a message that answers no trial it was given");
    }
    in_flight.erase(sent);
    idle.push_back(message->source);
    source.record(*outcome, message->source);
    // A group leader that got a stop signal passes it on (Slurm signals every task, but a
    // user's kill may reach only one).
    if (stop_ == 0 && outcome->stop_signal != 0) begin_stop(outcome->stop_signal, "rank " + std::to_string(message->source));
  }
  if (worker_failed_) return;
  for (int leader = 0; leader < world_.size(); leader += k) channel_->send(encode_message(Shutdown{}), leader, kTagAssign);
}

void TrialFarm::work(const Evaluate& evaluate) {
  Communicator& group = *group_;
  while (true) {
    std::string bytes;
    if (group.rank() == 0) bytes = channel_->receive(0, kTagAssign).bytes;
    bytes = broadcast_string(group, bytes, 0);
    const FarmMessage message = decode_message(bytes);
    if (std::holds_alternative<Shutdown>(message)) break;
    const auto* assignment = std::get_if<TrialAssignment>(&message);
    if (assignment == nullptr) throw std::runtime_error("trial farm: the coordinator sent a message that is no trial");
    TrialOutcome outcome;
    if (group.size() == 1) {
      // A trial that throws (e.g. out of memory even at batch size 1) is a failed trial, not
      // the end of the run.
      try {
        outcome = evaluate(*assignment);
      } catch (const Aborted&) {
        throw;
      } catch (const std::exception& e) {
        spdlog::error("trial {} failed on rank {}: {}", assignment->number + 1, world_.rank(), e.what());
        outcome = TrialOutcome{};
        outcome.failed = true;
        outcome.error = e.what();
      }
    } else {
      outcome = evaluate(*assignment);
    }
    if (group.rank() != 0) continue;
    outcome.number = assignment->number;
    outcome.stop_signal = stop_signal();
    channel_->send(encode_message(outcome), 0, kTagOutcome);
  }
}

}  // namespace heretic::dist
