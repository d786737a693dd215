// The evaluator's rules, each with PyTorch 1.13's own verdict written beside it.
#include <doctest/doctest.h>

#include "test_util.h"
#include "kinds.h"

using namespace netshape;
using namespace netshape::test;

TEST_CASE("every layer kind gives PyTorch's output shape") {
  // Shapes observed with PyTorch 1.13 on torch.zeros(2, 4, 9, 9).
  auto o = run_layers("[2, 4, 9, 9]", R"(
    {"type": "Conv2d", "out_channels": 8, "kernel_size": [3, 1], "stride": [2, 1], "padding": [1, 0]},
    {"type": "BatchNorm2d"}, {"type": "ReLU"}, {"type": "Dropout", "p": 0.2},
    {"type": "MaxPool2d", "kernel_size": 2, "ceil_mode": true},
    {"type": "AvgPool2d", "kernel_size": 2, "stride": 1, "padding": 1, "count_include_pad": false},
    {"type": "AdaptiveMaxPool2d", "output_size": [3, null]},
    {"type": "AdaptiveAvgPool2d", "output_size": 2},
    {"type": "Flatten"}, {"type": "Linear", "out_features": 5})");
  REQUIRE(o.valid());
  CHECK(o.row("0")->output == Shape{2, 8, 5, 9});   // (9+2-2-1)/2+1 = 5; width 9 kept
  CHECK(o.row("4")->output == Shape{2, 8, 3, 5});   // ceil: ⌈(5-2)/2⌉+1 = 3, ⌈(9-2)/2⌉+1 = 5
  CHECK(o.row("5")->output == Shape{2, 8, 4, 6});   // (3+2-1-1)/1+1 = 4, (5+2-2)/1+1 = 6
  CHECK(o.row("6")->output == Shape{2, 8, 3, 6});   // None keeps the width
  CHECK(o.row("7")->output == Shape{2, 8, 2, 2});
  CHECK(o.row("8")->output == Shape{2, 32});
  CHECK(o.row("9")->output == Shape{2, 5});
  // Parameters: conv 8·4·3·1 + 8 = 104; BatchNorm 2·8 = 16; Linear 32·5 + 5 = 165.
  CHECK(o.row("0")->params == 104);
  CHECK(o.row("1")->params == 16);
  CHECK(o.row("9")->params == 165);
  CHECK(o.eval.params == 285);
}

TEST_CASE("padding same and valid") {
  // nn.Conv2d(4, 4, 4, padding="same", dilation=2) keeps 9x9 (PyTorch pads 3 left, 3 right).
  auto o = run_layers("[1, 4, 9, 9]",
                      R"({"type": "Conv2d", "out_channels": 4, "kernel_size": 4, "padding": "same", "dilation": 2},
                         {"type": "Conv2d", "out_channels": 4, "kernel_size": 4, "padding": "same"},
                         {"type": "Conv2d", "out_channels": 4, "kernel_size": 3, "padding": "valid"})");
  REQUIRE(o.valid());
  CHECK(o.row("0")->output == Shape{1, 4, 9, 9});
  CHECK(o.row("1")->output == Shape{1, 4, 9, 9});  // even kernel: 1 left, 2 right
  CHECK(o.row("2")->output == Shape{1, 4, 7, 7});
  // PyTorch: "padding='same' is not supported for strided convolutions"
  auto bad = run_layers("[1, 4, 9, 9]",
                        R"({"type": "Conv2d", "out_channels": 4, "kernel_size": 3, "stride": 2, "padding": "same"})");
  CHECK(bad.has("same-padding-stride"));
  CHECK(bad.find("same-padding-stride")->pointer == "/layers/0/padding");
}

TEST_CASE("illegal arguments PyTorch rejects are errors") {
  auto conv = [](const std::string& args) {
    return run_layers("[1, 4, 16, 16]", R"({"type": "Conv2d", "out_channels": 8, )" + args + "}");
  };
  CHECK(conv(R"("kernel_size": 0)").has("out-of-range"));
  CHECK(conv(R"("kernel_size": 3, "stride": 0)").has("out-of-range"));
  CHECK(conv(R"("kernel_size": 3, "stride": -1)").has("out-of-range"));
  CHECK(conv(R"("kernel_size": 3, "padding": -1)").has("out-of-range"));
  CHECK(conv(R"("kernel_size": 3, "dilation": 0)").has("out-of-range"));
  CHECK(conv(R"("kernel_size": 3, "groups": 0)").has("out-of-range"));   // LibTorch: SIGFPE
  CHECK(conv(R"("kernel_size": 3, "groups": 3)").has("groups"));         // 8 % 3 != 0
  CHECK(conv(R"("kernel_size": 3, "groups": 8)").has("groups"));         // 4 input channels % 8
  CHECK(conv(R"("kernel_size": 3, "groups": 4)").valid());               // depthwise-like: fine
  CHECK(conv(R"("kernel_size": 17)").has("kernel-too-large"));           // 16 < 17
  CHECK(conv(R"("kernel_size": 17, "padding": 1)").valid());             // 18 >= 17
  CHECK(conv(R"("kernel_size": 3, "in_channels": 3)").has("channels"));
  CHECK(conv(R"("kernel_size": 3, "padding": 9)").valid());              // conv padding may exceed k/2
  // Pools: "pad should be at most half of kernel size"
  auto pool = [](const std::string& args) {
    return run_layers("[1, 4, 16, 16]", R"({"type": "MaxPool2d", )" + args + "}");
  };
  CHECK(pool(R"("kernel_size": 3, "padding": 2)").has("pool-padding"));
  CHECK(pool(R"("kernel_size": 3, "padding": 1)").valid());
  CHECK(pool(R"("kernel_size": [4, 2], "padding": [2, 1])").valid());
  CHECK(pool(R"("kernel_size": [4, 2], "padding": [2, 2])").has("pool-padding"));
  CHECK(pool(R"("kernel_size": 17)").has("output-too-small"));
  CHECK(pool(R"("kernel_size": 17, "padding": 8, "stride": 1)").valid());
}

TEST_CASE("integers must be integers") {
  // nlohmann's get<int>() would turn these into 3, 1, 4294967295 and so on.
  for (const char* v : {"3.7", "3.0", "true", "\"3\"", "1e300", "-1", "99999999999999999999", "null", "[3, 3, 3]"}) {
    CAPTURE(v);
    auto o = run_layers("[1, 4, 16, 16]", std::string(R"({"type": "Conv2d", "out_channels": 8, "kernel_size": )") + v + "}");
    CHECK_FALSE(o.valid());
    CHECK(o.diags.has_errors());
  }
  auto o = run_layers("[1, 4, 16, 16]", R"({"type": "Conv2d", "out_channels": 8, "kernel_size": 3.0})");
  CHECK(o.find("wrong-type")->help == "write 3 without the fraction or exponent");
  CHECK(o.find("wrong-type")->pointer == "/layers/0/kernel_size");
  auto big = run_layers("[1, 4, 16, 16]", R"({"type": "Conv2d", "out_channels": 3000000000, "kernel_size": 1})");
  CHECK(big.has("out-of-range"));
}

