// The abliteration engine of one rank (DESIGN.md §1 phases 1–5): the loaded model, tokenizer,
// chat template and prompt sets, and the operations a run is made of — response prefix,
// baselines, refusal directions, scoring a trial, exporting a trial. Every operation takes the
// communicator of the ranks that do it together: each rank works on its contiguous shard of the
// prompts and the partial results are summed, so one rank alone (a single-rank communicator)
// computes exactly what many do together. Torch is behind this header; only the run's torch
// files include it.
#pragma once

#include <torch/utils.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ablation/ablator.h"
#include "app/run_inputs.h"
#include "config/config.h"
#include "eval/model_runner.h"
#include "eval/model_scorer_prompts.h"
#include "eval/scorer.h"
#include "hf/chat_template.h"
#include "hf/tokenizer.h"
#include "model/causal_lm.h"
#include "mpi/communicator.h"

namespace heretic::app {

// One configured scorer: its plug-in instance and its prompt set on this engine's model.
struct ScorerInstance {
  config::ScorerConfig config;
  std::unique_ptr<eval::Scorer> scorer;
  std::unique_ptr<eval::ModelScorerPrompts> prompts;  // encoded with the response prefix (after prepare)

  std::string name() const { return config.display_name(); }
  bool optimised() const { return config.optimization != config::Optimization::kNone; }
};

// Scores of one evaluation, summed over the ranks that computed it.
struct Scores {
  std::vector<eval::PartialScore> partial;  // per scorer, in config order
  std::vector<double> values;               // per scorer: sum / count (NaN when count is 0)
  double seconds = 0.0;                     // wall time of this rank's share

  // From partial sums (values computed).
  static Scores from_partial(std::vector<eval::PartialScore> partial, double seconds = 0.0);
};

struct Directions {
  torch::Tensor good_mean;   // [L+1, H] float32
  torch::Tensor bad_mean;    // [L+1, H] float32
  torch::Tensor directions;  // [L+1, H] float32, unit rows
  int64_t good_count = 0;
  int64_t bad_count = 0;
  // Every prompt's residuals (winsorized), [n, L+1, H] float32, in prompt order: only on rank 0
  // and only when asked for (print_residual_geometry, output.per_prompt_residuals).
  torch::Tensor good_residuals;
  torch::Tensor bad_residuals;
};

// "Keywords: 5/100, KL divergence: 0.0421".
std::string describe_scores(const std::vector<ScorerInstance>& scorers, const Scores& scores);

class Engine {
 public:
  // Phase 1: locates and loads everything `config` names (the model through the dtype chain
  // with the smoke test). With mpi.tensor_parallel > 1, `tensor_group` is this rank's group of
  // that many ranks, which load their slices of one model copy together; the model's shape is
  // checked against the key before any weight is read. With mpi.pipeline_stages > 1,
  // `pipeline` is this rank's pipeline of that many stages, each loading only its layers.
  // Throws InputError naming the file and key.
  static std::unique_ptr<Engine> load(const config::Config& config, const torch::Device& device,
                                      std::shared_ptr<model::TensorParallelGroup> tensor_group = nullptr,
                                      std::shared_ptr<model::PipelineGroup> pipeline = nullptr);

  const config::Config& config() const { return config_; }
  const LoadedInputs& inputs() const { return inputs_; }
  model::CausalLM& model() { return *model_; }
  const hf::Tokenizer& tokenizer() const { return *tokenizer_; }
  eval::ModelRunner& runner() { return *runner_; }
  const std::vector<ScorerInstance>& scorers() const { return scorers_; }
  int64_t num_layers() const;
  // The abliterable components the model has, in Heretic's order.
  std::vector<model::Component> components() const;

  // Phase 2a: the configured response_prefix, or Heretic's detection on the first 100 good and
  // 100 bad prompts (spec/heretic-behavior.md §1.6), sharded over `comm`.
  std::string response_prefix(dist::Communicator& comm);
  // Phase 2b: encodes every prompt set with `prefix` and gives each scorer its prompts. Call once.
  void prepare(const std::string& prefix);
  const std::string& prefix() const { return prefix_; }
  // Phase 2c: the scorers' baselines of this rank's shards (as placed by `comm`; the KL
  // divergence's first-token distributions), then the unablated model's scores.
  Scores baseline(dist::Communicator& comm);
  // Installs the baselines another engine's scorers captured on the same prompts and sharding
  // (evaluate mode: the configured model's baselines for another model).
  void copy_baselines_from(const Engine& other);

  // Phase 3: residual sums of good and bad prompts over `comm`, refusal directions derived on
  // rank 0 and broadcast, so every rank holds bit-identical directions. With
  // print_residual_geometry or output.per_prompt_residuals, every rank also sends its prompts'
  // residuals to rank 0.
  const Directions& compute_directions(dist::Communicator& comm);
  const Directions& directions() const { return directions_; }
  // `heretic-mpi export`: the directions a finished run computed (kept in its results.h5), so
  // that the export equals the run's whatever the number of ranks now.
  const Directions& use_directions(Directions directions);

  // Phase 4: ablates `params` (no weight is modified), scores this rank's shard of every
  // scorer's prompts, sums over `comm`, and clears the ablation.
  Scores evaluate(dist::Communicator& comm, const ablation::TrialParams& params);
  // Scores of the model as it is (no ablation), over `comm`.
  Scores score(dist::Communicator& comm);

  std::vector<ablation::ModuleAblation> plan(const ablation::TrialParams& params) const;
  // Phase 5: writes `params` to `folder` with `readme` as its model card, as output.export_format
  // says: the merged model, or a LoRA adapter (whose fit for "full" is logged: max and mean
  // relative error over the modules).
  void export_model(const ablation::TrialParams& params, const std::filesystem::path& folder,
                    const std::string& readme) const;

 private:
  Engine() = default;

  config::Config config_;
  LoadedInputs inputs_;
  std::filesystem::path model_folder_;
  std::optional<hf::Tokenizer> tokenizer_;
  std::optional<hf::ChatTemplate> chat_;
  std::unique_ptr<model::CausalLM> model_;
  std::unique_ptr<eval::ModelRunner> runner_;
  std::unique_ptr<ablation::Ablator> ablator_;
  std::vector<data::Prompt> good_, bad_;
  std::vector<eval::TokenIds> good_ids_, bad_ids_;
  std::vector<ScorerInstance> scorers_;
  std::vector<std::vector<data::Prompt>> scorer_prompts_;  // per scorer, until prepare encodes them
  std::string prefix_;
  bool prepared_ = false;
  Directions directions_;
};

}  // namespace heretic::app
