#include "mpi/stop_signals.h"

#include <csignal>
#include <cstdio>
#include <initializer_list>

namespace heretic::dist {
namespace {

volatile std::sig_atomic_t g_stop_signal = 0;

extern "C" void on_stop_signal(int signal_number) {
  if (signal_number == SIGINT && g_stop_signal != 0) std::signal(SIGINT, SIG_DFL);
  g_stop_signal = signal_number;
}

}  // namespace

void install_stop_handlers() {
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;  // system calls (writes, MPI progress) continue after the flag is set
  for (const int signal_number : {SIGTERM, SIGUSR1, SIGINT}) sigaction(signal_number, &action, nullptr);
}

int stop_signal() { return static_cast<int>(g_stop_signal); }

const char* signal_name(int signal_number) {
  switch (signal_number) {
    case SIGTERM: return "SIGTERM";
    case SIGUSR1: return "SIGUSR1";
    case SIGINT: return "SIGINT";
    default: {
      static char text[32];
      std::snprintf(text, sizeof text, "signal %d", signal_number);
      return text;
    }
  }
}

}  // namespace heretic::dist
