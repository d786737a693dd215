#include "solve.h"

#include <fmt/format.h>

#include "formula.h"
#include "parse.h"

namespace netshape {
namespace {

// Legal in PyTorch 1.13, and the output it gives (nullopt: refused).
std::optional<int64_t> legal_output(const SolveQuery& q, int64_t in, int64_t k, int64_t s, int64_t p) {
  if (in < 1 || k < 1 || s < 1 || p < 0 || q.dilation < 1) return std::nullopt;
  if (q.pool && p > k / 2) return std::nullopt;  // "pad should be at most half of kernel size"
  WindowResult r = window_output({in, k, s, p, p, q.dilation, q.ceil_mode});
  if (!q.pool && r.padded < r.span) return std::nullopt;  // "Kernel size can't be greater than actual input size"
  if (r.out < 1) return std::nullopt;
  return r.out;
}

// The padding that gives `want(x)` for every x in `inputs`.
std::vector<int64_t> paddings_for_all(const SolveQuery& q, int64_t k, int64_t s,
                                      const std::vector<int64_t>& inputs,
                                      int64_t (*want)(int64_t)) {
  std::vector<int64_t> out;
  int64_t span = q.dilation * (k - 1) + 1;
  // Keeping every size needs x + 2p − span + 1 = x, halving every even size
  // ⌊(x + 2p − span)/2⌋ + 1 = x/2, i.e. 2p − span in [−2, 0): either way p is
  // within one of (span − 1)/2. Only those few are tried (a huge kernel made
  // the old scan of 0…span hang; found by the fuzzer).
  for (int64_t p = std::max<int64_t>(0, (span - 1) / 2 - 1); p <= (span + 1) / 2; ++p) {
    bool all = true;
    for (int64_t x : inputs) {
      auto o = legal_output(q, x, k, s, p);
      if (!o || *o != want(x)) { all = false; break; }
    }
    if (all) out.push_back(p);
  }
  return out;
}

}  // namespace

std::string formula_text(const Solution& s, bool ceil_mode) {
  WindowResult r = window_output({s.input, s.kernel, s.stride, s.padding, s.padding, s.dilation, ceil_mode});
  return fmt::format("{}({} + 2·{} − {}·({} − 1) − 1{}) / {}{} + 1 = {}{}", ceil_mode ? "⌈" : "⌊",
                     s.input, s.padding, s.dilation, s.kernel,
                     "", s.stride, ceil_mode ? "⌉" : "⌋", r.out,
                     r.last_window_dropped ? " (ceil_mode's last window starts in the padding and is dropped)" : "");
}

std::string transposed_text(const Solution& s) {
  return fmt::format("({} − 1)·{} − 2·{} + {}·({} − 1) + {} + 1 = {}", s.input, s.stride, s.padding, s.dilation, s.kernel,
                     s.output_padding, s.output);
}

namespace {

// The transposed formula solved for one unknown, in closed form: it is
// affine in every argument. output_padding, when not given, ranges over its
// legal values (below the stride or the dilation, as ATen requires); each
// value gives at most one solution. Solutions are checked against
// transposed_output, the evaluator's own formula.
SolveResult solve_transposed(const SolveQuery& q) {
  SolveResult res;
  if (q.pool || q.ceil_mode || q.keep || q.halve) {
    res.error = "--transposed takes none of --pool, --ceil-mode, --keep, --halve";
    return res;
  }
  int unknowns = !q.input + !q.output + !q.kernel + !q.stride + !q.padding;
  if (unknowns > 1 || (unknowns == 0 && q.output_padding)) {
    res.error = fmt::format("leave exactly one of --input, --output, --kernel-size, --stride, --padding, "
                            "--output-padding unset ({} are unset)", unknowns + !q.output_padding);
    return res;
  }
  const int64_t d = q.dilation;
  res.unknown = !q.input ? "input" : !q.output ? "output" : !q.kernel ? "kernel_size" : !q.stride ? "stride"
              : !q.padding ? "padding" : "output_padding";
  // output_padding < max(stride, dilation); a stride still unknown bounds nothing yet.
  constexpr int64_t kMaxOutputPadding = 511;  // tried when output_padding is free
  int64_t op_hi = q.output_padding ? *q.output_padding
                : q.stride ? std::min(std::max(*q.stride, d) - 1, kMaxOutputPadding) : kMaxOutputPadding;
  int64_t op_lo = q.output_padding.value_or(0);
  if (!q.output_padding && q.stride && std::max(*q.stride, d) - 1 > kMaxOutputPadding)
    res.note = fmt::format("output_padding may be up to {}; only 0 to {} were tried", std::max(*q.stride, d) - 1,
                           kMaxOutputPadding);
  auto check = [&](Solution s) {
    if (s.input < 1 || s.kernel < 1 || s.stride < 1 || s.padding < 0 || s.output_padding < 0) return;
    if (s.input > kMaxInt || s.kernel > kMaxInt || s.stride > kMaxInt || s.padding > kMaxInt) return;
    if (!(s.output_padding < s.stride || s.output_padding < s.dilation)) return;
    int64_t out = transposed_output({s.input, s.kernel, s.stride, s.padding, s.output_padding, s.dilation});
    if (out < 1 || (q.output && out != *q.output)) return;
    s.output = out;
    if (static_cast<int64_t>(res.solutions.size()) < kMaxListed) res.solutions.push_back(s);
    ++res.count;
  };
  // Divides exactly: the unknown = num / den when it is a whole number.
  auto exact = [](int64_t num, int64_t den) -> std::optional<int64_t> {
    if (den == 0 || num % den != 0) return std::nullopt;
    return num / den;
  };
  for (int64_t op = op_lo; op <= op_hi; ++op) {
    Solution s{q.input.value_or(0), q.output.value_or(0), q.kernel.value_or(0), q.stride.value_or(0),
               q.padding.value_or(0), d, op};
    // out − 1 = (in − 1)·s − 2p + d·(k − 1) + op
    if (res.unknown == "output" || res.unknown == "output_padding") {
      check(s);
    } else if (res.unknown == "padding") {
      if (auto p = exact((s.input - 1) * s.stride + d * (s.kernel - 1) + op + 1 - s.output, 2)) s.padding = *p, check(s);
    } else if (res.unknown == "input") {
      if (auto i = exact(s.output - 1 + 2 * s.padding - d * (s.kernel - 1) - op, s.stride)) s.input = *i + 1, check(s);
    } else if (res.unknown == "kernel_size") {
      if (auto k = exact(s.output - 1 + 2 * s.padding - op - (s.input - 1) * s.stride, d)) s.kernel = *k + 1, check(s);
    } else if (s.input > 1) {  // stride
      if (auto st = exact(s.output - 1 + 2 * s.padding - d * (s.kernel - 1) - op, s.input - 1)) s.stride = *st, check(s);
    } else {
      // One input pixel: the stride never matters; the smallest legal one, and every one above it.
      s.stride = op < d ? 1 : op + 1;
      std::size_t before = res.solutions.size();
      check(s);
      if (res.solutions.size() > before) res.unbounded = true;
    }
    if (res.unknown == "output") break;  // output_padding given or 0 …
  }
  return res;
}

}  // namespace

SolveResult solve(const SolveQuery& q) {
  if (q.transposed) {
    SolveResult r;
    if (q.dilation < 1 || q.dilation > kMaxInt) { r.error = "--dilation must be from 1 to 2147483647"; return r; }
    for (auto v : {q.input, q.output, q.kernel, q.stride, q.padding, q.output_padding})
      if (v && (*v < 0 || *v > kMaxInt)) { r.error = "values must be from 0 to 2147483647"; return r; }
    return solve_transposed(q);
  }
  if (q.output_padding) {
    SolveResult r;
    r.error = "--output-padding belongs to a transposed conv: add --transposed";
    return r;
  }
  SolveResult res;
  if (q.dilation < 1 || q.dilation > kMaxInt) { res.error = "--dilation must be from 1 to 2147483647"; return res; }
  if (q.ceil_mode && !q.pool) { res.error = "--ceil-mode applies to pools only: add --pool"; return res; }
  for (auto v : {q.input, q.output, q.kernel, q.stride, q.padding})
    if (v && (*v < 0 || *v > kMaxInt)) { res.error = "values must be from 0 to 2147483647"; return res; }

  if (q.keep || q.halve) {
    if (!q.kernel) { res.error = "--keep and --halve need --kernel-size"; return res; }
    if (q.stride && *q.stride != (q.keep ? 1 : 2)) {
      res.error = fmt::format("--{} means stride {}; --stride {} contradicts it (drop one of them)",
                              q.keep ? "keep" : "halve", q.keep ? 1 : 2, *q.stride);
      return res;
    }
    res.unknown = "padding";
    int64_t s = q.keep ? 1 : 2;
    std::vector<int64_t> inputs;
    for (int64_t x = q.halve ? 2 : 1; x <= 512; x += q.halve ? 2 : 1) inputs.push_back(x);
    auto ps = q.keep ? paddings_for_all(q, *q.kernel, s, inputs, [](int64_t x) { return x; })
                     : paddings_for_all(q, *q.kernel, s, inputs, [](int64_t x) { return x / 2; });
    int64_t example = q.halve ? 224 : 56;
    for (int64_t p : ps)
      res.solutions.push_back({example, *legal_output(q, example, *q.kernel, s, p), *q.kernel, s, p, q.dilation});
    res.count = static_cast<int64_t>(res.solutions.size());
    if (ps.empty() && q.keep && !q.pool && (q.dilation * (*q.kernel - 1)) % 2 == 1)
      res.note = fmt::format("no symmetric padding keeps the size: dilation·(kernel − 1) = {} is odd. "
                             "padding \"same\" does it by padding {} before and {} after",
                             q.dilation * (*q.kernel - 1), q.dilation * (*q.kernel - 1) / 2,
                             q.dilation * (*q.kernel - 1) - q.dilation * (*q.kernel - 1) / 2);
    return res;
  }

  int unknowns = !q.input + !q.output + !q.kernel + !q.stride + !q.padding;
  if (unknowns != 1) {
    res.error = fmt::format("leave exactly one of --input, --output, --kernel-size, --stride, "
                            "--padding unset ({} {} unset)", unknowns, unknowns == 1 ? "is" : "are");
    return res;
  }
  // Candidates for the unknown: a range that holds every solution. The output
  // grows with input and padding and shrinks with kernel and stride, and it is
  // at least 1, so none lies past these bounds.
  int64_t span = q.kernel ? q.dilation * (*q.kernel - 1) + 1 : 0;
  int64_t lo = 0, hi = 0;
  if (!q.output) { res.unknown = "output"; lo = hi = 0; }
  else if (!q.input) { res.unknown = "input"; lo = 1; hi = (*q.output + 1) * *q.stride + span; }
  else if (!q.padding) { res.unknown = "padding"; lo = 0; hi = (*q.output + 1) * *q.stride + span; }
  else if (!q.kernel) { res.unknown = "kernel_size"; lo = 1; hi = (*q.input + 2 * *q.padding) / q.dilation + 2; }
  // Past in + 2p + span every stride gives one window (ceil_mode included:
  // ⌈n/s⌉ + 1 is 1 once s > −n when the numerator n is negative).
  else { res.unknown = "stride"; lo = 1; hi = *q.input + 2 * *q.padding + span + 1; }
  hi = std::min(hi, kMaxInt);

  auto at = [&](int64_t v) -> std::optional<Solution> {
    Solution s{q.input.value_or(v), 0, q.kernel.value_or(v), q.stride.value_or(v), q.padding.value_or(v), q.dilation};
    auto o = legal_output(q, s.input, s.kernel, s.stride, s.padding);
    if (!o) return std::nullopt;
    s.output = *o;
    return s;
  };
  if (res.unknown == "output") {
    if (auto s = at(0)) res.solutions.push_back(*s);
    else res.error = "PyTorch refuses these arguments (output below 1, kernel larger than the padded input, or pooling padding over half the kernel)";
    return res;
  }
  // Binary searches, in time independent of the numbers: the legal values
  // form an interval (the pool rule bounds padding above and kernel below;
  // "the kernel fits" holds from some input or padding up, or up to some
  // kernel), and on it the output is monotone — growing with input and
  // padding, shrinking with kernel and stride. tests/solve_test.cc checks
  // this against trying every value.
  auto first = [](int64_t a, int64_t b, const auto& pred) {  // first v in [a, b] with pred, else b + 1
    while (a <= b) {
      int64_t m = a + (b - a) / 2;
      if (pred(m)) b = m - 1;
      else a = m + 1;
    }
    return a;
  };
  auto legal = [&](int64_t v) { return at(v).has_value(); };
  if (q.pool && res.unknown == "padding") hi = std::min(hi, *q.kernel / 2);
  if (q.pool && res.unknown == "kernel_size") lo = std::max(lo, 2 * *q.padding);
  int64_t L = lo, U = hi;
  // Legal from some value up for input, padding and stride (a ceil_mode
  // pool's output reaches 1 once the stride is large enough), up to some
  // value for the kernel.
  if (res.unknown == "kernel_size") U = first(lo, hi, [&](int64_t v) { return !legal(v); }) - 1;
  else L = first(lo, hi, legal);
  if (L > U) return res;
  bool grows = res.unknown == "input" || res.unknown == "padding";
  auto out = [&](int64_t v) { return at(v)->output; };
  int64_t want = *q.output;
  int64_t a = first(L, U, [&](int64_t v) { return grows ? out(v) >= want : out(v) <= want; });
  int64_t b = first(L, U, [&](int64_t v) { return grows ? out(v) > want : out(v) < want; }) - 1;
  res.count = a <= b ? b - a + 1 : 0;
  if (res.count > 0) {
    // Every solution when there are few; the two ends of the range otherwise.
    if (res.count <= kMaxListed) for (int64_t v = a; v <= b; ++v) res.solutions.push_back(*at(v));
    else res.solutions = {*at(a), *at(b)};
    // A stride past the padded input keeps giving one window.
    res.unbounded = res.unknown == "stride" && b == hi;
    return res;
  }
  // None: the nearest outputs either side.
  auto side = [&](int64_t v) { if (v >= L && v <= U) res.closest.push_back(*at(v)); };
  if (grows) { side(a - 1); side(a); }
  else { side(a); side(a - 1); }
  return res;
}

}  // namespace netshape
