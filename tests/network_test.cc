// network.cc: the parser's tree lowered into one graph — nodes in order, the
// values they read, merges with several inputs — and the merges' shape rules
// in evaluate.cc, each against what PyTorch does (written next to the case).
#include <doctest/doctest.h>

#include "test_util.h"

using namespace netshape;
using namespace netshape::test;

namespace {

Spec parsed(const std::string& text) {
  auto p = parse_spec(text);
  for (const auto& d : p.diagnostics.items) MESSAGE(d.code << ": " << d.message);
  REQUIRE(p.spec);
  return *p.spec;
}

std::vector<std::string> node_names(const Graph& g) {
  std::vector<std::string> out;
  for (const auto& n : g.nodes) out.push_back(n.name);
  return out;
}

}  // namespace

TEST_CASE("a Residual lowers to body, shortcut, the add, then after — in evaluation order") {
  Spec s = parsed(R"({"input": [1, 4, 8, 8], "layers": [
    {"name": "b", "type": "Residual", "body": [{"type": "ReLU"}, {"type": "ReLU"}],
     "shortcut": [{"type": "ReLU"}], "after": [{"type": "ReLU"}]}]})");
  const Graph& g = s.graph;
  CHECK(node_names(g) == std::vector<std::string>{"b.body.0", "b.body.1", "b.shortcut.0", "b", "b.after.0"});
  const GraphNode& add = g.nodes[3];
  REQUIRE(std::holds_alternative<Merge>(add.op));
  CHECK(add.residual);
  REQUIRE(add.inputs.size() == 2);
  CHECK(add.inputs[0].value == value_of(1));  // the body's last layer
  CHECK(add.inputs[1].value == value_of(2));  // the shortcut's
  CHECK(g.nodes[0].inputs[0].value == 0);     // body and shortcut both read the input
  CHECK(g.nodes[2].inputs[0].value == 0);
  CHECK(g.outputs == std::vector<int>{value_of(4)});
}

TEST_CASE("an identity shortcut is the block's input; add: false keeps the body alone") {
  Spec s = parsed(R"({"input": [1, 4, 8, 8], "layers": [{"type": "ReLU"},
    {"name": "b", "type": "Residual", "body": [{"type": "ReLU"}]},
    {"name": "c", "type": "Residual", "add": false, "body": [{"type": "ReLU"}], "shortcut": [{"type": "ReLU"}]}]})");
  const Graph& g = s.graph;
  CHECK(node_names(g) == std::vector<std::string>{"0", "b.body.0", "b", "c.body.0"});
  CHECK(g.nodes[2].inputs[1].identity);
  CHECK(g.nodes[2].inputs[1].value == value_of(0));  // the ReLU before the block
}

TEST_CASE("every named module, containers too, maps to the value a forward hook would see") {
  Spec s = parsed(R"({"input": [1, 4, 8, 8], "layers": [
    {"name": "seq", "type": "Sequential", "layers": [{"type": "ReLU"}]},
    {"name": "b", "type": "Residual", "body": [{"type": "ReLU"}], "after": [{"type": "ReLU"}]}]})");
  std::map<std::string, int> m;
  for (const auto& x : s.graph.modules) m[s.graph.module_name(x)] = x.value;
  CHECK(m.at("seq") == m.at("seq.0"));
  CHECK(m.at("b.body") == m.at("b.body.0"));
  CHECK(m.at("b") == m.at("b.after.0"));  // a container's output is after its `after`
  CHECK(m.at("b.after") == m.at("b.after.0"));
  CHECK(m.count("b.shortcut") == 0);  // an identity is no module
}

TEST_CASE("from: a skip across the sequence; names are checked, cycles impossible") {
  Spec s = parsed(R"({"input": [1, 3, 8, 8], "layers": [
    {"name": "a", "type": "ReLU"}, {"name": "b", "type": "ReLU"},
    {"name": "c", "type": "ReLU", "from": "input"}, {"name": "d", "type": "Add", "from": ["a", "c"]}]})");
  CHECK(s.graph.nodes[2].inputs[0].value == 0);
  CHECK(s.graph.nodes[3].inputs[0].value == value_of(0));
  CHECK(s.graph.nodes[3].inputs[1].value == value_of(2));

  auto later = run_layers("[1, 3, 8, 8]", R"({"name": "a", "type": "ReLU", "from": "b"}, {"name": "b", "type": "ReLU"})");
  REQUIRE(later.find("bad-reference"));
  CHECK(later.find("bad-reference")->notes[0].find("comes later") != std::string::npos);
  auto inside = run_layers("[1, 3, 8, 8]", R"({"name": "s", "type": "Sequential", "layers": [{"type": "ReLU", "from": "s"}]})");
  REQUIRE(inside.find("bad-reference"));
  CHECK(inside.find("bad-reference")->notes[0].find("contains") != std::string::npos);
  auto typo = run_layers("[1, 3, 8, 8]", R"({"name": "conv", "type": "ReLU"}, {"type": "ReLU", "from": "cnv"})");
  REQUIRE(typo.find("bad-reference"));
  CHECK(typo.find("bad-reference")->help == "did you mean `conv`?");
  CHECK(typo.find("bad-reference")->pointer == "/layers/1/from");
}

