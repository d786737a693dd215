// The shipped specs against published figures. Parameter counts: torchvision's
// model docs (ResNet18 11,689,512; ResNet50 25,557,032; VGG16 138,357,544;
// AlexNet 61,100,840), the seed's ResNet34 21,801,896 (torchvision's 21,797,672
// plus the 1x1 conv + BatchNorm shortcut of layer1.0: 64·64 + 2·64 = 4,224),
// LeNet-5 61,706 (156 + 2,416 + 48,120 + 10,164 + 850).
#include <cmath>
#include <doctest/doctest.h>

#include "symbolic.h"
#include "test_util.h"

using namespace netshape;
using namespace netshape::test;

#ifndef NETSHAPE_SOURCE_DIR
#error "NETSHAPE_SOURCE_DIR must be defined"
#endif

static Outcome spec(const std::string& name) {
  return run_text(slurp(std::string(NETSHAPE_SOURCE_DIR) + "/specs/" + name));
}

TEST_CASE("the seed's ResNet34") {
  auto o = spec("resnet34.json");
  REQUIRE(o.valid());
  CHECK(o.eval.params == 21801896);
  // The seed's printed shapes at 1x3x224x224.
  CHECK(o.row("pre.3")->output == Shape{1, 64, 56, 56});
  CHECK(o.row("layer1.2.after.0")->output == Shape{1, 64, 56, 56});
  CHECK(o.row("layer2.3.after.0")->output == Shape{1, 128, 28, 28});
  CHECK(o.row("layer3.5.after.0")->output == Shape{1, 256, 14, 14});
  CHECK(o.row("layer4.2.after.0")->output == Shape{1, 512, 7, 7});
  CHECK(o.row("fc")->output == Shape{1, 1000});
  // _make_layer: every stage's first block has the 1x1 shortcut, later ones none.
  for (const char* s : {"layer1", "layer2", "layer3", "layer4"}) {
    CHECK(o.row(std::string(s) + ".0.shortcut.0") != nullptr);
    CHECK(o.row(std::string(s) + ".1.shortcut.0") == nullptr);
  }
  CHECK(o.row("pre.0")->params == 9408);  // 64·3·7·7, no bias
}

TEST_CASE("torchvision and classic networks") {
  struct Case { const char* file; int64_t params; Shape out; };
  for (const Case& c : {Case{"resnet18.json", 11689512, {1, 1000}},
                        Case{"resnet50.json", 25557032, {1, 1000}},
                        Case{"vgg16.json", 138357544, {1, 1000}},
                        Case{"alexnet.json", 61100840, {1, 1000}},
                        Case{"lenet5.json", 61706, {1, 10}}}) {
    CAPTURE(c.file);
    auto o = spec(c.file);
    REQUIRE(o.valid());
    CHECK(o.eval.params == c.params);
    CHECK(*o.eval.output == c.out);
  }
  // AlexNet's feature map before the adaptive pool is 6x6 at 224 (torchvision).
  CHECK(spec("alexnet.json").row("features.12")->output == Shape{1, 256, 6, 6});
  // VGG16's last max-pool leaves 7x7x512 (Simonyan & Zisserman).
  CHECK(spec("vgg16.json").row("features.30")->output == Shape{1, 512, 7, 7});
  CHECK(spec("resnet50.json").row("layer4.2.after.0")->output == Shape{1, 2048, 7, 7});
}

TEST_CASE("every broken spec is invalid") {
  for (const char* f : {"missing_shortcut.json", "fc_in_features.json", "typos.json",
                        "pool_padding.json", "too_small.json", "malformed.json", "lenet_view.json"}) {
    CAPTURE(f);
    CHECK_FALSE(spec(std::string("broken/") + f).valid());
  }
}

