#include "hf/jinja_filters.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "hf/jinja_access.h"
#include "hf/jinja_error.h"
#include "hf/jinja_json.h"
#include "hf/jinja_operators.h"
#include "hf/jinja_string.h"

namespace heretic::hf::jinja {

namespace {

const char* const kFilters[] = {
    "tojson", "trim",   "length",  "count",   "join", "list",   "string",   "items",      "selectattr", "rejectattr",
    "select", "reject", "map",     "default", "d",    "upper",  "lower",    "capitalize", "title",      "replace",
    "first",  "last",   "reverse", "sort",    "int",  "float",  "abs",      "max",        "min",        "sum",
    "unique", "safe",   "format",  "escape",  "e",    "indent", "dictsort", "batch",      "round",      "wordcount"};

const char* const kTests[] = {
    "defined", "undefined", "none",     "boolean",  "true",     "false", "integer", "float",       "number",
    "string",  "mapping",   "iterable", "sequence", "callable", "odd",   "even",    "divisibleby", "equalto",
    "eq",      "==",        "ne",       "!=",       "lt",       "<",     "le",      "<=",          "gt",
    ">",       "ge",        ">=",       "in",       "lower",    "upper", "sameas",  "filter",      "test"};

int64_t length_of(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kUndefined:
      return 0;
    case Value::Kind::kString:
      return static_cast<int64_t>(code_point_count(v.as_string()));
    case Value::Kind::kList:
    case Value::Kind::kTuple:
      return static_cast<int64_t>(v.as_list().size());
    case Value::Kind::kDict:
      return static_cast<int64_t>(v.as_dict().items.size());
    default:
      throw JinjaError(ErrorKind::kType, "object of type '" + type_name(v) + "' has no len()");
  }
}

// Jinja's attribute getter for filters: "a.b" walks dotted paths, digits index lists.
Value lookup_path(const Value& item, const std::string& path, Budget& budget) {
  Value current = item;
  size_t start = 0;
  while (true) {
    const size_t dot = path.find('.', start);
    const std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    const bool numeric =
        !part.empty() && std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
    current = get_item(current, numeric ? Value::integer(std::atoll(part.c_str())) : Value::string(part), budget);
    if (dot == std::string::npos) return current;
    start = dot + 1;
  }
}

CallArgs tail_args(const CallArgs& args, size_t from) {
  CallArgs rest;
  for (size_t i = from; i < args.positional.size(); ++i) rest.positional.push_back(args.positional[i]);
  rest.keyword = args.keyword;
  return rest;
}

// select/reject/selectattr/rejectattr share one loop.
Value select_items(const Value& input, const CallArgs& args, bool by_attribute, bool keep, Budget& budget) {
  size_t next = 0;
  std::string attribute;
  if (by_attribute) {
    if (args.positional.empty() || !args.positional[0].is_string()) {
      throw JinjaError(ErrorKind::kType, "selectattr/rejectattr need an attribute name");
    }
    attribute = args.positional[0].as_string();
    next = 1;
  }
  std::string test;
  if (next < args.positional.size()) {
    if (!args.positional[next].is_string()) throw JinjaError(ErrorKind::kType, "test name must be a string");
    test = args.positional[next].as_string();
    ++next;
  }
  const CallArgs test_args = tail_args(args, next);
  List out;
  for (const Value& item : iterate(input)) {
    budget.step();
    const Value subject = by_attribute ? lookup_path(item, attribute, budget) : item;
    const bool passed = test.empty() ? truthy(subject) : apply_test(test, subject, test_args, budget);
    if (passed == keep) out.push_back(item);
  }
  return Value::list(std::move(out));
}

Value map_items(const Value& input, const CallArgs& args, Budget& budget) {
  List out;
  if (const Value* attribute = args.find_keyword("attribute")) {
    const Value* fallback = args.find_keyword("default");
    for (const Value& item : iterate(input)) {
      budget.step();
      Value v = lookup_path(item, to_str(*attribute, budget.max_bytes()), budget);
      out.push_back(v.is_undefined() && fallback ? *fallback : v);
    }
    return Value::list(std::move(out));
  }
  if (args.positional.empty() || !args.positional[0].is_string()) {
    throw JinjaError(ErrorKind::kType, "map() needs a filter name or attribute=");
  }
  const std::string filter = args.positional[0].as_string();
  const CallArgs rest = tail_args(args, 1);
  for (const Value& item : iterate(input)) {
    budget.step();
    out.push_back(apply_filter(filter, item, rest, budget));
  }
  return Value::list(std::move(out));
}

Value tojson(const Value& input, const CallArgs& args, Budget& budget) {
  ArgBinder a("tojson", args, {"ensure_ascii", "indent", "separators", "sort_keys"});
  JsonDumpOptions options;
  if (a.get(0) && truthy(*a.get(0))) {
    throw JinjaError(ErrorKind::kValue, "tojson(ensure_ascii=True) is not supported");
  }
  options.indent = static_cast<int>(a.int_or(1, -1));
  if (const Value* separators = a.get(2); separators && !separators->is_none()) {
    if (!separators->is_sequence() || separators->as_list().size() != 2 || !separators->as_list()[0].is_string() ||
        !separators->as_list()[1].is_string()) {
      throw JinjaError(ErrorKind::kValue, "separators must be a pair of strings");
    }
    options.item_separator = separators->as_list()[0].as_string();
    options.key_separator = separators->as_list()[1].as_string();
  }
  options.sort_keys = a.get(3) && truthy(*a.get(3));
  return Value::string(dump_json(input, options, budget.max_bytes()));
}

Value sorted(const Value& input, const CallArgs& args, Budget& budget) {
  ArgBinder a("sort", args, {"reverse", "case_sensitive", "attribute"});
  const bool reverse = a.get(0) && truthy(*a.get(0));
  const bool case_sensitive = a.get(1) && truthy(*a.get(1));
  const std::string* attribute = a.string_or_null(2);
  List items = iterate(input);
  budget.step(static_cast<int64_t>(items.size()));
  auto key = [&](const Value& v) {
    Value k = attribute ? lookup_path(v, *attribute, budget) : v;
    if (!case_sensitive && k.is_string()) return Value::string(ascii_lower(k.as_string()));
    return k;
  };
  std::stable_sort(items.begin(), items.end(), [&](const Value& x, const Value& y) {
    return reverse ? less_than(key(y), key(x), "<") : less_than(key(x), key(y), "<");
  });
  return Value::list(std::move(items));
}

Value to_int(const Value& input, const CallArgs& args) {
  ArgBinder a("int", args, {"default", "base"});
  const Value fallback = a.get_or(0, Value::integer(0));
  if (input.is_int() || input.is_bool()) return Value::integer(input.as_int());
  if (input.is_float()) {
    if (!std::isfinite(input.as_double())) return fallback;
    return Value::integer(static_cast<int64_t>(input.as_double()));
  }
  if (input.is_string()) {
    const std::string text = python_strip(input.as_string(), nullptr, true, true);
    char* end = nullptr;
    errno = 0;
    const long long n = std::strtoll(text.c_str(), &end, static_cast<int>(a.int_or(1, 10)));
    if (!text.empty() && end && *end == '\0' && errno == 0) return Value::integer(n);
    const double d = std::strtod(text.c_str(), &end);
    if (!text.empty() && end && *end == '\0' && std::isfinite(d)) return Value::integer(static_cast<int64_t>(d));
  }
  return fallback;
}

Value to_float(const Value& input, const CallArgs& args) {
  ArgBinder a("float", args, {"default"});
  if (input.is_number()) return Value::floating(input.as_double());
  if (input.is_string()) {
    const std::string text = python_strip(input.as_string(), nullptr, true, true);
    char* end = nullptr;
    const double d = std::strtod(text.c_str(), &end);
    if (!text.empty() && end && *end == '\0') return Value::floating(d);
  }
  return a.get_or(0, Value::floating(0.0));
}

std::string html_escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&#34;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

Value extreme(const Value& input, bool want_max) {
  List items = iterate(input);
  if (items.empty()) return Value::undefined("No aggregated item, sequence was empty.");
  Value best = items[0];
  for (const Value& v : items) {
    if (want_max ? less_than(best, v, "<") : less_than(v, best, "<")) best = v;
  }
  return best;
}

}  // namespace

