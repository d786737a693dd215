#include "expr.h"

#include <cctype>

#include <fmt/format.h>

#include "formula.h"

namespace netshape {
namespace {

bool name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

class ExprParser {
 public:
  ExprParser(std::string_view text, const ExprLookup& lookup, std::string& error)
      : s_(text), lookup_(lookup), error_(error) {}

  std::optional<ExprValue> run() {
    auto v = or_();
    skip();
    if (v && pos_ < s_.size()) return fail(fmt::format("unexpected `{}`", s_.substr(pos_)));
    return v;
  }

 private:
  std::string_view s_;
  std::size_t pos_ = 0;
  const ExprLookup& lookup_;
  std::string& error_;

  std::nullopt_t fail(std::string message) {
    if (error_.empty()) error_ = std::move(message);
    return std::nullopt;
  }
  void skip() { while (pos_ < s_.size() && s_[pos_] == ' ') ++pos_; }
  // Consumes `tok` if it comes next (a word only when not followed by a name character).
  bool eat(std::string_view tok) {
    skip();
    if (s_.substr(pos_, tok.size()) != tok) return false;
    if (name_char(tok.back()) && pos_ + tok.size() < s_.size() && name_char(s_[pos_ + tok.size()])) return false;
    pos_ += tok.size();
    return true;
  }
  std::optional<int64_t> integer(const std::optional<ExprValue>& v, std::string_view op) {
    if (!v) return std::nullopt;
    if (auto* i = std::get_if<int64_t>(&*v)) return *i;
    return fail(fmt::format("`{}` needs integers, got a boolean", op));
  }
  std::optional<bool> boolean(const std::optional<ExprValue>& v, std::string_view op) {
    if (!v) return std::nullopt;
    if (auto* b = std::get_if<bool>(&*v)) return *b;
    return fail(fmt::format("`{}` needs true or false, got an integer", op));
  }

  std::optional<ExprValue> or_() {
    auto a = and_();
    while (a && eat("or")) {
      auto x = boolean(a, "or"), y = boolean(and_(), "or");
      if (!x || !y) return std::nullopt;
      a = *x || *y;
    }
    return a;
  }
  std::optional<ExprValue> and_() {
    auto a = not_();
    while (a && eat("and")) {
      auto x = boolean(a, "and"), y = boolean(not_(), "and");
      if (!x || !y) return std::nullopt;
      a = *x && *y;
    }
    return a;
  }
  std::optional<ExprValue> not_() {
    if (eat("not")) {
      auto x = boolean(not_(), "not");
      if (!x) return std::nullopt;
      return !*x;
    }
    return cmp();
  }
  std::optional<ExprValue> cmp() {
    auto a = sum();
    if (!a) return std::nullopt;
    for (std::string_view op : {"==", "!=", "<=", ">=", "<", ">"}) {
      if (!eat(op)) continue;
      auto b = sum();
      if (!b) return std::nullopt;
      if (op == "==") return *a == *b;
      if (op == "!=") return *a != *b;
      auto x = integer(a, op), y = integer(b, op);
      if (!x || !y) return std::nullopt;
      if (op == "<=") return *x <= *y;
      if (op == ">=") return *x >= *y;
      if (op == "<") return *x < *y;
      return *x > *y;
    }
    return a;
  }
  std::optional<ExprValue> sum() {
    auto a = term();
    while (a) {
      bool plus = eat("+");
      if (!plus && !eat("-")) break;
      auto x = integer(a, plus ? "+" : "-"), y = integer(term(), plus ? "+" : "-");
      if (!x || !y) return std::nullopt;
      auto r = plus ? checked_add(*x, *y) : checked_add(*x, -*y);
      if (!r || *y == INT64_MIN) return fail(fmt::format("{} {} {} overflows", *x, plus ? "+" : "-", *y));
      a = *r;
    }
    return a;
  }
  std::optional<ExprValue> term() {
    auto a = unary();
    while (a) {
      std::string_view op = eat("*") ? "*" : eat("//") ? "//" : eat("%") ? "%" : "";
      if (op.empty()) break;
      auto x = integer(a, op), y = integer(unary(), op);
      if (!x || !y) return std::nullopt;
      if (op == "*") {
        auto r = checked_mul(*x, *y);
        if (!r) return fail(fmt::format("{} * {} overflows", *x, *y));
        a = *r;
        continue;
      }
      if (*y == 0) return fail(fmt::format("{} {} 0: division by zero", *x, op));
      if (*x == INT64_MIN && *y == -1) return fail(fmt::format("{} {} -1 overflows", *x, op));
      int64_t q = floor_div(*x, *y);
      a = op == "//" ? q : *x - q * *y;
    }
    return a;
  }
  std::optional<ExprValue> unary() {
    if (eat("-")) {
      auto x = integer(unary(), "-");
      if (!x) return std::nullopt;
      if (*x == INT64_MIN) return fail("the negation overflows");
      return -*x;
    }
    return atom();
  }
  std::optional<ExprValue> atom() {
    skip();
    if (eat("(")) {
      auto v = or_();
      if (v && !eat(")")) return fail("a `(` is not closed");
      return v;
    }
    if (eat("true")) return true;
    if (eat("false")) return false;
    if (pos_ < s_.size() && s_[pos_] == '$') {
      std::size_t start = ++pos_;
      while (pos_ < s_.size() && name_char(s_[pos_])) ++pos_;
      if (pos_ == start) return fail("`$` must be followed by a parameter's name");
      std::string name(s_.substr(start, pos_ - start));
      auto v = lookup_(name, error_);
      if (!v) return fail(fmt::format("`${}` is not a parameter", name));
      return v;
    }
    if (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) {
      int64_t v = 0;
      while (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) {
        auto m = checked_mul(v, 10);
        auto a = m ? checked_add(*m, s_[pos_] - '0') : std::nullopt;
        if (!a) return fail("a number is too large");
        v = *a;
        ++pos_;
      }
      return v;
    }
    return fail(pos_ < s_.size() ? fmt::format("unexpected `{}`", s_.substr(pos_)) : "the expression ends early");
  }
};

}  // namespace

std::optional<ExprValue> eval_expr(std::string_view text, const ExprLookup& lookup, std::string& error) {
  error.clear();
  if (text.size() > 1000) {
    error = "the expression is longer than 1,000 characters";
    return std::nullopt;
  }
  return ExprParser(text, lookup, error).run();
}

bool is_plain_param(std::string_view text) {
  if (text.size() < 2 || text[0] != '$') return false;
  for (std::size_t i = 1; i < text.size(); ++i)
    if (!name_char(text[i])) return false;
  return true;
}

}  // namespace netshape
