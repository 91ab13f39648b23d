#include "hf/jinja_error.h"

namespace heretic::hf::jinja {

const char* error_kind_name(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kSyntax:
      return "TemplateSyntaxError";
    case ErrorKind::kTemplate:
      return "TemplateError";
    case ErrorKind::kType:
      return "TypeError";
    case ErrorKind::kUndefined:
      return "UndefinedError";
    case ErrorKind::kSecurity:
      return "SecurityError";
    case ErrorKind::kZeroDivision:
      return "ZeroDivisionError";
    case ErrorKind::kValue:
      return "ValueError";
    case ErrorKind::kOverflow:
      return "OverflowError";
    case ErrorKind::kRuntime:
      return "TemplateRuntimeError";
    case ErrorKind::kLimit:
      return "SandboxLimitExceeded";
  }
  return "TemplateError";
}

namespace {

std::string compose(ErrorKind kind, const std::string& detail, int line, const std::string& source_name) {
  std::string where = source_name.empty() ? std::string("template") : source_name;
  if (line > 0) where += " line " + std::to_string(line);
  return where + ": " + error_kind_name(kind) + ": " + detail;
}

}  // namespace

JinjaError::JinjaError(ErrorKind kind, std::string detail, int line, std::string source_name)
    : InputError(compose(kind, detail, line, source_name)),
      kind_(kind),
      detail_(std::move(detail)),
      line_(line),
      source_name_(std::move(source_name)) {}

std::string JinjaError::python_message() const { return std::string(error_kind_name(kind_)) + ": " + detail_; }

JinjaError JinjaError::at(int line, const std::string& source_name) const {
  return JinjaError(kind_, detail_, line_ > 0 ? line_ : line, source_name_.empty() ? source_name : source_name_);
}

}  // namespace heretic::hf::jinja
