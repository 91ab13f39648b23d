#include "model/model_weights.h"

#include <set>
#include <stdexcept>
#include <utility>

#include "common/error.h"
#include "model/quantized_tensor.h"

namespace heretic::model {
namespace {

// Rows of each role's weight (its out_features); every layer role's in_features is H except
// o_proj (nH*hd) and down_proj (I).
int64_t rows_of(TensorRole role, const ModelInfo& info) {
  switch (role) {
    case TensorRole::kEmbedTokens:
    case TensorRole::kLmHead:
      return info.vocab_size;
    case TensorRole::kQProj:
      return info.num_heads * info.head_dim;
    case TensorRole::kKProj:
    case TensorRole::kVProj:
      return info.num_kv_heads * info.head_dim;
    case TensorRole::kGateProj:
    case TensorRole::kUpProj:
      return info.intermediate_size;
    case TensorRole::kQNorm:
    case TensorRole::kKNorm:
      return info.head_dim;
    default:
      return info.hidden_size;
  }
}

int64_t columns_of(TensorRole role, const ModelInfo& info) {
  if (role == TensorRole::kOProj) return info.num_heads * info.head_dim;
  if (role == TensorRole::kDownProj) return info.intermediate_size;
  return info.hidden_size;
}

// The config.json keys a role's shape comes from, for messages.
std::string rows_key(TensorRole role) {
  switch (role) {
    case TensorRole::kEmbedTokens:
    case TensorRole::kLmHead:
      return "'vocab_size'";
    case TensorRole::kQProj:
      return "'num_attention_heads' and 'head_dim'";
    case TensorRole::kKProj:
    case TensorRole::kVProj:
      return "'num_key_value_heads' and 'head_dim'";
    case TensorRole::kGateProj:
    case TensorRole::kUpProj:
      return "'intermediate_size'";
    case TensorRole::kQNorm:
    case TensorRole::kKNorm:
      return "'head_dim'";
    default:
      return "'hidden_size'";
  }
}

std::string columns_key(TensorRole role) {
  if (role == TensorRole::kOProj) return "'num_attention_heads' and 'head_dim'";
  if (role == TensorRole::kDownProj) return "'intermediate_size'";
  return "'hidden_size'";
}

bool has_bias(TensorRole role, const ModelInfo& info) {
  switch (role) {
    case TensorRole::kQProj:
    case TensorRole::kKProj:
    case TensorRole::kVProj:
      return info.qkv_bias;
    case TensorRole::kOProj:
      return info.o_bias;
    case TensorRole::kGateProj:
    case TensorRole::kUpProj:
    case TensorRole::kDownProj:
      return info.mlp_bias;
    default:
      return false;
  }
}

// Tensor parallelism (tensor_parallel.h): the dimension of a role's weight that is split over
// the group (0: output rows, 1: input columns), or -1 when every rank holds all of it. A bias
// is split with the rows; o_proj's and down_proj's biases are added after the sum, whole.
int split_dimension(TensorRole role) {
  switch (role) {
    case TensorRole::kQProj:
    case TensorRole::kKProj:
    case TensorRole::kVProj:
    case TensorRole::kGateProj:
    case TensorRole::kUpProj:
      return 0;
    case TensorRole::kOProj:
    case TensorRole::kDownProj:
      return 1;
    default:
      return -1;
  }
}

// Where each role's tensors go in a DecoderLayerWeights.
LinearWeights* linear_slot(DecoderLayerWeights& layer, TensorRole role) {
  switch (role) {
    case TensorRole::kQProj:
      return &layer.q_proj;
    case TensorRole::kKProj:
      return &layer.k_proj;
    case TensorRole::kVProj:
      return &layer.v_proj;
    case TensorRole::kOProj:
      return &layer.o_proj;
    case TensorRole::kGateProj:
      return &layer.gate_proj;
    case TensorRole::kUpProj:
      return &layer.up_proj;
    case TensorRole::kDownProj:
      return &layer.down_proj;
    default:
      return nullptr;
  }
}

torch::Tensor* vector_slot(DecoderLayerWeights& layer, TensorRole role) {
  switch (role) {
    case TensorRole::kAttnInputNorm:
      return &layer.attn_input_norm;
    case TensorRole::kAttnOutputNorm:
      return &layer.attn_output_norm;
    case TensorRole::kMlpInputNorm:
      return &layer.mlp_input_norm;
    case TensorRole::kMlpOutputNorm:
      return &layer.mlp_output_norm;
    case TensorRole::kQNorm:
      return &layer.q_norm;
    case TensorRole::kKNorm:
      return &layer.k_norm;
    default:
      return nullptr;
  }
}

class WeightLoader {
 public:
  WeightLoader(const hf::SafetensorsCheckpoint& checkpoint, const ModelInfo& info, torch::ScalarType dtype,
               const torch::Device& device, TensorSplit split)
      : checkpoint_(checkpoint), config_file_((checkpoint.folder() / "config.json").string()), info_(info),
        dtype_(dtype), device_(device), split_(split) {}

