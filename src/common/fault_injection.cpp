#include "common/fault_injection.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>

namespace heretic {
namespace {

struct FaultPlan {
  std::string point;  // empty: no fault
  long arrival = 0;
  bool pause = false;
};

FaultPlan parse_plan(const char* text) {
  FaultPlan plan;
  if (text == nullptr || *text == '\0') return plan;
  const std::string spec(text);
  const size_t first = spec.find(':');
  const size_t second = first == std::string::npos ? std::string::npos : spec.find(':', first + 1);
  const std::string action = second == std::string::npos ? "kill" : spec.substr(second + 1);
  char* end = nullptr;
  const std::string count = first == std::string::npos ? "" : spec.substr(first + 1, second - first - 1);
  plan.arrival = std::strtol(count.c_str(), &end, 10);
  if (first == 0 || count.empty() || *end != '\0' || plan.arrival < 1 || (action != "kill" && action != "pause"))
    throw std::invalid_argument("HERETIC_FAULT_AT='" + spec + "': expected <point>:<n>[:kill|:pause]");
  plan.point = spec.substr(0, first);
  plan.pause = action == "pause";
  return plan;
}

}  // namespace

void fault_point(std::string_view point, const std::function<void()>& before_dying) {
  static const FaultPlan plan = parse_plan(std::getenv("HERETIC_FAULT_AT"));
  static std::atomic<long> arrivals{0};
  if (plan.point.empty() || point != plan.point || ++arrivals != plan.arrival) return;
  if (plan.pause) {
    std::fprintf(stderr, "heretic-mpi: process %ld paused at fault point %s (HERETIC_FAULT_AT)\n",
                 static_cast<long>(::getpid()), plan.point.c_str());
    ::sleep(120);
    return;
  }
  if (before_dying) before_dying();
  ::kill(::getpid(), SIGKILL);
}

}  // namespace heretic
