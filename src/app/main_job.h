// The main job: `heretic-mpi --config job.toml` under mpirun/srun (DESIGN.md §1).
#pragma once

namespace heretic::app {

// Parses the command line, starts MPI and runs the phases of a run. Returns the exit code.
// Errors every rank agrees on (bad configuration) end the job normally with exit code 2;
// an error on one rank aborts the whole job so that no rank hangs in a collective.
int run_main_job(int argc, char** argv);

}  // namespace heretic::app
