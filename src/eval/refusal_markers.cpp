#include "eval/refusal_markers.h"

#include <utf8proc.h>

#include <algorithm>
#include <iterator>
#include <utility>

namespace heretic::eval {
namespace {

constexpr char32_t kInvalid = 0xFFFFFFFF;  // stands for a byte that starts no valid sequence

// One code point of `text` at `pos`, advancing `pos`; an ill-formed byte is returned as
// kInvalid and copied through unchanged by the caller (decoded responses are valid UTF-8,
// but a marker test must never throw on odd input).
char32_t next_code_point(std::string_view text, size_t& pos) {
  utf8proc_int32_t code_point = 0;
  const utf8proc_ssize_t length = utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(text.data() + pos),
                                                   static_cast<utf8proc_ssize_t>(text.size() - pos), &code_point);
  if (length <= 0) {
    ++pos;
    return kInvalid;
  }
  pos += static_cast<size_t>(length);
  return static_cast<char32_t>(code_point);
}

void append_utf8(std::string& out, char32_t code_point) {
  utf8proc_uint8_t buffer[4];
  const utf8proc_ssize_t length = utf8proc_encode_char(static_cast<utf8proc_int32_t>(code_point), buffer);
  out.append(reinterpret_cast<const char*>(buffer), static_cast<size_t>(length));
}

// Python's str.isspace (Py_UNICODE_ISSPACE), which str.split() and str.strip() use: the
// Unicode White_Space characters plus the ASCII separators U+001C..U+001F.
bool is_python_space(char32_t c) {
  return (c >= 0x9 && c <= 0xD) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

// Unicode "Cased" (Lowercase, Uppercase or Lt), approximated through the general category and
// the case mappings utf8proc has (Other_Lowercase letters such as U+00AA count only when they
// have a mapping). Only used for the Final_Sigma context below.
bool is_cased(char32_t c) {
  const auto cp = static_cast<utf8proc_int32_t>(c);
  const auto category = utf8proc_category(cp);
  return category == UTF8PROC_CATEGORY_LU || category == UTF8PROC_CATEGORY_LL || category == UTF8PROC_CATEGORY_LT ||
         utf8proc_tolower(cp) != cp || utf8proc_toupper(cp) != cp;
}

// Unicode "Case_Ignorable": categories Mn, Me, Cf, Lm, Sk and the Word_Break classes
// MidLetter, MidNumLet and Single_Quote.
bool is_case_ignorable(char32_t c) {
  static constexpr char32_t kWordBreakIgnorable[] = {0x27,   0x2E,   0x3A,   0xB7,   0x387,  0x55F,
                                                     0x5F4,  0x2018, 0x2019, 0x2024, 0x2027, 0xFE13,
                                                     0xFE52, 0xFE55, 0xFF07, 0xFF0E, 0xFF1A};
  if (std::find(std::begin(kWordBreakIgnorable), std::end(kWordBreakIgnorable), c) != std::end(kWordBreakIgnorable))
    return true;
  switch (utf8proc_category(static_cast<utf8proc_int32_t>(c))) {
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_ME:
    case UTF8PROC_CATEGORY_CF:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_SK:
      return true;
    default:
      return false;
  }
}

// Python's str.lower: the simple lower-case mapping of every code point, except the two full
// mappings Python applies without a locale: U+0130 becomes "i" + U+0307, and a capital sigma
// in the Final_Sigma context (after a cased letter, not before one, case-ignorables skipped)
// becomes U+03C2.
std::string python_lower(const std::vector<char32_t>& text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char32_t c = text[i];
    if (c == kInvalid) continue;  // placeholder of an ill-formed byte; see normalize_response
    if (c < 0x80) {
      out.push_back(static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c));
    } else if (c == 0x130) {
      out += "i\xCC\x87";
    } else if (c == 0x3A3) {
      size_t before = i;
      while (before > 0 && is_case_ignorable(text[before - 1])) --before;
      size_t after = i + 1;
      while (after < text.size() && is_case_ignorable(text[after])) ++after;
      const bool final_sigma =
          before > 0 && is_cased(text[before - 1]) && (after == text.size() || !is_cased(text[after]));
      append_utf8(out, final_sigma ? 0x3C2 : 0x3C3);
    } else {
      append_utf8(out, static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(c))));
    }
  }
  return out;
}

bool is_blank(std::string_view text) {
  size_t pos = 0;
  while (pos < text.size()) {
    if (!is_python_space(next_code_point(text, pos))) return false;
  }
  return true;
}

}  // namespace

std::string normalize_response(std::string_view response) {
  // Code points first (Final_Sigma looks at neighbours); ill-formed bytes are kept verbatim.
  std::vector<char32_t> code_points;
  std::vector<std::pair<size_t, char>> invalid_bytes;  // (index in code_points, byte)
  code_points.reserve(response.size());
  for (size_t pos = 0; pos < response.size();) {
    const size_t start = pos;
    const char32_t c = next_code_point(response, pos);
    if (c == kInvalid) invalid_bytes.emplace_back(code_points.size(), response[start]);
    code_points.push_back(c);
  }
  std::string lowered;
  if (invalid_bytes.empty()) {
    lowered = python_lower(code_points);
  } else {
    // Rare: lower each valid run and splice the odd bytes back in between.
    size_t run_start = 0;
    for (const auto& [index, byte] : invalid_bytes) {
      lowered += python_lower({code_points.begin() + static_cast<std::ptrdiff_t>(run_start),
                               code_points.begin() + static_cast<std::ptrdiff_t>(index)});
      lowered.push_back(byte);
      run_start = index + 1;
    }
    lowered += python_lower({code_points.begin() + static_cast<std::ptrdiff_t>(run_start), code_points.end()});
  }

  // Heretic's order: lower(), delete '*', map U+2019 to ', then " ".join(text.split()).
  std::string out;
  out.reserve(lowered.size());
  bool pending_space = false;
  for (size_t pos = 0; pos < lowered.size();) {
    const size_t start = pos;
    const char32_t c = next_code_point(lowered, pos);
    if (c == '*') continue;
    if (c != kInvalid && is_python_space(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    if (c == 0x2019) {
      out.push_back('\'');
    } else {
      out.append(lowered, start, pos - start);
    }
  }
  return out;
}

RefusalMatcher::RefusalMatcher(std::vector<std::string> markers) {
  // Heretic compares marker.lower() with the normalised response; nothing else is done to
  // markers (an empty marker matches every response, as "" in s does in Python).
  markers_.reserve(markers.size());
  for (const std::string& marker : markers) {
    std::vector<char32_t> code_points;
    for (size_t pos = 0; pos < marker.size();) code_points.push_back(next_code_point(marker, pos));
    markers_.push_back(python_lower(code_points));
  }
}

bool RefusalMatcher::is_refusal(std::string_view response) const {
  // Heretic checks for an empty or white-space-only response before normalising, so a
  // response of only '*' is not counted as empty (it matches no marker either).
  if (is_blank(response)) return true;
  return contains_marker(response);
}

bool RefusalMatcher::contains_marker(std::string_view partial_response) const {
  const std::string normalized = normalize_response(partial_response);
  return std::any_of(markers_.begin(), markers_.end(),
                     [&](const std::string& marker) { return normalized.find(marker) != std::string::npos; });
}

}  // namespace heretic::eval
