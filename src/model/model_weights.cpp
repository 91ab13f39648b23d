#include "model/model_weights.h"

#include <set>

#include "common/error.h"
#include "model/tensor_view.h"

namespace heretic::model {
namespace {

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i) text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

class WeightLoader {
 public:
  WeightLoader(const hf::SafetensorsCheckpoint& checkpoint, torch::ScalarType dtype, const torch::Device& device)
      : checkpoint_(checkpoint), config_file_((checkpoint.folder() / "config.json").string()), dtype_(dtype),
        device_(device) {}

  // `keys`: the config.json keys the expected shape comes from, for the message.
  torch::Tensor tensor(const std::string& name, const std::vector<int64_t>& shape, const std::string& keys) const {
    const hf::TensorLocation location = checkpoint_.at(name);
    if (location.info->shape != shape)
      throw InputError(config_file_ + ": keys " + keys + " imply shape " + shape_text(shape) + " for tensor '" + name +
                       "', but " + location.file->path().string() + " has " + shape_text(location.info->shape));
    return load_tensor(location, dtype_, device_);
  }
  LinearWeights linear(const std::string& prefix, int64_t out, int64_t in, bool bias, const std::string& keys) const {
    LinearWeights result;
    result.weight = tensor(prefix + ".weight", {out, in}, keys);
    if (bias) result.bias = tensor(prefix + ".bias", {out}, keys);
    return result;
  }
  bool contains(const std::string& name) const { return checkpoint_.contains(name); }

 private:
  const hf::SafetensorsCheckpoint& checkpoint_;
  std::string config_file_;
  torch::ScalarType dtype_;
  torch::Device device_;
};

}  // namespace

int64_t ModelWeights::parameter_bytes() const {
  std::set<const void*> seen;
  int64_t bytes = 0;
  auto add = [&](const torch::Tensor& t) {
    if (t.defined() && seen.insert(t.data_ptr()).second) bytes += t.numel() * t.element_size();
  };
  auto add_linear = [&](const LinearWeights& l) {
    add(l.weight);
    add(l.bias);
  };
  add(embed_tokens);
  add(final_norm);
  add(lm_head);
  for (const auto& layer : layers) {
    add(layer.input_norm);
    add(layer.post_attention_norm);
    add(layer.q_norm);
    add(layer.k_norm);
    add_linear(layer.q_proj);
    add_linear(layer.k_proj);
    add_linear(layer.v_proj);
    add_linear(layer.o_proj);
    add_linear(layer.gate_proj);
    add_linear(layer.up_proj);
    add_linear(layer.down_proj);
  }
  return bytes;
}

ModelWeights load_model_weights(const hf::SafetensorsCheckpoint& checkpoint, const ModelInfo& info,
                                torch::ScalarType dtype, const torch::Device& device) {
  // Which config.json keys each expected shape comes from.
  const std::string kVocabHidden = "'vocab_size' and 'hidden_size'", kHidden = "'hidden_size'",
                    kHeadDim = "'head_dim'", kQuery = "'num_attention_heads', 'head_dim' and 'hidden_size'",
                    kKeyValue = "'num_key_value_heads', 'head_dim' and 'hidden_size'",
                    kMlp = "'intermediate_size' and 'hidden_size'";
  const WeightLoader load(checkpoint, dtype, device);
  const int64_t H = info.hidden_size;
  const int64_t q_dim = info.num_heads * info.head_dim;
  const int64_t kv_dim = info.num_kv_heads * info.head_dim;
  const int64_t I = info.intermediate_size;

  ModelWeights weights;
  weights.embed_tokens = load.tensor("model.embed_tokens.weight", {info.vocab_size, H}, kVocabHidden);
  weights.final_norm = load.tensor("model.norm.weight", {H}, kHidden);
  if (info.tie_word_embeddings) {
    weights.lm_head = weights.embed_tokens;
  } else {
    if (!load.contains("lm_head.weight"))
      throw InputError(checkpoint.folder().string() +
                       ": the checkpoint has no tensor 'lm_head.weight' and config.json does not "
                       "set tie_word_embeddings");
    weights.lm_head = load.tensor("lm_head.weight", {info.vocab_size, H}, kVocabHidden);
  }
  for (int64_t i = 0; i < info.num_layers; ++i) {
    const std::string prefix = "model.layers." + std::to_string(i) + ".";
    DecoderLayerWeights layer;
    layer.input_norm = load.tensor(prefix + "input_layernorm.weight", {H}, kHidden);
    layer.post_attention_norm = load.tensor(prefix + "post_attention_layernorm.weight", {H}, kHidden);
    if (info.qk_norm) {
      layer.q_norm = load.tensor(prefix + "self_attn.q_norm.weight", {info.head_dim}, kHeadDim);
      layer.k_norm = load.tensor(prefix + "self_attn.k_norm.weight", {info.head_dim}, kHeadDim);
    }
    layer.q_proj = load.linear(prefix + "self_attn.q_proj", q_dim, H, info.qkv_bias, kQuery);
    layer.k_proj = load.linear(prefix + "self_attn.k_proj", kv_dim, H, info.qkv_bias, kKeyValue);
    layer.v_proj = load.linear(prefix + "self_attn.v_proj", kv_dim, H, info.qkv_bias, kKeyValue);
    layer.o_proj = load.linear(prefix + "self_attn.o_proj", H, q_dim, info.o_bias, kQuery);
    layer.gate_proj = load.linear(prefix + "mlp.gate_proj", I, H, info.mlp_bias, kMlp);
    layer.up_proj = load.linear(prefix + "mlp.up_proj", I, H, info.mlp_bias, kMlp);
    layer.down_proj = load.linear(prefix + "mlp.down_proj", H, I, info.mlp_bias, kMlp);
    weights.layers.push_back(std::move(layer));
  }
  return weights;
}

}  // namespace heretic::model
