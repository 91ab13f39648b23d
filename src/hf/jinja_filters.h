// Jinja2's filters (x|tojson, x|trim, ...), tests (x is defined, ...) and default globals
// (namespace, range, dict), with transformers' tojson (json.dumps, ensure_ascii=False).
#pragma once

#include <string>

#include "hf/jinja_limits.h"
#include "hf/jinja_value.h"

namespace heretic::hf::jinja {

// Throws TemplateRuntimeError-style JinjaError for an unknown filter name.
Value apply_filter(const std::string& name, const Value& input, const CallArgs& args, Budget& budget);
bool apply_test(const std::string& name, const Value& input, const CallArgs& args, Budget& budget);
bool has_filter(const std::string& name);
bool has_test(const std::string& name);

// namespace(), range(), dict(): the globals every Jinja2 environment has.
Dict default_globals(Budget& budget);

}  // namespace heretic::hf::jinja