TEST_CASE("multiply-accumulates, buffers and receptive fields reproduce published figures") {
  // MACs at 1x3x224x224: torchvision publishes ResNet18 1.814, ResNet50 4.089,
  // VGG16 15.47, AlexNet 0.714 "GFLOPS" (multiply-adds of convs and linears);
  // the exact counts are these. The seed's ResNet34 has layer1.0's extra 1x1
  // shortcut: torchvision's 3,663,761,408 + 56·56·64·64 = 3,676,606,464.
  struct Case { const char* file; int64_t macs; };
  for (const Case& c : {Case{"resnet18.json", 1814073344}, Case{"resnet50.json", 4089184256},
                        Case{"resnet34.json", 3676606464}, Case{"vgg16.json", 15470264320},
                        Case{"alexnet.json", 714188480}}) {
    CAPTURE(c.file);
    auto o = spec(c.file);
    REQUIRE(o.valid());
    CHECK(o.eval.macs == c.macs);
  }
  // Buffers: PyTorch 1.13, sum(b.numel() for b in torchvision.models.X().buffers()):
  // every BatchNorm2d keeps running_mean and running_var (C each) and
  // num_batches_tracked (1).
  CHECK(spec("resnet18.json").eval.buffers == 9620);
  CHECK(spec("resnet50.json").eval.buffers == 53173);
  CHECK(spec("vgg16.json").eval.buffers == 0);
  // VGG16's last max-pool: receptive field 212, effective stride 32 (Araujo et
  // al., "Computing Receptive Fields of Convolutional Neural Networks", Distill 2019).
  auto vgg = spec("vgg16.json");
  const Row* pool5 = vgg.row("features.30");
  REQUIRE(pool5->receptive_field);
  CHECK(pool5->receptive_field->at(0).size == 212);
  CHECK(pool5->receptive_field->at(0).jump == 32);
  CHECK(pool5->receptive_field->at(1).size == 212);
  // After Flatten every feature sees the whole input.
  CHECK_FALSE(vgg.row("classifier.0")->receptive_field);
  // LeNet-5 by hand: conv5 → 5; pool2 → 5 + 1 = 6, jump 2; conv5 → 6 + 4·2 = 14;
  // pool2 → 14 + 1·2 = 16, jump 4.
  auto lenet = spec("lenet5.json");
  CHECK(lenet.row("pool2")->receptive_field->at(0).size == 16);
  CHECK(lenet.row("pool2")->receptive_field->at(0).jump == 4);
  // Activation bytes: float32 numel·4; conv1's output 6·28·28·4 = 18,816.
  CHECK(lenet.row("conv1")->activation_bytes == 18816);
}

// Networks whose branches concatenate. Parameter counts and "GFLOPS" (MACs)
// from torchvision's model docs; buffers from PyTorch 1.13,
// sum(b.numel() for b in torchvision.models.X().buffers()) (googlenet with
// aux_logits=False); exact MACs are those figures before rounding.
TEST_CASE("graph networks: SqueezeNet, GoogLeNet, DenseNet-121, ResNeXt-50") {
  struct Case { const char* file; int64_t params, buffers; double gmacs; };
  for (const Case& c : {Case{"squeezenet1_0.json", 1248424, 0, 0.82},
                        Case{"googlenet.json", 6624904, 14617, 1.50},
                        Case{"densenet121.json", 7978856, 83769, 2.83},
                        Case{"resnext50_32x4d.json", 25028904, 68277, 4.23}}) {
    CAPTURE(c.file);
    auto o = spec(c.file);
    REQUIRE(o.valid());
    CHECK(o.eval.params == c.params);
    CHECK(o.eval.buffers == c.buffers);
    CHECK(*o.eval.output == Shape{1, 1000});
    CHECK(static_cast<double>(o.eval.macs) / 1e9 == doctest::Approx(c.gmacs).epsilon(0.005));
  }
  // Shapes PyTorch's forward hooks report at 1x3x224x224:
  // SqueezeNet's first Fire concatenates 64 + 64 channels at 54x54 (ceil_mode pools).
  CHECK(spec("squeezenet1_0.json").row("features.3.expand")->output == Shape{1, 128, 54, 54});
  // GoogLeNet's inception3a: 64 + 128 + 32 + 32 = 256 channels at 28x28; 5b ends at 1024x7x7.
  auto g = spec("googlenet.json");
  CHECK(g.row("inception3a")->output == Shape{1, 256, 28, 28});
  CHECK(g.row("inception5b")->output == Shape{1, 1024, 7, 7});
  // DenseNet-121: 64 + 6·32 = 256 channels after denseblock1; 1024 at the end.
  auto d = spec("densenet121.json");
  CHECK(d.row("features.denseblock1.5")->output == Shape{1, 256, 56, 56});
  CHECK(d.row("features.norm5")->output == Shape{1, 1024, 7, 7});
  // ResNeXt's grouped 3x3: 32 groups, 128 channels in layer1 (4 per group · 32).
  CHECK(spec("resnext50_32x4d.json").row("layer1.0.body.3")->params == 128 * (128 / 32) * 3 * 3);
}

