#include "hf/jinja_operators.h"

#include <cctype>
#include <climits>
#include <cmath>
#include <cstdio>

#include "hf/jinja_error.h"

namespace heretic::hf::jinja {

namespace {

[[noreturn]] void unsupported(const std::string& op, const Value& a, const Value& b) {
  throw JinjaError(ErrorKind::kType,
                   "unsupported operand type(s) for " + op + ": '" + type_name(a) + "' and '" + type_name(b) + "'");
}

[[noreturn]] void overflow() {
  throw JinjaError(ErrorKind::kOverflow, "integer result does not fit in 64 bits (this engine's integers)");
}

bool is_integral(const Value& v) { return v.is_int() || v.is_bool(); }

int64_t checked_add(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r)) overflow();
  return r;
}
int64_t checked_sub(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_sub_overflow(a, b, &r)) overflow();
  return r;
}
int64_t checked_mul(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r)) overflow();
  return r;
}

int64_t floor_div(int64_t a, int64_t b) {
  if (a == INT64_MIN && b == -1) overflow();
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

int64_t floor_mod(int64_t a, int64_t b) {
  if (b == -1) return 0;
  int64_t r = a % b;
  if (r != 0 && ((r < 0) != (b < 0))) r += b;
  return r;
}

double float_mod(double a, double b) {
  double r = std::fmod(a, b);
  if (r != 0 && ((r < 0) != (b < 0))) r += b;
  return r;
}

Value repeat(const Value& sequence, int64_t count, Budget& budget) {
  if (count < 0) count = 0;
  if (sequence.is_string()) {
    const std::string& s = sequence.as_string();
    if (!s.empty() && static_cast<uint64_t>(count) > budget.max_bytes() / s.size()) {
      budget.check_bytes(budget.max_bytes() + 1);
    }
    std::string out;
    out.reserve(s.size() * static_cast<size_t>(count));
    for (int64_t i = 0; i < count; ++i) out += s;
    return Value::string(std::move(out));
  }
  const List& items = sequence.as_list();
  budget.step(static_cast<int64_t>(items.size()) * count);
  List out;
  for (int64_t i = 0; i < count; ++i) out.insert(out.end(), items.begin(), items.end());
  return sequence.kind() == Value::Kind::kTuple ? Value::tuple(std::move(out)) : Value::list(std::move(out));
}

Value add(const Value& a, const Value& b, Budget& budget) {
  if (a.is_number() && b.is_number()) {
    if (a.is_float() || b.is_float()) return Value::floating(a.as_double() + b.as_double());
    return Value::integer(checked_add(a.as_int(), b.as_int()));
  }
  if (a.is_string()) {
    if (!b.is_string()) {
      throw JinjaError(ErrorKind::kType, "can only concatenate str (not \"" + type_name(b) + "\") to str");
    }
    budget.check_bytes(a.as_string().size() + b.as_string().size());
    return Value::string(a.as_string() + b.as_string());
  }
  if (a.is_sequence()) {
    const char* name = a.kind() == Value::Kind::kTuple ? "tuple" : "list";
    if (b.kind() != a.kind()) {
      throw JinjaError(ErrorKind::kType,
                       std::string("can only concatenate ") + name + " (not \"" + type_name(b) + "\") to " + name);
    }
    List out = a.as_list();
    budget.step(static_cast<int64_t>(out.size() + b.as_list().size()));
    out.insert(out.end(), b.as_list().begin(), b.as_list().end());
    return a.kind() == Value::Kind::kTuple ? Value::tuple(std::move(out)) : Value::list(std::move(out));
  }
  unsupported("+", a, b);
}

Value multiply(const Value& a, const Value& b, Budget& budget) {
  if (a.is_number() && b.is_number()) {
    if (a.is_float() || b.is_float()) return Value::floating(a.as_double() * b.as_double());
    return Value::integer(checked_mul(a.as_int(), b.as_int()));
  }
  if ((a.is_string() || a.is_sequence()) && is_integral(b)) return repeat(a, b.as_int(), budget);
  if ((b.is_string() || b.is_sequence()) && is_integral(a)) return repeat(b, a.as_int(), budget);
  if ((a.is_string() || a.is_sequence()) && b.is_float()) {
    throw JinjaError(ErrorKind::kType, "can't multiply sequence by non-int of type 'float'");
  }
  unsupported("*", a, b);
}

Value power(const Value& a, const Value& b) {
  if (!a.is_number() || !b.is_number()) unsupported("** or pow()", a, b);
  if (a.is_float() || b.is_float() || b.as_int() < 0) {
    if (a.as_double() == 0.0 && b.as_double() < 0) {
      throw JinjaError(ErrorKind::kZeroDivision, "0.0 cannot be raised to a negative power");
    }
    return Value::floating(std::pow(a.as_double(), b.as_double()));
  }
  int64_t result = 1;
  int64_t base = a.as_int();
  for (int64_t e = b.as_int(); e > 0; e >>= 1) {
    if (e & 1) result = checked_mul(result, base);
    if (e > 1) base = checked_mul(base, base);
  }
  return Value::integer(result);
}

}  // namespace

