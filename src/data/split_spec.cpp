#include "data/split_spec.h"

#include <cctype>
#include <cmath>
#include <cstdlib>

#include "common/error.h"
#include "common/suggest.h"

namespace heretic::data {
namespace {

[[noreturn]] void fail_syntax(const std::string& spec, const std::string& where,
                              const std::string& why) {
  throw InputError(where + ": invalid split '" + spec + "' (" + why +
                   "); write e.g. \"train\", \"train[:400]\", \"test[100:200]\", "
                   "\"train[-50:]\" or \"train[:10%]\"");
}

bool is_word_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  return std::isalnum(u) || c == '_' || u >= 0x80;  // Python's \w also matches non-ASCII letters
}

// Parses "-?\d+" at `text[pos]`; returns nullopt (and leaves pos) when there is no number.
std::optional<long> parse_integer(const std::string& text, size_t& pos, const std::string& spec,
                                  const std::string& where) {
  size_t end = pos;
  if (end < text.size() && text[end] == '-') ++end;
  const size_t digits = end;
  while (end < text.size() && std::isdigit(static_cast<unsigned char>(text[end]))) ++end;
  if (end == digits) return std::nullopt;
  if (end - digits > 15) fail_syntax(spec, where, "number too large");
  const long value = std::strtol(text.substr(pos, end - pos).c_str(), nullptr, 10);
  pos = end;
  return value;
}

// Parses one "name[from:to](rounding)" term; `require_name` is false for bare slices.
SplitSlice parse_term(const std::string& term, const std::string& spec, const std::string& where,
                      bool require_name) {
  SplitSlice slice;
  size_t pos = 0;
  // Name: \w+(\.\w+)*
  while (pos < term.size() && (require_name || is_word_char(term[0]))) {
    const size_t start = pos;
    while (pos < term.size() && is_word_char(term[pos])) ++pos;
    if (pos == start)
      fail_syntax(spec, where, "a split name is made of letters, digits, '_' and '.'");
    if (pos < term.size() && term[pos] == '.') {
      ++pos;
      continue;
    }
    break;
  }
  slice.split = term.substr(0, pos);
  if (require_name && slice.split.empty()) fail_syntax(spec, where, "missing split name");
  if (!require_name && !slice.split.empty())
    fail_syntax(spec, where, "expected a bare slice such as [:400]");
  bool from_percent = false, to_percent = false;
  if (pos < term.size() && term[pos] == '[') {
    ++pos;
    slice.from = parse_integer(term, pos, spec, where);
    if (slice.from && pos < term.size() && term[pos] == '%') {
      from_percent = true;
      ++pos;
    }
    if (pos >= term.size() || term[pos] != ':')
      fail_syntax(spec, where, "expected ':' in the slice");
    ++pos;
    slice.to = parse_integer(term, pos, spec, where);
    if (slice.to && pos < term.size() && term[pos] == '%') {
      to_percent = true;
      ++pos;
    }
    if (pos >= term.size() || term[pos] != ']')
      fail_syntax(spec, where, "expected ']' after the slice");
    ++pos;
  }
  if (pos < term.size() && term[pos] == '(') {
    const size_t close = term.find(')', pos);
    if (close == std::string::npos) fail_syntax(spec, where, "missing ')'");
    const std::string rounding = term.substr(pos + 1, close - pos - 1);
    if (rounding == "pct1_dropremainder") {
      slice.pct1_dropremainder = true;
    } else if (rounding != "closest") {
      fail_syntax(spec, where, "rounding must be 'closest' or 'pct1_dropremainder'");
    }
    pos = close + 1;
  }
  if (pos != term.size()) fail_syntax(spec, where, "unexpected '" + term.substr(pos) + "'");
  // As in datasets: one '%' makes both boundaries percentages.
  slice.percent = from_percent || to_percent;
  if (slice.percent) {
    for (const auto& boundary : {slice.from, slice.to}) {
      if (boundary && std::labs(*boundary) > 100) {
        fail_syntax(spec, where, "percent slice boundaries must be between -100 and 100");
      }
    }
  }
  return slice;
}

long percent_to_index(long boundary, size_t num_rows, bool pct1_dropremainder,
                      const std::string& where) {
  const auto rows = static_cast<long>(num_rows);
  if (pct1_dropremainder) {
    if (num_rows < 100) {
      throw InputError(where +
                       ": pct1_dropremainder rounding on a split of fewer than 100 rows "
                       "always gives an empty result");
    }
    return boundary * (rows / 100);
  }
  // datasets: int(round(boundary * num_examples / 100.0)); Python rounds ties to even, as
  // nearbyint does in the default rounding mode.
  return static_cast<long>(std::nearbyint(static_cast<double>(boundary * rows) / 100.0));
}

}  // namespace

