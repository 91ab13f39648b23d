#include "hf/jinja_access.h"

#include <algorithm>

#include "hf/jinja_error.h"
#include "hf/jinja_string.h"

namespace heretic::hf::jinja {

ArgBinder::ArgBinder(std::string function, const CallArgs& args, std::vector<std::string> names, size_t skip_positional)
    : function_(std::move(function)), bound_(names.size(), nullptr) {
  const size_t positional = args.positional.size() - std::min(skip_positional, args.positional.size());
  if (positional > names.size()) {
    throw JinjaError(ErrorKind::kType, function_ + "() takes at most " + std::to_string(names.size()) + " arguments (" +
                                           std::to_string(positional) + " given)");
  }
  for (size_t i = 0; i < positional; ++i) bound_[i] = &args.positional[i + skip_positional];
  for (const auto& [key, value] : args.keyword) {
    const auto it = std::find(names.begin(), names.end(), key);
    if (it == names.end()) {
      throw JinjaError(ErrorKind::kType, function_ + "() got an unexpected keyword argument '" + key + "'");
    }
    const size_t index = static_cast<size_t>(it - names.begin());
    if (bound_[index] != nullptr) {
      throw JinjaError(ErrorKind::kType, function_ + "() got multiple values for argument '" + key + "'");
    }
    bound_[index] = &value;
  }
}

const Value* ArgBinder::get(size_t index) const { return bound_[index]; }

const Value& ArgBinder::get_or(size_t index, const Value& fallback) const {
  return bound_[index] ? *bound_[index] : fallback;
}

const std::string* ArgBinder::string_or_null(size_t index) const {
  const Value* v = bound_[index];
  if (v == nullptr || v->is_none()) return nullptr;
  if (!v->is_string()) {
    throw JinjaError(ErrorKind::kType, function_ + "() argument must be str or None, not " + type_name(*v));
  }
  return &v->as_string();
}

int64_t ArgBinder::int_or(size_t index, int64_t fallback) const {
  const Value* v = bound_[index];
  if (v == nullptr || v->is_none()) return fallback;
  if (!v->is_int() && !v->is_bool()) {
    throw JinjaError(ErrorKind::kType, "'" + type_name(*v) + "' object cannot be interpreted as an integer");
  }
  return v->as_int();
}

namespace {

// How Jinja names an object in "... has no attribute" messages.
std::string object_description(const Value& v) {
  if (v.is_none()) return "'None'";
  if (v.is_namespace()) return "'jinja2.utils.Namespace object'";
  return "'" + type_name(v) + " object'";
}

std::string repr_of(const Value& key) {
  std::string out;
  append_repr(out, key, 4096);
  return out;
}

// Jinja's wording: "'dict object' has no attribute 'k'", "list object has no element 5".
Value missing(const Value& object, const Value& key) {
  if (!key.is_string()) {
    std::string type = object_description(object);
    type = type.substr(1, type.size() - 2);
    return Value::undefined(type + " has no element " + repr_of(key));
  }
  return Value::undefined(object_description(object) + " has no attribute " + repr_of(key));
}

Value unsafe(const Value& object, const std::string& name) {
  return Value::undefined("access to attribute '" + name + "' of '" + type_name(object) + "' object is unsafe.",
                          /*unsafe=*/true);
}

Value list_of_strings(const std::vector<std::string>& parts) {
  List out;
  out.reserve(parts.size());
  for (const auto& p : parts) out.push_back(Value::string(p));
  return Value::list(std::move(out));
}

bool matches_affix(const std::string& text, const Value& affix, bool prefix, const std::string& fn) {
  if (affix.is_sequence()) {
    for (const Value& one : affix.as_list()) {
      if (matches_affix(text, one, prefix, fn)) return true;
    }
    return false;
  }
  if (!affix.is_string()) {
    throw JinjaError(ErrorKind::kType, fn + " first arg must be str or a tuple of str, not " + type_name(affix));
  }
  const std::string& a = affix.as_string();
  if (a.size() > text.size()) return false;
  return prefix ? text.compare(0, a.size(), a) == 0 : text.compare(text.size() - a.size(), a.size(), a) == 0;
}

Value string_method(const Value& self, const std::string& name, Budget& budget) {
  static const char* const kMethods[] = {
      "split", "rsplit",     "strip", "lstrip", "rstrip", "startswith", "endswith", "replace", "upper",   "lower",
      "title", "capitalize", "find",  "count",  "join",   "isdigit",    "isspace",  "isalpha", "isalnum", "splitlines"};
  if (std::find(std::begin(kMethods), std::end(kMethods), name) == std::end(kMethods)) {
    return missing(self, Value::string(name));
  }
  Budget* b = &budget;
  return Value::callable("str." + name, [self, name, b](const CallArgs& args) -> Value {
    const std::string& s = self.as_string();
    const std::string fn = name;
    if (name == "split" || name == "rsplit") {
      ArgBinder a(fn, args, {"sep", "maxsplit"});
      const std::string* sep = a.string_or_null(0);
      if (sep && sep->empty()) throw JinjaError(ErrorKind::kValue, "empty separator");
      const int64_t maxsplit = a.int_or(1, -1);
      b->step(static_cast<int64_t>(s.size()));
      return list_of_strings(name == "split" ? python_split(s, sep, maxsplit) : python_rsplit(s, sep, maxsplit));
    }
    if (name == "strip" || name == "lstrip" || name == "rstrip") {
      ArgBinder a(fn, args, {"chars"});
      return Value::string(python_strip(s, a.string_or_null(0), name != "rstrip", name != "lstrip"));
    }
    if (name == "startswith" || name == "endswith") {
      ArgBinder a(fn, args, {"prefix", "start", "end"});
      if (!a.get(0)) throw JinjaError(ErrorKind::kType, fn + "() takes at least 1 argument (0 given)");
      return Value::boolean(matches_affix(s, *a.get(0), name == "startswith", fn));
    }
    if (name == "replace") {
      ArgBinder a(fn, args, {"old", "new", "count"});
      const std::string* old_text = a.string_or_null(0);
      const std::string* new_text = a.string_or_null(1);
      if (!old_text || !new_text) throw JinjaError(ErrorKind::kType, "replace() takes at least 2 arguments");
      std::string out = python_replace(s, *old_text, *new_text, a.int_or(2, -1));
      b->check_bytes(out.size());
      return Value::string(std::move(out));
    }
    if (name == "find" || name == "count") {
      ArgBinder a(fn, args, {"sub"});
      const std::string* sub = a.string_or_null(0);
      if (!sub) throw JinjaError(ErrorKind::kType, fn + "() takes at least 1 argument (0 given)");
      if (name == "find") {
        const size_t at = s.find(*sub);
        return Value::integer(at == std::string::npos ? -1 : static_cast<int64_t>(code_point_count(s.substr(0, at))));
      }
      if (sub->empty()) return Value::integer(static_cast<int64_t>(code_point_count(s)) + 1);
      int64_t n = 0;
      for (size_t at = s.find(*sub); at != std::string::npos; at = s.find(*sub, at + sub->size())) ++n;
      return Value::integer(n);
    }
    if (name == "join") {
      ArgBinder a(fn, args, {"iterable"});
      if (!a.get(0)) throw JinjaError(ErrorKind::kType, "join() takes exactly one argument (0 given)");
      std::string out;
      bool first = true;
      for (const Value& item : iterate(*a.get(0))) {
        b->step();
        if (!item.is_string()) {
          throw JinjaError(ErrorKind::kType, "sequence item: expected str instance, " + type_name(item) + " found");
        }
        if (!first) out += s;
        first = false;
        out += item.as_string();
        b->check_bytes(out.size());
      }
      return Value::string(std::move(out));
    }
    if (name == "splitlines") {
      std::vector<std::string> lines;
      size_t start = 0;
      for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\n' || s[i] == '\r') {
          lines.push_back(s.substr(start, i - start));
          if (s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n') ++i;
          start = i + 1;
        }
      }
      if (start < s.size()) lines.push_back(s.substr(start));
      return list_of_strings(lines);
    }
    ArgBinder a(fn, args, {});
    if (name == "upper") return Value::string(ascii_upper(s));
    if (name == "lower") return Value::string(ascii_lower(s));
    if (name == "title") return Value::string(python_title(s));
    if (name == "capitalize") return Value::string(python_capitalize(s));
    const std::u32string cps = decode_utf8(s);
    auto all = [&](auto predicate) {
      return Value::boolean(!cps.empty() && std::all_of(cps.begin(), cps.end(), predicate));
    };
    if (name == "isspace") return all([](char32_t c) { return is_python_space(c); });
    if (name == "isdigit") return all([](char32_t c) { return c >= '0' && c <= '9'; });
    if (name == "isalpha") return all([](char32_t c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; });
    return all([](char32_t c) { return ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || (c >= '0' && c <= '9'); });
  });
}

Value dict_items(const Dict& d) {
  List out;
  out.reserve(d.items.size());
  for (const auto& [k, v] : d.items) out.push_back(Value::tuple({Value::string(k), v}));
  return Value::list(std::move(out));
}

Value dict_method(const Value& self, const std::string& name) {
  if (name == "pop" || name == "popitem" || name == "setdefault" || name == "update" || name == "clear") {
    return unsafe(self, name);
  }
  if (name != "items" && name != "keys" && name != "values" && name != "get") return Value();
  return Value::callable("dict." + name, [self, name](const CallArgs& args) -> Value {
    const Dict& d = self.as_dict();
    if (name == "get") {
      ArgBinder a("get", args, {"key", "default"});
      if (!a.get(0)) throw JinjaError(ErrorKind::kType, "get expected at least 1 argument, got 0");
      const Value& key = *a.get(0);
      const Value* found = key.is_string() ? d.find(key.as_string()) : nullptr;
      return found ? *found : a.get_or(1, Value::none());
    }
    ArgBinder a(name, args, {});
    if (name == "items") return dict_items(d);
    List out;
    for (const auto& [k, v] : d.items) out.push_back(name == "keys" ? Value::string(k) : v);
    return Value::list(std::move(out));
  });
}

Value list_method(const Value& self, const std::string& name) {
  static const char* const kMutators[] = {"append", "extend", "insert", "pop", "remove", "reverse", "sort", "clear"};
  if (std::find(std::begin(kMutators), std::end(kMutators), name) != std::end(kMutators)) {
    return unsafe(self, name);
  }
  if (name != "index" && name != "count") return missing(self, Value::string(name));
  return Value::callable(type_name(self) + "." + name, [self, name](const CallArgs& args) -> Value {
    ArgBinder a(name, args, {"value"});
    if (!a.get(0)) throw JinjaError(ErrorKind::kType, name + "() takes exactly one argument (0 given)");
    int64_t count = 0;
    const List& items = self.as_list();
    for (size_t i = 0; i < items.size(); ++i) {
      if (!equals(items[i], *a.get(0))) continue;
      if (name == "index") return Value::integer(static_cast<int64_t>(i));
      ++count;
    }
    if (name == "index") throw JinjaError(ErrorKind::kValue, repr_of(*a.get(0)) + " is not in list");
    return Value::integer(count);
  });
}

// Index into a sequence of n items; -1 when out of range.
int64_t normalize_index(int64_t index, size_t n) {
  if (index < 0) index += static_cast<int64_t>(n);
  return (index < 0 || index >= static_cast<int64_t>(n)) ? -1 : index;
}

}  // namespace

