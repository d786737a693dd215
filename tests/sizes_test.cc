// `netshape sizes` is derived symbolically; here it is checked against brute
// force: the numeric evaluator run at every size from 1 to 1,024, on every
// shipped spec and on small specs built to have congruences and ceil_mode.
#include <doctest/doctest.h>

#include <dirent.h>

#include <fmt/format.h>

#include "symbolic.h"
#include "test_util.h"

using namespace netshape;
using namespace netshape::test;

namespace {

// The built network keeps the in_features it got at the spec's own input.
void pin_linears(Graph& g, const Evaluation& at_spec_input) {
  for (auto& n : g.nodes)
    if (auto* l = std::get_if<Linear>(&n.op); l && !l->in_features)
      if (const Row* r = find_row(at_spec_input, n.name); r && !r->input.empty()) l->in_features = r->input.back();
}

// A floor-discards warning on a layer that sees this dim (one of the analysis's
// inputs): what `sizes`' "no input rows left unread" speaks of. A layer past a
// rank change (an Unflatten into a 5-D map) reads a map that no longer follows
// the input, and loses the same rows at every size.
bool loses_rows(const Evaluation& ev, const DimAnalysis& a) {
  for (const auto& d : ev.diagnostics.items)
    if (d.code == "floor-discards")
      for (const auto& [layer, f] : a.inputs)
        if (layer == d.layer) return true;
  return false;
}

void brute_force(const std::string& name, const std::string& text) {
  auto parsed = parse_spec(text);
  REQUIRE_MESSAGE(parsed.spec, name);
  Evaluation at_input = evaluate(*parsed.spec);
  const std::string why = name + ": the other dims are held at the spec's input, which must be valid";
  REQUIRE_MESSAGE(at_input.valid(), why);
  Spec pinned = *parsed.spec;
  pin_linears(pinned.graph, at_input);
  // One analysis per spatial dim (L; H, W; D, H, W).
  std::vector<DimAnalysis> all;
  for (std::size_t axis = 2; axis < parsed.spec->input.size(); ++axis)
    all.push_back(analyse_dim(*parsed.spec, at_input, static_cast<int>(axis)));
  for (std::size_t axis = 2; axis < parsed.spec->input.size(); ++axis) {
    const DimAnalysis& a = all[axis - 2];
    // The others stay at their own sizes: are they clean there?
    bool others_clean = true;
    for (std::size_t o = 2; o < parsed.spec->input.size(); ++o)
      if (o != axis) others_clean = others_clean && all[o - 2].clean.contains(parsed.spec->input[o]);
    CAPTURE(name);
    CAPTURE(a.dim);
    REQUIRE(a.error == "");
    int mismatches = 0;
    for (int64_t x = 1; x <= 1024 && mismatches < 5; ++x) {
      Spec s = pinned;
      s.input[axis] = x;
      Evaluation ev = evaluate(s);
      CAPTURE(x);
      if (ev.valid() != a.valid.contains(x)) {
        ++mismatches;
        FAIL_CHECK("symbolic and brute force disagree on validity");
        continue;
      }
      if (!ev.valid()) continue;
      // The warning speaks of every dim; the others stay at their own sizes.
      bool expected_loss = !a.clean.contains(x) || !others_clean;
      if (loses_rows(ev, a) != expected_loss) {
        ++mismatches;
        FAIL_CHECK("symbolic and brute force disagree on which sizes leave rows unread");
      }
      // Every closed form gives the evaluator's size.
      for (const auto& [row, f] : a.forms) {
        const Row* r = find_row(ev, row);
        if (r && r->output.size() == s.input.size() && r->output[axis] != f.at(x)) {
          ++mismatches;
          FAIL_CHECK(fmt::format("{}: closed form {} gives {}, the evaluator {}", row, qdim_text(f, a.dim),
                                 f.at(x), r->output[axis]));
        }
      }
    }
  }
}

}  // namespace

