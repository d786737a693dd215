// parse.cc: what the parser refuses before any shape is known, and how it
// says so. Expected verdicts are PyTorch 1.13's where it has one (quoted),
// else the rule written next to the case.
#include <string>

#include <doctest/doctest.h>

#include "parse.h"

using namespace netshape;

namespace {

// The codes of every diagnostic, in order.
std::vector<std::string> codes(std::string_view text) {
  std::vector<std::string> out;
  for (const auto& d : parse_spec(text).diagnostics.items) out.push_back(d.code);
  return out;
}
const Diagnostic* first(const ParseResult& r, const std::string& code) {
  for (const auto& d : r.diagnostics.items)
    if (d.code == code) return &d;
  return nullptr;
}
std::string utf16(const std::string& ascii, bool big) {
  std::string out;
  for (char c : ascii) out += big ? std::string{'\0', c} : std::string{c, '\0'};
  return out;
}

}  // namespace

TEST_CASE("UTF-16 and UTF-32 are named, with or without a byte order mark; UTF-8's mark is fine") {
  const std::string spec = R"({"input": [1, 3, 8, 8], "layers": []})";
  struct Case { std::string text, says; };
  for (const Case& c : {Case{"\xFF\xFE" + utf16(spec, false), "UTF-16 (little-endian)"},
                        Case{"\xFE\xFF" + utf16(spec, true), "UTF-16 (big-endian)"},
                        Case{utf16(spec, false), "UTF-16 (little-endian)"},
                        Case{utf16(spec, true), "UTF-16 (big-endian)"},
                        Case{std::string("\xFF\xFE\0\0", 4) + utf16(utf16(spec, false), false), "UTF-32 (little-endian)"},
                        Case{utf16(utf16(spec, true), true), "UTF-32 (big-endian)"}}) {
    auto r = parse_spec(c.text);
    const Diagnostic* d = first(r, "encoding");
    REQUIRE(d);
    CHECK(d->message == "the file is " + c.says + " text; netshape reads UTF-8");
    CHECK(d->help.find("save it as UTF-8") != std::string::npos);
  }
  CHECK(parse_spec("\xEF\xBB\xBF" + spec).spec);  // a UTF-8 byte order mark
  CHECK(codes(std::string("{\"input\": [1]}\0x", 16)) == std::vector<std::string>{"nul-byte"});  // a NUL is still a NUL
}

TEST_CASE("control characters in any name or type are refused with their code point") {
  auto r = parse_spec(R"({"name": "n\u0007", "input": [1, 3, 8, 8],
    "blocks": {"B\u0085": {"layer": {"type": "ReLU"}}, "C": {"params": {"p\u2028": 1}, "layer": {"type": "ReLU"}}},
    "layers": [{"name": "a\u001b", "type": "ReLU"}, {"type": "Re\u202eLU"},
               {"name": "br", "type": "Branches", "merge": "cat", "branches": [{"name": "x\u200f", "layers": []}]}]})");
  std::vector<std::string> messages;
  for (const auto& d : r.diagnostics.items)
    if (d.code == "bad-name") messages.push_back(d.message);
  REQUIRE(messages.size() == 6);
  CHECK(messages[0] == "the spec's name may not contain control characters: `n\\x07` has U+0007 (BELL) at byte 1");
  CHECK(messages[1] == "a block name may not contain control characters: `B\\u{85}` has U+0085 (NEXT LINE) at byte 1");
  CHECK(messages[2].find("U+2028 (LINE SEPARATOR)") != std::string::npos);
  CHECK(messages[3].find("U+001B (ESCAPE)") != std::string::npos);
  CHECK(messages[4] == "a layer type may not contain control characters: `Re\\u{202e}LU` has U+202E (RIGHT-TO-LEFT "
                       "OVERRIDE) at byte 2");
  CHECK(messages[5].find("U+200F (RIGHT-TO-LEFT MARK)") != std::string::npos);
  CHECK(parse_spec(R"({"name": "café 名 🙂", "input": [1, 3, 8, 8], "layers": [{"name": "名字", "type": "ReLU"}]})").spec);
}

