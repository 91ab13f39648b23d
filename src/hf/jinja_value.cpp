#include "hf/jinja_value.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "hf/jinja_error.h"
#include "hf/jinja_limits.h"
#include "hf/jinja_string.h"

namespace heretic::hf::jinja {

const Value* Dict::find(const std::string& key) const {
  for (const auto& [k, v] : items) {
    if (k == key) return &v;
  }
  return nullptr;
}

void Dict::set(const std::string& key, Value value) {
  for (auto& [k, v] : items) {
    if (k == key) {
      v = std::move(value);
      return;
    }
  }
  items.emplace_back(key, std::move(value));
}

const Value* CallArgs::find_keyword(const std::string& name) const {
  for (const auto& [k, v] : keyword) {
    if (k == name) return &v;
  }
  return nullptr;
}

Value Value::undefined(std::string hint, bool unsafe) {
  Value v;
  v.string_ = std::make_shared<const std::string>(std::move(hint));
  v.bool_ = unsafe;
  return v;
}

Value Value::none() {
  Value v;
  v.kind_ = Kind::kNone;
  return v;
}

Value Value::boolean(bool b) {
  Value v;
  v.kind_ = Kind::kBool;
  v.bool_ = b;
  return v;
}

Value Value::integer(int64_t i) {
  Value v;
  v.kind_ = Kind::kInt;
  v.int_ = i;
  return v;
}

Value Value::floating(double f) {
  Value v;
  v.kind_ = Kind::kFloat;
  v.float_ = f;
  return v;
}

namespace {
thread_local Budget* active_render_budget = nullptr;
}  // namespace

Budget* active_budget() { return active_render_budget; }

ActiveBudget::ActiveBudget(Budget& budget) : previous_(active_render_budget) { active_render_budget = &budget; }

ActiveBudget::~ActiveBudget() { active_render_budget = previous_; }

Value Value::string(std::string s) {
  if (Budget* budget = active_budget()) budget->charge_string(s.size());
  Value v;
  v.kind_ = Kind::kString;
  v.string_ = std::make_shared<const std::string>(std::move(s));
  return v;
}

namespace {

// Sets a new container's nesting from its elements; throws when it gets too deep.
void nest(Value& container, int& nesting, bool& holds_namespace, const Value& element) {
  nesting = std::max(nesting, element.is_namespace() ? 2 : element.nesting() + 1);
  holds_namespace = holds_namespace || element.is_namespace() || element.holds_namespace();
  if (nesting > kMaxValueNesting) {
    throw JinjaError(ErrorKind::kLimit, "a " + type_name(container) + " nested deeper than " +
                                            std::to_string(kMaxValueNesting) + " levels");
  }
}

}  // namespace

Value Value::list(List items) {
  Value v;
  v.kind_ = Kind::kList;
  v.nesting_ = 1;
  for (const Value& item : items) nest(v, v.nesting_, v.holds_namespace_, item);
  v.list_ = std::make_shared<const List>(std::move(items));
  return v;
}

Value Value::tuple(List items) {
  Value v = list(std::move(items));
  v.kind_ = Kind::kTuple;
  return v;
}

Value Value::dict(Dict d) {
  Value v;
  v.kind_ = Kind::kDict;
  v.nesting_ = 1;
  for (const auto& item : d.items) nest(v, v.nesting_, v.holds_namespace_, item.second);
  v.dict_ = std::make_shared<const Dict>(std::move(d));
  return v;
}

void require_no_namespace(const Value& v, const std::string& what) {
  if (v.is_namespace() || v.holds_namespace()) {
    throw JinjaError(ErrorKind::kSecurity, what + ": a namespace cannot hold a namespace (it could come to hold itself)");
  }
}

Value Value::namespace_object(Dict attributes) {
  Value v;
  v.kind_ = Kind::kNamespace;
  v.namespace_ = std::make_shared<Dict>(std::move(attributes));
  return v;
}

Value Value::callable(std::string name, NativeFunction fn, bool is_macro) {
  Value v;
  v.kind_ = Kind::kCallable;
  v.callable_ = std::make_shared<const Callable>(Callable{std::move(name), is_macro, std::move(fn)});
  return v;
}

const std::string& Value::undefined_hint() const {
  static const std::string kNoHint = "value is undefined";
  return string_ ? *string_ : kNoHint;
}

std::string type_name(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kUndefined:
      return "Undefined";
    case Value::Kind::kNone:
      return "NoneType";
    case Value::Kind::kBool:
      return "bool";
    case Value::Kind::kInt:
      return "int";
    case Value::Kind::kFloat:
      return "float";
    case Value::Kind::kString:
      return "str";
    case Value::Kind::kList:
      return "list";
    case Value::Kind::kTuple:
      return "tuple";
    case Value::Kind::kDict:
      return "dict";
    case Value::Kind::kNamespace:
      return "Namespace";
    case Value::Kind::kCallable:
      return v.as_callable().is_macro ? "Macro" : "function";
  }
  return "object";
}

