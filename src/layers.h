// The layer kinds netshape understands: one struct per family with the values
// a spec gave (the parser fills every field). Their names, arguments and
// PyTorch's defaults are declared once, in the kind table (kinds.h/kinds.cc).
//
// Adding a kind: docs/architecture.md#adding-a-layer-kind.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

namespace netshape {

using Shape = std::vector<int64_t>;
// One value per spatial dim (kernel_size, stride, …): 1 for the 1-d kinds
// ([length]), 2 for 2-d ([height, width]), 3 for 3-d ([depth, height, width]).
using Dims = std::vector<int64_t>;

enum class Padding { explicit_, same, valid };

// How messages name spatial dim d (0-based) of a rank-r map, and its letter.
inline const char* spatial_unit(std::size_t rank, std::size_t d) {
  static const char* const units[3][3] = {{"positions"}, {"rows", "columns"}, {"depth slices", "rows", "columns"}};
  return rank >= 1 && rank <= 3 && d < rank ? units[rank - 1][d] : "positions";
}
inline const char* spatial_letter(std::size_t rank, std::size_t d) {
  static const char* const letters[3][3] = {{"L"}, {"H", "W"}, {"D", "H", "W"}};
  return rank >= 1 && rank <= 3 && d < rank ? letters[rank - 1][d] : "X";
}
// "[length]", "[height, width]", "[depth, height, width]": a list argument's form.
inline const char* dims_form(int rank) {
  return rank == 1 ? "[length]" : rank == 3 ? "[depth, height, width]" : "[height, width]";
}

// The kinds that come in 1-d, 2-d and 3-d (Conv1d/2d/3d, …): one struct per
// family with its `rank`; `names` gives PyTorch's name for each rank.
struct Conv {
  static constexpr const char* names[3] = {"Conv1d", "Conv2d", "Conv3d"};
  int rank = 2;
  std::optional<int64_t> in_channels;  // inferred from the input when absent
  int64_t out_channels = 0;
  Dims kernel_size, stride, padding, dilation;
  Padding padding_mode = Padding::explicit_;  // "same"/"valid" strings
  int64_t groups = 0;
  bool bias = false;
};
// The zeros a conv adds before and after, per dim: "valid" adds none, and
// "same" adds dilation·(kernel − 1) in total, the odd one after, as PyTorch does.
struct ConvPads { Dims before, after; };
inline ConvPads conv_pads(const Conv& k) {
  std::size_t r = k.kernel_size.size();
  if (k.padding_mode == Padding::valid) return {Dims(r, 0), Dims(r, 0)};
  if (k.padding_mode == Padding::explicit_) return {k.padding, k.padding};
  ConvPads p{Dims(r), Dims(r)};
  for (std::size_t d = 0; d < r; ++d) {
    int64_t total = k.dilation[d] * (k.kernel_size[d] - 1);
    p.before[d] = total / 2;
    p.after[d] = total - total / 2;
  }
  return p;
}

// torch.nn.ConvTranspose1d/2d/3d: the conv's gradient, which enlarges a map
// (DCGAN's generator, U-Net's up-convolutions). padding is int or list only.
struct ConvTranspose {
  static constexpr const char* names[3] = {"ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d"};
  int rank = 2;
  std::optional<int64_t> in_channels;
  int64_t out_channels = 0;
  Dims kernel_size, stride, padding, output_padding, dilation;
  int64_t groups = 0;
  bool bias = false;
};

// BatchNorm1d takes [N, C] or [N, C, L]; 2d [N, C, H, W]; 3d [N, C, D, H, W].
struct BatchNorm {
  static constexpr const char* names[3] = {"BatchNorm1d", "BatchNorm2d", "BatchNorm3d"};
  int rank = 2;
  std::optional<int64_t> num_features;
  double eps = 0, momentum = 0;
  bool affine = false, track_running_stats = false;
};
struct ReLU {
  static constexpr const char* kType = "ReLU";
  bool inplace = false;
};
// A pool's kernel_size read from another value, as F.avg_pool2d(x, x.size(3))
// (the CIFAR ResNet's global pool): per spatial dim, that dim of the node's
// size_from value; the stride follows where it was not given, as PyTorch's
// stride=None. Evaluation puts the numbers in (read_kernel).
struct KernelRead {
  std::vector<std::optional<int64_t>> from_dim;  // empty: a kernel of numbers
  bool stride_follows = false;
};
struct MaxPool {
  static constexpr const char* names[3] = {"MaxPool1d", "MaxPool2d", "MaxPool3d"};
  int rank = 2;
  Dims kernel_size, stride, padding, dilation;  // stride defaults to kernel_size
  bool ceil_mode = false;
  KernelRead read;
};
// LPPool1d/2d (norm_type > 0) is F.avg_pool of x^p with padding 0, then the
// p-th root: the same windows, so the same family.
struct AvgPool {
  static constexpr const char* names[3] = {"AvgPool1d", "AvgPool2d", "AvgPool3d"};
  int rank = 2;
  Dims kernel_size, stride, padding;
  bool ceil_mode = false, count_include_pad = false;
  double norm_type = 0;  // LPPool's p; 0 for AvgPool
  std::optional<int64_t> divisor_override;  // AvgPool2d/3d: what a window's sum is divided by
  KernelRead read;
  const char* name() const {
    static const char* const lp[3] = {"LPPool1d", "LPPool2d", "LPPool3d"};
    return norm_type > 0 ? lp[rank - 1] : names[rank - 1];
  }
};
// The pool with its kernel read from `y`, the size_from value's shape (a
// dim past y's rank is left as it is: evaluation reports it).
template <class Pool> Pool read_kernel(Pool k, const Shape& y) {
  auto rank = static_cast<int64_t>(y.size());
  for (std::size_t i = 0; i < k.read.from_dim.size() && i < k.kernel_size.size(); ++i) {
    if (!k.read.from_dim[i]) continue;
    int64_t d = *k.read.from_dim[i] < 0 ? *k.read.from_dim[i] + rank : *k.read.from_dim[i];
    if (d < 0 || d >= rank) continue;
    k.kernel_size[i] = y[static_cast<std::size_t>(d)];
    if (k.read.stride_follows) k.stride[i] = k.kernel_size[i];
  }
  return k;
}
// output_size entries of 0 stand for PyTorch's None: keep that input dim.
struct AdaptiveAvgPool {
  static constexpr const char* names[3] = {"AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d"};
  int rank = 2;
  Dims output_size;
};
struct AdaptiveMaxPool {
  static constexpr const char* names[3] = {"AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "AdaptiveMaxPool3d"};
  int rank = 2;
  Dims output_size;
};
struct Flatten {
  static constexpr const char* kType = "Flatten";
  int64_t start_dim = 0, end_dim = 0;
};
struct Linear {
  static constexpr const char* kType = "Linear";
  std::optional<int64_t> in_features;
  int64_t out_features = 0;
  bool bias = false;
};
// Dropout and its variants: the shape is unchanged (identity in eval mode).
// rank 1/2/3: Dropout1d/2d/3d (whole channels); alpha: AlphaDropout, with
// rank > 0 FeatureAlphaDropout.
struct Dropout {
  double p = 0;
  bool inplace = false;
  int rank = 0;
  bool alpha = false;
  // torchvision.ops.StochasticDepth(p, mode): drops whole residual branches
  // while training (per sample in "row" mode, the whole batch in "batch").
  bool stochastic = false, row_mode = false;
  const char* name() const {
    static const char* const plain[4] = {"Dropout", "Dropout1d", "Dropout2d", "Dropout3d"};
    if (stochastic) return "StochasticDepth";
    return alpha ? (rank ? "FeatureAlphaDropout" : "AlphaDropout") : plain[rank];
  }
};

// Element-wise functions of torch.nn: the shape is unchanged and there are no
// parameters. One struct for the family; kPointwise is its table.
enum class Fn {
  relu6, sigmoid, tanh, silu, gelu, elu, selu, celu, leaky_relu, hardswish, hardsigmoid,
  hardtanh, mish, softplus, identity, softsign, softshrink, hardshrink, tanhshrink, log_sigmoid, rrelu, threshold
};
struct Pointwise {
  Fn fn = Fn::identity;
  bool inplace = false;
  std::vector<double> args;  // in the order of the table's argument names
  bool tanh_gelu = false;    // GELU(approximate="tanh")
};
struct PointwiseKind {
  const char* name;  // PyTorch's
  Fn fn;
  std::vector<std::pair<const char*, double>> args;  // name and default
  bool inplace;      // takes `inplace`
  const char* formula;
};
inline const std::vector<PointwiseKind>& pointwise_kinds() {
  static const std::vector<PointwiseKind> k = {
      {"ReLU6", Fn::relu6, {}, true, "min(max(0, x), 6)"},
      {"Sigmoid", Fn::sigmoid, {}, false, "1 / (1 + e^−x)"},
      {"Tanh", Fn::tanh, {}, false, "tanh(x)"},
      {"SiLU", Fn::silu, {}, true, "x · sigmoid(x)"},
      {"GELU", Fn::gelu, {}, false, "x · Φ(x)"},
      {"ELU", Fn::elu, {{"alpha", 1.0}}, true, "x if x > 0 else alpha·(e^x − 1)"},
      {"SELU", Fn::selu, {}, true, "scale · ELU(x, 1.6733)"},
      {"CELU", Fn::celu, {{"alpha", 1.0}}, true, "max(0, x) + min(0, alpha·(e^(x/alpha) − 1))"},
      {"LeakyReLU", Fn::leaky_relu, {{"negative_slope", 0.01}}, true, "x if x ≥ 0 else negative_slope·x"},
      {"Hardswish", Fn::hardswish, {}, true, "x · ReLU6(x + 3) / 6"},
      {"Hardsigmoid", Fn::hardsigmoid, {}, true, "ReLU6(x + 3) / 6"},
      {"Hardtanh", Fn::hardtanh, {{"min_val", -1.0}, {"max_val", 1.0}}, true, "clamp(x, min_val, max_val)"},
      {"Mish", Fn::mish, {}, true, "x · tanh(softplus(x))"},
      {"Softplus", Fn::softplus, {{"beta", 1.0}, {"threshold", 20.0}}, false, "log(1 + e^(beta·x)) / beta"},
      {"Identity", Fn::identity, {}, false, "x"},
      {"Softsign", Fn::softsign, {}, false, "x / (1 + |x|)"},
      {"Softshrink", Fn::softshrink, {{"lambd", 0.5}}, false, "x − lambd·sign(x) if |x| > lambd else 0"},
      {"Hardshrink", Fn::hardshrink, {{"lambd", 0.5}}, false, "x if |x| > lambd else 0"},
      {"Tanhshrink", Fn::tanhshrink, {}, false, "x − tanh(x)"},
      {"LogSigmoid", Fn::log_sigmoid, {}, false, "log(1 / (1 + e^−x))"},
      // In eval mode RReLU is LeakyReLU with slope (lower + upper) / 2.
      {"RReLU", Fn::rrelu, {{"lower", 1.0 / 8}, {"upper", 1.0 / 3}}, true, "x if x ≥ 0 else a·x, a = (lower + upper)/2 in eval"},
      // PyTorch's Threshold has no defaults: the parser requires both.
      {"Threshold", Fn::threshold, {{"threshold", 0.0}, {"value", 0.0}}, true, "x if x > threshold else value"},
  };
  return k;
}
inline const PointwiseKind& pointwise_kind(Fn fn) { return pointwise_kinds()[static_cast<std::size_t>(fn)]; }

// Resizing (#10). torch.nn.Upsample and its fixed-mode forms run
// F.interpolate: per spatial dim, `size`, or ⌊in·scale_factor⌋ computed in
// double precision (ATen's _interp_output_size / compute_output_size).
enum class Interp { nearest, nearest_exact, linear, bilinear, bicubic, trilinear, area };
inline const char* interp_name(Interp m) {
  static const char* const names[] = {"nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear", "area"};
  return names[static_cast<int>(m)];
}
struct Upsample {
  static constexpr const char* kinds[3] = {"Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d"};
  int kind = 0;               // index into kinds: the last two fix the mode
  Dims size;                  // one per spatial dim or one for all; empty when scale is given
  std::vector<double> scale;  // likewise
  Interp mode = Interp::nearest;
  std::optional<bool> align_corners;
  bool size_from = false;     // the spatial size of the node's size_from value (F.interpolate(x, size=y.shape[2:]))
  bool listed = false;        // size or scale written as a list: one per spatial dim, as F.interpolate checks
  const char* name() const { return kinds[kind]; }
};

// The padding layers: F.pad with PyTorch's per-side sizes, the last dim first
// (left, right, top, bottom, front, back).
enum class PadMode { constant, reflect, replicate };
struct Pad {
  PadMode mode = PadMode::constant;
  int rank = 2;       // how many trailing dims it pads
  bool zero = false;  // ZeroPad1d/2d/3d: constant 0
  Dims pads;          // 2·rank sizes
  double value = 0;
  // "size_from": to that value's sizes in the last `rank` dims, diff // 2
  // before and the rest after (a U-Net's F.pad(x1, [diffX // 2, diffX -
  // diffX // 2, …])); a negative diff crops. Evaluation fills `pads` (pad_to).
  bool to_other = false;
  const char* name() const {
    static const char* const names[4][3] = {{"ConstantPad1d", "ConstantPad2d", "ConstantPad3d"},
                                            {"ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d"},
                                            {"ReplicationPad1d", "ReplicationPad2d", "ReplicationPad3d"},
                                            {"ZeroPad1d", "ZeroPad2d", "ZeroPad3d"}};
    return names[zero ? 3 : static_cast<int>(mode)][rank - 1];
  }
};
// The pad to `y`'s sizes of an input `in` (Pad::to_other); a dim either lacks
// pads 0 (evaluation reports the ranks).
inline Pad pad_to(Pad k, const Shape& in, const Shape& y) {
  k.pads.assign(static_cast<std::size_t>(2 * k.rank), 0);
  for (std::size_t i = 0; i < static_cast<std::size_t>(k.rank) && i < in.size() && i < y.size(); ++i) {
    int64_t diff = y[y.size() - 1 - i] - in[in.size() - 1 - i];
    int64_t before = diff >= 0 ? diff / 2 : -((-diff + 1) / 2);  // Python's diff // 2
    k.pads[2 * i] = before;
    k.pads[2 * i + 1] = diff - before;
  }
  return k;
}

// PixelShuffle(r): [*, C·r², H, W] → [*, C, H·r, W·r]; PixelUnshuffle(r) the reverse.
struct PixelShuffle {
  int64_t factor = 1;
  bool unshuffle = false;
  const char* name() const { return unshuffle ? "PixelUnshuffle" : "PixelShuffle"; }
};
// ChannelShuffle(groups) (ShuffleNet): the channels regrouped, the shape unchanged.
struct ChannelShuffle {
  static constexpr const char* kType = "ChannelShuffle";
  int64_t groups = 1;
};

// Normalisation beyond BatchNorm (#10): the shape is unchanged; the checks
// are on channels and trailing dims.
struct InstanceNorm {
  static constexpr const char* names[3] = {"InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d"};
  int rank = 2;
  std::optional<int64_t> num_features;
  double eps = 0, momentum = 0;
  bool affine = false, track_running_stats = false;
};
struct GroupNorm {
  static constexpr const char* kType = "GroupNorm";
  int64_t num_groups = 0;
  std::optional<int64_t> num_channels;  // inferred from the input when absent
  double eps = 0;
  bool affine = false;
};
struct LayerNorm {
  static constexpr const char* kType = "LayerNorm";
  Shape normalized_shape;  // the trailing dims it normalises over
  double eps = 0;
  bool elementwise_affine = false, bias = false;  // bias=False: PyTorch 2.1+
};
struct LocalResponseNorm {
  static constexpr const char* kType = "LocalResponseNorm";
  int64_t size = 0; double alpha = 0, beta = 0, k = 0;
};

// PReLU: a learned slope, one for all channels or one per channel (dim 1).
struct PReLU {
  static constexpr const char* kType = "PReLU";
  int64_t num_parameters = 0; double init = 0;
};
// Softmax, LogSoftmax, Softmin along `dim`; Softmax2d over the channels of [N, C, H, W].
struct Softmax {
  enum Which { softmax, log_softmax, softmin, softmax2d } which = softmax;
  std::optional<int64_t> dim;  // absent: PyTorch's legacy implicit choice (with a warning)
  const char* name() const {
    static const char* const n[] = {"Softmax", "LogSoftmax", "Softmin", "Softmax2d"};
    return n[which];
  }
};
// Tensor rearrangements (#22): x.permute(*dims) and x.transpose(dim0, dim1)
// reorder the dims; x.reshape(shape) and x.view(shape) give new dims of the
// same element count (one may be -1, inferred). netshape keeps no strides:
// View is Reshape for shapes, with a warning where PyTorch's view may refuse.
struct Permute {
  bool transpose = false;
  Shape dims;                 // Permute: the new order
  int64_t dim0 = 0, dim1 = 0;  // Transpose
  const char* name() const { return transpose ? "Transpose" : "Permute"; }
};
struct Reshape {
  bool view = false;
  Shape shape;  // sizes ≥ 0, at most one -1
  // per size: that dim of the node's size_from value ("x.shape[0]", as the SE
  // block's y.view(b, c, 1, 1) after b, c, _, _ = x.size()); empty when none
  std::vector<std::optional<int64_t>> from_dim;
  const char* name() const { return view ? "View" : "Reshape"; }
};
// x.squeeze(dim) drops a size-1 dim (every one without dim; a dim of
// another size stays, as in PyTorch); x.unsqueeze(dim) inserts one.
struct Squeeze {
  bool unsqueeze = false;
  std::optional<int64_t> dim;
  const char* name() const { return unsqueeze ? "Unsqueeze" : "Squeeze"; }
};
// x.select(dim, index), x[:, 0]: one entry of a dim, which disappears (ViT's class token).
struct Select {
  static constexpr const char* kType = "Select";
  int64_t dim = 0, index = 0;
};
// torch.mean / sum / amax over dims, which disappear (or stay as 1 with keepdim).
struct Reduce {
  enum Op { mean, sum, amax } op = mean;
  Shape dims;
  bool keepdim = false;
  const char* name() const {
    static const char* const n[] = {"Mean", "Sum", "Amax"};
    return n[op];
  }
};
// x.expand(*sizes): size-1 dims repeated without copying (-1 keeps a dim;
// new dims may lead). A view with stride 0 where it repeats.
// A size may be read from another value, as ViT's class_token.expand(n, -1, -1)
// with n = x.shape[0]: written "x.shape[0]", kept in `from_dim` (the node's
// size_from names x).
struct Expand {
  static constexpr const char* kType = "Expand";
  Shape sizes;
  std::vector<std::optional<int64_t>> from_dim;  // per size: that dim of size_from; empty when none
  bool as_other = false;  // x.expand_as(y): every size y's ("size_from": "y", no sizes)
  // As sizes read one by one: rank × "y.shape[d]" (a rank-R size_from value).
  Expand reading(std::size_t rank) const {
    Expand e;
    e.as_other = true;
    e.sizes.assign(rank, -2);
    for (std::size_t d = 0; d < rank; ++d) e.from_dim.push_back(static_cast<int64_t>(d));
    return e;
  }
};
// A learned tensor that takes no input (nn.Parameter read in forward()):
// ViT's class token and position embedding, ConvNeXt's layer scale.
struct Parameter {
  static constexpr const char* kType = "Parameter";
  Shape shape;
};
// torch.roll(x, shifts, dims): the values move round; the shape stays (Swin's shifted windows).
struct Roll {
  static constexpr const char* kType = "Roll";
  Shape shifts, dims;  // dims empty: the flattened tensor rolls
};
// GLU(dim): a ⊗ σ(b), the two halves of `dim` (gated convolutions, WaveNet).
struct GLU {
  static constexpr const char* kType = "GLU";
  int64_t dim = 0;
};
// nn.Embedding: each entry of an index tensor [*] looked up in a learned
// table of num_embeddings rows of embedding_dim: [*, embedding_dim].
struct Embedding {
  static constexpr const char* kType = "Embedding";
  int64_t num_embeddings = 0, embedding_dim = 0;
  std::optional<int64_t> padding_idx;  // as given (negative counts from the end)
  std::optional<double> max_norm;
  double norm_type = 2;
  bool scale_grad_by_freq = false, sparse = false;
};
// Unflatten(dim, unflattened_size): one dim becomes several (one may be -1).
struct Unflatten {
  static constexpr const char* kType = "Unflatten";
  int64_t dim = 0; Shape sizes;
};

// Tensor ops that select part of one dim: torch.narrow(x, dim, start, length)
// and torch.chunk(x, chunks, dim)[index] (ShuffleNetV2's channel split).
struct Narrow {
  static constexpr const char* kType = "Narrow";
  int64_t dim = 0, start = 0, length = 0;
};
// x[:, :, start:end:step] on one dim (aten::slice): Python's rules, a
// negative start or end counting from the end, both clamped into the dim;
// step ≥ 1 (the CIFAR ResNet's option-A shortcut takes x[:, :, ::2, ::2]).
struct Slice {
  static constexpr const char* kType = "Slice";
  int64_t dim = 0;
  std::optional<int64_t> start, end;  // None: the dim's start, its end
  int64_t step = 1;
};
struct Chunk {
  static constexpr const char* kType = "Chunk";
  int64_t chunks = 0, dim = 0, index = 0;
};

// A merge: several inputs become one (torch.add, torch.cat, torch.mul), or
// two do (torch.matmul: attention's q @ k.transpose(-2, -1)).
enum class MergeOp { add, cat, mul, matmul };
struct Merge {
  MergeOp op = MergeOp::add;
  int64_t dim = 1;    // cat's dimension (negative counts from the end)
  bool crop = false;  // cat: centre-crop every input to the smallest spatial size first
  // add: PyTorch's broadcasting, asked for with `"broadcast": true` (a position
  // embedding, a layer scale); without it an add needs equal shapes. A mul
  // always broadcasts (squeeze-and-excitation's gate).
  bool broadcast = false;
};
inline const char* merge_name(MergeOp op) {
  static const char* const names[] = {"add", "cat", "mul", "matmul"};
  return names[static_cast<int>(op)];
}
constexpr MergeOp kMergeOps[] = {MergeOp::add, MergeOp::cat, MergeOp::mul, MergeOp::matmul};
// The spec's type of a merge written as a layer: "Add", "Cat", "Mul", "Matmul".
inline const char* merge_type(MergeOp op) {
  static const char* const types[] = {"Add", "Cat", "Mul", "Matmul"};
  return types[static_cast<int>(op)];
}

// What one node of the graph computes (network.h): every leaf kind and the
// merges. Containers below only nest and name; the parser lowers them.
using Op = std::variant<Conv, BatchNorm, ReLU, MaxPool, AvgPool, AdaptiveAvgPool, AdaptiveMaxPool, Flatten,
                        Linear, Dropout, Merge, Pointwise, ConvTranspose, Upsample, Pad, PixelShuffle, ChannelShuffle,
                        InstanceNorm, GroupNorm, LayerNorm, LocalResponseNorm, PReLU, Softmax, Unflatten, Narrow,
                        Slice, Chunk, GLU, Permute, Reshape, Squeeze, Select, Reduce, Roll, Expand, Parameter, Embedding>;

struct Node;
using Layers = std::vector<Node>;
struct Sequential {
  static constexpr const char* kType = "Sequential";
  Layers layers;
};
// Several branches applied to the same input, then merged, then `after`.
// `Residual` is Branches with merge add and branches `body` and `shortcut`
// (the identity when empty). merged = false (`"add": false`) keeps the first
// branch alone, as torchvision's inverted residual without its skip.
struct Branch { std::string name; Layers layers; };
struct Branches {
  static constexpr const char* kType = "Branches";
  Merge merge;
  bool merged = true;
  bool residual = false;  // written as `Residual`: its messages say body/shortcut
  std::vector<Branch> branches;
  Layers after;
};

// `{"shares": "rcl.conv"}`: that earlier module called again, with the same
// weights (PyTorch's `self.conv(x)` twice in forward()). lower() expands it
// into a renamed copy of that module's nodes, each marked with the node whose
// module it calls; its parameters count once, where the module is.
struct Shared {
  static constexpr const char* kType = "Shared";
  std::string module;
};

// A layer as the spec writes it: a node's kind, or a container the parser lowers.
template <class V, class... More> struct variant_with;
template <class... T, class... More> struct variant_with<std::variant<T...>, More...> {
  using type = std::variant<T..., More...>;
};
using Kind = variant_with<Op, Sequential, Branches, Shared>::type;

template <class T, class = void> struct is_ranked : std::false_type {};
template <class T> struct is_ranked<T, std::void_t<decltype(T::names)>> : std::true_type {};
// Kinds whose name depends on their fields (Upsample, Pad, PixelShuffle) have name().
template <class T, class = void> struct has_name : std::false_type {};
template <class T> struct has_name<T, std::void_t<decltype(std::declval<const T&>().name())>> : std::true_type {};

inline std::string fmt_rank(const char* base, int rank) { return base + std::to_string(rank) + "d"; }

// PyTorch's name of a kind as written: "Conv1d", "ReLU6", "cat", "Branches".
template <class V> const char* kind_name(const V& k) {
  return std::visit(
      [&](const auto& x) -> const char* {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, Merge>) return merge_name(x.op);
        else if constexpr (std::is_same_v<T, Pointwise>) return pointwise_kind(x.fn).name;
        else if constexpr (has_name<T>::value) return x.name();
        else if constexpr (is_ranked<T>::value) return T::names[x.rank - 1];
        else return T::kType;  // one name
      },
      k);
}
inline const char* op_name(const Op& k) { return kind_name(k); }

// The number of spatial dims a kind works on (0 for the rank-free kinds).
inline int op_rank(const Op& k) {
  return std::visit(
      [](const auto& x) {
        if constexpr (is_ranked<std::decay_t<decltype(x)>>::value) return x.rank;
        else return 0;
      },
      k);
}

// The Op of a leaf kind; nullopt for a container.
inline std::optional<Op> leaf_op(const Kind& k) {
  return std::visit(
      [](const auto& x) -> std::optional<Op> {
        if constexpr (std::is_constructible_v<Op, decltype(x)>) return Op{x};
        else return std::nullopt;
      },
      k);
}

// std::visit over Kind with one lambda per kind: a kind without its case does not compile.
template <class... Ts> struct overloaded : Ts... { using Ts::operator()...; };
template <class... Ts> overloaded(Ts...) -> overloaded<Ts...>;

struct Node {
  std::string name;     // dotted, as PyTorch's named_modules() prints it: "layer2.0.body.3"
  std::string pointer;  // JSON Pointer of the layer object in the spec file
  std::string block;    // the block it was instantiated from, if any
  Kind kind;
  // `from`: the dotted names whose outputs are this layer's inputs, instead
  // of the previous layer's ("input" is the network's input). A merge takes
  // several; any other layer one.
  std::vector<std::string> from;
  // `size_from` (Upsample) or a size written "x.shape[0]" (Expand, Reshape): the value
  // whose sizes this layer reads, its second input in the graph.
  std::string size_from;
  // Set on each use of a spec block (every repeat too): the block's name and
  // the arguments it got, each as JSON text (`netshape export` writes one
  // class per block from them).
  std::string instance_of;
  std::vector<std::pair<std::string, std::string>> block_args;
};

}  // namespace netshape
