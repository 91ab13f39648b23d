// Keyword refusal detection and response-prefix detection (torch-free), against the behaviour
// of Heretic's KeywordRate._is_match and its prefix detection in main.py (expected values were
// produced with Python 3.11's str methods).
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "eval/scorer_registry.h"
#include "eval/refusal_markers.h"
#include "eval/response_prefix.h"

namespace heretic::eval {
namespace {

// Heretic's 33 markers, as the KeywordRate scorer declares them (one list in the project).
const std::vector<std::string>& default_markers() {
  static const std::vector<std::string> markers =
      default_settings(find_scorer_plugin("KeywordRate")->settings).string_list("keyword_markers");
  return markers;
}

TEST(NormalizeResponse, DeletesAsterisksAndMapsTypographicApostrophes) {
  EXPECT_EQ(normalize_response("I *will not* do that"), "i will not do that");
  EXPECT_EQ(normalize_response("I won\u2019t"), "i won't");
  EXPECT_EQ(normalize_response("**Sorr*y**"), "sorry");
}

TEST(NormalizeResponse, CollapsesEveryWhitespaceRunAsPythonSplitDoes) {
  EXPECT_EQ(normalize_response("  Hello\t\n  World  "), "hello world");
  // No-break space, ideographic space, information separator U+001C, NEL, line separator.
  EXPECT_EQ(normalize_response("\u00a0a\u3000b\x1c"), "a b");
  EXPECT_EQ(normalize_response("x\u0085y\u2028z"), "x y z");
  // A zero-width space is not white space for Python.
  EXPECT_EQ(normalize_response("a\u200bb"), "a\u200bb");
  EXPECT_EQ(normalize_response(" \t\n"), "");
}

TEST(NormalizeResponse, LowercasesNonAsciiAsPythonStrLower) {
  EXPECT_EQ(normalize_response("ÄÖÜ ÉCOLE"), "äöü école");
  EXPECT_EQ(normalize_response("İstanbul"), "i\u0307stanbul");  // full mapping: i + combining dot
  // Final sigma: at the end of a word (also before a case-ignorable '.'), not inside one.
  EXPECT_EQ(normalize_response("ΟΔΥΣΣΕΥΣ"), "οδυσσευς");
  EXPECT_EQ(normalize_response("ΑΣ."), "ας.");
  EXPECT_EQ(normalize_response("ΣΑ Σ. ΑΣ'Α"), "σα σ. ασ'α");
}

TEST(NormalizeResponse, KeepsIllFormedBytesInsteadOfThrowing) { EXPECT_EQ(normalize_response("A\xff B"), "a\xff b"); }

TEST(RefusalMatcher, MatchesHeretics33DefaultMarkers) {
  ASSERT_EQ(default_markers().size(), 33u);
  const RefusalMatcher matcher(default_markers());
  EXPECT_TRUE(matcher.is_refusal("I am sorry, but I can not help with that."));
  EXPECT_TRUE(matcher.is_refusal("I\u2019M UNABLE to do that"));
  EXPECT_TRUE(matcher.is_refusal("I  CAN\u2019T"));
  EXPECT_TRUE(matcher.is_refusal("That would be *il*legal."));
  EXPECT_TRUE(matcher.is_refusal("i am\n\n   unable"));
  EXPECT_FALSE(matcher.is_refusal("Sure! Here is a recipe for pancakes."));
  EXPECT_FALSE(matcher.is_refusal("I can help with that."));  // "i can'" needs the apostrophe
}

TEST(RefusalMatcher, EmptyOrWhitespaceOnlyResponsesAreRefusals) {
  const RefusalMatcher matcher(default_markers());
  EXPECT_TRUE(matcher.is_refusal(""));
  EXPECT_TRUE(matcher.is_refusal("   \n\t"));
  EXPECT_TRUE(matcher.is_refusal("\u3000\u00a0"));
  // Heretic checks emptiness before deleting '*': a response of asterisks is not empty.
  EXPECT_FALSE(matcher.is_refusal("**"));
}

TEST(RefusalMatcher, ContainsMarkerIsFalseForTextWithoutAMarkerYet) {
  const RefusalMatcher matcher(default_markers());
  EXPECT_FALSE(matcher.contains_marker(""));
  EXPECT_FALSE(matcher.contains_marker("i am"));
  EXPECT_TRUE(matcher.contains_marker("i am sor*ry"));
}

TEST(RefusalMatcher, MarkersAreLowercasedIncludingNonAscii) {
  const RefusalMatcher matcher({"ÜBEL", "Nope"});
  EXPECT_TRUE(matcher.is_refusal("Das ist ÜBEL"));
  EXPECT_TRUE(matcher.is_refusal("nope."));
  EXPECT_FALSE(matcher.is_refusal("ubel"));
}

TEST(LongestCommonPrefix, IsByteWiseButNeverEndsInsideACharacter) {
  EXPECT_EQ(longest_common_prefix({}), "");
  EXPECT_EQ(longest_common_prefix({"abc"}), "abc");
  EXPECT_EQ(longest_common_prefix({"abcd", "abxy", "abc"}), "ab");
  EXPECT_EQ(longest_common_prefix({"abc", ""}), "");
  // "é" = C3 A9 and "ê" = C3 AA share their lead byte: it must not be part of the prefix.
  EXPECT_EQ(longest_common_prefix({"caf\u00e9", "caf\u00ea"}), "caf");
  // "€" = E2 82 AC and "₭" = E2 82 AD share two bytes.
  EXPECT_EQ(longest_common_prefix({"x\u20ac", "x\u20ad", "x\u20ac!"}), "x");
  EXPECT_EQ(longest_common_prefix({"caf\u00e9!", "caf\u00e9?"}), "caf\u00e9");
}

// A fake model: the responses to the detection prompts for each prefix appended to them.
class FakeResponder {
 public:
  explicit FakeResponder(std::vector<std::pair<std::string, std::vector<std::string>>> answers)
      : answers_(std::move(answers)) {}
  std::vector<std::string> operator()(const std::string& prefix) {
    asked.push_back(prefix);
    for (const auto& [key, responses] : answers_) {
      if (key == prefix) return responses;
    }
    ADD_FAILURE() << "unexpected prefix " << prefix;
    return {};
  }
  std::vector<std::string> asked;

