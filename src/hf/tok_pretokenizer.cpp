#include "hf/tok_pretokenizer.h"

#include <algorithm>
#include <utility>

#include "hf/tok_pattern.h"
#include "hf/tok_unicode.h"

namespace heretic::hf {

namespace {

using Range = std::pair<size_t, size_t>;

// How a match is kept relative to its neighbours (tokenizers' SplitDelimiterBehavior).
enum class Delimiter { kRemoved, kIsolated, kMergedWithPrevious, kMergedWithNext, kContiguous };

struct Span {
  Range range;
  bool is_match;
};

// Splits `text` at `matches` following `behavior` (with the match flags inverted first when
// `invert`), and returns the kept byte ranges in order. Mirrors NormalizedString::split.
std::vector<Range> split_at_matches(size_t length, const std::vector<Range>& matches,
                                    Delimiter behavior, bool invert) {
  std::vector<Span> spans;
  size_t previous = 0;
  for (const Range& match : matches) {
    if (match.first > previous) spans.push_back({{previous, match.first}, false});
    spans.push_back({match, true});
    previous = match.second;
  }
  if (previous < length) spans.push_back({{previous, length}, false});
  if (invert) {
    for (Span& span : spans) span.is_match = !span.is_match;
  }

  std::vector<Range> kept;
  switch (behavior) {
    case Delimiter::kRemoved:
      for (const Span& span : spans) {
        if (!span.is_match) kept.push_back(span.range);
      }
      break;
    case Delimiter::kIsolated:
      for (const Span& span : spans) kept.push_back(span.range);
      break;
    case Delimiter::kMergedWithPrevious: {
      bool previous_match = false;
      for (const Span& span : spans) {
        if (span.is_match && !previous_match && !kept.empty()) {
          kept.back().second = span.range.second;
        } else {
          kept.push_back(span.range);
        }
        previous_match = span.is_match;
      }
      break;
    }
    case Delimiter::kMergedWithNext: {
      bool previous_match = false;  // walking backwards: "previous" is the span to the right
      for (auto it = spans.rbegin(); it != spans.rend(); ++it) {
        if (it->is_match && !previous_match && !kept.empty()) {
          kept.back().first = it->range.first;
        } else {
          kept.push_back(it->range);
        }
        previous_match = it->is_match;
      }
      std::reverse(kept.begin(), kept.end());
      break;
    }
    case Delimiter::kContiguous: {
      bool previous_match = false;
      bool first = true;
      for (const Span& span : spans) {
        if (!first && span.is_match == previous_match) {
          kept.back().second = span.range.second;
        } else {
          kept.push_back(span.range);
        }
        previous_match = span.is_match;
        first = false;
      }
      break;
    }
  }
  return kept;
}

// Applies `split` to every piece: it maps a piece's text to the ranges to keep.
template <typename SplitFn>
void split_pieces(std::vector<PreToken>& pieces, SplitFn&& split) {
  std::vector<PreToken> out;
  out.reserve(pieces.size());
  for (PreToken& piece : pieces) {
    const std::vector<Range> ranges = split(piece.text);
    bool first = true;
    for (const Range& range : ranges) {
      if (range.second > range.first) {
        out.push_back({piece.text.substr(range.first, range.second - range.first),
                       piece.at_input_start && first && range.first == 0});
      }
      first = false;
    }
  }
  pieces = std::move(out);
}

Delimiter parse_delimiter(const JsonNode& node) {
  const std::string name = node.string("behavior");
  if (name == "Removed") return Delimiter::kRemoved;
  if (name == "Isolated") return Delimiter::kIsolated;
  if (name == "MergedWithPrevious") return Delimiter::kMergedWithPrevious;
  if (name == "MergedWithNext") return Delimiter::kMergedWithNext;
  if (name == "Contiguous") return Delimiter::kContiguous;
  node.at("behavior").fail("unknown split behavior '" + name + "'");
}

class SplitPreTokenizer final : public PreTokenizer {
 public:
  explicit SplitPreTokenizer(const JsonNode& node)
      : pattern_(node.at("pattern")),
        behavior_(parse_delimiter(node)),
        invert_(node.boolean_or("invert", false)) {}
  void pre_tokenize(std::vector<PreToken>& pieces) const override {
    split_pieces(pieces, [&](const std::string& text) {
      return split_at_matches(text.size(), pattern_.find_all(text), behavior_, invert_);
    });
  }

