#include "optimize/study.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <stdexcept>

#include "common/error.h"
#include "io/journal.h"
#include "optimize/pareto.h"
#include "optimize/tpe_sampler.h"

namespace heretic::optimize {
namespace {

namespace fs = std::filesystem;
using nlohmann::ordered_json;

constexpr int kJournalFormat = 1;

std::vector<std::string> objective_names(const StudyOptions& options) {
  std::vector<std::string> names;
  for (const auto& objective : options.objectives) names.push_back(objective.name);
  return names;
}

// "" when every identity member of `current` is equal in `stored`.
std::string compare_identity(const ordered_json& stored, const ordered_json& current) {
  for (const auto& [key, value] : current.items()) {
    if (stored.value(key, ordered_json()) != value) return "'" + key + "' differs";
  }
  return "";
}

}  // namespace

Study::Study(fs::path path, SearchSpace space, StudyOptions options)
    : path_(std::move(path)), space_(std::move(space)), options_(std::move(options)) {}

Study::~Study() = default;

std::unique_ptr<Study> Study::open(const fs::path& journal, SearchSpace space, StudyOptions options, bool fresh) {
  if (options.objectives.empty()) throw std::invalid_argument("a study needs at least one objective");
  std::unique_ptr<Study> study(new Study(journal, std::move(space), std::move(options)));
  study->load(fresh);
  return study;
}

void Study::load(bool fresh) {
  ordered_json header = {{"type", "header"}, {"format", kJournalFormat}, {"version", options_.version}};
  for (const auto& [key, value] : options_.identity.items()) header[key] = value;
  header["n_startup_trials"] = options_.n_startup_trials;
  header["objectives"] = objective_names(options_);

  io::JournalContents contents;
  if (fresh && fs::exists(path_)) {
    const fs::path old = path_.string() + ".old";
    fs::rename(path_, old);
    spdlog::warn("--fresh: the previous journal was moved to {}", old.string());
  } else {
    contents = io::read_journal(path_);
  }
  if (contents.torn_tail) spdlog::warn("{}: the last line was incomplete (interrupted write) and is ignored", path_.string());

  std::vector<std::string> trial_lines;  // asked and finished trials, in journal order
  if (!contents.records.empty()) {
    const ordered_json& stored = contents.records.front();
    if (stored.value("type", "") != "header") throw InputError(path_.string() + " line 1: not a heretic-mpi journal header");
    std::string what = options_.check_identity ? options_.check_identity(stored) : compare_identity(stored, options_.identity);
    for (const char* key : {"n_startup_trials", "objectives"}) {
      if (what.empty() && stored.value(key, ordered_json()) != header[key]) what = std::string("'") + key + "' differs";
    }
    if (!what.empty()) {
      throw InputError(path_.string() + ": this output folder holds a run that cannot be resumed with this "
                       "configuration: " + what + ". Use another output.dir, or rerun with --fresh to start over.");
    }
    if (!stored.contains("seed") || !stored.at("seed").is_number_unsigned()) {
      throw InputError(path_.string() + " line 1: key 'seed': missing or not a seed");
    }
    seed_ = stored.at("seed").get<uint32_t>();
    for (size_t i = 1; i < contents.records.size(); ++i) {
      const ordered_json& record = contents.records[i];
      const std::string type = record.value("type", "");
      if (type != "asked" && type != "result") continue;
      const std::string where = path_.string() + " record " + std::to_string(i + 1);
      if (!record.contains("trial")) throw InputError(where + ": key 'trial': missing");
      trial_lines.push_back(record.at("trial").dump());
      if (type != "result") continue;
      StudyTrial finished;
      finished.trial = trial_from_json_line(trial_lines.back(), space_, where);
      finished.attributes = record;
      finished.attributes.erase("type");
      finished.attributes.erase("trial");
      finished_[finished.trial.number] = std::move(finished);
    }
    resumed_ = finished_.size();
  } else {
    seed_ = options_.seed ? *options_.seed : std::random_device()();
    header["seed"] = seed_;
  }

  TpeOptions tpe;
  tpe.n_objectives = static_cast<int>(options_.objectives.size());
  tpe.n_startup_trials = options_.n_startup_trials;
  tpe.n_ei_candidates = options_.n_ei_candidates;
  tpe.seed = seed_;
  sampler_ = std::make_unique<TpeSampler>(space_, tpe);
  // Trials that were asked but never finished (the job died while they ran) stay in the
  // sampler as running and are handed out again with the same parameters.
  if (!trial_lines.empty()) sampler_->restore_from_json_lines(trial_lines, path_.string());
  for (const Trial& trial : sampler_->trials()) {
    if (trial.state == TrialState::kRunning) pending_.push_back(trial);
  }
  journal_ = std::make_unique<io::JournalWriter>(path_);
  if (contents.records.empty()) journal_->append(header);
}

Trial Study::ask() {
  if (!pending_.empty()) {
    Trial trial = pending_.front();
    pending_.erase(pending_.begin());
    return trial;
  }
  Trial trial = sampler_->ask();
  journal_->append({{"type", "asked"}, {"trial", ordered_json::parse(to_json_line(trial, space_))}});
  return trial;
}

const StudyTrial& Study::tell(int number, const std::vector<double>& values, ordered_json attributes) {
  if (values.size() != options_.objectives.size()) {
    throw std::invalid_argument("Study::tell: trial " + std::to_string(number) + " needs " +
                                std::to_string(options_.objectives.size()) + " objective values");
  }
  std::vector<double> minimised;
  bool failed = false;
  for (size_t i = 0; i < values.size(); ++i) {
    failed = failed || std::isnan(values[i]);
    minimised.push_back(options_.objectives[i].maximize ? -values[i] : values[i]);
  }
  if (failed) {
    sampler_->fail(number);
  } else {
    sampler_->tell(number, minimised);
  }
  StudyTrial finished;
  finished.trial = sampler_->trial(number);
  finished.attributes = std::move(attributes);
  ordered_json record = {{"type", "result"}, {"trial", ordered_json::parse(to_json_line(finished.trial, space_))}};
  for (const auto& [key, value] : finished.attributes.items()) record[key] = value;
  journal_->append(record);  // fsync'd: a finished trial survives any later crash
  return finished_[number] = std::move(finished);
}

std::vector<int> Study::pareto_front() const {
  std::vector<int> numbers;
  std::vector<ObjectivePoint> points;
  for (const auto& [number, finished] : finished_) {
    if (finished.trial.state != TrialState::kComplete) continue;
    numbers.push_back(number);
    points.push_back(finished.trial.values);
  }
  std::vector<int> front;
  for (int index : optimize::pareto_front(points)) front.push_back(numbers[static_cast<size_t>(index)]);
  std::sort(front.begin(), front.end(),
            [&](int a, int b) { return finished_.at(a).trial.values < finished_.at(b).trial.values; });
  return front;
}

const StudyTrial* Study::best() const {
  const StudyTrial* best = nullptr;
  for (const auto& [number, finished] : finished_) {
    if (finished.trial.state != TrialState::kComplete) continue;
    if (best == nullptr || finished.trial.values < best->trial.values) best = &finished;
  }
  return best;
}

}  // namespace heretic::optimize
