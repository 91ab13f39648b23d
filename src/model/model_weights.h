// The weights of a decoder, loaded from a safetensors checkpoint through the family's tensor
// table (architecture.h) with every shape checked against config.json. Weights are stored
// [out_features, in_features]; fused checkpoint tensors are split into views without copying.
#pragma once

#include <torch/utils.h>

#include <vector>

#include "hf/safetensors_reader.h"
#include "model/model_info.h"
#include "model/pipeline_stages.h"
#include "model/tensor_parallel.h"

namespace heretic::model {

struct LinearWeights {
  torch::Tensor weight;  // [out, in]
  torch::Tensor bias;    // [out] or undefined
};

// A mixture-of-experts MLP (architectures.md §3.8-3.9): the router and every expert's SwiGLU
// weights stacked along a leading expert dimension (views of a fused checkpoint tensor, or the
// per-expert tensors stacked on load). Under tensor parallelism each expert's intermediate
// dimension is split like a dense MLP's.
struct ExpertWeights {
  torch::Tensor router;  // [E, H]
  torch::Tensor gate;    // [E, I, H]
  torch::Tensor up;      // [E, I, H]
  torch::Tensor down;    // [E, H, I]
  // gpt-oss: router bias [E], expert biases [E, I], [E, I], [E, H]; undefined elsewhere.
  torch::Tensor router_bias, gate_bias, up_bias, down_bias;
  // Qwen2-MoE's shared expert and its gate [1, H]; undefined elsewhere.
  LinearWeights shared_gate, shared_up, shared_down;
  torch::Tensor shared_expert_gate;

  bool defined() const { return router.defined(); }
};

// One decoder block. Optional parts of a family's recipe are undefined tensors when absent.
struct DecoderLayerWeights {
  torch::Tensor attn_input_norm;   // [H]
  torch::Tensor attn_output_norm;  // [H] sandwich-norm families (Gemma), else undefined
  torch::Tensor mlp_input_norm;    // [H]
  torch::Tensor mlp_output_norm;   // [H] sandwich-norm families, else undefined
  torch::Tensor q_norm;            // [hd] (q/k-norm families) or undefined
  torch::Tensor k_norm;            // [hd] or undefined
  torch::Tensor attn_sinks;        // [nH] (this rank's heads) attention-sink families, else undefined
  LinearWeights q_proj;            // [nH*hd, H]
  LinearWeights k_proj;            // [nKV*hd, H]
  LinearWeights v_proj;            // [nKV*hd, H]
  LinearWeights o_proj;            // [H, nH*hd]
  LinearWeights gate_proj;         // [I, H]
  LinearWeights up_proj;           // [I, H]
  LinearWeights down_proj;         // [H, I]   (dense MLP layers)
  ExpertWeights experts;           // mixture-of-experts layers instead of gate/up/down_proj
};

// The abliterable matrices [H, in] of one layer's component, indexed as AblationSlots indexes
// their transforms (ModelInfo::module_count): o_proj; the dense down_proj; or every expert's down
// projection (views into the stack) followed by the shared expert's.
std::vector<torch::Tensor> abliterable_matrices(const DecoderLayerWeights& layer, Component component);

// Under pipeline parallelism (pipeline_stages.h) a stage holds only its layers (the others are
// undefined tensors in `layers`), embed_tokens only on the first stage, final_norm and lm_head
// only on the last.
struct ModelWeights {
  torch::Tensor embed_tokens;  // [V, H]
  std::vector<DecoderLayerWeights> layers;
  torch::Tensor final_norm;  // [H]
  torch::Tensor lm_head;     // [V, H]; the same tensor as embed_tokens when tied (and one stage)

  bool holds(int64_t layer) const { return layers[static_cast<size_t>(layer)].o_proj.weight.defined(); }

  int64_t parameter_bytes() const;  // the bytes of every tensor's elements, tied ones once
};

// Loads every tensor the forward pass needs in `dtype` on `device`; `info` must be bound to
// `checkpoint`'s layout (bind_checkpoint_layout). With a `split` of several parts, only that
// rank's slices of q/k/v, gate/up (rows) and o_proj, down_proj (columns) are read
// (tensor_parallel.h); the caller checked tensor_parallel_problem. With a `stage` of several,
// only that stage's layers and ends are read (pipeline_stages.h; pipeline_problem checked). Throws InputError naming the
// checkpoint folder and tensor for a missing tensor or a shape that disagrees with config.json.
ModelWeights load_model_weights(const hf::SafetensorsCheckpoint& checkpoint, const ModelInfo& info,
                                torch::ScalarType dtype, const torch::Device& device, TensorSplit split = {},
                                PipelineStage stage = {});

}  // namespace heretic::model