  // The tensor `name`, checked to have `shape`; with `dim` >= 0 only this rank's part of that
  // dimension (elements start .. start + length - 1). `keys`: the config.json keys the expected
  // shape comes from. A shape that differs fails before anything of the tensor's (maybe absurd)
  // size is allocated.
  torch::Tensor tensor(const std::string& name, const std::vector<int64_t>& shape, const std::string& keys,
                       int dim = -1, int64_t start = 0, int64_t length = 0) const {
    const hf::TensorLocation location = checkpoint_.at(name);
    if (location.info->shape != shape)
      throw InputError(config_file_ + ": keys " + keys + " imply shape " + shape_text(shape) + " for tensor '" + name +
                       "', but " + location.file->path().string() + " has " + shape_text(location.info->shape));
    return load_weight_tensor(checkpoint_, info_.quantization, name, dtype_, device_, dim, start, length);
  }

  // A role stored under its own name (this rank's part of it under tensor parallelism).
  torch::Tensor direct(TensorRole role, int64_t layer, const char* suffix) const {
    const std::string name = info_.tensor_name(role, layer) + suffix;
    const bool bias = std::string(suffix) == ".bias";
    int dim = split_.whole() ? -1 : split_dimension(role);
    if (bias && dim == 1) dim = -1;  // added whole after the sum over the group
    const bool vector = bias || (!is_linear_role(role) && role != TensorRole::kEmbedTokens && role != TensorRole::kLmHead);
    const std::vector<int64_t> shape =
        vector ? std::vector<int64_t>{rows_of(role, info_)} : std::vector<int64_t>{rows_of(role, info_), columns_of(role, info_)};
    const std::string keys = vector ? rows_key(role) : rows_key(role) + ", " + columns_key(role);
    if (dim < 0) return tensor(name, shape, keys);
    const auto [start, length] = part_of(role, shape[static_cast<size_t>(dim)]);
    return tensor(name, shape, keys, dim, start, length);
  }

