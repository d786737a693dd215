#include "formula.h"

#include <algorithm>

namespace netshape {

int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

WindowResult window_output(const Window& w) {
  WindowResult r;
  r.padded = w.in + w.pad_l + w.pad_r;
  r.span = w.dilation * (w.kernel - 1) + 1;
  r.numerator = r.padded - r.span + (w.ceil_mode ? w.stride - 1 : 0);
  r.out = floor_div(r.numerator, w.stride) + 1;
  if (w.ceil_mode && (r.out - 1) * w.stride >= w.in + w.pad_l) {
    // PyTorch: "ensure that the last pooling starts inside the image".
    --r.out;
    r.last_window_dropped = true;
  }
  if (r.out >= 1) {
    int64_t covered = (r.out - 1) * w.stride + r.span;  // padded rows the windows reach
    r.leftover = r.padded > covered ? r.padded - covered : 0;
  }
  return r;
}

int64_t transposed_output(const TransposedWindow& w) {
  return (w.in - 1) * w.stride - 2 * w.padding + w.dilation * (w.kernel - 1) + w.output_padding + 1;
}

std::optional<int64_t> checked_mul(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r)) return std::nullopt;
  return r;
}

std::optional<int64_t> checked_add(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r)) return std::nullopt;
  return r;
}

int64_t largest_divisor_below(int64_t n, int64_t limit) {
  int64_t best = 1;
  for (int64_t d = 1; d <= n / d; ++d) {
    if (n % d != 0) continue;
    if (d < limit) best = std::max(best, d);
    if (n / d < limit) best = std::max(best, n / d);
  }
  return best;
}

}  // namespace netshape