// Mobile networks and Inception v3 (#10). Parameter counts and GFLOPS from
// torchvision's model docs (inception_v3 without its aux classifier: 23,834,568,
// as torchvision.models.inception_v3(aux_logits=False) counts it; 5.71 GFLOPS);
// buffers from PyTorch 1.13 as above. Every named module's output shape was
// also compared with torchvision's forward hooks (tools/torchvision-compare.py).
TEST_CASE("mobile networks and Inception v3: MobileNetV2, MobileNetV3-Small, EfficientNet-B0, ShuffleNetV2") {
  struct Case { const char* file; int64_t params, buffers; double gmacs; };
  for (const Case& c : {Case{"mobilenet_v2.json", 3504872, 34164, 0.30},
                        Case{"mobilenet_v3_small.json", 2542856, 12146, 0.06},
                        Case{"efficientnet_b0.json", 5288548, 42065, 0.39},
                        Case{"inception_v3.json", 23834568, 34526, 5.71},
                        Case{"shufflenet_v2_x1_0.json", 2278604, 16236, 0.14}}) {
    CAPTURE(c.file);
    auto o = spec(c.file);
    REQUIRE(o.valid());
    CHECK(o.eval.params == c.params);
    CHECK(o.eval.buffers == c.buffers);
    CHECK(*o.eval.output == Shape{1, 1000});
    // The docs round to two decimals.
    CHECK(std::abs(static_cast<double>(o.eval.macs) / 1e9 - c.gmacs) <= 0.005);
  }
  // MobileNetV2's first inverted residual with a skip (features.3: 24 -> 24,
  // stride 1) keeps 56x56; the last block ends at 320x7x7 (Sandler et al., table 2).
  auto v2 = spec("mobilenet_v2.json");
  CHECK(v2.row("features.3")->output == Shape{1, 24, 56, 56});
  CHECK(v2.row("features.17.conv.3")->output == Shape{1, 320, 7, 7});  // no skip: no add row
  // The SE gate of MobileNetV3-Small's first block: 16 -> 8 -> 16 channels at 1x1.
  CHECK(spec("mobilenet_v3_small.json").row("features.1.block.1.scale.fc2")->output == Shape{1, 16, 1, 1});
  // ShuffleNetV2: a stride-1 unit keeps half the channels and computes the other half: 58 + 58 = 116.
  auto sh = spec("shufflenet_v2_x1_0.json");
  CHECK(sh.row("stage2.1.branch1.first_half")->output == Shape{1, 58, 28, 28});
  CHECK(sh.row("stage2.1")->output == Shape{1, 116, 28, 28});
  CHECK(sh.row("stage4.3.after.shuffle")->output == Shape{1, 464, 7, 7});
  // Inception v3: 35x35x288 after Mixed_5d, 17x17x768 after Mixed_6e, 8x8x2048 after Mixed_7c.
  auto inc = spec("inception_v3.json");
  CHECK(inc.row("Mixed_5d")->output == Shape{1, 288, 35, 35});
  CHECK(inc.row("Mixed_6e")->output == Shape{1, 768, 17, 17});
  CHECK(inc.row("Mixed_7c")->output == Shape{1, 2048, 8, 8});
}