TEST_CASE("Linear and BatchNorm check their sizes") {
  auto o = run_layers("[1, 512, 7, 7]", R"({"type": "AdaptiveAvgPool2d", "output_size": 1}, {"type": "Flatten"},
                                             {"type": "Linear", "in_features": 2048, "out_features": 10})");
  REQUIRE(o.has("features"));
  REQUIRE(o.find("features")->fixes.size() == 1);
  CHECK(o.find("features")->fixes[0].sets == std::vector<std::string>{"2.in_features=512"});
  CHECK(o.find("features")->fixes[0].makes_valid);
  CHECK(o.row("2")->failed);
  CHECK(o.row("1")->output == Shape{1, 512});  // the table up to the failing layer
  // A Linear without Flatten on a 4-D input: PyTorch applies it to the last dim.
  auto w = run_layers("[1, 512, 1, 1]", R"({"type": "Linear", "out_features": 10})");
  CHECK(w.valid());
  CHECK(w.has("linear-rank"));
  CHECK(w.eval.output == Shape{1, 512, 1, 10});
  // After a conv and a ReLU it is still the forgotten Flatten; after a Permute to
  // channels-last (ConvNeXt's block: Permute, LayerNorm, Linear, GELU, Linear) it is meant.
  CHECK(run_layers("[1, 3, 8, 8]", R"({"type": "Conv2d", "out_channels": 4, "kernel_size": 3}, {"type": "ReLU"},
                                      {"type": "Linear", "out_features": 10})").has("linear-rank"));
  auto cl = run_layers("[1, 96, 8, 8]", R"({"type": "Permute", "dims": [0, 2, 3, 1]}, {"type": "LayerNorm", "normalized_shape": 96},
                                           {"type": "Linear", "out_features": 384}, {"type": "GELU"}, {"type": "Linear", "out_features": 96})");
  REQUIRE(cl.valid());
  CHECK_FALSE(cl.has("linear-rank"));
  // Tokens [N, L, D] given as the input: a transformer's Linear, meant.
  CHECK_FALSE(run_layers("[2, 5, 8]", R"({"type": "Linear", "out_features": 8})").has("linear-rank"));
  auto bn = run_layers("[1, 64, 8, 8]", R"({"type": "BatchNorm2d", "num_features": 32})");
  CHECK(bn.has("channels"));
  // BatchNorm2d after Flatten: PyTorch "expected 4D input (got 2D input)"
  auto flat = run_layers("[1, 64, 8, 8]", R"({"type": "Flatten"}, {"type": "BatchNorm2d"})");
  CHECK(flat.has("rank"));
  auto conv = run_layers("[1, 64, 8, 8]", R"({"type": "Flatten"}, {"type": "Conv2d", "out_channels": 3, "kernel_size": 1})");
  CHECK(conv.has("rank"));
}

TEST_CASE("residual adds need identical shapes") {
  const char* block = R"({"name": "b", "type": "Residual", "body": [
      {"type": "Conv2d", "out_channels": 128, "kernel_size": 3, "stride": 2, "padding": 1}]%s})";
  auto with = [&](const std::string& shortcut) {
    std::string s = block;
    s.replace(s.find("%s"), 2, shortcut);
    return run_layers("[1, 64, 56, 56]", s);
  };
  auto identity = with("");
  REQUIRE(identity.has("residual-mismatch"));
  const Diagnostic* d = identity.find("residual-mismatch");
  CHECK(d->layer == "b");
  CHECK(d->pointer == "/layers/0");
  // The suggested shortcut is the seed's: 1x1 conv, 128 channels, stride 2 —
  // and it was checked to make the spec valid.
  REQUIRE_FALSE(d->fixes.empty());
  CHECK(d->fixes[0].sets.at(0).find(R"("out_channels": 128, "kernel_size": 1, "stride": 2)") != std::string::npos);
  CHECK(d->fixes[0].makes_valid);
  auto fixed = with(R"(, "shortcut": [{"type": "Conv2d", "out_channels": 128, "kernel_size": 1, "stride": 2, "bias": false}, {"type": "BatchNorm2d"}])");
  CHECK(fixed.valid());
  CHECK(fixed.eval.output == Shape{1, 128, 28, 28});
  CHECK(fixed.row("b")->type == "add");
  // Size-1 broadcast: PyTorch would add [1,128,28,28] + [1,1,28,28] silently; we refuse.
  auto broadcast = with(R"(, "shortcut": [{"type": "Conv2d", "out_channels": 1, "kernel_size": 1, "stride": 2}])");
  REQUIRE(broadcast.has("residual-mismatch"));
  auto& notes = broadcast.find("residual-mismatch")->notes;
  CHECK(std::any_of(notes.begin(), notes.end(), [](const std::string& n) { return n.find("broadcast") != std::string::npos; }));
}

TEST_CASE("names follow named_modules()") {
  auto o = run_layers("[1, 3, 8, 8]", R"(
    {"name": "stem", "type": "Sequential", "layers": [{"type": "Conv2d", "out_channels": 4, "kernel_size": 3, "padding": 1}]},
    {"type": "Residual", "body": [{"type": "ReLU"}], "shortcut": [{"name": "proj", "type": "ReLU"}], "after": [{"type": "ReLU"}]})");
  REQUIRE(o.valid());
  std::vector<std::string> names;
  for (const auto& r : o.eval.rows) names.push_back(r.name);
  CHECK(names == std::vector<std::string>{"stem.0", "1.body.0", "1.shortcut.proj", "1", "1.after.0"});
  auto dup = run_layers("[1, 3, 8, 8]", R"({"name": "a", "type": "ReLU"}, {"name": "a", "type": "ReLU"})");
  CHECK(dup.has("duplicate-name"));
  auto dotted = run_layers("[1, 3, 8, 8]", R"({"name": "a.b", "type": "ReLU"})");
  CHECK(dotted.has("bad-name"));
}

TEST_CASE("unknown types and fields get a did-you-mean") {
  auto o = run_layers("[1, 3, 8, 8]", R"({"type": "Conv2D", "out_channels": 4, "kernel_size": 3},
                                          {"type": "Conv2d", "out_channels": 4, "kernel_size": 3, "strides": 2})");
  CHECK(o.find("unknown-type")->help == "did you mean `Conv2d`?");
  CHECK(o.find("unknown-field")->help == "did you mean `stride`?");
  CHECK(o.find("unknown-field")->pointer == "/layers/1/strides");
  auto top = run_text(R"({"input": [1, 3, 8, 8], "layer": []})");
  CHECK(top.find("unknown-field")->help == "did you mean `layers`?");
  CHECK(top.has("missing-field"));
}

TEST_CASE("blocks: parameters, repeat and first") {
  auto o = run_text(R"({"input": [1, 8, 16, 16],
    "blocks": {"B": {"params": {"c": null, "s": 1, "proj": false},
      "layer": {"type": "Residual",
        "body": [{"type": "Conv2d", "out_channels": "$c", "kernel_size": 3, "stride": "$s", "padding": 1}],
        "shortcut": {"if": "$proj", "then": [{"type": "Conv2d", "out_channels": "$c", "kernel_size": 1, "stride": "$s"}]}}}},
    "layers": [{"name": "stage", "type": "B", "repeat": 3, "c": 16, "first": {"s": 2, "proj": true}},
               {"name": "one", "type": "B", "c": 16}]})");
  REQUIRE(o.valid());
  CHECK(o.row("stage.0.shortcut.0") != nullptr);
  CHECK(o.row("stage.1.shortcut.0") == nullptr);  // identity after the first
  CHECK(o.row("stage.0")->output == Shape{1, 16, 8, 8});
  CHECK(o.row("stage.2")->output == Shape{1, 16, 8, 8});
  CHECK(o.row("one")->output == Shape{1, 16, 8, 8});
  CHECK(o.row("stage.0.body.0")->pointer == "/blocks/B/layer/body/0");

  auto missing = run_text(R"({"input": [1, 8, 16, 16], "blocks": {"B": {"params": {"c": null}, "layer": {"type": "ReLU"}}},
                              "layers": [{"type": "B"}]})");
  CHECK(missing.has("missing-field"));
  auto typo = run_text(R"({"input": [1, 8, 16, 16], "blocks": {"B": {"params": {"channels": 1}, "layer": {"type": "ReLU"}}},
                           "layers": [{"type": "B", "chanels": 3}]})");
  CHECK(typo.find("unknown-field")->help == "did you mean `channels`?");
  auto unknown = run_text(R"({"input": [1, 8, 16, 16], "blocks": {"B": {"params": {"c": 1}, "layer": {"type": "Conv2d", "out_channels": "$d", "kernel_size": 1}}},
                            "layers": [{"type": "B"}]})");
  CHECK(unknown.has("unknown-parameter"));
  auto self = run_text(R"({"input": [1, 8, 16, 16], "blocks": {"B": {"layer": {"type": "B"}}}, "layers": [{"type": "B"}]})");
  CHECK(self.has("recursive-block"));
  auto outside = run_layers("[1, 3, 8, 8]", R"({"type": "Conv2d", "out_channels": "$c", "kernel_size": 1})");
  CHECK(outside.has("unknown-parameter"));
}