TEST_CASE("names the graph needs: no top-level `input`, no branch named `after`") {
  auto r = parse_spec(R"({"input": [1, 3, 8, 8], "layers": [{"name": "input", "type": "ReLU"}]})");
  REQUIRE(first(r, "bad-name"));
  CHECK(first(r, "bad-name")->pointer == "/layers/0/name");
  CHECK(parse_spec(R"({"input": [1, 3, 8, 8], "layers": [{"name": "s", "type": "Sequential",
    "layers": [{"name": "input", "type": "ReLU"}]}]})").spec);  // s.input is no one's input
  r = parse_spec(R"({"input": [1, 3, 8, 8], "layers": [{"type": "Branches", "merge": "add",
    "branches": [{"name": "after", "layers": []}, []]}]})");
  REQUIRE(first(r, "duplicate-name"));
  CHECK(first(r, "duplicate-name")->message.find("`0.after` names the layers after the merge") != std::string::npos);
}

TEST_CASE("a missing `type` names the key that was meant") {
  auto r = parse_spec(R"({"input": [1, 3, 8, 8], "layers": [{"Type": "ReLU"}]})");
  REQUIRE(first(r, "missing-field"));
  CHECK(first(r, "missing-field")->help == "did you mean `type`? the layer has `Type` (keys are case-sensitive)");
  r = parse_spec(R"({"input": [1, 3, 8, 8], "layers": [{"typ": "ReLU"}]})");
  CHECK(first(r, "missing-field")->help.find("the layer has `typ`") != std::string::npos);
}

TEST_CASE("an `if` as a block's whole layer: one layer, a list, or nothing") {
  auto r = parse_spec(R"({"input": [1, 3, 8, 8], "blocks": {"B": {"params": {"k": 0},
      "layer": {"if": "$k == 1", "then": {"type": "ReLU"}, "else": {"if": "$k == 2", "then": [{"type": "ReLU"}, {"type": "Tanh"}]}}}},
    "layers": [{"type": "B", "k": 1}, {"type": "B", "k": 2}, {"type": "B"}]})");
  REQUIRE(r.spec);
  const auto& layers = r.spec->layers;
  REQUIRE(layers.size() == 3);
  CHECK(std::holds_alternative<ReLU>(layers[0].kind));
  REQUIRE(std::holds_alternative<Sequential>(layers[1].kind));
  CHECK(std::get<Sequential>(layers[1].kind).layers.size() == 2);
  REQUIRE(std::holds_alternative<Sequential>(layers[2].kind));
  CHECK(std::get<Sequential>(layers[2].kind).layers.empty());  // the identity
}

TEST_CASE("divisor_override as PyTorch takes it: AvgPool2d/3d only, an integer, not 0") {
  // PyTorch 1.13: AvgPool2d(2, divisor_override=0) -> "divisor must be not zero"; -1 runs; "2", True, 2.5 are
  // TypeErrors; AvgPool1d has no such argument.
  auto pool = [](const std::string& type, const std::string& value) {
    return codes(R"({"input": [1, 1, 8, 8, 8], "layers": [{"type": ")" + type + R"(", "kernel_size": 2, "divisor_override": )" +
                 value + "}]}");
  };
  CHECK(pool("AvgPool3d", "2").empty());
  CHECK(pool("AvgPool2d", "-1").empty());
  CHECK(pool("AvgPool2d", "0") == std::vector<std::string>{"out-of-range"});
  CHECK(pool("AvgPool2d", "\"2\"") == std::vector<std::string>{"wrong-type"});
  CHECK(pool("AvgPool2d", "true") == std::vector<std::string>{"wrong-type"});
  CHECK(pool("AvgPool2d", "2.5") == std::vector<std::string>{"wrong-type"});
  CHECK(pool("AvgPool1d", "2") == std::vector<std::string>{"unknown-field"});
  CHECK(pool("AvgPool2d", "null").empty());  // None: the default
  auto r = parse_spec(R"({"input": [1, 1, 8, 8], "layers": [{"type": "AvgPool2d", "kernel_size": 2, "divisor_override": 3}]})");
  REQUIRE(r.spec);
  CHECK(std::get<AvgPool>(r.spec->layers[0].kind).divisor_override == 3);
}

