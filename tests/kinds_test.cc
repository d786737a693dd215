// kinds.cc: the table every pass reads — complete, consistent with the
// parser, and the traits that replaced hand-kept lists of kinds. Expected
// signatures are PyTorch 1.13's (torch/nn/modules/*.py), written out here.
#include <set>

#include <doctest/doctest.h>

#include "kinds.h"
#include "layers.h"
#include "test_util.h"

using namespace netshape;
using namespace netshape::test;

TEST_CASE("every spec type name has its kind, and every kind parses") {
  std::set<std::string> names;
  for (const auto& k : kinds()) {
    CHECK_MESSAGE(names.insert(k.name).second, k.name, " is declared twice");
    CHECK(find_kind(k.name) == &k);
    CHECK_FALSE(k.doc.empty());
    CHECK_FALSE(k.rule.empty());
    // Its example is a layer the parser takes (on an input of its rank).
    std::string input = k.rank == 1 ? "[1, 64, 32]" : k.rank == 3 ? "[1, 64, 8, 8, 8]" : "[1, 64, 32, 32]";
    if (k.family == "linear") input = "[1, 64]";
    std::string spec = k.family == "merge"
        ? R"({"input": )" + input + R"(, "layers": [{"name": "block", "type": "ReLU"}, {"name": "shortcut", "type": "ReLU"},
             {"name": "enc4", "type": "ReLU"}, {"name": "up4", "type": "ReLU"}, {"name": "features", "type": "ReLU"},
             {"name": "gate", "type": "ReLU"}, {"name": "q", "type": "ReLU"}, {"name": "k_t", "type": "ReLU"}, )" + k.example + "]}"
        : R"({"input": )" + input + R"(, "layers": [)" + k.example + "]}";
    CAPTURE(spec);
    CHECK(parse_spec(spec).spec);
  }
  for (const char* n : {"Sequential", "Residual", "Branches", "Add", "Cat", "Mul", "Matmul"}) CHECK(find_kind(n));
}

TEST_CASE("PyTorch's signatures, as Python writes them") {
  CHECK(signature_text(*find_kind("Conv2d")) ==
        "torch.nn.Conv2d(in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True, "
        "padding_mode='zeros')");
  CHECK(signature_text(*find_kind("BatchNorm2d")) ==
        "torch.nn.BatchNorm2d(num_features, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)");
  CHECK(signature_text(*find_kind("InstanceNorm1d")) ==
        "torch.nn.InstanceNorm1d(num_features, eps=1e-05, momentum=0.1, affine=False, track_running_stats=False)");
  CHECK(signature_text(*find_kind("MaxPool2d")) ==
        "torch.nn.MaxPool2d(kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False)");
  CHECK(signature_text(*find_kind("AvgPool2d")) ==
        "torch.nn.AvgPool2d(kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True, "
        "divisor_override=None)");
  CHECK(signature_text(*find_kind("GroupNorm")) == "torch.nn.GroupNorm(num_groups, num_channels, eps=1e-05, affine=True)");
  CHECK(signature_text(*find_kind("LeakyReLU")) == "torch.nn.LeakyReLU(negative_slope=0.01, inplace=False)");
  CHECK(signature_text(*find_kind("Threshold")) == "torch.nn.Threshold(threshold, value, inplace=False)");
  CHECK(signature_text(*find_kind("Linear")) == "torch.nn.Linear(in_features, out_features, bias=True)");
}

