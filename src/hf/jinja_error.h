// Errors of the chat-template interpreter. A template that fails (raise_exception, a type
// error, an undefined value used in arithmetic, a sandbox limit) is bad input for the run:
// the error derives from InputError (exit code 2) and carries the Python exception class
// that Jinja2 would have raised, so that users can compare with transformers' message.
#pragma once

#include <string>

#include "common/error.h"

namespace heretic::hf::jinja {

enum class ErrorKind {
  kSyntax,        // TemplateSyntaxError: the template does not parse
  kTemplate,      // TemplateError: raise_exception(...) in the template
  kType,          // TypeError: operand types, calling a non-callable, iterating None
  kUndefined,     // UndefinedError: an undefined value used where a value is needed
  kSecurity,      // SecurityError: the immutable sandbox refused an attribute (list.append)
  kZeroDivision,  // ZeroDivisionError
  kValue,         // ValueError: bad argument value (unpacking, int('x'))
  kOverflow,      // OverflowError: result outside the 64-bit integers this engine uses
  kRuntime,       // TemplateRuntimeError: e.g. assigning an attribute of a non-namespace
  kLimit,         // a sandbox limit (steps, recursion, output size) was reached
};

// Python's name of the exception class, as transformers would report it.
const char* error_kind_name(ErrorKind kind);

class JinjaError : public InputError {
 public:
  // line 0 means "not known yet": the interpreter fills in the line of the failing node.
  JinjaError(ErrorKind kind, std::string detail, int line = 0, std::string source_name = "");

  ErrorKind kind() const { return kind_; }
  const std::string& detail() const { return detail_; }  // e.g. "'x' is undefined"
  int line() const { return line_; }
  const std::string& source_name() const { return source_name_; }
  // "TypeError: can only concatenate str (not \"dict\") to str", the form Python prints.
  std::string python_message() const;

  JinjaError at(int line, const std::string& source_name) const;

 private:
  ErrorKind kind_;
  std::string detail_;
  int line_;
  std::string source_name_;
};

}  // namespace heretic::hf::jinja