// PyTorch 1.13: nn.Sequential(conv3x3, BN, ReLU, conv3x3, BN,
// torchvision.ops.SqueezeExcitation(64, 4)) has 74,564 parameters and 258
// buffers: 2·64·64·9 + 2·128 + (64·4 + 4) + (4·64 + 64); BN 2·(2·64 + 1).
TEST_CASE("squeeze-and-excitation: a [N, C, 1, 1] gate multiplies [N, C, H, W]") {
  auto o = spec("se_resnet_block.json");
  REQUIRE(o.valid());
  CHECK(o.eval.params == 74564);
  CHECK(o.eval.buffers == 258);
  CHECK(o.row("block.body.se")->inputs == std::vector<Shape>{{1, 64, 56, 56}, {1, 64, 1, 1}});
  CHECK(o.row("block.body.se")->output == Shape{1, 64, 56, 56});
}

// U-Net (Ronneberger et al. 2015): 572x572 in, 388x388x2 out; 31,030,658
// parameters with 1x1 final conv and 2x2 up-convolutions (the double convs
// 18,842,048 + 9,402,240, the up-convs 2,786,240, the head 130). PyTorch 1.13
// runs the same network at 188x188 but not at 187 (tried in Python). The
// paper's sizes are those where every 2x2 pool sees an even map: 572, 556, …
// are 12 mod 16.
TEST_CASE("U-Net: transposed convs, crop-and-concatenate skips, and its valid sizes") {
  auto o = spec("unet.json");
  REQUIRE(o.valid());
  CHECK(o.eval.params == 31030658);
  CHECK(*o.eval.output == Shape{1, 2, 388, 388});
  CHECK(o.row("cat4")->inputs == std::vector<Shape>{{1, 512, 56, 56}, {1, 512, 56, 56}});  // 64 cropped to 56
  auto parsed = parse_spec(slurp(std::string(NETSHAPE_SOURCE_DIR) + "/specs/unet.json"));
  REQUIRE(parsed.spec);
  DimAnalysis h = analyse_dim(*parsed.spec, o.eval, 2);
  REQUIRE(h.error == "");
  CHECK(h.valid.smallest() == 188);
  for (int64_t x : {188, 556, 572}) CHECK(h.clean.contains(x));
  for (int64_t x : {571, 573, 564}) CHECK_FALSE(h.clean.contains(x));
}

// PyTorch's DCGAN tutorial, nz 100, ngf 64: 3,576,704 parameters and 1,924
// buffers in PyTorch 1.13; 1x100x1x1 noise → 1x3x64x64.
TEST_CASE("the DCGAN generator: transposed convs enlarge 1x1 to 64x64") {
  auto o = spec("dcgan_generator.json");
  REQUIRE(o.valid());
  CHECK(o.eval.params == 3576704);
  CHECK(o.eval.buffers == 1924);
  CHECK(*o.eval.output == Shape{1, 3, 64, 64});
  CHECK(o.row("main.0")->output == Shape{1, 512, 4, 4});  // (1 − 1)·1 − 0 + 3 + 0 + 1 = 4
  CHECK(o.row("main.3")->output == Shape{1, 256, 8, 8});  // (4 − 1)·2 − 2 + 3 + 0 + 1 = 8
}

