// The weights of a decoder, loaded from a safetensors checkpoint through the family's tensor
// table (architecture.h) with every shape checked against config.json. Weights are stored
// [out_features, in_features]; fused checkpoint tensors are split into views without copying.
#pragma once

#include <torch/torch.h>

#include <vector>

#include "hf/safetensors_reader.h"
#include "model/model_info.h"

namespace heretic::model {

struct LinearWeights {
  torch::Tensor weight;  // [out, in]
  torch::Tensor bias;    // [out] or undefined
};

// One decoder block. Optional parts of a family's recipe are undefined tensors when absent.
struct DecoderLayerWeights {
  torch::Tensor attn_input_norm;   // [H]
  torch::Tensor attn_output_norm;  // [H] sandwich-norm families (Gemma), else undefined
  torch::Tensor mlp_input_norm;    // [H]
  torch::Tensor mlp_output_norm;   // [H] sandwich-norm families, else undefined
  torch::Tensor q_norm;            // [hd] (q/k-norm families) or undefined
  torch::Tensor k_norm;            // [hd] or undefined
  LinearWeights q_proj;            // [nH*hd, H]
  LinearWeights k_proj;            // [nKV*hd, H]
  LinearWeights v_proj;            // [nKV*hd, H]
  LinearWeights o_proj;            // [H, nH*hd]
  LinearWeights gate_proj;         // [I, H]
  LinearWeights up_proj;           // [I, H]
  LinearWeights down_proj;         // [H, I]
};

struct ModelWeights {
  torch::Tensor embed_tokens;  // [V, H]
  std::vector<DecoderLayerWeights> layers;
  torch::Tensor final_norm;  // [H]
  torch::Tensor lm_head;     // [V, H]; the same tensor as embed_tokens when tied

  int64_t parameter_bytes() const;  // each distinct storage once (fused views count once)
};

// Loads every tensor the forward pass needs in `dtype` on `device`; `info` must be bound to
// `checkpoint`'s layout (bind_checkpoint_layout). Throws InputError naming the checkpoint folder
// and tensor for a missing tensor or a shape that disagrees with config.json.
ModelWeights load_model_weights(const hf::SafetensorsCheckpoint& checkpoint, const ModelInfo& info,
                                torch::ScalarType dtype, const torch::Device& device);

}  // namespace heretic::model
