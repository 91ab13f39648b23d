#include "optimize/search_space.h"

#include <cmath>
#include <stdexcept>

namespace heretic::optimize {

SearchSpace& SearchSpace::add_float(const std::string& name, double low, double high) {
  if (index_of(name) >= 0) throw std::invalid_argument("duplicate parameter '" + name + "'");
  if (!std::isfinite(low) || !std::isfinite(high) || low > high) {
    throw std::invalid_argument("parameter '" + name + "' needs finite bounds with low <= high");
  }
  ParamSpec spec;
  spec.name = name;
  spec.kind = ParamKind::kFloat;
  spec.low = low;
  spec.high = high;
  params_.push_back(spec);
  return *this;
}

SearchSpace& SearchSpace::add_categorical(const std::string& name,
                                          const std::vector<std::string>& choices) {
  if (index_of(name) >= 0) throw std::invalid_argument("duplicate parameter '" + name + "'");
  if (choices.empty()) throw std::invalid_argument("parameter '" + name + "' has no choices");
  ParamSpec spec;
  spec.name = name;
  spec.kind = ParamKind::kCategorical;
  spec.low = 0.0;
  spec.high = static_cast<double>(choices.size() - 1);
  spec.choices = choices;
  params_.push_back(spec);
  return *this;
}

int SearchSpace::index_of(const std::string& name) const {
  for (std::size_t i = 0; i < params_.size(); ++i) {
    if (params_[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

ParamValues SearchSpace::named(const std::vector<double>& values) const {
  if (values.size() != params_.size()) {
    throw std::invalid_argument("a trial of " + std::to_string(values.size()) + " values does not fit a space of " +
                                std::to_string(params_.size()) + " parameters");
  }
  ParamValues named;
  for (std::size_t i = 0; i < params_.size(); ++i) named.emplace_back(params_[i].name, values[i]);
  return named;
}

}  // namespace heretic::optimize