Value get_attribute(const Value& object, const std::string& name, Budget& budget) {
  require_defined(object);
  switch (object.kind()) {
    case Value::Kind::kDict: {
      Value method = dict_method(object, name);
      if (!method.is_undefined() || method.undefined_is_unsafe()) return method;
      const Value* found = object.as_dict().find(name);
      return found ? *found : missing(object, Value::string(name));
    }
    case Value::Kind::kString:
      return string_method(object, name, budget);
    case Value::Kind::kList:
    case Value::Kind::kTuple:
      return list_method(object, name);
    case Value::Kind::kNamespace: {
      const Value* found = object.namespace_attributes().find(name);
      return found ? *found : missing(object, Value::string(name));
    }
    default:
      return missing(object, Value::string(name));
  }
}

Value get_item(const Value& object, const Value& key, Budget& budget) {
  require_defined(object);
  switch (object.kind()) {
    case Value::Kind::kDict:
      if (key.is_string()) {
        const Value* found = object.as_dict().find(key.as_string());
        if (found) return *found;
        Value method = dict_method(object, key.as_string());
        if (!method.is_undefined() || method.undefined_is_unsafe()) return method;
      }
      return missing(object, key);
    case Value::Kind::kList:
    case Value::Kind::kTuple:
    case Value::Kind::kString: {
      if (key.is_int() || key.is_bool()) {
        if (object.is_string()) {
          const std::u32string cps = decode_utf8(object.as_string());
          const int64_t i = normalize_index(key.as_int(), cps.size());
          if (i < 0) return missing(object, key);
          std::string one;
          append_utf8(one, cps[static_cast<size_t>(i)]);
          return Value::string(std::move(one));
        }
        const int64_t i = normalize_index(key.as_int(), object.as_list().size());
        return i < 0 ? missing(object, key) : object.as_list()[static_cast<size_t>(i)];
      }
      if (key.is_string()) return get_attribute(object, key.as_string(), budget);
      return missing(object, key);
    }
    case Value::Kind::kNamespace:
      if (key.is_string()) return get_attribute(object, key.as_string(), budget);
      return missing(object, key);
    default:
      return missing(object, key);
  }
}