  // A mixture-of-experts layer's router and experts (per-expert tensors stacked, or views of
  // the fused ones), under tensor parallelism this rank's part of each expert's intermediate size.
  ExpertWeights experts(int64_t layer) const {
    const ExpertsRecipe& recipe = info_.family->experts;
    const ExpertsInfo& moe = info_.experts;
    const int64_t E = moe.count, H = info_.hidden_size, I = moe.intermediate_size;
    const std::string experts_key = "'" + recipe.count_key + "'", size_key = "'" + recipe.intermediate_key + "'";
    const int64_t start = split_.start(I), length = split_.length(I);
    ExpertWeights w;
    const std::string router = info_.expert_tensor_name(moe.fused ? recipe.fused_router : recipe.router, layer);
    w.router = tensor(router + ".weight", {E, H}, experts_key + ", 'hidden_size'");
    if (recipe.router_bias) w.router_bias = tensor(router + ".bias", {E}, experts_key);
    if (recipe.fused_transposed) {
      gpt_oss_experts(layer, w);
    } else if (moe.fused) {
      const std::string gate_up = info_.expert_tensor_name(recipe.fused_gate_up, layer);
      const std::string gate_up_keys = experts_key + ", " + size_key + " (twice), 'hidden_size'";
      if (split_.whole()) {
        const torch::Tensor both = tensor(gate_up, {E, 2 * I, H}, gate_up_keys);
        w.gate = both.narrow(1, 0, I);
        w.up = both.narrow(1, I, I);
      } else {
        w.gate = tensor(gate_up, {E, 2 * I, H}, gate_up_keys, 1, start, length);
        w.up = tensor(gate_up, {E, 2 * I, H}, gate_up_keys, 1, I + start, length);
      }
      const std::string down_keys = experts_key + ", 'hidden_size', " + size_key;
      w.down = split_.whole() ? tensor(info_.expert_tensor_name(recipe.fused_down, layer), {E, H, I}, down_keys)
                              : tensor(info_.expert_tensor_name(recipe.fused_down, layer), {E, H, I}, down_keys, 2, start, length);
    } else {
      std::vector<torch::Tensor> gates, ups, downs;
      for (int64_t e = 0; e < E; ++e) {
        const std::string keys = size_key + ", 'hidden_size'";
        gates.push_back(part(info_.expert_tensor_name(recipe.gate, layer, e) + ".weight", {I, H}, keys, 0, start, length));
        ups.push_back(part(info_.expert_tensor_name(recipe.up, layer, e) + ".weight", {I, H}, keys, 0, start, length));
        downs.push_back(part(info_.expert_tensor_name(recipe.down, layer, e) + ".weight", {H, I},
                             "'hidden_size', " + size_key, 1, start, length));
      }
      w.gate = torch::stack(gates);
      w.up = torch::stack(ups);
      w.down = torch::stack(downs);
    }
    if (moe.shared_intermediate_size > 0) {
      const int64_t S = moe.shared_intermediate_size;
      const std::string keys = "'" + recipe.shared_intermediate_key + "'";
      const int64_t shared_start = split_.start(S), shared_length = split_.length(S);
      w.shared_gate.weight = part(info_.expert_tensor_name(recipe.shared_gate, layer) + ".weight", {S, H},
                                  keys + ", 'hidden_size'", 0, shared_start, shared_length);
      w.shared_up.weight = part(info_.expert_tensor_name(recipe.shared_up, layer) + ".weight", {S, H},
                                keys + ", 'hidden_size'", 0, shared_start, shared_length);
      w.shared_down.weight = part(info_.expert_tensor_name(recipe.shared_down, layer) + ".weight", {H, S},
                                  "'hidden_size', " + keys, 1, shared_start, shared_length);
      w.shared_expert_gate =
          tensor(info_.expert_tensor_name(recipe.shared_expert_gate, layer) + ".weight", {1, H}, "'hidden_size'");
    }
    return w;
  }

