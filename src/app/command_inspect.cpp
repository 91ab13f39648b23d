// `heretic-mpi inspect --model DIR|org/name`: loads a model and prints what the run would
// work with — architecture, layers, abliterable modules per component, dtype, memory. A quick
// check on a login node that a model is supported and complete before submitting a job.
#include <algorithm>
#include <cstdio>
#include <cxxopts.hpp>
#include <iostream>
#include <optional>
#include <string>

#include "app/command.h"
#include "common/error.h"
#include "hf/model_location.h"
#include "model/attention.h"
#include "model/causal_lm.h"

namespace heretic::app {
namespace {

std::string human_bytes(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int unit = 0;
  while (bytes >= 1024.0 && unit < 4) {
    bytes /= 1024.0;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof(text), unit == 0 ? "%.0f %s" : "%.2f %s", bytes, units[unit]);
  return text;
}

std::string shape_text(const torch::Tensor& t) {
  std::string text = "[";
  for (int64_t i = 0; i < t.dim(); ++i) text += (i ? ", " : "") + std::to_string(t.size(i));
  return text + "]";
}

int run_inspect(int argc, char** argv) {
  cxxopts::Options options("heretic-mpi inspect", "Load a model and describe it.");
  options.add_options()("model", "model folder or Hugging Face repo id (resolved offline from the hub cache)",
                        cxxopts::value<std::string>())("revision", "hub revision (branch, tag or commit) for a repo id",
                                                       cxxopts::value<std::string>())(
      "dtype", "auto, bfloat16, float16 or float32", cxxopts::value<std::string>()->default_value("auto"))(
      "h,help", "show this help");
  cxxopts::ParseResult args;
  try {
    args = options.parse(argc, argv);
  } catch (const std::exception& error) {
    throw InputError(std::string("inspect: ") + error.what());
  }
  if (args.count("help")) {
    std::cout << options.help() << "\n";
    return 0;
  }
  if (!args.count("model")) throw InputError("inspect: --model is required\n" + options.help());
  std::optional<std::string> revision;
  if (args.count("revision")) revision = args["revision"].as<std::string>();

  const hf::ModelLocation location = hf::locate_model(args["model"].as<std::string>(), revision);
  const auto model = model::CausalLM::load(location.folder, args["dtype"].as<std::string>(), torch::kCPU);
  const model::ModelInfo& info = model->info();

  std::cout << "model:          " << location.folder.string() << "\n";
  if (!location.repo_id.empty())
    std::cout << "repo:           " << location.repo_id << " @ " << location.commit << "\n";
  std::cout << "architecture:   " << info.family->name << " (model_type " << info.model_type << ")\n";
  if (info.family->is_wrapper())
    std::cout << "text model:     " << info.layout.decoder_prefix << "* (other tensors, e.g. the vision tower, are "
              << "not loaded and are copied unchanged by an export)\n";
  std::cout << "layers:         " << info.num_layers << "\n"
            << "hidden size:    " << info.hidden_size << ", intermediate " << info.intermediate_size << ", vocab "
            << info.vocab_size << "\n"
            << "attention:      " << info.num_heads << " heads, " << info.num_kv_heads << " kv heads, head_dim "
            << info.head_dim << ", scale " << info.attention_scale << ", "
            << (model::attention_uses_sdpa() && info.attn_logit_softcap == 0.0 ? "sdpa" : "eager") << "\n"
            << "block:          " << (info.norm_style == model::NormStyle::kOffsetInFloat32 ? "(1 + w)" : "w")
            << " RMSNorm, " << (info.family->has_role(model::TensorRole::kMlpOutputNorm) ? "sandwich" : "pre")
            << " norms" << (info.qk_norm ? ", q/k norms" : "") << ", " << model::activation_name(info.activation)
            << " MLP\n";
  if (info.embedding_scale > 0.0) std::cout << "embedding scale: " << info.embedding_scale << "\n";
  if (info.attn_logit_softcap > 0.0 || info.final_logit_softcap > 0.0)
    std::cout << "soft-capping:   attention " << info.attn_logit_softcap << ", final logits " << info.final_logit_softcap
              << " (0 = off)\n";
  std::cout << "rope:           " << info.rope.rope_type << ", theta " << *info.rope.rope_theta;
  if (info.rope.partial_rotary_factor < 1.0) std::cout << ", partial " << info.rope.partial_rotary_factor;
  if (info.sliding_rope)
    std::cout << "; sliding layers " << info.sliding_rope->rope_type << ", theta " << *info.sliding_rope->rope_theta;
  std::cout << "\n";
  int64_t sliding = 0;
  for (const int64_t w : info.sliding_window) sliding += w > 0 ? 1 : 0;
  if (sliding > 0) {
    const int64_t window = *std::max_element(info.sliding_window.begin(), info.sliding_window.end());
    std::cout << "sliding window: " << window << " on " << sliding << " of " << info.num_layers << " layers\n";
  }
  std::cout << "tied embeddings: " << (info.tie_word_embeddings ? "yes" : "no") << "\n"
            << "dtype:          " << model::torch_dtype_name(info.dtype) << "\n";
  if (info.quantization.method == hf::QuantMethod::kBlockFp8)
    std::cout << "quantisation:   fp8 (float8 blocks of " << info.quantization.block_rows << "x"
              << info.quantization.block_cols << " with scale_inv), dequantised on load to "
              << model::torch_dtype_name(info.dtype) << "\n";
  else if (info.quantization.quantized())
    std::cout << "quantisation:   " << info.quantization.method_name << ", dequantised on load to "
              << model::torch_dtype_name(info.dtype) << "\n";

  if (info.experts.count > 0) {
    const auto moe_layers = std::count(info.experts.layers.begin(), info.experts.layers.end(), true);
    std::cout << "experts:        " << info.experts.count << " per layer on " << moe_layers << " of " << info.num_layers
              << " layers, top " << info.experts.per_token
              << (info.experts.normalize_top_k ? " (renormalised)" : " (not renormalised)") << ", intermediate size "
              << info.experts.intermediate_size;
    if (info.experts.shared_intermediate_size > 0)
      std::cout << ", a shared expert of " << info.experts.shared_intermediate_size;
    std::cout << "; stored " << (info.experts.fused ? "fused (one tensor per layer)" : "one module per expert") << "\n";
  }
  std::cout << "abliterable modules:\n";
  const auto& layers = model->weights().layers;
  for (int c = 0; c < model::kComponentCount; ++c) {
    const auto component = static_cast<model::Component>(c);
    int64_t modules = 0;
    for (int64_t layer = 0; layer < info.num_layers; ++layer) modules += info.module_count(layer, component);
    std::cout << "  " << model::component_name(component) << ": " << modules << " modules in " << info.num_layers
              << " layers (" << info.module_name(0, component) << " .. "
              << info.module_name(info.num_layers - 1, component) << "), weight "
              << shape_text(model::abliterable_matrices(layers.front(), component).front()) << "\n";
  }
  const double parameter_bytes = static_cast<double>(model->weights().parameter_bytes());
  const double element = static_cast<double>(hf::dtype_size(info.dtype));
  std::cout << "parameters:     " << static_cast<int64_t>(parameter_bytes / element) << "\n"
            << "weights memory: " << human_bytes(parameter_bytes) << " in " << model::torch_dtype_name(info.dtype)
            << "\n";
  const double kv_per_token = 2.0 * static_cast<double>(info.num_layers * info.num_kv_heads * info.head_dim) * element;
  std::cout << "KV cache:       " << human_bytes(kv_per_token) << " per token\n";
  std::cout << "eos ids:        ";
  for (size_t i = 0; i < info.generation.eos_token_ids.size(); ++i)
    std::cout << (i ? ", " : "") << info.generation.eos_token_ids[i];
  std::cout << "\n";
  return 0;
}

}  // namespace

HERETIC_REGISTER_COMMAND("inspect", "load a model and print its architecture, modules and memory", run_inspect);

}  // namespace heretic::app