void require_defined(const Value& v) {
  if (!v.is_undefined()) return;
  if (v.undefined_is_unsafe()) throw JinjaError(ErrorKind::kSecurity, v.undefined_hint());
  throw JinjaError(ErrorKind::kUndefined, v.undefined_hint());
}

bool truthy(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kUndefined:
    case Value::Kind::kNone:
      return false;
    case Value::Kind::kBool:
      return v.as_bool();
    case Value::Kind::kInt:
      return v.as_int() != 0;
    case Value::Kind::kFloat:
      return v.as_double() != 0.0;
    case Value::Kind::kString:
      return !v.as_string().empty();
    case Value::Kind::kList:
    case Value::Kind::kTuple:
      return !v.as_list().empty();
    case Value::Kind::kDict:
      return !v.as_dict().items.empty();
    case Value::Kind::kNamespace:
    case Value::Kind::kCallable:
      return true;
  }
  return false;
}

bool equals(const Value& a, const Value& b) {
  if (a.is_number() && b.is_number()) {
    if (a.is_float() || b.is_float()) return a.as_double() == b.as_double();
    return a.as_int() == b.as_int();
  }
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case Value::Kind::kUndefined:
    case Value::Kind::kNone:
      return true;
    case Value::Kind::kString:
      return a.as_string() == b.as_string();
    case Value::Kind::kList:
    case Value::Kind::kTuple: {
      const List& x = a.as_list();
      const List& y = b.as_list();
      if (x.size() != y.size()) return false;
      for (size_t i = 0; i < x.size(); ++i) {
        if (!equals(x[i], y[i])) return false;
      }
      return true;
    }
    case Value::Kind::kDict: {
      const Dict& x = a.as_dict();
      const Dict& y = b.as_dict();
      if (x.items.size() != y.items.size()) return false;
      for (const auto& [key, value] : x.items) {
        const Value* other = y.find(key);
        if (other == nullptr || !equals(value, *other)) return false;
      }
      return true;
    }
    case Value::Kind::kNamespace:
      return &a.namespace_attributes() == &b.namespace_attributes();
    case Value::Kind::kCallable:
      return &a.as_callable() == &b.as_callable();
    default:
      return false;
  }
}

bool less_than(const Value& a, const Value& b, const char* op_for_error) {
  require_defined(a);
  require_defined(b);
  if (a.is_number() && b.is_number()) {
    if (a.is_float() || b.is_float()) return a.as_double() < b.as_double();
    return a.as_int() < b.as_int();
  }
  if (a.is_string() && b.is_string()) return a.as_string() < b.as_string();  // code point order
  if (a.kind() == b.kind() && a.is_sequence()) {
    const List& x = a.as_list();
    const List& y = b.as_list();
    for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
      if (!equals(x[i], y[i])) return less_than(x[i], y[i], op_for_error);
    }
    return x.size() < y.size();
  }
  throw JinjaError(ErrorKind::kType, std::string("'") + op_for_error + "' not supported between instances of '" +
                                         type_name(a) + "' and '" + type_name(b) + "'");
}

List iterate(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kUndefined:
      if (v.undefined_is_unsafe()) require_defined(v);
      return {};
    case Value::Kind::kList:
    case Value::Kind::kTuple:
      return v.as_list();
    case Value::Kind::kDict: {
      List keys;
      for (const auto& item : v.as_dict().items) keys.push_back(Value::string(item.first));
      return keys;
    }
    case Value::Kind::kString: {
      List chars;
      for (char32_t c : decode_utf8(v.as_string())) {
        std::string one;
        append_utf8(one, c);
        chars.push_back(Value::string(std::move(one)));
      }
      return chars;
    }
    default:
      throw JinjaError(ErrorKind::kType, "'" + type_name(v) + "' object is not iterable");
  }
}

