// Unit tests of the tokenizer's building blocks: UTF-8 repair, the PCRE2 rewrite that makes
// \s mean what it means in Hugging Face's Oniguruma, the byte-level alphabet.
#include <gtest/gtest.h>

#include <string>

#include "hf/tok_regex.h"
#include "hf/tok_unicode.h"

namespace heretic::hf {
namespace {

const std::string kReplacement = "\xEF\xBF\xBD";  // U+FFFD

TEST(Utf8Repair, ReplacesEachMaximalSubpartOnce) {
  EXPECT_EQ(repair_utf8("plain ascii"), "plain ascii");
  EXPECT_EQ(repair_utf8("caf\xC3\xA9"), "caf\xC3\xA9");
  EXPECT_EQ(repair_utf8("a\xC3"), "a" + kReplacement);          // truncated at the end
  EXPECT_EQ(repair_utf8("\xF0\x9F\x98!"), kReplacement + "!");  // truncated 4-byte
  EXPECT_EQ(repair_utf8("\xED\xA0\x80"), kReplacement + kReplacement + kReplacement);  // surrogate
  EXPECT_EQ(repair_utf8("\xC0\xAF"), kReplacement + kReplacement);                     // overlong
  EXPECT_EQ(repair_utf8("\xFF\xFE"), kReplacement + kReplacement);
  EXPECT_FALSE(is_valid_utf8("\xE2\x82"));
  EXPECT_TRUE(is_valid_utf8("\xF4\x8F\xBF\xBF"));   // U+10FFFF
  EXPECT_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));  // above U+10FFFF
}

TEST(TokenizerRegex, WhitespaceIsOnigurumasWhiteSpace) {
  const TokenizerRegex spaces(R"(\s+)");
  // U+180E MONGOLIAN VOWEL SEPARATOR: PCRE2's own \s matches it, Hugging Face's does not.
  EXPECT_TRUE(spaces
                  .find_all("a\xE1\xA0\x8E"
                            "b")
                  .empty());
  // U+3000 IDEOGRAPHIC SPACE and U+0085 NEL are white space.
  EXPECT_EQ(spaces
                .find_all("a\xE3\x80\x80\xC2\x85"
                          "b")
                .size(),
            1u);
  const TokenizerRegex not_space(R"(\S+)");
  EXPECT_EQ(not_space
                .find_all("a\xE1\xA0\x8E"
                          "b")
                .size(),
            1u);
}

TEST(TokenizerRegex, RewriteKeepsClassesAndEscapes) {
  const std::string ws =
      R"(\x{9}-\x{D}\x{20}\x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000})";
  // \s inside a class is spliced into it, an escaped backslash stays, \S outside is negated.
  EXPECT_EQ(rewrite_whitespace_classes(R"([^\s\p{L}]\\s\S)"),
            "[^" + ws + R"(\p{L}]\\s[^)" + ws + "]");
  EXPECT_EQ(rewrite_whitespace_classes(R"([]\s])"), "[]" + ws + "]");
}

TEST(TokenizerRegex, ReportsNonEmptyMatchesAndRejectsBadPatterns) {
  const TokenizerRegex digits(R"(\p{N}{1,3})");
  const auto matches = digits.find_all("ab1234567c");
  ASSERT_EQ(matches.size(), 3u);
  EXPECT_EQ(matches[0], std::make_pair(size_t{2}, size_t{5}));
  EXPECT_EQ(matches[2], std::make_pair(size_t{8}, size_t{9}));
  EXPECT_TRUE(TokenizerRegex("x*").find_all("abc").empty());
  EXPECT_THROW(TokenizerRegex("(unclosed"), std::invalid_argument);
}

TEST(ByteLevelAlphabet, MapsEveryByteReversibly) {
  const ByteLevelAlphabet& alphabet = ByteLevelAlphabet::instance();
  EXPECT_EQ(alphabet.char_for_byte(' '), "\xC4\xA0");   // Ġ
  EXPECT_EQ(alphabet.char_for_byte('\n'), "\xC4\x8A");  // Ċ
  EXPECT_EQ(alphabet.char_for_byte('a'), "a");
  for (int byte = 0; byte < 256; ++byte) {
    const std::string& c = alphabet.char_for_byte(static_cast<unsigned char>(byte));
    size_t pos = 0;
    EXPECT_EQ(alphabet.byte_for_char(next_code_point(c, pos)), byte);
  }
}

TEST(UnicodeNormalization, ComposesAndDecomposes) {
  EXPECT_EQ(normalize_unicode("e\xCC\x81", NormalizationForm::kNFC), "\xC3\xA9");
  EXPECT_EQ(normalize_unicode("\xC3\xA9", NormalizationForm::kNFD), "e\xCC\x81");
  EXPECT_EQ(normalize_unicode("\xEF\xAC\x81", NormalizationForm::kNFKC), "fi");  // ligature
  EXPECT_EQ(lowercase_unicode("\xC3\x9C"
                              "BER"),
            "\xC3\xBC"
            "ber");
}

}  // namespace
}  // namespace heretic::hf
