#include "hf/jinja_template.h"

#include "hf/jinja_access.h"
#include "hf/jinja_error.h"
#include "hf/jinja_filters.h"
#include "hf/jinja_operators.h"
#include "hf/jinja_parser.h"

namespace heretic::hf::jinja {

namespace {

// Nested evaluations (statements, expressions, macro calls together). Bounds the C++ stack
// a render uses, whatever mix of nesting a template finds; deep enough for
// max_call_depth levels of a realistic recursive macro.
constexpr int kMaxEvaluationDepth = 3000;

// Variables of one scope. Jinja2 scoping: the template body is one scope (an `if` opens
// none), every for-loop iteration and every macro call opens a fresh one, and lookups walk
// outwards at the time of the lookup.
struct Frame {
  Dict vars;
  const Frame* parent = nullptr;

  const Value* lookup(const std::string& name) const {
    for (const Frame* f = this; f != nullptr; f = f->parent) {
      if (const Value* v = f->vars.find(name)) return v;
    }
    return nullptr;
  }
};

class Renderer {
 public:
  Renderer(const std::string& source_name, Budget& budget) : source_name_(source_name), budget_(budget) {}

  std::string render(const Body& body, const Dict& variables) {
    Frame context;
    context.vars = default_globals(budget_);
    for (const auto& [name, value] : variables.items) context.vars.set(name, value);
    Frame root;
    root.parent = &context;
    root_ = &root;
    std::string out;
    exec_body(body, root, out);
    return out;
  }

 private:
  enum class Flow { kNormal, kBreak, kContinue };

  struct DepthGuard {
    explicit DepthGuard(Renderer& r) : renderer(r) {
      if (++renderer.depth_ > kMaxEvaluationDepth) {
        throw JinjaError(ErrorKind::kLimit,
                         "template evaluation nested deeper than " + std::to_string(kMaxEvaluationDepth) + " levels");
      }
    }
    ~DepthGuard() { --renderer.depth_; }
    Renderer& renderer;
  };

  void emit(std::string& out, const std::string& text) {
    out += text;
    budget_.check_bytes(out.size());
  }

  Flow exec_body(const Body& body, Frame& frame, std::string& out) {
    for (const StmtPtr& stmt : body) {
      const Flow flow = exec(*stmt, frame, out);
      if (flow != Flow::kNormal) return flow;
    }
    return Flow::kNormal;
  }

  Flow exec(const Stmt& stmt, Frame& frame, std::string& out) {
    DepthGuard guard(*this);
    try {
      return exec_unchecked(stmt, frame, out);
    } catch (const JinjaError& e) {
      if (e.line() == 0 || e.source_name().empty()) throw e.at(stmt.line, source_name_);
      throw;
    }
  }

  Flow exec_unchecked(const Stmt& stmt, Frame& frame, std::string& out) {
    switch (stmt.kind) {
      case Stmt::Kind::kText:
        emit(out, stmt.text);
        return Flow::kNormal;
      case Stmt::Kind::kOutput: {
        const Value v = eval(*stmt.expr, frame);
        append_str(out, v, budget_.max_bytes());
        return Flow::kNormal;
      }
      case Stmt::Kind::kIf:
        for (const auto& [condition, body] : stmt.branches) {
          if (truthy(eval(*condition, frame))) return exec_body(body, frame, out);
        }
        return exec_body(stmt.else_body, frame, out);
      case Stmt::Kind::kFor:
        return exec_for(stmt, frame, out);
      case Stmt::Kind::kSet:
        exec_set(stmt, frame);
        return Flow::kNormal;
      case Stmt::Kind::kSetBlock: {
        std::string captured;
        exec_body(stmt.body, frame, captured);
        Value v = Value::string(std::move(captured));
        if (stmt.filter) v = apply_filter_chain(*stmt.filter, v, frame);
        frame.vars.set(stmt.targets[0], std::move(v));
        return Flow::kNormal;
      }
      case Stmt::Kind::kFilterBlock: {
        std::string captured;
        exec_body(stmt.body, frame, captured);
        append_str(out, apply_filter_chain(*stmt.expr, Value::string(std::move(captured)), frame), budget_.max_bytes());
        return Flow::kNormal;
      }
      case Stmt::Kind::kMacro:
        define_macro(stmt, frame);
        return Flow::kNormal;
      case Stmt::Kind::kBreak:
        return Flow::kBreak;
      case Stmt::Kind::kContinue:
        return Flow::kContinue;
      case Stmt::Kind::kScope:
        return exec_body(stmt.body, frame, out);
    }
    return Flow::kNormal;
  }

