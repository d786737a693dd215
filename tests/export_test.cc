// export.cc: how a spec's blocks become classes (which argument becomes which
// constructor parameter), and what export refuses. That the written code runs
// in PyTorch with netshape's shapes is tests/export_test.py's job (CTest
// `export-round-trip`); here the choices are checked against the rules in
// export.cc, on specs small enough to read.
#include <doctest/doctest.h>

#include "export.h"
#include "test_util.h"

using namespace netshape;
using namespace netshape::test;

namespace {

ExportResult exported(const std::string& text) {
  auto p = parse_spec(text);
  for (const auto& d : p.diagnostics.items) MESSAGE(d.code << ": " << d.message);
  REQUIRE(p.spec);
  Evaluation ev = evaluate(*p.spec);
  return export_pytorch(*p.spec, ev, "test.json");
}

bool has(const std::string& code, const std::string& text) {
  if (code.find(text) != std::string::npos) return true;
  MESSAGE("missing: " << text << "\nin:\n" << code);
  return false;
}

}  // namespace

TEST_CASE("the seed's ResNet34: one ResidualBlock class, arguments named as the block's parameters") {
  ExportResult r = exported(slurp(NETSHAPE_SOURCE_DIR "/specs/resnet34.json"));
  REQUIRE(r.error.empty());
  // channels and stride vary between uses: the conv takes the parameters; the
  // first conv's input channels are the block's input's (64 -> 128 at layer2.0).
  CHECK(has(r.code, "class ResidualBlock(nn.Module):"));
  CHECK(has(r.code, "def __init__(self, in_channels, channels, shortcut=False, stride=1):"));
  CHECK(has(r.code, "nn.Conv2d(in_channels, channels, 3, stride=stride, padding=1, bias=False)"));
  // The second conv's stride is 1 in every use: written as it is (and left out, PyTorch's default).
  CHECK(has(r.code, "nn.Conv2d(channels, channels, 3, padding=1, bias=False)"));
  // The shortcut exists exactly where the `shortcut` parameter is true.
  CHECK(has(r.code, ") if shortcut else None"));
  CHECK(has(r.code, "y = self.body(x) + (x if self.shortcut is None else self.shortcut(x))"));
  CHECK(has(r.code, "ResidualBlock(64, 128, shortcut=True, stride=2),"));
  CHECK(has(r.code, "ResidualBlock(512, 512),"));
  CHECK(has(r.code, "self.fc = nn.Linear(512, 1000)"));
  CHECK(has(r.code, "out = model(torch.zeros(1, 3, 224, 224))"));
}

TEST_CASE("an argument no block parameter explains gets a parameter of its own") {
  ExportResult r = exported(R"({"name": "t", "input": [1, 3, 16, 16],
    "blocks": {"B": {"params": {"c": null}, "layer": {"type": "Sequential", "layers": [
      {"type": "Conv2d", "out_channels": "$c", "kernel_size": 3, "padding": "$c // 8"}]}}},
    "layers": [{"name": "a", "type": "B", "c": 8}, {"name": "b", "type": "B", "c": 16}]})");
  REQUIRE(r.error.empty());
  // padding is 1 then 2: neither c (8, 16) nor the input's channels (3, 8).
  CHECK(has(r.code, "def __init__(self, in_channels, c, padding):"));
  CHECK(has(r.code, "nn.Conv2d(in_channels, c, 3, padding=padding)"));
  CHECK(has(r.code, "self.a = B(3, 8, 1)"));
  CHECK(has(r.code, "self.b = B(8, 16, 2)"));
}

TEST_CASE("a part present in some uses only, with no parameter for it, gets a flag") {
  ExportResult r = exported(R"({"name": "t", "input": [1, 4, 8, 8],
    "blocks": {"B": {"params": {"n": null}, "layer": {"type": "Residual",
      "body": [{"type": "Conv2d", "out_channels": 4, "kernel_size": 3, "padding": 1}],
      "shortcut": {"if": "$n > 1", "then": [{"type": "ReLU"}]}}}},
    "layers": [{"name": "a", "type": "B", "n": 1}, {"name": "b", "type": "B", "n": 2}]})");
  REQUIRE(r.error.empty());
  CHECK(has(r.code, "def __init__(self, with_shortcut):"));
  CHECK(has(r.code, ") if with_shortcut else None"));
  CHECK(has(r.code, "self.a = B(False)"));
  CHECK(has(r.code, "self.b = B(True)"));
}

