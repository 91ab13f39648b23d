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
  check_layer(layer, layers());
  slots_[static_cast<size_t>(layer)][static_cast<size_t>(component)] = std::move(transform);
}

void AblationSlots::clear(int64_t layer, Component component) {
  check_layer(layer, layers());
  slots_[static_cast<size_t>(layer)][static_cast<size_t>(component)] = nullptr;
}

void AblationSlots::clear_all() {
  for (auto& layer : slots_) {
    for (auto& slot : layer) slot = nullptr;
  }
}

const OutputTransform* AblationSlots::get(int64_t layer, Component component) const {
  check_layer(layer, layers());
  const OutputTransform& slot = slots_[static_cast<size_t>(layer)][static_cast<size_t>(component)];
  return slot ? &slot : nullptr;
}

int64_t AblationSlots::active_count() const {
  int64_t count = 0;
  for (const auto& layer : slots_) {
    for (const auto& slot : layer) count += slot ? 1 : 0;
  }
  return count;
}

}  // namespace heretic::model
