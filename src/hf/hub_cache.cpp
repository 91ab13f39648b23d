#include "hf/hub_cache.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <regex>

#include "common/error.h"
#include "common/suggest.h"

namespace heretic::hf {
namespace fs = std::filesystem;

namespace {

std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value ? std::string(value) : std::string();
}

// "datasets--org--name": the folder naming of huggingface_hub's cache.
std::string repo_folder_name(RepoKind kind, const std::string& repo_id) {
  std::string name = kind == RepoKind::kModel ? "models" : "datasets";
  size_t start = 0;
  for (;;) {
    const size_t slash = repo_id.find('/', start);
    name += "--" + repo_id.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return name;
}

bool is_commit_hash(const std::string& text) {
  static const std::regex hash("^[0-9a-f]{40}$");
  return std::regex_match(text, hash);
}

std::string read_first_line(const fs::path& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r' || line.back() == ' ')) line.pop_back();
  return line;
}

std::vector<std::string> folder_entries(const fs::path& folder) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(folder, ec)) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

std::string download_hint(RepoKind kind, const std::string& repo_id, const std::string& revision) {
  std::string hint = "On a login node with internet access, run: huggingface-cli download ";
  if (kind == RepoKind::kDataset) hint += "--repo-type dataset ";
  hint += repo_id;
  if (revision != "main") hint += " --revision " + revision;
  hint += " (with HF_HUB_CACHE or HF_HOME pointing at a filesystem the compute nodes share).";
  return hint;
}

}  // namespace

fs::path hub_cache_root() {
  if (const std::string cache = env("HF_HUB_CACHE"); !cache.empty()) return cache;
  if (const std::string home = env("HF_HOME"); !home.empty()) return fs::path(home) / "hub";
  if (const std::string xdg = env("XDG_CACHE_HOME"); !xdg.empty()) return fs::path(xdg) / "huggingface" / "hub";
  return fs::path(env("HOME")) / ".cache" / "huggingface" / "hub";
}

bool is_repo_id(const std::string& text) {
  // The Hub allows letters, digits, '-', '_', '.', at most one '/', no leading/trailing
  // separators and no "--" or ".." sequences.
  static const std::regex id(R"(^[A-Za-z0-9][A-Za-z0-9._-]{0,95}(/[A-Za-z0-9][A-Za-z0-9._-]{0,95})?$)");
  return std::regex_match(text, id) && text.find("--") == std::string::npos &&
         text.find("..") == std::string::npos && text.back() != '.' && text.back() != '-';
}

HubSnapshot resolve_hub_snapshot(RepoKind kind, const std::string& repo_id,
                                 const std::optional<std::string>& revision) {
  const std::string what = kind == RepoKind::kModel ? "model" : "dataset";
  const std::string rev = revision.value_or("main");
  if (!is_repo_id(repo_id)) {
    throw InputError("'" + repo_id + "' is neither an existing local path nor a valid Hugging Face " +
                     what + " id (expected org/name)");
  }
  const fs::path root = hub_cache_root();
  const fs::path repo = root / repo_folder_name(kind, repo_id);
  if (!fs::is_directory(repo)) {
    throw InputError(what + " '" + repo_id + "' is not a local path and is not in the Hugging Face cache (looked for " +
                     repo.string() + "; the cache root comes from HF_HUB_CACHE, HF_HOME or ~/.cache/huggingface/hub). " +
                     "heretic-mpi never downloads. " + download_hint(kind, repo_id, rev));
  }
  std::string commit;
  if (is_commit_hash(rev)) {
    commit = rev;
  } else {
    const fs::path ref = repo / "refs" / rev;
    if (!fs::is_regular_file(ref)) {
      const auto refs = folder_entries(repo / "refs");
      const auto snapshots = folder_entries(repo / "snapshots");
      throw InputError(what + " '" + repo_id + "': revision '" + rev + "' is not in the cache (no file " +
                       ref.string() + "; refs present: " + (refs.empty() ? "none" : quoted_list(refs)) +
                       "; snapshots present: " + (snapshots.empty() ? "none" : quoted_list(snapshots)) + "). " +
                       download_hint(kind, repo_id, rev));
    }
    commit = read_first_line(ref);
    if (!is_commit_hash(commit)) {
      throw InputError(ref.string() + ": expected a 40-character commit hash, found '" + commit + "'");
    }
  }
  const fs::path snapshot = repo / "snapshots" / commit;
  if (!fs::is_directory(snapshot)) {
    throw InputError(what + " '" + repo_id + "': revision '" + rev + "' points to commit " + commit +
                     " but " + snapshot.string() + " does not exist (incomplete download?). " +
                     download_hint(kind, repo_id, rev));
  }
  return HubSnapshot{snapshot, commit};
}

}  // namespace heretic::hf
