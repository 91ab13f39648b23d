// A parsed Jinja2 template and its sandboxed interpreter, with the environment transformers
// renders chat templates in (trim_blocks, lstrip_blocks, loop controls, immutable sandbox,
// Python printing and scoping). No I/O: a template sees only the variables it is given.
#pragma once

#include <memory>
#include <string>

#include "hf/jinja_ast.h"
#include "hf/jinja_limits.h"
#include "hf/jinja_value.h"

namespace heretic::hf::jinja {

class Template {
 public:
  // Parses the source; throws JinjaError(kSyntax) naming source_name and the line.
  explicit Template(const std::string& source, std::string source_name = "template", Limits limits = {});

  // Renders with these variables (on top of the globals namespace, range and dict).
  // Throws JinjaError: the template's own raise_exception, Python-like type errors,
  // UndefinedError, or kLimit when a sandbox limit is reached.
  std::string render(const Dict& variables) const;

  const std::string& source_name() const { return source_name_; }
  const Limits& limits() const { return limits_; }

 private:
  std::string source_name_;
  Limits limits_;
  std::shared_ptr<const Body> body_;
};

}  // namespace heretic::hf::jinja
