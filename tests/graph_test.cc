// graph: DOT with one node per layer, a residual as its diamond, the failing
// add's edges in red, and every spec text quoted as DOT data.
#include <doctest/doctest.h>

#include "graph.h"
#include "parse.h"
#include "pipeline.h"

using namespace netshape;

namespace {

std::string dot(const std::string& text) {
  auto p = parse_spec(text);
  REQUIRE(p.spec);
  return graph_dot(*p.spec, evaluate(*p.spec), p.spec->name.empty() ? "net" : p.spec->name);
}

std::size_t count(const std::string& s, const std::string& what) {
  std::size_t n = 0;
  for (auto at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("a residual block is two edges into a + diamond, the identity dashed") {
  std::string g = dot(R"({"input": [1, 8, 8, 8], "layers": [{"name": "r", "type": "Residual",
    "body": [{"name": "c", "type": "Conv2d", "out_channels": 8, "kernel_size": 3, "padding": 1}]}]})");
  CHECK(g.rfind("digraph ", 0) == 0);
  CHECK(g.find("\"M:r\" [shape=diamond, label=\"+\\n[1, 8, 8, 8]\"]") != std::string::npos);
  CHECK(g.find("\"L:r.body.c\" -> \"M:r\"") != std::string::npos);
  CHECK(g.find("\"I\" -> \"M:r\" [label=\"identity\\n[1, 8, 8, 8]\", style=dashed]") != std::string::npos);
  CHECK(g.find("color=red") == std::string::npos);
}

TEST_CASE("the edges into a failing add are red") {
  // 8 channels + 16 channels: the add fails, as torch.add's broadcasting does.
  std::string g = dot(R"({"input": [1, 8, 8, 8], "layers": [{"name": "r", "type": "Residual",
    "body": [{"name": "c", "type": "Conv2d", "out_channels": 16, "kernel_size": 1}]}]})");
  CHECK(count(g, "color=red") >= 2);
}

TEST_CASE("names are DOT data: quotes and backslashes escaped") {
  std::string g = dot(R"({"name": "a\"b", "input": [1, 3, 8, 8], "layers": [{"name": "x\\\"y", "type": "ReLU"}]})");
  CHECK(g.find("digraph \"a\\\"b\"") != std::string::npos);
  CHECK(g.find("x\\\\\\\"y") != std::string::npos);
}

TEST_CASE("a size read from another value is a dotted edge; a merge layer's inputs are not") {
  // The SE block's gate: y.view(b, c, 1, 1) reads conv's sizes; x * gate multiplies two values.
  std::string g = dot(R"({"input": [2, 3, 8, 8], "layers": [
    {"name": "conv", "type": "Conv2d", "in_channels": 3, "out_channels": 4, "kernel_size": 1},
    {"name": "pool", "type": "AdaptiveAvgPool2d", "output_size": 1},
    {"name": "gate", "type": "View", "shape": ["conv.shape[0]", "conv.shape[1]", 1, 1]},
    {"name": "scale", "type": "Mul", "from": ["conv", "gate"]}]})");
  CHECK(g.find("\"L:conv\" -> \"L:gate\" [style=dotted, label=\"size of\"]") != std::string::npos);
  CHECK(count(g, "size of") == 1);
  CHECK(g.find("\"L:gate\" -> \"L:scale\"") != std::string::npos);
}