// 1-d and 3-d networks (#10).
// M5 (Dai et al. 2017, table 1: "0.5M" parameters) on 1x1x8000, by hand:
// conv1 k80 s4: ⌊(8000 − 80)/4⌋ + 1 = 1981; pool 4: 495; k3: 493; pool: 123;
// k3: 121; pool: 30; k3: 28; pool: 7. Parameters 1·128·80 + 128 = 10,368;
// 128·128·3 + 128 = 49,280; 128·256·3 + 256 = 98,560; 256·512·3 + 512 =
// 393,728; BatchNorms 2·(128 + 128 + 256 + 512) = 2,048; fc 512·10 + 10 =
// 5,130: 559,114 (PyTorch 1.13 counts the same, and 2,052 buffers).
// r3d_18: torchvision's 33,371,472 parameters; buffers 9,620 as PyTorch 1.13
// counts them; 1x3x16x112x112 → stem 64x16x56x56, layer4 512x2x7x7.
TEST_CASE("1-d and 3-d networks: M5 and R3D-18") {
  auto m5 = spec("m5.json");
  REQUIRE(m5.valid());
  CHECK(m5.eval.params == 559114);
  CHECK(m5.eval.buffers == 2052);
  CHECK(m5.row("conv1")->output == Shape{1, 128, 1981});
  CHECK(m5.row("pool1")->output == Shape{1, 128, 495});
  CHECK(m5.row("pool4")->output == Shape{1, 512, 7});
  CHECK(*m5.eval.output == Shape{1, 10});
  // The receptive field of pool4 in samples: conv1 80 (jump 4); pool 4 → 80 + 3·4 = 92, jump 16;
  // conv 3 → 92 + 2·16 = 124; pool → 124 + 3·16 = 172, jump 64; conv → 300; pool → 492, jump 256;
  // conv → 1004; pool → 1004 + 3·256 = 1772, jump 1024.
  REQUIRE(m5.row("pool4")->receptive_field);
  CHECK(m5.row("pool4")->receptive_field->size() == 1);
  CHECK(m5.row("pool4")->receptive_field->at(0).size == 1772);
  CHECK(m5.row("pool4")->receptive_field->at(0).jump == 1024);

  auto r3d = spec("r3d_18.json");
  REQUIRE(r3d.valid());
  CHECK(r3d.eval.params == 33371472);
  CHECK(r3d.eval.buffers == 9620);
  CHECK(r3d.row("stem.0")->output == Shape{1, 64, 16, 56, 56});
  CHECK(r3d.row("layer4.1")->output == Shape{1, 512, 2, 7, 7});
  CHECK(*r3d.eval.output == Shape{1, 400});
}

// ESPCN (Shi et al. 2016) with r = 3 on one 224x224 channel. By hand:
// 1·64·5·5 + 64 = 1,664; 64·32·3·3 + 32 = 18,464; 32·9·3·3 + 9 = 2,601:
// 22,729 (PyTorch 1.13 counts the same); PixelShuffle(3): [1, 9, 224, 224]
// → [1, 1, 672, 672].
TEST_CASE("PixelShuffle: ESPCN") {
  auto e = spec("espcn.json");
  REQUIRE(e.valid());
  CHECK(e.eval.params == 22729);
  CHECK(e.row("conv3")->output == Shape{1, 9, 224, 224});
  CHECK(*e.eval.output == Shape{1, 1, 672, 672});
  CHECK_FALSE(e.row("pixel_shuffle")->receptive_field);  // a fractional jump is not tracked
}

