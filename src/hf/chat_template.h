// A model's chat template, rendered the way transformers' apply_chat_template renders it:
// template from chat_template.jinja or tokenizer_config.json "chat_template", variables
// messages / tools / documents / add_generation_prompt / the special tokens / extra kwargs,
// globals raise_exception and strftime_now, in the sandboxed Jinja interpreter.
#pragma once

#include <ctime>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "hf/jinja_error.h"
#include "hf/jinja_limits.h"
#include "hf/jinja_template.h"

namespace heretic::hf {

// A template that fails to parse or render: raise_exception(...) in the template, a type
// error, an undefined value, a sandbox limit. An InputError (exit code 2) whose message
// names the template file and line and carries the template's own message.
using ChatTemplateError = jinja::JinjaError;

struct ChatTemplateOptions {
  jinja::Limits limits;
  // The time strftime_now() formats; default: local time now (as transformers does).
  std::function<std::tm()> clock;
  // Which entry of a list-valued "chat_template" to use.
  std::string template_name = "default";
};

class ChatTemplate {
 public:
  // chat_template.jinja if the folder has one, else tokenizer_config.json "chat_template"
  // (a string, or a list of {name, template}). Special tokens come from
  // tokenizer_config.json. Throws InputError naming the file and key.
  static ChatTemplate from_folder(const std::filesystem::path& folder, ChatTemplateOptions options = {});

  // special_tokens: {"bos_token": "<s>", ...} as transformers passes special_tokens_map.
  ChatTemplate(const std::string& source, std::string source_name, nlohmann::ordered_json special_tokens,
               ChatTemplateOptions options = {});

  // messages: a JSON array of {"role", "content", ...}. extra_vars: further template
  // variables (enable_thinking, tools, date_string, ...); "tools" defaults to None.
  std::string render(const nlohmann::ordered_json& messages, bool add_generation_prompt,
                     const nlohmann::ordered_json& extra_vars = nlohmann::ordered_json::object()) const;

  const std::string& source() const { return source_; }
  const nlohmann::ordered_json& special_tokens() const { return special_tokens_; }

 private:
  std::string source_;
  jinja::Template template_;
  nlohmann::ordered_json special_tokens_;
  ChatTemplateOptions options_;
};

// special_tokens_map from a parsed tokenizer_config.json: string values of bos/eos/unk/
// sep/pad/cls/mask (AddedToken objects give their "content"; null keys are left out) and
// additional_special_tokens.
nlohmann::ordered_json special_tokens_from_config(const nlohmann::ordered_json& config);

}  // namespace heretic::hf
