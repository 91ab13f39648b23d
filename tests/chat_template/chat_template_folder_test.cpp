// Loading a model folder's chat template the way transformers does: chat_template.jinja
// first, else tokenizer_config.json "chat_template" (a string or a named list), with the
// special tokens transformers passes to the template.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "hf/chat_template.h"

namespace heretic::hf {
namespace {

class ModelFolder : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("chat_template_test_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void write(const std::string& name, const std::string& text) { std::ofstream(dir_ / name, std::ios::binary) << text; }
  std::filesystem::path dir_;
};

const nlohmann::ordered_json kMessages = nlohmann::ordered_json::parse(R"([{"role": "user", "content": "Hi"}])");

TEST_F(ModelFolder, StringTemplateWithSpecialTokensFromTheConfig) {
  write("tokenizer_config.json", R"({
    "bos_token": {"content": "<s>", "lstrip": false, "__type": "AddedToken"},
    "eos_token": "</s>", "pad_token": null,
    "chat_template": "{{ bos_token }}{% for m in messages %}[{{ m.role }}]{{ m.content }}{% endfor %}{{ eos_token }}{{ pad_token is defined }}"})");
  const ChatTemplate chat = ChatTemplate::from_folder(dir_);
  EXPECT_EQ(chat.render(kMessages, false), "<s>[user]Hi</s>False");
}

TEST_F(ModelFolder, ChatTemplateJinjaFileWinsOverTheConfig) {
  write("tokenizer_config.json", R"({"eos_token": "E", "chat_template": "from config"})");
  write("chat_template.jinja", "from file {{ eos_token }}{% if add_generation_prompt %}>{% endif %}\n");
  EXPECT_EQ(ChatTemplate::from_folder(dir_).render(kMessages, true), "from file E>");
}

TEST_F(ModelFolder, NamedTemplateListPicksDefaultOrTheRequestedName) {
  write("tokenizer_config.json", R"({"chat_template": [
    {"name": "tool_use", "template": "tools: {{ tools|length }}"},
    {"name": "default", "template": "plain {{ tools }}"}]})");
  EXPECT_EQ(ChatTemplate::from_folder(dir_).render(kMessages, false), "plain None");
  ChatTemplateOptions options;
  options.template_name = "tool_use";
  EXPECT_EQ(ChatTemplate::from_folder(dir_, options)
                .render(kMessages, false, {{"tools", nlohmann::ordered_json::array({1, 2})}}),
            "tools: 2");
  options.template_name = "rag";
  EXPECT_THROW(ChatTemplate::from_folder(dir_, options), InputError);
}

TEST_F(ModelFolder, ExtraVariablesReachTheTemplate) {
  write("chat_template.jinja", "{{ enable_thinking }} {{ date_string }} {{ messages|length }}");
  EXPECT_EQ(ChatTemplate::from_folder(dir_).render(kMessages, false,
                                                   {{"enable_thinking", false}, {"date_string", "1 Jan 2025"}}),
            "False 1 Jan 2025 1");
}

TEST_F(ModelFolder, MissingTemplateNamesTheFolder) {
  write("tokenizer_config.json", R"({"eos_token": "</s>"})");
  try {
    ChatTemplate::from_folder(dir_);
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(dir_.string()), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("chat_template"), std::string::npos) << e.what();
  }
}

TEST_F(ModelFolder, BrokenConfigNamesTheFileAndOffset) {
  write("tokenizer_config.json", R"({"chat_template": )");
  try {
    ChatTemplate::from_folder(dir_);
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("tokenizer_config.json"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("byte"), std::string::npos) << e.what();
  }
}

TEST_F(ModelFolder, TemplateErrorsAreInputErrorsWithTheTemplatesMessage) {
  write("chat_template.jinja", "{{ raise_exception('System role not supported') }}");
  try {
    ChatTemplate::from_folder(dir_).render(kMessages, true);
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("System role not supported"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("chat_template.jinja line 1"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace heretic::hf