  static List unpack(const Value& item, size_t count) {
    List parts = iterate(item);
    if (parts.size() > count) {
      throw JinjaError(ErrorKind::kValue, "too many values to unpack (expected " + std::to_string(count) + ")");
    }
    if (parts.size() < count) {
      throw JinjaError(ErrorKind::kValue, "not enough values to unpack (expected " + std::to_string(count) + ", got " +
                                              std::to_string(parts.size()) + ")");
    }
    return parts;
  }

  static void bind_targets(Frame& frame, const std::vector<std::string>& targets, const Value& item) {
    if (targets.size() == 1) {
      frame.vars.set(targets[0], item);
      return;
    }
    const List parts = unpack(item, targets.size());
    for (size_t i = 0; i < targets.size(); ++i) frame.vars.set(targets[i], parts[i]);
  }

  Flow exec_for(const Stmt& stmt, Frame& frame, std::string& out) {
    List items = iterate(eval(*stmt.expr, frame));
    if (stmt.filter) {
      // `for x in xs if cond`: filtered before the loop, so loop.last counts kept items.
      List kept;
      for (const Value& item : items) {
        budget_.step();
        Frame scope;
        scope.parent = &frame;
        bind_targets(scope, stmt.targets, item);
        if (truthy(eval(*stmt.filter, scope))) kept.push_back(item);
      }
      items = std::move(kept);
    }
    if (items.empty()) return exec_body(stmt.else_body, frame, out);
    const int64_t n = static_cast<int64_t>(items.size());
    for (int64_t i = 0; i < n; ++i) {
      budget_.step();
      Frame scope;
      scope.parent = &frame;
      bind_targets(scope, stmt.targets, items[static_cast<size_t>(i)]);
      scope.vars.set("loop", loop_object(items, i));
      const Flow flow = exec_body(stmt.body, scope, out);
      if (flow == Flow::kBreak) break;
    }
    return Flow::kNormal;
  }

  static Value loop_object(const List& items, int64_t i) {
    const int64_t n = static_cast<int64_t>(items.size());
    Dict loop;
    loop.items.reserve(12);
    loop.set("index", Value::integer(i + 1));
    loop.set("index0", Value::integer(i));
    loop.set("revindex", Value::integer(n - i));
    loop.set("revindex0", Value::integer(n - i - 1));
    loop.set("first", Value::boolean(i == 0));
    loop.set("last", Value::boolean(i == n - 1));
    loop.set("length", Value::integer(n));
    loop.set("depth", Value::integer(1));
    loop.set("depth0", Value::integer(0));
    loop.set("previtem", i > 0 ? items[static_cast<size_t>(i - 1)] : Value::undefined("there is no previous item"));
    loop.set("nextitem", i + 1 < n ? items[static_cast<size_t>(i + 1)] : Value::undefined("there is no next item"));
    loop.set("cycle", Value::callable("loop.cycle", [i](const CallArgs& args) {
               if (args.positional.empty()) throw JinjaError(ErrorKind::kType, "no items for cycling given");
               return args.positional[static_cast<size_t>(i) % args.positional.size()];
             }));
    return Value::namespace_object(std::move(loop));
  }

  void exec_set(const Stmt& stmt, Frame& frame) {
    Value v = eval(*stmt.expr, frame);
    if (!stmt.attribute.empty()) {
      const Value* target = frame.lookup(stmt.targets[0]);
      if (target == nullptr || !target->is_namespace()) {
        throw JinjaError(ErrorKind::kRuntime, "cannot assign attribute on non-namespace object");
      }
      require_no_namespace(v, "set " + stmt.targets[0] + "." + stmt.attribute);
      target->namespace_attributes().set(stmt.attribute, std::move(v));
      return;
    }
    bind_targets(frame, stmt.targets, v);
  }

  void define_macro(const Stmt& stmt, Frame& frame) {
    const Stmt* macro = &stmt;
    frame.vars.set(stmt.name, Value::callable(
                                  stmt.name, [this, macro](const CallArgs& args) { return call_macro(*macro, args); },
                                  /*is_macro=*/true));
  }