bool has_filter(const std::string& name) {
  return std::find(std::begin(kFilters), std::end(kFilters), name) != std::end(kFilters);
}

bool has_test(const std::string& name) {
  return std::find(std::begin(kTests), std::end(kTests), name) != std::end(kTests);
}

Value apply_filter(const std::string& name, const Value& input, const CallArgs& args, Budget& budget) {
  const size_t max = budget.max_bytes();
  if (name == "tojson") return tojson(input, args, budget);
  if (name == "trim") {
    ArgBinder a("trim", args, {"chars"});
    return Value::string(python_strip(to_str(input, max), a.string_or_null(0), true, true));
  }
  if (name == "length" || name == "count") return Value::integer(length_of(input));
  if (name == "join") {
    ArgBinder a("join", args, {"d", "attribute"});
    const std::string separator = a.get(0) ? to_str(*a.get(0), max) : std::string();
    const std::string* attribute = a.string_or_null(1);
    std::string out;
    bool first = true;
    for (const Value& item : iterate(input)) {
      budget.step();
      if (!first) out += separator;
      first = false;
      append_str(out, attribute ? lookup_path(item, *attribute, budget) : item, max);
    }
    return Value::string(std::move(out));
  }
  if (name == "list") {
    List items = iterate(input);
    budget.step(static_cast<int64_t>(items.size()));
    return Value::list(std::move(items));
  }
  if (name == "string") return Value::string(to_str(input, max));
  if (name == "items") {
    if (input.is_undefined()) return Value::list({});
    if (!input.is_dict()) throw JinjaError(ErrorKind::kType, "Can only get item pairs from a mapping.");
    List out;
    for (const auto& [k, v] : input.as_dict().items) out.push_back(Value::tuple({Value::string(k), v}));
    return Value::list(std::move(out));
  }
  if (name == "selectattr") return select_items(input, args, true, true, budget);
  if (name == "rejectattr") return select_items(input, args, true, false, budget);
  if (name == "select") return select_items(input, args, false, true, budget);
  if (name == "reject") return select_items(input, args, false, false, budget);
  if (name == "map") return map_items(input, args, budget);
  if (name == "default" || name == "d") {
    ArgBinder a(name, args, {"default_value", "boolean"});
    const bool boolean = a.get(1) && truthy(*a.get(1));
    if (input.is_undefined() || (boolean && !truthy(input))) return a.get_or(0, Value::string(""));
    return input;
  }
  if (name == "upper") return Value::string(ascii_upper(to_str(input, max)));
  if (name == "lower") return Value::string(ascii_lower(to_str(input, max)));
  if (name == "capitalize") return Value::string(python_capitalize(to_str(input, max)));
  if (name == "title") return Value::string(python_title(to_str(input, max)));
  if (name == "replace") {
    ArgBinder a("replace", args, {"old", "new", "count"});
    if (!a.get(0) || !a.get(1)) throw JinjaError(ErrorKind::kType, "replace needs old and new");
    std::string out =
        python_replace(to_str(input, max), to_str(*a.get(0), max), to_str(*a.get(1), max), a.int_or(2, -1));
    budget.check_bytes(out.size());
    return Value::string(std::move(out));
  }
  if (name == "first" || name == "last") {
    List items = iterate(input);
    if (items.empty()) return Value::undefined("No " + name + " item, sequence was empty.");
    return name == "first" ? items.front() : items.back();
  }
  if (name == "reverse") {
    if (input.is_string()) {
      std::u32string cps = decode_utf8(input.as_string());
      std::reverse(cps.begin(), cps.end());
      return Value::string(encode_utf8(cps));
    }
    List items = iterate(input);
    std::reverse(items.begin(), items.end());
    return Value::list(std::move(items));
  }
  if (name == "sort") return sorted(input, args, budget);
  if (name == "dictsort") {
    if (!input.is_dict()) throw JinjaError(ErrorKind::kType, "dictsort needs a mapping");
    List pairs;
    for (const auto& [k, v] : input.as_dict().items) pairs.push_back(Value::tuple({Value::string(k), v}));
    std::stable_sort(pairs.begin(), pairs.end(), [](const Value& x, const Value& y) {
      return ascii_lower(x.as_list()[0].as_string()) < ascii_lower(y.as_list()[0].as_string());
    });
    return Value::list(std::move(pairs));
  }
  if (name == "unique") {
    List out;
    for (const Value& v : iterate(input)) {
      budget.step(static_cast<int64_t>(out.size()) + 1);
      if (std::none_of(out.begin(), out.end(), [&](const Value& seen) { return equals(seen, v); })) out.push_back(v);
    }
    return Value::list(std::move(out));
  }
  if (name == "int") return to_int(input, args);
  if (name == "float") return to_float(input, args);
  if (name == "abs") {
    require_defined(input);
    if (input.is_float()) return Value::floating(std::fabs(input.as_double()));
    if (input.is_int() || input.is_bool()) return input.as_int() < 0 ? negate(input) : Value::integer(input.as_int());
    throw JinjaError(ErrorKind::kType, "bad operand type for abs(): '" + type_name(input) + "'");
  }
  if (name == "round") {
    ArgBinder a("round", args, {"precision", "method"});
    const double scale = std::pow(10.0, static_cast<double>(a.int_or(0, 0)));
    return Value::floating(std::nearbyint(input.as_double() * scale) / scale);
  }
  if (name == "max" || name == "min") return extreme(input, name == "max");
  if (name == "sum") {
    ArgBinder a("sum", args, {"attribute", "start"});
    const std::string* attribute = a.string_or_null(0);
    Value total = a.get_or(1, Value::integer(0));
    for (const Value& v : iterate(input)) {
      budget.step();
      total = binary_operation("+", total, attribute ? lookup_path(v, *attribute, budget) : v, budget);
    }
    return total;
  }
  if (name == "safe") return input;
  if (name == "format") {
    if (!input.is_string()) throw JinjaError(ErrorKind::kType, "format filter needs a string");
    return Value::string(percent_format(input.as_string(), Value::tuple(args.positional), budget));
  }
  if (name == "escape" || name == "e") return Value::string(html_escape(to_str(input, max)));
  if (name == "wordcount") {
    return Value::integer(static_cast<int64_t>(python_split(to_str(input, max), nullptr, -1).size()));
  }
  if (name == "indent") {
    ArgBinder a("indent", args, {"width", "first", "blank"});
    std::string pad;
    if (a.get(0) && a.get(0)->is_string()) {
      pad = a.get(0)->as_string();
    } else {
      // A pad wider than the output limit can never be written (fuzzing found indent(2^64 - 2)).
      const auto width = static_cast<uint64_t>(std::max<int64_t>(0, a.int_or(0, 4)));
      budget.check_bytes(static_cast<size_t>(std::min<uint64_t>(width, budget.max_bytes() + 1)));
      pad.assign(static_cast<size_t>(width), ' ');
    }
    const bool first = a.get(1) && truthy(*a.get(1));
    const bool blank = a.get(2) && truthy(*a.get(2));
    const std::string text = to_str(input, max);
    std::string out;
    size_t start = 0;
    bool is_first = true;
    while (start <= text.size()) {
      const size_t nl = text.find('\n', start);
      const std::string line = text.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
      if ((!is_first || first) && (blank || !line.empty())) out += pad;
      out += line;
      if (nl == std::string::npos) break;
      out += "\n";
      start = nl + 1;
      is_first = false;
      budget.check_bytes(out.size());
    }
    return Value::string(std::move(out));
  }
  if (name == "batch") {
    ArgBinder a("batch", args, {"linecount", "fill_with"});
    const int64_t size = a.int_or(0, 1);
    if (size <= 0) throw JinjaError(ErrorKind::kValue, "batch size must be positive");
    List out;
    List current;
    for (const Value& v : iterate(input)) {
      budget.step();
      current.push_back(v);
      if (static_cast<int64_t>(current.size()) == size) {
        out.push_back(Value::list(std::move(current)));
        current.clear();
      }
    }
    if (!current.empty()) {
      if (const Value* fill = a.get(1)) {
        while (static_cast<int64_t>(current.size()) < size) current.push_back(*fill);
      }
      out.push_back(Value::list(std::move(current)));
    }
    return Value::list(std::move(out));
  }
  throw JinjaError(ErrorKind::kSyntax, "no filter named '" + name + "'");
}

