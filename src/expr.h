// expr: the small expressions a block's fields may hold — "$planes * 4",
// "$stride == 1 and $in == $out" — on integers and booleans only, every
// operation checked (an overflow or a division by zero is an error, never a
// wrap). Python's meaning for `//` and `%` (floor), as the PyTorch code a spec
// is translated from has.
//
//   or   := and ("or" and)*          cmp  := sum (("=="|"!="|"<"|"<="|">"|">=") sum)?
//   and  := not ("and" not)*         sum  := term (("+"|"-") term)*
//   not  := "not" not | cmp          term := unary (("*"|"//"|"%") unary)*
//   unary := "-" unary | atom        atom := INT | true | false | $NAME | "(" or ")"
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace netshape {

using ExprValue = std::variant<int64_t, bool>;

// A parameter's value, or nullopt (with `error` set) when it is unknown or
// neither an integer nor a boolean.
using ExprLookup = std::function<std::optional<ExprValue>(const std::string& name, std::string& error)>;

// Evaluates `text`; nullopt with `error` ("`$x` is not a parameter",
// "7 // 0: division by zero", …) when it cannot.
std::optional<ExprValue> eval_expr(std::string_view text, const ExprLookup& lookup, std::string& error);

// True when `text` is one parameter alone ("$name"), as specs wrote before
// expressions existed: it may stand for any JSON value, not only a number.
bool is_plain_param(std::string_view text);

}  // namespace netshape