TEST_CASE("a default is declared once: the parser's value is the table's") {
  // A layer with no arguments but the required ones gets exactly the table's defaults.
  auto r = parse_spec(R"({"input": [1, 3, 8, 8], "layers": [{"type": "BatchNorm2d"}, {"type": "LocalResponseNorm", "size": 2},
    {"type": "PReLU"}, {"type": "Dropout"}, {"type": "Flatten"}]})");
  REQUIRE(r.spec);
  const auto& bn = std::get<BatchNorm>(r.spec->layers[0].kind);
  CHECK(bn.eps == find_kind("BatchNorm2d")->arg("eps")->dflt.get<double>());
  CHECK(bn.momentum == find_kind("BatchNorm2d")->arg("momentum")->dflt.get<double>());
  CHECK(bn.momentum == 0.1);  // PyTorch's
  const auto& lrn = std::get<LocalResponseNorm>(r.spec->layers[1].kind);
  CHECK(lrn.alpha == 1e-4);
  CHECK(lrn.beta == 0.75);
  CHECK(std::get<PReLU>(r.spec->layers[2].kind).init == 0.25);
  CHECK(std::get<Dropout>(r.spec->layers[3].kind).p == 0.5);
  CHECK(std::get<Flatten>(r.spec->layers[4].kind).start_dim == 1);
  CHECK(std::get<Flatten>(r.spec->layers[4].kind).end_dim == -1);
}

TEST_CASE("traits: a GroupNorm between a conv and a PixelShuffle passes the conv's channels through") {
  // The conv gives 5 channels; PixelShuffle(2) needs a multiple of 4. The fix is the conv's out_channels,
  // through GroupNorm as through BatchNorm (issue 21: the hand-kept list left GroupNorm out).
  for (const char* norm : {R"({"type": "BatchNorm2d"})", R"({"type": "GroupNorm", "num_groups": 1})",
                           R"({"type": "LayerNorm", "normalized_shape": [8, 8]})"}) {
    CAPTURE(norm);
    auto o = run_layers("[1, 3, 8, 8]", std::string(R"({"type": "Conv2d", "out_channels": 5, "kernel_size": 1}, )") + norm +
                                            R"(, {"type": "PixelShuffle", "upscale_factor": 2})");
    const Diagnostic* d = o.find("pixel-shuffle");
    REQUIRE(d);
    bool conv_fix = false;
    for (const auto& f : d->fixes) conv_fix = conv_fix || (f.verified && f.sets == std::vector<std::string>{"0.out_channels=8"});
    CHECK(conv_fix);
  }
  CHECK(find_kind("GroupNorm")->keeps_channels);
  CHECK(find_kind("MaxPool3d")->keeps_channels);
  CHECK_FALSE(find_kind("PixelShuffle")->keeps_channels);
  CHECK(find_kind("ConvTranspose2d")->makes_channels);
}

TEST_CASE("traits: a rank error names the Unflatten that made the rank, not the network's input") {
  auto o = run_layers("[1, 48]", R"({"name": "u", "type": "Unflatten", "dim": 1, "unflattened_size": [3, 16]},
                                   {"type": "Conv2d", "out_channels": 4, "kernel_size": 1})");
  const Diagnostic* d = o.find("rank");
  REQUIRE(d);
  REQUIRE_FALSE(d->notes.empty());
  CHECK(d->notes[0] == "`u` (Unflatten) made it 3-D");
  for (const char* n : {"Flatten", "Unflatten", "Linear"}) CHECK(find_kind(n)->sets_rank);
  CHECK_FALSE(find_kind("Conv2d")->sets_rank);
}

TEST_CASE("help: a card per kind, from the same table") {
  std::string card = kind_card(*find_kind("Conv2d"));
  CHECK(card.find("torch.nn.Conv2d(in_channels, out_channels, kernel_size, stride=1") != std::string::npos);
  CHECK(card.find("out = ⌊(in + 2·padding − dilation·(kernel_size − 1) − 1) / stride⌋ + 1") != std::string::npos);
  CHECK(card.find("Conv1d [N, C, L]") != std::string::npos);
  CHECK(kind_card(*find_kind("MaxPool2d")).find("kernel_size's  the step") != std::string::npos);
  std::string list = kinds_list();
  for (const auto& [family, what] : kind_families()) CHECK(list.find(family + " — " + what) != std::string::npos);
  for (const auto& k : kinds()) CHECK_MESSAGE(list.find(" " + k.name) != std::string::npos, k.name);
}
