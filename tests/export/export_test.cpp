// Export of an ablated model: the folder written is a Hugging Face model that, loaded and run
// without any ablation, gives the logits of the source model with the same plan applied
// through the Ablator; every other tensor and the tokenizer files are copied unchanged; the
// checkpoint keeps its dtype, shards with an index when asked, and appears complete or not
// at all.
#include "ablation/export.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "common/error.h"
#include "hf/safetensors_reader.h"
#include "model/causal_lm.h"
#include "model/tensor_view.h"
#include "tests/export/export_test_support.h"
#include "tests/model/model_fixtures.h"
#include "tests/support/error_of.h"

using namespace heretic;
using namespace heretic::ablation;
using heretic::config::RowNormalization;
using heretic::model::Component;
namespace fs = std::filesystem;
using heretic::testing::folder_entries;
using heretic::testing::mixed_plan;
using heretic::testing::organism_model;
using heretic::testing::read_file;
using heretic::testing::relative_difference;

namespace {

void write_file(const fs::path& path, const std::string& text) {
  std::ofstream stream(path, std::ios::binary);
  stream << text;
}

std::string mode_name(RowNormalization mode) { return config::to_string(mode); }

torch::Tensor logits_of(model::CausalLM& model) { return model.next_token_logits(model.make_batch(fixture_prompts())); }

bool same_bytes(const hf::TensorLocation& a, const hf::TensorLocation& b) {
  return a.info->dtype == b.info->dtype && a.info->shape == b.info->shape &&
         a.info->byte_size() == b.info->byte_size() && std::memcmp(a.data(), b.data(), a.info->byte_size()) == 0;
}

std::set<std::string> planned_names(const std::vector<ModuleAblation>& plan) {
  std::set<std::string> names;
  for (const ModuleAblation& module : plan)
    names.insert("model.layers." + std::to_string(module.layer) +
                 (module.component == Component::kAttnOutput ? ".self_attn.o_proj.weight" : ".mlp.down_proj.weight"));
  return names;
}

class ExportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = std::string(info->test_suite_name()) + "-" + info->name();
    std::replace(name.begin(), name.end(), '/', '-');
    dir_ = fs::temp_directory_path() / ("heretic-export-" + std::to_string(::getpid()) + "-" + name);
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  ExportRequest request_for(const fs::path& source, const std::vector<ModuleAblation>& plan, RowNormalization mode,
                            const std::string& out_name = "export") const {
    ExportRequest request;
    request.model_folder = source;
    request.out_folder = dir_ / out_name;
    request.mode = mode;
    request.plan = plan;
    request.readme = "# ablated\n";
    return request;
  }

  // A copy of the organism's folder that a test may change.
  fs::path organism_copy() const {
    const fs::path copy = dir_ / "source";
    fs::copy(organism_model(), copy, fs::copy_options::recursive);
    return copy;
  }

  fs::path dir_;
};

// ---- The export computes what the Ablator applies --------------------------------------------

struct EqualityCase {
  std::string model;  // "organism" or a random fixture name
  RowNormalization mode;
};
void PrintTo(const EqualityCase& c, std::ostream* out) { *out << c.model << "/" << config::to_string(c.mode); }

class ExportEqualsAblator : public ExportTest, public ::testing::WithParamInterface<EqualityCase> {};

TEST_P(ExportEqualsAblator, ExportedLogitsEqualTheAblatedSourceModel) {
  const EqualityCase& c = GetParam();
  const fs::path source = c.model == "organism" ? organism_model() : fixture_model(c.model);
  auto original = model::CausalLM::load(source, "float32", torch::kCPU);
  const std::vector<ModuleAblation> plan = mixed_plan(original->info().num_layers, original->info().hidden_size);
  const torch::Tensor base = logits_of(*original);  // [B, V]

  Ablator ablator(*original, c.mode);
  ablator.apply(plan);
  const torch::Tensor ablated = logits_of(*original);
  // The plan must matter, or equality below would prove nothing.
  ASSERT_GT(relative_difference(base, ablated), 1e-2);

  export_ablated_model(request_for(source, plan, c.mode));
  auto exported = model::CausalLM::load(dir_ / "export", "float32", torch::kCPU);
  EXPECT_EQ(exported->slots().active_count(), 0);
  const torch::Tensor merged = logits_of(*exported);
  EXPECT_LE(relative_difference(merged, ablated), 1e-5);
}

