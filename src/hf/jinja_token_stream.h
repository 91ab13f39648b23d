// The token stream both parsers read: position, look-ahead, expectations with Jinja-like
// messages, and the nesting guard that keeps hostile templates from exhausting the stack.
#pragma once

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "hf/jinja_error.h"
#include "hf/jinja_lexer.h"

namespace heretic::hf::jinja {

class TokenStream {
 public:
  TokenStream(std::vector<Token> tokens, std::string source_name, int max_depth)
      : tokens_(std::move(tokens)), name_(std::move(source_name)), max_depth_(max_depth) {}

  int max_depth() const { return max_depth_; }
  void advance(size_t n) { pos_ = std::min(pos_ + n, tokens_.size() - 1); }
  void back() { --pos_; }

  const Token& current() const { return tokens_[pos_]; }
  const Token& peek(size_t ahead = 1) const { return tokens_[std::min(pos_ + ahead, tokens_.size() - 1)]; }
  Token next() { return tokens_[pos_ < tokens_.size() - 1 ? pos_++ : pos_]; }
  bool is_op(const char* op) const { return current().type == TokenType::kOperator && current().text == op; }
  bool is_name(const char* name) const { return current().type == TokenType::kName && current().text == name; }
  bool skip_op(const char* op) {
    if (!is_op(op)) return false;
    ++pos_;
    return true;
  }
  bool skip_name(const char* name) {
    if (!is_name(name)) return false;
    ++pos_;
    return true;
  }
  [[noreturn]] void fail(const std::string& message) const {
    throw JinjaError(ErrorKind::kSyntax, message, current().line, name_);
  }
  static std::string describe(const Token& t) {
    switch (t.type) {
      case TokenType::kText:
        return "template data";
      case TokenType::kVariableBegin:
        return "'{{'";
      case TokenType::kVariableEnd:
        return "end of print statement";
      case TokenType::kBlockBegin:
        return "'{%'";
      case TokenType::kBlockEnd:
        return "end of statement block";
      case TokenType::kEnd:
        return "end of template";
      case TokenType::kString:
        return "string";
      case TokenType::kInteger:
        return "integer";
      case TokenType::kFloat:
        return "float";
      default:
        return "'" + t.text + "'";
    }
  }
  void expect_op(const char* op) {
    if (!skip_op(op)) fail(std::string("expected '") + op + "', got " + describe(current()));
  }
  void expect(TokenType type, const char* what) {
    if (current().type != type) fail(std::string("expected ") + what + ", got " + describe(current()));
    ++pos_;
  }
  std::string expect_name() {
    if (current().type != TokenType::kName) fail("expected a name, got " + describe(current()));
    return next().text;
  }

  struct DepthGuard {
    explicit DepthGuard(TokenStream& p) : parser(p) {
      if (++parser.depth_ > parser.max_depth_) {
        parser.fail("template nesting deeper than " + std::to_string(parser.max_depth_));
      }
    }
    ~DepthGuard() { --parser.depth_; }
    TokenStream& parser;
  };

 private:
  std::vector<Token> tokens_;
  std::string name_;
  int max_depth_;
  size_t pos_ = 0;
  int depth_ = 0;
};

}  // namespace heretic::hf::jinja
