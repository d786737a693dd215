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
  for (int64_t p = 0; p <= span; ++p) {
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

SolveResult solve(const SolveQuery& q) {
  SolveResult res;
  if (q.dilation < 1 || q.dilation > kMaxInt) { res.error = "--dilation must be from 1 to 2147483647"; return res; }
  if (q.ceil_mode && !q.pool) { res.error = "--ceil-mode applies to pools only: add --pool"; return res; }
  for (auto v : {q.input, q.output, q.kernel, q.stride, q.padding})
    if (v && (*v < 0 || *v > kMaxInt)) { res.error = "values must be from 0 to 2147483647"; return res; }

  if (q.keep || q.halve) {
    if (!q.kernel) { res.error = "--keep and --halve need --kernel-size"; return res; }
    res.unknown = "padding";
    int64_t s = q.keep ? 1 : 2;
    std::vector<int64_t> inputs;
    for (int64_t x = q.halve ? 2 : 1; x <= 512; x += q.halve ? 2 : 1) inputs.push_back(x);
    auto ps = q.keep ? paddings_for_all(q, *q.kernel, s, inputs, [](int64_t x) { return x; })
                     : paddings_for_all(q, *q.kernel, s, inputs, [](int64_t x) { return x / 2; });
    int64_t example = q.halve ? 224 : 56;
    for (int64_t p : ps)
      res.solutions.push_back({example, *legal_output(q, example, *q.kernel, s, p), *q.kernel, s, p, q.dilation});
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
  else { res.unknown = "stride"; lo = 1; hi = *q.input + 2 * *q.padding + 1; }
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
  std::optional<Solution> below, above;
  for (int64_t v = lo; v <= hi; ++v) {
    auto s = at(v);
    if (!s) continue;
    if (s->output == *q.output) res.solutions.push_back(*s);
    else if (s->output < *q.output && (!below || std::abs(s->output - *q.output) <= std::abs(below->output - *q.output))) below = s;
    else if (s->output > *q.output && (!above || s->output < above->output)) above = s;
  }
  // A stride past the padded input keeps giving one window.
  if (res.unknown == "stride" && !res.solutions.empty() && res.solutions.back().stride == hi)
    res.unbounded = true;
  if (res.solutions.empty()) {
    if (below) res.closest.push_back(*below);
    if (above) res.closest.push_back(*above);
  }
  return res;
}

}  // namespace netshape
