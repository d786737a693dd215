// solve against hand derivations (written next to each check).
#include <doctest/doctest.h>

#include <algorithm>
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

// solve --transposed. DCGAN's and U-Net's up-convolution (Radford et al.
// 2016; Ronneberger et al. 2015): kernel 4, stride 2 doubles 32 to 64 with
// padding 1: (32 − 1)·2 − 2·1 + (4 − 1) + 0 + 1 = 64. With output_padding
// free, op = 1 would need 2p = 63 − 64 + 1 + 1 = 1: not a whole padding.
TEST_CASE("solve --transposed: DCGAN's doubling up-convolution") {
  SolveQuery q;
  q.transposed = true;
  q.input = 32, q.output = 64, q.kernel = 4, q.stride = 2;
  SolveResult r = solve(q);
  REQUIRE(r.error == "");
  CHECK(r.unknown == "padding");
  REQUIRE(r.solutions.size() == 1);
  CHECK(r.solutions[0].padding == 1);
  CHECK(r.solutions[0].output_padding == 0);
  // 7 → 14 with kernel 3, stride 2: (7 − 1)·2 − 2p + 2 + op + 1 = 14 → 2p − op = 1 → p 1, op 1
  // (the torchvision/Keras "same" transposed conv).
  q.input = 7, q.output = 14, q.kernel = 3;
  r = solve(q);
  REQUIRE(r.solutions.size() == 1);
  CHECK(r.solutions[0].padding == 1);
  CHECK(r.solutions[0].output_padding == 1);
  // output_padding as the unknown, and its legality: below the stride or the dilation.
  q.padding = 1;
  r = solve(q);
  CHECK(r.unknown == "output_padding");
  REQUIRE(r.solutions.size() == 1);
  CHECK(r.solutions[0].output_padding == 1);
  q.output = 15;  // would need output_padding 2, not below the stride 2
  CHECK(solve(q).solutions.empty());
  // One input pixel: the stride does not matter, so every stride works.
  SolveQuery one;
  one.transposed = true;
  one.input = 1, one.output = 4, one.kernel = 4, one.padding = 0;
  r = solve(one);
  CHECK(r.unknown == "stride");
  CHECK(r.unbounded);
  // --output-padding without --transposed is a usage error.
  SolveQuery bad;
  bad.input = 1, bad.kernel = 1, bad.stride = 1, bad.padding = 0, bad.output_padding = 0;
  CHECK(solve(bad).error != "");
}

TEST_CASE("solve --transposed finds exactly what trying every value finds") {
  std::mt19937_64 gen(15);
  auto in = [&](int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(gen); };
  int with_solutions = 0;
  for (int i = 0; i < 3000; ++i) {
    SolveQuery q;
    q.transposed = true;
    q.dilation = in(1, 2);
    q.input = in(1, 20), q.output = in(1, 60), q.kernel = in(1, 6), q.stride = in(1, 4), q.padding = in(0, 4);
    if (in(0, 2) == 0) q.output_padding = in(0, 3);
    int which = static_cast<int>(in(0, 4));
    switch (which) {
      case 0: q.input.reset(); break;
      case 1: q.padding.reset(); break;
      case 2: q.kernel.reset(); break;
      case 3: q.stride.reset(), q.input = in(2, 20); break;  // one input pixel: the unit test above
      default: if (q.output_padding) q.output_padding.reset(); else q.output.reset();
    }
    SolveResult r = solve(q);
    REQUIRE(r.error == "");
    // Every (value, output_padding) pair in small ranges, through the evaluator's formula.
    std::vector<std::pair<int64_t, int64_t>> expected, got;
    for (int64_t v = 0; v <= 120; ++v)
      for (int64_t op = 0; op <= (q.stride ? 8 : 130); ++op) {  // an unknown stride allows any op below it
        if (q.output_padding && op != *q.output_padding) continue;
        if (!q.output_padding && r.unknown == "output" && op != 0) continue;  // the default, 0
        int64_t x = q.input.value_or(v), k = q.kernel.value_or(v), s = q.stride.value_or(v), p = q.padding.value_or(v);
        if (r.unknown == "output" || r.unknown == "output_padding") { if (v > 0) continue; x = *q.input, k = *q.kernel; }
        if (x < 1 || k < 1 || s < 1 || p < 0 || !(op < s || op < q.dilation)) continue;
        int64_t out = transposed_output({x, k, s, p, op, q.dilation});
        if (out < 1 || (q.output && out != *q.output)) continue;
        int64_t value = r.unknown == "input" ? x : r.unknown == "padding" ? p : r.unknown == "kernel_size" ? k
                      : r.unknown == "stride" ? s : r.unknown == "output" ? out : op;
        expected.push_back({value, op});
      }
    for (const auto& s : r.solutions)
      got.push_back({r.unknown == "input" ? s.input : r.unknown == "padding" ? s.padding
                     : r.unknown == "kernel_size" ? s.kernel : r.unknown == "stride" ? s.stride
                     : r.unknown == "output" ? s.output : s.output_padding, s.output_padding});
    std::sort(expected.begin(), expected.end(), [](auto a, auto b) { return a.second != b.second ? a.second < b.second : a.first < b.first; });
    expected.erase(std::unique(expected.begin(), expected.end()), expected.end());
    // A stride that does not matter (one input pixel) is reported once, as the smallest, unbounded.
    if (r.unbounded) {
      std::vector<std::pair<int64_t, int64_t>> firsts;
      for (auto e : expected)
        if (firsts.empty() || firsts.back().second != e.second) firsts.push_back(e);
      expected = firsts;
    }
    CAPTURE(r.unknown);
    CAPTURE(i);
    CHECK(got == expected);
    with_solutions += !got.empty();
  }
  CHECK(with_solutions > 300);
}
