#include "common/error.h"
#include "fuzz_input.h"
#include "fuzz_targets.h"
#include "hf/chat_template.h"

namespace heretic::fuzz {
namespace {

using nlohmann::ordered_json;

// A conversation with every kind of message real templates branch on: system, user,
// assistant with reasoning and with tool calls, tool results, plus a tool definition.
const ordered_json& conversation() {
  static const ordered_json messages = ordered_json::parse(R"([
    {"role": "system", "content": "You can call tools."},
    {"role": "user", "content": "Weather in Paris? Caf\u00e9 \ud83d\ude00 <tag> & 'q' \"dq\""},
    {"role": "assistant", "content": "", "tool_calls": [{"id": "call12345", "type": "function",
      "function": {"name": "get_weather", "arguments": {"city": "Paris", "unit": "c"}}}]},
    {"role": "tool", "tool_call_id": "call12345", "name": "get_weather", "content": "{\"temp\": 21}"},
    {"role": "assistant", "content": "<think>\nsimple\n</think>\n\nIt is 21 degrees."},
    {"role": "user", "content": "Thanks"}])");
  return messages;
}

const ordered_json& extra_variables() {
  static const ordered_json extra = ordered_json::parse(R"({"enable_thinking": false, "tools": [
    {"type": "function", "function": {"name": "get_weather", "description": "Get the weather",
     "parameters": {"type": "object", "properties": {
       "city": {"type": "string", "description": "City name"},
       "unit": {"type": "string", "enum": ["c", "f"]}, "days": {"type": "integer", "default": 1}},
     "required": ["city"]}}}]})");
  return extra;
}

}  // namespace

int fuzz_chat_template(const uint8_t* data, size_t size) {
  // The template's own limits bound every render; smaller ones than the defaults keep each
  // input fast, and any input that still runs long shows a cost the step count misses.
  hf::ChatTemplateOptions options;
  options.limits.max_steps = 200'000;
  options.limits.max_output_bytes = size_t{1} << 20;
  options.clock = [] {
    std::tm fixed{};
    fixed.tm_year = 125;
    fixed.tm_mon = 6;
    fixed.tm_mday = 26;
    return fixed;
  };
  const ordered_json special = {{"bos_token", "<s>"}, {"eos_token", "</s>"}, {"pad_token", "<pad>"}};
  const std::string source(reinterpret_cast<const char*>(data), size);
  try {
    const hf::ChatTemplate chat(source, "fuzz.jinja", special, options);
    for (const bool generation_prompt : {true, false}) {
      try {
        const std::string text = chat.render(conversation(), generation_prompt,
                                             generation_prompt ? ordered_json::object() : extra_variables());
        FUZZ_CHECK(text.size() <= options.limits.max_output_bytes, std::to_string(text.size()) + " bytes");
      } catch (const InputError&) {
      }
    }
  } catch (const InputError&) {
  }
  return 0;
}

}  // namespace heretic::fuzz
