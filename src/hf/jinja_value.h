// Values of the chat-template interpreter: the Python objects a Jinja2 template sees
// (None, bool, int, float, str, list, tuple, dict, namespace, callables) plus Jinja's
// Undefined. Lists and dicts are immutable once built (transformers renders in an
// ImmutableSandboxedEnvironment), so values share them; only a namespace is mutable.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace heretic::hf::jinja {

class Value;
using List = std::vector<Value>;

// A Python dict with str keys in insertion order (messages and tools JSON keep their order).
struct Dict {
  std::vector<std::pair<std::string, Value>> items;
  const Value* find(const std::string& key) const;
  void set(const std::string& key, Value value);  // replaces in place, else appends
};

struct CallArgs {
  std::vector<Value> positional;
  std::vector<std::pair<std::string, Value>> keyword;
  const Value* find_keyword(const std::string& name) const;
};

using NativeFunction = std::function<Value(const CallArgs&)>;
struct Callable {
  std::string name;  // shown in errors and when printed: "<Macro 'name'>"
  bool is_macro = false;
  NativeFunction call;
};

class Value {
 public:
  enum class Kind { kUndefined, kNone, kBool, kInt, kFloat, kString, kList, kTuple, kDict, kNamespace, kCallable };

  Value() = default;  // Undefined without a hint
  static Value undefined(std::string hint, bool unsafe = false);
  static Value none();
  static Value boolean(bool b);
  static Value integer(int64_t i);
  static Value floating(double f);
  static Value string(std::string s);
  static Value list(List items);
  static Value tuple(List items);
  static Value dict(Dict d);
  static Value namespace_object(Dict attributes);
  static Value callable(std::string name, NativeFunction fn, bool is_macro = false);

  Kind kind() const { return kind_; }
  bool is_undefined() const { return kind_ == Kind::kUndefined; }
  bool is_none() const { return kind_ == Kind::kNone; }
  bool is_bool() const { return kind_ == Kind::kBool; }
  bool is_int() const { return kind_ == Kind::kInt; }
  bool is_float() const { return kind_ == Kind::kFloat; }
  bool is_number() const { return is_bool() || is_int() || is_float(); }
  bool is_string() const { return kind_ == Kind::kString; }
  bool is_sequence() const { return kind_ == Kind::kList || kind_ == Kind::kTuple; }
  bool is_dict() const { return kind_ == Kind::kDict; }
  bool is_namespace() const { return kind_ == Kind::kNamespace; }
  bool is_callable() const { return kind_ == Kind::kCallable; }

  bool as_bool() const { return bool_; }
  int64_t as_int() const { return is_bool() ? (bool_ ? 1 : 0) : int_; }
  double as_double() const { return is_float() ? float_ : static_cast<double>(as_int()); }
  const std::string& as_string() const { return *string_; }
  const List& as_list() const { return *list_; }
  const Dict& as_dict() const { return *dict_; }
  Dict& namespace_attributes() const { return *namespace_; }
  const Callable& as_callable() const { return *callable_; }

  // Undefined: the message UndefinedError will carry ("'x' is undefined"), and whether the
  // sandbox produced it (then using it is a SecurityError).
  const std::string& undefined_hint() const;
  bool undefined_is_unsafe() const { return bool_; }

  // Nesting of lists, tuples and dicts (0 for anything else; a namespace counts 1): at most
  // kMaxValueNesting, so that printing, comparing and destroying a value cannot exhaust the
  // stack. A namespace's attributes never hold a namespace (require_no_namespace), so no value
  // can contain itself either.
  int nesting() const { return nesting_; }
  bool holds_namespace() const { return holds_namespace_; }

 private:
  Kind kind_ = Kind::kUndefined;
  int nesting_ = 0;
  bool holds_namespace_ = false;
  bool bool_ = false;
  int64_t int_ = 0;
  double float_ = 0.0;
  std::shared_ptr<const std::string> string_;  // str, or the hint of an Undefined
  std::shared_ptr<const List> list_;
  std::shared_ptr<const Dict> dict_;
  std::shared_ptr<Dict> namespace_;
  std::shared_ptr<const Callable> callable_;
};

// Deeper than any data a chat template works with (messages, tool schemas).
constexpr int kMaxValueNesting = 256;

// Throws SecurityError when `v` is a namespace or holds one: `what` is about to store it in a
// namespace, and a namespace inside a namespace could come to contain itself.
void require_no_namespace(const Value& v, const std::string& what);

// Python's type name: NoneType, bool, int, float, str, list, tuple, dict, Namespace...
std::string type_name(const Value& v);
// Throws UndefinedError (SecurityError for a sandbox Undefined) when v is Undefined.
void require_defined(const Value& v);

bool truthy(const Value& v);
bool equals(const Value& a, const Value& b);
// Python ordering for <, >, <=, >= (numbers, str, list/tuple); TypeError otherwise.
bool less_than(const Value& a, const Value& b, const char* op_for_error);
// Items a for loop visits: list/tuple items, dict keys, str characters; Undefined is
// empty; anything else is a TypeError ("'NoneType' object is not iterable").
List iterate(const Value& v);

// Python str() and repr(); max_bytes bounds the result (LimitError past it), so that a
// structure with shared parts cannot print exponentially large text.
void append_str(std::string& out, const Value& v, size_t max_bytes);
void append_repr(std::string& out, const Value& v, size_t max_bytes);
std::string to_str(const Value& v, size_t max_bytes);
// Python repr(float): shortest round trip, exponent past 1e16 / below 1e-4 ("1e+16").
std::string python_float_repr(double f);

}  // namespace heretic::hf::jinja
