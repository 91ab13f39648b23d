// Jinja2 lexer with transformers' settings: trim_blocks, lstrip_blocks, "-" and "+"
// whitespace control, newline normalisation, and keep_trailing_newline=False. Whitespace
// rules are applied here, so the parser sees text tokens exactly as they will be printed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace heretic::hf::jinja {

enum class TokenType {
  kText,           // template data between tags
  kVariableBegin,  // {{
  kVariableEnd,    // }}
  kBlockBegin,     // {%
  kBlockEnd,       // %}
  kName,
  kString,    // text holds the decoded value
  kInteger,   // int_value
  kFloat,     // float_value
  kOperator,  // text holds the operator: + - * / // % ** ~ == != < > <= >= = . , : | ( ) [ ] { }
  kEnd,
};

struct Token {
  TokenType type = TokenType::kEnd;
  std::string text;
  int line = 1;
  int64_t int_value = 0;
  double float_value = 0.0;
};

// Throws JinjaError(kSyntax) naming source_name and the line.
std::vector<Token> tokenize(const std::string& source, const std::string& source_name);

}  // namespace heretic::hf::jinja