std::vector<SplitSlice> parse_split_spec(const std::string& spec, const std::string& where) {
  std::vector<SplitSlice> slices;
  // Terms are separated by '+' with optional whitespace around it.
  size_t start = 0;
  while (true) {
    const size_t plus = spec.find('+', start);
    std::string term =
        spec.substr(start, plus == std::string::npos ? std::string::npos : plus - start);
    const bool first = start == 0, last = plus == std::string::npos;
    // Only the whitespace next to a '+' is allowed.
    size_t begin = 0, end = term.size();
    if (!first) {
      while (begin < end && std::isspace(static_cast<unsigned char>(term[begin]))) ++begin;
    }
    if (!last) {
      while (end > begin && std::isspace(static_cast<unsigned char>(term[end - 1]))) --end;
    }
    slices.push_back(
        parse_term(term.substr(begin, end - begin), spec, where, /*require_name=*/true));
    if (last) break;
    start = plus + 1;
  }
  return slices;
}

SplitSlice parse_bare_slice(const std::string& slice, const std::string& where) {
  if (slice.empty()) return SplitSlice{};
  return parse_term(slice, slice, where, /*require_name=*/false);
}

SplitRange resolve_slice(const SplitSlice& slice, size_t num_rows, const std::string& where) {
  const auto rows = static_cast<long>(num_rows);
  long from = 0, to = rows;
  if (slice.percent) {
    if (slice.from) from = percent_to_index(*slice.from, num_rows, slice.pct1_dropremainder, where);
    if (slice.to) to = percent_to_index(*slice.to, num_rows, slice.pct1_dropremainder, where);
  } else {
    if (slice.from) from = *slice.from;
    if (slice.to) to = *slice.to;
  }
  if (std::labs(from) > rows || std::labs(to) > rows) {
    const std::string shown_from = from == 0 ? "" : std::to_string(from);
    const std::string shown_to = to == 0 ? "" : std::to_string(to);
    throw InputError(where + ": split slice out of range: requested [" + shown_from + ":" +
                     shown_to + "] of '" + slice.split + "', which has " +
                     std::to_string(num_rows) + " rows");
  }
  if (from < 0) from += rows;
  if (to < 0) to += rows;
  SplitRange range;
  range.split = slice.split;
  range.from = static_cast<size_t>(from);
  range.to = static_cast<size_t>(std::max(from, to));  // from > to selects nothing
  return range;
}

std::vector<SplitRange> resolve_split_spec(const std::string& spec,
                                           const std::map<std::string, size_t>& split_sizes,
                                           const std::string& where) {
  std::vector<SplitRange> ranges;
  for (const SplitSlice& slice : parse_split_spec(spec, where)) {
    const auto found = split_sizes.find(slice.split);
    if (found == split_sizes.end()) {
      std::vector<std::string> names;
      for (const auto& entry : split_sizes) names.push_back(entry.first);
      throw InputError(where + ": unknown split '" + slice.split + "'" +
                       did_you_mean(slice.split, names) + "; the splits are " + quoted_list(names));
    }
    ranges.push_back(resolve_slice(slice, found->second, where));
  }
  return ranges;
}

}  // namespace heretic::data
