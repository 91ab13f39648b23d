// Stopping a run cleanly on a signal (DESIGN.md §4 exit code 3): Slurm sends SIGTERM before a
// job's time limit or preemption (and SIGUSR1 with --signal=USR1@T), users press Ctrl+C. The
// handlers only set a flag; the run polls it between trials, agrees with the other ranks,
// flushes the journal and results.h5 and exits 3, so a rerun resumes where it stopped.
#pragma once

namespace heretic::dist {

// Installs handlers for SIGTERM, SIGUSR1 and SIGINT (idempotent). A second SIGINT while a
// stop is pending restores the default action, so a stuck job can still be interrupted.
void install_stop_handlers();

// The signal number that asked this process to stop, or 0.
int stop_signal();

// "SIGTERM", "SIGUSR1", "SIGINT" or "signal N".
const char* signal_name(int signal_number);

}  // namespace heretic::dist
