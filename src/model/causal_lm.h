// A loaded causal language model and the three primitives the rest of the program uses
// (DESIGN.md §7): last-position hidden states of every layer, next-token logits, and greedy
// generation with a KV cache. All are batched over left-padded prompts, run under
// no_grad (results are ordinary tensors the caller may modify) and keep nothing
// between calls.
#pragma once

#include <torch/utils.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "hf/safetensors_reader.h"
#include "model/ablation_slots.h"
#include "model/batch.h"
#include "model/model_info.h"
#include "model/transformer.h"

namespace heretic::model {

// Called after each generated token of a row with the row's index in the original batch and
// the ids generated so far; true stops that row (it leaves the batch).
using StopPredicate = std::function<bool(size_t row, const std::vector<int64_t>& generated)>;

class CausalLM {
 public:
  // Loads the model in `folder` (config.json, generation_config.json, safetensors). `dtype`
  // is "auto" (config's dtype, float32 when absent), "bfloat16", "float16" or "float32".
  // Throws InputError for a bad folder, config or checkpoint. With a `group` of several ranks
  // (every rank of it calls load), this rank reads and holds only its tensor-parallel slices
  // (tensor_parallel.h) and the forward pass sums partial outputs over the group; InputError
  // when the group's size does not divide the model's heads or intermediate size. With a
  // `pipeline` of several stages, this rank reads and holds only its stage's layers
  // (pipeline_stages.h) and every stage returns the whole model's results; InputError when the
  // model has fewer layers than stages. Both: the tensor group is this stage's ranks.
  static std::unique_ptr<CausalLM> load(const std::filesystem::path& folder, const std::string& dtype,
                                        const torch::Device& device,
                                        std::shared_ptr<TensorParallelGroup> group = nullptr,
                                        std::shared_ptr<PipelineGroup> pipeline = nullptr);

  // Heretic's dtype chain (heretic-behavior.md §1.2): tries each dtype in order, loads and
  // greedily generates one token for `smoke_prompt`; the first dtype whose logits are finite
  // and that raises no error wins. Throws InputError listing every failure when none works.
  static std::unique_ptr<CausalLM> load_first_working(const std::filesystem::path& folder,
                                                      const std::vector<std::string>& dtypes,
                                                      const torch::Device& device,
                                                      const std::vector<int64_t>& smoke_prompt,
                                                      std::shared_ptr<TensorParallelGroup> group = nullptr,
                                                      std::shared_ptr<PipelineGroup> pipeline = nullptr);

  const ModelInfo& info() const { return transformer_.info(); }
  // This rank's weights: slices of the split modules under tensor parallelism, only its
  // stage's layers under pipeline parallelism (ModelWeights::holds).
  const ModelWeights& weights() const { return transformer_.weights(); }
  // The group this model copy is split over, or nullptr (the whole model on this rank).
  TensorParallelGroup* tensor_group() const { return transformer_.tensor_group(); }
  // The pipeline this model copy's layers are split over, or nullptr (every layer here).
  PipelineGroup* pipeline_group() const { return transformer_.pipeline_group(); }
  const torch::Device& device() const { return device_; }
  AblationSlots& slots() { return slots_; }
  const AblationSlots& slots() const { return slots_; }

  // Builds a batch on this model's device, padding with the generation pad id.
  Batch make_batch(const std::vector<std::vector<int64_t>>& prompts) const;

  // [B, L+1, H] float32: the hidden state at the last prompt position, embeddings (row 0)
  // through the final-norm output (row L), as transformers' output_hidden_states.
  torch::Tensor last_position_hidden_states(const Batch& batch);

  // [B, V] float32 raw logits of the token after the prompt (no logits processors).
  torch::Tensor next_token_logits(const Batch& batch);

  // Greedy decoding as generate(do_sample=False) with the model's generation config
  // (repetition_penalty included): per row the generated ids, ending with the EOS id when one
  // was produced. A row stops at any EOS id, when `stop` says so, or after max_new_tokens;
  // stopped rows leave the batch.
  std::vector<std::vector<int64_t>> generate_greedy(const Batch& batch, int64_t max_new_tokens,
                                                    const StopPredicate& stop = {});

 private:
  CausalLM(Transformer transformer, torch::Device device, std::unique_ptr<hf::SafetensorsCheckpoint> checkpoint,
           std::shared_ptr<TensorParallelGroup> group, std::shared_ptr<PipelineGroup> pipeline);

  std::shared_ptr<TensorParallelGroup> group_;  // outlives transformer_, which uses it
  std::shared_ptr<PipelineGroup> pipeline_;     // likewise
  std::unique_ptr<hf::SafetensorsCheckpoint> checkpoint_;  // keeps zero-copy weights mapped
  Transformer transformer_;
  torch::Device device_;
  AblationSlots slots_;
};

}  // namespace heretic::model