 private:
  TextPattern pattern_;
  Delimiter behavior_;
  bool invert_;
};

// GPT-2's pre-tokenization regex, used by ByteLevel when use_regex is true.
constexpr const char* kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

class ByteLevelPreTokenizer final : public PreTokenizer {
 public:
  explicit ByteLevelPreTokenizer(const JsonNode& node)
      : add_prefix_space_(node.boolean_or("add_prefix_space", true)) {
    if (node.boolean_or("use_regex", true)) regex_ = std::make_unique<TokenizerRegex>(kGpt2Pattern);
  }
  void pre_tokenize(std::vector<PreToken>& pieces) const override {
    if (add_prefix_space_) {
      for (PreToken& piece : pieces) {
        if (piece.text.empty() || piece.text[0] != ' ') piece.text.insert(0, " ");
      }
    }
    if (regex_) {
      split_pieces(pieces, [&](const std::string& text) {
        return split_at_matches(text.size(), regex_->find_all(text), Delimiter::kIsolated, false);
      });
    }
    const ByteLevelAlphabet& alphabet = ByteLevelAlphabet::instance();
    for (PreToken& piece : pieces) piece.text = alphabet.encode(piece.text);
  }

 private:
  bool add_prefix_space_;
  std::unique_ptr<TokenizerRegex> regex_;
};

// Metaspace: spaces become the replacement character (usually "▁"), a prefix is added
// according to prepend_scheme, and the text is split before each replacement character.
class MetaspacePreTokenizer final : public PreTokenizer {
 public:
  enum class Prepend { kAlways, kFirst, kNever };
  explicit MetaspacePreTokenizer(const JsonNode& node)
      : replacement_(node.string_or("replacement", "\xE2\x96\x81")),
        split_(node.boolean_or("split", true)) {
    if (node.has("prepend_scheme")) {
      const std::string scheme = node.string("prepend_scheme");
      if (scheme == "always") {
        prepend_ = Prepend::kAlways;
      } else if (scheme == "first") {
        prepend_ = Prepend::kFirst;
      } else if (scheme == "never") {
        prepend_ = Prepend::kNever;
      } else {
        node.at("prepend_scheme").fail("unknown prepend_scheme '" + scheme + "'");
      }
    } else {
      // Files written before prepend_scheme existed carry add_prefix_space instead.
      prepend_ = node.boolean_or("add_prefix_space", true) ? Prepend::kAlways : Prepend::kNever;
    }
  }
  void pre_tokenize(std::vector<PreToken>& pieces) const override {
    for (PreToken& piece : pieces) {
      std::string replaced;
      replaced.reserve(piece.text.size());
      for (const char ch : piece.text) {
        if (ch == ' ') {
          replaced += replacement_;
        } else {
          replaced += ch;
        }
      }
      const bool starts_with_replacement =
          replaced.compare(0, replacement_.size(), replacement_) == 0;
      const bool prepend =
          prepend_ == Prepend::kAlways || (prepend_ == Prepend::kFirst && piece.at_input_start);
      if (prepend && !starts_with_replacement) replaced.insert(0, replacement_);
      piece.text = std::move(replaced);
    }
    if (!split_) return;
    split_pieces(pieces, [&](const std::string& text) {
      std::vector<Range> matches;
      for (size_t found = text.find(replacement_); found != std::string::npos;
           found = text.find(replacement_, found + replacement_.size())) {
        matches.emplace_back(found, found + replacement_.size());
      }
      return split_at_matches(text.size(), matches, Delimiter::kMergedWithNext, false);
    });
  }

