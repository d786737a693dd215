// expr.cc: block expressions, with Python's meaning (the language the specs
// are translated from): 7 // 2 == 3, -7 // 2 == -4, -7 % 2 == 1.
#include <map>

#include <doctest/doctest.h>

#include "expr.h"

using namespace netshape;

namespace {

std::optional<ExprValue> eval(const std::string& text, std::string* error = nullptr) {
  static const std::map<std::string, ExprValue> params = {
      {"planes", int64_t{64}}, {"stride", int64_t{2}}, {"in", int64_t{32}}, {"out", int64_t{32}},
      {"expand", true}, {"big", int64_t{INT64_MAX / 2 + 1}}};
  std::string e;
  auto v = eval_expr(text, [](const std::string& n, std::string&) -> std::optional<ExprValue> {
    auto it = params.find(n);
    if (it == params.end()) return std::nullopt;
    return it->second;
  }, e);
  if (error) *error = e;
  return v;
}

int64_t integer(const std::string& text) {
  auto v = eval(text);
  REQUIRE_MESSAGE(v, text);
  REQUIRE(std::holds_alternative<int64_t>(*v));
  return std::get<int64_t>(*v);
}
bool boolean(const std::string& text) {
  auto v = eval(text);
  REQUIRE_MESSAGE(v, text);
  REQUIRE(std::holds_alternative<bool>(*v));
  return std::get<bool>(*v);
}

}  // namespace

TEST_CASE("integer arithmetic on parameters, as Python computes it") {
  CHECK(integer("$planes * 4") == 256);
  CHECK(integer("$planes * 4 // $stride + 1") == 129);
  CHECK(integer("($planes + 1) * 2") == 130);
  CHECK(integer("7 // 2") == 3);
  CHECK(integer("-7 // 2") == -4);  // floor, not truncation
  CHECK(integer("-7 % 2") == 1);
  CHECK(integer("$in - $out - 3") == -3);  // left to right
}

TEST_CASE("comparisons and logic: MobileNetV2's use_res_connect") {
  CHECK(boolean("$stride == 1 and $in == $out") == false);
  CHECK(boolean("$stride == 2 and $in == $out") == true);
  CHECK(boolean("not $expand or $stride > 1") == true);
  CHECK(boolean("$in <= $out") == true);
  CHECK(boolean("$expand == true") == true);
}

TEST_CASE("errors are reported, never wrapped or guessed") {
  std::string e;
  CHECK_FALSE(eval("$planes // 0", &e));
  CHECK(e == "64 // 0: division by zero");
  CHECK_FALSE(eval("$big * 2", &e));
  CHECK(e.find("overflows") != std::string::npos);
  CHECK_FALSE(eval("$nope + 1", &e));
  CHECK(e == "`$nope` is not a parameter");
  CHECK_FALSE(eval("$expand + 1", &e));
  CHECK(e == "`+` needs integers, got a boolean");
  CHECK_FALSE(eval("$planes and true", &e));
  CHECK_FALSE(eval("($planes + 1", &e));
  CHECK(e == "a `(` is not closed");
  CHECK_FALSE(eval("$planes +", &e));
  CHECK_FALSE(eval("$planes 4", &e));
  CHECK(e == "unexpected `4`");
  CHECK_FALSE(eval(std::string(2000, '('), &e));
}

TEST_CASE("a bare $name is a parameter, anything more an expression") {
  CHECK(is_plain_param("$planes"));
  CHECK_FALSE(is_plain_param("$planes * 4"));
  CHECK_FALSE(is_plain_param("$"));
  CHECK_FALSE(is_plain_param("planes"));
}
