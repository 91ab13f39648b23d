#define PCRE2_CODE_UNIT_WIDTH 8
#include "hf/tok_regex.h"

#include <pcre2.h>

#include <stdexcept>

#include "hf/tok_unicode.h"

namespace heretic::hf {

namespace {

// Unicode White_Space without U+180E, as Oniguruma (and so Hugging Face) defines \s.
constexpr const char* kWhiteSpaceRanges =
    "\\x{9}-\\x{D}\\x{20}\\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}"
    "\\x{202F}\\x{205F}\\x{3000}";

// A JIT stack and match data per thread: PCRE2 objects that must not be shared between
// concurrent matches. The JIT stack grows to 4 MiB, enough for the longest inputs seen.
struct ThreadMatchState {
  pcre2_match_data* match_data = pcre2_match_data_create(1, nullptr);
  pcre2_jit_stack* jit_stack = pcre2_jit_stack_create(32 * 1024, 4 * 1024 * 1024, nullptr);
  pcre2_match_context* context = pcre2_match_context_create(nullptr);
  ThreadMatchState() {
    if (jit_stack != nullptr) pcre2_jit_stack_assign(context, nullptr, jit_stack);
  }
  ~ThreadMatchState() {
    pcre2_match_context_free(context);
    pcre2_jit_stack_free(jit_stack);
    pcre2_match_data_free(match_data);
  }
  ThreadMatchState(const ThreadMatchState&) = delete;
  ThreadMatchState& operator=(const ThreadMatchState&) = delete;
};

ThreadMatchState& thread_match_state() {
  thread_local ThreadMatchState state;
  return state;
}

std::string pcre2_message(int code) {
  PCRE2_UCHAR buffer[256];
  pcre2_get_error_message(code, buffer, sizeof(buffer));
  return reinterpret_cast<const char*>(buffer);
}

}  // namespace

std::string rewrite_whitespace_classes(const std::string& pattern) {
  std::string out;
  out.reserve(pattern.size() + 64);
  bool in_class = false;
  for (size_t i = 0; i < pattern.size(); ++i) {
    const char ch = pattern[i];
    if (ch == '\\' && i + 1 < pattern.size()) {
      const char escaped = pattern[i + 1];
      ++i;
      if (escaped == 's') {
        if (in_class) {
          out += kWhiteSpaceRanges;
        } else {
          out += std::string("[") + kWhiteSpaceRanges + "]";
        }
      } else if (escaped == 'S') {
        if (in_class) {
          // A negated set inside a class has no plain spelling; none of the known patterns
          // needs it, and PCRE2's own \S differs only at U+180E.
          out += "\\S";
        } else {
          out += std::string("[^") + kWhiteSpaceRanges + "]";
        }
      } else {
        out += ch;
        out += escaped;
      }
      continue;
    }
    if (!in_class && ch == '[') {
      in_class = true;
      out += ch;
      // A ']' (or '^]') right after the opening bracket is a literal member.
      if (i + 1 < pattern.size() && pattern[i + 1] == '^') out += pattern[++i];
      if (i + 1 < pattern.size() && pattern[i + 1] == ']') out += pattern[++i];
      continue;
    }
    if (in_class && ch == '[' && i + 1 < pattern.size() && pattern[i + 1] == ':') {
      const size_t close = pattern.find(":]", i + 2);
      if (close != std::string::npos) {
        out.append(pattern, i, close + 2 - i);
        i = close + 1;
        continue;
      }
    }
    if (in_class && ch == ']') in_class = false;
    out += ch;
  }
  return out;
}

std::string escape_regex_literal(std::string_view literal) {
  // \Q...\E quotes everything except a literal "\E", which is spliced in separately.
  std::string out = "\\Q";
  size_t start = 0;
  while (true) {
    const size_t found = literal.find("\\E", start);
    if (found == std::string_view::npos) {
      out.append(literal.substr(start));
      break;
    }
    out.append(literal.substr(start, found - start));
    out += "\\E\\\\E\\Q";
    start = found + 2;
  }
  out += "\\E";
  return out;
}

struct TokenizerRegex::Compiled {
  pcre2_code* code = nullptr;
  bool jit = false;
  ~Compiled() { pcre2_code_free(code); }
};

TokenizerRegex::TokenizerRegex(const std::string& pattern)
    : pattern_(pattern), compiled_(std::make_unique<Compiled>()) {
  const std::string rewritten = rewrite_whitespace_classes(pattern);
  int error_code = 0;
  PCRE2_SIZE error_offset = 0;
  compiled_->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(rewritten.data()), rewritten.size(),
                                  PCRE2_UTF | PCRE2_UCP, &error_code, &error_offset, nullptr);
  if (compiled_->code == nullptr) {
    throw std::invalid_argument("regex does not compile at offset " + std::to_string(error_offset) +
                                ": " + pcre2_message(error_code));
  }
  compiled_->jit = pcre2_jit_compile(compiled_->code, PCRE2_JIT_COMPLETE) == 0;
}

TokenizerRegex::~TokenizerRegex() = default;

std::vector<std::pair<size_t, size_t>> TokenizerRegex::find_all(std::string_view text) const {
  std::vector<std::pair<size_t, size_t>> matches;
  ThreadMatchState& state = thread_match_state();
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  size_t offset = 0;
  while (offset <= text.size()) {
    // The input is valid UTF-8 (the tokenizer repairs it first), so skip PCRE2's check.
    const int rc = compiled_->jit
                       ? pcre2_jit_match(compiled_->code, subject, text.size(), offset,
                                         PCRE2_NO_UTF_CHECK, state.match_data, state.context)
                       : pcre2_match(compiled_->code, subject, text.size(), offset,
                                     PCRE2_NO_UTF_CHECK, state.match_data, state.context);
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc < 0) {
      throw std::runtime_error("regex /" + pattern_ + "/ failed: " + pcre2_message(rc));
    }
    const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(state.match_data);
    const size_t begin = ovector[0];
    const size_t end = ovector[1];
    if (end > begin) {
      matches.emplace_back(begin, end);
      offset = end;
    } else {
      // An empty match produces no piece; step over one character and search on.
      if (begin >= text.size()) break;
      offset = begin + utf8_sequence_length(static_cast<unsigned char>(text[begin]));
    }
  }
  return matches;
}

}  // namespace heretic::hf