  // gpt-oss' experts: fused, in MXFP4 ([E, out, in] blocks) or pre-dequantised ([E, in, out]),
  // gate and up interleaved, with biases. Under tensor parallelism a rank holds its intermediate
  // columns j: gate/up rows 2j and 2j + 1 (one run of rows) and those columns of down. An MXFP4
  // tensor decodes one expert at a time and keeps only that slice; a pre-dequantised one is narrowed.
  void gpt_oss_experts(int64_t layer, ExpertWeights& w) const {
    const ExpertsRecipe& recipe = info_.family->experts;
    const int64_t E = info_.experts.count, H = info_.hidden_size, I = info_.experts.intermediate_size;
    const std::string experts_key = "'" + recipe.count_key + "'", size_key = "'" + recipe.intermediate_key + "'";
    const std::string gate_up_name = info_.expert_tensor_name(recipe.fused_gate_up, layer);
    const std::string down_name = info_.expert_tensor_name(recipe.fused_down, layer);
    const std::string gate_up_keys = experts_key + ", " + size_key + " (twice), 'hidden_size'";
    const std::string down_keys = experts_key + ", 'hidden_size', " + size_key;
    const int64_t start = split_.start(I), length = split_.length(I);
    torch::Tensor gate_up, down;  // this rank's [E, 2 length, H] and [E, H, length]
    if (info_.quantization.method == hf::QuantMethod::kMxfp4) {
      check_mxfp4_shape(gate_up_name, {E, 2 * I, H}, gate_up_keys);
      check_mxfp4_shape(down_name, {E, H, I}, down_keys);
      gate_up = load_mxfp4_tensor(checkpoint_, gate_up_name, dtype_, device_, 1, 2 * start, 2 * length);
      down = load_mxfp4_tensor(checkpoint_, down_name, dtype_, device_, 2, start, length);
    } else {
      gate_up = tensor(gate_up_name, {E, H, 2 * I}, experts_key + ", 'hidden_size', " + size_key + " (twice)")
                    .transpose(1, 2)
                    .narrow(1, 2 * start, 2 * length);
      down = tensor(down_name, {E, I, H}, experts_key + ", " + size_key + ", 'hidden_size'")
                 .transpose(1, 2)
                 .narrow(2, start, length);
    }
    const torch::Tensor gate_up_bias =
        tensor(gate_up_name + "_bias", {E, 2 * I}, experts_key + ", " + size_key + " (twice)")
            .narrow(1, 2 * start, 2 * length);
    w.gate = gate_up.slice(1, 0, 2 * length, 2).contiguous();  // even rows
    w.up = gate_up.slice(1, 1, 2 * length, 2).contiguous();    // odd ones
    w.gate_bias = gate_up_bias.slice(1, 0, 2 * length, 2).contiguous();
    w.up_bias = gate_up_bias.slice(1, 1, 2 * length, 2).contiguous();
    w.down = down.contiguous();
    w.down_bias = tensor(down_name + "_bias", {E, H}, experts_key + ", 'hidden_size'");
  }

  // This rank's attention sinks [its heads].
  torch::Tensor sinks(int64_t layer) const {
    const std::string name = info_.expert_tensor_name(info_.family->block.attention_sinks, layer);
    const int64_t heads = info_.num_heads;
    return part(name, {heads}, "'num_attention_heads'", 0, split_.start(heads), split_.length(heads));
  }

  // Hands each part of `fused` (of `layer`) to `assign`: with the file's dtype on the CPU as a
  // view of the mapping, and under tensor parallelism only this rank's rows of each part.
  template <typename Assign>
  void fused(const FusedTensor& fused, int64_t layer, Assign assign) const {
    std::string name = info_.layout.decoder_prefix + fused.name;
    const size_t slot = name.find("{layer}");
    if (slot != std::string::npos) name.replace(slot, 7, std::to_string(layer));
    int64_t rows = 0;
    std::string keys;
    for (const TensorRole part : fused.parts) {
      rows += rows_of(part, info_);
      keys += rows_key(part) + ", ";
    }
    const int64_t columns = columns_of(fused.parts.front(), info_);
    const bool has_bias_rows = has_bias(fused.parts.front(), info_);
    const std::string weight_keys = keys + columns_key(fused.parts.front());
    const std::string bias_keys = keys.substr(0, keys.size() - 2);
    // The whole model loads the fused tensor once (in the model dtype) and takes views of it.
    torch::Tensor weight, bias;  // [sum of parts, in], [sum of parts]
    if (split_.whole()) {
      weight = tensor(name + ".weight", {rows, columns}, weight_keys);
      if (has_bias_rows) bias = tensor(name + ".bias", {rows}, bias_keys);
    }
    int64_t offset = 0;
    for (const TensorRole part : fused.parts) {
      const int64_t part_rows = rows_of(part, info_);
      LinearWeights linear;
      if (split_.whole()) {
        linear.weight = weight.narrow(0, offset, part_rows);  // contiguous rows: a view, no copy
        if (bias.defined()) linear.bias = bias.narrow(0, offset, part_rows);
      } else {  // this rank's rows of the part, read from the file alone
        const auto [part_start, length] = part_of(part, part_rows);
        linear.weight = tensor(name + ".weight", {rows, columns}, weight_keys, 0, offset + part_start, length);
        if (has_bias_rows) linear.bias = tensor(name + ".bias", {rows}, bias_keys, 0, offset + part_start, length);
      }
      assign(part, std::move(linear));
      offset += part_rows;
    }
  }