Value get_slice(const Value& object, const Value* start, const Value* stop, const Value* step) {
  require_defined(object);
  if (!object.is_string() && !object.is_sequence())
    return Value::undefined(object_description(object) + " has no attribute slice");
  auto bound = [](const Value* v, const char* what) -> const Value* {
    if (v == nullptr || v->is_none()) return nullptr;
    if (!v->is_int() && !v->is_bool()) {
      throw JinjaError(ErrorKind::kType, std::string("slice ") + what + " must be an integer or None");
    }
    return v;
  };
  const Value* b = bound(start, "indices");
  const Value* e = bound(stop, "indices");
  const Value* s = bound(step, "step");
  const int64_t stride = s ? s->as_int() : 1;
  if (stride == 0) throw JinjaError(ErrorKind::kValue, "slice step cannot be zero");
  std::u32string cps;
  if (object.is_string()) cps = decode_utf8(object.as_string());
  const int64_t n = static_cast<int64_t>(object.is_string() ? cps.size() : object.as_list().size());
  // Python's PySlice_AdjustIndices.
  auto adjust = [&](const Value* v, int64_t fallback) {
    if (v == nullptr) return fallback;
    int64_t i = v->as_int();
    if (i < 0) {
      i += n;
      if (i < 0) i = stride < 0 ? -1 : 0;
    } else if (i >= n) {
      i = stride < 0 ? n - 1 : n;
    }
    return i;
  };
  const int64_t first = adjust(b, stride < 0 ? n - 1 : 0);
  const int64_t last = adjust(e, stride < 0 ? -1 : n);
  std::vector<int64_t> picks;
  for (int64_t i = first; stride > 0 ? i < last : i > last; i += stride) picks.push_back(i);
  if (object.is_string()) {
    std::u32string out;
    for (int64_t i : picks) out.push_back(cps[static_cast<size_t>(i)]);
    return Value::string(encode_utf8(out));
  }
  List out;
  for (int64_t i : picks) out.push_back(object.as_list()[static_cast<size_t>(i)]);
  return object.kind() == Value::Kind::kTuple ? Value::tuple(std::move(out)) : Value::list(std::move(out));
}

Value call_value(const Value& callee, const CallArgs& args) {
  require_defined(callee);
  if (!callee.is_callable()) {
    throw JinjaError(ErrorKind::kType, "'" + type_name(callee) + "' object is not callable");
  }
  return callee.as_callable().call(args);
}

}  // namespace heretic::hf::jinja
