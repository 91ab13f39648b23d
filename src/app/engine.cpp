#include "app/engine.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>

#include "ablation/directions.h"
#include "ablation/export.h"
#include "ablation/lora_export.h"
#include "ablation/residuals.h"
#include "common/error.h"
#include "eval/scorer_registry.h"
#include "mpi/collectives.h"
#include "mpi/sharding.h"
#include "data/load_prompts.h"
#include "eval/response_prefix.h"
#include "hf/model_location.h"

namespace heretic::app {
namespace {

// Heretic's smoke conversation (spec/heretic-behavior.md §1.2).
std::vector<int64_t> smoke_prompt(const hf::ChatTemplate& chat, const hf::Tokenizer& tokenizer,
                                  const std::string& system_prompt) {
  nlohmann::ordered_json messages = nlohmann::ordered_json::array(
      {{{"role", "system"}, {"content", system_prompt}}, {{"role", "user"}, {"content", "What is 1+1?"}}});
  const auto ids = tokenizer.encode_ids(chat.render(messages, true), true);
  return std::vector<int64_t>(ids.begin(), ids.end());
}

template <typename T>
std::vector<T> slice(const std::vector<T>& items, size_t begin, size_t end) {
  return std::vector<T>(items.begin() + static_cast<std::ptrdiff_t>(begin),
                        items.begin() + static_cast<std::ptrdiff_t>(end));
}

// Broadcasts a float32 CPU tensor's contents from rank 0 (shapes already agree).
void broadcast_tensor(dist::Communicator& comm, torch::Tensor& tensor) {
  tensor = tensor.contiguous();
  comm.broadcast(tensor.data_ptr(), static_cast<size_t>(tensor.numel()) * tensor.element_size(), 0);
}

// Rank 0 receives every rank's per-prompt tensor `mine` [shard, rows, hidden] float32 (each
// rank's shard is contiguous, so rank order is prompt order) and returns [n, rows, hidden];
// other ranks return an undefined tensor.
torch::Tensor gather_rows(dist::Communicator& comm, const torch::Tensor& mine, size_t n) {
  const torch::Tensor local = mine.contiguous();
  const auto* bytes = static_cast<const char*>(local.data_ptr());
  const auto parts = dist::gather_to_rank0(
      comm, std::string(bytes, bytes + static_cast<size_t>(local.numel()) * sizeof(float)));
  if (comm.rank() != 0) return {};
  const int64_t row_bytes = local.size(1) * local.size(2) * static_cast<int64_t>(sizeof(float));
  std::vector<torch::Tensor> tensors;
  for (const std::string& part : parts) {
    const auto count = static_cast<int64_t>(part.size()) / row_bytes;
    torch::Tensor rows = torch::empty({count, local.size(1), local.size(2)}, torch::kFloat32);
    std::memcpy(rows.data_ptr(), part.data(), part.size());
    tensors.push_back(rows);
  }
  torch::Tensor all = torch::cat(tensors);
  if (static_cast<size_t>(all.size(0)) != n) throw std::logic_error("gather_rows: prompt count mismatch");
  return all;
}

}  // namespace

std::unique_ptr<Engine> Engine::load(const config::Config& config, const torch::Device& device,
                                     std::shared_ptr<model::TensorParallelGroup> tensor_group,
                                     std::shared_ptr<model::PipelineGroup> pipeline) {
  std::unique_ptr<Engine> engine(new Engine());
  engine->config_ = config;
  LoadedInputs& inputs = engine->inputs_;
  const hf::ModelLocation location = hf::locate_model(config.model, config.model_commit);
  if (config.mpi.tensor_parallel > 1) {
    const model::ModelInfo shape = model::read_model_info(location.folder, "auto");
    if (const std::string problem = model::tensor_parallel_problem(shape, config.mpi.tensor_parallel); !problem.empty())
      throw InputError("key 'mpi.tensor_parallel': " + problem + " in " + (location.folder / "config.json").string());
    if (!tensor_group || tensor_group->size() != config.mpi.tensor_parallel)
      throw InputError("key 'mpi.tensor_parallel': " + std::to_string(config.mpi.tensor_parallel) +
                       " splits the model over that many ranks of an MPI job; this command runs in one process "
                       "(use --set mpi.tensor_parallel=1)");
  }
  if (config.mpi.pipeline_stages > 1) {
    const model::ModelInfo shape = model::read_model_info(location.folder, "auto");
    if (const std::string problem = model::pipeline_problem(shape, config.mpi.pipeline_stages); !problem.empty())
      throw InputError("key 'mpi.pipeline_stages': " + problem + " in " + (location.folder / "config.json").string());
    if (!pipeline || pipeline->stages() != config.mpi.pipeline_stages)
      throw InputError("key 'mpi.pipeline_stages': " + std::to_string(config.mpi.pipeline_stages) +
                       " splits the model's layers over that many ranks of an MPI job; this command runs in one "
                       "process (use --set mpi.pipeline_stages=1)");
  }
  engine->model_folder_ = location.folder;
  inputs.model_folder = location.folder.string();
  inputs.model_commit = location.commit;
  engine->tokenizer_.emplace(hf::Tokenizer::from_folder(location.folder));
  engine->chat_.emplace(hf::ChatTemplate::from_folder(location.folder));
  const auto smoke = smoke_prompt(*engine->chat_, *engine->tokenizer_, config.system_prompt);
  engine->model_ =
      model::CausalLM::load_first_working(location.folder, config.dtypes, device, smoke, std::move(tensor_group),
                                                std::move(pipeline));
  const model::ModelInfo& info = engine->model_->info();
  inputs.model_type = info.model_type;
  inputs.layers = info.num_layers;
  inputs.hidden_size = info.hidden_size;
  inputs.dtype = model::torch_dtype_name(info.dtype);
  const auto response = engine->model_->generate_greedy(engine->model_->make_batch({smoke}), 8);
  inputs.smoke_response = engine->tokenizer_->decode(
      std::vector<hf::TokenId>(response.front().begin(), response.front().end()), true);

  engine->good_ = data::load_prompts(config.good_prompts, config.system_prompt);
  engine->bad_ = data::load_prompts(config.bad_prompts, config.system_prompt);
  inputs.prompt_sets.emplace_back("good_prompts", engine->good_.size());
  inputs.prompt_sets.emplace_back("bad_prompts", engine->bad_.size());
  for (const auto& scorer : config.scorers) {
    std::vector<data::Prompt> prompts = data::load_prompts(scorer.prompts, config.system_prompt);
    inputs.prompt_sets.emplace_back("scorer." + scorer.table_name() + ".prompts", prompts.size());
    const eval::ScorerPlugin* plugin = eval::find_scorer_plugin(scorer.class_name);
    if (plugin == nullptr) throw InputError("scorer '" + scorer.plugin + "': no such scorer plug-in");
    ScorerInstance instance;
    instance.config = scorer;
    instance.scorer = plugin->create(eval::ScorerInit{scorer.settings, config.max_response_length});
    engine->scorers_.push_back(std::move(instance));
    engine->scorer_prompts_.push_back(std::move(prompts));
  }
  const int64_t initial_batch = config.batch_size > 0 ? config.batch_size : config.max_batch_size;
  engine->runner_ = std::make_unique<eval::ModelRunner>(*engine->model_, initial_batch);
  engine->ablator_ = std::make_unique<ablation::Ablator>(*engine->model_, config.row_normalization);
  return engine;
}

int64_t Engine::num_layers() const { return model_->info().num_layers; }

std::vector<model::Component> Engine::components() const {
  // Every supported family has both modules in every block.
  return {model::kAllComponents.begin(), model::kAllComponents.end()};
}

std::string Engine::response_prefix(dist::Communicator& comm) {
  if (config_.response_prefix) return *config_.response_prefix;
  std::vector<data::Prompt> prompts = slice(good_, 0, std::min<size_t>(100, good_.size()));
  const auto bad = slice(bad_, 0, std::min<size_t>(100, bad_.size()));
  prompts.insert(prompts.end(), bad.begin(), bad.end());
  const auto [begin, end] = dist::shard_range(prompts.size(), comm.rank(), comm.size());
  const auto mine = slice(prompts, begin, end);
  auto respond = [&](const std::string& prefix) {
    std::vector<std::string> local;
    if (!mine.empty()) {
      const auto ids = eval::encode_prompts(*tokenizer_, *chat_, mine, prefix);
      for (const auto& response : runner_->generate(ids, config_.max_response_length)) {
        local.push_back(eval::decode_response(*tokenizer_, response, false));
      }
    }
    std::vector<std::string> all;
    for (const auto& part : comm.allgather(nlohmann::json(local).dump())) {
      for (const auto& text : nlohmann::json::parse(part)) all.push_back(text.get<std::string>());
    }
    return all;
  };
  return eval::detect_response_prefix(respond, config_.chain_of_thought_skips);
}

void Engine::prepare(const std::string& prefix) {
  prefix_ = prefix;
  good_ids_ = eval::encode_prompts(*tokenizer_, *chat_, good_, prefix);
  bad_ids_ = eval::encode_prompts(*tokenizer_, *chat_, bad_, prefix);
  for (size_t i = 0; i < scorers_.size(); ++i) {
    std::vector<eval::TokenIds> ids = eval::encode_prompts(*tokenizer_, *chat_, scorer_prompts_[i], prefix);
    scorers_[i].prompts = std::make_unique<eval::ModelScorerPrompts>(*runner_, *tokenizer_,
                                                                    std::move(scorer_prompts_[i]), std::move(ids));
  }
  scorer_prompts_.clear();
  prepared_ = true;
}

Scores Engine::baseline(dist::Communicator& comm) {
  if (!prepared_) throw std::logic_error("Engine::baseline before prepare");
  ablator_->clear();
  for (auto& instance : scorers_) {
    const auto [begin, end] = dist::shard_range(instance.prompts->size(), comm.rank(), comm.size());
    instance.scorer->capture_baseline(*instance.prompts, begin, end);
  }
  return score(comm);
}

void Engine::copy_baselines_from(const Engine& other) {
  if (!prepared_ || other.scorers_.size() != scorers_.size()) {
    throw std::logic_error("Engine::copy_baselines_from: engines prepared differently");
  }
  for (size_t i = 0; i < scorers_.size(); ++i) scorers_[i].scorer->adopt_baseline(*other.scorers_[i].scorer);
}

Scores Engine::score(dist::Communicator& comm) {
  const auto start = std::chrono::steady_clock::now();
  std::vector<double> sums;
  std::vector<int64_t> counts;
  for (auto& instance : scorers_) {
    eval::PartialScore part;
    const auto [begin, end] = dist::shard_range(instance.prompts->size(), comm.rank(), comm.size());
    if (begin < end) part = instance.scorer->score(*instance.prompts, begin, end);
    sums.push_back(part.sum);
    counts.push_back(part.count);
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  comm.allreduce_sum(sums.data(), sums.size());
  comm.allreduce_sum(counts.data(), counts.size());
  std::vector<eval::PartialScore> partial;
  for (size_t i = 0; i < sums.size(); ++i) partial.push_back({sums[i], counts[i]});
  return Scores::from_partial(std::move(partial), seconds);
}

const Directions& Engine::compute_directions(dist::Communicator& comm) {
  if (!prepared_) throw std::logic_error("Engine::compute_directions before prepare");
  ablator_->clear();
  const model::ModelInfo& info = model_->info();
  const bool keep = config_.print_residual_geometry || config_.output.per_prompt_residuals;
  const double q = config_.winsorization_quantile;
  auto sums_of = [&](const std::vector<eval::TokenIds>& ids, torch::Tensor& kept) {
    ablation::ResidualSums sums(info.num_layers + 1, info.hidden_size);
    const auto [begin, end] = dist::shard_range(ids.size(), comm.rank(), comm.size());
    // [shard, L+1, H] float32 on the CPU, when kept.
    torch::Tensor mine = keep ? torch::empty({static_cast<int64_t>(end - begin), info.num_layers + 1,
                                              info.hidden_size}, torch::kFloat32)
                              : torch::Tensor();
    if (begin < end) {
      runner_->for_each_hidden_states(slice(ids, begin, end), [&](size_t first, const torch::Tensor& states) {
        if (!keep) {
          sums.add(states, q);
          return;
        }
        const torch::Tensor clipped = ablation::winsorize(states, q);  // [b, L+1, H] float32
        sums.add(clipped, 1.0);                                       // already winsorized
        const auto at = static_cast<int64_t>(first);
        mine.slice(0, at, at + clipped.size(0)).copy_(clipped);
      });
    }
    comm.allreduce_sum(sums.data().data(), sums.data().size());
    int64_t count = sums.count();
    comm.allreduce_sum(&count, 1);
    sums.set_count(count);
    if (keep) kept = gather_rows(comm, mine, ids.size());
    return sums;
  };
  const ablation::ResidualSums good = sums_of(good_ids_, directions_.good_residuals);
  const ablation::ResidualSums bad = sums_of(bad_ids_, directions_.bad_residuals);
  directions_.good_count = good.count();
  directions_.bad_count = bad.count();
  directions_.good_mean = good.mean();
  directions_.bad_mean = bad.mean();
  directions_.directions =
      ablation::refusal_directions(directions_.good_mean, directions_.bad_mean, config_.orthogonalize_direction)
          .contiguous();
  // Every rank derived the same numbers from the same sums; rank 0's copy is broadcast anyway so
  // that no reduction-order or library difference can make ranks ablate different directions.
  broadcast_tensor(comm, directions_.good_mean);
  broadcast_tensor(comm, directions_.bad_mean);
  broadcast_tensor(comm, directions_.directions);
  return directions_;
}

const Directions& Engine::use_directions(Directions directions) {
  directions_ = std::move(directions);
  return directions_;
}

std::vector<ablation::ModuleAblation> Engine::plan(const ablation::TrialParams& params) const {
  if (!directions_.directions.defined()) throw std::logic_error("Engine::plan before compute_directions");
  return ablation::plan_ablation(params, directions_.directions, num_layers());
}

Scores Engine::evaluate(dist::Communicator& comm, const ablation::TrialParams& params) {
  const auto start = std::chrono::steady_clock::now();
  ablator_->apply(plan(params));
  Scores scores;
  try {
    scores = score(comm);
  } catch (...) {
    ablator_->clear();
    throw;
  }
  ablator_->clear();
  scores.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return scores;
}

void Engine::export_model(const ablation::TrialParams& params, const std::filesystem::path& folder,
                          const std::string& readme) const {
  if (config_.output.export_format == config::ExportFormat::kLora) {
    ablation::LoraExportRequest request;
    request.model_folder = model_folder_;
    request.out_folder = folder;
    request.base_model = config_.model;
    request.mode = config_.row_normalization;
    request.full_rank = config_.output.lora_rank;
    request.plan = plan(params);
    request.readme = readme;
    const ablation::LoraExport adapter = ablation::export_lora_adapter(request);
    double max_error = 0.0, sum = 0.0;
    for (const ablation::ModuleFit& module : adapter.modules) {
      max_error = std::max(max_error, module.relative_error);
      sum += module.relative_error;
    }
    const double mean = adapter.modules.empty() ? 0.0 : sum / static_cast<double>(adapter.modules.size());
    spdlog::info("LoRA adapter: rank {}, {} modules, relative Frobenius error of the deltas max {:.3e}, mean {:.3e}{}",
                 adapter.rank, adapter.modules.size(), max_error, mean,
                 config_.row_normalization == config::RowNormalization::kFull ? "" : " (exact)");
    return;
  }
  ablation::ExportRequest request;
  request.model_folder = model_folder_;
  request.out_folder = folder;
  request.max_shard_size_bytes = config_.max_shard_size_bytes;
  request.mode = config_.row_normalization;
  request.plan = plan(params);
  request.readme = readme;
  ablation::export_ablated_model(request);
}

Scores Scores::from_partial(std::vector<eval::PartialScore> partial, double seconds) {
  Scores scores;
  for (const eval::PartialScore& part : partial) {
    scores.values.push_back(part.count > 0 ? part.sum / static_cast<double>(part.count)
                                           : std::numeric_limits<double>::quiet_NaN());
  }
  scores.partial = std::move(partial);
  scores.seconds = seconds;
  return scores;
}

std::string describe_scores(const std::vector<ScorerInstance>& scorers, const Scores& scores) {
  std::string text;
  for (size_t i = 0; i < scorers.size(); ++i) {
    text += (i ? ", " : "") + scorers[i].name() + ": " + scorers[i].scorer->format(scores.partial[i]);
  }
  return text;
}

}  // namespace heretic::app
