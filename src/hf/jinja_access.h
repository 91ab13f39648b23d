// Attribute, item and slice access (a.b, a['b'], a[1:-1]) with Jinja2's sandbox rules, and
// the Python methods templates call on str, dict and list values (.split, .items, .get...).
#pragma once

#include <string>
#include <vector>

#include "hf/jinja_limits.h"
#include "hf/jinja_value.h"

namespace heretic::hf::jinja {

// a.b: Python attribute first (dict.items is the method), then the key; missing gives an
// Undefined that remembers why. List mutators give an Undefined that is a SecurityError.
Value get_attribute(const Value& object, const std::string& name, Budget& budget);
// a[b]: the key or index first, then (for a str key) the attribute.
Value get_item(const Value& object, const Value& key, Budget& budget);
// a[start:stop:step] with Python semantics; null pointers are left-out bounds.
Value get_slice(const Value& object, const Value* start, const Value* stop, const Value* step);
// Calls a callable value; TypeError for anything else.
Value call_value(const Value& callee, const CallArgs& args);

// Binds call arguments to parameter names the way Python does for builtins and filters.
class ArgBinder {
 public:
  ArgBinder(std::string function, const CallArgs& args, std::vector<std::string> names, size_t skip_positional = 0);
  const Value* get(size_t index) const;  // nullptr when neither passed nor keyword
  const Value& get_or(size_t index, const Value& fallback) const;
  const std::string* string_or_null(size_t index) const;  // None/absent -> nullptr
  int64_t int_or(size_t index, int64_t fallback) const;

 private:
  std::string function_;
  std::vector<const Value*> bound_;
};

}  // namespace heretic::hf::jinja