bool apply_test(const std::string& name, const Value& input, const CallArgs& args, Budget& budget) {
  auto operand = [&]() -> const Value& {
    if (args.positional.empty()) throw JinjaError(ErrorKind::kType, "test '" + name + "' needs an argument");
    return args.positional[0];
  };
  if (name == "defined") return !input.is_undefined();
  if (name == "undefined") return input.is_undefined();
  if (name == "none") return input.is_none();
  if (name == "boolean") return input.is_bool();
  if (name == "true") return input.is_bool() && input.as_bool();
  if (name == "false") return input.is_bool() && !input.as_bool();
  if (name == "integer") return input.is_int();
  if (name == "float") return input.is_float();
  if (name == "number") return input.is_number();
  if (name == "string") return input.is_string();
  if (name == "mapping") return input.is_dict();
  if (name == "iterable") {
    return input.is_undefined() || input.is_string() || input.is_sequence() || input.is_dict();
  }
  if (name == "sequence") {
    return input.is_undefined() || input.is_string() || input.is_sequence() || input.is_dict();
  }
  // Jinja's Undefined has __call__ (it raises), so Python calls it callable.
  if (name == "callable") return input.is_callable() || input.is_undefined();
  if (name == "odd" || name == "even") {
    require_defined(input);
    if (!input.is_int() && !input.is_bool()) throw JinjaError(ErrorKind::kType, "odd/even need an integer");
    return (input.as_int() % 2 != 0) == (name == "odd");
  }
  if (name == "divisibleby") {
    const Value r = binary_operation("%", input, operand(), budget);
    return r.as_double() == 0.0;
  }
  if (name == "equalto" || name == "eq" || name == "==") return equals(input, operand());
  if (name == "ne" || name == "!=") return !equals(input, operand());
  if (name == "lt" || name == "<") return less_than(input, operand(), "<");
  if (name == "le" || name == "<=") return !less_than(operand(), input, "<=");
  if (name == "gt" || name == ">") return less_than(operand(), input, ">");
  if (name == "ge" || name == ">=") return !less_than(input, operand(), ">=");
  if (name == "in") return contains(operand(), input);
  if (name == "lower") return input.is_string() && ascii_lower(input.as_string()) == input.as_string();
  if (name == "upper") return input.is_string() && ascii_upper(input.as_string()) == input.as_string();
  if (name == "sameas") {
    const Value& other = operand();
    if (input.kind() != other.kind()) return false;
    if (input.is_none() || input.is_undefined()) return true;
    if (input.is_bool()) return input.as_bool() == other.as_bool();
    return equals(input, other) && (input.is_int() || input.is_string());
  }
  if (name == "filter") return operand().is_string() && has_filter(operand().as_string());
  if (name == "test") return operand().is_string() && has_test(operand().as_string());
  throw JinjaError(ErrorKind::kSyntax, "no test named '" + name + "'");
}