 private:
  std::string replacement_;
  bool split_;
  Prepend prepend_ = Prepend::kAlways;
};

// Ranges of maximal runs of characters for which `in_class` holds, or of single characters
// when `single` is true.
template <typename Predicate>
std::vector<Range> character_runs(const std::string& text, Predicate in_class, bool single) {
  std::vector<Range> runs;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t start = pos;
    const char32_t c = next_code_point(text, pos);
    if (!in_class(c)) continue;
    if (!single && !runs.empty() && runs.back().second == start) {
      runs.back().second = pos;
    } else {
      runs.emplace_back(start, pos);
    }
  }
  return runs;
}

class DigitsPreTokenizer final : public PreTokenizer {
 public:
  explicit DigitsPreTokenizer(const JsonNode& node)
      : individual_(node.boolean_or("individual_digits", false)) {}
  void pre_tokenize(std::vector<PreToken>& pieces) const override {
    split_pieces(pieces, [&](const std::string& text) {
      const auto digits = character_runs(text, is_unicode_numeric, individual_);
      return split_at_matches(text.size(), digits,
                              individual_ ? Delimiter::kIsolated : Delimiter::kContiguous, false);
    });
  }

 private:
  bool individual_;
};

// WhitespaceSplit: pieces separated by White_Space, which is dropped.
class WhitespaceSplitPreTokenizer final : public PreTokenizer {
 public:
  void pre_tokenize(std::vector<PreToken>& pieces) const override {
    split_pieces(pieces, [&](const std::string& text) {
      const auto spaces = character_runs(text, is_unicode_whitespace, false);
      return split_at_matches(text.size(), spaces, Delimiter::kRemoved, false);
    });
  }
};

// Whitespace: the pieces matched by \w+|[^\w\s]+ (everything else is dropped).
class WhitespacePreTokenizer final : public PreTokenizer {
 public:
  WhitespacePreTokenizer() : regex_(R"(\w+|[^\w\s]+)") {}
  void pre_tokenize(std::vector<PreToken>& pieces) const override {
    split_pieces(pieces, [&](const std::string& text) {
      return split_at_matches(text.size(), regex_.find_all(text), Delimiter::kRemoved, true);
    });
  }

 private:
  TokenizerRegex regex_;
};

class SequencePreTokenizer final : public PreTokenizer {
 public:
  explicit SequencePreTokenizer(std::vector<std::unique_ptr<PreTokenizer>> steps)
      : steps_(std::move(steps)) {}
  void pre_tokenize(std::vector<PreToken>& pieces) const override {
    for (const auto& step : steps_) step->pre_tokenize(pieces);
  }

 private:
  std::vector<std::unique_ptr<PreTokenizer>> steps_;
};

}  // namespace

std::unique_ptr<PreTokenizer> make_pre_tokenizer(const JsonNode& node) {
  const std::string type = node.type();
  if (type == "Split") return std::make_unique<SplitPreTokenizer>(node);
  if (type == "ByteLevel") return std::make_unique<ByteLevelPreTokenizer>(node);
  if (type == "Metaspace") return std::make_unique<MetaspacePreTokenizer>(node);
  if (type == "Digits") return std::make_unique<DigitsPreTokenizer>(node);
  if (type == "WhitespaceSplit") return std::make_unique<WhitespaceSplitPreTokenizer>();
  if (type == "Whitespace") return std::make_unique<WhitespacePreTokenizer>();
  if (type == "Sequence") {
    const JsonNode list = node.at("pretokenizers");
    std::vector<std::unique_ptr<PreTokenizer>> steps;
    for (size_t i = 0; i < list.size(); ++i) steps.push_back(make_pre_tokenizer(list.at(i)));
    return std::make_unique<SequencePreTokenizer>(std::move(steps));
  }
  node.unsupported("pre_tokenizer");
}

}  // namespace heretic::hf
