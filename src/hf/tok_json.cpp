#include "hf/tok_json.h"

#include <fstream>
#include <sstream>

#include "common/error.h"
#include "common/json_input.h"

namespace heretic::hf {

nlohmann::json read_json_file(const std::filesystem::path& path) {
  std::ifstream stream(path, std::ios::binary);
  if (!stream) throw InputError(path.string() + ": cannot open file");
  std::ostringstream buffer;
  buffer << stream.rdbuf();
  return parse_json_input(buffer.str(), path.string());
}

bool JsonNode::has(const char* name) const {
  if (!value_->is_object() || !value_->contains(name)) return false;
  return !value_->at(name).is_null();
}

JsonNode JsonNode::at(const char* name) const {
  if (!has(name)) fail(std::string("missing key '") + name + "'");
  return JsonNode(value_->at(name), file_, key_.empty() ? name : key_ + "." + name);
}

JsonNode JsonNode::at(size_t index) const {
  if (!value_->is_array() || index >= value_->size()) {
    fail("expected an array with an element " + std::to_string(index));
  }
  return JsonNode((*value_)[index], file_, key_ + "[" + std::to_string(index) + "]");
}

size_t JsonNode::size() const {
  if (!value_->is_array()) fail("expected an array");
  return value_->size();
}

std::string JsonNode::string(const char* name) const {
  const JsonNode member = at(name);
  if (!member.value().is_string()) member.fail("expected a string");
  return member.value().get<std::string>();
}

std::string JsonNode::string_or(const char* name, const std::string& fallback) const {
  return has(name) ? string(name) : fallback;
}

bool JsonNode::boolean_or(const char* name, bool fallback) const {
  if (!has(name)) return fallback;
  const JsonNode member = at(name);
  if (!member.value().is_boolean()) member.fail("expected true or false");
  return member.value().get<bool>();
}

long long JsonNode::integer(const char* name) const {
  const JsonNode member = at(name);
  if (!member.value().is_number_integer()) member.fail("expected an integer");
  return member.value().get<long long>();
}

void JsonNode::fail(const std::string& message) const {
  throw InputError(file_ + ": " + (key_.empty() ? std::string("(top level)") : key_) + ": " +
                   message);
}

void JsonNode::unsupported(const std::string& what) const {
  std::string type = "?";
  if (value_->is_object() && value_->contains("type") && (*value_)["type"].is_string()) {
    type = (*value_)["type"].get<std::string>();
  }
  fail("unsupported " + what + " '" + type +
       "' (heretic-mpi implements the components used by Qwen, Llama, Gemma, Mistral, "
       "DeepSeek and gpt-oss tokenizers)");
}

}  // namespace heretic::hf
