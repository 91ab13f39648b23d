#include "hf/model_location.h"

#include "common/error.h"
#include "hf/hub_cache.h"

namespace heretic::hf {
namespace fs = std::filesystem;

ModelLocation locate_model(const std::string& model, const std::optional<std::string>& revision) {
  ModelLocation location;
  std::error_code error;
  if (fs::is_directory(model, error)) {
    location.folder = model;
  } else if (fs::exists(model, error)) {
    throw InputError(model + ": expected a model folder (with config.json), found a file");
  } else if (is_repo_id(model)) {
    const HubSnapshot snapshot = resolve_hub_snapshot(RepoKind::kModel, model, revision);
    location.folder = snapshot.folder;
    location.repo_id = model;
    location.commit = snapshot.commit;
  } else {
    throw InputError(model + ": no such folder, and not a Hugging Face repo id (org/name)");
  }
  if (!fs::exists(location.folder / "config.json"))
    throw InputError((location.folder / "config.json").string() +
                     ": missing; the model folder needs config.json and safetensors weights");
  return location;
}

}  // namespace heretic::hf