TEST_CASE("constants PyTorch keeps as float32 must fit one") {
  // PyTorch 1.13: nn.PReLU(init=3.5e38), nn.Hardtanh(-1e39), nn.ConstantPad2d(1, 3.5e38): "value cannot be
  // converted to type float without overflow"; 3.4e38 runs. BatchNorm's eps is a double there.
  auto one = [](const std::string& layer) { return codes(R"({"input": [1, 3, 8, 8], "layers": [)" + layer + "]}"); };
  CHECK(one(R"({"type": "PReLU", "init": 3.5e38})") == std::vector<std::string>{"out-of-range"});
  CHECK(one(R"({"type": "PReLU", "init": 3.4e38})").empty());
  CHECK(one(R"({"type": "Hardtanh", "min_val": -1e39})") == std::vector<std::string>{"out-of-range"});
  CHECK(one(R"({"type": "ConstantPad2d", "padding": 1, "value": 3.5e38})") == std::vector<std::string>{"out-of-range"});
  CHECK(one(R"({"type": "ELU", "alpha": 1e300})") == std::vector<std::string>{"out-of-range"});
  CHECK(one(R"({"type": "BatchNorm2d", "eps": 1e300})").empty());
}

TEST_CASE("shares: a name, `from` and nothing else; Cat of one input") {
  auto r = parse_spec(R"({"input": [1, 3, 8, 8], "layers": [{"name": "c", "type": "ReLU"},
    {"name": "d", "shares": "c", "from": "input"}]})");
  REQUIRE(r.spec);
  REQUIRE(std::holds_alternative<Shared>(r.spec->layers[1].kind));
  CHECK(std::get<Shared>(r.spec->layers[1].kind).module == "c");
  CHECK(r.spec->graph.nodes[1].shares == 0);
  CHECK(codes(R"({"input": [1, 3, 8, 8], "layers": [{"name": "c", "type": "ReLU"}, {"shares": "c", "inplace": true}]})") ==
        std::vector<std::string>{"unknown-field"});
  CHECK(codes(R"({"input": [1, 3, 8, 8], "layers": [{"shares": 3}]})") == std::vector<std::string>{"wrong-type"});
  CHECK(codes(R"({"input": [1, 3, 8, 8], "layers": [{"shares": "later"}, {"name": "later", "type": "ReLU"}]})") ==
        std::vector<std::string>{"bad-reference"});
  // torch.cat([x]) is x; torch.add needs two.
  CHECK(parse_spec(R"({"input": [1, 3, 8, 8], "layers": [{"type": "ReLU"}, {"type": "Cat", "from": ["0"]}]})").spec);
  CHECK(codes(R"({"input": [1, 3, 8, 8], "layers": [{"type": "ReLU"}, {"type": "Add", "from": ["0"]}]})") ==
        std::vector<std::string>{"wrong-type"});
}

TEST_CASE("--input: sizes and names where a spec may name a dim") {
  std::string error;
  CHECK(parse_input_list("1,3,224,224", error) == nlohmann::json::array({1, 3, 224, 224}));
  CHECK(parse_input_list("N,3,H,W", error) == nlohmann::json::array({"N", 3, "H", "W"}));
  CHECK(parse_input_list("N,16", error) == nlohmann::json::array({"N", 16}));
  for (const char* bad : {"", "0,-3,,abc", "1,3,,4", "1,+3", "1, 3", "1,3,", "1,3,2147483648", "1,C,8,8", "1,2,3,4,5,6,7,8,9"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_input_list(bad, error));
  }
  CHECK(error.find("give 1 to 8 sizes") != std::string::npos);
  CHECK_FALSE(parse_input_list("1,C,8,8", error));
  CHECK(error.find("size 1 cannot be a name (`C`)") != std::string::npos);
}

TEST_CASE("is_spec_text: what the import helper must print") {
  CHECK(is_spec_text(R"({"input": [1, 4], "layers": []})"));
  CHECK_FALSE(is_spec_text(""));
  CHECK_FALSE(is_spec_text("python3 netshape_import.py model.py:Net"));  // NETSHAPE_PYTHON=echo
  CHECK_FALSE(is_spec_text(R"({"layers": []})"));
  CHECK_FALSE(is_spec_text("[1, 2]"));
}