TEST_CASE("malformed JSON is located by line and column") {
  auto o = run_text("{\n  \"input\": [1, 3, 8, 8],\n  \"layers\": [\n    {\"type\": \"ReLU\"},\n  ]\n}\n");
  REQUIRE(o.has("json-syntax"));
  CHECK(o.find("json-syntax")->line == 5);
  CHECK(o.find("json-syntax")->column == 3);
  CHECK(run_text("").has("json-syntax"));
  CHECK(run_text("[1, 2]").has("wrong-type"));
  CHECK(run_text("{\"input\": [1], \"layers\": []} x").has("json-syntax"));
  CHECK(run_text(std::string(100000, '[')).has("too-deep"));
  auto dup = run_text(R"({"input": [1, 3, 8, 8], "layers": [{"type": "ReLU", "inplace": true, "inplace": false}]})");
  CHECK(dup.has("duplicate-key"));
  CHECK(dup.find("duplicate-key")->pointer == "/layers/0/inplace");
  CHECK(dup.valid());  // a warning, not an error
}

TEST_CASE("arithmetic overflows are diagnostics, never wraps") {
  auto o = run_layers("[2147483647, 2147483647, 2147483647, 2147483647]", R"({"type": "Flatten", "start_dim": 0})");
  CHECK(o.has("overflow"));
}

TEST_CASE("warnings: legal but probably not meant") {
  // 225: ⌊(225 + 2 − 3)/2⌋ + 1 = 113 windows cover rows 0..226 of 227 padded:
  // only padding is left. A 2x2 stride-2 pool on 7 leaves input row 6 unread.
  auto floor = run_layers("[1, 4, 7, 7]", R"({"type": "MaxPool2d", "kernel_size": 2})");
  REQUIRE(floor.has("floor-discards"));
  CHECK(floor.find("floor-discards")->message.find("last 1 input row and column of 7") != std::string::npos);
  CHECK_FALSE(run_layers("[1, 4, 224, 224]", R"({"type": "Conv2d", "out_channels": 4, "kernel_size": 7, "stride": 2, "padding": 3})").has("floor-discards"));
  // A 1x1 stride-2 conv skips every other row anyway: no tail warning.
  CHECK_FALSE(run_layers("[1, 4, 7, 7]", R"({"type": "Conv2d", "out_channels": 4, "kernel_size": 1, "stride": 2})").has("floor-discards"));
  CHECK(run_layers("[1, 4, 8, 8]", R"({"type": "Conv2d", "out_channels": 4, "kernel_size": 3, "padding": 2})").has("conv-padding"));
  // A 3×3 kernel dilated by 2 spans 5×5: padding 2 is its "same" (torchvision's dilated ResNets, DeepLab's ASPP).
  CHECK_FALSE(run_layers("[1, 4, 8, 8]", R"({"type": "Conv2d", "out_channels": 4, "kernel_size": 3, "padding": 2, "dilation": 2})").has("conv-padding"));
  CHECK_FALSE(run_layers("[1, 4, 40, 40]", R"({"type": "Conv2d", "out_channels": 4, "kernel_size": 3, "padding": 12, "dilation": 12})").has("conv-padding"));
  auto wide = run_layers("[1, 4, 8, 8]", R"({"type": "Conv2d", "out_channels": 4, "kernel_size": 3, "padding": 3, "dilation": 2})");
  REQUIRE(wide.find("conv-padding"));
  CHECK(wide.find("conv-padding")->message.find("dilated by 2 (spanning 5×5)") != std::string::npos);
  CHECK(wide.find("conv-padding")->help == "padding 2 keeps the size at stride 1");
  CHECK(run_layers("[1, 4, 8, 8]", R"({"type": "Conv2d", "out_channels": 4, "kernel_size": 3, "padding": 1}, {"type": "BatchNorm2d"})").has("bias-before-batchnorm"));
  CHECK_FALSE(run_layers("[1, 4, 8, 8]", R"({"type": "Conv2d", "out_channels": 4, "kernel_size": 3, "padding": 1, "bias": false}, {"type": "BatchNorm2d"})").has("bias-before-batchnorm"));
  CHECK(run_layers("[1, 4, 2, 2]", R"({"type": "AdaptiveAvgPool2d", "output_size": 4})").has("adaptive-upsamples"));
  CHECK(run_layers("[1, 4, 8, 8]", R"({"type": "Flatten"}, {"type": "Linear", "out_features": 3})").has("linear-fixed-size"));
  CHECK_FALSE(run_layers("[1, 4, 8, 8]", R"({"type": "AdaptiveAvgPool2d", "output_size": 2}, {"type": "Flatten"}, {"type": "Linear", "out_features": 3})").has("linear-fixed-size"));
  // Warnings do not make a spec invalid.
  CHECK(floor.valid());
}

TEST_CASE("the shipped specs raise no warning but LeNet's fixed-size fc1") {
  for (const char* f : {"resnet18.json", "resnet34.json", "resnet50.json", "vgg16.json", "alexnet.json"}) {
    CAPTURE(f);
    auto o = run_text(slurp(std::string(NETSHAPE_SOURCE_DIR) + "/specs/" + f));
    CHECK(o.diags.items.empty());
  }
}

TEST_CASE("receptive fields through a residual: misaligned branches are flagged") {
  // Body: 2x2 stride-2 conv, its first output centred at input 0.5 (start
  // 0 + ((2 − 1)/2 − 0)·1); shortcut: 1x1 stride 2, centred at 0. Same shapes
  // for even sizes, different centres: warn.
  auto o = run_layers("[1, 4, 8, 8]", R"({"name": "b", "type": "Residual",
      "body": [{"type": "Conv2d", "out_channels": 4, "kernel_size": 2, "stride": 2}],
      "shortcut": [{"type": "Conv2d", "out_channels": 4, "kernel_size": 1, "stride": 2}]})");
  REQUIRE(o.valid());
  CHECK(o.has("rf-misaligned"));
  // ResNet's own blocks: 3x3 stride 2 padding 1 (start 0 + (1 − 1)·1 = 0) and
  // 1x1 stride 2 (start 0) agree, size max(3, 1) = 3.
  auto ok = run_layers("[1, 4, 8, 8]", R"({"name": "b", "type": "Residual",
      "body": [{"type": "Conv2d", "out_channels": 4, "kernel_size": 3, "stride": 2, "padding": 1}],
      "shortcut": [{"type": "Conv2d", "out_channels": 4, "kernel_size": 1, "stride": 2}]})");
  CHECK_FALSE(ok.has("rf-misaligned"));
  REQUIRE(ok.row("b")->receptive_field);
  CHECK(ok.row("b")->receptive_field->at(0).size == 3);
  CHECK(ok.row("b")->receptive_field->at(0).jump == 2);
}

TEST_CASE("blocks: expressions, if items that drop out, $index, recursion that stops") {
  // torchvision's InvertedResidual: no expand conv when t = 1; the skip only
  // when stride is 1 and the channels are kept (use_res_connect).
  const char* blocks = R"("blocks": {"IR": {"params": {"inp": null, "oup": null, "stride": 1, "t": 6},
      "layer": {"type": "Residual", "add": "$stride == 1 and $inp == $oup", "body": [
        {"if": "$t != 1", "then": [{"type": "Conv2d", "out_channels": "$inp * $t", "kernel_size": 1}]},
        {"type": "Conv2d", "out_channels": "$inp * $t", "kernel_size": 3, "stride": "$stride", "padding": 1, "groups": "$inp * $t"},
        {"type": "Conv2d", "out_channels": "$oup", "kernel_size": 1}]}},
    "Down": {"params": {"depth": null}, "layer": {"type": "Sequential", "layers": [
        {"type": "MaxPool2d", "kernel_size": 2},
        {"if": "$depth > 1", "then": {"type": "Down", "depth": "$depth - 1"}}]}},
    "Idx": {"layer": {"type": "Conv2d", "out_channels": "$index + 1", "kernel_size": 1}}})";
  auto o = run_text(std::string("{\"input\": [1, 16, 32, 32], ") + blocks + R"(, "layers": [
      {"name": "a", "type": "IR", "inp": 16, "oup": 16, "t": 1},
      {"name": "b", "type": "IR", "inp": 16, "oup": 24, "stride": 2},
      {"name": "d", "type": "Down", "depth": 3},
      {"name": "i", "type": "Idx", "repeat": 3}]})");
  REQUIRE(o.valid());
  CHECK(o.row("a.body.0")->params == 16 * 9 + 16);  // t = 1: the depthwise conv comes first
  CHECK(o.row("a") != nullptr);                        // the add is there
  CHECK(o.row("b.body.0")->output == Shape{1, 96, 32, 32});  // 16 · 6
  CHECK(o.row("b") == nullptr);                        // stride 2: no add
  CHECK(o.row("d.1.1.0")->output == Shape{1, 24, 2, 2});     // three levels, then it stops
  CHECK(o.row("d.1.1.1") == nullptr);
  CHECK(o.row("i.2")->output == Shape{1, 3, 2, 2});          // $index 2 → 3 channels

  auto loop = run_text(R"({"input": [1, 3, 8, 8], "blocks": {"L": {"layer": {"type": "L"}}}, "layers": [{"type": "L"}]})");
  CHECK(loop.has("recursive-block"));
  auto bad = run_text(R"({"input": [1, 3, 8, 8], "blocks": {"B": {"params": {"c": 4}, "layer": {"type": "Conv2d", "out_channels": "$c // 0", "kernel_size": 1}}}, "layers": [{"type": "B"}]})");
  REQUIRE(bad.find("bad-expression"));
  CHECK(bad.find("bad-expression")->message == "cannot evaluate \"$c // 0\": 4 // 0: division by zero");
}

