// The output-size formula, one function for every conv and pool, per spatial dim:
//   out = ⌊(in + pad_l + pad_r − dilation·(kernel − 1) − 1) / stride⌋ + 1
// with PyTorch's ceil_mode rule for pools (ATen pooling_output_shape_pad_lr).
#pragma once
#include <cstdint>
#include <optional>

namespace netshape {

struct Window {
  int64_t in = 0, kernel = 1, stride = 1, pad_l = 0, pad_r = 0, dilation = 1;
  bool ceil_mode = false;
};

// Every intermediate value, so that `explain` can show the arithmetic.
struct WindowResult {
  int64_t padded = 0;      // in + pad_l + pad_r
  int64_t span = 0;        // dilation·(kernel − 1) + 1: rows one window covers
  int64_t numerator = 0;   // padded − span (+ stride − 1 in ceil_mode)
  int64_t out = 0;         // may be < 1: the caller reports it
  int64_t leftover = 0;    // rows the floor throws away: never covered by a window
  bool last_window_dropped = false;  // ceil_mode: a window would start in the right padding
};

// Floor division (rounds toward −∞ like ATen's div_rtn), b > 0.
int64_t floor_div(int64_t a, int64_t b);

// Inputs are bounded by the parser (each ≤ 2^31 − 1), so this cannot overflow.
WindowResult window_output(const Window& w);

// The transposed convolution, per spatial dim (ATen ConvUtils.h,
// conv_input_size; torch.nn.ConvTranspose2d's docs):
//   out = (in − 1)·stride − 2·padding + dilation·(kernel − 1) + output_padding + 1
// It is the size a Conv2d with the same arguments maps back onto `in`: the
// conv's gradient. Inputs are bounded by the parser, so no overflow.
struct TransposedWindow {
  int64_t in = 0, kernel = 1, stride = 1, padding = 0, output_padding = 0, dilation = 1;
};
int64_t transposed_output(const TransposedWindow& w);

// The largest divisor of n (n ≥ 1) below `limit` (≥ 2): 1 at worst. By the
// divisors up to √n, so a groups of 2,147,483,647 costs 46,341 steps, not 2^31.
int64_t largest_divisor_below(int64_t n, int64_t limit);

// Checked arithmetic: nullopt on overflow, never a wrap.
std::optional<int64_t> checked_mul(int64_t a, int64_t b);
std::optional<int64_t> checked_add(int64_t a, int64_t b);

}  // namespace netshape
