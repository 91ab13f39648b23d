#include "hf/chat_template.h"

#include <fstream>
#include <iomanip>
#include <locale>
#include <sstream>

#include "common/error.h"
#include "common/json_input.h"
#include "hf/jinja_json.h"

namespace heretic::hf {

namespace {

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path.string() + ": cannot be read");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string token_content(const nlohmann::ordered_json& token) {
  if (token.is_string()) return token.get<std::string>();
  if (token.is_object() && token.contains("content") && token["content"].is_string()) {
    return token["content"].get<std::string>();
  }
  return "";
}

std::string select_template(const nlohmann::ordered_json& value, const std::string& wanted, const std::string& file) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_array()) {
    std::string names;
    for (const auto& entry : value) {
      if (!entry.is_object() || !entry.contains("name") || !entry.contains("template")) continue;
      const std::string name = entry["name"].is_string() ? entry["name"].get<std::string>() : "";
      if (name == wanted && entry["template"].is_string()) return entry["template"].get<std::string>();
      names += (names.empty() ? "" : ", ") + name;
    }
    throw InputError(file + ": key \"chat_template\" has no template named \"" + wanted + "\" (it has: " + names + ")");
  }
  throw InputError(file + ": key \"chat_template\" must be a string or a list of {name, template}");
}

std::tm local_now() {
  const std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  return local;
}

}  // namespace

nlohmann::ordered_json special_tokens_from_config(const nlohmann::ordered_json& config) {
  nlohmann::ordered_json tokens = nlohmann::ordered_json::object();
  if (!config.is_object()) return tokens;
  for (const char* key : {"bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"}) {
    if (!config.contains(key) || config[key].is_null()) continue;
    const std::string content = token_content(config[key]);
    if (!content.empty()) tokens[key] = content;
  }
  if (config.contains("additional_special_tokens") && config["additional_special_tokens"].is_array()) {
    nlohmann::ordered_json extra = nlohmann::ordered_json::array();
    for (const auto& token : config["additional_special_tokens"]) extra.push_back(token_content(token));
    tokens["additional_special_tokens"] = extra;
  }
  return tokens;
}

ChatTemplate ChatTemplate::from_folder(const std::filesystem::path& folder, ChatTemplateOptions options) {
  const auto config_path = folder / "tokenizer_config.json";
  nlohmann::ordered_json config = nlohmann::ordered_json::object();
  if (std::filesystem::exists(config_path)) {
    config = parse_json_input<nlohmann::ordered_json>(read_text(config_path), config_path.string());
  }
  const nlohmann::ordered_json special = special_tokens_from_config(config);
  const auto jinja_path = folder / "chat_template.jinja";
  if (std::filesystem::exists(jinja_path)) {
    return ChatTemplate(read_text(jinja_path), jinja_path.string(), special, std::move(options));
  }
  if (config.is_object() && config.contains("chat_template") && !config["chat_template"].is_null()) {
    const std::string source = select_template(config["chat_template"], options.template_name, config_path.string());
    return ChatTemplate(source, config_path.string() + " \"chat_template\"", special, std::move(options));
  }
  throw InputError(folder.string() +
                   ": no chat template (neither chat_template.jinja nor "
                   "tokenizer_config.json key \"chat_template\")");
}

ChatTemplate::ChatTemplate(const std::string& source, std::string source_name, nlohmann::ordered_json special_tokens,
                           ChatTemplateOptions options)
    : source_(source),
      template_(source, std::move(source_name), options.limits),
      special_tokens_(std::move(special_tokens)),
      options_(std::move(options)) {}

std::string ChatTemplate::render(const nlohmann::ordered_json& messages, bool add_generation_prompt,
                                 const nlohmann::ordered_json& extra_vars) const {
  if (!messages.is_array()) {
    throw InputError(template_.source_name() + ": messages must be a JSON array of {role, content}");
  }
  jinja::Dict vars;
  vars.set("messages", jinja::from_json(messages));
  vars.set("tools", jinja::Value::none());
  vars.set("documents", jinja::Value::none());
  vars.set("add_generation_prompt", jinja::Value::boolean(add_generation_prompt));
  for (auto it = special_tokens_.begin(); it != special_tokens_.end(); ++it) {
    vars.set(it.key(), jinja::from_json(it.value()));
  }
  if (extra_vars.is_object()) {
    for (auto it = extra_vars.begin(); it != extra_vars.end(); ++it) {
      vars.set(it.key(), jinja::from_json(it.value()));
    }
  }
  vars.set("raise_exception",
           jinja::Value::callable("raise_exception", [](const jinja::CallArgs& args) -> jinja::Value {
             std::string message;
             if (!args.positional.empty()) message = jinja::to_str(args.positional[0], 1 << 20);
             throw jinja::JinjaError(jinja::ErrorKind::kTemplate, message);
           }));
  const auto clock = options_.clock ? options_.clock : std::function<std::tm()>(local_now);
  vars.set("strftime_now", jinja::Value::callable("strftime_now", [clock](const jinja::CallArgs& args) {
             if (args.positional.size() != 1 || !args.positional[0].is_string()) {
               throw jinja::JinjaError(jinja::ErrorKind::kType, "strftime_now() takes one format string");
             }
             const std::tm now = clock();
             const std::string& format = args.positional[0].as_string();
             // put_time is strftime with the "C" locale here, as Python's datetime.strftime
             // behaves in a process that never called setlocale.
             std::ostringstream text;
             text.imbue(std::locale::classic());
             text << std::put_time(&now, format.c_str());
             return jinja::Value::string(text.str());
           }));
  return template_.render(vars);
}

}  // namespace heretic::hf
