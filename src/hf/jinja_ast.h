// Syntax tree of a parsed template: expressions and statements as plain structs that the
// interpreter walks. One struct per tree level keeps the parser and interpreter greppable.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "hf/jinja_value.h"

namespace heretic::hf::jinja {

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
  enum class Kind {
    kLiteral,    // value
    kName,       // name
    kList,       // args: items
    kTuple,      // args: items
    kDict,       // args: key0, value0, key1, value1, ...
    kGetAttr,    // args[0].name
    kGetItem,    // args[0][args[1]]
    kSlice,      // args[0][args[1]:args[2]:args[3]] (null where left out)
    kCall,       // args[0](args[1..], kwargs)
    kFilter,     // args[0] | name(args[1..], kwargs)
    kTest,       // args[0] is [not] name(args[1..]); negated
    kNot,        // not args[0]
    kNegate,     // -args[0]
    kPlus,       // +args[0]
    kBinary,     // args[0] <name> args[1]: + - * / // % ** ~
    kAnd,        // args[0] and args[1]
    kOr,         // args[0] or args[1]
    kCompare,    // args[0] ops[0] args[1] ops[1] args[2] ...: == != < > <= >= in notin
    kCondition,  // args[1] if args[0] else args[2] (args[2] null: Undefined)
  };
  Kind kind = Kind::kLiteral;
  int line = 0;
  Value value;
  std::string name;
  std::vector<ExprPtr> args;
  std::vector<std::pair<std::string, ExprPtr>> kwargs;
  std::vector<std::string> ops;
  bool negated = false;
  int height = 1;  // longest path to a leaf: bounds the interpreter's recursion
};

struct Stmt;
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

struct MacroParam {
  std::string name;
  ExprPtr default_value;  // null: Undefined when not passed
};

struct Stmt {
  enum class Kind {
    kText,      // text
    kOutput,    // {{ expr }}
    kIf,        // branches (condition, body), else_body
    kFor,       // for targets in expr [if filter] body [else else_body]
    kSet,       // set targets = expr, or set targets[0].attribute = expr
    kSetBlock,  // set targets[0] %}body{% endset, optional filter expression in expr
    kMacro,     // macro name(params) body
    kBreak,
    kContinue,
    kScope,        // a body rendered as it is ({% generation %})
    kFilterBlock,  // {% filter f %}body{% endfilter %}: expr is the filter applied to Undefined
  };
  Kind kind = Kind::kText;
  int line = 0;
  std::string text;
  ExprPtr expr;
  ExprPtr filter;
  std::vector<std::string> targets;
  std::string attribute;
  std::string name;
  std::vector<std::pair<ExprPtr, Body>> branches;
  Body body;
  Body else_body;
  std::vector<MacroParam> params;
};

}  // namespace heretic::hf::jinja