TEST_CASE("a torch.nn layer netshape lacks is said to be unsupported, never 'did you mean' another") {
  for (const auto& type : unsupported_torch_layers()) {
    CAPTURE(type);
    CHECK(std::find(spec_names().begin(), spec_names().end(), type) == spec_names().end());
    auto o = run_layers("[1, 3, 8, 8]", "{\"type\": \"" + type + "\"}");
    REQUIRE(o.find("unsupported-type"));
    CHECK_FALSE(o.has("unknown-type"));
  }
  // A typo of a supported kind still gets its did-you-mean.
  auto typo = run_layers("[1, 3, 8, 8]", R"({"type": "Conv2D"})");
  REQUIRE(typo.find("unknown-type"));
  CHECK(typo.find("unknown-type")->help == "did you mean `Conv2d`?");
}

// ATen's glu_meta: sizes[wrap_dim] = nIn / 2, after TORCH_CHECK(nIn % 2 == 0,
// "Halving dimension must be even, but dimension ", wrap_dim, " is size ", nIn).
TEST_CASE("GLU halves its dim, which must be even, as ATen's glu_meta") {
  auto o = run_layers("[2, 3, 8, 6]", R"({"name": "c", "type": "Conv2d", "out_channels": 10, "kernel_size": 1},
                                        {"name": "g", "type": "GLU", "dim": 1}, {"name": "w", "type": "GLU"})");
  REQUIRE(o.valid());
  CHECK(o.row("g")->output == Shape{2, 5, 8, 6});
  CHECK(o.row("w")->output == Shape{2, 5, 8, 3});  // dim=-1, PyTorch's default: the last dim
  auto odd = run_layers("[2, 3, 8, 8]", R"({"name": "c", "type": "Conv2d", "out_channels": 9, "kernel_size": 1},
                                          {"name": "g", "type": "GLU", "dim": -3})");
  const Diagnostic* d = odd.find("glu-odd");
  REQUIRE(d);
  CHECK(d->notes.at(0) == "PyTorch: \"Halving dimension must be even, but dimension 1 is size 9\"");
  // -3 of a 4-D input is the channels: the conv before gives one more, checked.
  REQUIRE(d->fixes.size() == 1);
  CHECK(d->fixes[0].sets == std::vector<std::string>{"c.out_channels=10"});
  CHECK(run_layers("[2, 4]", R"({"type": "GLU", "dim": 2})").has("dim"));
  CHECK(run_layers("[2, 4]", R"({"type": "GLU", "dim": "1"})").has("wrong-type"));
}

// ATen's infer_size: one -1, the element count must match (or divide, with
// the -1), else "shape '[…]' is invalid for input of size N". The CIFAR
// tutorial's x.view(-1, 16 * 5 * 5) after two 5×5 convs and 2×2 pools on
// 32×32: (32 − 4)/2 = 14, (14 − 4)/2 = 5, so 16·5·5 = 400 per sample.
TEST_CASE("Reshape and View follow ATen's infer_size") {
  const char* lenet = R"({"name": "c1", "type": "Conv2d", "out_channels": 6, "kernel_size": 5},
                         {"type": "MaxPool2d", "kernel_size": 2},
                         {"name": "c2", "type": "Conv2d", "out_channels": 16, "kernel_size": 5},
                         {"type": "MaxPool2d", "kernel_size": 2}, {"name": "v", "type": "View", "shape": [-1, 400]})";
  auto ok = run_layers("[4, 3, 32, 32]", lenet);
  REQUIRE(ok.valid());
  CHECK(ok.row("v")->output == Shape{4, 400});
  // On 28×28 the map is 4×4: 4·16·4·4 = 1,024 elements, no multiple of 400.
  auto bad = run_layers("[4, 3, 28, 28]", lenet);
  const Diagnostic* d = bad.find("reshape");
  REQUIRE(d);
  CHECK(d->notes.at(0) == "PyTorch: \"shape '[-1, 400]' is invalid for input of size 1024\"");
  CHECK(run_layers("[2, 6]", R"({"type": "Reshape", "shape": [3, 4]})").valid());
  CHECK(run_layers("[2, 6]", R"({"type": "Reshape", "shape": [5, -1]})").has("reshape"));
  CHECK(run_layers("[2, 6]", R"({"type": "Reshape", "shape": [0, -1]})").has("reshape"));
  auto two = run_layers("[2, 6]", R"({"type": "Reshape", "shape": [-1, -1]})");
  REQUIRE(two.find("wrong-type"));
  CHECK(two.find("wrong-type")->message.find("only one dimension can be inferred") != std::string::npos);
}

// ATen's permute: one index per dim, none twice; transpose's dims wrapped
// (maybe_wrap_dim: [-rank, rank − 1]).
TEST_CASE("Permute and Transpose take PyTorch's dims") {
  auto nhwc = run_layers("[2, 3, 8, 6]", R"({"name": "p", "type": "Permute", "dims": [0, -2, -1, 1]})");
  REQUIRE(nhwc.valid());
  CHECK(nhwc.row("p")->output == Shape{2, 8, 6, 3});
  auto len = run_layers("[2, 3, 8, 6]", R"({"type": "Permute", "dims": [0, 2, 1]})");
  REQUIRE(len.find("permute"));
  CHECK(len.find("permute")->notes.at(0).find("input.dim() = 4 is not equal to len(dims) = 3") != std::string::npos);
  auto twice = run_layers("[2, 3, 8]", R"({"type": "Permute", "dims": [0, 1, 1]})");
  REQUIRE(twice.find("permute"));
  CHECK(twice.find("permute")->notes.at(0) == "PyTorch: \"permute(): duplicate dims are not allowed.\"");
  auto t = run_layers("[2, 3, 8]", R"({"name": "t", "type": "Transpose", "dim0": 1, "dim1": -1})");
  CHECK(t.row("t")->output == Shape{2, 8, 3});
  auto out = run_layers("[2, 3, 8]", R"({"type": "Transpose", "dim0": 3, "dim1": 0})");
  REQUIRE(out.find("dim"));
  CHECK(out.find("dim")->notes.at(0) == "PyTorch: \"Dimension out of range (expected to be in range of [-3, 2], but got 3)\"");
}

