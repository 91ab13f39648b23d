// Ablation slots (DESIGN.md §3): every attention output projection and MLP down projection
// has an optional output transform; a mixture-of-experts layer's MLP has one per expert (and
// one for its shared expert), indexed as ModelInfo::module_count counts them. The forward pass applies it to the module's matmul
// output W x, before the bias (W' = (I - w v vT) W leaves b unchanged) and before the
// residual add. Setting or clearing a slot is O(1) and never touches a weight.
#pragma once

#include <torch/utils.h>

#include <array>
#include <functional>
#include <vector>

#include "model/model_info.h"

namespace heretic::model {

// Maps y [..., hidden] (model dtype) to y' of the same shape and dtype.
using OutputTransform = std::function<torch::Tensor(const torch::Tensor& y)>;

class AblationSlots {
 public:
  explicit AblationSlots(int64_t layers = 0) : slots_(static_cast<size_t>(layers)) {}

  int64_t layers() const { return static_cast<int64_t>(slots_.size()); }
  void set(int64_t layer, Component component, OutputTransform transform);
  // One transform per module of the slot (experts); an empty function leaves that module as is.
  void set(int64_t layer, Component component, std::vector<OutputTransform> per_module);
  void clear(int64_t layer, Component component);
  void clear_all();
  // nullptr when the slot, or that module of it, is empty.
  const OutputTransform* get(int64_t layer, Component component, int64_t module = 0) const;
  int64_t active_count() const;  // slots (layer, component) with a transform

 private:
  std::vector<std::array<std::vector<OutputTransform>, kComponentCount>> slots_;
};

}  // namespace heretic::model