  // Macros see the template-level scope (and the render variables) at call time, their
  // arguments, and nothing of the caller's loop variables.
  Value call_macro(const Stmt& macro, const CallArgs& args) {
    budget_.step();
    if (++call_depth_ > budget_.limits().max_call_depth) {
      --call_depth_;
      throw JinjaError(ErrorKind::kLimit,
                       "macro calls nested deeper than " + std::to_string(budget_.limits().max_call_depth));
    }
    struct CallDepthRelease {
      int& depth;
      ~CallDepthRelease() { --depth; }
    } release{call_depth_};
    const auto& params = macro.params;
    if (args.positional.size() > params.size()) {
      throw JinjaError(ErrorKind::kType, "macro '" + macro.name + "' takes not more than " +
                                             std::to_string(params.size()) + " argument(s)");
    }
    Frame scope;
    scope.parent = root_;
    std::vector<bool> given(params.size(), false);
    for (size_t i = 0; i < args.positional.size(); ++i) {
      scope.vars.set(params[i].name, args.positional[i]);
      given[i] = true;
    }
    for (const auto& [key, value] : args.keyword) {
      size_t i = 0;
      while (i < params.size() && params[i].name != key) ++i;
      if (i == params.size()) {
        throw JinjaError(ErrorKind::kType, "macro '" + macro.name + "' takes no keyword argument '" + key + "'");
      }
      if (given[i]) {
        throw JinjaError(ErrorKind::kType, "macro '" + macro.name + "' got multiple values for argument '" + key + "'");
      }
      scope.vars.set(key, value);
      given[i] = true;
    }
    for (size_t i = 0; i < params.size(); ++i) {
      if (given[i]) continue;
      scope.vars.set(params[i].name, params[i].default_value
                                         ? eval(*params[i].default_value, scope)
                                         : Value::undefined("parameter '" + params[i].name + "' was not provided"));
    }
    std::string out;
    exec_body(macro.body, scope, out);
    return Value::string(std::move(out));
  }

  Value apply_filter_chain(const Expr& chain, const Value& input, Frame& frame) {
    if (chain.kind != Expr::Kind::kFilter) return input;
    const Value inner = apply_filter_chain(*chain.args[0], input, frame);
    return apply_filter(chain.name, inner, eval_args(chain, frame, 1), budget_);
  }

  CallArgs eval_args(const Expr& e, Frame& frame, size_t first) {
    CallArgs args;
    for (size_t i = first; i < e.args.size(); ++i) args.positional.push_back(eval(*e.args[i], frame));
    for (const auto& [key, value] : e.kwargs) args.keyword.emplace_back(key, eval(*value, frame));
    return args;
  }

  Value eval(const Expr& e, Frame& frame) {
    DepthGuard guard(*this);
    try {
      return eval_unchecked(e, frame);
    } catch (const JinjaError& error) {
      if (error.line() == 0 || error.source_name().empty()) throw error.at(e.line, source_name_);
      throw;
    }
  }

