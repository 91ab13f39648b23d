#include "model/causal_lm.h"

#include <spdlog/spdlog.h>

#include "common/error.h"
#include "model/model_weights.h"
#include "model/tensor_view.h"

namespace heretic::model {
namespace fs = std::filesystem;

CausalLM::CausalLM(Transformer transformer, torch::Device device, std::unique_ptr<hf::SafetensorsCheckpoint> checkpoint,
                   std::shared_ptr<TensorParallelGroup> group, std::shared_ptr<PipelineGroup> pipeline)
    : group_(std::move(group)),
      pipeline_(std::move(pipeline)),
      checkpoint_(std::move(checkpoint)),
      transformer_(std::move(transformer)),
      device_(device),
      slots_(transformer_.info().num_layers) {}

std::unique_ptr<CausalLM> CausalLM::load(const fs::path& folder, const std::string& dtype,
                                         const torch::Device& device, std::shared_ptr<TensorParallelGroup> group,
                                         std::shared_ptr<PipelineGroup> pipeline) {
  ModelInfo info = read_model_info(folder, dtype);
  const TensorSplit split = group ? group->split() : TensorSplit{};
  if (const std::string problem = tensor_parallel_problem(info, split.parts); !problem.empty())
    throw InputError((folder / "config.json").string() + ": tensor parallel over " + std::to_string(split.parts) +
                     " ranks: " + problem);
  const PipelineStage stage = pipeline ? pipeline->position() : PipelineStage{};
  if (const std::string problem = pipeline_problem(info, stage.stages); !problem.empty())
    throw InputError((folder / "config.json").string() + ": pipeline stages: " + problem);
  auto checkpoint = std::make_unique<hf::SafetensorsCheckpoint>(hf::SafetensorsCheckpoint::open(folder));
  bind_checkpoint_layout(info, *checkpoint);
  ModelWeights weights = load_model_weights(*checkpoint, info, to_torch(info.dtype), device, split, stage);
  spdlog::debug("loaded {} ({} layers, {}{}) from {}", info.model_type, info.num_layers, torch_dtype_name(info.dtype),
                split.whole() ? "" : ", tensor-parallel part " + std::to_string(split.index + 1) + " of " +
                                         std::to_string(split.parts),
                folder.string());
  if (!stage.whole()) {
    const LayerRange held = stage.layers(info.num_layers);
    spdlog::debug("pipeline stage {} of {}: layers {} to {}", stage.index + 1, stage.stages, held.first,
                  held.end() - 1);
  }
  TensorParallelGroup* raw_group = group.get();
  PipelineGroup* raw_pipeline = pipeline.get();
  return std::unique_ptr<CausalLM>(
      new CausalLM(Transformer(std::move(info), std::move(weights), raw_group, raw_pipeline), device,
                   std::move(checkpoint), std::move(group), std::move(pipeline)));
}

std::unique_ptr<CausalLM> CausalLM::load_first_working(const fs::path& folder, const std::vector<std::string>& dtypes,
                                                       const torch::Device& device,
                                                       const std::vector<int64_t>& smoke_prompt,
                                                       std::shared_ptr<TensorParallelGroup> group,
                                                       std::shared_ptr<PipelineGroup> pipeline) {
  std::string failures;
  for (const std::string& dtype : dtypes) {
    try {
      auto model = load(folder, dtype, device, group, pipeline);
      // Smoke test: one greedy token. Catches dtypes the device cannot compute in and
      // overflow to inf/NaN.
      const Batch batch = model->make_batch({smoke_prompt});
      const torch::Tensor logits = model->next_token_logits(batch);
      if (!torch::isfinite(logits).all().item<bool>())
        throw std::runtime_error("the smoke test produced non-finite logits");
      spdlog::info("model loaded with dtype {}", torch_dtype_name(model->info().dtype));
      return model;
    } catch (const InputError&) {
      throw;  // a broken model folder fails the same way in every dtype
    } catch (const std::exception& error) {
      const std::string message = error.what();
      spdlog::warn("loading with dtype {} failed: {}", dtype, message.substr(0, message.find('\n')));
      failures += "\n  " + dtype + ": " + message.substr(0, message.find('\n'));
    }
  }
  throw InputError(folder.string() + ": failed to load the model with all configured dtypes:" + failures);
}

Batch CausalLM::make_batch(const std::vector<std::vector<int64_t>>& prompts) const {
  const auto& generation = info().generation;
  return make_left_padded_batch(prompts, generation.pad_token_id.value_or(0), device_);
}

torch::Tensor CausalLM::last_position_hidden_states(const Batch& batch) {
  torch::NoGradGuard no_grad;
  torch::Tensor hidden;  // [B, L+1, H] float32
  ForwardRequest request;
  request.input_ids = batch.input_ids;
  request.attention_mask = batch.attention_mask;
  request.position_ids = position_ids_from_mask(batch.attention_mask);
  request.last_position_only = true;
  request.last_position_hidden = &hidden;
  transformer_.forward(request, slots_);
  return hidden;
}

torch::Tensor CausalLM::next_token_logits(const Batch& batch) {
  torch::NoGradGuard no_grad;
  ForwardRequest request;
  request.input_ids = batch.input_ids;
  request.attention_mask = batch.attention_mask;
  request.position_ids = position_ids_from_mask(batch.attention_mask);
  request.last_position_only = true;
  const torch::Tensor normed = transformer_.forward(request, slots_);  // [B, 1, H]
  return transformer_.logits(normed).squeeze(1);                       // [B, V]
}

}  // namespace heretic::model
