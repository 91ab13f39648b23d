#include "model/memory_plan.h"

#include <algorithm>

#include "hf/safetensors_reader.h"
#include "model/pipeline_stages.h"
#include "model/tensor_parallel.h"

namespace heretic::model {
namespace {

enum class Share { kSplit, kKv, kReplicated };

// How a tensor-parallel split shares a role's weight and bias (model/tensor_parallel.h).
Share weight_share(TensorRole role) {
  switch (role) {
    case TensorRole::kQProj:
    case TensorRole::kOProj:
    case TensorRole::kGateProj:
    case TensorRole::kUpProj:
    case TensorRole::kDownProj: return Share::kSplit;
    case TensorRole::kKProj:
    case TensorRole::kVProj: return Share::kKv;
    default: return Share::kReplicated;
  }
}

// Row-parallel outputs (o_proj, down_proj) are summed before their bias, which every rank holds.
Share bias_share(TensorRole role) {
  if (role == TensorRole::kOProj || role == TensorRole::kDownProj) return Share::kReplicated;
  return weight_share(role);
}

bool has_bias(const ModelInfo& info, TensorRole role) {
  switch (role) {
    case TensorRole::kQProj:
    case TensorRole::kKProj:
    case TensorRole::kVProj: return info.qkv_bias;
    case TensorRole::kOProj: return info.o_bias;
    case TensorRole::kGateProj:
    case TensorRole::kUpProj:
    case TensorRole::kDownProj: return info.mlp_bias;
    default: return false;
  }
}

// Elements of a role's weight and bias as the shape in config.json implies.
std::pair<int64_t, int64_t> shape_elements(const ModelInfo& info, TensorRole role) {
  const int64_t h = info.hidden_size, q = info.num_heads * info.head_dim, kv = info.num_kv_heads * info.head_dim;
  const int64_t i = info.intermediate_size;
  switch (role) {
    case TensorRole::kEmbedTokens:
    case TensorRole::kLmHead: return {info.vocab_size * h, 0};
    case TensorRole::kQNorm:
    case TensorRole::kKNorm: return {info.head_dim, 0};
    case TensorRole::kQProj: return {q * h, q};
    case TensorRole::kKProj:
    case TensorRole::kVProj: return {kv * h, kv};
    case TensorRole::kOProj: return {h * q, h};
    case TensorRole::kGateProj:
    case TensorRole::kUpProj: return {i * h, i};
    case TensorRole::kDownProj: return {h * i, h};
    default: return {h, 0};  // the RMSNorm weights
  }
}

bool model_holds(const ModelInfo& info, TensorRole role) {
  if (role == TensorRole::kLmHead) return !info.tie_word_embeddings;
  if (role == TensorRole::kQNorm || role == TensorRole::kKNorm) return info.qk_norm;
  return info.family->has_role(role);
}

void add(ModelElements& elements, int64_t layer, Share share, int64_t count) {
  auto& per_layer = share == Share::kSplit ? elements.split : share == Share::kKv ? elements.kv : elements.replicated;
  per_layer[static_cast<size_t>(layer)] += count;
}

// Counts every tensor the model holds; `checkpoint_elements(name)` returns a tensor's elements
// as stored (and adds its bytes), or -1 when the count must come from the shape.
template <typename Lookup>
ModelElements count(const ModelInfo& info, Lookup checkpoint_elements) {
  ModelElements elements;
  const auto layers = static_cast<size_t>(info.num_layers);
  elements.split.assign(layers, 0);
  elements.kv.assign(layers, 0);
  elements.replicated.assign(layers, 0);
  auto elements_of = [&](TensorRole role, int64_t layer, bool bias) {
    const std::string name = info.tensor_name(role, layer);
    if (!name.empty()) {
      const int64_t stored = checkpoint_elements(name + (bias ? ".bias" : ".weight"));
      if (stored >= 0) return stored;
    }
    const auto [weight, bias_elements] = shape_elements(info, role);
    return bias ? bias_elements : weight;
  };
  for (int r = 0; r < kTensorRoleCount; ++r) {
    const auto role = static_cast<TensorRole>(r);
    if (!model_holds(info, role)) continue;
    if (!is_layer_role(role)) {
      const int64_t n = elements_of(role, 0, false);
      (role == TensorRole::kEmbedTokens ? elements.embedding : elements.head) += n;
      continue;
    }
    const bool dense_mlp = role == TensorRole::kGateProj || role == TensorRole::kUpProj || role == TensorRole::kDownProj;
    for (int64_t layer = 0; layer < info.num_layers; ++layer) {
      if (dense_mlp && info.is_moe_layer(layer)) continue;
      add(elements, layer, weight_share(role), elements_of(role, layer, false));
      if (has_bias(info, role)) add(elements, layer, bias_share(role), elements_of(role, layer, true));
    }
  }
  // Mixture-of-experts layers: the router and shared-expert gate on every rank, each expert's
  // (and the shared expert's) SwiGLU split like a dense MLP (tensor_parallel.h).
  const ExpertsInfo& moe = info.experts;
  for (int64_t layer = 0; layer < info.num_layers; ++layer) {
    if (!info.is_moe_layer(layer)) continue;
    const int64_t h = info.hidden_size;
    // In double, clamped: config.json's sizes are bounded one by one, not their products, and an
    // absurd product must make the plan refuse the layout, not overflow.
    const auto clamped = [](double count) {
      return static_cast<int64_t>(std::min(count, static_cast<double>(int64_t{1} << 62)));
    };
    add(elements, layer, Share::kReplicated,
        clamped(static_cast<double>(moe.count) * static_cast<double>(h) + (moe.shared_intermediate_size > 0 ? h : 0)));
    add(elements, layer, Share::kSplit,
        clamped(3.0 * static_cast<double>(h) *
                (static_cast<double>(moe.count) * static_cast<double>(moe.intermediate_size) +
                 static_cast<double>(moe.shared_intermediate_size))));
  }
  return elements;
}

// The checkpoint tensors of a MoE layer's experts (either layout), for the stored bytes.
std::vector<std::string> expert_tensor_names(const ModelInfo& info, int64_t layer) {
  const ExpertsRecipe& recipe = info.family->experts;
  std::vector<std::string> names;
  for (const std::string* pattern : {&recipe.router, &recipe.fused_router, &recipe.shared_gate, &recipe.shared_up,
                                     &recipe.shared_down, &recipe.shared_expert_gate})
    if (!pattern->empty()) names.push_back(info.expert_tensor_name(*pattern, layer) + ".weight");
  for (const std::string* pattern : {&recipe.fused_gate_up, &recipe.fused_down})
    if (!pattern->empty())
      for (const char* suffix : {"", "_blocks", "_scales", "_bias"})  // bf16, MXFP4, gpt-oss' biases
        names.push_back(info.expert_tensor_name(*pattern, layer) + suffix);
  if (recipe.router_bias) names.push_back(info.expert_tensor_name(recipe.router, layer) + ".bias");
  for (int64_t e = 0; e < info.experts.count; ++e)
    for (const std::string* pattern : {&recipe.gate, &recipe.up, &recipe.down})
      names.push_back(info.expert_tensor_name(*pattern, layer, e) + ".weight");
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());  // Qwen's routers share one name
  return names;
}

int64_t sum(const std::vector<int64_t>& values, int64_t begin, int64_t end) {
  int64_t total = 0;
  for (int64_t i = begin; i < end; ++i) total += values[static_cast<size_t>(i)];
  return total;
}

}  // namespace

