// UTF-8 and Unicode helpers shared by the tokenizer components: decoding code points,
// lossy repair of invalid UTF-8 (the same U+FFFD substitution as Rust's from_utf8_lossy),
// Unicode normalization forms through utf8proc, and the GPT-2 byte <-> character table used
// by byte-level BPE.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace heretic::hf {

// Appends the UTF-8 encoding of `code_point` (a Unicode scalar value) to `out`.
void append_utf8(std::string& out, char32_t code_point);

// Length in bytes of the UTF-8 sequence that starts with `lead`, for valid UTF-8 only.
inline size_t utf8_sequence_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if (lead < 0xE0) return 2;
  if (lead < 0xF0) return 3;
  return 4;
}

// Decodes the code point that starts at byte `pos` of valid UTF-8 `text` and advances `pos`.
char32_t next_code_point(std::string_view text, size_t& pos);

// True when `text` is well-formed UTF-8 (no overlongs, surrogates or values above U+10FFFF).
bool is_valid_utf8(std::string_view text);

// Returns `text` with every ill-formed subsequence replaced by U+FFFD, one per maximal
// subpart (Unicode §3.9, as Rust's String::from_utf8_lossy and the WHATWG decoder do).
std::string repair_utf8(std::string_view text);

enum class NormalizationForm { kNFC, kNFD, kNFKC, kNFKD };

// Unicode normalization of valid UTF-8 through utf8proc. ASCII input is returned unchanged.
std::string normalize_unicode(std::string_view text, NormalizationForm form);

// Unicode lower case, one code point at a time (utf8proc simple case mapping).
std::string lowercase_unicode(std::string_view text);

// The White_Space property as Rust's char::is_whitespace sees it (U+180E excluded).
bool is_unicode_whitespace(char32_t c);

// Rust's char::is_numeric: general categories Nd, Nl and No.
bool is_unicode_numeric(char32_t c);

// Rust regex's \w: letters, marks, decimal digits, connector punctuation, joiners.
bool is_unicode_word_char(char32_t c);

// GPT-2's reversible byte -> printable character table (bytes_to_unicode): printable
// Latin-1 bytes map to themselves, the other 68 bytes to U+0100.. in byte order.
class ByteLevelAlphabet {
 public:
  static const ByteLevelAlphabet& instance();

  // UTF-8 of the character that stands for `byte`.
  const std::string& char_for_byte(unsigned char byte) const { return byte_to_char_[byte]; }
  // The byte a character stands for, or -1 when the character is not in the alphabet.
  int byte_for_char(char32_t c) const { return c < byte_of_char_.size() ? byte_of_char_[c] : -1; }
  // Maps every byte of `text` to its character.
  std::string encode(std::string_view text) const;

 private:
  ByteLevelAlphabet();
  std::array<std::string, 256> byte_to_char_;
  std::array<int16_t, 324> byte_of_char_;  // indexed by code point; 0x143 is the largest used
};

}  // namespace heretic::hf
