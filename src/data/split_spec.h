// The split syntax of the Hugging Face datasets library (ReadInstruction.from_spec):
//   "train", "train[:400]", "test[100:200]", "train[-50:]", "train[:10%]", "test[:33%]+train[1:-1]"
// and an optional rounding suffix "train[:10%](pct1_dropremainder)". Semantics follow
// datasets' arrow_reader.py: percent boundaries are rounded to the closest index (Python's
// round, ties to even) by default, or taken as multiples of 1% with pct1_dropremainder;
// negative boundaries count from the end; a boundary beyond the split size is an error, and
// from > to gives an empty slice.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace heretic::data {

struct SplitSlice {
  std::string split;                // split name, e.g. "train"
  std::optional<long> from;         // nullopt: from the start
  std::optional<long> to;           // nullopt: to the end
  bool percent = false;             // boundaries are percentages of the split size
  bool pct1_dropremainder = false;  // rounding mode (default "closest")
};

// Rows [from, to) of one split, resolved to absolute indices.
struct SplitRange {
  std::string split;
  size_t from = 0;
  size_t to = 0;
};

// Parses a full spec ("train[:10%]+test"). Throws InputError naming `where` (e.g. the config
// key) when the text is not valid split syntax.
std::vector<SplitSlice> parse_split_spec(const std::string& spec, const std::string& where);

// Parses a bare slice as used for plain text files ("[:400]", "" for everything).
SplitSlice parse_bare_slice(const std::string& slice, const std::string& where);

// Resolves one slice against a split of `num_rows` rows. Throws InputError when a boundary is
// out of range ("Requested slice [0:500] incompatible with 400 examples", as datasets says).
SplitRange resolve_slice(const SplitSlice& slice, size_t num_rows, const std::string& where);

// Resolves a full spec against the available splits and their sizes; an unknown split name is
// an InputError listing the available ones.
std::vector<SplitRange> resolve_split_spec(const std::string& spec,
                                           const std::map<std::string, size_t>& split_sizes,
                                           const std::string& where);

}  // namespace heretic::data
