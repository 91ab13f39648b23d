// Fault points for the crash tests (tests/crash): they let a test stop a process inside the
// narrow windows where it writes a file, which random signals rarely hit. Off unless the
// environment variable HERETIC_FAULT_AT is set; then
//
//     HERETIC_FAULT_AT=<point>:<n>[:kill|:pause]
//
// makes the n-th arrival (counted from 1, per process) at the fault point named <point>
//   kill   (default) run the point's `before_dying` (e.g. write half a line), then SIGKILL itself,
//   pause  say so on stderr ("process <pid> paused at fault point <point>") and sleep up to
//          120 s (a handled signal ends the sleep), so that the test can signal or kill the job
//          while that process is inside the window.
// Points: journal_append (half of the line written), results_write (the temporary file written,
// not yet renamed), safetensors_write (half of one write of a .safetensors file: its length,
// header or a piece of a tensor), export_publish (the export complete in its temporary folder,
// not yet renamed into place).
#pragma once

#include <functional>
#include <string_view>

namespace heretic {

// Does nothing unless HERETIC_FAULT_AT names `point` and this is its n-th arrival.
void fault_point(std::string_view point, const std::function<void()>& before_dying = nullptr);

}  // namespace heretic
