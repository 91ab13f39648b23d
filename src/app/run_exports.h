// Phase 5's exports, and the after-the-job export (`heretic-mpi export`): which trials, the
// directions a finished run computed, and the writing shared out among the ranks.
#pragma once

#include <cstdint>
#include <vector>

#include "app/engine.h"
#include "app/run_report.h"
#include "mpi/communicator.h"
#include "optimize/study.h"

namespace heretic::app {

// The trials output.export selects (a stopped run exports nothing yet: its front may change).
std::vector<int> trials_to_export(const config::Config& config, const optimize::Study& study);

// The refusal directions (and residual means) the run in output.dir wrote to its results.h5.
// Throws InputError naming the file.
Directions directions_of_run(const config::Config& config);

// `heretic-mpi export`: the study's indices of the requested trials (1-based numbers), which
// must have finished successfully; every rank gets them, or every rank fails naming the trial.
// `study` is rank 0's (nullptr elsewhere).
std::vector<int> finished_trials(dist::Communicator& comm, const optimize::Study* study,
                                 const std::vector<int64_t>& numbers);

// Every rank: the trials rank 0 selected are written by the ranks in turn. Each trial's
// parameters travel in the trial farm's wire format, its model card as text. `run` is rank 0's.
void export_trials(dist::Communicator& comm, Engine& engine, const std::vector<int>& numbers, const RunView* run);

}  // namespace heretic::app
