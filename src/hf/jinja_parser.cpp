#include "hf/jinja_parser.h"

#include <set>

#include "hf/jinja_error.h"
#include "hf/jinja_expression_parser.h"
#include "hf/jinja_lexer.h"
#include "hf/jinja_token_stream.h"

namespace heretic::hf::jinja {

namespace {

// Statement half of the parser: template data, {{ }} and the block tags
// if/for/set/macro/break/continue/filter/generation.
class StatementParser {
 public:
  StatementParser(std::vector<Token> tokens, std::string source_name, int max_depth)
      : s_(std::move(tokens), std::move(source_name), max_depth), expr_(s_) {}

  Body parse_all() {
    std::string end_tag;
    return parse_body({}, &end_tag);
  }

 private:
  // Parses until a block tag named in end_tags; leaves the position after its name and
  // stores that name in *end_tag. At top level (end_tags empty) it stops at the end.
  Body parse_body(const std::set<std::string>& end_tags, std::string* end_tag) {
    TokenStream::DepthGuard guard(s_);
    Body body;
    while (true) {
      const Token& t = s_.current();
      if (t.type == TokenType::kEnd) {
        if (!end_tags.empty()) {
          std::string wanted;
          for (const auto& tag : end_tags) wanted += (wanted.empty() ? "'" : " or '") + tag + "'";
          s_.fail("unexpected end of template; Jinja was looking for " + wanted);
        }
        return body;
      }
      if (t.type == TokenType::kText) {
        auto s = std::make_unique<Stmt>();
        s->kind = Stmt::Kind::kText;
        s->line = t.line;
        s->text = t.text;
        body.push_back(std::move(s));
        s_.advance(1);
      } else if (t.type == TokenType::kVariableBegin) {
        s_.advance(1);
        auto s = std::make_unique<Stmt>();
        s->kind = Stmt::Kind::kOutput;
        s->line = t.line;
        s->expr = expr_.parse_tuple(true);
        s_.expect(TokenType::kVariableEnd, "end of print statement '}}'");
        body.push_back(std::move(s));
      } else if (t.type == TokenType::kBlockBegin) {
        const Token& tag = s_.peek();
        if (tag.type != TokenType::kName) {
          s_.advance(1);
          s_.fail("expected a tag name after '{%', got " + TokenStream::describe(s_.current()));
        }
        if (end_tags.count(tag.text) != 0) {
          s_.advance(2);
          *end_tag = tag.text;
          return body;
        }
        s_.advance(1);
        body.push_back(parse_statement());
      } else {
        s_.fail("unexpected " + TokenStream::describe(t));
      }
    }
  }

  StmtPtr parse_statement() {
    const Token tag = s_.next();
    auto s = std::make_unique<Stmt>();
    s->line = tag.line;
    const std::string& name = tag.text;
    if (name == "if") return parse_if(std::move(s));
    if (name == "for") return parse_for(std::move(s));
    if (name == "set") return parse_set(std::move(s));
    if (name == "macro") return parse_macro(std::move(s));
    if (name == "break" || name == "continue") {
      if (loop_depth_ == 0) s_.fail("'" + name + "' outside of a for loop");
      s->kind = name == "break" ? Stmt::Kind::kBreak : Stmt::Kind::kContinue;
      s_.expect(TokenType::kBlockEnd, "'%}'");
      return s;
    }
    if (name == "generation") {
      s->kind = Stmt::Kind::kScope;
      s_.expect(TokenType::kBlockEnd, "'%}'");
      s->body = parse_block_until("endgeneration");
      return s;
    }
    if (name == "filter") {
      s->kind = Stmt::Kind::kFilterBlock;
      s->expr = expr_.parse_filter_chain(make_expr(Expr::Kind::kLiteral, tag.line));
      s_.expect(TokenType::kBlockEnd, "'%}'");
      s->body = parse_block_until("endfilter");
      return s;
    }
    s_.back();
    s_.fail("encountered unknown or unsupported tag '" + name + "'");
  }

  Body parse_block_until(const std::string& end) {
    std::string found;
    Body body = parse_body({end}, &found);
    s_.expect(TokenType::kBlockEnd, "'%}'");
    return body;
  }

