// Pipeline parallelism inside one model copy: the ranks of a pipeline each hold a contiguous
// range of the decoder layers (a stage). The first stage also holds the token embeddings, the
// last the final norm and the LM head (with tied embeddings the last stage holds its own copy
// of the embedding matrix as the head). The first stage embeds the prompt and runs its layers,
// each next stage receives the hidden states and runs its own, the last computes the logits;
// hidden states and logits are then shared with every stage, so every rank of the copy returns
// what one rank holding the whole model returns. This header is torch-free; the transport is
// PipelineGroup (pipeline_group.h).
#pragma once

#include <cstdint>
#include <string>

namespace heretic::model {

struct ModelInfo;

// Layers first .. first + count - 1.
struct LayerRange {
  int64_t first = 0;
  int64_t count = 0;

  int64_t end() const { return first + count; }
  bool contains(int64_t layer) const { return layer >= first && layer < end(); }
};

// Stage `index` of `stages` (0: the one that embeds, stages - 1: the one with the LM head).
struct PipelineStage {
  int index = 0;
  int stages = 1;

  bool whole() const { return stages == 1; }
  bool first() const { return index == 0; }
  bool last() const { return index == stages - 1; }
  // This stage's layers of `num_layers`: as even as possible, the first num_layers mod stages
  // stages one layer more than the rest (10 layers on 4 stages: 3, 3, 2, 2).
  LayerRange layers(int64_t num_layers) const;
};

// Micro-batches: a batch's rows split into contiguous ranges that go through the stages one
// after the other, so that stage s computes micro-batch j while stage s + 1 computes j - 1.
// Micro-batch `index` of `count` of `rows` rows, split as the layers are: as even as possible,
// the first rows mod count one row more (10 rows in 4: 3, 3, 2, 2). `count` at most `rows`.
using RowRange = LayerRange;
RowRange micro_batch_rows(int64_t rows, int index, int count);

// Why `info` cannot be split into `stages` pipeline stages, or "" when it can: every stage
// needs at least one layer.
std::string pipeline_problem(const ModelInfo& info, int stages);

}  // namespace heretic::model