 private:
  // That the MXFP4 tensor `name` decodes to `shape` (its stored shape is the blocks'), from the headers.
  void check_mxfp4_shape(const std::string& name, const std::vector<int64_t>& shape, const std::string& keys) const {
    const std::vector<int64_t> decoded = mxfp4_shape(checkpoint_, name);
    if (decoded != shape)
      throw InputError(config_file_ + ": keys " + keys + " imply shape " + shape_text(shape) + " for tensor '" + name +
                       "', but its MXFP4 blocks decode to " + shape_text(decoded));
  }

  // The whole tensor, or this rank's elements start .. start + length - 1 of `dim` under tensor parallelism.
  torch::Tensor part(const std::string& name, const std::vector<int64_t>& shape, const std::string& keys, int dim,
                     int64_t start, int64_t length) const {
    return split_.whole() ? tensor(name, shape, keys) : tensor(name, shape, keys, dim, start, length);
  }

  // This rank's elements of a split dimension of `total` elements: start and length. k/v rows
  // follow the KV heads this rank holds (kv_heads_of), which may be replicated.
  std::pair<int64_t, int64_t> part_of(TensorRole role, int64_t total) const {
    if (role == TensorRole::kKProj || role == TensorRole::kVProj) {
      const HeadRange heads = kv_heads_of(split_, info_.num_kv_heads);
      return {heads.first * info_.head_dim, heads.count * info_.head_dim};
    }
    return {split_.start(total), split_.length(total)};
  }

