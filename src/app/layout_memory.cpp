#include "app/layout_memory.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <vector>

#include "hf/safetensors_reader.h"
#include "io/memory_usage.h"

namespace heretic::app {
namespace fs = std::filesystem;
namespace {

bool has_checkpoint(const fs::path& folder) {
  return fs::exists(folder / "model.safetensors.index.json") || fs::exists(folder / "model.safetensors");
}

std::string decimal_gb(int64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f GB", static_cast<double>(bytes) / 1e9);
  return text;
}

std::string layout_name(const model::Layout& layout) {
  return std::to_string(layout.tensor_parallel) + " x " + std::to_string(layout.pipeline_stages);
}

// "weights 65.7 GiB + KV cache 1.2 GiB + activations 300 MiB + workspace 768 MiB = 67.9 GiB".
std::string breakdown(const model::RankMemory& rank) {
  return "weights " + io::format_bytes(rank.weights) + " + KV cache " + io::format_bytes(rank.kv_cache) +
         " + activations " + io::format_bytes(rank.activations) + " + workspace " + io::format_bytes(rank.workspace) +
         " = " + io::format_bytes(rank.total());
}

std::string workload_text(const model::Workload& workload) {
  return "batch " + std::to_string(workload.batch_size) + " x (" + std::to_string(workload.prompt_tokens) +
         " prompt + " + std::to_string(workload.response_tokens) + " response tokens)";
}

const model::LayoutFit* first_where(const std::vector<model::LayoutFit>& fits, bool whole_ceiling,
                                    const model::Workload& workload) {
  for (const auto& fit : fits)
    if (fit.runs() && (!whole_ceiling || fit.fits_ceiling(workload))) return &fit;
  return nullptr;
}

}  // namespace

PlannedModel plan_model(const fs::path& folder, const std::string& dtype) {
  PlannedModel planned;
  planned.folder = folder;
  planned.info = model::read_model_info(folder, dtype);
  if (has_checkpoint(folder)) {
    const hf::SafetensorsCheckpoint checkpoint = hf::SafetensorsCheckpoint::open(folder);
    model::bind_checkpoint_layout(planned.info, checkpoint);
    planned.elements = model::count_elements(planned.info, checkpoint);
  } else {
    planned.elements = model::count_elements(planned.info);
  }
  return planned;
}

model::Workload workload_of(const config::Config& config) {
  model::Workload workload;
  workload.batch_size = config.batch_size > 0 ? config.batch_size : config.max_batch_size;
  workload.response_tokens = config.max_response_length;
  return workload;
}

bool print_plan(std::ostream& out, const PlannedModel& model, const PlanQuestion& question) {
  const model::ModelInfo& info = model.info;
  const auto element = static_cast<int64_t>(hf::dtype_size(info.dtype));
  const int64_t weight_bytes = model.elements.total() * element;
  out << "model:           " << model.folder.string() << "\n"
      << "                 " << info.model_type << ", " << info.num_layers << " layers, hidden " << info.hidden_size
      << ", intermediate " << info.intermediate_size << ", " << info.num_heads << " heads, " << info.num_kv_heads
      << " KV heads, head_dim " << info.head_dim << ", vocab " << info.vocab_size
      << (info.tie_word_embeddings ? ", tied embeddings" : "") << "\n";
  if (model.elements.from_checkpoint) {
    out << "tensor sizes:    from the safetensors headers (" << io::format_bytes(model.elements.checkpoint_bytes)
        << " as stored), counted in the compute dtype\n";
  } else {
    out << "tensor sizes:    computed from config.json's shape (the folder has no safetensors files)\n";
  }
  out << "compute dtype:   " << model::torch_dtype_name(info.dtype) << " (" << element << " bytes per element)\n"
      << "weights:         " << model.elements.total() << " parameters = " << decimal_gb(weight_bytes) << " ("
      << io::format_bytes(weight_bytes) << ") per model copy\n"
      << "workload:        " << workload_text(question.workload) << "; " << question.workload_source << "\n"
      << "memory per rank: " << io::format_bytes(question.memory_per_rank) << " (" << question.memory_source << ")\n"
      << "world:           " << question.nodes << " node(s) x " << question.ranks_per_node
      << " rank(s) = " << question.nodes * question.ranks_per_node << " ranks\n"
      << "per rank:        weights = replicated tensors + 1/t of the split projections, in the compute dtype;\n"
      << "                 KV cache = 2 x layers x batch x KV heads x (prompt + response) x head_dim x bytes;\n"
      << "                 activations = prefill of one layer + float32 attention scores, last-position logits\n"
      << "                 and residuals (model/memory_plan.h); workspace = a fixed "
      << io::format_bytes(model::kWorkspaceBytes) << "\n\n";

  std::vector<model::LayoutFit> fits;
  for (const model::Layout& layout : model::candidate_layouts(question.ranks_per_node, question.nodes))
    fits.push_back(model::fit_layout(info, model.elements, layout, question.workload, question.memory_per_rank));
  out << "layout t x p  ranks  worker groups  largest rank at the batch ceiling" << std::string(26, ' ')
      << "at batch 1   largest batch\n";
  for (const auto& fit : fits) {
    char line[96];
    std::snprintf(line, sizeof line, "%-12s %6d %14d  ", layout_name(fit.layout).c_str(), fit.layout.ranks(),
                  question.nodes * question.ranks_per_node / fit.layout.ranks());
    out << line;
    if (!fit.problem.empty()) {
      out << "cannot split: " << fit.problem << "\n";
      continue;
    }
    char rest[160];
    std::snprintf(rest, sizeof rest, "%-58s %12s %15s\n",
                  ("weights " + io::format_bytes(fit.at_ceiling.weights) + ", total " +
                   io::format_bytes(fit.at_ceiling.total()))
                      .c_str(),
                  io::format_bytes(fit.at_one.total()).c_str(),
                  fit.runs() ? std::to_string(fit.largest_batch).c_str() : "does not fit");
    out << rest;
  }

  const model::LayoutFit* runs = first_where(fits, false, question.workload);
  const model::LayoutFit* whole = first_where(fits, true, question.workload);
  const int world = question.nodes * question.ranks_per_node;
  out << "\n";
  if (runs == nullptr) {
    out << "no layout of this world fits " << io::format_bytes(question.memory_per_rank)
        << " per rank, even at batch size 1: add nodes or devices, or use devices with more memory\n";
    return false;
  }
  auto describe = [&](const model::LayoutFit& fit) {
    return "mpi.tensor_parallel = " + std::to_string(fit.layout.tensor_parallel) + ", mpi.pipeline_stages = " +
           std::to_string(fit.layout.pipeline_stages) + " (" + std::to_string(world / fit.layout.ranks()) +
           " worker group(s) of " + std::to_string(fit.layout.ranks()) + " ranks; largest batch " +
           std::to_string(fit.largest_batch) + ")";
  };
  out << "smallest layout that runs:            " << describe(*runs) << "\n";
  if (whole != nullptr) {
    out << "smallest layout for the batch ceiling: " << describe(*whole) << "\n";
  } else {
    out << "no layout holds the batch ceiling of " << question.workload.batch_size
        << "; the adaptive batch size halves down to what fits\n";
  }
  const model::LayoutFit& chosen = whole != nullptr ? *whole : *runs;
  if (chosen.layout.pipeline_stages > 1 || runs->layout.pipeline_stages > 1)
    out << "note: pipeline stages cannot be run yet (only mpi.pipeline_stages = 1 is implemented); the numbers\n"
        << "      for p > 1 are what each stage would hold\n";

  out << "\neach rank of " << layout_name(chosen.layout) << " at the batch ceiling:\n";
  for (const auto& rank : model::layout_memory(info, model.elements, chosen.layout, question.workload.batch_size,
                                               question.workload)) {
    char head[64];
    std::snprintf(head, sizeof head, "  stage %d rank %d, layers %lld-%lld: ", rank.stage, rank.tensor_rank,
                  static_cast<long long>(rank.first_layer), static_cast<long long>(rank.end_layer - 1));
    out << head << breakdown(rank) << "\n";
  }
  const auto configured =
      model::fit_layout(info, model.elements, question.configured, question.workload, question.memory_per_rank);
  out << "\nthe configured layout " << layout_name(question.configured) << ": ";
  if (!configured.problem.empty()) {
    out << "cannot split: " << configured.problem << "\n";
  } else {
    out << breakdown(configured.at_ceiling) << " for its largest rank; "
        << (configured.runs() ? "largest batch " + std::to_string(configured.largest_batch)
                              : std::string("does not fit"))
        << "\n";
  }
  return true;
}

std::string check_layout_memory(const config::Config& config, const std::string& config_path,
                                const fs::path& model_folder, int64_t memory_per_rank,
                                const std::string& memory_source) {
  const std::string dtype = config.dtypes.empty() ? std::string("auto") : config.dtypes.front();
  const PlannedModel planned = plan_model(model_folder, dtype);
  const model::Layout layout{config.mpi.tensor_parallel, config.mpi.pipeline_stages};
  const model::Workload workload = workload_of(config);
  const model::LayoutFit fit = model::fit_layout(planned.info, planned.elements, layout, workload, memory_per_rank);
  if (!fit.problem.empty()) return fit.problem + " in " + (model_folder / "config.json").string();
  spdlog::info("memory plan ({} x {} layout, {}): {} per rank at the batch ceiling, {} at batch size 1; a rank has {} "
               "({})",
               layout.tensor_parallel, layout.pipeline_stages, workload_text(workload), breakdown(fit.at_ceiling),
               io::format_bytes(fit.at_one.total()), io::format_bytes(memory_per_rank), memory_source);
  if (fit.runs()) {
    if (!fit.fits_ceiling(workload))
      spdlog::warn("memory plan: batch ceiling {} needs {} per rank, more than the {} a rank has; the adaptive "
                   "batch size will halve from {} to about {}",
                   workload.batch_size, io::format_bytes(fit.at_ceiling.total()), io::format_bytes(memory_per_rank),
                   workload.batch_size, fit.largest_batch);
    return "";
  }
  std::string message = config_path + ": the layout mpi.tensor_parallel = " + std::to_string(layout.tensor_parallel) +
                        " x mpi.pipeline_stages = " + std::to_string(layout.pipeline_stages) +
                        " does not fit: the largest rank needs " + breakdown(fit.at_one) +
                        " at batch size 1 (longest prompt assumed " + std::to_string(workload.prompt_tokens) +
                        " tokens, max_response_length " + std::to_string(workload.response_tokens) +
                        "), but a rank has " + io::format_bytes(memory_per_rank) + " (" + memory_source + "). ";
  for (int parts = layout.tensor_parallel + 1; parts <= 64; ++parts) {
    const auto larger = model::fit_layout(planned.info, planned.elements, model::Layout{parts, 1}, workload,
                                          memory_per_rank);
    if (larger.runs()) {
      return message + "Raise mpi.tensor_parallel to " + std::to_string(parts) + " (a rank then needs " +
             io::format_bytes(larger.at_one.total()) + " at batch size 1) and launch a multiple of " +
             std::to_string(parts * config.mpi.ranks_per_trial) +
             " ranks, use ranks with more memory, or set mpi.memory_per_rank; heretic-mpi plan --config " +
             config_path + " prints every layout";
    }
  }
  return message + "Raise mpi.tensor_parallel, use ranks with more memory, or set mpi.memory_per_rank; "
                   "heretic-mpi plan --config " + config_path + " prints every layout";
}

}  // namespace heretic::app
