// The run's report: one self-contained HTML page (inline SVG and CSS, no script, nothing
// fetched) written next to results.h5, to choose a trial from the Pareto front by looking at
// it. Drawn from results.h5 alone, so `heretic-mpi report` can redraw it for any run folder.
#pragma once

#include <filesystem>
#include <string>

#include "io/results_file.h"

namespace heretic::report {

// The page: provenance, the Pareto front (every finished trial a point <circle class="trial">,
// the front joined and labelled), the optimisation history of each objective with the best so
// far, per-layer refusal-direction norms and the cosine similarities between layers (from the
// residual means), the parameters and scores of each Pareto trial, and the configuration.
std::string html_report(const io::Results& results);

// Writes html_report(results) to `path` atomically (temporary file next to it, then rename).
// Throws InputError naming the path.
void write_html_report(const std::filesystem::path& path, const io::Results& results);

}  // namespace heretic::report
