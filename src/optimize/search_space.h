// An ordered set of parameters: uniform floats on [low, high] and categoricals. A trial stores
// each parameter in its internal representation: the float value, or the index of the choice
// as a double. The order is the suggest order, which fixes how the random streams are used.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace heretic::optimize {

enum class ParamKind { kFloat, kCategorical };

// A trial's parameters by name, in suggest order (categoricals as choice indices): how a trial
// travels to the ranks that evaluate it, with no implicit layout.
using ParamValues = std::vector<std::pair<std::string, double>>;

struct ParamSpec {
  std::string name;
  ParamKind kind = ParamKind::kFloat;
  double low = 0.0;  // floats: inclusive bounds; categoricals: 0 and n_choices - 1
  double high = 0.0;
  std::vector<std::string> choices;  // categoricals only

  // A range of one point (or one choice) is not sampled: it always takes `low`.
  bool single() const { return low == high; }
  std::size_t n_choices() const { return choices.size(); }
};

class SearchSpace {
 public:
  // Throws std::invalid_argument on a duplicate name, low > high, non-finite bounds or an
  // empty choice list (these are programming errors, not user input).
  SearchSpace& add_float(const std::string& name, double low, double high);
  SearchSpace& add_categorical(const std::string& name, const std::vector<std::string>& choices);

  const std::vector<ParamSpec>& params() const { return params_; }
  std::size_t size() const { return params_.size(); }
  const ParamSpec& operator[](std::size_t i) const { return params_[i]; }
  // Index of the parameter called `name`, or -1.
  int index_of(const std::string& name) const;
  // `values` (internal representations in space order) by name.
  ParamValues named(const std::vector<double>& values) const;

 private:
  std::vector<ParamSpec> params_;
};

}  // namespace heretic::optimize
