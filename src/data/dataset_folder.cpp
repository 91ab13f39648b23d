#include "data/dataset_folder.h"

#include <algorithm>
#include <cctype>

#include "common/error.h"
#include "data/dataset_file.h"

namespace heretic::data {
namespace {

namespace fs = std::filesystem;

struct SplitKeywords {
  const char* split;
  std::vector<std::string> keywords;
};

const std::vector<SplitKeywords>& split_keywords() {
  static const std::vector<SplitKeywords> kKeywords = {
      {"train", {"train", "training"}},
      {"validation", {"validation", "valid", "dev", "val"}},
      {"test", {"test", "testing", "eval", "evaluation"}},
  };
  return kKeywords;
}

// datasets' NON_WORDS_CHARS: "-._ 0-9".
bool is_separator(char c) {
  return c == '-' || c == '.' || c == '_' || c == ' ' ||
         std::isdigit(static_cast<unsigned char>(c));
}

bool is_word_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' ||
         static_cast<unsigned char>(c) >= 0x80;
}

// True if `name` contains `keyword` at position p with separators (or, where allowed, the
// name's start/end) on both sides.
bool has_keyword(const std::string& name, const std::string& keyword, bool may_end_name) {
  for (size_t p = name.find(keyword); p != std::string::npos; p = name.find(keyword, p + 1)) {
    const bool left_ok = p == 0 || is_separator(name[p - 1]);
    const size_t after = p + keyword.size();
    const bool right_ok = after < name.size() ? is_separator(name[after]) : may_end_name;
    if (left_ok && right_ok) return true;
  }
  return false;
}

bool is_data_file(const fs::path& path) {
  return dataset_format_from_name(path).has_value() || path.extension() == ".txt";
}

bool is_hidden(const fs::path& relative) {
  for (const auto& part : relative) {
    const std::string name = part.string();
    if (name.rfind(".", 0) == 0 || name.rfind("__", 0) == 0) return true;
  }
  return false;
}

// "data/{split}-NNNNN-of-NNNNN*.*" -> split, or "" when the path does not have that form.
std::string sharded_split_name(const fs::path& relative) {
  const std::vector<fs::path> parts(relative.begin(), relative.end());
  if (parts.size() != 2 || parts[0] != "data") return "";
  const std::string name = parts[1].string();
  for (size_t dash = name.find('-'); dash != std::string::npos; dash = name.find('-', dash + 1)) {
    // Expect "-NNNNN-of-NNNNN" after the split name.
    const std::string rest = name.substr(dash);
    if (rest.size() < 15) break;
    bool shard = rest[0] == '-' && rest.compare(6, 4, "-of-") == 0;
    for (size_t i : {1, 2, 3, 4, 5, 10, 11, 12, 13, 14}) {
      shard = shard && std::isdigit(static_cast<unsigned char>(rest[i]));
    }
    if (!shard || rest.find('.', 15) == std::string::npos) continue;
    const std::string split = name.substr(0, dash);
    // Split names follow \w+(\.\w+)*.
    bool valid = !split.empty() && split.front() != '.' && split.back() != '.' &&
                 split.find("..") == std::string::npos;
    for (char c : split) valid = valid && (is_word_char(c) || c == '.');
    if (valid) return split;
  }
  return "";
}

}  // namespace

SplitFiles discover_split_files(const fs::path& folder) {
  std::vector<fs::path> files;  // relative to folder
  size_t arrow_files = 0;
  std::error_code error;
  fs::recursive_directory_iterator it(folder, fs::directory_options::follow_directory_symlink,
                                      error);
  if (error) throw InputError(folder.string() + ": cannot list the folder: " + error.message());
  for (; it != fs::recursive_directory_iterator(); it.increment(error)) {
    if (error) throw InputError(folder.string() + ": cannot list the folder: " + error.message());
    // Lexically: fs::relative would resolve the hub cache's symlinks into blobs/.
    const fs::path relative = it->path().lexically_relative(folder);
    if (is_hidden(relative)) {
      if (it->is_directory()) it.disable_recursion_pending();
      continue;
    }
    if (!it->is_regular_file()) continue;  // follows the hub cache's symlinks into blobs/
    if (relative.extension() == ".arrow") ++arrow_files;
    if (is_data_file(relative)) files.push_back(relative);
  }
  std::sort(files.begin(), files.end());
  if (arrow_files > 0 && fs::exists(folder / "state.json")) {
    throw InputError(
        folder.string() +
        ": this is a Dataset.save_to_disk folder (Arrow files), which cannot be "
        "read; write the dataset as Parquet instead: dataset.to_parquet(\"x.parquet\")");
  }
  if (files.empty()) {
    throw InputError(folder.string() + ": no data files (.parquet, .jsonl, .json, .csv, .txt) in " +
                     "the folder" + (arrow_files > 0 ? " (Arrow files cannot be read)" : ""));
  }

  SplitFiles splits;
  // 1. Shards named by the Hub's convention.
  for (const fs::path& file : files) {
    const std::string split = sharded_split_name(file);
    if (!split.empty()) splits[split].push_back(folder / file);
  }
  if (!splits.empty()) return splits;
  // 2. Split keywords in directory names, then 3. in file names.
  for (const bool in_directory : {true, false}) {
    for (const fs::path& file : files) {
      for (const SplitKeywords& entry : split_keywords()) {
        bool match = false;
        for (const std::string& keyword : entry.keywords) {
          if (in_directory) {
            for (const auto& part : file.parent_path()) {
              match = match || has_keyword(part.string(), keyword, /*may_end_name=*/true);
            }
          } else {
            // The keyword must be followed by a separator (e.g. the extension's dot).
            match = match || has_keyword(file.filename().string(), keyword, /*may_end_name=*/false);
          }
        }
        if (match) {
          splits[entry.split].push_back(folder / file);
          break;
        }
      }
    }
    if (!splits.empty()) return splits;
  }
  // 4. Everything is the train split.
  for (const fs::path& file : files) splits["train"].push_back(folder / file);
  return splits;
}

}  // namespace heretic::data