TEST_CASE("uses that differ in structure are written out one by one, not as a class") {
  ExportResult r = exported(R"({"name": "t", "input": [1, 4, 8, 8],
    "blocks": {"B": {"params": {"deep": null}, "layer": {"type": "Sequential", "layers": [
      {"type": "ReLU"}, {"if": "$deep", "then": {"type": "Sigmoid"}}]}}},
    "layers": [{"name": "a", "type": "B", "deep": false}, {"name": "b", "type": "B", "deep": true}]})");
  REQUIRE(r.error.empty());
  CHECK(r.code.find("class B") == std::string::npos);
  CHECK(has(r.code, "self.b = nn.Sequential(\n            nn.ReLU(),\n            nn.Sigmoid(),\n        )"));
}

TEST_CASE("skips: `from` between the network's layers becomes variables in forward()") {
  ExportResult r = exported(R"({"name": "t", "input": [1, 4, 8, 8], "layers": [
    {"name": "a", "type": "Conv2d", "out_channels": 4, "kernel_size": 1},
    {"name": "b", "type": "ReLU"},
    {"name": "sum", "type": "Add", "from": ["a", "b"]},
    {"name": "c", "type": "Conv2d", "out_channels": 2, "kernel_size": 1, "from": "input"}],
    "outputs": ["sum", "c"]})");
  REQUIRE(r.error.empty());
  CHECK(has(r.code, "def forward(self, inp):"));
  CHECK(has(r.code, "a = self.a(inp)"));
  CHECK(has(r.code, "b = self.b(a)"));
  // `sum` is a Python builtin: the variable is `sum_`, the module keeps its name.
  CHECK(has(r.code, "sum_ = self.sum(a, b)"));
  CHECK(has(r.code, "c = self.c(inp)"));
  CHECK(has(r.code, "self.sum = Merge(\"add\")"));
}

// As `netshape import` writes a residual block: the add reads the block's
// input and the last layer inside a sibling Sequential (whose output it is).
TEST_CASE("skips: a block's own input and the last layer of a sibling are forward()'s argument and the sibling") {
  ExportResult r = exported(R"({"name": "t", "input": [1, 4, 8, 8], "layers": [
    {"name": "stem", "type": "ReLU"},
    {"name": "blk", "type": "Sequential", "layers": [
      {"name": "body", "type": "Sequential", "layers": [{"name": "0", "type": "Conv2d", "out_channels": 4, "kernel_size": 3, "padding": 1},
                                                       {"name": "1", "type": "ReLU"}]},
      {"name": "down", "type": "Sequential", "from": "stem", "layers": [{"name": "0", "type": "Conv2d", "out_channels": 4, "kernel_size": 1}]},
      {"name": "add", "type": "Add", "from": ["blk.body.1", "blk.down"]}]}]})");
  REQUIRE(r.error.empty());
  CHECK(has(r.code, "def forward(self, inp):"));
  CHECK(has(r.code, "body = self.body(inp)"));
  CHECK(has(r.code, "down = self.down(inp)"));  // `stem` is what entered the block
  CHECK(has(r.code, "self.add(body, down)"));   // blk.body.1 is blk.body's output
  // A value from inside another list stays refused (LR-ASPP's backbone feature).
  ExportResult deep = exported(R"({"input": [1, 4, 8, 8], "layers": [
    {"name": "a", "type": "Sequential", "layers": [{"name": "0", "type": "ReLU"}, {"name": "1", "type": "ReLU"}]},
    {"name": "b", "type": "Sequential", "layers": [{"name": "0", "type": "ReLU"}, {"name": "m", "type": "Add", "from": ["b.0", "a.0"]}]}]})");
  CHECK(deep.layer == "b.m");
  CHECK(deep.error.find("not a layer of the same list") != std::string::npos);
}

TEST_CASE("what export refuses, with the layer and the reason") {
  SUBCASE("`from` inside a branch") {
    ExportResult r = exported(R"({"input": [1, 4, 8, 8], "layers": [
      {"name": "a", "type": "ReLU"},
      {"name": "br", "type": "Branches", "merge": "add", "branches": [
        [{"name": "x", "type": "ReLU", "from": "a"}], []]}]})");
    CHECK(r.code.empty());
    CHECK(r.layer == "br.0.x");
    CHECK(r.error.find("inside a branch") != std::string::npos);
  }
  SUBCASE("a name nn.Module keeps for itself") {
    ExportResult r = exported(R"({"input": [1, 4, 8, 8], "layers": [{"name": "eval", "type": "ReLU"}]})");
    CHECK(r.layer == "eval");
    CHECK(r.error.find("attribute of every nn.Module") != std::string::npos);
  }
  SUBCASE("an invalid spec") {
    ExportResult r = exported(R"({"input": [1, 4, 8, 8], "layers": [{"type": "Linear", "in_features": 3, "out_features": 2}]})");
    CHECK(r.error.find("does not evaluate") != std::string::npos);
  }
}

