// Python str semantics over UTF-8 bytes: templates index, slice, measure and strip strings
// by code point, and print them with Python's repr rules. Invalid UTF-8 bytes survive a
// decode/encode round trip unchanged (they decode to U+DC80..U+DCFF, like surrogateescape).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace heretic::hf::jinja {

std::u32string decode_utf8(std::string_view text);
std::string encode_utf8(std::u32string_view code_points);
void append_utf8(std::string& out, char32_t code_point);
size_t code_point_count(std::string_view text);

// str.isspace(): Unicode White_Space plus the ASCII separators \x1c-\x1f.
bool is_python_space(char32_t c);
// str.isprintable() for the characters that occur in practice (controls, format
// characters, line/paragraph separators, non-ASCII spaces, private use).
bool is_python_printable(char32_t c);

// Python repr() of a str: 'abc', "it's", '\n', '\x00', non-ASCII kept when printable.
void append_python_string_repr(std::string& out, std::string_view text);

// str.strip/lstrip/rstrip: chars == nullptr strips whitespace, else any of those characters.
std::string python_strip(std::string_view text, const std::string* chars, bool left, bool right);
// str.split(sep, maxsplit): sep == nullptr splits on whitespace runs and drops empty parts.
std::vector<std::string> python_split(std::string_view text, const std::string* sep, int64_t maxsplit);
std::vector<std::string> python_rsplit(std::string_view text, const std::string* sep, int64_t maxsplit);
std::string python_replace(std::string_view text, std::string_view old_text, std::string_view new_text, int64_t count);
std::string ascii_upper(std::string_view text);  // str.upper() for ASCII letters
std::string ascii_lower(std::string_view text);
std::string python_title(std::string_view text);
std::string python_capitalize(std::string_view text);

}  // namespace heretic::hf::jinja