INSTANTIATE_TEST_SUITE_P(Modes, ExportEqualsAblator,
                         ::testing::Values(EqualityCase{"organism", RowNormalization::kNone},
                                           EqualityCase{"organism", RowNormalization::kPre},
                                           EqualityCase{"organism", RowNormalization::kFull},
                                           EqualityCase{"qwen3-tiny", RowNormalization::kNone},
                                           EqualityCase{"qwen3-tiny", RowNormalization::kPre},
                                           EqualityCase{"qwen3-tiny", RowNormalization::kFull}),
                         [](const ::testing::TestParamInfo<EqualityCase>& param) {
                           std::string model = param.param.model.substr(0, param.param.model.find('-'));
                           return model + "_" + mode_name(param.param.mode);
                         });

// ---- Tensors: untouched ones byte for byte, planned ones merged in the stored dtype -----------

class ExportDtype : public ExportTest, public ::testing::WithParamInterface<std::string> {};

TEST_P(ExportDtype, KeepsTheDtypeAndCopiesUntouchedTensorsByteForByte) {
  const fs::path source = fixture_model(GetParam());  // llama-tiny: BF16, mistral-tiny: F16
  const auto plan = mixed_plan(2, 32);
  export_ablated_model(request_for(source, plan, RowNormalization::kFull));

  const auto before = hf::SafetensorsCheckpoint::open(source);
  const auto after = hf::SafetensorsCheckpoint::open(dir_ / "export");
  ASSERT_EQ(after.tensor_names(), before.tensor_names());  // lm_head only where the source has one
  const std::set<std::string> planned = planned_names(plan);
  for (const std::string& name : before.tensor_names()) {
    const hf::TensorLocation a = before.at(name);
    const hf::TensorLocation b = after.at(name);
    EXPECT_EQ(b.info->dtype, a.info->dtype) << name;
    if (planned.count(name) == 0) {
      EXPECT_TRUE(same_bytes(a, b)) << name << " changed";
      continue;
    }
    // The merge in float32, rounded once to the stored dtype.
    const ModuleAblation& module = *std::find_if(
        plan.begin(), plan.end(), [&](const ModuleAblation& m) { return planned_names({m}).count(name) == 1; });
    const torch::Tensor expected = merged_weight(model::load_tensor(a, torch::kFloat32, torch::kCPU), module.direction,
                                                 module.weight, RowNormalization::kFull)
                                       .to(model::to_torch(a.info->dtype))
                                       .contiguous();
    ASSERT_EQ(static_cast<uint64_t>(expected.nbytes()), b.info->byte_size()) << name;
    EXPECT_EQ(std::memcmp(expected.data_ptr(), b.data(), b.info->byte_size()), 0) << name << " is not the merge";
    EXPECT_FALSE(same_bytes(a, b)) << name << " was not ablated";
  }

  // In half precision the merged weights are rounded, so the logits agree only roughly.
  auto original = model::CausalLM::load(source, "float32", torch::kCPU);
  Ablator ablator(*original, RowNormalization::kFull);
  ablator.apply(plan);
  auto exported = model::CausalLM::load(dir_ / "export", "float32", torch::kCPU);
  EXPECT_LE(relative_difference(logits_of(*exported), logits_of(*original)), 2e-2);
}

INSTANTIATE_TEST_SUITE_P(HalfPrecision, ExportDtype, ::testing::Values("llama-tiny", "mistral-tiny"),
                         fixture_test_name);

TEST_F(ExportTest, TiedEmbeddingsStayTied) {
  // qwen3-tiny ties lm_head to embed_tokens and stores no lm_head.
  export_ablated_model(request_for(fixture_model("qwen3-tiny"), mixed_plan(3, 32), RowNormalization::kFull));
  const auto exported = hf::SafetensorsCheckpoint::open(dir_ / "export");
  EXPECT_FALSE(exported.contains("lm_head.weight"));
  EXPECT_TRUE(model::CausalLM::load(dir_ / "export", "auto", torch::kCPU)->info().tie_word_embeddings);
}

// ---- Shards ------------------------------------------------------------------------------------

