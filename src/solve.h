// solve: the output-size formula run backwards. Leave one of input, output,
// kernel size, stride, padding unknown and it gives the range of values that
// satisfy the formula and PyTorch's legality rules — by binary searches over a
// range that provably holds them all, through window_output, so it can never
// disagree with the evaluator, and in time independent of the numbers.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace netshape {

struct SolveQuery {
  std::optional<int64_t> input, output, kernel, stride, padding;
  int64_t dilation = 1;
  bool ceil_mode = false;  // pools only
  bool pool = false;       // pooling rules: padding ≤ kernel/2, ceil_mode allowed
  bool keep = false;       // the padding that keeps every size (stride 1)
  bool halve = false;      // the padding that halves every even size (stride 2)
  bool transposed = false;  // a transposed conv: out = (in − 1)·s − 2p + d·(k − 1) + output_padding + 1
  std::optional<int64_t> output_padding;  // transposed only; unset: every legal value is tried
};

struct Solution {
  int64_t input, output, kernel, stride, padding, dilation;
  int64_t output_padding = 0;  // transposed convs
};

struct SolveResult {
  std::string unknown;               // "padding", "input", ...
  // In increasing order of the unknown: every one when `count` ≤ kMaxListed,
  // else the first and the last (the solutions always form one range).
  std::vector<Solution> solutions;
  int64_t count = 0;
  bool unbounded = false;            // every larger value works too (a stride beyond the input)
  std::vector<Solution> closest;     // when there is no solution: the nearest outputs either side
  std::string error;                 // a query that cannot be answered (usage)
  std::string note;                  // e.g. for --keep with an even kernel
};

inline constexpr int64_t kMaxListed = 256;

SolveResult solve(const SolveQuery& q);

// "⌊(224 + 2·3 − 1·(7 − 1) − 1) / 2⌋ + 1 = 112"
std::string formula_text(const Solution& s, bool ceil_mode);
// "(32 − 1)·2 − 2·1 + 1·(4 − 1) + 0 + 1 = 64"
std::string transposed_text(const Solution& s);

}  // namespace netshape