TEST_CASE("the seed's ResNet34 takes exactly 193 to 416") {
  // avg_pool2d(7) then fc 512: the last map (⌈H/32⌉) must be 7..13 wide, so
  // that the pool gives exactly 1: ⌈H/32⌉ ≥ 7 ⟺ H ≥ 193, ⌈H/32⌉ ≤ 13 ⟺ H ≤ 416.
  auto o = run_text(slurp(std::string(NETSHAPE_SOURCE_DIR) + "/specs/resnet34.json"));
  auto parsed = parse_spec(slurp(std::string(NETSHAPE_SOURCE_DIR) + "/specs/resnet34.json"));
  for (int axis : {2, 3}) {
    DimAnalysis a = analyse_dim(*parsed.spec, o.eval, axis);
    auto d = a.valid.describe();
    REQUIRE(d.ranges.size() == 1);
    CHECK(d.ranges[0] == std::pair<int64_t, int64_t>{193, 416});
    CHECK(d.modulus == 1);
    for (const auto& [row, f] : a.forms)
      if (row == "layer4.2.after.0") CHECK(qdim_text(f, a.dim) == fmt::format("⌈{}/32⌉", a.dim));
  }
}

TEST_CASE("symbolic sizes equal brute force on every shipped spec, 1 to 1,024") {
  std::string dir = std::string(NETSHAPE_SOURCE_DIR) + "/specs";
  DIR* d = opendir(dir.c_str());
  REQUIRE(d);
  int n = 0;
  while (dirent* e = readdir(d)) {
    std::string f = e->d_name;
    if (f.size() < 6 || f.substr(f.size() - 5) != ".json" || f == "schema.json") continue;
    brute_force(f, slurp(dir + "/" + f));
    ++n;
  }
  closedir(d);
  CHECK(n >= 6);
}

TEST_CASE("congruences and ceil_mode, against brute force") {
  // Body conv k2 s2: ⌊(x − 2)/2⌋ + 1 = ⌊x/2⌋; shortcut 1x1 s2: ⌈x/2⌉. They
  // agree exactly for even x.
  brute_force("even-only", R"({"input": [1, 2, 16, 16], "layers": [{"type": "Residual",
      "body": [{"type": "Conv2d", "out_channels": 2, "kernel_size": 2, "stride": 2}],
      "shortcut": [{"type": "Conv2d", "out_channels": 2, "kernel_size": 1, "stride": 2}]}]})");
  auto parsed = parse_spec(R"({"input": [1, 2, 16, 16], "layers": [{"type": "Residual",
      "body": [{"type": "Conv2d", "out_channels": 2, "kernel_size": 2, "stride": 2}],
      "shortcut": [{"type": "Conv2d", "out_channels": 2, "kernel_size": 1, "stride": 2}]}]})");
  auto d = analyse_dim(*parsed.spec, evaluate(*parsed.spec), 2).valid.describe();
  CHECK(d.modulus == 2);
  CHECK(d.residues == std::vector<int64_t>{0});
  // ceil_mode pools in a chain, with padding and dilation, and a Linear after them.
  brute_force("ceil-chain", R"({"input": [1, 3, 40, 40], "layers": [
      {"type": "MaxPool2d", "kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": true},
      {"type": "Conv2d", "out_channels": 4, "kernel_size": 3, "dilation": 2, "padding": 1},
      {"type": "AvgPool2d", "kernel_size": 2, "stride": 3, "ceil_mode": true},
      {"type": "MaxPool2d", "kernel_size": 2, "stride": 2, "padding": 1, "ceil_mode": true},
      {"type": "Flatten"}, {"type": "Linear", "out_features": 5}]})");
  // Resizing kinds: padding (reflection needs more input than padding), an
  // integer upsample (2·x), a pixel unshuffle (x must divide), a crop.
  brute_force("resizing", R"({"input": [1, 4, 30, 22], "layers": [
      {"type": "ReflectionPad2d", "padding": [1, 2, 3, 0]},
      {"type": "Conv2d", "out_channels": 4, "kernel_size": 3, "stride": 2},
      {"type": "Upsample", "scale_factor": 3, "mode": "nearest"},
      {"type": "PixelUnshuffle", "downscale_factor": 2},
      {"type": "ConstantPad2d", "padding": [-1, 0, 0, -2]},
      {"type": "PixelShuffle", "upscale_factor": 2},
      {"type": "MaxPool2d", "kernel_size": 2, "ceil_mode": true}]})");
  brute_force("same-padding", R"({"input": [1, 3, 20, 20], "layers": [
      {"type": "Conv2d", "out_channels": 4, "kernel_size": 4, "padding": "same"},
      {"type": "Conv2d", "out_channels": 4, "kernel_size": 5, "stride": 3, "padding": 2},
      {"type": "AdaptiveAvgPool2d", "output_size": [null, 2]}, {"type": "Flatten"}, {"type": "Linear", "out_features": 2}]})");
}

