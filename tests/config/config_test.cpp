// Loading, defaults, overrides and printing of valid configurations.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "config/compare.h"
#include "config/load.h"
#include "config/print.h"
#include "eval/scorer_registry.h"

namespace heretic::config {
namespace {

std::string repo_file(const std::string& relative) { return std::string(HERETIC_SOURCE_DIR) + "/" + relative; }

LoadedConfig parse(const std::string& text, const std::vector<std::string>& overrides = {}) {
  return parse_config(text, "job.toml", overrides);
}

TEST(Config, MinimalConfigHasHereticDefaults) {
  const Config c = parse("model = \"Qwen/Qwen3-4B\"\n").config;
  EXPECT_EQ(c.model, "Qwen/Qwen3-4B");
  EXPECT_EQ(c.dtypes, (std::vector<std::string>{"auto", "float16", "bfloat16", "float32"}));
  EXPECT_EQ(c.batch_size, 0);
  EXPECT_EQ(c.max_batch_size, 128);
  EXPECT_EQ(c.max_response_length, 100);
  EXPECT_FALSE(c.response_prefix.has_value());
  EXPECT_EQ(c.chain_of_thought_skips.size(), 4u);
  EXPECT_EQ(c.chain_of_thought_skips[0], (std::pair<std::string, std::string>{"<think>", "<think></think>"}));
  EXPECT_TRUE(c.orthogonalize_direction);
  EXPECT_EQ(c.row_normalization, RowNormalization::kFull);
  EXPECT_DOUBLE_EQ(c.winsorization_quantile, 1.0);
  EXPECT_EQ(c.n_trials, 200);
  EXPECT_EQ(c.n_startup_trials, 60);
  EXPECT_FALSE(c.seed.has_value());
  EXPECT_EQ(c.max_shard_size_bytes, 5'000'000'000ULL);
  EXPECT_EQ(c.system_prompt, "You are a helpful assistant.");
  EXPECT_EQ(c.good_prompts.dataset, "mlabonne/harmless_alpaca");
  EXPECT_EQ(c.good_prompts.split.value_or(""), "train[:400]");
  EXPECT_EQ(c.bad_prompts.dataset, "mlabonne/harmful_behaviors");
  ASSERT_EQ(c.scorers.size(), 2u);
  EXPECT_EQ(c.scorers[0].class_name, "KeywordRate");
  EXPECT_EQ(c.scorers[0].settings.string_list("keyword_markers").size(), 33u);
  EXPECT_FALSE(c.scorers[0].settings.boolean("print_responses"));
  EXPECT_EQ(c.scorers[0].prompts.split.value_or(""), "test[:100]");
  EXPECT_EQ(c.scorers[1].class_name, "KLDivergence");
  EXPECT_EQ(c.scorers[1].prompts.dataset, "mlabonne/harmless_alpaca");
  EXPECT_EQ(c.mpi.ranks_per_trial, 1);
  EXPECT_EQ(c.output.dir, "heretic-output");
  EXPECT_EQ(c.output.export_trials.kind, ExportSelection::Kind::kNone);
  EXPECT_EQ(c.output.export_format, ExportFormat::kMerged);
  EXPECT_EQ(c.output.lora_rank, 3);  // Heretic's full_normalization_lora_rank
}

TEST(Config, DatasetTableReplacesTheDefaultWhole) {
  // Heretic semantics: a [good_prompts] table given in the file is a complete specification.
  const Config c = parse("model = \"m\"\n[good_prompts]\ndataset = \"good.txt\"\n").config;
  EXPECT_EQ(c.good_prompts.dataset, "good.txt");
  EXPECT_FALSE(c.good_prompts.split.has_value());
  EXPECT_FALSE(c.good_prompts.column.has_value());
  EXPECT_EQ(c.bad_prompts.dataset, "mlabonne/harmful_behaviors");
}

TEST(Config, ScorerInstancesMergeClassAndInstanceTables) {
  const Config c = parse(R"(
model = "m"
scorers = [
  { plugin = "heretic.scorers.keyword_rate.KeywordRate", optimization = "minimize", instance_name = "small" },
  { plugin = "KLDivergence", optimization = "minimize" },
]
[scorer.KeywordRate]
keyword_markers = ["sorry"]
[scorer.KeywordRate.prompts]
dataset = "bad.txt"
split = "[:50]"
[scorer.KeywordRate_small.prompts]
split = "[:10]"
)").config;
  ASSERT_EQ(c.scorers.size(), 2u);
  EXPECT_EQ(c.scorers[0].instance_name.value_or(""), "small");
  EXPECT_EQ(c.scorers[0].display_name(), "Keywords - small");
  EXPECT_EQ(c.scorers[0].settings.string_list("keyword_markers"), std::vector<std::string>{"sorry"});
  EXPECT_EQ(c.scorers[0].prompts.dataset, "bad.txt");
  EXPECT_EQ(c.scorers[0].prompts.split.value_or(""), "[:10]");
}

TEST(Config, ScorerPluginsAreFoundByClassOrHereticPathWithTheirDefaults) {
  const Config c = parse(R"(
model = "m"
scorers = [
  { plugin = "KeywordRate", optimization = "minimize" },
  { plugin = "KeywordRate", optimization = "none", instance_name = "harmless" },
  { plugin = "ResponseLength", optimization = "none" },
]
[scorer.KeywordRate_harmless.prompts]
dataset = "harmless.txt"
split = "[:100]"
column = "text"
)").config;
  ASSERT_EQ(c.scorers.size(), 3u);
  // False refusals: the same plug-in on harmless prompts, reported only.
  EXPECT_EQ(c.scorers[1].display_name(), "Keywords - harmless");
  EXPECT_EQ(c.scorers[1].prompts.dataset, "harmless.txt");
  EXPECT_EQ(c.scorers[1].settings.string_list("keyword_markers").size(), 33u);
  EXPECT_EQ(c.scorers[2].class_name, "ResponseLength");
  EXPECT_EQ(c.scorers[2].display_name(), "Response length");
  EXPECT_EQ(c.scorers[2].optimization, Optimization::kNone);
  EXPECT_EQ(c.scorers[2].prompts.dataset, "mlabonne/harmless_alpaca");  // the plug-in's default prompts
  // Printed and read back, the same configuration.
  EXPECT_EQ(to_toml(parse(to_toml(c)).config), to_toml(c));
  // --set into a scorer's prompts that the file does not have starts from the plug-in's default.
  const Config set = parse("model = \"m\"\nscorers = [{ plugin = \"ResponseLength\" }]\n",
                           {"scorer.ResponseLength.prompts.split=test[:10]"})
                         .config;
  EXPECT_EQ(set.scorers[0].prompts.dataset, "mlabonne/harmless_alpaca");
  EXPECT_EQ(set.scorers[0].prompts.split.value_or(""), "test[:10]");
}

TEST(Config, ScorerSettingsAreCheckedAgainstWhatThePluginDeclares) {
  const auto problems = [](const std::string& text) {
    try {
      parse(text);
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  EXPECT_NE(problems("model = \"m\"\n[scorer.KeywordRate]\nprint_responses = \"yes\"\n")
                .find("job.toml:3:19: key 'scorer.KeywordRate.print_responses': expected a boolean"),
            std::string::npos)
      << problems("model = \"m\"\n[scorer.KeywordRate]\nprint_responses = \"yes\"\n");
  const std::string unknown =
      problems("model = \"m\"\nscorers = [{ plugin = \"ResponseLength\" }]\n[scorer.ResponseLength]\nmax = 3\n");
  EXPECT_NE(unknown.find("key 'scorer.ResponseLength.max': unknown key"), std::string::npos) << unknown;
  const std::string plugin = problems("model = \"m\"\nscorers = [{ plugin = \"ResponseLenght\" }]\n");
  EXPECT_NE(plugin.find("unknown scorer 'ResponseLenght'"), std::string::npos) << plugin;
  EXPECT_NE(plugin.find("did you mean 'ResponseLength'"), std::string::npos) << plugin;
  EXPECT_NE(plugin.find("'KeywordRate', 'KLDivergence', 'ResponseLength'"), std::string::npos) << plugin;
}

TEST(Config, StudyConfigIgnoresWhatDoesNotChangeATrial) {
  const Config c = parse("model = \"m\"\n").config;
  const Config other = parse("model = \"m\"\nn_trials = 70\n[scorer.KeywordRate]\nprint_responses = true\n[mpi]\n"
                             "ranks_per_trial = 2\n")
                           .config;
  const Config study = study_config(c);
  EXPECT_EQ(study_mismatch(config_fingerprint(study), to_toml(study), other), "");
  const Config markers = parse("model = \"m\"\n[scorer.KeywordRate]\nkeyword_markers = [\"no\"]\n").config;
  const std::string what = study_mismatch(config_fingerprint(study), to_toml(study), markers);
  EXPECT_NE(what.find("scorer.KeywordRate.keyword_markers: was ["), std::string::npos) << what;
  EXPECT_EQ(study_mismatch("0123", "", markers), "the configuration differs");
}

TEST(Config, SetOverridesAnyKeyIncludingNestedAndBareStrings) {
  const Config c = parse("model = \"m\"\nn_trials = 10\n",
                         {"n_trials=50", "n_startup_trials=10", "mpi.ranks_per_trial=2", "model=org/other-model",
                          "good_prompts.split=train[:10]", "dtypes=[\"float32\"]", "seed=7",
                          "scorer.KeywordRate.print_responses=true", "output.export=[3, 5]",
                          "output.export_format=lora", "output.lora_rank=8"})
                       .config;
  EXPECT_EQ(c.n_trials, 50);
  EXPECT_EQ(c.mpi.ranks_per_trial, 2);
  EXPECT_EQ(c.model, "org/other-model");
  EXPECT_EQ(c.good_prompts.split.value_or(""), "train[:10]");
  EXPECT_EQ(c.good_prompts.dataset, "mlabonne/harmless_alpaca");  // the rest of the default stays
  EXPECT_EQ(c.good_prompts.column.value_or(""), "text");
  EXPECT_EQ(c.dtypes, std::vector<std::string>{"float32"});
  EXPECT_EQ(c.seed.value_or(0), 7u);
  EXPECT_TRUE(c.scorers[0].settings.boolean("print_responses"));
  EXPECT_EQ(c.output.export_trials.kind, ExportSelection::Kind::kTrials);
  EXPECT_EQ(c.output.export_trials.trials, (std::vector<int64_t>{3, 5}));
  EXPECT_EQ(c.output.export_format, ExportFormat::kLora);
  EXPECT_EQ(c.output.lora_rank, 8);
}

TEST(Config, HereticOnlyKeysAreIgnoredWithAWarningThatSaysWhy) {
  const LoadedConfig loaded = parse("model = \"m\"\nstudy_checkpoint_dir = \"ck\"\nplot_residuals = true\n");
  ASSERT_EQ(loaded.warnings.size(), 2u);
  EXPECT_NE(loaded.warnings[0].find("job.toml:3:18: key 'plot_residuals': ignored: heretic-mpi draws no plots"),
            std::string::npos)
      << loaded.warnings[0];
  EXPECT_NE(loaded.warnings[1].find("journal.jsonl"), std::string::npos) << loaded.warnings[1];
}

TEST(Config, MaxShardSizeAcceptsTransformersSpellings) {
  EXPECT_EQ(parse("model = \"m\"\nmax_shard_size = \"500MB\"\n").config.max_shard_size_bytes, 500'000'000ULL);
  EXPECT_EQ(parse("model = \"m\"\nmax_shard_size = \"2GiB\"\n").config.max_shard_size_bytes, 2ULL << 30);
  EXPECT_EQ(parse("model = \"m\"\nmax_shard_size = 1048576\n").config.max_shard_size_bytes, 1048576ULL);
}

TEST(Config, MemoryPerRankIsAutoOffOrASize) {
  EXPECT_EQ(parse("model = \"m\"\n").config.mpi.memory_per_rank, 0);  // "auto"
  EXPECT_EQ(parse("model = \"m\"\n[mpi]\nmemory_per_rank = \"off\"\n").config.mpi.memory_per_rank, -1);
  EXPECT_EQ(parse("model = \"m\"\n[mpi]\nmemory_per_rank = \"80GiB\"\n").config.mpi.memory_per_rank, int64_t{80} << 30);
  EXPECT_EQ(parse("model = \"m\"\n", {"mpi.memory_per_rank=24GB"}).config.mpi.memory_per_rank, 24'000'000'000);
  try {
    parse("model = \"m\"\n[mpi]\nmemory_per_rank = \"lots\"\n");
    FAIL() << "accepted memory_per_rank = \"lots\"";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("key 'mpi.memory_per_rank': expected \"auto\", \"off\" or a size"),
              std::string::npos)
        << e.what();
  }
  // A size prints as bytes and reads back the same.
  const Config sized = parse("model = \"m\"\n[mpi]\nmemory_per_rank = \"1.5GiB\"\n").config;
  EXPECT_EQ(parse(to_toml(sized)).config.mpi.memory_per_rank, sized.mpi.memory_per_rank);
}

TEST(Config, PrintedConfigRoundTrips) {
  const std::string text = R"(
model = "m"
seed = 42
response_prefix = "<think></think>\n\n"
system_prompt = "Quote \" backslash \\ tab \t unicode é"
winsorization_quantile = 0.95
max_shard_size = 123456
[output]
export = [1, 2]
export_format = "lora"
lora_rank = 5
)";
  const std::string first = to_toml(parse(text).config);
  const std::string second = to_toml(parse(first).config);
  EXPECT_EQ(first, second);
  EXPECT_NE(first.find("winsorization_quantile = 0.95\n"), std::string::npos);
  EXPECT_NE(first.find("# model_commit is unset"), std::string::npos);
  EXPECT_EQ(config_fingerprint(parse(first).config), config_fingerprint(parse(text).config));
  EXPECT_NE(config_fingerprint(parse(text).config), config_fingerprint(parse(text, {"n_trials=70"}).config));
}

TEST(Config, ShippedConfigsLoadAndRoundTrip) {
  for (const char* file : {"configs/default.toml", "configs/demo.toml"}) {
    SCOPED_TRACE(file);
    const LoadedConfig loaded = load_config(repo_file(file));
    EXPECT_TRUE(loaded.warnings.empty());
    const std::string printed = to_toml(loaded.config);
    EXPECT_EQ(to_toml(parse(printed).config), printed);
  }
}

TEST(Config, DefaultTomlDocumentsEveryOptionWithItsDefault) {
  // configs/default.toml must state Heretic's defaults: loading it gives the same effective
  // configuration as a file that sets only the (required) model.
  const Config shipped = load_config(repo_file("configs/default.toml")).config;
  const Config minimal = parse("model = " + toml_string(shipped.model) + "\n").config;
  EXPECT_EQ(to_toml(shipped), to_toml(minimal));
  // Every key the printer knows appears in default.toml (set, or commented out when unset).
  std::ifstream in(repo_file("configs/default.toml"));
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string documented = buffer.str();
  std::istringstream printed(to_toml(minimal));
  for (std::string line; std::getline(printed, line);) {
    std::string key;
    if (line.rfind("# ", 0) == 0 && line.find(" is unset") != std::string::npos) {
      key = line.substr(2, line.find(" is unset") - 2);
    } else if (line.find(" = ") != std::string::npos && line[0] != ' ' && line[0] != '#') {
      key = line.substr(0, line.find(" = "));
    } else {
      continue;
    }
    EXPECT_NE(documented.find(key + " ="), std::string::npos) << "default.toml does not document '" << key << "'";
  }
}

TEST(Config, DefaultTomlDocumentsEveryScorerPlugin) {
  std::ifstream in(repo_file("configs/default.toml"));
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string documented = buffer.str();
  for (const eval::ScorerPlugin& plugin : eval::scorer_plugins()) {
    EXPECT_NE(documented.find(plugin.class_name), std::string::npos) << "default.toml does not mention " << plugin.class_name;
    for (const eval::SettingSpec& spec : plugin.settings) {
      EXPECT_NE(documented.find(spec.key + " ="), std::string::npos)
          << "default.toml does not document " << plugin.class_name << "." << spec.key;
    }
  }
}

}  // namespace
}  // namespace heretic::config
