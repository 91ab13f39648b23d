// The abliterable module kinds (architectures.md §2) and their names: the one table of
// component names. The names are Heretic's (search-space parameters "attn.o_proj.max_weight",
// the trial parameters in the journal and results.h5), in the order Heretic lists them.
#pragma once

#include <array>
#include <optional>
#include <string_view>

namespace heretic::model {

enum class Component { kAttnOutput = 0, kMlpDown = 1 };
inline constexpr int kComponentCount = 2;
inline constexpr std::array<Component, kComponentCount> kAllComponents = {Component::kAttnOutput, Component::kMlpDown};
inline constexpr std::array<const char*, kComponentCount> kComponentNames = {"attn.o_proj", "mlp.down_proj"};

inline const char* component_name(Component component) { return kComponentNames[static_cast<size_t>(component)]; }

inline std::optional<Component> component_from_name(std::string_view name) {
  for (const Component c : kAllComponents) {
    if (name == component_name(c)) return c;
  }
  return std::nullopt;
}

}  // namespace heretic::model