TEST_CASE("Reshape and Permute, symbolically, against brute force") {
  // A trailing -1 takes (c/known)·f(x); without -1 the count must be exact;
  // with known dividing the rest, the dim must be a multiple.
  brute_force("reshape-trailing", R"({"input": [1, 4, 12, 6], "layers": [
      {"type": "Conv2d", "out_channels": 8, "kernel_size": 3, "padding": 1},
      {"type": "Reshape", "shape": [1, 2, -1]}, {"type": "Softmax", "dim": -1}]})");
  brute_force("reshape-exact", R"({"input": [1, 2, 8, 8], "layers": [
      {"type": "MaxPool2d", "kernel_size": 2}, {"type": "View", "shape": [1, 32]}, {"type": "Linear", "out_features": 3}]})");
  brute_force("reshape-multiple", R"({"input": [1, 1, 6, 1], "layers": [{"type": "Reshape", "shape": [3, -1]}]})");
  // Permuting dims that do not follow the input (batch and channels) keeps the analysis.
  brute_force("permute-constant", R"({"input": [2, 3, 8, 8], "layers": [
      {"type": "Transpose", "dim0": 0, "dim1": 1}, {"type": "Conv2d", "out_channels": 4, "kernel_size": 3},
      {"type": "Permute", "dims": [1, 0, 2, 3]}]})");
  auto parsed = parse_spec(R"({"input": [1, 1, 6, 1], "layers": [{"type": "Reshape", "shape": [3, -1]}]})");
  auto d = analyse_dim(*parsed.spec, evaluate(*parsed.spec), 2).valid.describe();
  CHECK(d.modulus == 3);  // H·1 elements into rows of 3
  CHECK(d.residues == std::vector<int64_t>{0});
  // ConvNeXt's channels-last stretch: the analysed dim moves and comes back;
  // the rows in between keep the layout (LayerNorm, Linear, GELU, a layer scale's Mul).
  brute_force("permute-channels-last", R"({"input": [1, 3, 32, 24], "layers": [
      {"type": "Conv2d", "out_channels": 8, "kernel_size": 4, "stride": 4},
      {"type": "Permute", "dims": [0, 2, 3, 1]}, {"type": "LayerNorm", "normalized_shape": 8},
      {"type": "Linear", "out_features": 16}, {"type": "GELU"}, {"name": "back", "type": "Linear", "out_features": 8},
      {"type": "Permute", "dims": [0, 3, 1, 2]}, {"name": "scale", "type": "Parameter", "shape": [8, 1, 1]},
      {"type": "Mul", "from": ["scale", "6"]}, {"type": "Conv2d", "out_channels": 8, "kernel_size": 2, "stride": 2}]})");
  auto last = parse_spec(R"({"input": [1, 3, 32, 24], "layers": [{"type": "Conv2d", "out_channels": 8, "kernel_size": 4, "stride": 4},
      {"type": "Permute", "dims": [0, 2, 3, 1]}, {"type": "Permute", "dims": [0, 3, 1, 2]}]})");
  DimAnalysis h = analyse_dim(*last.spec, evaluate(*last.spec), 2);
  REQUIRE(h.error == "");
  REQUIRE(h.forms.size() == 2);  // the conv and the Permute back; the moved row is not in place
  CHECK(h.forms.back().first == "2");
  CHECK(qdim_text(h.forms.back().second, "H") == "⌊H/4⌋");
  // A layer other than those past a moved dim is not analysed, and says so.
  auto moved = parse_spec(R"({"input": [1, 3, 8, 8], "layers": [{"type": "Permute", "dims": [0, 2, 3, 1]},
      {"name": "c", "type": "Conv2d", "out_channels": 4, "kernel_size": 3}]})");
  CHECK(analyse_dim(*moved.spec, evaluate(*moved.spec), 2).error.find("`c` follows a Permute that moved") != std::string::npos);
}

TEST_CASE("symbolic sizes equal brute force on specs holding every layer kind once (tests/export/)") {
  // Each kind of the table once (kinds_2d.json, kinds_1d_3d.json) and a shared
  // module (shares.json): the symbolic rule of every kind, not only those the
  // shipped networks use, against the evaluator at every size 1 to 1,024.
  int n = 0;
  for (const char* f : {"kinds_2d.json", "kinds_1d_3d.json", "shares.json"}) {
    brute_force(f, slurp(std::string(NETSHAPE_SOURCE_DIR) + "/tests/export/" + f));
    ++n;
  }
  CHECK(n == 3);
}
