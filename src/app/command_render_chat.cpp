// `heretic-mpi render-chat`: renders a conversation with a model's chat template, exactly
// the text transformers' apply_chat_template(..., tokenize=False) would produce, so that
// users can see the prompts heretic-mpi feeds their model.
//
//   heretic-mpi render-chat --model DIR --messages chat.json --add-generation-prompt
//   heretic-mpi render-chat --model DIR --messages chat.json --var enable_thinking=false
//
// chat.json is a list of {"role", "content"} messages, or {"messages": [...], "tools": [...]}.
// --var values are JSON when they parse as JSON (false, 3, "x", [..]), else plain strings.
#include <ctime>
#include <cxxopts.hpp>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "app/command.h"
#include "common/error.h"
#include "hf/chat_template.h"
#include "hf/hub_cache.h"

namespace heretic::app {
namespace {

std::filesystem::path chat_model_folder(const std::string& model) {
  if (std::filesystem::is_directory(model)) return model;
  if (hf::is_repo_id(model)) {
    return hf::resolve_hub_snapshot(hf::RepoKind::kModel, model).folder;
  }
  throw InputError("--model " + model + ": no such folder");
}

nlohmann::ordered_json read_messages_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError("--messages " + path + ": cannot be read");
  std::ostringstream text;
  text << in.rdbuf();
  try {
    return nlohmann::ordered_json::parse(text.str());
  } catch (const nlohmann::json::parse_error& e) {
    throw InputError("--messages " + path + ": invalid JSON at byte " + std::to_string(e.byte));
  }
}

// "k=v": v as JSON when it parses (false, 3, "x", {...}), else as a plain string.
void add_variable(nlohmann::ordered_json& vars, const std::string& assignment) {
  const size_t eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0) {
    throw InputError("--var " + assignment + ": expected NAME=VALUE");
  }
  const std::string value = assignment.substr(eq + 1);
  nlohmann::ordered_json parsed = nlohmann::ordered_json::parse(value, nullptr, false);
  vars[assignment.substr(0, eq)] = parsed.is_discarded() ? nlohmann::ordered_json(value) : parsed;
}

std::tm parse_date(const std::string& date) {
  std::tm t{};
  std::istringstream in(date);
  in >> std::get_time(&t, "%Y-%m-%d");
  if (in.fail()) throw InputError("--date " + date + ": expected YYYY-MM-DD");
  const std::time_t seconds = timegm(&t);  // fills the weekday and day of the year
  gmtime_r(&seconds, &t);
  return t;
}

int run_render_chat(int argc, char** argv) {
  cxxopts::Options options(argv[0],
                           "Render a conversation with a model's chat template "
                           "(as transformers' apply_chat_template(tokenize=False))");
  options.add_options()("model", "model folder (or a Hugging Face repo id in the local hub cache)",
                        cxxopts::value<std::string>())(
      "messages", "JSON file: a list of {role, content} messages, or {messages, tools}", cxxopts::value<std::string>())(
      "add-generation-prompt", "end with the header of the assistant's turn")(
      "var", "template variable NAME=VALUE (repeatable), e.g. enable_thinking=false",
      cxxopts::value<std::vector<std::string>>())("date", "the date strftime_now() sees, YYYY-MM-DD (default: today)",
                                                  cxxopts::value<std::string>())(
      "template-name", "entry of a list-valued chat_template to use",
      cxxopts::value<std::string>()->default_value("default"))("h,help", "show this help");
  cxxopts::ParseResult parsed;
  try {
    parsed = options.parse(argc, argv);
  } catch (const cxxopts::exceptions::exception& error) {
    throw InputError(std::string("render-chat: ") + error.what());
  }
  if (parsed.count("help")) {
    std::cout << options.help() << std::endl;
    return 0;
  }
  if (!parsed.count("model")) throw InputError("render-chat: --model is required");
  if (!parsed.count("messages")) throw InputError("render-chat: --messages is required");

  hf::ChatTemplateOptions template_options;
  template_options.template_name = parsed["template-name"].as<std::string>();
  if (parsed.count("date")) {
    const std::tm date = parse_date(parsed["date"].as<std::string>());
    template_options.clock = [date]() { return date; };
  }
  const hf::ChatTemplate chat =
      hf::ChatTemplate::from_folder(chat_model_folder(parsed["model"].as<std::string>()), template_options);

  const std::string messages_path = parsed["messages"].as<std::string>();
  nlohmann::ordered_json input = read_messages_file(messages_path);
  nlohmann::ordered_json vars = nlohmann::ordered_json::object();
  nlohmann::ordered_json messages = input;
  if (input.is_object()) {
    if (!input.contains("messages")) {
      throw InputError("--messages " + messages_path + ": key \"messages\" is missing");
    }
    messages = input["messages"];
    if (input.contains("tools")) vars["tools"] = input["tools"];
  }
  if (!messages.is_array()) {
    throw InputError("--messages " + messages_path + ": expected a list of {role, content} messages");
  }
  if (parsed.count("var")) {
    for (const auto& assignment : parsed["var"].as<std::vector<std::string>>()) add_variable(vars, assignment);
  }
  std::cout << chat.render(messages, parsed.count("add-generation-prompt") > 0, vars);
  std::cout.flush();
  return 0;
}

}  // namespace

HERETIC_REGISTER_COMMAND("render-chat", "render a conversation with a model's chat template", run_render_chat);

}  // namespace heretic::app
