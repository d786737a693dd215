// explain: each derivation carries the layer's own numbers. Expected values
// come from PyTorch's formulas, computed here: Conv2d/MaxPool2d's
// ⌊(in + 2·padding − dilation·(kernel − 1) − 1) / stride⌋ + 1, the
// parameters k·k·(C_in / groups)·C_out, GLU's half of its dim.
#include <doctest/doctest.h>

#include <algorithm>

#include <fmt/format.h>

#include "explain.h"
#include "parse.h"
#include "pipeline.h"

using namespace netshape;

namespace {

// The seed article's `pre`, then one ResidualBlock with an identity shortcut.
const char* const kPre = R"({"name": "pre", "input": [1, 3, 224, 224], "layers": [
  {"name": "conv", "type": "Conv2d", "out_channels": 64, "kernel_size": 7, "stride": 2, "padding": 3, "bias": false},
  {"name": "bn", "type": "BatchNorm2d"}, {"name": "relu", "type": "ReLU", "inplace": true},
  {"name": "pool", "type": "MaxPool2d", "kernel_size": 3, "stride": 2, "padding": 1},
  {"name": "block", "type": "Residual",
   "body": [{"name": "c1", "type": "Conv2d", "out_channels": 64, "kernel_size": 3, "padding": 1, "bias": false}]}]})";

int64_t out_size(int64_t in, int64_t k, int64_t s, int64_t p) { return (in + 2 * p - (k - 1) - 1) / s + 1; }

struct Explained {
  std::vector<Explanation> all;
  const Explanation* of(const std::string& name) const {
    auto it = std::find_if(all.begin(), all.end(), [&](const Explanation& e) { return e.name == name; });
    return it == all.end() ? nullptr : &*it;
  }
  bool says(const std::string& name, const std::string& text) const {
    const Explanation* e = of(name);
    return e && std::any_of(e->lines.begin(), e->lines.end(),
                            [&](const std::string& l) { return l.find(text) != std::string::npos; });
  }
};

Explained run(const std::string& text, const std::string& only = "") {
  auto p = parse_spec(text);
  REQUIRE(p.spec);
  return {explain(*p.spec, evaluate(*p.spec), only)};
}

}  // namespace

TEST_CASE("a conv's derivation has its own numbers: 224 → 112 with kernel 7, stride 2, padding 3") {
  auto x = run(kPre);
  const Explanation* conv = x.of("conv");
  REQUIRE(conv);
  CHECK(conv->headline == "Conv2d(3 → 64, kernel_size=7, stride=2, padding=3, bias=False)");
  const int64_t h = out_size(224, 7, 2, 3);
  REQUIRE(h == 112);
  CHECK(x.says("conv", "H: ⌊(224 + 2·3 − 1·(7 − 1) − 1) / 2⌋ + 1 = ⌊223 / 2⌋ + 1 = 112"));
  CHECK(x.says("conv", "W: the same as H"));
  CHECK(x.says("conv", "parameters: 7·7·3/1·64 = 9,408"));  // 7·7·3·64 = 9,408, no bias
  CHECK(x.says("pool", fmt::format("= {}", out_size(112, 3, 2, 1))));
  CHECK(x.says("bn", "2·64 = 128"));  // a scale and a shift per channel
}

TEST_CASE("only a block's rows, and the residual's add explained") {
  auto x = run(kPre, "block");
  REQUIRE(x.all.size() == 2);
  CHECK(x.all[0].name == "block.body.c1");
  CHECK(x.all[1].name == "block");
  CHECK(x.says("block", "no shortcut layers: the shortcut is the identity, x itself"));
  CHECK(x.says("block.body.c1", "kernel 3 with padding 1 and stride 1 keeps the size"));
}

TEST_CASE("a failing layer is marked, and GLU shows its halving") {
  auto bad = run(R"({"input": [1, 3, 4, 4], "layers": [{"name": "c", "type": "Conv2d", "out_channels": 8, "kernel_size": 7}]})");
  CHECK(bad.says("c", "→ ✗ (see the error)"));
  auto glu = run(R"({"input": [1, 10, 4, 4], "layers": [{"name": "g", "type": "GLU", "dim": 1}]})");
  CHECK(glu.of("g")->headline == "GLU(dim=1)");
  CHECK(glu.says("g", "10 / 2 = 5"));
}
