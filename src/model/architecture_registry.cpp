#include <algorithm>

#include "common/error.h"
#include "common/suggest.h"
#include "model/architecture.h"

namespace heretic::model {

const std::vector<const FamilyTraits*>& registered_families() {
  // One line per family, in enum order.
  static const std::vector<const FamilyTraits*> families = {
      &llama_family(),
      &mistral_family(),
      &qwen2_family(),
      &qwen3_family(),
  };
  return families;
}

const FamilyTraits& family_of(Architecture architecture) {
  for (const FamilyTraits* family : registered_families()) {
    if (family->architecture == architecture) return *family;
  }
  throw std::logic_error("architecture " + std::to_string(static_cast<int>(architecture)) +
                         " has no registered family");
}

std::vector<std::string> supported_model_types() {
  std::vector<std::string> types;
  for (const FamilyTraits* family : registered_families())
    types.insert(types.end(), family->model_types.begin(), family->model_types.end());
  std::sort(types.begin(), types.end());
  return types;
}

const FamilyTraits& family_for_model_type(const std::string& model_type, const std::string& config_file) {
  for (const FamilyTraits* family : registered_families()) {
    for (const std::string& accepted : family->model_types) {
      if (accepted == model_type) return *family;
    }
  }
  const auto supported = supported_model_types();
  throw InputError(config_file + ": key 'model_type' is '" + model_type + "', which is not supported" +
                   did_you_mean(model_type, supported) + "; supported: " + quoted_list(supported));
}

}  // namespace heretic::model