// torch.zeros(2, 3, 4).transpose(1, 2) has strides (12, 1, 4): .view(2, 12)
// raises (dims 1 and 2 are no longer one run of memory), .view(2, 4, 3, 1)
// and .reshape(2, 12) work, and a conv's output is contiguous again.
TEST_CASE("a View needs strides it can keep, as ATen's computeStride") {
  auto merged = run_layers("[2, 3, 4]", R"({"type": "Transpose", "dim0": 1, "dim1": 2}, {"type": "View", "shape": [2, 12]})");
  REQUIRE(merged.find("view-strides"));
  CHECK(merged.find("view-strides")->severity == Severity::error);
  CHECK(run_layers("[2, 3, 4]", R"({"type": "Transpose", "dim0": 1, "dim1": 2}, {"type": "View", "shape": [2, 4, 3, 1]})").valid());
  CHECK(run_layers("[2, 3, 4]", R"({"type": "Transpose", "dim0": 1, "dim1": 2}, {"type": "Reshape", "shape": [2, 12]})").valid());
  auto conv = run_layers("[1, 4, 8, 8]", R"({"type": "Transpose", "dim0": 2, "dim1": 3},
                                           {"type": "Conv2d", "out_channels": 4, "kernel_size": 1},
                                           {"type": "View", "shape": [1, -1]})");
  // A conv of a permuted map may come out channels-last (suggest_memory_format): a warning, not a verdict.
  REQUIRE(conv.find("view-strides"));
  CHECK(conv.find("view-strides")->severity == Severity::warning);
  auto slice = run_layers("[1, 4, 8, 8]", R"({"type": "Narrow", "dim": 1, "start": 0, "length": 2},
                                            {"type": "Conv2d", "out_channels": 4, "kernel_size": 1},
                                            {"type": "View", "shape": [1, -1]})");
  CHECK(slice.valid());
  CHECK_FALSE(slice.has("view-strides"));
}

// PyTorch 1.13, checked in Python: zeros(2, 3, 1).squeeze(1) stays [2, 3, 1]
// (dim 1 is not 1), .squeeze(-1) and .squeeze() give [2, 3], .unsqueeze(3)
// [2, 3, 1, 1], .unsqueeze(-4) [1, 2, 3, 1], .unsqueeze(4) raises
// "Dimension out of range (expected to be in range of [-4, 3], but got 4)";
// zeros(2, 3).select(1, 3) raises "select(): index 3 out of range for tensor
// of size [2, 3] at dimension 1", .select(1, -3) gives [2];
// zeros(2, 3, 4).mean([1, 1]) raises "dim 1 appears multiple times in the
// list of dims", .mean([1, -1], keepdim=True) gives [2, 1, 1], .amax(0) [3, 4].
TEST_CASE("Squeeze, Unsqueeze, Select and the reductions follow PyTorch") {
  auto shape = [](const char* layers) {
    auto o = run_layers("[2, 3, 1]", layers);
    return o.valid() ? o.eval.output : Shape{};
  };
  CHECK(shape(R"({"type": "Squeeze", "dim": 1})") == Shape{2, 3, 1});
  CHECK(shape(R"({"type": "Squeeze", "dim": -1})") == Shape{2, 3});
  CHECK(shape(R"({"type": "Squeeze"})") == Shape{2, 3});
  CHECK(shape(R"({"type": "Unsqueeze", "dim": 3})") == Shape{2, 3, 1, 1});
  CHECK(shape(R"({"type": "Unsqueeze", "dim": -4})") == Shape{1, 2, 3, 1});
  auto far = run_layers("[2, 3, 1]", R"({"type": "Unsqueeze", "dim": 4})");
  REQUIRE(far.find("dim"));
  CHECK(far.find("dim")->notes.at(0) == "PyTorch: \"Dimension out of range (expected to be in range of [-4, 3], but got 4)\"");
  auto past = run_layers("[2, 3]", R"({"type": "Select", "dim": 1, "index": 3})");
  REQUIRE(past.find("select"));
  CHECK(past.find("select")->notes.at(0) == "PyTorch: \"select(): index 3 out of range for tensor of size [2, 3] at dimension 1\"");
  CHECK(run_layers("[2, 3]", R"({"type": "Select", "dim": 1, "index": -3})").eval.output == Shape{2});
  auto twice = run_layers("[2, 3, 4]", R"({"type": "Mean", "dim": [1, 1]})");
  REQUIRE(twice.find("dim"));
  CHECK(twice.find("dim")->notes.at(0) == "PyTorch: \"dim 1 appears multiple times in the list of dims\"");
  CHECK(run_layers("[2, 3, 4]", R"({"type": "Mean", "dim": [1, -1], "keepdim": true})").eval.output == Shape{2, 1, 1});
  CHECK(run_layers("[2, 3, 4]", R"({"type": "Amax", "dim": 0})").eval.output == Shape{3, 4});
  // A 0-d result (one number) is where netshape is stricter than PyTorch.
  CHECK(run_layers("[2]", R"({"type": "Sum", "dim": 0})").has("zero-dim"));
  CHECK(run_layers("[1, 1]", R"({"type": "Squeeze"})").has("zero-dim"));
}

// PyTorch, as the CIFAR tutorial's LeNet on 28×28 input of batch 25: the map
// is 16×4×4 = 256 per sample, 25·256 = 6,400 = 16·400, so x.view(-1, 400)
// runs and gives [16, 400] — 16 "samples". A warning, since PyTorch runs.
TEST_CASE("a leading -1 that changes the batch is warned of") {
  auto o = run_layers("[25, 16, 4, 4]", R"({"name": "v", "type": "View", "shape": [-1, 400]})");
  REQUIRE(o.valid());
  CHECK(o.eval.output == Shape{16, 400});
  const Diagnostic* d = o.find("reshape-batch");
  REQUIRE(d);
  CHECK(d->notes.at(0) == "each sample has 256 = 16·4·4 values, not 400");
  CHECK_FALSE(run_layers("[25, 16, 5, 5]", R"({"type": "View", "shape": [-1, 400]})").has("reshape-batch"));
}

// PyTorch 1.13, checked in Python: torch.roll(zeros(2, 3, 4), (1, 2), (1, 2))
// and torch.roll(x, 5) keep [2, 3, 4]; shifts (1, 2) with dims (1,) raise
// "shifts and dimensions must align. shifts: 2, dims:1"; dims (3,) raise
// "Dimension out of range (expected to be in range of [-3, 2], but got 3)".
TEST_CASE("Roll keeps the shape, one shift per dim") {
  CHECK(run_layers("[2, 3, 4]", R"({"type": "Roll", "shifts": [1, 2], "dims": [1, 2]})").eval.output == Shape{2, 3, 4});
  CHECK(run_layers("[2, 3, 4]", R"({"type": "Roll", "shifts": 5})").valid());
  auto misaligned = run_layers("[2, 3, 4]", R"({"type": "Roll", "shifts": [1, 2], "dims": [1]})");
  REQUIRE(misaligned.find("roll"));
  CHECK(misaligned.find("roll")->notes.at(0) == "PyTorch: \"shifts and dimensions must align. shifts: 2, dims:1\"");
  auto far = run_layers("[2, 3, 4]", R"({"type": "Roll", "shifts": [1], "dims": [3]})");
  REQUIRE(far.find("dim"));
  CHECK(far.find("dim")->notes.at(0) == "PyTorch: \"Dimension out of range (expected to be in range of [-3, 2], but got 3)\"");
}

// PyTorch 1.13, checked in Python: zeros(2, 3, 1).expand(2, 3, 5) and
// .expand(4, 2, 3, 5) and .expand(-1, -1, 5) work; .expand(2, 4, 5) raises
// "The expanded size of the tensor (4) must match the existing size (3) at
// non-singleton dimension 1.  Target sizes: [2, 4, 5].  Tensor sizes: [2, 3, 1]";
// .expand(-1, 2, 3, 5): "…(-1) isn't allowed in a leading, non-existing
// dimension 0"; the expanded view of it cannot be .view(30)-ed.
TEST_CASE("Expand repeats size-1 dims, as ATen's inferExpandGeometry") {
  auto out = [](const char* sizes) {
    auto o = run_layers("[2, 3, 1]", std::string(R"({"type": "Expand", "sizes": )") + sizes + "}");
    return o.valid() ? o.eval.output : Shape{};
  };
  CHECK(out("[2, 3, 5]") == Shape{2, 3, 5});
  CHECK(out("[4, 2, 3, 5]") == Shape{4, 2, 3, 5});
  CHECK(out("[-1, -1, 5]") == Shape{2, 3, 5});
  auto grow = run_layers("[2, 3, 1]", R"({"type": "Expand", "sizes": [2, 4, 5]})");
  REQUIRE(grow.find("expand"));
  CHECK(grow.find("expand")->notes.at(0) == "PyTorch: \"The expanded size of the tensor (4) must match the existing size "
                                             "(3) at non-singleton dimension 1.  Target sizes: [2, 4, 5].  Tensor sizes: [2, 3, 1]\"");
  auto lead = run_layers("[2, 3, 1]", R"({"type": "Expand", "sizes": [-1, 2, 3, 5]})");
  REQUIRE(lead.find("expand"));
  CHECK(lead.find("expand")->notes.at(0).find("isn't allowed in a leading, non-existing dimension 0") != std::string::npos);
  CHECK(run_layers("[2, 3, 1]", R"({"type": "Expand", "sizes": [2, 3, 5]}, {"type": "View", "shape": [30]})").has("view-strides"));
  CHECK(run_layers("[2, 3, 1]", R"({"type": "Expand", "sizes": [2, 3, 5]}, {"type": "View", "shape": [2, 3, 5, 1]})").valid());
}

