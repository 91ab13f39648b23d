#include "config/load.h"

#include "config/byte_size.h"

#include <cctype>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include "common/suggest.h"
#include "config/byte_size.h"
#include "config/table_reader.h"
#include "eval/scorer_registry.h"

namespace heretic::config {
namespace {

constexpr int64_t kMaxCount = INT64_MAX;  // counts without an upper limit

// A number as people write it in TOML: 0.4, -0.25, 1.5.
std::string format_number(double value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

std::string join_lines(const std::vector<std::string>& lines) {
  std::string text;
  for (const auto& line : lines) text += (text.empty() ? "" : "\n") + line;
  return text;
}

// ---- Heretic keys that a batch program has no use for -----------------------------------

void read_not_applicable(TableReader& root) {
  const std::string use_evaluate = "use the subcommand `heretic-mpi evaluate --config FILE --model M`";
  root.not_applicable("evaluate_model", use_evaluate);
  root.not_applicable("collect_reproducibles", "heretic-mpi does not download reproduce.json files");
  root.not_applicable("reproduce", "reproduce.json workflows are not supported by heretic-mpi");
  root.not_applicable("ignore_mismatches", "reproduce.json workflows are not supported by heretic-mpi");
  root.not_applicable("max_memory", "each rank holds the whole model on its own device");
  root.not_applicable("full_normalization_lora_rank",
                      "heretic-mpi applies \"full\" row normalization exactly, without a LoRA approximation; "
                      "the rank of exported LoRA adapters is output.lora_rank");
  const std::string no_plots = "heretic-mpi draws no plots; residuals can be written to results.h5";
  root.not_applicable("plot_residuals", no_plots);
  root.not_applicable("residual_plot_path", no_plots);
  root.not_applicable("residual_plot_title", no_plots);
  root.not_applicable("residual_plot_style", no_plots);
  root.not_applicable("study_checkpoint_dir", "the journal is <output.dir>/journal.jsonl");
  root.not_applicable("benchmarks", "heretic-mpi does not run lm-eval benchmarks");
  const std::string use_export = "exports are selected by output.export (merged models or, with "
                                 "output.export_format = \"lora\", LoRA adapters)";
  root.not_applicable("export_strategy", use_export);
  root.not_applicable("trial_index", use_export);
  root.not_applicable("model_action", use_export);
  root.not_applicable("save_directory", "exports go to <output.dir>/models/trial-NNN");
  root.not_applicable("checkpoint_action",
                      "a rerun with the same output.dir resumes; use a new output.dir to start over");
  root.not_applicable("n_additional_trials", "raise n_trials and rerun with the same output.dir");
  const std::string no_upload = "heretic-mpi does not upload models";
  root.not_applicable("upload_repo_id", no_upload);
  root.not_applicable("upload_repo_private", no_upload);
  root.not_applicable("upload_reproducibility_information", no_upload);

  // Heretic 1.4 names whose meaning moved into the scorer tables: silently ignoring them
  // would change results, so they are errors that say where the setting lives now.
  root.rejected("refusal_markers", "Heretic 1.4 option; set [scorer.KeywordRate] keyword_markers instead");
  root.rejected("print_responses", "Heretic 1.4 option; set [scorer.KeywordRate] print_responses instead");
  root.rejected("bad_evaluation_prompts", "Heretic 1.4 option; use the table [scorer.KeywordRate.prompts] instead");
  root.rejected("good_evaluation_prompts",
                "Heretic 1.4 option; use the table [scorer.KLDivergence.prompts] instead");
  root.rejected("kl_divergence_scale", "Heretic 1.4 option; the objectives are the scorers' values");
  root.rejected("kl_divergence_target", "Heretic 1.4 option; the objectives are the scorers' values");
}

// ---- Dataset specifications --------------------------------------------------------------

DatasetSpec read_dataset(TableReader reader, const DatasetSpec& fallback) {
  if (reader.absent()) {
    // Still register the keys, so that suggestions know them.
    reader.optional_string("dataset");
    reader.optional_string("commit");
    reader.optional_string("split");
    reader.optional_string("column");
    reader.optional_string("prefix");
    reader.optional_string("suffix");
    reader.optional_string("system_prompt");
    return fallback;
  }
  // As in Heretic, a table given in the config replaces the default specification whole:
  // fields it leaves out take the field defaults, not the default dataset's values.
  DatasetSpec spec;
  spec.dataset = reader.required_string("dataset");
  spec.commit = reader.optional_string("commit");
  spec.split = reader.optional_string("split");
  spec.column = reader.optional_string("column");
  spec.prefix = reader.string("prefix", "");
  spec.suffix = reader.string("suffix", "");
  spec.system_prompt = reader.optional_string("system_prompt");
  reader.not_applicable("residual_plot_label", "heretic-mpi draws no plots");
  reader.not_applicable("residual_plot_color", "heretic-mpi draws no plots");
  if (spec.split) {
    // Full syntax checks happen when the data is read (src/data); catch the obvious here.
    static const std::regex split_syntax(R"(^\s*[A-Za-z0-9_.\-]*\s*(\[[^\]]*\])?\s*$)");
    if (spec.split->empty() || !std::regex_match(*spec.split, split_syntax)) {
      reader.diagnostics().error(reader.dotted_in_source("split"), reader.node("split"),
                                 "'" + *spec.split + "' is not a split such as \"train\", \"train[:400]\" "
                                 "or \"[:400]\"");
    }
  }
  reader.finish();
  return spec;
}

// ---- Scorers --------------------------------------------------------------------------

struct ScorerEntry {
  ScorerConfig config;
  const toml::node* node;
};

std::vector<ScorerEntry> read_scorer_list(TableReader& root, Diagnostics& diagnostics) {
  const toml::node* node = root.node("scorers");
  std::vector<ScorerEntry> entries;
  if (node == nullptr) {
    for (const auto& scorer : default_config().scorers) entries.push_back({scorer, nullptr});
    return entries;
  }
  const toml::array* array = node->as_array();
  if (array == nullptr) {
    root.type_error("scorers", *node, "an array of tables {plugin, optimization, instance_name}");
    return entries;
  }
  for (size_t i = 0; i < array->size(); ++i) {
    const std::string key = "scorers[" + std::to_string(i) + "]";
    const toml::node& element = (*array)[i];
    const toml::table* table = element.as_table();
    if (table == nullptr) {
      diagnostics.error(key, &element, "expected a table {plugin = ..., optimization = ...}, got " + describe(element));
      continue;
    }
    TableReader reader(table, key, diagnostics);
    ScorerEntry entry{ScorerConfig{}, &element};
    entry.config.plugin = reader.required_string("plugin");
    const std::string& plugin = entry.config.plugin;
    if (const eval::ScorerPlugin* found = eval::find_scorer_plugin(plugin)) {
      entry.config.class_name = found->class_name;
    } else if (!plugin.empty()) {
      std::vector<std::string> names;
      std::string listed;
      for (const eval::ScorerPlugin& candidate : eval::scorer_plugins()) {
        names.push_back(candidate.class_name);
        if (!candidate.import_path.empty()) names.push_back(candidate.import_path);
        listed += (listed.empty() ? "" : ", ") + ("'" + candidate.class_name + "'");
      }
      diagnostics.error(key + ".plugin", table->get("plugin"),
                        "unknown scorer '" + plugin + "': heretic-mpi has the scorers " + listed +
                            " (Heretic's spellings such as 'heretic.scorers.keyword_rate.KeywordRate' work too; "
                            "Python plugins cannot be loaded)" + did_you_mean(plugin, names));
    }
    const std::string optimization = reader.choice("optimization", "minimize", {"minimize", "maximize", "none"});
    entry.config.optimization = optimization == "maximize" ? Optimization::kMaximize
                                : optimization == "none"   ? Optimization::kNone
                                                           : Optimization::kMinimize;
    entry.config.instance_name = reader.optional_string("instance_name");
    if (entry.config.instance_name) {
      const std::string& name = *entry.config.instance_name;
      const bool blank = name.find_first_not_of(" \t\r\n") == std::string::npos;
      const bool bad_char = name.find('.') != std::string::npos ||
                            std::any_of(name.begin(), name.end(), [](unsigned char c) { return std::isspace(c); });
      if (blank || bad_char) {
        diagnostics.error(key + ".instance_name", table->get("instance_name"),
                          "must be non-blank and contain neither '.' nor whitespace, got \"" + name + "\"");
      }
    }
    reader.finish();
    entries.push_back(entry);
  }
  return entries;
}

// The values of the settings a plug-in declares, each read with the type of its default.
eval::ScorerSettings read_scorer_settings_values(TableReader& settings, const std::vector<eval::SettingSpec>& specs) {
  eval::ScorerSettings values;
  for (const eval::SettingSpec& spec : specs) {
    const auto& fallback = spec.default_value;
    if (const auto* b = std::get_if<bool>(&fallback)) {
      values.set(spec.key, settings.boolean(spec.key, *b));
    } else if (const auto* i = std::get_if<int64_t>(&fallback)) {
      values.set(spec.key, settings.integer(spec.key, *i, static_cast<int64_t>(std::max(spec.min, -9.2e18)),
                                            static_cast<int64_t>(std::min(spec.max, 9.2e18))));
    } else if (const auto* d = std::get_if<double>(&fallback)) {
      values.set(spec.key, settings.number(spec.key, *d, spec.min, spec.max));
    } else if (const auto* text = std::get_if<std::string>(&fallback)) {
      values.set(spec.key, settings.string(spec.key, *text));
    } else {
      values.set(spec.key, settings.string_list(spec.key, std::get<std::vector<std::string>>(fallback), spec.allow_empty));
    }
  }
  return values;
}

// Reads [scorer.<Class>] / [scorer.<Class>_<instance>] into each scorer and rejects tables
// that belong to no configured scorer.
void read_scorer_settings(TableReader& root, std::vector<ScorerEntry>& entries, Diagnostics& diagnostics) {
  TableReader scorer_tables = root.sub_table("scorer");
  const toml::node* scorer_node = root.node("scorer");
  const toml::table* tables = scorer_node ? scorer_node->as_table() : nullptr;

  std::set<std::string> seen;
  for (auto& entry : entries) {
    ScorerConfig& scorer = entry.config;
    const std::string cls = scorer.class_name;
    const std::string id = scorer.table_name();
    if (!seen.insert(id).second) {
      diagnostics.error("scorers", entry.node,
                        "scorer '" + id + "' is configured twice (give each instance its own instance_name)");
    }
    const eval::ScorerPlugin* plugin = eval::find_scorer_plugin(cls);
    if (plugin == nullptr) continue;  // already reported
    std::vector<TableReader::Layer> layers;
    auto layer_for = [&](const std::string& name) {
      const toml::node* n = tables ? tables->get(name) : nullptr;
      if (n != nullptr && !n->is_table()) {
        diagnostics.error("scorer." + name, n, "expected a table, got " + describe(*n));
        n = nullptr;
      }
      return TableReader::Layer{n ? n->as_table() : nullptr, "scorer." + name};
    };
    layers.push_back(layer_for(cls));
    if (scorer.instance_name) layers.push_back(layer_for(id));
    TableReader settings(layers, diagnostics);
    scorer.prompts = read_dataset(settings.sub_table("prompts"), plugin->default_prompts);
    scorer.settings = read_scorer_settings_values(settings, plugin->settings);
    settings.finish();
  }

  // Tables under [scorer] that no configured scorer reads.
  if (tables != nullptr) {
    std::vector<std::string> expected;
    for (const auto& entry : entries) {
      if (entry.config.class_name.empty()) continue;
      expected.push_back(entry.config.class_name);
      if (entry.config.instance_name) expected.push_back(entry.config.table_name());
    }
    for (const auto& [name, value] : *tables) {
      const std::string key(name.str());
      if (std::find(expected.begin(), expected.end(), key) != expected.end()) continue;
      diagnostics.error("scorer." + key, &value,
                        "no configured scorer uses this table (scorer tables are named after a scorer class "
                        "in `scorers`, optionally followed by _<instance_name>)" + did_you_mean(key, expected));
    }
  }
  (void)scorer_tables;
}

// ---- Other custom shapes ----------------------------------------------------------------

std::vector<std::pair<std::string, std::string>> read_cot_skips(TableReader& root, Diagnostics& diagnostics,
                                                                const Config& defaults) {
  const toml::node* node = root.node("chain_of_thought_skips");
  if (node == nullptr) return defaults.chain_of_thought_skips;
  const toml::array* array = node->as_array();
  if (array == nullptr) {
    root.type_error("chain_of_thought_skips", *node, "an array of [initializer, closed_block] string pairs");
    return defaults.chain_of_thought_skips;
  }
  std::vector<std::pair<std::string, std::string>> pairs;
  for (size_t i = 0; i < array->size(); ++i) {
    const toml::node& element = (*array)[i];
    const toml::array* pair = element.as_array();
    if (pair == nullptr || pair->size() != 2 || !(*pair)[0].is_string() || !(*pair)[1].is_string()) {
      diagnostics.error("chain_of_thought_skips[" + std::to_string(i) + "]", &element,
                        "expected a pair of strings [initializer, closed_block], got " + describe(element));
      continue;
    }
    pairs.emplace_back(*(*pair)[0].value<std::string>(), *(*pair)[1].value<std::string>());
  }
  return pairs;
}

void read_max_shard_size(TableReader& root, Diagnostics& diagnostics, Config& c) {
  const toml::node* node = root.node("max_shard_size");
  if (node == nullptr) return;
  std::optional<uint64_t> bytes;
  std::string text;
  if (node->is_integer() && *node->value<int64_t>() > 0) {
    text = std::to_string(*node->value<int64_t>());
    bytes = static_cast<uint64_t>(*node->value<int64_t>());
  } else if (node->is_string()) {
    text = *node->value<std::string>();
    if (const auto parsed = parse_byte_size(text)) bytes = static_cast<uint64_t>(*parsed);
  }
  if (!bytes) {
    diagnostics.error(root.dotted_in_source("max_shard_size"), node,
                      "expected a positive byte count or a size such as \"5GB\", \"500MB\" or \"2GiB\", got " +
                          describe(*node));
    return;
  }
  c.max_shard_size = text;
  c.max_shard_size_bytes = *bytes;
}

ExportSelection read_export(TableReader& output, Diagnostics& diagnostics) {
  const toml::node* node = output.node("export");
  ExportSelection selection;
  if (node == nullptr) return selection;
  if (node->is_string()) {
    const std::string value = *node->value<std::string>();
    if (value == "none") return selection;
    if (value == "pareto") {
      selection.kind = ExportSelection::Kind::kPareto;
      return selection;
    }
    diagnostics.error(output.dotted_in_source("export"), node,
                      "'" + value + "' is not one of 'none', 'pareto' or an array of trial numbers" +
                          did_you_mean(value, {"none", "pareto"}));
    return selection;
  }
  const toml::array* array = node->as_array();
  if (array == nullptr) {
    output.type_error("export", *node, "\"none\", \"pareto\" or an array of trial numbers");
    return selection;
  }
  selection.kind = ExportSelection::Kind::kTrials;
  for (size_t i = 0; i < array->size(); ++i) {
    const toml::node& element = (*array)[i];
    if (!element.is_integer() || *element.value<int64_t>() < 0) {
      diagnostics.error(output.dotted_in_source("export") + "[" + std::to_string(i) + "]", &element,
                        "expected a trial number (integer >= 0), got " + describe(element));
      continue;
    }
    selection.trials.push_back(*element.value<int64_t>());
  }
  return selection;
}

// ---- The whole schema -----------------------------------------------------------------

Config read_config(const toml::table& document, Diagnostics& diagnostics) {
  const Config d = default_config();
  Config c = d;
  TableReader root(&document, "", diagnostics);

  c.model = root.required_string("model");
  c.model_commit = root.optional_string("model_commit");
  c.dtypes = root.string_list("dtypes", d.dtypes, false);
  const std::vector<std::string> dtype_names = {"auto", "float16", "bfloat16", "float32"};
  // Spellings people use for the torch dtype names.
  const std::map<std::string, std::string> dtype_aliases = {
      {"fp16", "float16"}, {"half", "float16"}, {"f16", "float16"}, {"bf16", "bfloat16"},
      {"fp32", "float32"}, {"float", "float32"}, {"f32", "float32"}};
  for (size_t i = 0; i < c.dtypes.size(); ++i) {
    if (std::find(dtype_names.begin(), dtype_names.end(), c.dtypes[i]) == dtype_names.end()) {
      const auto alias = dtype_aliases.find(c.dtypes[i]);
      const std::string hint = alias != dtype_aliases.end() ? " (did you mean '" + alias->second + "'?)"
                                                             : did_you_mean(c.dtypes[i], dtype_names);
      diagnostics.error("dtypes[" + std::to_string(i) + "]", root.node("dtypes"),
                        "'" + c.dtypes[i] + "' is not one of " + quoted_list(dtype_names) + hint);
    }
  }
  c.quantization = root.choice("quantization", d.quantization, {"none"},
                               {{"bnb_4bit", "is not supported: bitsandbytes exists only for Python; "
                                             "use a bfloat16 or float16 model"}});
  c.device_map = root.choice("device_map", d.device_map, {"auto", "cpu", "cuda"});
  c.offload_outputs_to_cpu = root.boolean("offload_outputs_to_cpu", d.offload_outputs_to_cpu);
  c.batch_size = root.integer("batch_size", d.batch_size, 0, kMaxCount);
  c.max_batch_size = root.integer("max_batch_size", d.max_batch_size, 1, kMaxCount);
  c.max_response_length = root.integer("max_response_length", d.max_response_length, 1, kMaxCount);
  c.response_prefix = root.optional_string("response_prefix");
  c.chain_of_thought_skips = read_cot_skips(root, diagnostics, d);
  c.print_debug_information = root.boolean("print_debug_information", d.print_debug_information);
  c.print_residual_geometry = root.boolean("print_residual_geometry", d.print_residual_geometry);
  c.orthogonalize_direction = root.boolean("orthogonalize_direction", d.orthogonalize_direction);
  const std::string row_normalization = root.choice("row_normalization", "full", {"none", "pre", "full"});
  c.row_normalization = row_normalization == "none"  ? RowNormalization::kNone
                        : row_normalization == "pre" ? RowNormalization::kPre
                                                     : RowNormalization::kFull;
  c.winsorization_quantile = root.number("winsorization_quantile", d.winsorization_quantile, 0.0, 1.0);
  c.n_trials = root.integer("n_trials", d.n_trials, 1, kMaxCount);
  c.n_startup_trials = root.integer("n_startup_trials", d.n_startup_trials, 0, kMaxCount);
  if (root.has("n_startup_trials") || root.has("n_trials")) {
    if (c.n_startup_trials > c.n_trials) {
      const std::string key = root.has("n_startup_trials") ? "n_startup_trials" : "n_trials";
      diagnostics.error(key, root.node(key),
                        "n_startup_trials (" + std::to_string(c.n_startup_trials) + ") must not exceed n_trials (" +
                            std::to_string(c.n_trials) + ")");
    }
  }
  if (auto seed = root.optional_integer("seed", 0, 4294967295LL)) c.seed = static_cast<uint32_t>(*seed);
  read_max_shard_size(root, diagnostics, c);
  c.system_prompt = root.string("system_prompt", d.system_prompt);
  c.good_prompts = read_dataset(root.sub_table("good_prompts"), d.good_prompts);
  c.bad_prompts = read_dataset(root.sub_table("bad_prompts"), d.bad_prompts);

  std::vector<ScorerEntry> entries = read_scorer_list(root, diagnostics);
  read_scorer_settings(root, entries, diagnostics);
  c.scorers.clear();
  for (const auto& entry : entries) c.scorers.push_back(entry.config);
  if (!entries.empty() && std::none_of(c.scorers.begin(), c.scorers.end(), [](const ScorerConfig& s) {
        return s.optimization != Optimization::kNone;
      })) {
    diagnostics.error("scorers", root.node("scorers"), "at least one scorer must have optimization \"minimize\" or \"maximize\"");
  } else if (root.has("scorers") && entries.empty() && root.node("scorers")->is_array()) {
    diagnostics.error("scorers", root.node("scorers"), "must not be empty");
  }

  TableReader space = root.sub_table("search_space");
  auto range = [&](const char* name, double& low, double& high, double min, double max) {
    const std::string low_key = std::string(name) + "_min", high_key = std::string(name) + "_max";
    low = space.number(low_key, low, min, max);
    high = space.number(high_key, high, min, max);
    if (low > high) {
      const std::string key = space.has(low_key) ? low_key : high_key;
      diagnostics.error(space.dotted_in_source(key), space.node(key),
                        low_key + " (" + format_number(low) + ") must not exceed " + high_key + " (" +
                            format_number(high) + ")");
    }
  };
  c.search_space = d.search_space;
  range("direction_index", c.search_space.direction_index_min, c.search_space.direction_index_max, 0.0, 1.0);
  range("attention_max_weight", c.search_space.attention_max_weight_min, c.search_space.attention_max_weight_max,
        -10.0, 10.0);
  range("mlp_max_weight", c.search_space.mlp_max_weight_min, c.search_space.mlp_max_weight_max, -10.0, 10.0);
  range("max_weight_position", c.search_space.max_weight_position_min, c.search_space.max_weight_position_max, 0.0,
        1.0);
  c.search_space.min_weight_distance_max =
      space.number("min_weight_distance_max", d.search_space.min_weight_distance_max, 0.0, 1.0);

  TableReader mpi = root.sub_table("mpi");
  c.mpi.ranks_per_trial = static_cast<int>(mpi.integer("ranks_per_trial", d.mpi.ranks_per_trial, 1, 1'000'000));
  c.mpi.tensor_parallel = static_cast<int>(mpi.integer("tensor_parallel", d.mpi.tensor_parallel, 1, 1'000'000));
  c.mpi.pipeline_stages = static_cast<int>(mpi.integer("pipeline_stages", d.mpi.pipeline_stages, 1, 1'000'000));
  c.mpi.pipeline_micro_batches = static_cast<int>(
      mpi.optional_integer("pipeline_micro_batches", 1, 1'000'000).value_or(c.mpi.pipeline_stages));
  const std::string backend = mpi.choice("backend", "auto", {"auto", "mpi", "nccl"});
  c.mpi.backend = backend == "mpi" ? CommBackend::kMpi : backend == "nccl" ? CommBackend::kNccl : CommBackend::kAuto;
  c.mpi.stop_grace_seconds = mpi.number("stop_grace_seconds", d.mpi.stop_grace_seconds, 0.0, 1e9);
  const std::string memory = mpi.string("memory_per_rank", "auto");
  if (memory == "auto") {
    c.mpi.memory_per_rank = 0;
  } else if (memory == "off") {
    c.mpi.memory_per_rank = -1;
  } else if (const auto bytes = parse_byte_size(memory)) {
    c.mpi.memory_per_rank = *bytes;
  } else {
    diagnostics.error(mpi.dotted_in_source("memory_per_rank"), mpi.node("memory_per_rank"),
                      "expected \"auto\", \"off\" or a size such as \"80GiB\", got \"" + memory + "\"");
  }

  TableReader output = root.sub_table("output");
  c.output.dir = output.string("dir", d.output.dir);
  if (c.output.dir.empty()) diagnostics.error(output.dotted_in_source("dir"), output.node("dir"), "must not be empty");
  c.output.export_trials = read_export(output, diagnostics);
  c.output.export_format =
      output.choice("export_format", "merged", {"merged", "lora"}) == "lora" ? ExportFormat::kLora : ExportFormat::kMerged;
  c.output.lora_rank = output.integer("lora_rank", d.output.lora_rank, 1, 4096);
  c.output.per_prompt_residuals = output.boolean("per_prompt_residuals", d.output.per_prompt_residuals);
  c.output.memory_warning = output.number("memory_warning", d.output.memory_warning, 0.01, 1.0);

  read_not_applicable(root);
  // Sections last: their keys are then known for cross-section suggestions at the top level.
  space.finish();
  mpi.finish();
  output.finish();
  root.finish();
  return c;
}

// ---- --set overrides ----------------------------------------------------------------------

toml::table dataset_table(const DatasetSpec& spec) {
  toml::table table;
  table.insert("dataset", spec.dataset);
  if (spec.split) table.insert("split", *spec.split);
  if (spec.column) table.insert("column", *spec.column);
  return table;
}

// A --set into a prompt table that the file does not have changes one key of the default
// specification (a table written in the file would replace the default whole).
toml::table default_table_for(const std::string& dotted) {
  const Config d = default_config();
  if (dotted == "good_prompts") return dataset_table(d.good_prompts);
  if (dotted == "bad_prompts") return dataset_table(d.bad_prompts);
  // scorer.<Class>.prompts and scorer.<Class>_<instance>.prompts: the plug-in's default prompts.
  const std::string prefix = "scorer.", suffix = ".prompts";
  if (dotted.size() > prefix.size() + suffix.size() && dotted.compare(0, prefix.size(), prefix) == 0 &&
      dotted.compare(dotted.size() - suffix.size(), suffix.size(), suffix) == 0) {
    const std::string table = dotted.substr(prefix.size(), dotted.size() - prefix.size() - suffix.size());
    for (const eval::ScorerPlugin& plugin : eval::scorer_plugins()) {
      if (table == plugin.class_name || table.rfind(plugin.class_name + "_", 0) == 0) {
        return dataset_table(plugin.default_prompts);
      }
    }
  }
  return toml::table{};
}

void apply_override(toml::table& document, const std::string& assignment, Diagnostics& diagnostics) {
  const std::string where = "--set " + assignment;
  const size_t equals = assignment.find('=');
  if (equals == std::string::npos || equals == 0) {
    throw ConfigError({where + ": expected key=value, e.g. --set n_trials=50"});
  }
  std::string key = assignment.substr(0, equals);
  const std::string value_text = assignment.substr(equals + 1);
  static const std::regex key_syntax(R"(^[A-Za-z0-9_\-]+(\.[A-Za-z0-9_\-]+)*$)");
  if (!std::regex_match(key, key_syntax)) {
    throw ConfigError({where + ": '" + key + "' is not a dotted key such as n_trials or mpi.ranks_per_trial"});
  }
  // The value is TOML ("50", "true", "[\"a\"]", "\"x\""); anything that does not parse as
  // TOML is taken as a bare string, so that --set model=org/name works unquoted.
  toml::table parsed;
  try {
    parsed = toml::parse("value = " + value_text);
  } catch (const toml::parse_error&) {
    parsed = toml::table{};
    parsed.insert("value", value_text);
  }
  toml::table* target = &document;
  std::string walked;
  size_t start = 0;
  for (;;) {
    const size_t dot = key.find('.', start);
    const std::string part = key.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    walked += (walked.empty() ? "" : ".") + part;
    if (dot == std::string::npos) {
      target->insert_or_assign(part, std::move(*parsed.get("value")));
      break;
    }
    toml::node* next = target->get(part);
    if (next == nullptr) {
      target->insert(part, default_table_for(walked));
      next = target->get(part);
    } else if (!next->is_table()) {
      throw ConfigError({where + ": cannot set a key inside '" + walked + "', which is " + describe(*next)});
    }
    target = next->as_table();
    start = dot + 1;
  }
  diagnostics.mark_override(key, where);
}

LoadedConfig finish_parse(toml::table& document, Diagnostics& diagnostics,
                          const std::vector<std::string>& overrides) {
  for (const auto& assignment : overrides) apply_override(document, assignment, diagnostics);
  LoadedConfig loaded;
  loaded.config = read_config(document, diagnostics);
  if (!diagnostics.errors().empty()) throw ConfigError(diagnostics.errors());
  loaded.warnings = diagnostics.warnings();
  return loaded;
}

}  // namespace

ConfigError::ConfigError(const std::vector<std::string>& problems)
    : InputError(join_lines(problems)), problems_(problems) {}

LoadedConfig parse_config(const std::string& text, const std::string& label,
                          const std::vector<std::string>& overrides) {
  toml::table document;
  try {
    document = toml::parse(text, label);
  } catch (const toml::parse_error& e) {
    throw ConfigError({label + ":" + std::to_string(e.source().begin.line) + ":" +
                       std::to_string(e.source().begin.column) + ": invalid TOML: " + std::string(e.description())});
  }
  Diagnostics diagnostics(label);
  return finish_parse(document, diagnostics, overrides);
}

LoadedConfig load_config(const std::string& path, const std::vector<std::string>& overrides) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(path, ec)) throw ConfigError({path + ": configuration file not found"});
  if (fs::is_directory(path, ec)) throw ConfigError({path + ": is a directory, expected a TOML configuration file"});
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError({path + ": cannot be read (permissions?)"});
  std::ostringstream text;
  text << in.rdbuf();
  return parse_config(text.str(), path, overrides);
}

}  // namespace heretic::config
