// solve against hand derivations (written next to each check).
#include <doctest/doctest.h>

#include <random>

#include "formula.h"
#include "solve.h"

using namespace netshape;

static std::vector<int64_t> values(const SolveResult& r) {
  std::vector<int64_t> v;
  for (const auto& s : r.solutions) {
    if (r.unknown == "padding") v.push_back(s.padding);
    if (r.unknown == "input") v.push_back(s.input);
    if (r.unknown == "kernel_size") v.push_back(s.kernel);
    if (r.unknown == "stride") v.push_back(s.stride);
    if (r.unknown == "output") v.push_back(s.output);
  }
  return v;
}

TEST_CASE("the seed's stem: 224 -> 112 with kernel 7, stride 2 needs padding 3 and nothing else") {
  // ⌊(224 + 2p − 7)/2⌋ + 1 = 112 ⟺ 222 ≤ 217 + 2p ≤ 223 ⟺ 2p ∈ {5, 6} ⟺ p = 3.
  SolveQuery q;
  q.input = 224; q.output = 112; q.kernel = 7; q.stride = 2;
  auto r = solve(q);
  CHECK(r.unknown == "padding");
  CHECK(values(r) == std::vector<int64_t>{3});
}

TEST_CASE("several inputs map to one output") {
  // ⌊(x + 6 − 7)/2⌋ + 1 = 112 ⟺ x − 1 ∈ {222, 223} ⟺ x ∈ {223, 224}.
  SolveQuery q;
  q.output = 112; q.kernel = 7; q.stride = 2; q.padding = 3;
  CHECK(values(solve(q)) == std::vector<int64_t>{223, 224});
}

TEST_CASE("kernel and stride as unknowns") {
  // ⌊(230 − k)/2⌋ = 111 ⟺ 230 − k ∈ {222, 223} ⟺ k ∈ {7, 8}.
  SolveQuery q;
  q.input = 224; q.output = 112; q.stride = 2; q.padding = 3;
  CHECK(values(solve(q)) == std::vector<int64_t>{7, 8});
  // A 7-wide kernel on a 7-wide input gives one window for every stride.
  SolveQuery s;
  s.input = 7; s.output = 1; s.kernel = 7; s.padding = 0;
  auto r = solve(s);
  CHECK(r.solutions.front().stride == 1);
  CHECK(r.unbounded);
}

TEST_CASE("pooling rules and ceil_mode") {
  // MaxPool2d(2, 2, p, ceil_mode=True) on 7: p = 0 gives ⌈5/2⌉ + 1 = 4; p = 1
  // gives ⌈7/2⌉ + 1 = 5, whose last window would start at 8 ≥ 7 + 1, so 4.
  SolveQuery q;
  q.input = 7; q.output = 4; q.kernel = 2; q.stride = 2; q.pool = true; q.ceil_mode = true;
  CHECK(values(solve(q)) == std::vector<int64_t>{0, 1});
  // MaxPool2d(3, 2, p) on 112 to 57 would need p = 2 > 3/2: illegal, so none;
  // the closest legal one is p = 1, giving 56.
  SolveQuery p;
  p.input = 112; p.output = 57; p.kernel = 3; p.stride = 2; p.pool = true;
  auto r = solve(p);
  CHECK(r.solutions.empty());
  REQUIRE_FALSE(r.closest.empty());
  CHECK(r.closest.front().padding == 1);
  CHECK(r.closest.front().output == 56);
  // The same as a conv is fine: padding 2 gives ⌊(112 + 4 − 3)/2⌋ + 1 = 57.
  p.pool = false;
  CHECK(values(solve(p)) == std::vector<int64_t>{2});
}

TEST_CASE("keep and halve") {
  SolveQuery q;
  q.kernel = 3; q.keep = true;
  CHECK(values(solve(q)) == std::vector<int64_t>{1});          // 2p = 1·(3 − 1)
  q.kernel = 5; q.dilation = 2;
  CHECK(values(solve(q)).empty() == false);
  CHECK(solve(q).solutions.front().padding == 4);               // 2p = 2·(5 − 1)
  q.kernel = 4; q.dilation = 1;
  auto even = solve(q);
  CHECK(even.solutions.empty());                                // 2p = 3 has no integer p
  CHECK(even.note.find("\"same\"") != std::string::npos);
  SolveQuery h;
  h.kernel = 7; h.halve = true;
  CHECK(solve(h).solutions.front().padding == 3);               // the seed's stem
  h.kernel = 3; h.pool = true;
  CHECK(solve(h).solutions.front().padding == 1);               // the seed's MaxPool2d(3, 2, 1)
}

TEST_CASE("bad questions are usage errors") {
  SolveQuery q;
  q.input = 224;
  CHECK_FALSE(solve(q).error.empty());                          // four unknowns
  SolveQuery c;
  c.input = 7; c.kernel = 2; c.stride = 2; c.padding = 0; c.ceil_mode = true;
  CHECK_FALSE(solve(c).error.empty());                          // ceil_mode without --pool
}

// The binary searches against the plain scan they replaced: every value of the
// unknown tried through window_output with PyTorch 1.13's legality rules.
TEST_CASE("solve's binary searches find exactly what trying every value finds") {
  std::mt19937_64 gen(11);
  auto in = [&](int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(gen); };
  int with_solutions = 0;
  for (int i = 0; i < 3000; ++i) {
    SolveQuery q;
    q.pool = in(0, 1);
    q.ceil_mode = q.pool && in(0, 1);
    q.dilation = in(1, 2);
    q.input = in(1, 40), q.output = in(1, 20), q.kernel = in(1, 7), q.stride = in(1, 4), q.padding = in(0, 4);
    switch (in(0, 4)) {
      case 0: q.input.reset(); break;
      case 1: q.padding.reset(); break;
      case 2: q.kernel.reset(); break;
      case 3: q.stride.reset(); break;
      default: q.output = std::nullopt; continue;  // forward: nothing to search
    }
    SolveResult r = solve(q);
    REQUIRE(r.error == "");
    std::vector<int64_t> expected;
    for (int64_t v = q.input ? 0 : 1; v <= 200; ++v) {
      int64_t x = q.input.value_or(v), k = q.kernel.value_or(v), s = q.stride.value_or(v), p = q.padding.value_or(v);
      if (x < 1 || k < 1 || s < 1 || (q.pool && p > k / 2)) continue;
      WindowResult w = window_output({x, k, s, p, p, q.dilation, q.ceil_mode});
      if ((!q.pool && w.padded < w.span) || w.out < 1 || w.out != *q.output) continue;
      expected.push_back(v);
    }
    std::vector<int64_t> got;
    for (const auto& s : r.solutions)
      got.push_back(r.unknown == "input" ? s.input : r.unknown == "padding" ? s.padding
                    : r.unknown == "kernel_size" ? s.kernel : s.stride);
    if (r.unbounded) while (!expected.empty() && expected.back() > got.back()) expected.pop_back();
    CAPTURE(r.unknown);
    CAPTURE(i);
    CHECK(got == expected);
    CHECK(r.count == static_cast<int64_t>(got.size()));
    with_solutions += !got.empty();
  }
  CHECK(with_solutions > 300);
}

TEST_CASE("solve takes no time and no memory on huge numbers") {
  SolveQuery q;
  q.output = 1, q.kernel = 1, q.padding = 0, q.stride = 2147483647;  // every input gives 1
  SolveResult r = solve(q);
  CHECK(r.count == 2147483647);
  REQUIRE(r.solutions.size() == 2);
  CHECK(r.solutions.front().input == 1);
  CHECK(r.solutions.back().input == 2147483647);
}