// A ViT's tokens (#22), each shape and message checked with PyTorch 1.13:
// class_token = zeros(1, 1, 64); class_token.expand(t.shape[0], -1, -1) is
// [2, 1, 64] for t = zeros(2, 16, 64); cat on dim 1 is [2, 17, 64]; adding a
// [1, 17, 64] position embedding broadcasts to [2, 17, 64].
TEST_CASE("Parameter, Expand reading another value's size, and a broadcasting Add") {
  auto o = run_text(R"({"input": [2, 3, 32, 32], "layers": [
    {"name": "conv_proj", "type": "Conv2d", "out_channels": 64, "kernel_size": 8, "stride": 8},
    {"name": "flat", "type": "Flatten", "start_dim": 2},
    {"name": "tokens", "type": "Transpose", "dim0": 1, "dim1": 2},
    {"name": "class_token", "type": "Parameter", "shape": [1, 1, 64]},
    {"name": "batch", "type": "Expand", "sizes": ["tokens.shape[0]", -1, -1]},
    {"name": "cat", "type": "Cat", "from": ["batch", "tokens"], "dim": 1},
    {"name": "pos", "type": "Parameter", "shape": [1, 17, 64]},
    {"name": "add", "type": "Add", "from": ["cat", "pos"], "broadcast": true}]})");
  REQUIRE(o.valid());
  CHECK(o.row("class_token")->input.empty());  // it reads nothing
  CHECK(o.row("class_token")->params == 64);
  CHECK(o.row("batch")->output == Shape{2, 1, 64});
  CHECK(o.row("cat")->output == Shape{2, 17, 64});
  CHECK(o.row("pos")->params == 17 * 64);
  CHECK(o.row("add")->output == Shape{2, 17, 64});
  // Conv 64·3·8·8 + 64 = 12,352, plus the two parameters.
  CHECK(o.eval.params == 12352 + 64 + 1088);
}

TEST_CASE("a broadcasting Add that does not broadcast, and one not asked for") {
  // zeros(2, 17, 64) + zeros(1, 16, 64): "The size of tensor a (17) must match
  // the size of tensor b (16) at non-singleton dimension 1".
  auto bad = run_text(R"({"input": [2, 17, 64], "layers": [
    {"name": "pos", "type": "Parameter", "shape": [1, 16, 64]},
    {"name": "add", "type": "Add", "from": ["input", "pos"], "broadcast": true}]})");
  const Diagnostic* d = bad.find("add-broadcast");
  REQUIRE(d);
  CHECK(d->notes.back() == "PyTorch: \"The size of tensor a (17) must match the size of tensor b (16) at "
                           "non-singleton dimension 1\"");
  // Without "broadcast" an add stays exact, and says how to ask for it.
  auto exact = run_text(R"({"input": [2, 17, 64], "layers": [
    {"name": "pos", "type": "Parameter", "shape": [1, 17, 64]},
    {"name": "add", "type": "Add", "from": ["input", "pos"]}]})");
  const Diagnostic* e = exact.find("add-mismatch");
  REQUIRE(e);
  CHECK(e->help.find("\"broadcast\": true") != std::string::npos);
  // ConvNeXt's layer scale: zeros(96, 1, 1) * zeros(2, 96, 7, 7) is [2, 96, 7, 7].
  auto scale = run_text(R"({"input": [2, 96, 7, 7], "layers": [
    {"name": "gamma", "type": "Parameter", "shape": [96, 1, 1]},
    {"name": "mul", "type": "Mul", "from": ["gamma", "input"]}]})");
  REQUIRE(scale.valid());
  CHECK(scale.row("mul")->output == Shape{2, 96, 7, 7});
}

TEST_CASE("Upsample size_from and Expand's size references") {
  // F.interpolate(zeros(2, 64, 4, 4), size=zeros(2, 3, 32, 32).shape[2:]) is [2, 64, 32, 32].
  auto o = run_text(R"({"input": [2, 3, 32, 32], "layers": [
    {"type": "Conv2d", "out_channels": 64, "kernel_size": 8, "stride": 8},
    {"name": "up", "type": "Upsample", "size_from": "input", "mode": "bilinear"}]})");
  REQUIRE(o.valid());
  CHECK(o.row("up")->output == Shape{2, 64, 32, 32});
  // zeros(1, 1, 64).expand(t.shape[5], -1, -1) for a 3-D t: IndexError "tuple index out of range".
  auto far = run_text(R"({"input": [2, 16, 64], "layers": [
    {"name": "t", "type": "Parameter", "shape": [1, 1, 64]},
    {"name": "e", "type": "Expand", "sizes": ["input.shape[5]", -1, -1]}]})");
  REQUIRE(far.find("expand"));
  CHECK(far.find("expand")->notes.back() == "PyTorch: \"tuple index out of range\"");
  auto typo = run_text(R"({"input": [2, 16, 64], "layers": [
    {"name": "e", "type": "Expand", "sizes": ["nothing.shape[0]", -1, -1]}]})");
  CHECK(typo.find("bad-reference"));
}

// F.interpolate checks a list's length: zeros(1, 1, 4, 4) with size=[3] raises
// "Input and output must have the same number of spatial dimensions" (PyTorch
// 1.13), while size=3 is [1, 1, 3, 3]; size=y.shape[2:] of a 3-D y is such a list.
TEST_CASE("Upsample: a size list has one entry per spatial dim; size_from needs the input's rank") {
  CHECK(*run_layers("[1, 1, 4, 4]", R"({"type": "Upsample", "size": 3})").eval.output == Shape{1, 1, 3, 3});
  CHECK(run_layers("[1, 1, 4, 4]", R"({"type": "Upsample", "size": [3]})").has("upsample-dims"));
  CHECK(run_layers("[1, 1, 4, 4]", R"({"type": "Upsample", "scale_factor": [3.0]})").has("upsample-dims"));
  CHECK(*run_layers("[1, 1, 4]", R"({"type": "Upsample", "size": [3]})").eval.output == Shape{1, 1, 3});
  auto o = run_text(R"({"input": [3, 5, 4, 12], "layers": [
    {"name": "tok", "type": "Flatten", "start_dim": 2, "from": "input"},
    {"name": "up", "type": "Upsample", "from": "input", "size_from": "tok"}]})");
  const Diagnostic* d = o.find("upsample-dims");
  REQUIRE(d);
  CHECK(d->pointer == "/layers/1/size_from");
}

// torch.matmul(zeros(a), zeros(b)) in PyTorch 1.13: the shape, or its error.
static Outcome matmul_of(const std::string& a, const std::string& b) {
  return run_text(R"({"input": )" + a + R"(, "layers": [{"name": "b", "type": "Parameter", "shape": )" + b +
                  R"(}, {"name": "m", "type": "Matmul", "from": ["input", "b"]}]})");
}

TEST_CASE("Matmul: matrix products over broadcast batch dims, 1-D sides as torch.matmul") {
  struct Case { const char* a; const char* b; Shape out; };
  for (const Case& c : {Case{"[2, 3, 4]", "[4]", {2, 3}}, Case{"[4]", "[2, 4, 5]", {2, 5}}, Case{"[2, 3]", "[3]", {2}},
                        Case{"[3]", "[3, 5]", {5}}, Case{"[2, 1, 5, 3]", "[3, 3, 7]", {2, 3, 5, 7}},
                        Case{"[1, 2, 3]", "[5, 4, 3, 2]", {5, 4, 2, 2}}, Case{"[2, 3, 4]", "[1, 4, 5]", {2, 3, 5}},
                        Case{"[6, 2, 3]", "[3, 4]", {6, 2, 4}}}) {
    CAPTURE(c.a);
    CAPTURE(c.b);
    auto o = matmul_of(c.a, c.b);
    REQUIRE(o.valid());
    CHECK(o.row("m")->output == c.out);
    CHECK(o.row("m")->params == 0);
  }
  // Attention's scores: [2, 12, 197, 64] @ [2, 12, 64, 197], 2·12·197·197 entries of 64 products each.
  auto att = matmul_of("[2, 12, 197, 64]", "[2, 12, 64, 197]");
  REQUIRE(att.valid());
  CHECK(att.row("m")->output == Shape{2, 12, 197, 197});
  CHECK(att.row("m")->macs == int64_t{2} * 12 * 197 * 197 * 64);
}