Value binary_operation(const std::string& op, const Value& a, const Value& b, Budget& budget) {
  if (op == "~") {
    std::string out = to_str(a, budget.max_bytes());
    append_str(out, b, budget.max_bytes());
    return Value::string(std::move(out));
  }
  require_defined(a);
  require_defined(b);
  if (op == "+") return add(a, b, budget);
  if (op == "*") return multiply(a, b, budget);
  if (op == "**") return power(a, b);
  if (op == "%" && a.is_string()) return Value::string(percent_format(a.as_string(), b, budget));
  if (!a.is_number() || !b.is_number()) unsupported(op, a, b);
  const bool as_float = a.is_float() || b.is_float();
  if (op == "-") {
    if (as_float) return Value::floating(a.as_double() - b.as_double());
    return Value::integer(checked_sub(a.as_int(), b.as_int()));
  }
  if (op == "/") {
    if (b.as_double() == 0.0) throw JinjaError(ErrorKind::kZeroDivision, "division by zero");
    return Value::floating(a.as_double() / b.as_double());
  }
  if (op == "//") {
    if (as_float) {
      if (b.as_double() == 0.0) {
        throw JinjaError(ErrorKind::kZeroDivision, "float floor division by zero");
      }
      return Value::floating(std::floor(a.as_double() / b.as_double()));
    }
    if (b.as_int() == 0) {
      throw JinjaError(ErrorKind::kZeroDivision, "integer division or modulo by zero");
    }
    return Value::integer(floor_div(a.as_int(), b.as_int()));
  }
  if (op == "%") {
    if (as_float) {
      if (b.as_double() == 0.0) throw JinjaError(ErrorKind::kZeroDivision, "float modulo");
      return Value::floating(float_mod(a.as_double(), b.as_double()));
    }
    if (b.as_int() == 0) throw JinjaError(ErrorKind::kZeroDivision, "integer modulo by zero");
    return Value::integer(floor_mod(a.as_int(), b.as_int()));
  }
  throw JinjaError(ErrorKind::kRuntime, "unknown operator " + op);
}

Value negate(const Value& v) {
  require_defined(v);
  if (v.is_float()) return Value::floating(-v.as_double());
  if (is_integral(v)) return Value::integer(checked_sub(0, v.as_int()));
  throw JinjaError(ErrorKind::kType, "bad operand type for unary -: '" + type_name(v) + "'");
}

bool contains(const Value& container, const Value& item) {
  switch (container.kind()) {
    case Value::Kind::kString:
      if (!item.is_string()) {
        throw JinjaError(ErrorKind::kType, "'in <string>' requires string as left operand, not " + type_name(item));
      }
      return container.as_string().find(item.as_string()) != std::string::npos;
    case Value::Kind::kList:
    case Value::Kind::kTuple:
      for (const Value& element : container.as_list()) {
        if (equals(element, item)) return true;
      }
      return false;
    case Value::Kind::kDict:
      return item.is_string() && container.as_dict().find(item.as_string()) != nullptr;
    case Value::Kind::kUndefined:
      if (container.undefined_is_unsafe()) require_defined(container);
      return false;
    default:
      throw JinjaError(ErrorKind::kType, "argument of type '" + type_name(container) + "' is not iterable");
  }
}

// The largest precision a %-format accepts.
constexpr int kMaxPrecision = 1000;

