// results.h5 through the HDF5 C API (1.10 and later). Layout (DESIGN.md §4):
//   /run        group; string attributes version, config, model, model_revision; int64
//               attributes world_size, seed
//   /residuals  group; float32 [rows, cols] datasets good_mean, bad_mean, directions and the
//               optional per_prompt_good, per_prompt_bad (an empty matrix is left out)
//   /trials     compound [n]: number, params, values, refusals, refusal_prompts, kl, rank,
//               seconds, status; attributes objectives (the objective names, in value order)
//               and directions ("minimize" or "maximize" per objective)
//   /scores     group; attribute names (every scorer's display name, in configuration order) and
//               [n, scorers] datasets sums (float64), counts (int64), values (float64; sum/count),
//               rows in /trials order: every scorer, optimised or not
//   /pareto     int64 [k], trial numbers
//   /memory     group (when measured); attribute phases, int64 datasets node_bytes [ranks] and
//               peak_resident_bytes [ranks, phases]
// Strings are variable-length UTF-8, which h5py returns as str and h5dump prints as text.
#include "io/results_file.h"

#include <fcntl.h>
#include <hdf5.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "common/error.h"
#include "common/fault_injection.h"
#include "common/leftovers.h"

namespace heretic::io {
namespace {

// A failed HDF5 or file-system call inside this file; the public functions turn it into an
// InputError naming the results file.
class Failure : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// ---- HDF5 errors: collected, not printed --------------------------------------------------

// The message of the last failed HDF5 call, filled by the handler below. HDF5 (a build
// without thread safety) must not be called from two threads at once anyway.
thread_local std::string last_hdf5_message;

herr_t collect_error_frame(unsigned index, const H5E_error2_t* frame, void* /*client_data*/) {
  // Walking downward, frame 0 is the API call and the last frame the root cause (often with
  // the errno text); both are worth showing.
  const std::string text =
      std::string(frame->func_name ? frame->func_name : "?") + ": " + (frame->desc ? frame->desc : "");
  if (index == 0) {
    last_hdf5_message = text;
  } else {
    const auto cause = last_hdf5_message.find(" <- ");
    last_hdf5_message = last_hdf5_message.substr(0, cause) + " <- " + text;
  }
  return 0;
}

herr_t collect_error_stack(hid_t stack, void* /*client_data*/) {
  last_hdf5_message.clear();
  H5Ewalk2(stack, H5E_WALK_DOWNWARD, collect_error_frame, nullptr);
  return 0;
}

// Replaces HDF5's default handler (which prints the whole error stack to stderr) with the
// collector for the lifetime of one public call, then puts the previous handler back.
class ErrorCapture {
 public:
  ErrorCapture() {
    H5Eget_auto2(H5E_DEFAULT, &previous_, &previous_data_);
    H5Eset_auto2(H5E_DEFAULT, collect_error_stack, nullptr);
    last_hdf5_message.clear();
  }
  ~ErrorCapture() { H5Eset_auto2(H5E_DEFAULT, previous_, previous_data_); }
  ErrorCapture(const ErrorCapture&) = delete;
  ErrorCapture& operator=(const ErrorCapture&) = delete;

 private:
  H5E_auto2_t previous_ = nullptr;
  void* previous_data_ = nullptr;
};

[[noreturn]] void fail(const std::string& what) {
  std::string message = what;
  if (!last_hdf5_message.empty()) message += " (" + last_hdf5_message + ")";
  last_hdf5_message.clear();
  throw Failure(message);
}

void check(herr_t status, const std::string& what) {
  if (status < 0) fail(what);
}

// An HDF5 identifier closed when it goes out of scope. close() reports a failed close, which
// matters for the file: H5Fclose is where buffered data reaches the disk.
class Id {
 public:
  Id(hid_t id, herr_t (*closer)(hid_t), const std::string& what) : id_(id), closer_(closer) {
    if (id_ < 0) fail(what);
  }
  ~Id() {
    if (id_ >= 0) closer_(id_);
  }
  Id(Id&& other) noexcept : id_(std::exchange(other.id_, -1)), closer_(other.closer_) {}
  Id(const Id&) = delete;
  Id& operator=(const Id&) = delete;
  Id& operator=(Id&&) = delete;
  hid_t get() const { return id_; }
  void close(const std::string& what) {
    const herr_t status = closer_(std::exchange(id_, -1));
    check(status, what);
  }