TEST_CASE("Matmul's errors carry the message of the path PyTorch 1.13 takes") {
  struct Case { const char* a; const char* b; const char* code; const char* torch; };
  for (const Case& c : {
           Case{"[2, 3]", "[4, 5]", "matmul-mismatch", "mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)"},
           Case{"[2, 3]", "[4]", "matmul-mismatch", "size mismatch, got 2, 2x3,4"},
           Case{"[3]", "[4, 5]", "matmul-mismatch", "mat1 and mat2 shapes cannot be multiplied (1x3 and 4x5)"},
           Case{"[2, 197, 768]", "[512, 10]", "matmul-mismatch",
                "mat1 and mat2 shapes cannot be multiplied (394x768 and 512x10)"},
           Case{"[2, 3, 4]", "[5]", "matmul-mismatch", "size mismatch, got 6, 6x4,5"},
           Case{"[7]", "[2, 3, 5]", "matmul-mismatch", "size mismatch, got 10, 10x3,7"},
           Case{"[2, 3]", "[2, 4, 5]", "matmul-mismatch", "mat1 and mat2 shapes cannot be multiplied (10x4 and 3x2)"},
           Case{"[2, 5, 3]", "[2, 4, 6]", "matmul-mismatch",
                "Expected size for first two dimensions of batch2 tensor to be: [2, 3] but got: [2, 4]."},
           Case{"[2, 5, 3]", "[3, 3, 6]", "matmul-batch",
                "The size of tensor a (2) must match the size of tensor b (3) at non-singleton dimension 0"},
           Case{"[5, 2, 3]", "[1, 4, 3, 2]", "matmul-batch",
                "The size of tensor a (5) must match the size of tensor b (4) at non-singleton dimension 1"}}) {
    CAPTURE(c.a);
    CAPTURE(c.b);
    auto o = matmul_of(c.a, c.b);
    const Diagnostic* d = o.find(c.code);
    REQUIRE(d);
    CHECK(d->layer == "m");
    CHECK(d->notes.back() == std::string("PyTorch: \"") + c.torch + "\"");
  }
  // A dot product is a 0-d tensor, which netshape does not hold (documented as stricter).
  CHECK(matmul_of("[3]", "[3]").has("rank"));
  // q @ k without the transpose: the help names it.
  auto qk = matmul_of("[2, 197, 64]", "[2, 197, 64]");
  REQUIRE(qk.find("matmul-mismatch"));
  CHECK(qk.find("matmul-mismatch")->help.find("transpose(-2, -1)") != std::string::npos);
  // `from` lists exactly two.
  CHECK(run_text(R"({"input": [2, 3], "layers": [{"type": "Matmul", "from": ["input", "input", "input"]}]})").has("wrong-type"));
  CHECK(run_text(R"({"input": [2, 3], "layers": [{"type": "Matmul", "from": ["input", "input"], "dim": 1}]})").has("unknown-field"));
}

TEST_CASE("Branches merged by matmul: the first branch @ the second, exactly two") {
  // torch.matmul(zeros(2, 5, 8), zeros(2, 8, 5)) is [2, 5, 5] (attention's q @ k.transpose(-2, -1)).
  auto o = run_text(R"({"input": [2, 5, 8], "layers": [{"name": "att", "type": "Branches", "merge": "matmul", "branches": [
      {"name": "q", "layers": [{"type": "Linear", "out_features": 8}]},
      {"name": "k", "layers": [{"type": "Linear", "out_features": 8}, {"type": "Transpose", "dim0": -2, "dim1": -1}]}]}]})");
  REQUIRE(o.valid());
  CHECK(o.row("att")->output == Shape{2, 5, 5});
  CHECK(o.row("att")->macs == 2 * 5 * 5 * 8);
  auto three = run_text(R"({"input": [2, 5, 8], "layers": [{"name": "att", "type": "Branches", "merge": "matmul",
      "branches": [[], [], []]}]})");
  REQUIRE(three.find("wrong-type"));
  CHECK(three.find("wrong-type")->message.find("exactly two branches") != std::string::npos);
}

TEST_CASE("StochasticDepth is the identity in eval, with torchvision's required p and mode") {
  auto o = run_layers("[2, 96, 7, 7]", R"({"name": "sd", "type": "StochasticDepth", "p": 0.1, "mode": "row"})");
  REQUIRE(o.valid());
  CHECK(o.row("sd")->output == Shape{2, 96, 7, 7});
  CHECK(o.row("sd")->arguments == "p=0.1 mode=row");
  // torchvision.ops.StochasticDepth(p, mode) has no defaults; ValueErrors for p outside [0, 1] and other modes.
  CHECK(run_layers("[2, 3]", R"({"type": "StochasticDepth", "mode": "row"})").has("missing-field"));
  CHECK(run_layers("[2, 3]", R"({"type": "StochasticDepth", "p": 0.1})").has("missing-field"));
  CHECK(run_layers("[2, 3]", R"({"type": "StochasticDepth", "p": 1.5, "mode": "row"})").has("out-of-range"));
  auto typo = run_layers("[2, 3]", R"({"type": "StochasticDepth", "p": 0.1, "mode": "rows"})");
  REQUIRE(typo.find("wrong-type"));
  CHECK(typo.find("wrong-type")->help == "did you mean \"row\"?");
}

// nn.Embedding(num_embeddings, embedding_dim) in PyTorch 1.13: zeros(2, 7, dtype=long) → [2, 7, 16],
// 50·16 = 800 weights; Embedding(50, 16, padding_idx=50) asserts "Padding_idx must be within
// num_embeddings" (−50 … 49); a float input raises "Expected tensor for argument #1 'indices' …".
TEST_CASE("Embedding looks up token indices: [*] → [*, embedding_dim]") {
  auto o = run_text(R"({"input": [2, 7], "layers": [{"name": "emb", "type": "Embedding", "num_embeddings": 50, "embedding_dim": 16},
                        {"name": "fc", "type": "Linear", "out_features": 4}]})");
  REQUIRE(o.valid());
  CHECK(o.row("emb")->output == Shape{2, 7, 16});
  CHECK(o.row("emb")->params == 800);
  CHECK(o.row("fc")->output == Shape{2, 7, 4});
  CHECK_FALSE(o.has("linear-rank"));  // features last, as an Embedding gives them
  CHECK(run_layers("[3]", R"({"type": "Embedding", "num_embeddings": 5, "embedding_dim": 2})").eval.output == Shape{3, 2});
  // Through reshapes the input still holds indices.
  CHECK(run_layers("[2, 7]", R"({"type": "Unsqueeze", "dim": 1}, {"type": "Embedding", "num_embeddings": 5, "embedding_dim": 2})")
            .eval.output == Shape{2, 1, 7, 2});
  for (const char* idx : {"-50", "49"})
    CHECK(run_layers("[2, 7]", std::string(R"({"type": "Embedding", "num_embeddings": 50, "embedding_dim": 16, "padding_idx": )") +
                                   idx + "}").valid());
  for (const char* idx : {"-51", "50"}) {
    auto bad = run_layers("[2, 7]", std::string(R"({"type": "Embedding", "num_embeddings": 50, "embedding_dim": 16, "padding_idx": )") +
                                        idx + "}");
    REQUIRE(bad.find("out-of-range"));
    CHECK(bad.find("out-of-range")->notes.back() == "PyTorch: \"Padding_idx must be within num_embeddings\"");
  }
  // An Embedding of a float tensor, and a float layer reading the indices.
  auto flt = run_text(R"({"input": [2, 8], "layers": [{"name": "fc", "type": "Linear", "out_features": 5},
                          {"name": "emb", "type": "Embedding", "num_embeddings": 9, "embedding_dim": 3}]})");
  REQUIRE(flt.find("embedding-input"));
  CHECK(flt.find("embedding-input")->layer == "emb");
  auto mixed = run_text(R"({"input": [2, 8], "layers": [{"name": "emb", "type": "Embedding", "num_embeddings": 9, "embedding_dim": 3},
                            {"name": "fc", "type": "Linear", "out_features": 5, "from": "input"}]})");
  REQUIRE(mixed.find("embedding-input"));
  CHECK(mixed.find("embedding-input")->layer == "fc");
  CHECK(run_layers("[2, 8]", R"({"type": "Embedding", "num_embeddings": 9})").has("missing-field"));
  // A learned position embedding written first reads nothing: BERT's token + position embeddings.
  auto bert = run_text(R"({"input": [2, 7], "layers": [{"name": "pos", "type": "Parameter", "shape": [1, 7, 4]},
                           {"name": "emb", "type": "Embedding", "num_embeddings": 10, "embedding_dim": 4, "from": "input"},
                           {"name": "add", "type": "Add", "from": ["emb", "pos"], "broadcast": true}]})");
  REQUIRE(bert.valid());
  CHECK(bert.row("add")->output == Shape{2, 7, 4});
}