TEST_CASE("names that are not Python identifiers are held with add_module") {
  ExportResult r = exported(R"({"input": [1, 4, 8, 8], "layers": [
    {"name": "br", "type": "Branches", "merge": "cat", "branches": [[{"type": "ReLU"}], []]}]})");
  REQUIRE(r.error.empty());
  CHECK(has(r.code, "(\"0\", nn.Sequential("));
  CHECK(has(r.code, "(\"1\", None)"));
}

TEST_CASE("spec text reaches the file only as escaped literals: nothing in it can run") {
  // A name that closes the module's docstring and starts a statement, a
  // description ending in a quote and holding a NUL: escaped, never spliced.
  ExportResult r = exported(R"({"name": "x\"\"\"+__import__('os').system('touch /tmp/pwn')+\"\"\"",
    "description": "ends in a quote\" with a NUL\u0000 and a \\N{BULLET}",
    "input": [1, 4, 8, 8], "layers": [{"type": "ReLU"}]})");
  REQUIRE(r.error.empty());
  CHECK(has(r.code, R"("""x\"\"\"+__import__(\'os\').system(\'touch /tmp/pwn\')+\"\"\": written by)"));
  CHECK(has(r.code, R"("""ends in a quote\" with a NUL\x00 and a \\N{BULLET}""")"));
  CHECK(r.code.find('\0') == std::string::npos);
}

TEST_CASE("generated names are never keywords, builtins or what __init__ relies on") {
  ExportResult r = exported(R"({"name": "none", "input": [1, 4, 8, 8],
    "blocks": {"true": {"params": {"nn": 1, "super": 2, "__class__": 3},
      "layer": {"type": "Sequential", "layers": [
        {"type": "Conv2d", "out_channels": "$nn", "kernel_size": 1},
        {"type": "Conv2d", "out_channels": "$super", "kernel_size": 1},
        {"type": "Conv2d", "out_channels": "$__class__", "kernel_size": 1}]}}},
    "layers": [{"name": "a", "type": "true", "nn": 4, "super": 5, "__class__": 6},
               {"name": "b", "type": "true", "nn": 6, "super": 7, "__class__": 8}]})");
  REQUIRE(r.error.empty());
  CHECK(has(r.code, "class True_(nn.Sequential):"));
  CHECK(has(r.code, "def __init__(self, p__class__=3, nn_=1, super_=2):"));
  CHECK(has(r.code, "nn.Conv2d(nn_, super_, 1)"));
  CHECK(has(r.code, "class NoneNet(nn.Module):"));
}

TEST_CASE("names starting with an underscore: kept, through add_module when Python would mangle them") {
  ExportResult r = exported(R"({"input": [1, 4, 8, 8], "layers": [
    {"name": "_stem", "type": "ReLU"}, {"name": "__hidden", "type": "ReLU"}]})");
  REQUIRE(r.error.empty());
  CHECK(has(r.code, "self._stem = nn.ReLU()"));
  CHECK(has(r.code, "self.add_module(\"__hidden\", nn.ReLU())"));
  ExportResult refused = exported(R"({"input": [1, 4, 8, 8], "layers": [{"name": "_modules", "type": "ReLU"}]})");
  CHECK(refused.error.find("attribute of every nn.Module") != std::string::npos);
}

TEST_CASE("shares: one module object, bound where it is made and used again") {
  ExportResult r = exported(R"({"input": [1, 4, 8, 8], "layers": [
    {"name": "conv", "type": "Conv2d", "out_channels": 4, "kernel_size": 3, "padding": 1},
    {"name": "again", "shares": "conv"}]})");
  REQUIRE(r.error.empty());
  CHECK(has(r.code, "self.conv = (shared_conv := nn.Conv2d(4, 4, 3, padding=1))"));
  CHECK(has(r.code, "self.again = shared_conv"));
}
