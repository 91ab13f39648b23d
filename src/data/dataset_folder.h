// A dataset folder, local or a Hugging Face hub snapshot: which data files it holds and which
// split each belongs to, following the datasets library's conventions (data_files.py):
//  1. "data/{split}-NNNNN-of-NNNNN*.*" (how the Hub and push_to_hub name shards) gives the
//     split name directly, e.g. data/train-00000-of-00001.parquet -> "train";
//  2. otherwise a directory named after a split keyword (train/training, validation/valid/dev/
//     val, test/testing/eval/evaluation; alone or next to one of "-._ " or a digit);
//  3. otherwise a file name with such a keyword (train.csv, my_test-1.jsonl);
//  4. otherwise every data file is in "train".
// Data files are .parquet, .jsonl/.ndjson, .json, .csv and .txt; hidden files and folders
// (".x", "__x") are skipped. Within a split, files are read in path order. Not read: the
// "configs" / data_files declarations of a README.md, and dataset scripts.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace heretic::data {

using SplitFiles = std::map<std::string, std::vector<std::filesystem::path>>;

// Throws InputError when the folder holds no data file (naming what it holds instead, e.g.
// the Arrow files of Dataset.save_to_disk, which are not supported).
SplitFiles discover_split_files(const std::filesystem::path& folder);

}  // namespace heretic::data
