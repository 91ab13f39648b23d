// Recursive-descent parser for the Jinja2 subset chat templates use, with Jinja2's
// operator precedence (filters and tests bind tighter than arithmetic; `not` looser than
// comparisons). Nesting deeper than max_depth is a syntax error, so that a hostile template
// cannot exhaust the stack.
#pragma once

#include <string>

#include "hf/jinja_ast.h"

namespace heretic::hf::jinja {

// Throws JinjaError(kSyntax) with the line of the offending token.
Body parse_template(const std::string& source, const std::string& source_name, int max_depth);

}  // namespace heretic::hf::jinja
