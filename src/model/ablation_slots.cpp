#include "model/ablation_slots.h"

#include <stdexcept>

namespace heretic::model {
namespace {

void check_layer(int64_t layer, int64_t layers) {
  if (layer < 0 || layer >= layers)
    throw std::out_of_range("ablation slot layer " + std::to_string(layer) + " outside 0.." +
                            std::to_string(layers - 1));
}

}  // namespace

void AblationSlots::set(int64_t layer, Component component, OutputTransform transform) {
  std::vector<OutputTransform> one;
  if (transform) one.push_back(std::move(transform));
  set(layer, component, std::move(one));
}

void AblationSlots::set(int64_t layer, Component component, std::vector<OutputTransform> per_module) {
  check_layer(layer, layers());
  slots_[static_cast<size_t>(layer)][static_cast<size_t>(component)] = std::move(per_module);
}

void AblationSlots::clear(int64_t layer, Component component) {
  check_layer(layer, layers());
  slots_[static_cast<size_t>(layer)][static_cast<size_t>(component)].clear();
}

void AblationSlots::clear_all() {
  for (auto& layer : slots_) {
    for (auto& slot : layer) slot.clear();
  }
}

const OutputTransform* AblationSlots::get(int64_t layer, Component component, int64_t module) const {
  check_layer(layer, layers());
  const std::vector<OutputTransform>& slot = slots_[static_cast<size_t>(layer)][static_cast<size_t>(component)];
  if (module < 0 || module >= static_cast<int64_t>(slot.size())) return nullptr;
  const OutputTransform& transform = slot[static_cast<size_t>(module)];
  return transform ? &transform : nullptr;
}

int64_t AblationSlots::active_count() const {
  int64_t count = 0;
  for (const auto& layer : slots_) {
    for (const auto& slot : layer) {
      bool active = false;
      for (const OutputTransform& transform : slot) active = active || static_cast<bool>(transform);
      count += active ? 1 : 0;
    }
  }
  return count;
}

}  // namespace heretic::model
