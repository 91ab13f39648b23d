// The ablation transforms applied through the model's slots give the same model as the exact
// merged weights written into a checkpoint (DESIGN.md §3): for none, pre and full, on every
// random tiny model, on one with o_proj/down_proj biases and all-zero weight rows, and on the
// model organism with directions from its own prompts. Also: clear() restores the baseline
// exactly, a second apply() replaces the first, and no weight is ever modified.
#include "ablation/ablator.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>

#include "ablation/directions.h"
#include "tests/ablation/kernel_params.h"
#include "ablation/residuals.h"
#include "hf/safetensors_reader.h"
#include "hf/safetensors_writer.h"
#include "hf/tokenizer.h"
#include "model/causal_lm.h"
#include "model/tensor_view.h"
#include "tests/model/model_fixtures.h"

namespace heretic {
namespace {

namespace fs = std::filesystem;
using ablation::Ablator;
using ablation::ModuleAblation;
using config::RowNormalization;
using model::CausalLM;
using model::Component;
using Prompts = std::vector<std::vector<int64_t>>;

const fs::path kOrganismModel = fs::path(HERETIC_SOURCE_DIR) / "tests/fixtures/organism/model";
const fs::path kOrganismPrompts = fs::path(HERETIC_SOURCE_DIR) / "tests/fixtures/organism/prompts";

class TempDir {
 public:
  explicit TempDir(const std::string& name) {
    static int counter = 0;
    path_ = fs::temp_directory_path() /
            ("heretic-ablation-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + "-" + name);
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// A model folder in memory: both configs as text and every tensor as an owned float32 copy.
struct ModelFiles {
  std::string config, generation;
  std::map<std::string, torch::Tensor> tensors;
};

ModelFiles read_model(const fs::path& folder) {
  ModelFiles files;
  files.config = read_text(folder / "config.json");
  files.generation = read_text(folder / "generation_config.json");
  const auto checkpoint = hf::SafetensorsCheckpoint::open(folder);
  for (const std::string& name : checkpoint.tensor_names())
    files.tensors[name] = model::load_tensor(checkpoint.at(name), torch::kFloat32, torch::kCPU).clone();
  return files;
}

void write_model(const ModelFiles& files, const fs::path& folder) {
  std::ofstream(folder / "config.json") << files.config;
  std::ofstream(folder / "generation_config.json") << files.generation;
  std::vector<hf::TensorToWrite> tensors;
  std::vector<torch::Tensor> keep;  // contiguous copies stay alive until written
  for (const auto& [name, tensor] : files.tensors) {
    keep.push_back(tensor.to(torch::kFloat32).contiguous());
    tensors.push_back({name, hf::DType::kF32, keep.back().sizes().vec(),
                       reinterpret_cast<const std::byte*>(keep.back().data_ptr<float>())});
  }
  hf::write_safetensors_file(folder / "model.safetensors", tensors);
}

void replace_once(std::string& text, const std::string& from, const std::string& to) {
  const size_t at = text.find(from);
  ASSERT_NE(at, std::string::npos) << from;
  text.replace(at, from.size(), to);
}

// llama-tiny with biases on every projection (attention_bias, mlp_bias) and all-zero rows in
// two target weights, so that row norms of 0 are exercised.
ModelFiles llama_with_biases() {
  ModelFiles files = read_model(fixture_model("llama-tiny"));
  replace_once(files.config, "\"attention_bias\": false", "\"attention_bias\": true");
  replace_once(files.config, "\"mlp_bias\": false", "\"mlp_bias\": true");
  torch::manual_seed(31);
  std::map<std::string, torch::Tensor> biases;
  for (const auto& [name, tensor] : files.tensors) {
    const std::string suffix = "_proj.weight";
    if (name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
      biases[name.substr(0, name.size() - 6) + "bias"] = 0.2 * torch::randn({tensor.size(0)});
  }
  files.tensors.insert(biases.begin(), biases.end());
  files.tensors.at("model.layers.0.self_attn.o_proj.weight")[3].zero_();
  files.tensors.at("model.layers.2.mlp.down_proj.weight")[7].zero_();
  return files;
}

ModelFiles merged_files(const ModelFiles& base, const model::ModelInfo& info, const std::vector<ModuleAblation>& plan,
                        RowNormalization mode) {
  ModelFiles merged = base;  // tensor handles are shared; replaced entries are new tensors
  for (const ModuleAblation& entry : plan) {
    const std::string name = info.module_name(entry.layer, entry.component) + ".weight";
    merged.tensors[name] = ablation::merged_weight(base.tensors.at(name), entry.direction, entry.weight, mode);
  }
  return merged;
}

std::vector<std::string> read_lines(const fs::path& path, size_t count) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; lines.size() < count && std::getline(in, line);)
    if (!line.empty()) lines.push_back(line);
  return lines;
}

Prompts organism_prompts(const hf::Tokenizer& tokenizer, const std::string& file, size_t count) {
  Prompts prompts;
  for (const std::string& line : read_lines(kOrganismPrompts / file, count)) {
    const auto ids = tokenizer.encode_ids(line, true);
    prompts.emplace_back(ids.begin(), ids.end());
  }
  return prompts;
}

// A model to test on: its folder (written to a temporary one when it is not a fixture as is),
// "good" and "bad" prompts for the directions, and prompts to compare logits on.
struct ModelCase {
  std::unique_ptr<TempDir> temp;
  fs::path folder;
  Prompts good, bad, eval;
};

ModelCase model_case(const std::string& name) {
  ModelCase c;
  if (name == "organism") {
    const hf::Tokenizer tokenizer = hf::Tokenizer::from_folder(kOrganismModel);
    c.folder = kOrganismModel;
    c.good = organism_prompts(tokenizer, "harmless_train.txt", 12);
    c.bad = organism_prompts(tokenizer, "harmful_train.txt", 12);
    c.eval = organism_prompts(tokenizer, "harmful_test.txt", 3);
    for (auto& prompt : organism_prompts(tokenizer, "harmless_test.txt", 3)) c.eval.push_back(prompt);
    return c;
  }
  if (name == "llama-bias") {
    c.temp = std::make_unique<TempDir>(name);
    write_model(llama_with_biases(), c.temp->path());
    c.folder = c.temp->path();
  } else {
    c.folder = fixture_model(name);
  }
  c.good = fixture_prompts();
  c.bad = {{20, 21, 22, 23, 24, 25, 26}, {50, 51, 52, 53}, {80, 81}, {33, 34, 35, 36, 37, 38}};
  c.eval = fixture_prompts();
  c.eval.push_back({60, 61, 62, 63, 64});
  return c;
}

torch::Tensor directions_from(CausalLM& model, const Prompts& good, const Prompts& bad) {
  const int64_t rows = model.info().num_layers + 1, hidden = model.info().hidden_size;
  ablation::ResidualSums good_sums(rows, hidden), bad_sums(rows, hidden);
  good_sums.add(model.last_position_hidden_states(model.make_batch(good)), 1.0);
  bad_sums.add(model.last_position_hidden_states(model.make_batch(bad)), 1.0);
  return ablation::refusal_directions(good_sums.mean(), bad_sums.mean(), /*orthogonalize=*/true);
}

using heretic::testing::kernel;

// Per-layer directions, attention on every block (weights 0.5 .. 1.3), MLP around block 1
// (up to 1.1).
std::vector<ModuleAblation> per_layer_plan(const torch::Tensor& R, int64_t layers) {
  ablation::TrialParams params;
  params.per_layer = true;
  const double last = static_cast<double>(layers - 1);
  params.kernels = {kernel("attn.o_proj", 1.3, last, 0.5, last),
                    kernel("mlp.down_proj", 1.1, 1.0, 0.2, std::max(0.5, last - 1.5))};
  return ablation::plan_ablation(params, R, layers);
}

// One interpolated direction (fractional index), weights 0.3 .. 1.2.
std::vector<ModuleAblation> global_plan(const torch::Tensor& R, int64_t layers) {
  ablation::TrialParams params;
  params.per_layer = false;
  const double last = static_cast<double>(layers - 1);
  params.direction_index = 0.45 * last + 0.1;
  params.kernels = {kernel("attn.o_proj", 0.9, last, 0.3, last + 1.0),
                    kernel("mlp.down_proj", 1.2, std::max(0.0, last - 1.0), 0.7, 1.0)};
  return ablation::plan_ablation(params, R, layers);
}

double max_relative(const torch::Tensor& actual, const torch::Tensor& expected) {
  return ((actual - expected).abs().max() / expected.abs().max()).item<double>();
}

class AblatedEqualsMerged : public ::testing::TestWithParam<std::string> {};

TEST_P(AblatedEqualsMerged, LogitsAndHiddenStatesForEveryMode) {
  const ModelCase c = model_case(GetParam());
  auto model = CausalLM::load(c.folder, "float32", torch::kCPU);
  const model::ModelInfo& info = model->info();
  const int64_t layers = info.num_layers;
  const ModelFiles files = read_model(c.folder);
  const torch::Tensor R = directions_from(*model, c.good, c.bad);
  const std::vector<std::vector<ModuleAblation>> plans = {per_layer_plan(R, layers), global_plan(R, layers)};
  ASSERT_GE(plans[0].size(), 3u);
  ASSERT_GE(plans[1].size(), 3u);

  const model::Batch batch = model->make_batch(c.eval);
  const torch::Tensor baseline = model->next_token_logits(batch);
  const torch::Tensor o_proj_before = model->weights().layers[0].o_proj.weight.clone();

  for (const RowNormalization mode : {RowNormalization::kNone, RowNormalization::kPre, RowNormalization::kFull}) {
    Ablator ablator(*model, mode);
    for (size_t p = 0; p < plans.size(); ++p) {
      ablator.apply(plans[p]);
      EXPECT_EQ(model->slots().active_count(), static_cast<int64_t>(plans[p].size()));
      const torch::Tensor logits = model->next_token_logits(batch);
      const torch::Tensor hidden = model->last_position_hidden_states(batch);

      TempDir dir("merged");
      write_model(merged_files(files, info, plans[p], mode), dir.path());
      auto merged = CausalLM::load(dir.path(), "float32", torch::kCPU);
      const model::Batch merged_batch = merged->make_batch(c.eval);
      const torch::Tensor merged_logits = merged->next_token_logits(merged_batch);
      const torch::Tensor merged_hidden = merged->last_position_hidden_states(merged_batch);

      const double logits_rel = max_relative(logits, merged_logits);
      const double hidden_rel = max_relative(hidden, merged_hidden);
      const std::string what = GetParam() + " " + config::to_string(mode) + (p == 0 ? " per-layer" : " global");
      std::printf("[ measured ] %-28s logits rel %.2e  hidden rel %.2e  (ablation moved logits by %.2e)\n",
                  what.c_str(), logits_rel, hidden_rel, max_relative(logits, baseline));
      EXPECT_LT(logits_rel, 1e-5) << what;
      EXPECT_LT(hidden_rel, 1e-5) << what;
      // The ablation did something, so the equality above can fail.
      EXPECT_GT(max_relative(logits, baseline), 1e-3) << what;
    }
    // A second plan replaces the first instead of adding to it.
    ablator.apply(plans[0]);
    ablator.apply(plans[1]);
    const torch::Tensor second_over_first = model->next_token_logits(batch);
    ablator.clear();
    EXPECT_EQ(model->slots().active_count(), 0);
    EXPECT_TRUE(torch::equal(model->next_token_logits(batch), baseline)) << "clear() restores the baseline";
    ablator.apply(plans[1]);
    EXPECT_TRUE(torch::equal(model->next_token_logits(batch), second_over_first));
    ablator.clear();
  }
  EXPECT_TRUE(torch::equal(model->weights().layers[0].o_proj.weight, o_proj_before));
}

INSTANTIATE_TEST_SUITE_P(Models, AblatedEqualsMerged,
                         ::testing::Values("llama-tiny", "mistral-tiny", "qwen2-tiny", "qwen3-tiny", "llama-bias",
                                           "organism"),
                         [](const ::testing::TestParamInfo<std::string>& param) {
                           std::string name = param.param;
                           for (char& ch : name)
                             if (ch == '-') ch = '_';
                           return name;
                         });

class AblatorOnQwen3 : public ::testing::Test {
 protected:
  void SetUp() override {
    model_ = CausalLM::load(fixture_model("qwen3-tiny"), "float32", torch::kCPU);
    torch::manual_seed(41);
    R_ = torch::randn({model_->info().num_layers + 1, model_->info().hidden_size});
    R_ /= R_.norm(2, {1}, true);
  }
  std::unique_ptr<CausalLM> model_;
  torch::Tensor R_;
};

TEST_F(AblatorOnQwen3, BadPlanThrowsAndLeavesTheSlotsAsTheyWere) {
  Ablator ablator(*model_, RowNormalization::kFull);
  const auto plan = per_layer_plan(R_, model_->info().num_layers);
  ablator.apply(plan);
  const int64_t active = model_->slots().active_count();

  auto twice = plan;
  twice.push_back(plan.front());
  EXPECT_THROW(ablator.apply(twice), std::invalid_argument);
  auto wrong_layer = plan;
  wrong_layer.back().layer = model_->info().num_layers;
  EXPECT_THROW(ablator.apply(wrong_layer), std::invalid_argument);
  auto wrong_length = plan;
  wrong_length.back().direction = torch::ones({model_->info().hidden_size + 1});
  EXPECT_THROW(ablator.apply(wrong_length), std::invalid_argument);
  EXPECT_EQ(model_->slots().active_count(), active);
}

TEST_F(AblatorOnQwen3, TransformsKeepTheModelDtypeAndComputeInFloat32) {
  // qwen3-tiny's file is float32: loaded as bfloat16, its weights are the float32 ones rounded;
  // a float32 model with exactly those weights must give the same transform up to the final
  // rounding of the output to bfloat16.
  auto bf16 = CausalLM::load(fixture_model("qwen3-tiny"), "bfloat16", torch::kCPU);
  TempDir dir("bf16-weights");
  ModelFiles rounded = read_model(fixture_model("qwen3-tiny"));
  for (auto& [name, tensor] : rounded.tensors) tensor = tensor.to(torch::kBFloat16).to(torch::kFloat32);
  write_model(rounded, dir.path());
  auto f32 = CausalLM::load(dir.path(), "float32", torch::kCPU);

  for (const RowNormalization mode : {RowNormalization::kNone, RowNormalization::kPre, RowNormalization::kFull}) {
    Ablator on_bf16(*bf16, mode), on_f32(*f32, mode);
    const auto plan = per_layer_plan(R_, bf16->info().num_layers);
    on_bf16.apply(plan);
    on_f32.apply(plan);
    torch::manual_seed(42);
    const torch::Tensor y = torch::randn({2, 3, bf16->info().hidden_size}).to(torch::kBFloat16);
    for (const ModuleAblation& entry : plan) {
      const torch::Tensor out = (*bf16->slots().get(entry.layer, entry.component))(y);
      EXPECT_EQ(out.scalar_type(), torch::kBFloat16);
      const torch::Tensor reference =
          (*f32->slots().get(entry.layer, entry.component))(y.to(torch::kFloat32)).to(torch::kBFloat16);
      EXPECT_TRUE(torch::equal(out, reference)) << config::to_string(mode) << " layer " << entry.layer;
    }
    // And the bf16 model runs with the ablation applied.
    EXPECT_TRUE(bf16->next_token_logits(bf16->make_batch(fixture_prompts())).isfinite().all().item<bool>());
  }
}

}  // namespace
}  // namespace heretic
