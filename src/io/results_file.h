// results.h5 (DESIGN.md §4): the run's provenance, residual statistics, every finished trial
// and the Pareto front in one HDF5 file readable with h5dump and h5py. Written whole to a
// temporary file next to the target, then renamed, so a reader never sees a partial file.
// Torch-free: matrices are row-major float vectors.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace heretic::io {

struct Matrix {
  int64_t rows = 0;
  int64_t cols = 0;
  std::vector<float> values;  // rows x cols, row-major
};

struct TrialRecord {
  int64_t number = 0;
  std::string params_json;           // the trial's parameters (decoded, as the journal holds them)
  std::vector<double> values;        // objective values, in objective order
  std::vector<std::string> objectives;  // objective names, e.g. "Keywords", "KL divergence"
  int64_t refusals = -1;             // refusal count (-1 when no refusal scorer)
  int64_t refusal_prompts = 0;
  double kl = 0.0;                   // NaN when no KL scorer
  int64_t rank = 0;                  // rank (group leader) that evaluated it
  double seconds = 0.0;
  std::string status;                // "complete" | "failed"
  // Every scorer's partial sums and value (sum / count; NaN without prompts), in the order of
  // Results::scorers.
  std::vector<double> score_sums;
  std::vector<int64_t> score_counts;
  std::vector<double> score_values;
};

struct RunAttributes {
  std::string version;
  std::string config_toml;
  std::string model;
  std::string model_revision;
  int64_t world_size = 1;
  int64_t seed = 0;
};

struct Results {
  RunAttributes run;
  Matrix good_mean, bad_mean, directions;  // [(L+1) x d]; empty matrices are left out
  std::vector<std::string> scorers;  // every scorer's display name, e.g. "Keywords", "Response length"
  std::vector<TrialRecord> trials;
  std::vector<int64_t> pareto;  // trial numbers
  Matrix per_prompt_residuals_good, per_prompt_residuals_bad;  // optional [(n x (L+1)) x d]
};

// Writes `results` to `path` atomically (temporary file, then rename). Throws InputError
// naming the path on any HDF5 or file-system error.
void write_results(const std::filesystem::path& path, const Results& results);

// Reads a file written by write_results (tests, resume checks). Throws InputError.
Results read_results(const std::filesystem::path& path);

}  // namespace heretic::io