  const hf::SafetensorsCheckpoint& checkpoint_;
  std::string config_file_;
  const ModelInfo& info_;
  torch::ScalarType dtype_;
  torch::Device device_;
  TensorSplit split_;
};

}  // namespace

int64_t ModelWeights::parameter_bytes() const {
  std::set<const void*> seen;
  int64_t bytes = 0;
  auto add = [&](const torch::Tensor& t) {
    if (!t.defined()) return;
    // Each tensor's own elements, once (tied embeddings are one tensor): a view of part of a
    // fused tensor or of a tensor-parallel slice of the file counts only what it covers.
    if (seen.insert(t.data_ptr()).second) bytes += static_cast<int64_t>(t.numel()) * t.element_size();
  };
  auto add_linear = [&](const LinearWeights& l) {
    add(l.weight);
    add(l.bias);
  };
  add(embed_tokens);
  add(final_norm);
  add(lm_head);
  for (const auto& layer : layers) {
    for (const torch::Tensor* t : {&layer.attn_input_norm, &layer.attn_output_norm, &layer.mlp_input_norm,
                                   &layer.mlp_output_norm, &layer.q_norm, &layer.k_norm})
      add(*t);
    for (const LinearWeights* l : {&layer.q_proj, &layer.k_proj, &layer.v_proj, &layer.o_proj, &layer.gate_proj,
                                   &layer.up_proj, &layer.down_proj, &layer.experts.shared_gate,
                                   &layer.experts.shared_up, &layer.experts.shared_down})
      add_linear(*l);
    for (const torch::Tensor* t : {&layer.experts.router, &layer.experts.gate, &layer.experts.up, &layer.experts.down,
                                   &layer.experts.shared_expert_gate, &layer.experts.router_bias,
                                   &layer.experts.gate_bias, &layer.experts.up_bias, &layer.experts.down_bias,
                                   &layer.attn_sinks})
      add(*t);
  }
  return bytes;
}

std::vector<torch::Tensor> abliterable_matrices(const DecoderLayerWeights& layer, Component component) {
  if (component == Component::kAttnOutput) return {layer.o_proj.weight};
  if (!layer.experts.defined()) return {layer.down_proj.weight};
  std::vector<torch::Tensor> matrices = layer.experts.down.unbind(0);
  if (layer.experts.shared_down.weight.defined()) matrices.push_back(layer.experts.shared_down.weight);
  return matrices;
}

ModelWeights load_model_weights(const hf::SafetensorsCheckpoint& checkpoint, const ModelInfo& info,
                                torch::ScalarType dtype, const torch::Device& device, TensorSplit split,
                                PipelineStage stage) {
  if (const std::string problem = tensor_parallel_problem(info, split.parts); !problem.empty())
    throw std::invalid_argument("load_model_weights: tensor parallel " + problem);
  if (const std::string problem = pipeline_problem(info, stage.stages); !problem.empty())
    throw std::invalid_argument("load_model_weights: pipeline " + problem);
  const WeightLoader load(checkpoint, info, dtype, device, split);
  const ModelFamily& family = *info.family;

  ModelWeights weights;
  if (stage.first()) weights.embed_tokens = load.direct(TensorRole::kEmbedTokens, 0, ".weight");
  if (stage.last()) {
    weights.final_norm = load.direct(TensorRole::kFinalNorm, 0, ".weight");
    if (info.tie_word_embeddings) {
      weights.lm_head = stage.first() ? weights.embed_tokens : load.direct(TensorRole::kEmbedTokens, 0, ".weight");
    } else {
      const std::string head = info.tensor_name(TensorRole::kLmHead) + ".weight";
      if (!checkpoint.contains(head))
        throw InputError(checkpoint.folder().string() + ": the checkpoint has no tensor '" + head +
                         "' and config.json does not set tie_word_embeddings");
      weights.lm_head = load.direct(TensorRole::kLmHead, 0, ".weight");
    }
  }
  const LayerRange held = stage.layers(info.num_layers);
  weights.layers.resize(static_cast<size_t>(info.num_layers));
  for (int64_t i = held.first; i < held.end(); ++i) {
    DecoderLayerWeights& layer = weights.layers[static_cast<size_t>(i)];
    const bool moe = info.is_moe_layer(i);
    for (const TensorName& entry : family.tensors) {
      if (!is_layer_role(entry.role)) continue;
      const bool dense_mlp =
          entry.role == TensorRole::kGateProj || entry.role == TensorRole::kUpProj || entry.role == TensorRole::kDownProj;
      if (moe && dense_mlp) continue;
      if (LinearWeights* linear = linear_slot(layer, entry.role)) {
        linear->weight = load.direct(entry.role, i, ".weight");
        if (has_bias(entry.role, info)) linear->bias = load.direct(entry.role, i, ".bias");
      } else {
        *vector_slot(layer, entry.role) = load.direct(entry.role, i, ".weight");
      }
    }
    for (const FusedTensor& fused : family.fused_tensors)
      load.fused(fused, i, [&layer](TensorRole role, LinearWeights linear) { *linear_slot(layer, role) = std::move(linear); });
    if (moe) layer.experts = load.experts(i);
    if (info.attention_sinks) layer.attn_sinks = load.sinks(i);
  }
  return weights;
}

}  // namespace heretic::model