TEST_F(ExportTest, SmallShardSizeGivesShardsAndAnIndexThatLoad) {
  const auto plan = mixed_plan(6, 64);
  ExportRequest single = request_for(organism_model(), plan, RowNormalization::kFull, "single");
  export_ablated_model(single);
  ExportRequest sharded = request_for(organism_model(), plan, RowNormalization::kFull, "sharded");
  sharded.max_shard_size_bytes = 200'000;  // the organism has about 0.9 MB of weights
  const std::vector<std::string> files = export_ablated_model(sharded);

  std::vector<std::string> shards;
  for (const std::string& file : files)
    if (file.rfind("model-", 0) == 0) shards.push_back(file);
  ASSERT_GE(shards.size(), 3u);
  EXPECT_EQ(shards.front(), "model-00001-of-0000" + std::to_string(shards.size()) + ".safetensors");
  EXPECT_FALSE(fs::exists(dir_ / "sharded" / "model.safetensors"));

  const auto index = nlohmann::json::parse(read_file(dir_ / "sharded" / "model.safetensors.index.json"));
  const auto reference = hf::SafetensorsCheckpoint::open(dir_ / "single");
  EXPECT_EQ(index["weight_map"].size(), reference.tensor_names().size());
  EXPECT_EQ(index["metadata"]["total_size"].get<uint64_t>(), reference.total_bytes());
  for (const std::string& shard : shards) {
    const hf::SafetensorsFile file(dir_ / "sharded" / shard);
    uint64_t bytes = 0;
    for (const auto& tensor : file.tensors()) bytes += tensor.byte_size();
    EXPECT_TRUE(bytes <= sharded.max_shard_size_bytes || file.tensors().size() == 1) << shard;
  }
  const auto resharded = hf::SafetensorsCheckpoint::open(dir_ / "sharded");
  for (const std::string& name : reference.tensor_names())
    EXPECT_TRUE(same_bytes(reference.at(name), resharded.at(name))) << name;

  auto from_single = model::CausalLM::load(dir_ / "single", "float32", torch::kCPU);
  auto from_shards = model::CausalLM::load(dir_ / "sharded", "float32", torch::kCPU);
  EXPECT_TRUE(torch::equal(logits_of(*from_shards), logits_of(*from_single)));

  // A sharded source is read through its index: re-exporting it with an empty plan into one
  // file gives the same tensors.
  export_ablated_model(request_for(dir_ / "sharded", {}, RowNormalization::kFull, "again"));
  const auto again = hf::SafetensorsCheckpoint::open(dir_ / "again");
  EXPECT_EQ(again.files().size(), 1u);
  for (const std::string& name : reference.tensor_names())
    EXPECT_TRUE(same_bytes(reference.at(name), again.at(name))) << name;
}

// ---- Files around the weights ------------------------------------------------------------------

TEST_F(ExportTest, CopiesConfigAndTokenizerFilesAndWritesTheModelCard) {
  const fs::path source = organism_copy();
  write_file(source / "chat_template.jinja", "{{ messages }}");
  write_file(source / "special_tokens_map.json", "{}");
  write_file(source / "merges.txt", "#version: 0.2\n");
  write_file(source / "README.md", "the base model's card");
  write_file(source / "notes.txt", "not part of a model");
  fs::create_directories(source / "additional_chat_templates");
  write_file(source / "additional_chat_templates" / "tool_use.jinja", "{{ tools }}");

  ExportRequest request = request_for(source, mixed_plan(6, 64), RowNormalization::kPre);
  request.readme = "# organism, ablated\n\nparameters ...\n";
  const std::vector<std::string> files = export_ablated_model(request);

  const std::vector<std::string> expected = {"README.md",
                                             "additional_chat_templates/tool_use.jinja",
                                             "chat_template.jinja",
                                             "config.json",
                                             "generation_config.json",
                                             "merges.txt",
                                             "model.safetensors",
                                             "special_tokens_map.json",
                                             "tokenizer.json",
                                             "tokenizer_config.json"};
  EXPECT_EQ(files, expected);
  const fs::path out = dir_ / "export";
  for (const std::string& file : expected) {
    EXPECT_TRUE(fs::is_regular_file(out / file)) << file;
    if (file != "README.md" && file != "model.safetensors") {
      EXPECT_EQ(read_file(out / file), read_file(source / file)) << file;
    }
  }
  EXPECT_EQ(read_file(out / "README.md"), request.readme);
  EXPECT_FALSE(fs::exists(out / "notes.txt"));
  // Nothing but the export and its source is left next to it (no temporary or old folders).
  EXPECT_EQ(folder_entries(dir_), (std::vector<std::string>{"export", "source"}));
}

TEST_F(ExportTest, ReplacesAnExistingExportCompletely) {
  ExportRequest first = request_for(organism_model(), mixed_plan(6, 64), RowNormalization::kNone);
  first.max_shard_size_bytes = 200'000;
  export_ablated_model(first);
  write_file(dir_ / "export" / "stale.txt", "from before");
  ASSERT_TRUE(fs::exists(dir_ / "export" / "model.safetensors.index.json"));

  ExportRequest second = request_for(organism_model(), mixed_plan(6, 64), RowNormalization::kFull);
  second.out_folder = dir_ / "export/";  // a trailing separator names the same folder
  const std::vector<std::string> files = export_ablated_model(second);

  std::vector<std::string> on_disk = folder_entries(dir_ / "export");
  EXPECT_EQ(on_disk, files);
  EXPECT_TRUE(fs::exists(dir_ / "export" / "model.safetensors"));
  EXPECT_EQ(folder_entries(dir_), (std::vector<std::string>{"export"}));
}

