#include "config/print.h"

#include <charconv>
#include <cstdio>
#include <sstream>

#include "common/fnv_hash.h"
#include "eval/scorer_registry.h"

namespace heretic::config {
namespace {

std::string toml_float(double value) {
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);  // shortest round-trip form
  std::string text(buffer, result.ptr);
  if (text.find_first_of(".eni") == std::string::npos) text += ".0";
  return text;
}

std::string toml_string_list(const std::vector<std::string>& values, const std::string& indent) {
  if (values.empty()) return "[]";
  std::string text = "[\n";
  for (const auto& value : values) text += indent + "    " + toml_string(value) + ",\n";
  return text + indent + "]";
}

std::string toml_value(const eval::SettingValue& value) {
  if (const auto* b = std::get_if<bool>(&value)) return *b ? "true" : "false";
  if (const auto* i = std::get_if<int64_t>(&value)) return std::to_string(*i);
  if (const auto* d = std::get_if<double>(&value)) return toml_float(*d);
  if (const auto* text = std::get_if<std::string>(&value)) return toml_string(*text);
  return toml_string_list(std::get<std::vector<std::string>>(value), "");
}

std::string optional_line(const std::string& key, const std::optional<std::string>& value, const char* unset_note) {
  if (value) return key + " = " + toml_string(*value) + "\n";
  return "# " + key + " is unset (" + unset_note + ")\n";
}

void print_dataset(std::ostringstream& out, const std::string& table, const DatasetSpec& spec) {
  out << "\n[" << table << "]\n";
  out << "dataset = " << toml_string(spec.dataset) << "\n";
  out << optional_line("commit", spec.commit, "latest cached revision");
  out << optional_line("split", spec.split, "all rows");
  out << optional_line("column", spec.column, "none; required for datasets other than text files");
  out << "prefix = " << toml_string(spec.prefix) << "\n";
  out << "suffix = " << toml_string(spec.suffix) << "\n";
  out << optional_line("system_prompt", spec.system_prompt, "the global system_prompt");
}

}  // namespace

std::string toml_string(const std::string& text) {
  std::string out = "\"";
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\t': out += "\\t"; break;
      case '\n': out += "\\n"; break;
      case '\f': out += "\\f"; break;
      case '\r': out += "\\r"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char escape[8];
          std::snprintf(escape, sizeof escape, "\\u%04X", c);
          out += escape;
        } else {
          out += ch;  // UTF-8 passes through
        }
    }
  }
  return out + "\"";
}

