#include "data/load_prompts.h"

#include <filesystem>

#include "common/error.h"
#include "data/dataset_file.h"
#include "data/dataset_folder.h"
#include "data/split_rows.h"
#include "data/split_spec.h"
#include "hf/hub_cache.h"

namespace heretic::data {
namespace {

namespace fs = std::filesystem;

std::string describe(const DatasetSpec& spec) { return "dataset '" + spec.dataset + "'"; }

// The split ranges for a single file, which has one split, "train" (as datasets names it).
std::vector<SplitRange> single_file_ranges(const DatasetSpec& spec, size_t rows) {
  const std::string where = describe(spec) + ", split";
  if (!spec.split || spec.split->empty()) return {SplitRange{"train", 0, rows}};
  if (spec.split->front() == '[') {
    SplitSlice slice = parse_bare_slice(*spec.split, where);
    slice.split = "train";
    return {resolve_slice(slice, rows, where)};
  }
  return resolve_split_spec(*spec.split, {{"train", rows}}, where);
}

// Applies ranges, refusing nulls among the selected rows.
std::vector<std::string> select_rows(const std::map<std::string, SplitRows>& splits,
                                     const std::vector<SplitRange>& ranges,
                                     const DatasetSpec& spec) {
  std::vector<std::string> texts;
  for (const SplitRange& range : ranges) {
    const StringColumn values = splits.at(range.split).read(range.from, range.to);
    for (size_t i = 0; i < values.size(); ++i) {
      if (!values[i]) {
        throw InputError(describe(spec) + ", split '" + range.split + "', row index " +
                         std::to_string(range.from + i) + ": column '" + spec.column.value_or("") +
                         "' is null; prompts must be strings");
      }
      texts.push_back(*values[i]);
    }
  }
  if (texts.empty()) {
    throw InputError(describe(spec) + ": split '" + spec.split.value_or("") +
                     "' selects no prompts (empty result)");
  }
  return texts;
}

std::vector<std::string> load_from_file(const DatasetSpec& spec, const fs::path& path) {
  const auto format = dataset_format_from_name(path).value_or(DatasetFileFormat::kText);
  if (format != DatasetFileFormat::kText && (!spec.column || spec.column->empty())) {
    throw InputError(describe(spec) + ": 'column' is required for " + path.extension().string() +
                     " files (the name of the column that holds the prompts)");
  }
  std::map<std::string, SplitRows> splits;
  const SplitRows& rows =
      splits.emplace("train", SplitRows({path}, spec.column.value_or(""), false)).first->second;
  return select_rows(splits, single_file_ranges(spec, rows.size()), spec);
}

std::vector<std::string> load_from_folder(const DatasetSpec& spec, const fs::path& folder) {
  if (!spec.split || spec.split->empty() || !spec.column || spec.column->empty()) {
    throw InputError(describe(spec) +
                     ": 'split' and 'column' are required for a dataset folder or Hugging Face "
                     "dataset (e.g. split = \"train[:400]\", column = \"text\")");
  }
  const SplitFiles files = discover_split_files(folder);
  const std::string where = describe(spec) + ", split";
  // Open only the splits the spec names; their sizes resolve the slices.
  std::map<std::string, SplitRows> splits;
  std::map<std::string, size_t> sizes;
  for (const auto& entry : files) sizes[entry.first] = 0;
  for (const SplitSlice& slice : parse_split_spec(*spec.split, where)) {
    const auto found = files.find(slice.split);
    if (found == files.end() || splits.count(slice.split) > 0) continue;
    const SplitRows& rows =
        splits.emplace(slice.split, SplitRows(found->second, *spec.column, true)).first->second;
    sizes[slice.split] = rows.size();
  }
  return select_rows(splits, resolve_split_spec(*spec.split, sizes, where), spec);
}

}  // namespace

std::vector<std::string> load_prompt_texts(const DatasetSpec& spec) {
  if (spec.dataset.empty()) throw InputError("dataset is empty: give a file, folder or repo id");
  const fs::path path(spec.dataset);
  std::error_code error;
  if (fs::is_regular_file(path, error)) return load_from_file(spec, path);
  if (fs::is_directory(path, error)) return load_from_folder(spec, path);
  // Not a local path: a repo id in the hub cache. resolve_hub_snapshot's errors say what was
  // searched (the local path, the cache folder) and how to download on a login node.
  hf::HubSnapshot snapshot;
  try {
    snapshot = hf::resolve_hub_snapshot(hf::RepoKind::kDataset, spec.dataset, spec.commit);
  } catch (const InputError& not_found) {
    // Say where the local path was looked for too: relative paths depend on the job's cwd.
    throw InputError(describe(spec) + ": no file or folder at " +
                     fs::absolute(path, error).string() + ", and " + not_found.what());
  }
  try {
    return load_from_folder(spec, snapshot.folder);
  } catch (const InputError& inner) {
    throw InputError(describe(spec) + " (hub cache snapshot " + snapshot.commit +
                     "): " + inner.what());
  }
}

std::optional<std::string> resolve_dataset_commit(const DatasetSpec& spec) {
  std::error_code error;
  if (fs::exists(fs::path(spec.dataset), error)) return std::nullopt;
  return hf::resolve_hub_snapshot(hf::RepoKind::kDataset, spec.dataset, spec.commit).commit;
}

std::vector<Prompt> load_prompts(const DatasetSpec& spec,
                                 const std::string& default_system_prompt) {
  std::vector<Prompt> prompts;
  for (std::string& text : load_prompt_texts(spec)) {
    // Heretic joins prefix and suffix with one space, and only when they are set.
    if (!spec.prefix.empty()) text = spec.prefix + " " + text;
    if (!spec.suffix.empty()) text = text + " " + spec.suffix;
    prompts.push_back(Prompt{spec.system_prompt.value_or(default_system_prompt), std::move(text)});
  }
  return prompts;
}

}  // namespace heretic::data