// ---- Errors ------------------------------------------------------------------------------------

TEST_F(ExportTest, UnwritableTargetNamesThePathAndLeavesNothing) {
  write_file(dir_ / "a-file", "x");
  const fs::path out = dir_ / "a-file" / "export";
  ExportRequest request = request_for(organism_model(), mixed_plan(6, 64), RowNormalization::kFull);
  request.out_folder = out;
  const std::string message = heretic::testing::error_of([&] { export_ablated_model(request); });
  EXPECT_NE(message.find(out.string()), std::string::npos) << message;
  EXPECT_EQ(folder_entries(dir_), (std::vector<std::string>{"a-file"}));

  request.out_folder = dir_ / "a-file";  // an existing file is never replaced by a folder
  const std::string replace = heretic::testing::error_of([&] { export_ablated_model(request); });
  EXPECT_NE(replace.find("is not a folder"), std::string::npos) << replace;
  EXPECT_EQ(read_file(dir_ / "a-file"), "x");
}

TEST_F(ExportTest, ReadOnlyParentNamesThePathAndLeavesNothing) {
  if (::geteuid() == 0) GTEST_SKIP() << "root writes into read-only folders";
  fs::create_directories(dir_ / "locked");
  fs::permissions(dir_ / "locked", fs::perms::owner_read | fs::perms::owner_exec);
  ExportRequest request = request_for(organism_model(), mixed_plan(6, 64), RowNormalization::kFull);
  request.out_folder = dir_ / "locked" / "export";
  const std::string message = heretic::testing::error_of([&] { export_ablated_model(request); });
  fs::permissions(dir_ / "locked", fs::perms::owner_all);
  EXPECT_NE(message.find(request.out_folder.string()), std::string::npos) << message;
  EXPECT_TRUE(fs::is_empty(dir_ / "locked"));
}

TEST_F(ExportTest, MissingSourceTensorIsAnInputError) {
  std::vector<ModuleAblation> plan = mixed_plan(6, 64);
  plan.push_back({9, Component::kMlpDown, 1.0, plan[0].direction});  // the organism has 6 layers
  const std::string message = heretic::testing::error_of(
      [&] { export_ablated_model(request_for(organism_model(), plan, RowNormalization::kFull)); });
  EXPECT_NE(message.find("model.layers.9.mlp.down_proj.weight"), std::string::npos) << message;
  EXPECT_TRUE(fs::is_empty(dir_));
}

TEST_F(ExportTest, DirectionOfAnotherModelIsAnInputError) {
  std::vector<ModuleAblation> plan = mixed_plan(6, 64);
  plan[1].direction = torch::ones({32}) / std::sqrt(32.0);  // hidden size 32, not 64
  const std::string message = heretic::testing::error_of(
      [&] { export_ablated_model(request_for(organism_model(), plan, RowNormalization::kFull)); });
  EXPECT_NE(message.find("model.layers.0.mlp.down_proj.weight"), std::string::npos) << message;
  EXPECT_TRUE(fs::is_empty(dir_));
}

TEST_F(ExportTest, FailureHalfwayRemovesTheTemporaryFolderAndKeepsThePreviousExport) {
  const fs::path source = organism_copy();
  export_ablated_model(request_for(source, mixed_plan(6, 64), RowNormalization::kNone));
  const std::string previous = read_file(dir_ / "export" / "model.safetensors");

  // The weights are written before the tokenizer files; a broken tokenizer.json fails then.
  fs::remove(source / "tokenizer.json");
  fs::create_directories(source / "tokenizer.json");
  const std::string message = heretic::testing::error_of(
      [&] { export_ablated_model(request_for(source, mixed_plan(6, 64), RowNormalization::kFull)); });
  EXPECT_NE(message.find((source / "tokenizer.json").string()), std::string::npos) << message;
  EXPECT_EQ(folder_entries(dir_), (std::vector<std::string>{"export", "source"}));
  EXPECT_EQ(read_file(dir_ / "export" / "model.safetensors"), previous);
}

TEST_F(ExportTest, RefusesToReplaceTheSourceFolder) {
  const fs::path source = organism_copy();
  ExportRequest request = request_for(source, mixed_plan(6, 64), RowNormalization::kFull);
  request.out_folder = source;
  const std::string message = heretic::testing::error_of([&] { export_ablated_model(request); });
  EXPECT_NE(message.find("source model folder"), std::string::npos) << message;
  request.out_folder = dir_;  // a folder that contains the source
  EXPECT_NE(heretic::testing::error_of([&] { export_ablated_model(request); }).find("source model folder"),
            std::string::npos);
  EXPECT_NO_THROW(model::CausalLM::load(source, "float32", torch::kCPU));
}

}  // namespace