std::string to_toml(const Config& c) {
  std::ostringstream out;
  out << "# Effective configuration (heretic-mpi --print-config)\n";
  out << "model = " << toml_string(c.model) << "\n";
  out << optional_line("model_commit", c.model_commit, "the cached 'main' revision");
  out << "dtypes = " << toml_string_list(c.dtypes, "") << "\n";
  out << "quantization = " << toml_string(c.quantization) << "\n";
  out << "device_map = " << toml_string(c.device_map) << "\n";
  out << "offload_outputs_to_cpu = " << (c.offload_outputs_to_cpu ? "true" : "false") << "\n";
  out << "batch_size = " << c.batch_size << "\n";
  out << "max_batch_size = " << c.max_batch_size << "\n";
  out << "max_response_length = " << c.max_response_length << "\n";
  out << optional_line("response_prefix", c.response_prefix, "detected automatically");
  out << "chain_of_thought_skips = [\n";
  for (const auto& [initializer, closed] : c.chain_of_thought_skips) {
    out << "    [" << toml_string(initializer) << ", " << toml_string(closed) << "],\n";
  }
  out << "]\n";
  out << "print_debug_information = " << (c.print_debug_information ? "true" : "false") << "\n";
  out << "print_residual_geometry = " << (c.print_residual_geometry ? "true" : "false") << "\n";
  out << "scorers = [\n";
  for (const auto& scorer : c.scorers) {
    out << "    { plugin = " << toml_string(scorer.plugin)
        << ", optimization = " << toml_string(to_string(scorer.optimization));
    if (scorer.instance_name) out << ", instance_name = " << toml_string(*scorer.instance_name);
    out << " },\n";
  }
  out << "]\n";
  out << "orthogonalize_direction = " << (c.orthogonalize_direction ? "true" : "false") << "\n";
  out << "row_normalization = " << toml_string(to_string(c.row_normalization)) << "\n";
  out << "winsorization_quantile = " << toml_float(c.winsorization_quantile) << "\n";
  out << "n_trials = " << c.n_trials << "\n";
  out << "n_startup_trials = " << c.n_startup_trials << "\n";
  if (c.seed) {
    out << "seed = " << *c.seed << "\n";
  } else {
    out << "# seed is unset (drawn at random and recorded in the journal)\n";
  }
  // An integer stays an integer, so that the text parses back to the same value.
  const bool numeric_size = !c.max_shard_size.empty() &&
                            c.max_shard_size.find_first_not_of("0123456789") == std::string::npos;
  out << "max_shard_size = " << (numeric_size ? c.max_shard_size : toml_string(c.max_shard_size)) << "\n";
  out << "system_prompt = " << toml_string(c.system_prompt) << "\n";

  print_dataset(out, "good_prompts", c.good_prompts);
  print_dataset(out, "bad_prompts", c.bad_prompts);

  for (const auto& scorer : c.scorers) {
    const std::string table = "scorer." + scorer.table_name();
    if (!scorer.settings.values().empty()) {
      out << "\n[" << table << "]\n";
      // In the order the plug-in declares them.
      const eval::ScorerPlugin* plugin = eval::find_scorer_plugin(scorer.class_name);
      for (const eval::SettingSpec& spec : plugin ? plugin->settings : std::vector<eval::SettingSpec>{}) {
        const auto it = scorer.settings.values().find(spec.key);
        if (it != scorer.settings.values().end()) out << spec.key << " = " << toml_value(it->second) << "\n";
      }
    }
    print_dataset(out, table + ".prompts", scorer.prompts);
  }

  out << "\n[search_space]\n";
  const SearchSpaceConfig& s = c.search_space;
  out << "direction_index_min = " << toml_float(s.direction_index_min) << "\n";
  out << "direction_index_max = " << toml_float(s.direction_index_max) << "\n";
  out << "attention_max_weight_min = " << toml_float(s.attention_max_weight_min) << "\n";
  out << "attention_max_weight_max = " << toml_float(s.attention_max_weight_max) << "\n";
  out << "mlp_max_weight_min = " << toml_float(s.mlp_max_weight_min) << "\n";
  out << "mlp_max_weight_max = " << toml_float(s.mlp_max_weight_max) << "\n";
  out << "max_weight_position_min = " << toml_float(s.max_weight_position_min) << "\n";
  out << "max_weight_position_max = " << toml_float(s.max_weight_position_max) << "\n";
  out << "min_weight_distance_max = " << toml_float(s.min_weight_distance_max) << "\n";

  out << "\n[mpi]\n";
  out << "ranks_per_trial = " << c.mpi.ranks_per_trial << "\n";
  out << "tensor_parallel = " << c.mpi.tensor_parallel << "\n";
  out << "pipeline_stages = " << c.mpi.pipeline_stages << "\n";
  out << "pipeline_micro_batches = " << c.mpi.pipeline_micro_batches << "\n";
  out << "backend = " << toml_string(to_string(c.mpi.backend)) << "\n";
  out << "stop_grace_seconds = " << toml_float(c.mpi.stop_grace_seconds) << "\n";
  out << "memory_per_rank = "
      << toml_string(c.mpi.memory_per_rank == 0    ? std::string("auto")
                     : c.mpi.memory_per_rank < 0 ? std::string("off")
                                                 : std::to_string(c.mpi.memory_per_rank))
      << "\n";

  out << "\n[output]\n";
  out << "dir = " << toml_string(c.output.dir) << "\n";
  switch (c.output.export_trials.kind) {
    case ExportSelection::Kind::kNone: out << "export = \"none\"\n"; break;
    case ExportSelection::Kind::kPareto: out << "export = \"pareto\"\n"; break;
    case ExportSelection::Kind::kTrials: {
      out << "export = [";
      for (size_t i = 0; i < c.output.export_trials.trials.size(); ++i) {
        out << (i ? ", " : "") << c.output.export_trials.trials[i];
      }
      out << "]\n";
      break;
    }
  }
  out << "export_format = " << toml_string(c.output.export_format == ExportFormat::kLora ? "lora" : "merged") << "\n";
  out << "lora_rank = " << c.output.lora_rank << "\n";
  out << "per_prompt_residuals = " << (c.output.per_prompt_residuals ? "true" : "false") << "\n";
  out << "memory_warning = " << toml_float(c.output.memory_warning) << "\n";
  return out.str();
}

std::string config_fingerprint(const Config& config) {
  const std::string text = to_toml(config);
  return fnv1a_hex(text.data(), text.size());
}

}  // namespace heretic::config
