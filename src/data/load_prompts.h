// load_prompts: a DatasetSpec to the list of prompts, as Heretic's load_prompts does
// (spec/heretic-behavior.md §1.3), offline.
//
// Resolution of spec.dataset:
//  1. An existing file. Plain text (any extension but the ones below): one prompt per line,
//     stripped, empty lines dropped, `column` ignored. .jsonl/.ndjson, .json, .csv, .parquet:
//     `column` is required. `split` is optional and is either a bare slice ("[:400]") or a
//     split spec on the file's only split, "train" ("train[:400]"), as datasets names it.
//  2. An existing folder: a local dataset folder (see dataset_folder.h for the split rules);
//     `split` and `column` are required. A .txt file there has one column, "text" (one row
//     per non-empty line, stripped).
//  3. A repo id ("org/name"): the dataset's snapshot in the Hugging Face hub cache at
//     `commit` (default "main"), read like a folder; `split` and `column` are required.
// Then the split slice is applied (split_spec.h; for Parquet only the row groups and pages the
// slice touches are decoded), the prefix/suffix are joined with one space,
// and each prompt gets spec.system_prompt or else `default_system_prompt`.
//
// Errors (InputError): file or repo not found (saying what was searched), unknown split or
// column (listing the available ones), slice out of range, a null value or invalid UTF-8
// (with the row), and an empty result.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "data/dataset_spec.h"

namespace heretic::data {

std::vector<Prompt> load_prompts(const DatasetSpec& spec, const std::string& default_system_prompt);

// The commit a repo-id dataset resolves to in the hub cache (spec.commit, or what refs/main
// points to), so that a run can record it for resume and reproduction; nullopt for local files
// and folders. Throws like load_prompts when the repo is not in the cache.
std::optional<std::string> resolve_dataset_commit(const DatasetSpec& spec);

// The prompt texts before prefix, suffix and system prompt are applied (for callers that
// only need the strings, and for tests).
std::vector<std::string> load_prompt_texts(const DatasetSpec& spec);

}  // namespace heretic::data
