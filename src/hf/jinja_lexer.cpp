#include "hf/jinja_lexer.h"

#include <cctype>
#include <cerrno>
#include <cstdlib>

#include "hf/jinja_error.h"
#include "hf/jinja_string.h"

namespace heretic::hf::jinja {

namespace {

// "\r\n" and "\r" become "\n"; one final newline is dropped (keep_trailing_newline=False).
std::string normalize_newlines(const std::string& source) {
  std::string out;
  out.reserve(source.size());
  for (size_t i = 0; i < source.size(); ++i) {
    if (source[i] == '\r') {
      out.push_back('\n');
      if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
    } else {
      out.push_back(source[i]);
    }
  }
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

bool is_ascii_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
// Python's \s (Unicode white space) from pos on: what "-%}" and "-#}" swallow.
size_t skip_python_space(const std::string& s, size_t pos) {
  while (pos < s.size()) {
    const auto lead = static_cast<unsigned char>(s[pos]);
    const size_t length = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
    const std::u32string cp = decode_utf8(std::string_view(s).substr(pos, length));
    if (cp.size() != 1 || !is_python_space(cp[0])) break;
    pos += length;
  }
  return pos;
}

bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_name_char(char c) { return is_name_start(c) || is_digit(c); }

// Python's str.rstrip() of all whitespace.
std::string rstrip_all(const std::string& text) { return python_strip(text, nullptr, false, true); }

// Python unicode-escape decoding of a string literal's body (non-ASCII kept as it is).
std::string unescape(const std::string& body, const std::string& source_name, int line) {
  std::string out;
  for (size_t i = 0; i < body.size(); ++i) {
    if (body[i] != '\\' || i + 1 == body.size()) {
      out.push_back(body[i]);
      continue;
    }
    const char c = body[++i];
    auto hex_escape = [&](int digits) {
      if (i + static_cast<size_t>(digits) >= body.size()) {
        throw JinjaError(ErrorKind::kSyntax, "truncated \\x/\\u escape in string literal", line, source_name);
      }
      const std::string hex = body.substr(i + 1, static_cast<size_t>(digits));
      for (char h : hex) {
        if (!std::isxdigit(static_cast<unsigned char>(h))) {
          throw JinjaError(ErrorKind::kSyntax, "bad \\x/\\u escape in string literal", line, source_name);
        }
      }
      append_utf8(out, static_cast<char32_t>(std::strtoul(hex.c_str(), nullptr, 16)));
      i += static_cast<size_t>(digits);
    };
    switch (c) {
      case '\n':
        break;  // backslash-newline continues the line
      case '\\':
        out.push_back('\\');
        break;
      case '\'':
        out.push_back('\'');
        break;
      case '"':
        out.push_back('"');
        break;
      case 'a':
        out.push_back('\a');
        break;
      case 'b':
        out.push_back('\b');
        break;
      case 'f':
        out.push_back('\f');
        break;
      case 'n':
        out.push_back('\n');
        break;
      case 'r':
        out.push_back('\r');
        break;
      case 't':
        out.push_back('\t');
        break;
      case 'v':
        out.push_back('\v');
        break;
      case 'x':
        hex_escape(2);
        break;
      case 'u':
        hex_escape(4);
        break;
      case 'U':
        hex_escape(8);
        break;
      default:
        if (c >= '0' && c <= '7') {
          unsigned value = 0;
          size_t n = 0;
          while (n < 3 && i < body.size() && body[i] >= '0' && body[i] <= '7') {
            value = value * 8 + static_cast<unsigned>(body[i] - '0');
            ++i;
            ++n;
          }
          --i;
          append_utf8(out, static_cast<char32_t>(value));
        } else {
          out.push_back('\\');  // unknown escapes stay as written
          out.push_back(c);
        }
    }
  }
  return out;
}

class Lexer {
 public:
  Lexer(const std::string& source, const std::string& source_name)
      : src_(normalize_newlines(source)), name_(source_name) {}

  std::vector<Token> run() {
    while (pos_ < src_.size()) lex_text_and_tag();
    push(TokenType::kEnd, "");
    return std::move(tokens_);
  }

 private:
  [[noreturn]] void fail(const std::string& message) const {
    throw JinjaError(ErrorKind::kSyntax, message, line_, name_);
  }

  void push(TokenType type, std::string text) {
    Token token;
    token.type = type;
    token.text = std::move(text);
    token.line = line_;
    tokens_.push_back(std::move(token));
  }

  void advance_to(size_t new_pos) {
    for (size_t i = pos_; i < new_pos && i < src_.size(); ++i) {
      if (src_[i] == '\n') ++line_;
    }
    pos_ = new_pos;
  }

  void lex_text_and_tag() {
    const size_t start = src_.find('{', pos_);
    size_t tag = std::string::npos;
    for (size_t at = start; at != std::string::npos; at = src_.find('{', at + 1)) {
      if (at + 1 < src_.size() && (src_[at + 1] == '{' || src_[at + 1] == '%' || src_[at + 1] == '#')) {
        tag = at;
        break;
      }
    }
    const bool line_starting = pos_ == 0 || src_[pos_ - 1] == '\n';
    std::string text = src_.substr(pos_, tag == std::string::npos ? std::string::npos : tag - pos_);
    if (tag == std::string::npos) {
      if (!text.empty()) push(TokenType::kText, text);
      advance_to(src_.size());
      return;
    }
    const char kind = src_[tag + 1];
    const char sign = tag + 2 < src_.size() ? src_[tag + 2] : '\0';
    if (sign == '-') {
      text = rstrip_all(text);
    } else if (sign != '+' && kind != '{') {
      // lstrip_blocks: spaces and tabs before a block or comment tag that starts its line.
      const size_t line_begin = text.rfind('\n') == std::string::npos ? 0 : text.rfind('\n') + 1;
      if (line_begin > 0 || line_starting) {
        const bool only_space = line_begin < text.size() &&
                                python_strip(std::string_view(text).substr(line_begin), nullptr, true, true).empty();
        if (only_space) text.resize(line_begin);
      }
    }
    if (!text.empty()) push(TokenType::kText, text);
    advance_to(tag);
    const size_t body = tag + 2 + ((sign == '-' || sign == '+') ? 1 : 0);
    if (kind == '#') {
      lex_comment(body);
    } else {
      push(kind == '{' ? TokenType::kVariableBegin : TokenType::kBlockBegin, kind == '{' ? "{{" : "{%");
      advance_to(body);
      lex_tag_body(kind == '{');
    }
  }

  void lex_comment(size_t body) {
    const size_t end = src_.find("#}", body);
    if (end == std::string::npos) fail("missing end of comment tag");
    size_t after = end + 2;
    const char sign = end > body ? src_[end - 1] : '\0';
    if (sign == '-') {
      after = skip_python_space(src_, after);
    } else if (sign != '+' && after < src_.size() && src_[after] == '\n') {
      ++after;  // trim_blocks
    }
    advance_to(after);
  }

  // Tokens until "}}" or "%}" outside brackets; then the whitespace rules of that end.
  void lex_tag_body(bool is_variable) {
    std::vector<char> brackets;
    while (true) {
      while (pos_ < src_.size() && is_ascii_space(src_[pos_])) advance_to(pos_ + 1);
      if (pos_ >= src_.size())
        fail(is_variable ? "unexpected end of template, expected '}}'" : "unexpected end of template, expected '%}'");
      const char c = src_[pos_];
      if (brackets.empty() && try_lex_end(is_variable)) return;
      if (is_name_start(c)) {
        size_t end = pos_;
        while (end < src_.size() && is_name_char(src_[end])) ++end;
        push(TokenType::kName, src_.substr(pos_, end - pos_));
        advance_to(end);
      } else if (is_digit(c)) {
        lex_number();
      } else if (c == '\'' || c == '"') {
        lex_string(c);
      } else {
        lex_operator(brackets);
      }
    }
  }

  bool try_lex_end(bool is_variable) {
    const std::string closer = is_variable ? "}}" : "%}";
    const char c = src_[pos_];
    size_t after = 0;
    char sign = '\0';
    if ((c == '-' || c == '+') && src_.compare(pos_ + 1, 2, closer) == 0) {
      sign = c;
      after = pos_ + 3;
    } else if (src_.compare(pos_, 2, closer) == 0) {
      after = pos_ + 2;
    } else {
      return false;
    }
    if (sign == '+' && is_variable) return false;
    push(is_variable ? TokenType::kVariableEnd : TokenType::kBlockEnd, closer);
    if (sign == '-') {
      after = skip_python_space(src_, after);
    } else if (!is_variable && sign != '+' && after < src_.size() && src_[after] == '\n') {
      ++after;  // trim_blocks
    }
    advance_to(after);
    return true;
  }

  void lex_number() {
    size_t end = pos_;
    auto digits = [&]() {
      while (end < src_.size() &&
             (is_digit(src_[end]) || (src_[end] == '_' && end + 1 < src_.size() && is_digit(src_[end + 1]))))
        ++end;
    };
    digits();
    bool is_float = false;
    if (end + 1 < src_.size() && src_[end] == '.' && is_digit(src_[end + 1])) {
      is_float = true;
      ++end;
      digits();
    }
    if (end < src_.size() && (src_[end] == 'e' || src_[end] == 'E')) {
      size_t probe = end + 1;
      if (probe < src_.size() && (src_[probe] == '+' || src_[probe] == '-')) ++probe;
      if (probe < src_.size() && is_digit(src_[probe])) {
        is_float = true;
        end = probe;
        digits();
      }
    }
    std::string text;
    for (size_t i = pos_; i < end; ++i) {
      if (src_[i] != '_') text.push_back(src_[i]);
    }
    Token token;
    token.type = is_float ? TokenType::kFloat : TokenType::kInteger;
    token.text = text;
    token.line = line_;
    if (is_float) {
      token.float_value = std::strtod(text.c_str(), nullptr);
    } else {
      errno = 0;
      token.int_value = std::strtoll(text.c_str(), nullptr, 10);
      if (errno == ERANGE) fail("integer literal " + text + " does not fit in 64 bits");
    }
    tokens_.push_back(std::move(token));
    advance_to(end);
  }

  void lex_string(char quote) {
    size_t end = pos_ + 1;
    while (end < src_.size() && src_[end] != quote) {
      end += src_[end] == '\\' ? 2 : 1;
    }
    if (end >= src_.size()) fail("unexpected end of string literal");
    const int line = line_;
    Token token;
    token.type = TokenType::kString;
    token.text = unescape(src_.substr(pos_ + 1, end - pos_ - 1), name_, line);
    token.line = line;
    tokens_.push_back(std::move(token));
    advance_to(end + 1);
  }

  void lex_operator(std::vector<char>& brackets) {
    static const char* const kTwoChar[] = {"//", "**", "==", "!=", ">=", "<="};
    for (const char* op : kTwoChar) {
      if (src_.compare(pos_, 2, op) == 0) {
        push(TokenType::kOperator, op);
        advance_to(pos_ + 2);
        return;
      }
    }
    const char c = src_[pos_];
    static const std::string kOneChar = "+-*/%~<>=.,:|()[]{}";
    if (kOneChar.find(c) == std::string::npos) fail(std::string("unexpected char '") + c + "'");
    if (c == '(' || c == '[' || c == '{') brackets.push_back(c == '(' ? ')' : c == '[' ? ']' : '}');
    if (c == ')' || c == ']' || c == '}') {
      if (brackets.empty() || brackets.back() != c) fail(std::string("unexpected '") + c + "'");
      brackets.pop_back();
    }
    push(TokenType::kOperator, std::string(1, c));
    advance_to(pos_ + 1);
  }

  std::string src_;
  std::string name_;
  size_t pos_ = 0;
  int line_ = 1;
  std::vector<Token> tokens_;
};

}  // namespace

std::vector<Token> tokenize(const std::string& source, const std::string& source_name) {
  return Lexer(source, source_name).run();
}

}  // namespace heretic::hf::jinja