// Python's slicing, checked in PyTorch 1.13: zeros(2, 16, 9, 9)[:, :, ::2]
// is [2, 16, 5, 9] (len(range(0, 9, 2)) = 5); zeros(2, 32, 5, 3)[:, 1:-1:3]
// is [2, 10, 5, 3] (range(1, 31, 3)); [..., -3:] of 5 keeps 3; [:, 5:] of 4
// channels is an empty tensor, which netshape refuses; a view of x[:, ::2]
// that merges the stepped dim needs a copy: view raises, reshape copies.
TEST_CASE("Slice: Python's start:end:step on one dim") {
  auto sub = run_layers("[2, 16, 9, 9]", R"({"type": "Slice", "dim": 2, "step": 2})");
  REQUIRE(sub.valid());
  CHECK(*sub.eval.output == Shape{2, 16, 5, 9});
  auto mid = run_layers("[2, 32, 5, 3]", R"({"type": "Slice", "dim": 1, "start": 1, "end": -1, "step": 3})");
  REQUIRE(mid.valid());
  CHECK(*mid.eval.output == Shape{2, 10, 5, 3});
  auto tail = run_layers("[2, 32, 5, 5]", R"({"type": "Slice", "dim": -1, "start": -3})");
  REQUIRE(tail.valid());
  CHECK(*tail.eval.output == Shape{2, 32, 5, 3});
  auto empty = run_layers("[1, 4, 4]", R"({"type": "Slice", "dim": 1, "start": 5})");
  CHECK(empty.has("output-too-small"));
  auto view = run_layers("[2, 4, 3]", R"({"type": "Slice", "dim": 1, "step": 2}, {"type": "View", "shape": [2, 6]})");
  CHECK(view.find("view-strides"));
  CHECK(run_layers("[2, 4, 3]", R"({"type": "Slice", "dim": 1, "step": 2}, {"type": "Reshape", "shape": [2, 6]})").valid());
}

// The CIFAR ResNet's global pool, F.avg_pool2d(out, out.size()[3]), checked
// in PyTorch 1.13: [2, 64, 8, 8] → [2, 64, 1, 1]; [2, 64, 8, 6] pools 6 × 6
// windows at stride 6 → [2, 64, 1, 1] (⌊(8 − 6)/6⌋ + 1 = 1); [2, 64, 6, 8]
// raises "Output size is too small" (⌊(6 − 8)/8⌋ + 1 = 0).
TEST_CASE("a pool's kernel_size read from a size, its stride following") {
  auto square = run_layers("[2, 64, 8, 8]", R"({"type": "AvgPool2d", "kernel_size": "input.shape[3]"})");
  REQUIRE(square.valid());
  CHECK(*square.eval.output == Shape{2, 64, 1, 1});
  CHECK(square.eval.rows[0].arguments == "k=8 s=8 p=0");
  auto wide = run_layers("[2, 64, 8, 6]", R"({"type": "AvgPool2d", "kernel_size": "input.shape[3]"})");
  REQUIRE(wide.valid());
  CHECK(*wide.eval.output == Shape{2, 64, 1, 1});
  CHECK(run_layers("[2, 64, 6, 8]", R"({"type": "AvgPool2d", "kernel_size": "input.shape[3]"})").has("output-too-small"));
  CHECK(run_layers("[2, 4, 6, 6]", R"({"type": "MaxPool2d", "kernel_size": "input.shape[4]"})").has("kernel-read"));
  CHECK(run_layers("[2, 4, 2, 2]", R"({"type": "MaxPool2d", "kernel_size": "input.shape[3]", "padding": 2})").has("pool-padding"));
  auto strided = run_layers("[1, 1, 9, 9]", R"({"type": "MaxPool2d", "kernel_size": ["input.shape[2]", 3], "stride": 1})");
  REQUIRE(strided.valid());
  CHECK(*strided.eval.output == Shape{1, 1, 1, 7});
}

// A U-Net's F.pad(x1, [dX // 2, dX - dX // 2, dY // 2, dY - dY // 2]),
// checked in PyTorch 1.13: x1 [2, 8, 36, 44] to x2's [37, 45] pads (0, 1, 0, 1);
// a larger x1 [1, 1, 9, 9] to [6, 6] crops: -3 // 2 = -2 before, -1 after.
TEST_CASE("a constant pad to another value's size: half the difference before") {
  auto up = run_layers("[2, 8, 36, 44]", R"({"name": "x2", "type": "ConstantPad2d", "padding": [0, 1, 0, 1]},
                                           {"name": "p", "type": "ConstantPad2d", "from": "input", "size_from": "x2"})");
  REQUIRE(up.valid());
  CHECK(up.row("p")->output == Shape{2, 8, 37, 45});
  CHECK(up.row("p")->arguments == "to x2 p=(0, 1, 0, 1)");
  auto crop = run_layers("[1, 1, 9, 9]", R"({"name": "x2", "type": "MaxPool2d", "kernel_size": 4, "stride": 1},
                                           {"name": "p", "type": "ZeroPad2d", "from": "input", "size_from": "x2"})");
  REQUIRE(crop.valid());
  CHECK(crop.row("p")->output == Shape{1, 1, 6, 6});
  CHECK(crop.row("p")->arguments == "to x2 p=(-2, -1, -2, -1)");
  CHECK(run_layers("[1, 4, 6]", R"({"name": "f", "type": "Flatten"},
                                  {"type": "ConstantPad3d", "from": "input", "size_from": "f"})").has("rank"));
}

// PyTorch broadcasts both: zeros(1, 4, 1, 8) + zeros(1, 4, 8, 8) and
// zeros(1, 4, 1, 1) + zeros(1, 4, 8, 8) are [1, 4, 8, 8]. The first stretches
// H of a map whose W is 8 (a residual gone wrong, usually): a warning; the
// second is a context: none. Maps that do not broadcast are told as an exact
// add is, with its projection fix.
TEST_CASE("a broadcasting add: the residual-looking stretch warns, a context does not") {
  auto wrong = run_layers("[1, 4, 8, 8]", R"({"name": "a", "type": "AvgPool2d", "kernel_size": [8, 1]},
                                            {"name": "add", "type": "Add", "from": ["a", "input"], "broadcast": true})");
  REQUIRE(wrong.valid());
  CHECK(*wrong.eval.output == Shape{1, 4, 8, 8});
  CHECK(wrong.has("add-broadcasts"));
  auto context = run_layers("[1, 4, 8, 8]", R"({"name": "a", "type": "AdaptiveAvgPool2d", "output_size": 1},
                                              {"name": "add", "type": "Add", "from": ["input", "a"], "broadcast": true})");
  REQUIRE(context.valid());
  CHECK_FALSE(context.has("add-broadcasts"));
  auto mismatch = run_layers("[1, 4, 8, 8]", R"({"name": "a", "type": "Conv2d", "out_channels": 8, "kernel_size": 1, "stride": 2},
                                               {"name": "add", "type": "Add", "from": ["a", "input"], "broadcast": true})");
  CHECK(mismatch.has("add-mismatch"));
}