int64_t ModelElements::total() const {
  return sum(split, 0, static_cast<int64_t>(split.size())) + sum(kv, 0, static_cast<int64_t>(kv.size())) +
         sum(replicated, 0, static_cast<int64_t>(replicated.size())) + embedding + head;
}

ModelElements count_elements(const ModelInfo& info) {
  return count(info, [](const std::string&) { return int64_t{-1}; });
}

ModelElements count_elements(const ModelInfo& info, const hf::SafetensorsCheckpoint& checkpoint) {
  int64_t bytes = 0;
  ModelElements elements = count(info, [&](const std::string& name) -> int64_t {
    if (!checkpoint.contains(name)) return -1;
    const hf::TensorInfo& tensor = *checkpoint.at(name).info;
    bytes += static_cast<int64_t>(tensor.byte_size());
    return static_cast<int64_t>(tensor.element_count());
  });
  // Tensors stored fused (Phi-3's qkv_proj, gate_up_proj) were counted from the shape; their
  // stored bytes still belong to the checkpoint's.
  for (const FusedTensor& fused : info.family->fused_tensors) {
    for (int64_t layer = 0; layer < info.num_layers; ++layer) {
      std::string name = fused.name;
      const size_t slot = name.find("{layer}");
      if (slot != std::string::npos) name.replace(slot, 7, std::to_string(layer));
      name = info.layout.decoder_prefix + name + ".weight";
      if (checkpoint.contains(name)) bytes += static_cast<int64_t>(checkpoint.at(name).info->byte_size());
    }
  }
  for (int64_t layer = 0; layer < info.num_layers; ++layer) {
    if (!info.is_moe_layer(layer)) continue;
    for (const std::string& name : expert_tensor_names(info, layer))
      if (checkpoint.contains(name)) bytes += static_cast<int64_t>(checkpoint.at(name).info->byte_size());
  }
  elements.from_checkpoint = true;
  elements.checkpoint_bytes = bytes;
  return elements;
}