std::string percent_format(const std::string& format, const Value& args, Budget& budget) {
  List values = args.kind() == Value::Kind::kTuple ? args.as_list() : List{args};
  size_t next = 0;
  std::string out;
  for (size_t i = 0; i < format.size(); ++i) {
    if (format[i] != '%') {
      out.push_back(format[i]);
      continue;
    }
    size_t j = i + 1;
    std::string flags;
    while (j < format.size() && std::string("-+ 0#").find(format[j]) != std::string::npos) {
      flags.push_back(format[j++]);
    }
    // Width pads the piece: more than the output limit can never be rendered. Python refuses a
    // precision that does not fit a C int ("precision too big").
    size_t width = 0;
    while (j < format.size() && std::isdigit(static_cast<unsigned char>(format[j]))) {
      width = width * 10 + static_cast<size_t>(format[j++] - '0');
      if (width > budget.max_bytes()) budget.check_bytes(width);
    }
    int precision = -1;
    if (j < format.size() && format[j] == '.') {
      precision = 0;
      ++j;
      while (j < format.size() && std::isdigit(static_cast<unsigned char>(format[j]))) {
        if (precision > (INT_MAX - 9) / 10) throw JinjaError(ErrorKind::kValue, "precision too big");
        precision = precision * 10 + (format[j++] - '0');
      }
      // Python prints any precision; formatting millions of digits takes seconds, and no chat
      // template needs more than a few.
      if (precision > kMaxPrecision) {
        throw JinjaError(ErrorKind::kLimit, "format precision " + std::to_string(precision) +
                                                " exceeds the limit of " + std::to_string(kMaxPrecision) + " digits");
      }
    }
    if (j >= format.size()) throw JinjaError(ErrorKind::kValue, "incomplete format");
    const char type = format[j];
    i = j;
    if (type == '%') {
      out.push_back('%');
      continue;
    }
    if (next >= values.size()) {
      throw JinjaError(ErrorKind::kType, "not enough arguments for format string");
    }
    const Value& v = values[next++];
    std::string piece;
    char buffer[512 + kMaxPrecision];  // the longest %f: 309 digits, a point, the precision
    if (type == 's') {
      append_str(piece, v, budget.max_bytes());
      if (precision >= 0 && piece.size() > static_cast<size_t>(precision)) piece.resize(static_cast<size_t>(precision));
    } else if (type == 'r') {
      append_repr(piece, v, budget.max_bytes());
    } else if (type == 'd' || type == 'i' || type == 'x' || type == 'o' || type == 'f' || type == 'e' || type == 'g') {
      require_defined(v);
      if (!v.is_number()) {
        throw JinjaError(ErrorKind::kType,
                         std::string("%") + type + " format: a real number is required, not " + type_name(v));
      }
      const int p = precision < 0 ? 6 : precision;
      if (type == 'd' || type == 'i' || type == 'x' || type == 'o') {
        // Python would print a float's integer part exactly; outside 64 bits (or NaN) this
        // engine has none.
        const double d = v.is_float() ? v.as_double() : 0.0;
        if (v.is_float() && !(d > -9.2e18 && d < 9.2e18)) {
          throw JinjaError(ErrorKind::kOverflow, std::string("%") + type + " format: a float too large for an integer");
        }
        const long long n = v.is_float() ? static_cast<long long>(d) : v.as_int();
        if (type == 'x') {
          std::snprintf(buffer, sizeof buffer, "%llx", n);
        } else if (type == 'o') {
          std::snprintf(buffer, sizeof buffer, "%llo", n);
        } else {
          std::snprintf(buffer, sizeof buffer, "%lld", n);
        }
      } else if (type == 'f') {
        std::snprintf(buffer, sizeof buffer, "%.*f", p, v.as_double());
      } else if (type == 'e') {
        std::snprintf(buffer, sizeof buffer, "%.*e", p, v.as_double());
      } else {
        std::snprintf(buffer, sizeof buffer, "%.*g", p, v.as_double());
      }
      piece = buffer;
      if (flags.find('+') != std::string::npos && !piece.empty() && piece[0] != '-') piece = "+" + piece;
    } else {
      throw JinjaError(ErrorKind::kValue, std::string("unsupported format character '") + type + "'");
    }
    if (piece.size() < width) {
      const size_t pad = width - piece.size();
      if (flags.find('-') != std::string::npos) {
        piece.append(pad, ' ');
      } else if (flags.find('0') != std::string::npos && type != 's' && type != 'r') {
        const size_t sign = (!piece.empty() && (piece[0] == '-' || piece[0] == '+')) ? 1 : 0;
        piece.insert(sign, pad, '0');
      } else {
        piece.insert(0, pad, ' ');
      }
    }
    out += piece;
    budget.check_bytes(out.size());
  }
  if (next < values.size()) {
    throw JinjaError(ErrorKind::kType, "not all arguments converted during string formatting");
  }
  return out;
}

}  // namespace heretic::hf::jinja