  Value eval_unchecked(const Expr& e, Frame& frame) {
    switch (e.kind) {
      case Expr::Kind::kLiteral:
        return e.value;
      case Expr::Kind::kName: {
        const Value* v = frame.lookup(e.name);
        return v ? *v : Value::undefined("'" + e.name + "' is undefined");
      }
      case Expr::Kind::kList:
      case Expr::Kind::kTuple: {
        List items;
        items.reserve(e.args.size());
        for (const auto& arg : e.args) items.push_back(eval(*arg, frame));
        budget_.step(static_cast<int64_t>(items.size()));
        return e.kind == Expr::Kind::kList ? Value::list(std::move(items)) : Value::tuple(std::move(items));
      }
      case Expr::Kind::kDict: {
        Dict d;
        for (size_t i = 0; i + 1 < e.args.size(); i += 2) {
          const Value key = eval(*e.args[i], frame);
          if (!key.is_string()) {
            throw JinjaError(ErrorKind::kType, "dict keys must be strings in chat templates, not " + type_name(key));
          }
          d.set(key.as_string(), eval(*e.args[i + 1], frame));
        }
        budget_.step(static_cast<int64_t>(d.items.size()));
        return Value::dict(std::move(d));
      }
      case Expr::Kind::kGetAttr:
        return get_attribute(eval(*e.args[0], frame), e.name, budget_);
      case Expr::Kind::kGetItem:
        return get_item(eval(*e.args[0], frame), eval(*e.args[1], frame), budget_);
      case Expr::Kind::kSlice: {
        const Value object = eval(*e.args[0], frame);
        Value bounds[3];
        for (int i = 0; i < 3; ++i) {
          if (e.args[static_cast<size_t>(i) + 1]) bounds[i] = eval(*e.args[static_cast<size_t>(i) + 1], frame);
        }
        auto ptr = [&](int i) { return e.args[static_cast<size_t>(i) + 1] ? &bounds[i] : nullptr; };
        return get_slice(object, ptr(0), ptr(1), ptr(2));
      }
      case Expr::Kind::kCall: {
        const Value callee = eval(*e.args[0], frame);
        return call_value(callee, eval_args(e, frame, 1));
      }
      case Expr::Kind::kFilter:
        return apply_filter(e.name, eval(*e.args[0], frame), eval_args(e, frame, 1), budget_);
      case Expr::Kind::kTest:
        return Value::boolean(apply_test(e.name, eval(*e.args[0], frame), eval_args(e, frame, 1), budget_) !=
                              e.negated);
      case Expr::Kind::kNot:
        return Value::boolean(!truthy(eval(*e.args[0], frame)));
      case Expr::Kind::kNegate:
        return negate(eval(*e.args[0], frame));
      case Expr::Kind::kPlus: {
        Value v = eval(*e.args[0], frame);
        require_defined(v);
        if (!v.is_number()) throw JinjaError(ErrorKind::kType, "bad operand type for unary +: '" + type_name(v) + "'");
        return v.is_bool() ? Value::integer(v.as_int()) : v;
      }
      case Expr::Kind::kBinary:
        return binary_operation(e.name, eval(*e.args[0], frame), eval(*e.args[1], frame), budget_);
      case Expr::Kind::kAnd: {
        Value left = eval(*e.args[0], frame);
        return truthy(left) ? eval(*e.args[1], frame) : left;
      }
      case Expr::Kind::kOr: {
        Value left = eval(*e.args[0], frame);
        return truthy(left) ? left : eval(*e.args[1], frame);
      }
      case Expr::Kind::kCompare: {
        Value left = eval(*e.args[0], frame);
        for (size_t i = 0; i < e.ops.size(); ++i) {
          Value right = eval(*e.args[i + 1], frame);
          if (!compare(e.ops[i], left, right)) return Value::boolean(false);
          left = std::move(right);
        }
        return Value::boolean(true);
      }
      case Expr::Kind::kCondition:
        if (truthy(eval(*e.args[0], frame))) return eval(*e.args[1], frame);
        if (e.args[2]) return eval(*e.args[2], frame);
        return Value::undefined("the inline if-expression on line " + std::to_string(e.line) +
                                " evaluated to false and no else section was defined.");
    }
    return Value();
  }

  static bool compare(const std::string& op, const Value& a, const Value& b) {
    if (op == "==") return equals(a, b);
    if (op == "!=") return !equals(a, b);
    if (op == "in") return contains(b, a);
    if (op == "notin") return !contains(b, a);
    try {
      if (op == "<") return less_than(a, b, "<");
      if (op == ">") return less_than(b, a, ">");
      if (op == "<=") return !less_than(b, a, "<=");
      return !less_than(a, b, ">=");
    } catch (const JinjaError& error) {
      if (error.kind() != ErrorKind::kType) throw;
      throw JinjaError(ErrorKind::kType, "'" + op + "' not supported between instances of '" + type_name(a) +
                                             "' and '" + type_name(b) + "'");
    }
  }

  const std::string& source_name_;
  Budget& budget_;
  const Frame* root_ = nullptr;
  int depth_ = 0;
  int call_depth_ = 0;
};

}  // namespace

Template::Template(const std::string& source, std::string source_name, Limits limits)
    : source_name_(std::move(source_name)),
      limits_(limits),
      body_(std::make_shared<const Body>(parse_template(source, source_name_, limits.max_nesting))) {}

std::string Template::render(const Dict& variables) const {
  Budget budget(limits_);
  const ActiveBudget active(budget);
  return Renderer(source_name_, budget).render(*body_, variables);
}

}  // namespace heretic::hf::jinja