  StmtPtr parse_if(StmtPtr s) {
    s->kind = Stmt::Kind::kIf;
    ExprPtr condition = expr_.parse_tuple(false);
    while (true) {
      s_.expect(TokenType::kBlockEnd, "'%}'");
      std::string end;
      Body body = parse_body({"elif", "else", "endif"}, &end);
      s->branches.emplace_back(std::move(condition), std::move(body));
      if (end == "elif") {
        condition = expr_.parse_tuple(false);
        continue;
      }
      if (end == "else") {
        s_.expect(TokenType::kBlockEnd, "'%}'");
        s->else_body = parse_block_until("endif");
      } else {
        s_.expect(TokenType::kBlockEnd, "'%}'");
      }
      return s;
    }
  }

  std::vector<std::string> parse_assign_targets() {
    std::vector<std::string> targets;
    const bool parenthesized = s_.skip_op("(");
    targets.push_back(s_.expect_name());
    while (s_.skip_op(",")) {
      if (s_.current().type != TokenType::kName) break;
      targets.push_back(s_.expect_name());
    }
    if (parenthesized) s_.expect_op(")");
    return targets;
  }

  StmtPtr parse_for(StmtPtr s) {
    s->kind = Stmt::Kind::kFor;
    s->targets = parse_assign_targets();
    if (!s_.skip_name("in")) s_.fail("expected 'in' in for loop, got " + TokenStream::describe(s_.current()));
    s->expr = expr_.parse_tuple(false, /*stop_at_if=*/true);
    if (s_.skip_name("if")) s->filter = expr_.parse_tuple(false);
    if (s_.is_name("recursive")) s_.fail("recursive for loops are not supported");
    s_.expect(TokenType::kBlockEnd, "'%}'");
    ++loop_depth_;
    std::string end;
    s->body = parse_body({"else", "endfor"}, &end);
    --loop_depth_;
    s_.expect(TokenType::kBlockEnd, "'%}'");
    if (end == "else") s->else_body = parse_block_until("endfor");
    return s;
  }

  StmtPtr parse_set(StmtPtr s) {
    s->kind = Stmt::Kind::kSet;
    if (s_.current().type == TokenType::kName && s_.peek().type == TokenType::kOperator && s_.peek().text == ".") {
      s->targets.push_back(s_.next().text);
      s_.advance(1);
      s->attribute = s_.expect_name();
    } else {
      s->targets = parse_assign_targets();
    }
    if (s_.skip_op("=")) {
      s->expr = expr_.parse_tuple(true);
      s_.expect(TokenType::kBlockEnd, "'%}'");
      return s;
    }
    if (s->targets.size() != 1 || !s->attribute.empty()) s_.fail("expected '=' in set statement");
    s->kind = Stmt::Kind::kSetBlock;
    if (s_.is_op("|")) s->filter = expr_.parse_filter_chain(make_expr(Expr::Kind::kLiteral, s->line));
    s_.expect(TokenType::kBlockEnd, "'%}'");
    s->body = parse_block_until("endset");
    return s;
  }

  StmtPtr parse_macro(StmtPtr s) {
    s->kind = Stmt::Kind::kMacro;
    s->name = s_.expect_name();
    s_.expect_op("(");
    while (!s_.is_op(")")) {
      if (!s->params.empty()) s_.expect_op(",");
      if (s_.is_op(")")) break;
      MacroParam param;
      param.name = s_.expect_name();
      if (s_.skip_op("=")) {
        param.default_value = expr_.parse_expression(true);
      } else if (!s->params.empty() && s->params.back().default_value) {
        s_.fail("non-default argument follows default argument");
      }
      s->params.push_back(std::move(param));
    }
    s_.expect_op(")");
    s_.expect(TokenType::kBlockEnd, "'%}'");
    const int saved_loop_depth = loop_depth_;
    loop_depth_ = 0;
    s->body = parse_block_until("endmacro");
    loop_depth_ = saved_loop_depth;
    return s;
  }

  TokenStream s_;
  ExpressionParser expr_;
  int loop_depth_ = 0;
};

}  // namespace

Body parse_template(const std::string& source, const std::string& source_name, int max_depth) {
  return StatementParser(tokenize(source, source_name), source_name, max_depth).parse_all();
}

}  // namespace heretic::hf::jinja