std::string python_float_repr(double f) {
  if (std::isnan(f)) return "nan";
  if (std::isinf(f)) return f > 0 ? "inf" : "-inf";
  if (f == 0.0) return std::signbit(f) ? "-0.0" : "0.0";
  char buffer[64];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buffer, sizeof buffer, "%.*e", precision - 1, f);
    if (std::strtod(buffer, nullptr) == f) break;
  }
  std::string text(buffer);
  const bool negative = text[0] == '-';
  if (negative) text.erase(0, 1);
  const size_t e = text.find('e');
  const int exponent = std::atoi(text.c_str() + e + 1);
  std::string digits;
  for (size_t i = 0; i < e; ++i) {
    if (text[i] != '.') digits.push_back(text[i]);
  }
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  std::string out = negative ? "-" : "";
  if (exponent >= -4 && exponent < 16) {
    if (exponent >= 0) {
      const size_t int_digits = static_cast<size_t>(exponent) + 1;
      std::string int_part = digits.substr(0, std::min(int_digits, digits.size()));
      while (int_part.size() < int_digits) int_part.push_back('0');
      std::string frac = digits.size() > int_digits ? digits.substr(int_digits) : "0";
      out += int_part + "." + frac;
    } else {
      out += "0." + std::string(static_cast<size_t>(-exponent - 1), '0') + digits;
    }
  } else {
    out += digits.substr(0, 1);
    if (digits.size() > 1) out += "." + digits.substr(1);
    char exp_text[16];
    std::snprintf(exp_text, sizeof exp_text, "e%c%02d", exponent < 0 ? '-' : '+', std::abs(exponent));
    out += exp_text;
  }
  return out;
}

namespace {

void check_size(const std::string& out, size_t max_bytes) {
  if (out.size() > max_bytes) {
    throw JinjaError(ErrorKind::kLimit, "text grew past the output limit of " + std::to_string(max_bytes) + " bytes");
  }
}

void append_sequence_repr(std::string& out, const Value& v, size_t max_bytes) {
  const bool is_tuple = v.kind() == Value::Kind::kTuple;
  out.push_back(is_tuple ? '(' : '[');
  const List& items = v.as_list();
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ", ";
    append_repr(out, items[i], max_bytes);
  }
  if (is_tuple && items.size() == 1) out.push_back(',');
  out.push_back(is_tuple ? ')' : ']');
}

void append_dict_repr(std::string& out, const Dict& d, size_t max_bytes) {
  out.push_back('{');
  bool first = true;
  for (const auto& [key, value] : d.items) {
    if (!first) out += ", ";
    first = false;
    append_python_string_repr(out, key);
    out += ": ";
    append_repr(out, value, max_bytes);
  }
  out.push_back('}');
}

}  // namespace

void append_repr(std::string& out, const Value& v, size_t max_bytes) {
  switch (v.kind()) {
    case Value::Kind::kUndefined:
      break;  // Jinja's Undefined prints as ""
    case Value::Kind::kNone:
      out += "None";
      break;
    case Value::Kind::kBool:
      out += v.as_bool() ? "True" : "False";
      break;
    case Value::Kind::kInt:
      out += std::to_string(v.as_int());
      break;
    case Value::Kind::kFloat:
      out += python_float_repr(v.as_double());
      break;
    case Value::Kind::kString:
      append_python_string_repr(out, v.as_string());
      break;
    case Value::Kind::kList:
    case Value::Kind::kTuple:
      append_sequence_repr(out, v, max_bytes);
      break;
    case Value::Kind::kDict:
      append_dict_repr(out, v.as_dict(), max_bytes);
      break;
    case Value::Kind::kNamespace:
      out += "<Namespace ";
      append_dict_repr(out, v.namespace_attributes(), max_bytes);
      out += ">";
      break;
    case Value::Kind::kCallable:
      if (v.as_callable().is_macro) {
        out += "<Macro '" + v.as_callable().name + "'>";
      } else {
        out += "<built-in function " + v.as_callable().name + ">";
      }
      break;
  }
  check_size(out, max_bytes);
}

void append_str(std::string& out, const Value& v, size_t max_bytes) {
  if (v.is_string()) {
    out += v.as_string();
    check_size(out, max_bytes);
  } else if (v.is_undefined()) {
    if (v.undefined_is_unsafe()) require_defined(v);
  } else {
    append_repr(out, v, max_bytes);
  }
}

std::string to_str(const Value& v, size_t max_bytes) {
  std::string out;
  append_str(out, v, max_bytes);
  return out;
}

}  // namespace heretic::hf::jinja
