// solve against hand derivations (written next to each check).
#include <doctest/doctest.h>

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