 private:
  hid_t id_;
  herr_t (*closer_)(hid_t);
};

Id string_type() {
  Id type(H5Tcopy(H5T_C_S1), H5Tclose, "H5Tcopy");
  check(H5Tset_size(type.get(), H5T_VARIABLE), "H5Tset_size");
  check(H5Tset_cset(type.get(), H5T_CSET_UTF8), "H5Tset_cset");
  return type;
}

// File access: strong close (no object outlives the file by accident) and, where the library
// has the switch, no failure on file systems without flock (Lustre and NFS mounts often).
Id file_access() {
  Id fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose, "H5Pcreate(file access)");
  check(H5Pset_fclose_degree(fapl.get(), H5F_CLOSE_STRONG), "H5Pset_fclose_degree");
#if (H5_VERS_MAJOR == 1 && H5_VERS_MINOR == 10 && H5_VERS_RELEASE >= 7) || H5_VERSION_GE(1, 12, 1)
  check(H5Pset_file_locking(fapl.get(), true, true), "H5Pset_file_locking");
#endif
  return fapl;
}

void reclaim(hid_t type, hid_t space, void* buffer) {
#if H5_VERSION_GE(1, 12, 0)
  H5Treclaim(type, space, H5P_DEFAULT, buffer);
#else
  H5Dvlen_reclaim(type, space, H5P_DEFAULT, buffer);
#endif
}

// ---- writing ------------------------------------------------------------------------------

void write_string_attribute(hid_t object, const char* name, const std::string& value) {
  Id type = string_type();
  Id space(H5Screate(H5S_SCALAR), H5Sclose, "H5Screate");
  Id attribute(H5Acreate2(object, name, type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose,
               std::string("cannot create attribute ") + name);
  const char* text = value.c_str();
  check(H5Awrite(attribute.get(), type.get(), &text), std::string("cannot write attribute ") + name);
}

void write_int_attribute(hid_t object, const char* name, int64_t value) {
  Id space(H5Screate(H5S_SCALAR), H5Sclose, "H5Screate");
  Id attribute(H5Acreate2(object, name, H5T_STD_I64LE, space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose,
               std::string("cannot create attribute ") + name);
  check(H5Awrite(attribute.get(), H5T_NATIVE_INT64, &value), std::string("cannot write attribute ") + name);
}

void write_string_list_attribute(hid_t object, const char* name, const std::vector<std::string>& values) {
  Id type = string_type();
  const hsize_t count = values.size();
  Id space(H5Screate_simple(1, &count, nullptr), H5Sclose, "H5Screate_simple");
  Id attribute(H5Acreate2(object, name, type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose,
               std::string("cannot create attribute ") + name);
  std::vector<const char*> texts;
  for (const auto& value : values) texts.push_back(value.c_str());
  if (!texts.empty()) {
    check(H5Awrite(attribute.get(), type.get(), texts.data()), std::string("cannot write attribute ") + name);
  }
}

// Large matrices (per-prompt residuals reach gigabytes) are chunked in pieces of at most
// ~1 MiB, HDF5's default chunk cache, and compressed with shuffle + gzip level 4 when the
// library has the deflate filter; small ones stay contiguous, which every reader handles.
Id matrix_creation(const Matrix& matrix) {
  Id dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose, "H5Pcreate(dataset create)");
  constexpr hsize_t kChunkBytes = hsize_t{1} << 20;
  const hsize_t bytes = static_cast<hsize_t>(matrix.values.size()) * sizeof(float);
  if (bytes > kChunkBytes && H5Zfilter_avail(H5Z_FILTER_DEFLATE) > 0) {
    const hsize_t cols = std::min<hsize_t>(static_cast<hsize_t>(matrix.cols), kChunkBytes / sizeof(float));
    const hsize_t rows =
        std::max<hsize_t>(1, std::min<hsize_t>(static_cast<hsize_t>(matrix.rows), kChunkBytes / sizeof(float) / cols));
    const hsize_t chunk[2] = {rows, cols};
    check(H5Pset_chunk(dcpl.get(), 2, chunk), "H5Pset_chunk");
    check(H5Pset_shuffle(dcpl.get()), "H5Pset_shuffle");
    check(H5Pset_deflate(dcpl.get(), 4), "H5Pset_deflate");
  }
  return dcpl;
}

void write_matrix(hid_t group, const char* name, const Matrix& matrix) {
  if (matrix.values.empty()) return;
  const hsize_t dims[2] = {static_cast<hsize_t>(matrix.rows), static_cast<hsize_t>(matrix.cols)};
  Id space(H5Screate_simple(2, dims, nullptr), H5Sclose, "H5Screate_simple");
  Id dcpl = matrix_creation(matrix);
  Id dataset(H5Dcreate2(group, name, H5T_IEEE_F32LE, space.get(), H5P_DEFAULT, dcpl.get(), H5P_DEFAULT), H5Dclose,
             std::string("cannot create dataset /residuals/") + name);
  check(H5Dwrite(dataset.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, matrix.values.data()),
        std::string("cannot write dataset /residuals/") + name);
}

// One /trials row in memory. The pointers borrow from the TrialRecords while writing and are
// owned by HDF5 (freed by reclaim()) after reading.
struct TrialRow {
  int64_t number;
  char* params;
  hvl_t values;
  int64_t refusals;
  int64_t refusal_prompts;
  double kl;
  int64_t rank;
  double seconds;
  char* status;
};

Id trial_row_type() {
  Id string = string_type();
  Id doubles(H5Tvlen_create(H5T_NATIVE_DOUBLE), H5Tclose, "H5Tvlen_create");
  Id row(H5Tcreate(H5T_COMPOUND, sizeof(TrialRow)), H5Tclose, "H5Tcreate(compound)");
  const hid_t t = row.get();
  check(H5Tinsert(t, "number", HOFFSET(TrialRow, number), H5T_NATIVE_INT64), "H5Tinsert number");
  check(H5Tinsert(t, "params", HOFFSET(TrialRow, params), string.get()), "H5Tinsert params");
  check(H5Tinsert(t, "values", HOFFSET(TrialRow, values), doubles.get()), "H5Tinsert values");
  check(H5Tinsert(t, "refusals", HOFFSET(TrialRow, refusals), H5T_NATIVE_INT64), "H5Tinsert refusals");
  check(H5Tinsert(t, "refusal_prompts", HOFFSET(TrialRow, refusal_prompts), H5T_NATIVE_INT64),
        "H5Tinsert refusal_prompts");
  check(H5Tinsert(t, "kl", HOFFSET(TrialRow, kl), H5T_NATIVE_DOUBLE), "H5Tinsert kl");
  check(H5Tinsert(t, "rank", HOFFSET(TrialRow, rank), H5T_NATIVE_INT64), "H5Tinsert rank");
  check(H5Tinsert(t, "seconds", HOFFSET(TrialRow, seconds), H5T_NATIVE_DOUBLE), "H5Tinsert seconds");
  check(H5Tinsert(t, "status", HOFFSET(TrialRow, status), string.get()), "H5Tinsert status");
  return row;
}

// The objective names are the study's, stored once: taken from the trials that have them
// (a failed trial may carry none), and they must agree.
std::vector<std::string> study_objectives(const std::vector<TrialRecord>& trials) {
  std::vector<std::string> objectives;
  for (const auto& trial : trials) {
    if (trial.objectives.empty()) continue;
    if (objectives.empty()) {
      objectives = trial.objectives;
    } else if (trial.objectives != objectives) {
      throw std::invalid_argument("write_results: trial " + std::to_string(trial.number) +
                                  " has different objective names from the others");
    }
  }
  return objectives;
}

void write_trials(hid_t file, const std::vector<TrialRecord>& trials, const std::vector<std::string>& objectives,
                  const std::vector<std::string>& directions) {
  Id memory_type = trial_row_type();
  Id file_type(H5Tcopy(memory_type.get()), H5Tclose, "H5Tcopy(compound)");
  check(H5Tpack(file_type.get()), "H5Tpack");  // no struct padding on disk
  const hsize_t count = trials.size();
  Id space(H5Screate_simple(1, &count, nullptr), H5Sclose, "H5Screate_simple");
  Id dataset(H5Dcreate2(file, "trials", file_type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Dclose,
             "cannot create dataset /trials");
  std::vector<TrialRow> rows;
  rows.reserve(trials.size());
  for (const auto& trial : trials) {
    TrialRow row{};
    row.number = trial.number;
    row.params = const_cast<char*>(trial.params_json.c_str());  // HDF5 only reads it
    row.values.len = trial.values.size();
    row.values.p = trial.values.empty() ? nullptr : const_cast<double*>(trial.values.data());
    row.refusals = trial.refusals;
    row.refusal_prompts = trial.refusal_prompts;
    row.kl = trial.kl;
    row.rank = trial.rank;
    row.seconds = trial.seconds;
    row.status = const_cast<char*>(trial.status.c_str());
    rows.push_back(row);
  }
  if (!rows.empty()) {
    check(H5Dwrite(dataset.get(), memory_type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, rows.data()),
          "cannot write dataset /trials");
  }
  write_string_list_attribute(dataset.get(), "objectives", objectives);
  // Without a finished trial there are no objective names to pair the directions with.
  if (!objectives.empty() && !directions.empty()) write_string_list_attribute(dataset.get(), "directions", directions);
}

// One [trials x scorers] dataset of /scores, from each trial's row of `field`.
template <typename T>
void write_score_matrix(hid_t group, const char* name, hid_t file_type, hid_t memory_type,
                        const std::vector<TrialRecord>& trials, size_t scorers,
                        const std::vector<T> TrialRecord::*field) {
  std::vector<T> values;
  for (const auto& trial : trials) {
    const std::vector<T>& row = trial.*field;
    if (row.size() != scorers) {
      throw std::invalid_argument("write_results: trial " + std::to_string(trial.number) + " has " +
                                  std::to_string(row.size()) + " score values for " + std::to_string(scorers) +
                                  " scorers");
    }
    values.insert(values.end(), row.begin(), row.end());
  }
  const hsize_t dims[2] = {trials.size(), scorers};
  Id space(H5Screate_simple(2, dims, nullptr), H5Sclose, "H5Screate_simple");
  Id dataset(H5Dcreate2(group, name, file_type, space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Dclose,
             std::string("cannot create dataset /scores/") + name);
  if (!values.empty()) {
    check(H5Dwrite(dataset.get(), memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()),
          std::string("cannot write dataset /scores/") + name);
  }
}

void write_scores(hid_t file, const Results& results) {
  if (results.scorers.empty()) return;
  Id group(H5Gcreate2(file, "scores", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose, "cannot create /scores");
  write_string_list_attribute(group.get(), "names", results.scorers);
  const size_t n = results.scorers.size();
  write_score_matrix(group.get(), "sums", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, results.trials, n, &TrialRecord::score_sums);
  write_score_matrix(group.get(), "counts", H5T_STD_I64LE, H5T_NATIVE_INT64, results.trials, n,
                     &TrialRecord::score_counts);
  write_score_matrix(group.get(), "values", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, results.trials, n,
                     &TrialRecord::score_values);
}

void write_pareto(hid_t file, const std::vector<int64_t>& pareto) {
  const hsize_t count = pareto.size();
  Id space(H5Screate_simple(1, &count, nullptr), H5Sclose, "H5Screate_simple");
  Id dataset(H5Dcreate2(file, "pareto", H5T_STD_I64LE, space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Dclose,
             "cannot create dataset /pareto");
  if (!pareto.empty()) {
    check(H5Dwrite(dataset.get(), H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, pareto.data()),
          "cannot write dataset /pareto");
  }
}

void write_int64_dataset(hid_t group, const char* name, const std::vector<hsize_t>& dims,
                         const std::vector<int64_t>& values) {
  Id space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose, "H5Screate_simple");
  Id dataset(H5Dcreate2(group, name, H5T_STD_I64LE, space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Dclose,
             std::string("cannot create dataset ") + name);
  if (!values.empty()) {
    check(H5Dwrite(dataset.get(), H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()),
          std::string("cannot write dataset ") + name);
  }
}

void write_memory(hid_t file, const MemoryTable& memory) {
  if (memory.phases.empty()) return;
  if (memory.peak_bytes.size() != memory.ranks() * memory.phases.size()) {
    throw std::invalid_argument("write_results: the memory table has " + std::to_string(memory.peak_bytes.size()) +
                                " values for " + std::to_string(memory.ranks()) + " ranks x " +
                                std::to_string(memory.phases.size()) + " phases");
  }
  Id group(H5Gcreate2(file, "memory", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose, "cannot create /memory");
  write_string_list_attribute(group.get(), "phases", memory.phases);
  write_int64_dataset(group.get(), "node_bytes", {memory.ranks()}, memory.node_bytes);
  write_int64_dataset(group.get(), "peak_resident_bytes", {memory.ranks(), memory.phases.size()}, memory.peak_bytes);
}

void write_hdf5(const std::filesystem::path& path, const Results& results, const std::vector<std::string>& objectives) {
  Id fapl = file_access();
  Id file(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.get()), H5Fclose, "cannot create " + path.string());
  {
    Id run(H5Gcreate2(file.get(), "run", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose, "cannot create /run");
    write_string_attribute(run.get(), "version", results.run.version);
    write_string_attribute(run.get(), "config", results.run.config_toml);
    write_string_attribute(run.get(), "model", results.run.model);
    write_string_attribute(run.get(), "model_revision", results.run.model_revision);
    write_int_attribute(run.get(), "world_size", results.run.world_size);
    write_int_attribute(run.get(), "seed", results.run.seed);
  }
  {
    Id residuals(H5Gcreate2(file.get(), "residuals", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose,
                 "cannot create /residuals");
    write_matrix(residuals.get(), "good_mean", results.good_mean);
    write_matrix(residuals.get(), "bad_mean", results.bad_mean);
    write_matrix(residuals.get(), "directions", results.directions);
    write_matrix(residuals.get(), "per_prompt_good", results.per_prompt_residuals_good);
    write_matrix(residuals.get(), "per_prompt_bad", results.per_prompt_residuals_bad);
  }
  write_trials(file.get(), results.trials, objectives, results.objective_directions);
  write_scores(file.get(), results);
  write_pareto(file.get(), results.pareto);
  write_memory(file.get(), results.memory);
  file.close("cannot close (flush) " + path.string());
}

std::string errno_text(int error) { return std::generic_category().message(error); }

void fsync_path(const std::filesystem::path& path, bool directory) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | (directory ? O_DIRECTORY : 0));
  if (fd < 0) throw Failure("cannot open " + path.string() + " to fsync it: " + errno_text(errno));
  int status;
  do {
    status = ::fsync(fd);
  } while (status != 0 && errno == EINTR);
  const int error = errno;
  ::close(fd);
  // Some file systems cannot fsync a directory (EINVAL); the rename itself has still happened.
  if (status != 0 && !(directory && error == EINVAL)) {
    throw Failure("cannot fsync " + path.string() + ": " + errno_text(error));
  }
}

void check_matrix(const Matrix& matrix, const char* name) {
  if (matrix.rows < 0 || matrix.cols < 0 ||
      static_cast<uint64_t>(matrix.rows) * static_cast<uint64_t>(matrix.cols) != matrix.values.size()) {
    throw std::invalid_argument(std::string("write_results: ") + name + " holds " +
                                std::to_string(matrix.values.size()) + " values, not " + std::to_string(matrix.rows) +
                                " x " + std::to_string(matrix.cols));
  }
}

// ---- reading ------------------------------------------------------------------------------

bool has_link(hid_t location, const char* name) {
  const htri_t exists = H5Lexists(location, name, H5P_DEFAULT);
  if (exists < 0) fail(std::string("cannot look up ") + name);
  return exists > 0;
}

hssize_t element_count(hid_t space, const std::string& what) {
  const hssize_t count = H5Sget_simple_extent_npoints(space);
  if (count < 0) fail("cannot size " + what);
  return count;
}

std::string read_string_attribute(hid_t object, const char* name) {
  Id attribute(H5Aopen(object, name, H5P_DEFAULT), H5Aclose, std::string("no attribute ") + name);
  Id space(H5Aget_space(attribute.get()), H5Sclose, "H5Aget_space");
  if (element_count(space.get(), name) != 1) throw Failure(std::string("attribute ") + name + " is not one string");
  Id type = string_type();
  char* text = nullptr;
  check(H5Aread(attribute.get(), type.get(), &text), std::string("cannot read attribute ") + name);
  std::string value = text ? text : "";
  H5free_memory(text);
  return value;
}

int64_t read_int_attribute(hid_t object, const char* name) {
  Id attribute(H5Aopen(object, name, H5P_DEFAULT), H5Aclose, std::string("no attribute ") + name);
  Id space(H5Aget_space(attribute.get()), H5Sclose, "H5Aget_space");
  if (element_count(space.get(), name) != 1) throw Failure(std::string("attribute ") + name + " is not one integer");
  int64_t value = 0;
  check(H5Aread(attribute.get(), H5T_NATIVE_INT64, &value), std::string("cannot read attribute ") + name);
  return value;
}

std::vector<std::string> read_string_list_attribute(hid_t object, const char* name) {
  Id attribute(H5Aopen(object, name, H5P_DEFAULT), H5Aclose, std::string("no attribute ") + name);
  Id space(H5Aget_space(attribute.get()), H5Sclose, "H5Aget_space");
  std::vector<char*> texts(static_cast<std::size_t>(element_count(space.get(), name)), nullptr);
  std::vector<std::string> values;
  if (texts.empty()) return values;
  Id type = string_type();
  check(H5Aread(attribute.get(), type.get(), texts.data()), std::string("cannot read attribute ") + name);
  for (const char* text : texts) values.emplace_back(text ? text : "");
  reclaim(type.get(), space.get(), texts.data());
  return values;
}

Matrix read_matrix(hid_t group, const char* name) {
  Matrix matrix;
  if (!has_link(group, name)) return matrix;
  const std::string what = std::string("/residuals/") + name;
  Id dataset(H5Dopen2(group, name, H5P_DEFAULT), H5Dclose, "cannot open " + what);
  Id space(H5Dget_space(dataset.get()), H5Sclose, "H5Dget_space");
  hsize_t dims[2] = {0, 0};
  if (H5Sget_simple_extent_ndims(space.get()) != 2) throw Failure(what + " is not a 2-D dataset");
  check(H5Sget_simple_extent_dims(space.get(), dims, nullptr), "H5Sget_simple_extent_dims");
  matrix.rows = static_cast<int64_t>(dims[0]);
  matrix.cols = static_cast<int64_t>(dims[1]);
  matrix.values.resize(static_cast<std::size_t>(dims[0] * dims[1]));
  if (!matrix.values.empty()) {
    check(H5Dread(dataset.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, matrix.values.data()),
          "cannot read " + what);
  }
  return matrix;
}

std::vector<TrialRecord> read_trials(hid_t file) {
  Id dataset(H5Dopen2(file, "trials", H5P_DEFAULT), H5Dclose, "cannot open /trials");
  Id space(H5Dget_space(dataset.get()), H5Sclose, "H5Dget_space");
  std::vector<TrialRow> rows(static_cast<std::size_t>(element_count(space.get(), "/trials")));
  const auto objectives = H5Aexists(dataset.get(), "objectives") > 0
                              ? read_string_list_attribute(dataset.get(), "objectives")
                              : std::vector<std::string>();
  std::vector<TrialRecord> trials;
  if (rows.empty()) return trials;
  Id memory_type = trial_row_type();
  check(H5Dread(dataset.get(), memory_type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, rows.data()), "cannot read /trials");
  for (const auto& row : rows) {
    TrialRecord trial;
    trial.number = row.number;
    trial.params_json = row.params ? row.params : "";
    const auto* values = static_cast<const double*>(row.values.p);
    trial.values.assign(values, values + row.values.len);
    trial.objectives = objectives;
    trial.refusals = row.refusals;
    trial.refusal_prompts = row.refusal_prompts;
    trial.kl = row.kl;
    trial.rank = row.rank;
    trial.seconds = row.seconds;
    trial.status = row.status ? row.status : "";
    trials.push_back(std::move(trial));
  }
  reclaim(memory_type.get(), space.get(), rows.data());
  return trials;
}

template <typename T>
void read_score_matrix(hid_t group, const char* name, hid_t memory_type, std::vector<TrialRecord>& trials, size_t scorers,
                       std::vector<T> TrialRecord::*field) {
  const std::string what = std::string("/scores/") + name;
  Id dataset(H5Dopen2(group, name, H5P_DEFAULT), H5Dclose, "cannot open " + what);
  Id space(H5Dget_space(dataset.get()), H5Sclose, "H5Dget_space");
  hsize_t dims[2] = {0, 0};
  if (H5Sget_simple_extent_ndims(space.get()) != 2) throw Failure(what + " is not a 2-D dataset");
  check(H5Sget_simple_extent_dims(space.get(), dims, nullptr), "H5Sget_simple_extent_dims");
  if (dims[0] != trials.size() || dims[1] != scorers) {
    throw Failure(what + " is " + std::to_string(dims[0]) + " x " + std::to_string(dims[1]) + ", not trials x scorers");
  }
  std::vector<T> values(static_cast<size_t>(dims[0] * dims[1]));
  if (!values.empty()) {
    check(H5Dread(dataset.get(), memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()), "cannot read " + what);
  }
  for (size_t t = 0; t < trials.size(); ++t) {
    (trials[t].*field).assign(values.begin() + static_cast<std::ptrdiff_t>(t * scorers),
                              values.begin() + static_cast<std::ptrdiff_t>((t + 1) * scorers));
  }
}

void read_scores(hid_t file, Results& results) {
  if (!has_link(file, "scores")) return;  // written before scorers were plug-ins
  Id group(H5Gopen2(file, "scores", H5P_DEFAULT), H5Gclose, "cannot open /scores");
  results.scorers = read_string_list_attribute(group.get(), "names");
  const size_t n = results.scorers.size();
  read_score_matrix(group.get(), "sums", H5T_NATIVE_DOUBLE, results.trials, n, &TrialRecord::score_sums);
  read_score_matrix(group.get(), "counts", H5T_NATIVE_INT64, results.trials, n, &TrialRecord::score_counts);
  read_score_matrix(group.get(), "values", H5T_NATIVE_DOUBLE, results.trials, n, &TrialRecord::score_values);
}

std::vector<int64_t> read_int64_dataset(hid_t group, const char* name, size_t expected) {
  const std::string what = std::string("/memory/") + name;
  Id dataset(H5Dopen2(group, name, H5P_DEFAULT), H5Dclose, "cannot open " + what);
  Id space(H5Dget_space(dataset.get()), H5Sclose, "H5Dget_space");
  std::vector<int64_t> values(static_cast<size_t>(element_count(space.get(), what.c_str())));
  if (values.size() != expected) {
    throw Failure(what + " holds " + std::to_string(values.size()) + " values, not " + std::to_string(expected));
  }
  if (!values.empty()) {
    check(H5Dread(dataset.get(), H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()), "cannot read " + what);
  }
  return values;
}

MemoryTable read_memory(hid_t file) {
  MemoryTable memory;
  if (!has_link(file, "memory")) return memory;  // not measured (files of older versions)
  Id group(H5Gopen2(file, "memory", H5P_DEFAULT), H5Gclose, "cannot open /memory");
  memory.phases = read_string_list_attribute(group.get(), "phases");
  Id nodes(H5Dopen2(group.get(), "node_bytes", H5P_DEFAULT), H5Dclose, "cannot open /memory/node_bytes");
  Id space(H5Dget_space(nodes.get()), H5Sclose, "H5Dget_space");
  const auto ranks = static_cast<size_t>(element_count(space.get(), "/memory/node_bytes"));
  memory.node_bytes = read_int64_dataset(group.get(), "node_bytes", ranks);
  memory.peak_bytes = read_int64_dataset(group.get(), "peak_resident_bytes", ranks * memory.phases.size());
  return memory;
}

std::vector<int64_t> read_pareto(hid_t file) {
  Id dataset(H5Dopen2(file, "pareto", H5P_DEFAULT), H5Dclose, "cannot open /pareto");
  Id space(H5Dget_space(dataset.get()), H5Sclose, "H5Dget_space");
  std::vector<int64_t> pareto(static_cast<std::size_t>(element_count(space.get(), "/pareto")));
  if (!pareto.empty()) {
    check(H5Dread(dataset.get(), H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, pareto.data()),
          "cannot read /pareto");
  }
  return pareto;
}

Results read_hdf5(const std::filesystem::path& path) {
  Results results;
  Id fapl = file_access();
  Id file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl.get()), H5Fclose, "cannot open as HDF5");
  {
    Id run(H5Gopen2(file.get(), "run", H5P_DEFAULT), H5Gclose, "cannot open /run");
    results.run.version = read_string_attribute(run.get(), "version");
    results.run.config_toml = read_string_attribute(run.get(), "config");
    results.run.model = read_string_attribute(run.get(), "model");
    results.run.model_revision = read_string_attribute(run.get(), "model_revision");
    results.run.world_size = read_int_attribute(run.get(), "world_size");
    results.run.seed = read_int_attribute(run.get(), "seed");
  }
  if (has_link(file.get(), "residuals")) {
    Id residuals(H5Gopen2(file.get(), "residuals", H5P_DEFAULT), H5Gclose, "cannot open /residuals");
    results.good_mean = read_matrix(residuals.get(), "good_mean");
    results.bad_mean = read_matrix(residuals.get(), "bad_mean");
    results.directions = read_matrix(residuals.get(), "directions");
    results.per_prompt_residuals_good = read_matrix(residuals.get(), "per_prompt_good");
    results.per_prompt_residuals_bad = read_matrix(residuals.get(), "per_prompt_bad");
  }
  results.trials = read_trials(file.get());
  {
    Id trials(H5Dopen2(file.get(), "trials", H5P_DEFAULT), H5Dclose, "cannot open /trials");
    if (H5Aexists(trials.get(), "directions") > 0) {
      results.objective_directions = read_string_list_attribute(trials.get(), "directions");
    }
  }
  read_scores(file.get(), results);
  results.pareto = read_pareto(file.get());
  results.memory = read_memory(file.get());
  return results;
}

}  // namespace

void write_results(const std::filesystem::path& path, const Results& results) {
  check_matrix(results.good_mean, "good_mean");
  check_matrix(results.bad_mean, "bad_mean");
  check_matrix(results.directions, "directions");
  check_matrix(results.per_prompt_residuals_good, "per_prompt_residuals_good");
  check_matrix(results.per_prompt_residuals_bad, "per_prompt_residuals_bad");
  const auto objectives = study_objectives(results.trials);
  if (!objectives.empty() && !results.objective_directions.empty() &&
      results.objective_directions.size() != objectives.size()) {
    throw std::invalid_argument("write_results: " + std::to_string(results.objective_directions.size()) +
                                " objective directions for " + std::to_string(objectives.size()) + " objectives");
  }

  // The temporary file sits next to the target so that rename() stays within one file system
  // and replaces the old file atomically: a reader sees the old results or the new ones.
  auto temporary = path;
  temporary += ".tmp-" + std::to_string(::getpid());
  remove_leftovers(path, {".tmp-"});  // of a writer that was killed before its rename
  const ErrorCapture capture;
  try {
    write_hdf5(temporary, results, objectives);
    fsync_path(temporary, /*directory=*/false);
    fault_point("results_write");
    if (std::rename(temporary.c_str(), path.c_str()) != 0) {
      throw Failure("cannot rename " + temporary.string() + " over it: " + errno_text(errno));
    }
    const auto folder = path.parent_path();
    fsync_path(folder.empty() ? std::filesystem::path(".") : folder, /*directory=*/true);
  } catch (const Failure& failure) {
    std::error_code ignored;
    std::filesystem::remove(temporary, ignored);
    throw InputError(path.string() + ": cannot write the results file: " + failure.what());
  } catch (...) {
    std::error_code ignored;
    std::filesystem::remove(temporary, ignored);
    throw;
  }
}

Results read_results(const std::filesystem::path& path) {
  const ErrorCapture capture;
  try {
    return read_hdf5(path);
  } catch (const Failure& failure) {
    throw InputError(path.string() + ": cannot read the results file: " + failure.what());
  }
}

}  // namespace heretic::io