// Beyond the conv stack (#22), imported from torchvision 0.14. Parameters from
// torchvision's model docs: ConvNeXt-T 28,589,128 (4.46 GFLOPS);
// FCN-ResNet50 35,322,218 with its aux
// classifier, whose FCNHead(1024, 21) holds 1024·256·9 + 2·256 + 256·21 + 21 =
// 2,365,205: 32,957,013 without it. The segmentation heads return to the
// input's size for every input size (F.interpolate(size=input.shape[-2:]));
// PyTorch 1.13 gives [1, 21, h, 224] for h = 1, 2, 13, 37.
TEST_CASE("ConvNeXt-T and the segmentation heads: learned layer scales, channels-last Linears, size_from") {
  auto c = spec("convnext_tiny.json");
  REQUIRE(c.valid());
  CHECK(c.eval.params == 28589128);
  CHECK(std::abs(static_cast<double>(c.eval.macs) / 1e9 - 4.46) <= 0.005);
  CHECK(c.row("features.1.0.block.3")->input == Shape{1, 56, 56, 96});  // Linear on channels-last
  CHECK(c.row("features.1.0.layer_scale")->params == 96);
  CHECK(c.row("features.7.2.add_17")->output == Shape{1, 768, 7, 7});
  CHECK_FALSE(c.has("linear-rank"));  // each Linear follows a Permute: meant
  // Through the channels-last blocks symbolically: PyTorch 1.13 refuses H = 31
  // ("Kernel size can't be greater than actual input size" at features.6.1) and takes 32, 33, 63.
  auto cp = parse_spec(slurp(std::string(NETSHAPE_SOURCE_DIR) + "/specs/convnext_tiny.json"));
  REQUIRE(cp.spec);
  DimAnalysis ch = analyse_dim(*cp.spec, c.eval, 2);
  REQUIRE(ch.error == "");
  CHECK(ch.valid.smallest() == 32);
  for (int64_t x : {32, 33, 63}) CHECK(ch.valid.contains(x));
  struct Case { const char* file; int64_t params; };
  for (const Case& s : {Case{"fcn_resnet50.json", 32957013}}) {
    CAPTURE(s.file);
    auto o = spec(s.file);
    REQUIRE(o.valid());
    CHECK(o.eval.params == s.params);
    CHECK(*o.eval.output == Shape{1, 21, 224, 224});
    CHECK_FALSE(o.has("conv-padding"));  // dilated 3×3 kernels padded to their span
    auto parsed = parse_spec(slurp(std::string(NETSHAPE_SOURCE_DIR) + "/specs/" + s.file));
    REQUIRE(parsed.spec);
    for (int axis : {2, 3}) {
      DimAnalysis d = analyse_dim(*parsed.spec, o.eval, axis);
      REQUIRE(d.error == "");
      CHECK(d.valid.smallest() == 1);
      for (int64_t x : {1, 2, 13, 37}) CHECK(d.valid.contains(x));
      REQUIRE_FALSE(d.forms.empty());
      CHECK(qdim_text(d.forms.back().second, d.dim) == d.dim);  // the output is the input's size
    }
  }
}

// ViT-B/16's input side: torchvision 0.14's vit_b_16 has conv_proj 590,592, class_token 768,
// encoder.pos_embedding 151,296 and heads 769,000 parameters. The 197-token position embedding fixes
// the input: PyTorch 1.13 adds it at H = 224 and 239, and refuses 223 and 240 ("The size of tensor a
// (183) must match the size of tensor b (197) at non-singleton dimension 1").
TEST_CASE("ViT's patch embedding: 196 patches, a class token, a broadcast position embedding, and the sizes it accepts") {
  auto v = spec("vit_patch_embedding.json");
  REQUIRE(v.valid());
  CHECK(v.row("conv_proj")->params == 590592);
  CHECK(v.row("class_token")->params == 768);
  CHECK(v.row("pos_embedding")->params == 151296);
  CHECK(v.row("head")->params == 769000);
  CHECK(v.row("tokens")->output == Shape{2, 196, 768});
  CHECK(v.row("cat")->output == Shape{2, 197, 768});
  CHECK(*v.eval.output == Shape{2, 1000});
  auto parsed = parse_spec(slurp(std::string(NETSHAPE_SOURCE_DIR) + "/specs/vit_patch_embedding.json"));
  REQUIRE(parsed.spec);
  for (int axis : {2, 3}) {
    DimAnalysis d = analyse_dim(*parsed.spec, v.eval, axis);
    REQUIRE(d.error == "");
    auto desc = d.valid.describe();
    REQUIRE(desc.ranges.size() == 1);
    CHECK(desc.ranges[0] == std::pair<int64_t, int64_t>{224, 239});
  }
}