// torch.cat([a, b], 1): every dim but 1 equal; dim 1 adds up.
TEST_CASE("cat: channels add up; any other dim must match, as torch.cat requires") {
  auto ok = run_layers("[1, 192, 28, 28]", R"({"name": "m", "type": "Branches", "merge": "cat", "branches": [
      [{"type": "Conv2d", "out_channels": 64, "kernel_size": 1}],
      [{"type": "Conv2d", "out_channels": 128, "kernel_size": 3, "padding": 1}],
      []]})");
  REQUIRE(ok.valid());
  CHECK(ok.eval.output == Shape{1, 64 + 128 + 192, 28, 28});
  CHECK(ok.row("m")->inputs == std::vector<Shape>{{1, 64, 28, 28}, {1, 128, 28, 28}, {1, 192, 28, 28}});

  // Along dim 3 (the width) instead: torch.cat([x, x], 3) of [1, 2, 5, 7] is [1, 2, 5, 14].
  auto width = run_layers("[1, 2, 5, 7]", R"({"type": "Branches", "merge": "cat", "dim": 3, "branches": [[], []]})");
  CHECK(width.eval.output == Shape{1, 2, 5, 14});
  auto negative = run_layers("[1, 2, 5, 7]", R"({"type": "Branches", "merge": "cat", "dim": -2, "branches": [[], []]})");
  CHECK(negative.eval.output == Shape{1, 2, 10, 7});

  // A 3x3 conv without padding loses 2 rows: 28 vs 26 — torch.cat raises.
  auto bad = run_layers("[1, 8, 28, 28]", R"({"name": "m", "type": "Branches", "merge": "cat", "branches": [
      [], [{"type": "Conv2d", "out_channels": 8, "kernel_size": 3}]]})");
  CHECK_FALSE(bad.valid());
  REQUIRE(bad.find("cat-mismatch"));
  CHECK(bad.find("cat-mismatch")->message == "cat `m` joins along dim 1, but dim 2 differs: 28 and 26");
  // torch.cat on 4-D tensors accepts dims -4..3 only.
  auto out_of_range = run_layers("[1, 2, 5, 7]", R"({"type": "Branches", "merge": "cat", "dim": 4, "branches": [[], []]})");
  CHECK(out_of_range.has("cat-dim"));
}

// U-Net's crop: (big − small) // 2 from the start, down to the smaller size.
TEST_CASE("cat with crop: the larger map is centre-cropped to the smaller") {
  auto o = run_layers("[1, 4, 64, 64]", R"({"name": "enc", "type": "Conv2d", "out_channels": 4, "kernel_size": 3},
      {"name": "down", "type": "MaxPool2d", "kernel_size": 2},
      {"name": "dec", "type": "Conv2d", "out_channels": 6, "kernel_size": 3},
      {"name": "join", "type": "Cat", "from": ["enc", "dec"], "crop": "center"})");
  REQUIRE(o.valid());
  // enc: 62; down: 31; dec: 29. The cat sees [1,4,29,29] and [1,6,29,29].
  CHECK(o.eval.output == Shape{1, 10, 29, 29});
  CHECK(o.row("join")->inputs == std::vector<Shape>{{1, 4, 29, 29}, {1, 6, 29, 29}});
  auto on_add = run_layers("[1, 4, 8, 8]", R"({"type": "Branches", "merge": "add", "crop": "center", "branches": [[], []]})");
  CHECK(on_add.has("unknown-field"));
}

