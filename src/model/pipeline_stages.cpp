#include "model/pipeline_stages.h"

#include <algorithm>

#include "model/model_info.h"

namespace heretic::model {

LayerRange PipelineStage::layers(int64_t num_layers) const {
  const int64_t base = num_layers / stages, longer = num_layers % stages;
  const int64_t first = base * index + std::min<int64_t>(index, longer);
  return {first, base + (index < longer ? 1 : 0)};
}

RowRange micro_batch_rows(int64_t rows, int index, int count) { return PipelineStage{index, count}.layers(rows); }

std::string pipeline_problem(const ModelInfo& info, int stages) {
  if (stages < 1) return "must be at least 1";
  if (info.num_layers < stages)
    return std::to_string(stages) + " stages exceed num_hidden_layers (" + std::to_string(info.num_layers) +
           "); every stage needs at least one layer";
  return "";
}

}  // namespace heretic::model