Dict default_globals(Budget& budget) {
  Dict globals;
  globals.set("namespace", Value::callable("namespace", [](const CallArgs& args) {
                Dict attributes;
                for (const Value& positional : args.positional) {
                  if (!positional.is_dict())
                    throw JinjaError(ErrorKind::kType, "namespace() takes a mapping or keyword arguments");
                  for (const auto& [k, v] : positional.as_dict().items) attributes.set(k, v);
                }
                for (const auto& [k, v] : args.keyword) attributes.set(k, v);
                for (const auto& [k, v] : attributes.items) require_no_namespace(v, "namespace(" + k + "=...)");
                return Value::namespace_object(std::move(attributes));
              }));
  globals.set("dict", Value::callable("dict", [](const CallArgs& args) {
                Dict d;
                for (const Value& positional : args.positional) {
                  if (!positional.is_dict())
                    throw JinjaError(ErrorKind::kType, "dict() takes a mapping or keyword arguments");
                  for (const auto& [k, v] : positional.as_dict().items) d.set(k, v);
                }
                for (const auto& [k, v] : args.keyword) d.set(k, v);
                return Value::dict(std::move(d));
              }));
  Budget* b = &budget;
  globals.set("range", Value::callable("range", [b](const CallArgs& args) {
                if (!args.keyword.empty() || args.positional.empty() || args.positional.size() > 3) {
                  throw JinjaError(ErrorKind::kType, "range expected 1 to 3 integer arguments");
                }
                for (const Value& v : args.positional) {
                  if (!v.is_int() && !v.is_bool()) {
                    throw JinjaError(ErrorKind::kType,
                                     "'" + type_name(v) + "' object cannot be interpreted as an integer");
                  }
                }
                int64_t start = 0;
                int64_t stop = args.positional[0].as_int();
                int64_t step = 1;
                if (args.positional.size() >= 2) {
                  start = args.positional[0].as_int();
                  stop = args.positional[1].as_int();
                }
                if (args.positional.size() == 3) step = args.positional[2].as_int();
                if (step == 0) throw JinjaError(ErrorKind::kValue, "range() arg 3 must not be zero");
                // Count first, charge the budget, then build: range(10**12) fails instead of filling memory.
                const long double span =
                    step > 0 ? static_cast<long double>(stop) - start : static_cast<long double>(start) - stop;
                const long double count = span <= 0 ? 0 : std::ceil(span / std::fabs(static_cast<long double>(step)));
                b->step(static_cast<int64_t>(std::min<long double>(count, 9.0e18L)));
                List out;
                for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) out.push_back(Value::integer(i));
                return Value::list(std::move(out));
              }));
  return globals;
}

}  // namespace heretic::hf::jinja