// torch.mul broadcasts right-aligned: [2,8,5,5] * [2,8,1,1] is [2,8,5,5];
// [8,5,5] * [5] is [8,5,5]; [1,8,5,5] * [1,4,1,1] raises.
TEST_CASE("mul: PyTorch's broadcasting, as squeeze-and-excitation needs") {
  auto se = run_layers("[2, 8, 5, 5]", R"({"name": "se", "type": "Branches", "merge": "mul", "branches": [[],
      [{"type": "AdaptiveAvgPool2d", "output_size": 1}, {"type": "Conv2d", "out_channels": 2, "kernel_size": 1},
       {"type": "ReLU"}, {"type": "Conv2d", "out_channels": 8, "kernel_size": 1}]]})");
  REQUIRE(se.valid());
  CHECK(se.eval.output == Shape{2, 8, 5, 5});
  auto bad = run_layers("[1, 8, 5, 5]", R"({"name": "se", "type": "Branches", "merge": "mul", "branches": [[],
      [{"type": "AdaptiveAvgPool2d", "output_size": 1}, {"type": "Conv2d", "out_channels": 4, "kernel_size": 1}]]})");
  REQUIRE(bad.find("mul-broadcast"));
  CHECK(bad.find("mul-broadcast")->message ==
        "mul `se` cannot broadcast [1, 8, 5, 5] with [1, 4, 1, 1]: dim 1 is 8 and 4");
}

TEST_CASE("an add of unequal shapes names every input and where it came from") {
  auto o = run_layers("[1, 4, 8, 8]", R"({"name": "a", "type": "Conv2d", "out_channels": 4, "kernel_size": 1},
      {"name": "b", "type": "Conv2d", "out_channels": 6, "kernel_size": 1, "from": "input"},
      {"name": "sum", "type": "Add", "from": ["a", "b"]})");
  REQUIRE(o.find("add-mismatch"));
  const auto& d = *o.find("add-mismatch");
  CHECK(d.message == "the inputs of add `sum` have different shapes: [1, 4, 8, 8] and [1, 6, 8, 8]");
  CHECK(d.notes[0] == "`a` gives [1, 4, 8, 8]");
  CHECK(d.notes[1] == "`b` gives [1, 6, 8, 8]");
}

TEST_CASE("outputs: several heads, each reported") {
  auto o = run_text(R"({"input": [1, 3, 8, 8], "layers": [
      {"name": "trunk", "type": "Conv2d", "out_channels": 4, "kernel_size": 3},
      {"name": "head1", "type": "Conv2d", "out_channels": 2, "kernel_size": 1},
      {"name": "head2", "type": "Conv2d", "out_channels": 5, "kernel_size": 3, "from": "trunk"}],
      "outputs": ["head1", "head2"]})");
  REQUIRE(o.valid());
  CHECK(o.eval.outputs == std::vector<Shape>{{1, 2, 6, 6}, {1, 5, 4, 4}});
  CHECK(*o.eval.output == Shape{1, 2, 6, 6});
}

TEST_CASE("peak memory by liveness: a branch's input stays alive until its last reader") {
  // [1,1,8,8] float32 is 256 bytes. x feeds both branches of the cat.
  // conv a: x + a = 512; conv b: x + a + b = 768 (x freed after b);
  // cat: a + b + out(512) = 1024.
  auto o = run_layers("[1, 1, 8, 8]", R"({"type": "Branches", "merge": "cat", "branches": [
      [{"type": "Conv2d", "out_channels": 1, "kernel_size": 1}],
      [{"type": "Conv2d", "out_channels": 1, "kernel_size": 1}]]})");
  REQUIRE(o.valid());
  CHECK(o.eval.peak_activation_bytes == 1024);
}

TEST_CASE("merge errors come with verified fixes: a crop, or the channels a conv would need") {
  auto cat = run_layers("[1, 8, 28, 28]", R"({"name": "enc", "type": "Conv2d", "out_channels": 16, "kernel_size": 3},
      {"name": "dec", "type": "Conv2d", "out_channels": 16, "kernel_size": 3},
      {"name": "join", "type": "Cat", "from": ["enc", "dec"]})");
  const Diagnostic* d = cat.find("cat-mismatch");
  REQUIRE(d);
  REQUIRE_FALSE(d->fixes.empty());
  CHECK(d->fixes[0].sets == std::vector<std::string>{"join.crop=center"});
  CHECK(d->fixes[0].makes_valid);

  // A squeeze-and-excitation gate with 8 channels for a 32-channel map.
  auto se = run_layers("[1, 32, 8, 8]", R"({"name": "se", "type": "Branches", "merge": "mul", "branches": [[],
      [{"type": "AdaptiveAvgPool2d", "output_size": 1}, {"name": "fc", "type": "Conv2d", "out_channels": 8, "kernel_size": 1},
       {"type": "Sigmoid"}]]})");
  d = se.find("mul-broadcast");
  REQUIRE(d);
  REQUIRE_FALSE(d->fixes.empty());
  CHECK(d->fixes[0].sets == std::vector<std::string>{"se.1.fc.out_channels=32"});
  CHECK(d->fixes[0].makes_valid);
}
