// The one formula against PyTorch. Every expected value below was observed
// with PyTorch 1.13.1 (Debian 12's python3-torch), e.g.
//   nn.MaxPool2d(2, 2, 1, ceil_mode=True)(torch.zeros(1, 4, 7, 7)).shape[2:] == (4, 4)
// or derived by hand where the derivation is written next to it.
#include <doctest/doctest.h>

#include "formula.h"

using namespace netshape;

static int64_t out(int64_t in, int64_t k, int64_t s, int64_t p, int64_t d = 1, bool ceil = false) {
  return window_output({in, k, s, p, p, d, ceil}).out;
}

TEST_CASE("floor_div rounds toward minus infinity like ATen's div_rtn") {
  CHECK(floor_div(7, 2) == 3);
  CHECK(floor_div(-1, 2) == -1);
  CHECK(floor_div(-4, 2) == -2);
  CHECK(floor_div(0, 5) == 0);
}

TEST_CASE("conv output sizes match PyTorch") {
  CHECK(out(224, 7, 2, 3) == 112);  // the seed's stem: Conv2d(3, 64, 7, 2, 3)
  CHECK(out(7, 3, 2, 1) == 4);      // Conv2d(4, 4, 3, 2, 1) on 7x7
  CHECK(out(4, 3, 1, 5) == 12);     // conv padding may exceed half the kernel
  CHECK(out(7, 3, 3, 0, 3) == 1);   // dilation 3: span 7 on a 7-wide input
  CHECK(out(7, 1, 2, 0) == 4);      // the 1x1 stride-2 shortcut
  // The seed: with kernel 3 and padding 1, stride 1 keeps the size, stride 2 halves it.
  for (int64_t x : {56, 28, 14}) {
    CHECK(out(x, 3, 1, 1) == x);
    CHECK(out(x, 3, 2, 1) == x / 2);
  }
}

TEST_CASE("pool output sizes match PyTorch, ceil_mode included") {
  CHECK(out(112, 3, 2, 1) == 56);                // the seed's MaxPool2d(3, 2, 1)
  CHECK(out(7, 2, 2, 1, 1, true) == 4);          // not 5: the 5th window would start in the padding
  CHECK(window_output({7, 2, 2, 1, 1, 1, true}).last_window_dropped);
  CHECK(out(7, 2, 2, 1) == 4);
  CHECK(out(6, 3, 2, 0, 1, true) == 3);          // ceil keeps the partial last window
  CHECK(out(6, 3, 2, 0) == 2);
  CHECK(out(5, 2, 2, 0, 1, true) == 3);
  CHECK(out(10, 3, 3, 1, 2) == 3);               // MaxPool2d(3, 3, 1, dilation=2)
  CHECK(out(1, 4, 2, 1, 1, true) == 1);          // ceil_mode rescues a window larger than the input
  CHECK(out(1, 4, 2, 1) == 0);                   // PyTorch: "Output size is too small"
  CHECK(out(7, 7, 7, 0) == 1);                   // avg_pool2d(7) on ResNet34's last 7x7 map
  CHECK(out(6, 7, 7, 0) == 0);                   // "Output size is too small"
  CHECK(out(8, 3, 2, 1, 1, true) == 5);          // AvgPool2d(3, 2, 1, ceil_mode=True)
}

TEST_CASE("leftover counts the input rows no window reaches") {
  // 224 + 2·3 = 230 padded rows; windows start at 0, 2, ..., 222 and the last
  // covers rows 222..228, so padded row 229 (the last padding row) is unused.
  CHECK(window_output({224, 7, 2, 3, 3, 1, false}).leftover == 1);
  CHECK(window_output({56, 3, 1, 1, 1, 1, false}).leftover == 0);
}

TEST_CASE("checked arithmetic reports overflow instead of wrapping") {
  CHECK(checked_mul(INT64_MAX, 2) == std::nullopt);
  CHECK(checked_mul(3037000499, 3037000499) == 9223372030926249001);
  CHECK(checked_add(INT64_MAX, 1) == std::nullopt);
}
