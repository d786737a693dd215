// The layer kinds netshape understands, with PyTorch's names and defaults.
//
// Adding a kind: one struct here, one entry in `Kind`, then the compiler points
// at every std::visit that lacks a case (parse.cc, evaluate.cc, torch_net.cc)
// — and its tests.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace netshape {

using Shape = std::vector<int64_t>;
struct Pair { int64_t h = 0, w = 0; };

enum class Padding { explicit_, same, valid };

struct Conv2d {
  std::optional<int64_t> in_channels;  // inferred from the input when absent
  int64_t out_channels = 0;
  Pair kernel_size, stride{1, 1}, padding{0, 0}, dilation{1, 1};
  Padding padding_mode = Padding::explicit_;  // "same"/"valid" strings
  int64_t groups = 1;
  bool bias = true;
};
// The zeros a conv adds before and after, per dim: "valid" adds none, and
// "same" adds dilation·(kernel − 1) in total, the odd one after, as PyTorch does.
struct ConvPads { Pair before, after; };
inline ConvPads conv_pads(const Conv2d& k) {
  if (k.padding_mode == Padding::valid) return {{0, 0}, {0, 0}};
  if (k.padding_mode == Padding::explicit_) return {k.padding, k.padding};
  Pair total{k.dilation.h * (k.kernel_size.h - 1), k.dilation.w * (k.kernel_size.w - 1)};
  Pair before{total.h / 2, total.w / 2};
  return {before, {total.h - before.h, total.w - before.w}};
}

struct BatchNorm2d {
  std::optional<int64_t> num_features;
  double eps = 1e-5, momentum = 0.1;
  bool affine = true, track_running_stats = true;
};
struct ReLU { bool inplace = false; };
struct MaxPool2d {
  Pair kernel_size, stride, padding{0, 0}, dilation{1, 1};  // stride defaults to kernel_size
  bool ceil_mode = false;
};
struct AvgPool2d {
  Pair kernel_size, stride, padding{0, 0};
  bool ceil_mode = false, count_include_pad = true;
};
// output_size entries of 0 stand for PyTorch's None: keep that input dim.
struct AdaptiveAvgPool2d { Pair output_size; };
struct AdaptiveMaxPool2d { Pair output_size; };
struct Flatten { int64_t start_dim = 1, end_dim = -1; };
struct Linear {
  std::optional<int64_t> in_features;
  int64_t out_features = 0;
  bool bias = true;
};
struct Dropout { double p = 0.5; bool inplace = false; };

struct Node;
using Layers = std::vector<Node>;
struct Sequential { Layers layers; };
// The output is body(x) + shortcut(x) (identity when there is no shortcut),
// then the `after` layers (the seed's ReLU after the add).
struct Residual { Layers body, shortcut, after; };

using Kind = std::variant<Conv2d, BatchNorm2d, ReLU, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d,
                          AdaptiveMaxPool2d, Flatten, Linear, Dropout, Sequential, Residual>;

// The spec's name of each kind, in the order of `Kind`.
inline constexpr const char* kKindNames[] = {
    "Conv2d",  "BatchNorm2d", "ReLU",   "MaxPool2d", "AvgPool2d",  "AdaptiveAvgPool2d",
    "AdaptiveMaxPool2d", "Flatten", "Linear", "Dropout", "Sequential", "Residual"};
static_assert(std::size(kKindNames) == std::variant_size_v<Kind>,
              "every layer kind needs its spec name");

inline const char* kind_name(const Kind& k) { return kKindNames[k.index()]; }

// std::visit over Kind with one lambda per kind: a kind without its case does not compile.
template <class... Ts> struct overloaded : Ts... { using Ts::operator()...; };
template <class... Ts> overloaded(Ts...) -> overloaded<Ts...>;

struct Node {
  std::string name;     // dotted, as PyTorch's named_modules() prints it: "layer2.0.body.3"
  std::string pointer;  // JSON Pointer of the layer object in the spec file
  std::string block;    // the block it was instantiated from, if any
  Kind kind;
};

struct Spec {
  std::string name;
  Shape input;
  // A named input dim ("N", "H", "W") is "" here when numeric. Named dims get a
  // representative size in `input` (symbolic.h: resolve_named_input) and
  // closed forms in the table.
  std::vector<std::string> input_names;
  std::string input_pointer = "/input";
  Layers layers;
};

}  // namespace netshape