RankMemory rank_memory(const ModelInfo& info, const ModelElements& elements, const Layout& layout, int stage,
                       int tensor_rank, int64_t batch, const Workload& workload) {
  const TensorSplit split{tensor_rank, layout.tensor_parallel};
  const int64_t kv_heads = kv_heads_of(split, info.num_kv_heads).count;
  const int64_t heads = info.num_heads / layout.tensor_parallel;
  // The widest MLP activation per token: a dense layer's, or a MoE layer's k experts and shared expert.
  int64_t intermediate = 0;
  for (int64_t layer = 0; layer < info.num_layers; ++layer)
    intermediate = std::max(intermediate, info.is_moe_layer(layer) ? info.experts.per_token * info.experts.intermediate_size +
                                                                         info.experts.shared_intermediate_size
                                                                   : info.intermediate_size);
  intermediate /= layout.tensor_parallel;
  const auto e = static_cast<int64_t>(hf::dtype_size(info.dtype));
  const LayerRange held = PipelineStage{stage, layout.pipeline_stages}.layers(info.num_layers);
  const int64_t first = held.first, end = held.end();
  const bool first_stage = stage == 0, last_stage = stage == layout.pipeline_stages - 1;

  RankMemory rank;
  rank.stage = stage;
  rank.tensor_rank = tensor_rank;
  rank.first_layer = first;
  rank.end_layer = end;
  int64_t weight_elements = sum(elements.split, first, end) / layout.tensor_parallel +
                            sum(elements.kv, first, end) * kv_heads / info.num_kv_heads +
                            sum(elements.replicated, first, end);
  if (first_stage || (last_stage && info.tie_word_embeddings)) weight_elements += elements.embedding;
  if (last_stage) weight_elements += elements.head;
  rank.weights = weight_elements * e;

  const int64_t layers = end - first, prompt = workload.prompt_tokens;
  const int64_t sequence = workload.prompt_tokens + workload.response_tokens;
  rank.kv_cache = 2 * layers * batch * kv_heads * sequence * info.head_dim * e;
  const int64_t hidden = info.hidden_size;
  int64_t activations =
      batch * prompt * (4 * hidden + (heads + 2 * kv_heads) * info.head_dim + 3 * intermediate) * e +
      batch * heads * prompt * sequence * 4;
  if (last_stage) activations += 2 * batch * info.vocab_size * 4;
  // Routing: float32 probabilities over the experts and the float32 sum of the experts' outputs.
  if (info.experts.count > 0) activations += batch * prompt * (info.experts.count + hidden) * 4;
  activations += batch * (info.num_layers + 1) * hidden * 4;
  rank.activations = activations;
  rank.workspace = kWorkspaceBytes;
  return rank;
}

std::vector<RankMemory> layout_memory(const ModelInfo& info, const ModelElements& elements, const Layout& layout,
                                      int64_t batch, const Workload& workload) {
  std::vector<RankMemory> ranks;
  for (int stage = 0; stage < layout.pipeline_stages; ++stage)
    for (int part = 0; part < layout.tensor_parallel; ++part)
      ranks.push_back(rank_memory(info, elements, layout, stage, part, batch, workload));
  return ranks;
}

std::string layout_problem(const ModelInfo& info, const Layout& layout) {
  if (const std::string problem = tensor_parallel_problem(info, layout.tensor_parallel); !problem.empty())
    return "key 'mpi.tensor_parallel': " + problem;
  if (const std::string problem = pipeline_problem(info, layout.pipeline_stages); !problem.empty())
    return "key 'mpi.pipeline_stages': " + problem;
  return "";
}

namespace {

RankMemory largest(const std::vector<RankMemory>& ranks) {
  return *std::max_element(ranks.begin(), ranks.end(),
                           [](const RankMemory& a, const RankMemory& b) { return a.total() < b.total(); });
}

}  // namespace

LayoutFit fit_layout(const ModelInfo& info, const ModelElements& elements, const Layout& layout,
                     const Workload& workload, int64_t memory_per_rank) {
  LayoutFit fit;
  fit.layout = layout;
  fit.problem = layout_problem(info, layout);
  if (!fit.problem.empty()) return fit;
  auto need = [&](int64_t batch) { return largest(layout_memory(info, elements, layout, batch, workload)); };
  fit.at_ceiling = need(workload.batch_size);
  fit.at_one = need(1);
  // The need grows with the batch: the largest batch that fits, by bisection.
  int64_t low = 0, high = workload.batch_size;
  while (low < high) {
    const int64_t mid = (low + high + 1) / 2;
    if (need(mid).total() <= memory_per_rank) {
      low = mid;
    } else {
      high = mid - 1;
    }
  }
  fit.largest_batch = low;
  return fit;
}

std::vector<Layout> candidate_layouts(int ranks_per_node, int nodes) {
  const int world = ranks_per_node * nodes;
  std::vector<Layout> layouts;
  for (int size = 1; size <= world; ++size) {
    if (world % size != 0) continue;
    for (int t = std::min(size, ranks_per_node); t >= 1; --t) {
      if (size % t == 0 && ranks_per_node % t == 0) layouts.push_back(Layout{t, size / t});
    }
  }
  return layouts;
}

}  // namespace heretic::model