 private:
  std::vector<std::pair<std::string, std::vector<std::string>>> answers_;
};

const std::vector<std::pair<std::string, std::string>> kSkips = {
    {"<think>", "<think></think>"},
    {"<|channel|>analysis<|message|>",
     "<|channel|>analysis<|message|><|end|><|start|>assistant<|channel|>final<|message|>"}};

TEST(DetectResponsePrefix, NoCommonPrefixMeansNone) {
  FakeResponder respond({{"", {"Sure! Pancakes need", "I am sorry, but", "Sure, here"}}});
  EXPECT_EQ(detect_response_prefix(std::ref(respond), kSkips), "");
  EXPECT_EQ(respond.asked, std::vector<std::string>({""}));
}

TEST(DetectResponsePrefix, StripsTrailingSpacesOnly) {
  FakeResponder spaces({{"", {"Answer: yes  ", "Answer: no"}}});
  EXPECT_EQ(detect_response_prefix(std::ref(spaces), kSkips), "Answer:");
  FakeResponder newline({{"", {"Answer:\n\nyes", "Answer:\n\nno"}}});
  EXPECT_EQ(detect_response_prefix(std::ref(newline), kSkips), "Answer:\n\n");
}

TEST(DetectResponsePrefix, ThinkingBlockIsClosedAndTheSecondCommonPrefixAppended) {
  FakeResponder respond(
      {{"", {"<think>\nThe user wants", "<think>\nHmm"}}, {"<think></think>", {"\n\nSure, here", "\n\nI am sorry"}}});
  EXPECT_EQ(detect_response_prefix(std::ref(respond), kSkips), "<think></think>\n\n");
  EXPECT_EQ(respond.asked, std::vector<std::string>({"", "<think></think>"}));
}

TEST(DetectResponsePrefix, ClosedBlockAloneWhenTheSecondRoundSharesNothing) {
  FakeResponder respond({{"", {"<think>a", "<think>b"}}, {"<think></think>", {"x", "y"}}});
  EXPECT_EQ(detect_response_prefix(std::ref(respond), kSkips), "<think></think>");
}

TEST(DetectResponsePrefix, FirstMatchingPairWins) {
  const std::vector<std::pair<std::string, std::string>> skips = {{"<th", "<th>FIRST"}, {"<think>", "<think></think>"}};
  FakeResponder respond({{"", {"<think>x", "<think>y"}}, {"<th>FIRST", {" ok", " fine"}}});
  // The second round's common prefix " " is stripped to nothing.
  EXPECT_EQ(detect_response_prefix(std::ref(respond), skips), "<th>FIRST");
  EXPECT_EQ(respond.asked, std::vector<std::string>({"", "<th>FIRST"}));
}

TEST(DetectResponsePrefix, WithoutSkipPairsTheCommonPrefixIsKept) {
  FakeResponder respond({{"", {"<think>\nThe user", "<think>\nHmm"}}});
  EXPECT_EQ(detect_response_prefix(std::ref(respond), {}), "<think>\n");
  EXPECT_EQ(respond.asked.size(), 1u);
}

}  // namespace
}  // namespace heretic::eval
