// Python semantics of Jinja's operators on interpreter values: + - * / // % ** ~, unary
// minus, and `in`. Type errors carry Python's own messages ("can only concatenate str (not
// \"dict\") to str"), which transformers users know.
#pragma once

#include <string>

#include "hf/jinja_limits.h"
#include "hf/jinja_value.h"

namespace heretic::hf::jinja {

// op is one of + - * / // % ** ~
Value binary_operation(const std::string& op, const Value& a, const Value& b, Budget& budget);
Value negate(const Value& v);
// `item in container`
bool contains(const Value& container, const Value& item);
// Python's printf-style `format % args`.
std::string percent_format(const std::string& format, const Value& args, Budget& budget);

}  // namespace heretic::hf::jinja
