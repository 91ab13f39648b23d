// The memory planner: what each rank of a tensor x pipeline layout holds — its share of the
// weights in the compute dtype, its KV cache at the adaptive batch size's ceiling, activations
// and a fixed workspace — and the smallest layout that fits a given memory per rank. Torch-free:
// it works from config.json and the safetensors headers (shapes and dtypes, never tensor data),
// or from config.json alone.
//
// Estimates (per rank; e = bytes per element of the compute dtype, B = batch, P = prompt tokens,
// S = P + response tokens, t = tensor_parallel, l = the stage's layers, nH/nKV = heads and KV
// heads this rank holds, hd = head_dim, H = hidden, I = intermediate, V = vocab):
//   weights     = replicated tensors (embeddings, norms, LM head, o/down biases) + 1/t of
//                 q/o/gate/up/down + this rank's KV heads of k/v, all elements x e
//   KV cache    = 2 x l x B x nKV x S x hd x e                      (allocated once per batch)
//   activations = B x P x (4 H + (nH + 2 nKV) hd + 3 I/t) x e        (prefill of one layer)
//               + B x nH x P x S x 4                                 (float32 attention scores)
//               + 2 x B x V x 4                                      (last-position logits, log-softmax)
//               + B x (L + 1) x H x 4                                (captured residuals)
//   workspace   = kWorkspaceBytes (runtime, tokenizer, prompts, allocator slack)
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/model_info.h"

namespace heretic::hf {
class SafetensorsCheckpoint;
}

namespace heretic::model {

// The fixed per-rank overhead the planner adds (libtorch and its allocator, tokenizer,
// prompt sets, logs). Checked against measured peaks by tools/bench/memory/plan_vs_peak.sh.
inline constexpr int64_t kWorkspaceBytes = int64_t{768} << 20;

struct Layout {
  int tensor_parallel = 1;
  int pipeline_stages = 1;
  int ranks() const { return tensor_parallel * pipeline_stages; }
};

// What the planner assumes about the work of one model copy.
struct Workload {
  int64_t batch_size = 128;       // the adaptive batch size's ceiling (max_batch_size or batch_size)
  int64_t prompt_tokens = 512;    // the longest prompt, in tokens (chat template included)
  int64_t response_tokens = 100;  // max_response_length
};

// The parameter elements of one model copy, grouped by how a tensor-parallel split shares them.
struct ModelElements {
  std::vector<int64_t> split;       // per layer: q/o/gate/up/down weights, q/gate/up biases (1/t each)
  std::vector<int64_t> kv;          // per layer: k/v weights and biases (split by KV heads)
  std::vector<int64_t> replicated;  // per layer: norms, o/down biases
  int64_t embedding = 0;            // embed_tokens (first stage; also the last when tied)
  int64_t head = 0;                 // lm_head and the final norm (last stage)
  bool from_checkpoint = false;     // counted from safetensors headers, else computed from config.json
  int64_t checkpoint_bytes = 0;     // bytes of those tensors as stored (their own dtypes)

  int64_t total() const;  // elements of the whole model copy
};

// Elements computed from the shape in config.json alone.
ModelElements count_elements(const ModelInfo& info);
// Elements read from the checkpoint's headers (each tensor the model loads; a tensor the
// checkpoint lacks is computed from the shape). `info` must be bound to the checkpoint.
ModelElements count_elements(const ModelInfo& info, const hf::SafetensorsCheckpoint& checkpoint);

struct RankMemory {
  int stage = 0;
  int tensor_rank = 0;
  int64_t first_layer = 0;  // the stage's layers [first_layer, end_layer)
  int64_t end_layer = 0;
  int64_t weights = 0;
  int64_t kv_cache = 0;
  int64_t activations = 0;
  int64_t workspace = 0;
  int64_t total() const { return weights + kv_cache + activations + workspace; }
};

// One rank's memory in `layout` at `batch` sequences of the workload's lengths.
RankMemory rank_memory(const ModelInfo& info, const ModelElements& elements, const Layout& layout, int stage,
                       int tensor_rank, int64_t batch, const Workload& workload);

// Every rank of a layout, stage by stage.
std::vector<RankMemory> layout_memory(const ModelInfo& info, const ModelElements& elements, const Layout& layout,
                                      int64_t batch, const Workload& workload);

// How a layout does against a memory per rank.
struct LayoutFit {
  Layout layout;
  std::string problem;     // why the model cannot be split this way ("" when it can)
  RankMemory at_ceiling;   // the rank needing most at the batch ceiling
  RankMemory at_one;       // ... at batch size 1
  int64_t largest_batch = 0;  // the largest batch <= the ceiling whose every rank fits (0: none)
  bool runs() const { return problem.empty() && largest_batch >= 1; }
  bool fits_ceiling(const Workload& workload) const { return largest_batch >= workload.batch_size; }
};

// Why `layout` cannot be used for `info` (tensor_parallel_problem, or more stages than layers),
// "" when it can. Names config.json's keys.
std::string layout_problem(const ModelInfo& info, const Layout& layout);

LayoutFit fit_layout(const ModelInfo& info, const ModelElements& elements, const Layout& layout,
                     const Workload& workload, int64_t memory_per_rank);

// The layouts a world of `nodes` x `ranks_per_node` ranks can use, smallest first (tensor
// parallel within a node, t x p dividing the world; for equal sizes the larger t first).
std::vector<Layout> candidate_layouts(int ranks_per_node, int nodes);

}  // namespace heretic::model
