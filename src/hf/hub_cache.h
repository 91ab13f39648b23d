// Offline resolution of Hugging Face repo ids ("org/name") to folders of the local hub
// cache. Compute nodes have no internet: nothing is ever downloaded; a missing repo is an
// InputError that says what was searched and what to run on a login node.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace heretic::hf {

enum class RepoKind { kModel, kDataset };

struct HubSnapshot {
  std::filesystem::path folder;  // .../models--org--name/snapshots/<commit>
  std::string commit;            // the commit hash the revision resolved to
};

// Cache roots in the order huggingface_hub uses: $HF_HUB_CACHE, else $HF_HOME/hub, else
// $XDG_CACHE_HOME/huggingface/hub, else ~/.cache/huggingface/hub.
std::filesystem::path hub_cache_root();

// True for "name" or "org/name" made of the characters the Hub allows, i.e. something
// that can be looked up in the cache (callers check local paths first).
bool is_repo_id(const std::string& text);

// Resolves `repo_id` at `revision` (a branch or tag name under refs/, or a commit hash;
// default "main") inside hub_cache_root(). Throws InputError naming the folder searched,
// the revisions present, and the `huggingface-cli download` command for a login node.
HubSnapshot resolve_hub_snapshot(RepoKind kind, const std::string& repo_id,
                                 const std::optional<std::string>& revision = std::nullopt);

}  // namespace heretic::hf
