#include "kinds.h"

#include <algorithm>
#include <cctype>
#include <limits>
#include <map>

#include <fmt/format.h>

#include "layers.h"

namespace netshape {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;

namespace {

constexpr double kInt = 2147483647;  // ATen's pooling casts to int: every integer stays below (parse.h: kMaxInt)
constexpr double kBig = 1e300;
const double kFloat = std::numeric_limits<float>::max();

// ---- arguments, as PyTorch's signatures have them ----------------------------

Arg integer(std::string name, std::optional<int64_t> dflt, double lo, std::string doc, double hi = kInt) {
  Arg a{std::move(name), ArgType::integer, !dflt, dflt ? json(*dflt) : json(), "", lo, hi, {}, {}, std::move(doc)};
  return a;
}
Arg inferred(std::string name, std::string doc) {
  return {std::move(name), ArgType::inferred, true, json(), "", 1, kInt, {}, {}, std::move(doc)};
}
Arg dims(std::string name, std::optional<int64_t> dflt, double lo, std::string doc) {
  return {std::move(name), ArgType::dims, !dflt, dflt ? json(*dflt) : json(), "", lo, kInt, {}, {}, std::move(doc)};
}
Arg dims_as(std::string name, std::string same_as, double lo, std::string doc) {  // stride=None: the kernel's
  return {std::move(name), ArgType::dims, false, json(), std::move(same_as), lo, kInt, {}, {}, std::move(doc)};
}
Arg flag(std::string name, bool dflt, std::string doc) {
  return {std::move(name), ArgType::boolean, false, json(dflt), "", 0, 0, {}, {}, std::move(doc)};
}
Arg number(std::string name, double dflt, double lo, double hi, std::string doc) {
  return {std::move(name), ArgType::number, false, json(dflt), "", lo, hi, {}, {}, std::move(doc)};
}
Arg float32(std::string name, std::optional<double> dflt, std::string doc) {
  return {std::move(name), ArgType::float32, !dflt, dflt ? json(*dflt) : json(), "", -kFloat, kFloat, {}, {},
          std::move(doc)};
}
Arg choice(std::string name, std::optional<std::string> dflt, std::vector<std::string> values, std::string doc) {
  return {std::move(name), ArgType::choice, !dflt, dflt ? json(*dflt) : json(), "", 0, 0, std::move(values), {},
          std::move(doc)};
}
Arg dim_index(std::string name, std::optional<int64_t> dflt, std::string doc) {
  return {std::move(name), ArgType::dim_index, !dflt, dflt ? json(*dflt) : json(), "", -64, 64, {}, {}, std::move(doc)};
}
Arg special(std::string name, bool required, json dflt, json schema, std::string doc) {
  return {std::move(name), ArgType::special, required, std::move(dflt), "", 0, 0, {}, std::move(schema), std::move(doc)};
}

json int_schema(double lo, double hi = kInt) { return {{"type", "integer"}, {"minimum", lo}, {"maximum", hi}}; }
json int_or_list(double lo, int rank) {
  return {{"anyOf", json::array({int_schema(lo), {{"type", "array"}, {"minItems", rank}, {"maxItems", rank},
                                                  {"items", int_schema(lo)}}})}};
}
json names_schema(int min) {
  return {{"type", "array"}, {"minItems", min}, {"items", {{"type", "string"}, {"minLength", 1}}}};
}

const char* const kDims[3] = {"[length]", "[height, width]", "[depth, height, width]"};
const char* const kTakes[3] = {"[N, C, L]", "[N, C, H, W]", "[N, C, D, H, W]"};
std::string per_dim(int rank) { return fmt::format("an int, or {}", kDims[rank - 1]); }

// ---- the kinds, family by family ---------------------------------------------

void conv(std::vector<KindInfo>& out) {
  for (int r = 1; r <= 3; ++r) {
    KindInfo k{Conv::names[r - 1], "conv", fmt::format("torch.nn.{}", Conv::names[r - 1]), r, kTakes[r - 1],
               "a convolution: every output channel a learned kernel slid over the input's channels",
               "out = ⌊(in + 2·padding − dilation·(kernel_size − 1) − 1) / stride⌋ + 1 per spatial dim; "
               "channels become out_channels",
               r == 2 ? R"({"type": "Conv2d", "out_channels": 64, "kernel_size": 7, "stride": 2, "padding": 3, "bias": false})"
                      : fmt::format(R"({{"type": "{}", "out_channels": 64, "kernel_size": 3, "padding": 1}})", Conv::names[r - 1]),
               {}};
    k.args = {inferred("in_channels", "the input's channels (taken from the input when absent, checked when given)"),
              integer("out_channels", std::nullopt, 1, "the output's channels: one learned kernel each"),
              dims("kernel_size", std::nullopt, 1, fmt::format("the window: {}", per_dim(r))),
              dims("stride", 1, 1, "the step between windows"),
              special("padding", false, 0,
                      {{"anyOf", json::array({int_or_list(0, r)["anyOf"][0], int_or_list(0, r)["anyOf"][1],
                                              {{"enum", {"same", "valid"}}}})}},
                      fmt::format("zeros added on each side: {}, \"same\" (stride 1 only) or \"valid\" (none)", per_dim(r))),
              dims("dilation", 1, 1, "the gap between a kernel's taps: it covers dilation·(kernel_size − 1) + 1"),
              integer("groups", 1, 1, "split channels into groups convolved apart (= in_channels: depthwise)"),
              flag("bias", true, "a learned bias per output channel (false before a BatchNorm, which shifts)"),
              choice("padding_mode", "zeros", {"zeros"}, "what padding adds: zeros (netshape's one mode)")};
    k.channels_arg = "in_channels";
    out.push_back(std::move(k));
  }
  for (int r = 1; r <= 3; ++r) {
    const char* n = ConvTranspose::names[r - 1];
    KindInfo k{n, "conv", fmt::format("torch.nn.{}", n), r, kTakes[r - 1],
               "a transposed convolution, the gradient of a conv: it enlarges the map (DCGAN, U-Net's up-convs)",
               "out = (in − 1)·stride − 2·padding + dilation·(kernel_size − 1) + output_padding + 1 per spatial dim",
               fmt::format(R"({{"type": "{}", "out_channels": 256, "kernel_size": 4, "stride": 2, "padding": 1}})", n),
               {}};
    k.args = {inferred("in_channels", "the input's channels (taken from the input when absent, checked when given)"),
              integer("out_channels", std::nullopt, 1, "the output's channels"),
              dims("kernel_size", std::nullopt, 1, fmt::format("the window: {}", per_dim(r))),
              dims("stride", 1, 1, "how much larger the map gets"),
              dims("padding", 0, 0, "taken off each side of the output (dilation·(kernel_size − 1) − padding zeros pad the input)"),
              dims("output_padding", 0, 0, "added to one side of the output; below the stride or the dilation"),
              integer("groups", 1, 1, "channels in groups transposed apart"),
              flag("bias", true, "a learned bias per output channel"),
              dims("dilation", 1, 1, "the gap between a kernel's taps"),
              choice("padding_mode", "zeros", {"zeros"}, "zeros only, as PyTorch")};
    k.channels_arg = "in_channels";
    out.push_back(std::move(k));
  }
}

// "x.shape[0]": a size read from another value (Reshape's shape, Expand's
// sizes, a pool's kernel_size).
json size_ref_schema() {
  return {{"type", "string"}, {"pattern", R"(^.+(\.shape\[-?[0-7]\]|\.size\(-?[0-7]\))$)"}};
}
// A dims argument that may also be read from another value's size.
Arg size_readable(Arg a) {
  a.schema = size_ref_schema();
  a.doc += "; or \"x.shape[3]\": that dim of layer x's output, as F.avg_pool2d(x, x.size(3))";
  return a;
}

void pool(std::vector<KindInfo>& out) {
  const std::string window = "out = ⌊(in + 2·padding − dilation·(kernel_size − 1) − 1) / stride⌋ + 1 per spatial dim "
                             "(ceil_mode: ⌈…⌉, but no window may start in the right padding); channels kept";
  for (int r = 1; r <= 3; ++r) {
    const char* n = MaxPool::names[r - 1];
    KindInfo k{n, "pool", fmt::format("torch.nn.{}", n), r, kTakes[r - 1], "the maximum of each window", window,
               fmt::format(R"({{"type": "{}", "kernel_size": 3, "stride": 2, "padding": 1}})", n), {}};
    k.args = {size_readable(dims("kernel_size", std::nullopt, 1, fmt::format("the window: {}", per_dim(r)))),
              dims_as("stride", "kernel_size", 1, "the step between windows (None: the kernel_size)"),
              dims("padding", 0, 0, "−∞ added on each side; at most half the kernel_size"),
              dims("dilation", 1, 1, "the gap between a window's taps"),
              flag("ceil_mode", false, "round the window count up (a partial window at the end)")};
    out.push_back(std::move(k));
  }
  for (int r = 1; r <= 3; ++r) {
    const char* n = AvgPool::names[r - 1];
    KindInfo k{n, "pool", fmt::format("torch.nn.{}", n), r, kTakes[r - 1], "the mean of each window", window,
               fmt::format(R"({{"type": "{}", "kernel_size": 2}})", n), {}};
    k.args = {size_readable(dims("kernel_size", std::nullopt, 1, fmt::format("the window: {}", per_dim(r)))),
              dims_as("stride", "kernel_size", 1, "the step between windows (None: the kernel_size)"),
              dims("padding", 0, 0, "zeros added on each side; at most half the kernel_size"),
              flag("ceil_mode", false, "round the window count up (a partial window at the end)"),
              flag("count_include_pad", true, "count the padding's zeros in each mean")};
    if (r >= 2)
      k.args.push_back(special("divisor_override", false, nullptr,
                               {{"anyOf", json::array({{{"allOf", json::array({int_schema(-kInt), {{"not", {{"const", 0}}}}})}},
                                                       {{"type", "null"}}})}},
                               "divide each window's sum by this instead of its size: an integer, not 0"));
    out.push_back(std::move(k));
  }
  for (int r = 1; r <= 2; ++r) {
    std::string n = fmt_rank("LPPool", r);
    KindInfo k{n, "pool", "torch.nn." + n, r, kTakes[r - 1], "the p-norm of each window: (Σ x^p)^(1/p)",
               "as AvgPool with padding 0", fmt::format(R"({{"type": "{}", "norm_type": 2, "kernel_size": 3}})", n), {}};
    k.args = {number("norm_type", 0, 1e-300, kBig, "p: 1 sums the window, larger tends to its maximum"),
              dims("kernel_size", std::nullopt, 1, fmt::format("the window: {}", per_dim(r))),
              dims_as("stride", "kernel_size", 1, "the step between windows (None: the kernel_size)"),
              flag("ceil_mode", false, "round the window count up")};
    k.args[0].required = true;
    k.attributes = true;
    out.push_back(std::move(k));
  }
  for (bool avg : {true, false})
    for (int r = 1; r <= 3; ++r) {
      const char* n = avg ? AdaptiveAvgPool::names[r - 1] : AdaptiveMaxPool::names[r - 1];
      KindInfo k{n, "pool", fmt::format("torch.nn.{}", n), r, kTakes[r - 1],
                 avg ? "a mean over windows chosen to give a fixed output size" : "a maximum over windows chosen to give a fixed output size",
                 "each spatial dim becomes output_size (null keeps the input's); windows start at ⌊i·in/out⌋",
                 fmt::format(R"({{"type": "{}", "output_size": 1}})", n), {}};
      json item = r > 1 ? json{{"anyOf", json::array({int_schema(1), {{"type", "null"}}})}} : int_schema(1);
      k.args = {special("output_size", true, nullptr,
                        {{"anyOf", json::array({int_schema(1), {{"type", "array"}, {"minItems", r}, {"maxItems", r},
                                                                {"items", item}}})}},
                        fmt::format("the output's size: {}{}", per_dim(r), r > 1 ? " (null keeps that input dim)" : ""))};
      out.push_back(std::move(k));
    }
}

void norm(std::vector<KindInfo>& out) {
  for (int r = 1; r <= 3; ++r) {
    const char* n = BatchNorm::names[r - 1];
    KindInfo k{n, "norm", fmt::format("torch.nn.{}", n), r, r == 1 ? "[N, C] or [N, C, L]" : kTakes[r - 1],
               "normalises each channel over the batch (in eval mode: its running statistics), then scales and shifts",
               "the shape is unchanged; num_features must be the input's channels",
               fmt::format(R"({{"type": "{}"}})", n), {}};
    k.args = {inferred("num_features", "the input's channels (taken from the input when absent, checked when given)"),
              number("eps", 1e-5, 0, kBig, "added to the variance before the square root"),
              number("momentum", 0.1, 0, 1, "how fast the running statistics follow each batch"),
              flag("affine", true, "a learned scale and shift per channel"),
              flag("track_running_stats", true, "keep running mean and variance (buffers)")};
    k.keeps_shape = true;
    k.channels_arg = "num_features";
    out.push_back(std::move(k));
  }
  for (int r = 1; r <= 3; ++r) {
    const char* n = InstanceNorm::names[r - 1];
    KindInfo k{n, "norm", fmt::format("torch.nn.{}", n), r, kTakes[r - 1],
               "normalises each channel of each sample over its own spatial values",
               "the shape is unchanged; without running stats there must be more than one value per channel",
               fmt::format(R"({{"type": "{}"}})", n), {}};
    k.args = {inferred("num_features", "the input's channels (checked with affine or track_running_stats)"),
              number("eps", 1e-5, 0, kBig, "added to the variance before the square root"),
              number("momentum", 0.1, 0, 1, "how fast the running statistics follow"),
              flag("affine", false, "a learned scale and shift per channel"),
              flag("track_running_stats", false, "keep running statistics (and use them in eval mode)")};
    k.keeps_shape = true;
    k.channels_arg = "num_features";
    out.push_back(std::move(k));
  }
  KindInfo g{"GroupNorm", "norm", "torch.nn.GroupNorm", 0, "[N, C, …]",
             "normalises groups of channels of each sample (GroupNorm(1, C) is LayerNorm over C, H, W)",
             "the shape is unchanged; the channels must divide into num_groups",
             R"({"type": "GroupNorm", "num_groups": 32})", {}};
  g.args = {integer("num_groups", std::nullopt, 1, "how many groups the channels are split into"),
            inferred("num_channels", "the input's channels (taken from the input when absent, checked when given)"),
            number("eps", 1e-5, 0, kBig, "added to the variance before the square root"),
            flag("affine", true, "a learned scale and shift per channel")};
  g.keeps_shape = g.attributes = true;
  g.channels_arg = "num_channels";
  out.push_back(std::move(g));
  KindInfo l{"LayerNorm", "norm", "torch.nn.LayerNorm", 0, "[*, normalized_shape]",
             "normalises each sample over its last dims (a transformer's tokens over their features)",
             "the shape is unchanged; the input must end with normalized_shape",
             R"({"type": "LayerNorm", "normalized_shape": 768})", {}};
  l.args = {special("normalized_shape", true, nullptr,
                    {{"anyOf", json::array({int_schema(1), {{"type", "array"}, {"minItems", 1}, {"maxItems", 8},
                                                            {"items", int_schema(1)}}})}},
                    "the trailing dims normalised over: an int or a list"),
            number("eps", 1e-5, 0, kBig, "added to the variance before the square root"),
            flag("elementwise_affine", true, "a learned scale (and shift) per normalised value"),
            flag("bias", true, "the learned shift (PyTorch 2.1+)")};
  l.keeps_shape = true;
  out.push_back(std::move(l));
  KindInfo lrn{"LocalResponseNorm", "norm", "torch.nn.LocalResponseNorm", 0, "[N, C, …] (3 or more dims)",
               "divides each value by a power of the squares of its neighbouring channels (AlexNet)",
               "the shape is unchanged", R"({"type": "LocalResponseNorm", "size": 5})", {}};
  lrn.args = {integer("size", std::nullopt, 1, "how many neighbouring channels"),
              number("alpha", 1e-4, -kBig, kBig, "the squares' weight"),
              number("beta", 0.75, -kBig, kBig, "the power"),
              number("k", 1.0, -kBig, kBig, "added before the power")};
  lrn.keeps_shape = lrn.attributes = true;
  out.push_back(std::move(lrn));
}

void elementwise(std::vector<KindInfo>& out) {
  KindInfo relu{"ReLU", "activation", "torch.nn.ReLU", 0, "any", "max(0, x), element by element",
                "the shape is unchanged", R"({"type": "ReLU", "inplace": true})",
                {flag("inplace", false, "overwrite the input (saves memory; same shape)")}};
  relu.keeps_shape = relu.attributes = true;
  out.push_back(std::move(relu));
  // The element-wise table (layers.h: pointwise_kinds) holds their arguments and defaults.
  for (const auto& p : pointwise_kinds()) {
    KindInfo k{p.name, "activation", std::string("torch.nn.") + p.name, 0, "any", p.formula,
               "the shape is unchanged", fmt::format(R"({{"type": "{}"}})", p.name), {}};
    for (const auto& [arg, dflt] : p.args)
      k.args.push_back(p.fn == Fn::threshold ? float32(arg, std::nullopt, "(PyTorch has no default)")
                                             : float32(arg, dflt, "the formula's constant"));
    if (p.fn == Fn::gelu)
      k.args.push_back(choice("approximate", "none", {"none", "tanh"}, "\"tanh\": the tanh approximation"));
    if (p.inplace) k.args.push_back(flag("inplace", false, "overwrite the input (same shape)"));
    if (p.fn == Fn::threshold) k.example = R"({"type": "Threshold", "threshold": 0.1, "value": 20})";
    k.keeps_shape = k.attributes = true;
    out.push_back(std::move(k));
  }
  KindInfo prelu{"PReLU", "activation", "torch.nn.PReLU", 0, "[N, C, …]", "x if x ≥ 0 else a·x, a learned",
                 "the shape is unchanged; num_parameters is 1 or the channels", R"({"type": "PReLU", "num_parameters": 64})",
                 {integer("num_parameters", 1, 1, "1 (one slope) or the input's channels (one each)"),
                  float32("init", 0.25, "the slopes' first value")}};
  prelu.keeps_shape = true;
  out.push_back(std::move(prelu));
  for (const char* n : {"Softmax", "LogSoftmax", "Softmin"}) {
    KindInfo k{n, "activation", std::string("torch.nn.") + n, 0, "any",
               std::string(n) == "Softmax" ? "e^x / Σ e^x along dim" : std::string(n) == "Softmin" ? "softmax of −x along dim"
                                                                                                  : "log(softmax(x)) along dim",
               "the shape is unchanged", fmt::format(R"({{"type": "{}", "dim": 1}})", n),
               {special("dim", false, nullptr, {{"anyOf", json::array({int_schema(-64, 64), {{"type", "null"}}})}},
                        "the dim it normalises along (absent: PyTorch's deprecated implicit choice)")}};
    k.keeps_shape = k.attributes = true;
    out.push_back(std::move(k));
  }
  KindInfo glu{"GLU", "activation", "torch.nn.GLU", 0, "any, with dim of even size",
               "the gated linear unit a ⊗ σ(b), a and b the two halves of dim", "dim is halved (its size must be even)",
               R"({"type": "GLU", "dim": 1})", {dim_index("dim", -1, "the dim split into a and b")}};
  glu.attributes = true;
  out.push_back(std::move(glu));
  KindInfo s2{"Softmax2d", "activation", "torch.nn.Softmax2d", 0, "[N, C, H, W] or [C, H, W]",
              "softmax over the channels at every position", "the shape is unchanged", R"({"type": "Softmax2d"})", {}};
  s2.keeps_shape = s2.attributes = true;
  out.push_back(std::move(s2));
}

void dropout(std::vector<KindInfo>& out) {
  for (const char* n : {"Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout"}) {
    std::string name = n;
    KindInfo k{name, "dropout", "torch.nn." + name, 0,
               name == "Dropout1d" ? "[N, C] or [N, C, L]" : name == "Dropout2d" ? "[N, C, H, W]"
               : name == "Dropout3d" ? "[N, C, D, H, W]" : "any",
               name.find("d") != std::string::npos && name != "Dropout" && name != "AlphaDropout"
                   ? "zeroes whole channels at random while training; the identity in eval mode"
                   : "zeroes values at random while training; the identity in eval mode",
               "the shape is unchanged", fmt::format(R"({{"type": "{}", "p": 0.2}})", name),
               {number("p", 0.5, 0, 1, "the probability of zeroing"),
                flag("inplace", false, "overwrite the input (same shape)")}};
    k.keeps_shape = k.attributes = true;
    out.push_back(std::move(k));
  }
  // torchvision/ops/stochastic_depth.py: no defaults; p outside [0, 1] and
  // another mode are its ValueErrors; `if not training or p == 0.0: return input`.
  Arg p = number("p", 0, 0, 1, "the probability of dropping the branch (per sample, or for the batch)");
  p.required = true;
  KindInfo sd{"StochasticDepth", "dropout", "torchvision.ops.StochasticDepth", 0, "any (dim 0 the batch)",
              "drops a residual branch at random while training (ConvNeXt, Swin, EfficientNet); the identity in eval mode",
              "the shape is unchanged", R"({"type": "StochasticDepth", "p": 0.1, "mode": "row"})",
              {p, choice("mode", std::nullopt, {"batch", "row"}, "\"row\": each sample on its own; \"batch\": the whole batch at once")}};
  sd.keeps_shape = sd.attributes = true;
  out.push_back(std::move(sd));
}

void linear(std::vector<KindInfo>& out) {
  KindInfo k{"Linear", "linear", "torch.nn.Linear", 0, "[*, in_features]",
             "a matrix product: every output feature a learned weighted sum of the input's last dim, plus a bias",
             "the last dim becomes out_features", R"({"type": "Linear", "out_features": 1000})",
             {inferred("in_features", "the input's last dim (taken from the input when absent, checked when given)"),
              integer("out_features", std::nullopt, 1, "the output's last dim"),
              flag("bias", true, "a learned bias per output feature")}};
  k.channels_arg = "in_features";
  k.sets_rank = true;
  out.push_back(std::move(k));
  // torch/nn/modules/sparse.py: padding_idx within ±num_embeddings (its assert).
  KindInfo e{"Embedding", "linear", "torch.nn.Embedding", 0, "[*] of indices (an integer tensor)",
             "a learned table: each index in the input picks a row of embedding_dim values (a token embedding)",
             "a dim of embedding_dim is added at the end", R"({"type": "Embedding", "num_embeddings": 10000, "embedding_dim": 256})",
             {integer("num_embeddings", std::nullopt, 1, "the table's rows: every index must be below it"),
              integer("embedding_dim", std::nullopt, 1, "the length of each row: the output's new last dim"),
              special("padding_idx", false, nullptr, {{"anyOf", json::array({int_schema(-kInt), {{"type", "null"}}})}},
                      "a row that stays zero and gets no gradient (−num_embeddings … num_embeddings − 1)"),
              special("max_norm", false, nullptr, {{"anyOf", json::array({{{"type", "number"}}, {{"type", "null"}}})}},
                      "rows renormalised to at most this norm when looked up"),
              number("norm_type", 2.0, -kBig, kBig, "the p of max_norm's p-norm"),
              flag("scale_grad_by_freq", false, "scale gradients by the inverse frequency of the indices"),
              flag("sparse", false, "a sparse gradient for the table")}};
  e.sets_rank = e.attributes = true;
  out.push_back(std::move(e));
}

void resize(std::vector<KindInfo>& out) {
  json size = {{"anyOf", json::array({int_schema(1), {{"type", "array"}, {"minItems", 1}, {"items", int_schema(1)}},
                                      {{"type", "null"}}})}};
  json scale = {{"anyOf", json::array({{{"type", "number"}, {"exclusiveMinimum", 0}, {"maximum", 1e9}},
                                       {{"type", "array"}, {"minItems", 1},
                                        {"items", {{"type", "number"}, {"exclusiveMinimum", 0}, {"maximum", 1e9}}}},
                                       {{"type", "null"}}})}};
  const std::string rule = "each spatial dim becomes `size`, or ⌊in·scale_factor⌋ computed in double precision";
  KindInfo up{"Upsample", "resize", "torch.nn.Upsample", 0, "[N, C, L], [N, C, H, W] or [N, C, D, H, W]",
              "F.interpolate: resizes the spatial dims, nearest or interpolating", rule,
              R"({"type": "Upsample", "scale_factor": 2, "mode": "nearest"})",
              {special("size", false, nullptr, size, "the output's spatial size: an int, or one per spatial dim"),
               special("scale_factor", false, nullptr, scale, "a factor, or one per spatial dim (give size or scale_factor)"),
               choice("mode", "nearest", {"nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear", "area"},
                      "linear needs 3-D, bilinear and bicubic 4-D, trilinear 5-D"),
               special("align_corners", false, nullptr, {{"type", {"boolean", "null"}}},
                       "interpolating modes only: align the corner pixels' centres"),
               special("recompute_scale_factor", false, nullptr, {{"type", {"boolean", "null"}}},
                       "accepted: the output size is the same either way"),
               special("size_from", false, nullptr, {{"type", "string"}, {"minLength", 1}},
                       "netshape: the spatial size of that earlier layer (or \"input\"), as F.interpolate(x, size=y.shape[2:])")}};
  out.push_back(std::move(up));
  for (const char* n : {"UpsamplingNearest2d", "UpsamplingBilinear2d"}) {
    KindInfo k{n, "resize", std::string("torch.nn.") + n, 2, "[N, C, H, W]",
               std::string(n) == "UpsamplingBilinear2d" ? "Upsample(mode=\"bilinear\", align_corners=True)"
                                                        : "Upsample(mode=\"nearest\")",
               rule, fmt::format(R"({{"type": "{}", "scale_factor": 2}})", n),
               {special("size", false, nullptr, size, "the output's spatial size"),
                special("scale_factor", false, nullptr, scale, "a factor, or one per spatial dim"),
                special("size_from", false, nullptr, {{"type", "string"}, {"minLength", 1}},
                        "netshape: the spatial size of that earlier layer (or \"input\")")}};
    out.push_back(std::move(k));
  }
  for (int r = 1; r <= 3; ++r)
    for (const char* base : {"ConstantPad", "ZeroPad", "ReflectionPad", "ReplicationPad"}) {
      std::string n = fmt_rank(base, r), b = base;
      bool constant = b == "ConstantPad";
      json pads = {{"anyOf", json::array({int_schema(constant ? -kInt : 0),
                                          {{"type", "array"}, {"minItems", 2 * r}, {"maxItems", 2 * r},
                                           {"items", int_schema(constant ? -kInt : 0)}}})}};
      KindInfo k{n, "pad", "torch.nn." + n, r, constant || b == "ZeroPad" ? "any with " + std::to_string(r) + " trailing dims" : kTakes[r - 1],
                 b == "ReflectionPad" ? "pads by mirroring the map at its edges"
                 : b == "ReplicationPad" ? "pads by repeating the edge values"
                 : constant ? "pads with a constant (negative amounts crop)" : "pads with zeros",
                 "each padded dim + before + after (PyTorch's order: left, right, top, bottom, front, back)",
                 fmt::format(R"({{"type": "{}", "padding": {}}})", n, r == 2 ? "[0, 1, 0, 1]" : "1"),
                 {special("padding", !constant && b != "ZeroPad", nullptr, pads,
                          fmt::format("an int for every side, or {} sizes, the last dim first", 2 * r))}};
      if (constant) k.args.push_back(float32("value", 0.0, "the value padded in (netshape's default 0; PyTorch requires it)"));
      if (constant || b == "ZeroPad") {  // F.pad(x1, [diffX // 2, diffX - diffX // 2, …]): to another value's size
        k.args.push_back(special("size_from", false, nullptr, {{"type", "string"}, {"minLength", 1}},
                                 "netshape: pad (or crop) to that earlier layer's sizes, diff // 2 before and the rest "
                                 "after, in place of padding"));
        k.schema_rule = {{"oneOf", json::array({json{{"required", {"padding"}}}, json{{"required", {"size_from"}}}})}};
      }
      k.attributes = true;
      out.push_back(std::move(k));
    }
  KindInfo ps{"PixelShuffle", "resize", "torch.nn.PixelShuffle", 0, "[*, C·r², H, W]",
              "moves channels into space: sub-pixel convolution (ESPCN)", "[*, C·r², H, W] → [*, C, H·r, W·r]",
              R"({"type": "PixelShuffle", "upscale_factor": 3})",
              {integer("upscale_factor", std::nullopt, 1, "r: the channels must divide by r²")}};
  ps.attributes = true;
  out.push_back(std::move(ps));
  KindInfo pu{"PixelUnshuffle", "resize", "torch.nn.PixelUnshuffle", 0, "[*, C, H·r, W·r]",
              "moves space into channels, PixelShuffle's inverse", "[*, C, H·r, W·r] → [*, C·r², H, W]",
              R"({"type": "PixelUnshuffle", "downscale_factor": 2})",
              {integer("downscale_factor", std::nullopt, 1, "r: the height and width must divide by r")}};
  pu.attributes = true;
  out.push_back(std::move(pu));
  KindInfo cs{"ChannelShuffle", "resize", "torch.nn.ChannelShuffle", 0, "[N, C, …]",
              "regroups the channels (ShuffleNet)", "the shape is unchanged; the channels must divide into groups",
              R"({"type": "ChannelShuffle", "groups": 2})",
              {integer("groups", std::nullopt, 1, "the channels are split into this many groups and interleaved")}};
  cs.keeps_shape = cs.attributes = true;
  out.push_back(std::move(cs));
}

void reshape(std::vector<KindInfo>& out) {
  KindInfo f{"Flatten", "reshape", "torch.nn.Flatten", 0, "any",
             "merges dims start_dim … end_dim into one (before a Linear)", "those dims become their product",
             R"({"type": "Flatten"})",
             {dim_index("start_dim", 1, "the first dim merged"), dim_index("end_dim", -1, "the last dim merged")}};
  f.sets_rank = f.attributes = true;
  out.push_back(std::move(f));
  KindInfo u{"Unflatten", "reshape", "torch.nn.Unflatten", 0, "any",
             "splits one dim into several", "dim becomes unflattened_size (one entry may be −1: inferred)",
             R"({"type": "Unflatten", "dim": 1, "unflattened_size": [16, 5, 5]})",
             {dim_index("dim", std::nullopt, "the dim split"),
              special("unflattened_size", true, nullptr,
                      {{"type", "array"}, {"minItems", 1}, {"maxItems", 8},
                       {"items", {{"anyOf", json::array({int_schema(1), {{"const", -1}}})}}}},
                      "the new sizes, whose product is that dim (one may be −1)")}};
  u.sets_rank = u.attributes = true;
  out.push_back(std::move(u));
  KindInfo n{"Narrow", "reshape", "torch.narrow", 0, "any", "keeps `length` entries of one dim from `start`",
             "that dim becomes length", R"({"type": "Narrow", "dim": 1, "start": 0, "length": 32})",
             {dim_index("dim", std::nullopt, "the dim narrowed"),
              special("start", true, nullptr, int_schema(-kInt), "the first entry kept (negative counts from the end)"),
              integer("length", std::nullopt, 0, "how many entries are kept")}};
  out.push_back(std::move(n));
  json bound = {{"anyOf", json::array({int_schema(-kInt), {{"type", "null"}}})}};
  KindInfo sl{"Slice", "reshape", "torch.Tensor.__getitem__", 0, "any",
              "x[:, start:end:step] on one dim: every step-th entry from start up to end",
              "that dim becomes len(range(start, end, step)), start and end clamped into it as Python does",
              R"({"type": "Slice", "dim": 2, "step": 2})",
              {dim_index("dim", std::nullopt, "the dim sliced"),
               special("start", false, nullptr, bound, "the first entry (negative counts from the end; null: 0)"),
               special("end", false, nullptr, bound, "where it stops, not included (negative from the end; null: the end)"),
               integer("step", 1, 1, "every step-th entry")}};
  out.push_back(std::move(sl));
  KindInfo p{"Permute", "reshape", "torch.permute", 0, "any", "x.permute(*dims): the dims in a new order (NCHW → NHWC)",
             "dim i of the output is dim dims[i] of the input", R"({"type": "Permute", "dims": [0, 2, 3, 1]})",
             {special("dims", true, nullptr,
                      {{"type", "array"}, {"minItems", 1}, {"maxItems", 8}, {"items", int_schema(-64, 64)}},
                      "a permutation of the input's dims (negative counts from the end)")}};
  out.push_back(std::move(p));
  KindInfo t{"Transpose", "reshape", "torch.transpose", 0, "any", "x.transpose(dim0, dim1): two dims swapped",
             "dim0 and dim1 trade places", R"({"type": "Transpose", "dim0": 1, "dim1": 2})",
             {dim_index("dim0", std::nullopt, "one dim"), dim_index("dim1", std::nullopt, "the other")}};
  out.push_back(std::move(t));
  json size_ref = size_ref_schema();
  json shape = {{"type", "array"}, {"minItems", 1}, {"maxItems", 8},
                {"items", {{"anyOf", json::array({int_schema(0), {{"const", -1}}, size_ref})}}}};
  KindInfo rs{"Reshape", "reshape", "torch.reshape", 0, "any", "x.reshape(shape): the same elements in new dims",
              "the output is shape, its -1 the input's element count over the product of the rest",
              R"({"type": "Reshape", "shape": [-1, 400]})",
              {special("shape", true, nullptr, shape,
                      "the new sizes (one may be -1: inferred; \"x.shape[0]\": that dim of layer x's output)")}};
  out.push_back(std::move(rs));
  KindInfo v{"View", "reshape", "torch.Tensor.view", 0, "any",
             "x.view(shape): Reshape for shapes (PyTorch's view also needs strides it can keep)",
             "the output is shape, its -1 the input's element count over the product of the rest",
             R"({"type": "View", "shape": [-1, 400]})",
             {special("shape", true, nullptr, shape,
                      "the new sizes (one may be -1: inferred; \"x.shape[0]\": that dim of layer x's output)")}};
  out.push_back(std::move(v));
  KindInfo sq{"Squeeze", "reshape", "torch.squeeze", 0, "any", "x.squeeze(dim): drops a dim of size 1",
              "dim goes if its size is 1 (kept otherwise, as PyTorch); without dim every size-1 dim goes",
              R"({"type": "Squeeze", "dim": -1})",
              {special("dim", false, nullptr, {{"anyOf", json::array({int_schema(-64, 64), {{"type", "null"}}})}},
                       "the dim dropped (absent: every size-1 dim)")}};
  out.push_back(std::move(sq));
  KindInfo us{"Unsqueeze", "reshape", "torch.unsqueeze", 0, "any", "x.unsqueeze(dim): a new dim of size 1",
              "a 1 is inserted at dim (−rank−1 … rank)", R"({"type": "Unsqueeze", "dim": 1})",
              {dim_index("dim", std::nullopt, "where the new dim goes")}};
  out.push_back(std::move(us));
  KindInfo sel{"Select", "reshape", "torch.select", 0, "any", "x.select(dim, index), x[:, index]: one entry of a dim",
               "dim disappears; index must lie within it (negative counts from the end)",
               R"({"type": "Select", "dim": 1, "index": 0})",
               {dim_index("dim", std::nullopt, "the dim indexed"),
                special("index", true, nullptr, int_schema(-kInt), "the entry kept (negative counts from the end)")}};
  out.push_back(std::move(sel));
  for (const char* n : {"Mean", "Sum", "Amax"}) {
    std::string name = n;
    KindInfo r{name, "reshape", name == "Amax" ? "torch.amax" : name == "Sum" ? "torch.sum" : "torch.mean", 0, "any",
               name == "Mean" ? "the mean over dims (x.mean((2, 3)): global average pooling)"
               : name == "Sum" ? "the sum over dims" : "the maximum over dims",
               "each dim in dim disappears (keepdim: becomes 1)", fmt::format(R"({{"type": "{}", "dim": [2, 3]}})", name),
               {special("dim", true, nullptr,
                        {{"anyOf", json::array({int_schema(-64, 64), {{"type", "array"}, {"minItems", 1}, {"maxItems", 8},
                                                                      {"items", int_schema(-64, 64)}}})}},
                        "a dim or a list of dims (netshape asks for it: a reduction of every dim is a 0-d tensor)"),
                flag("keepdim", false, "keep each reduced dim as size 1")}};
    out.push_back(std::move(r));
  }
  json ints = {{"anyOf", json::array({int_schema(-kInt), {{"type", "array"}, {"minItems", 1}, {"maxItems", 8},
                                                              {"items", int_schema(-kInt)}}})}};
  json dims = {{"anyOf", json::array({int_schema(-64, 64), {{"type", "array"}, {"maxItems", 8}, {"items", int_schema(-64, 64)}},
                                      {{"type", "null"}}})}};
  KindInfo ex{"Expand", "reshape", "torch.Tensor.expand", 0, "any",
              "x.expand(*sizes): size-1 dims repeated to a size, without copying (a class token over the batch)",
              "each dim of size 1 becomes its size, -1 keeps a dim; new dims may come first",
              R"({"type": "Expand", "sizes": [-1, -1, 7, 7]})",
              {special("sizes", false, nullptr,
                       {{"type", "array"}, {"minItems", 1}, {"maxItems", 8},
                        {"items", {{"anyOf", json::array({int_schema(1), {{"const", -1}}, size_ref})}}}},
                       "the output's sizes (-1: that dim as it is; \"x.shape[0]\": that dim of layer x's output)"),
               special("size_from", false, nullptr, {{"type", "string"}, {"minLength", 1}},
                       "netshape: x.expand_as(y), the shape of that earlier layer (or \"input\"), in place of sizes")}};
  ex.schema_rule = {{"oneOf", json::array({json{{"required", {"sizes"}}}, json{{"required", {"size_from"}}}})}};
  out.push_back(std::move(ex));
  KindInfo par{"Parameter", "tensor", "torch.nn.Parameter", 0, "nothing (its value is its own)",
               "a learned tensor read in forward(): a class token, a position embedding, a layer scale",
               "its shape, whatever comes before; every element a trainable parameter",
               R"({"type": "Parameter", "shape": [1, 1, 768]})",
               {special("shape", true, nullptr,
                        {{"type", "array"}, {"minItems", 1}, {"maxItems", 8}, {"items", int_schema(1)}},
                        "the tensor's sizes")}};
  par.source = true;
  out.push_back(std::move(par));
  KindInfo roll{"Roll", "reshape", "torch.roll", 0, "any",
                "torch.roll(x, shifts, dims): values shifted round each dim (Swin's shifted windows)",
                "the shape is unchanged; one shift per dim", R"({"type": "Roll", "shifts": [-3, -3], "dims": [1, 2]})",
                {special("shifts", true, nullptr, ints, "how far: an int, or one per dim in dims"),
                 special("dims", false, nullptr, dims, "the dims rolled (absent: the flattened tensor)")}};
  roll.keeps_shape = true;
  out.push_back(std::move(roll));
  KindInfo c{"Chunk", "reshape", "torch.chunk", 0, "any",
             "torch.chunk(x, chunks, dim)[index]: one of `chunks` near-equal pieces (ShuffleNetV2's split)",
             "that dim becomes ⌈size / chunks⌉ (the last piece smaller)", R"({"type": "Chunk", "chunks": 2, "index": 0, "dim": 1})",
             {integer("chunks", std::nullopt, 1, "how many pieces"), dim_index("dim", 0, "the dim split"),
              integer("index", std::nullopt, 0, "which piece this layer keeps")}};
  out.push_back(std::move(c));
}

void merges(std::vector<KindInfo>& out) {
  KindInfo add{"Add", "merge", "torch.add", 0, "two or more inputs of one shape", "x + y + … (every shape equal, or broadcast if asked)",
               "the shape of its inputs, which must be equal (with broadcast: right-aligned, each dim equal or 1)", R"({"type": "Add", "from": ["block", "shortcut"]})",
               {special("from", true, nullptr, names_schema(2), "the layers whose outputs it adds"),
                flag("broadcast", false, "true: PyTorch's broadcasting (a position embedding, a layer scale); false: equal shapes")}};
  out.push_back(std::move(add));
  KindInfo cat{"Cat", "merge", "torch.cat", 0, "one or more inputs equal but along dim",
               "torch.cat: its inputs joined along dim", "dim adds up; every other dim must be equal (after a crop)",
               R"({"type": "Cat", "from": ["enc4", "up4"], "dim": 1, "crop": "center"})",
               {special("from", true, nullptr, names_schema(1), "the layers whose outputs it joins"),
                special("dim", false, 1, int_schema(-8, 7), "the dim joined along (netshape's default 1, the channels; torch.cat's is 0)"),
                special("crop", false, nullptr, {{"enum", {"center", false}}},
                        "\"center\": centre-crop every input to the smallest spatial size first (U-Net's copy and crop)")}};
  out.push_back(std::move(cat));
  KindInfo mul{"Mul", "merge", "torch.mul", 0, "two or more inputs that broadcast",
               "x * y * …, broadcasting size-1 dims (squeeze-and-excitation's gate)",
               "the broadcast shape: right-aligned, each dim equal or 1", R"({"type": "Mul", "from": ["features", "gate"]})",
               {special("from", true, nullptr, names_schema(2), "the layers whose outputs it multiplies")}};
  out.push_back(std::move(mul));
  json two = names_schema(2);
  two["maxItems"] = 2;
  KindInfo mm{"Matmul", "merge", "torch.matmul", 0, "two inputs: [*, n, m] and [*, m, p] (or 1-D)",
              "a @ b: matrix products over broadcast batch dims (attention's q @ k.transpose(-2, -1))",
              "[*batch, n, m] @ [*batch, m, p] = [*batch, n, p], the batch dims broadcast; a 1-D input gains a 1 "
              "that the output drops", R"({"type": "Matmul", "from": ["q", "k_t"]})",
              {special("from", true, nullptr, two, "the two layers whose outputs it multiplies, a then b")}};
  out.push_back(std::move(mm));
}

void containers(std::vector<KindInfo>& out) {
  json layers = {{"$ref", "#/$defs/layers"}};
  KindInfo seq{"Sequential", "container", "torch.nn.Sequential", 0, "any", "its layers in order",
               "its last layer's", R"({"type": "Sequential", "layers": [{"type": "ReLU"}]})",
               {special("layers", true, nullptr, layers, "the layers, applied in order")}};
  seq.container = true;
  out.push_back(std::move(seq));
  KindInfo res{"Residual", "container", "netshape: body(x) + shortcut(x), then after", 0, "any",
               "a residual block: its body and its shortcut (the identity when empty) added",
               "the body's, which must equal the shortcut's",
               R"({"type": "Residual", "body": [{"type": "Conv2d", "out_channels": 64, "kernel_size": 3, "padding": 1}]})",
               {special("body", true, nullptr, layers, "the layers of the main path"),
                special("shortcut", false, nullptr, {{"anyOf", json::array({layers, {{"type", "null"}}})}},
                        "the skip path (absent, null or []: the identity)"),
                special("after", false, nullptr, layers, "after the add (the seed's final ReLU)"),
                flag("add", true, "false: the body alone (no skip)")}};
  res.container = true;
  out.push_back(std::move(res));
  json branches = {{"type", "array"}, {"minItems", 1},
                   {"items", {{"anyOf", json::array({layers,
                                                     {{"type", "object"}, {"required", {"layers"}}, {"additionalProperties", false},
                                                      {"properties", {{"name", {{"anyOf", json::array({{{"type", "string"}}, {{"$ref", "#/$defs/param"}}})}}},
                                                                      {"layers", {{"anyOf", json::array({layers, {{"$ref", "#/$defs/param"}},
                                                                                                         {{"$ref", "#/$defs/conditional"}}})}}}}}},
                                                     {{"$ref", "#/$defs/param"}}, {{"$ref", "#/$defs/conditional"}}})}}}};
  KindInfo br{"Branches", "container", "netshape: several branches merged", 0, "any",
              "several branches on the same input, merged by add, cat or mul, then after",
              "the merge of its branches' outputs",
              R"({"type": "Branches", "merge": "cat", "branches": [[], [{"type": "ReLU"}]]})",
              {choice("merge", std::nullopt, {"add", "cat", "mul", "matmul"},
                      "how the branches' outputs are merged (matmul: exactly two branches, the first @ the second)"),
               special("branches", true, nullptr, branches, "each a list of layers, or {\"name\", \"layers\"}; [] is the identity"),
               special("dim", false, 1, int_schema(-8, 7), "cat only: the dim joined along"),
               special("crop", false, nullptr, {{"enum", {"center", false}}}, "cat only: centre-crop every input first"),
               special("after", false, nullptr, layers, "after the merge"),
               flag("add", true, "merge add only: false keeps the first branch alone"),
               flag("broadcast", false, "merge add only: true broadcasts as PyTorch's + does")}};
  br.container = true;
  out.push_back(std::move(br));
}

std::vector<KindInfo> build() {
  std::vector<KindInfo> out;
  for (auto family : {conv, pool, norm, elementwise, dropout, linear, resize, reshape, merges, containers}) family(out);
  // Traits that follow from the family: a conv makes its channels; what
  // keeps the shape, pools, pads and resizes spatially keeps them.
  for (auto& k : out) {
    if (k.arg("scale_factor")) {  // size or scale_factor, not both (null is absent)
      auto given = [](const char* a) {
        return json{{"required", {a}}, {"properties", {{a, {{"not", {{"type", "null"}}}}}}}};
      };
      k.schema_rule = {{"oneOf", json::array({given("size"), given("scale_factor"), given("size_from")})}};
    }
    k.makes_channels = k.family == "conv";
    k.keeps_channels = k.keeps_shape || k.family == "pool" || k.family == "pad" ||
                       (k.family == "resize" && k.name.rfind("Pixel", 0) != 0);
  }
  return out;
}

}  // namespace

const Arg* KindInfo::arg(std::string_view n) const {
  for (const auto& a : args)
    if (a.name == n) return &a;
  return nullptr;
}

const std::vector<KindInfo>& kinds() {
  static const std::vector<KindInfo> k = build();
  return k;
}

const KindInfo* find_kind(std::string_view name) {
  static const std::map<std::string, const KindInfo*, std::less<>> index = [] {
    std::map<std::string, const KindInfo*, std::less<>> m;
    for (const auto& k : kinds()) m.emplace(k.name, &k);
    return m;
  }();
  auto it = index.find(name);
  return it == index.end() ? nullptr : it->second;
}

const std::vector<std::string>& spec_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n;
    for (const auto& k : kinds()) n.push_back(k.name);
    return n;
  }();
  return names;
}

const std::vector<std::pair<std::string, std::string>>& kind_families() {
  static const std::vector<std::pair<std::string, std::string>> f = {
      {"conv", "convolutions and transposed convolutions, 1-d to 3-d"},
      {"pool", "windowed and adaptive pooling"},
      {"norm", "normalisation"},
      {"activation", "element-wise functions, PReLU and the softmaxes"},
      {"dropout", "dropout (the identity in eval mode)"},
      {"linear", "fully connected"},
      {"resize", "upsampling, pixel and channel shuffles"},
      {"pad", "padding: constant, zero, reflection, replication"},
      {"reshape", "flatten, unflatten, narrow, chunk"},
      {"tensor", "learned tensors that take no input (nn.Parameter)"},
      {"merge", "layers that merge the outputs named in `from`"},
      {"container", "containers: the nesting and the branches"}};
  return f;
}

std::string python_default(const Arg& a) {
  if (a.required) return "";
  if (!a.same_as.empty() || a.dflt.is_null()) return "None";
  if (a.dflt.is_boolean()) return a.dflt.get<bool>() ? "True" : "False";
  if (a.dflt.is_string()) return "'" + a.dflt.get<std::string>() + "'";
  if (a.dflt.is_number_float()) {
    std::string s = fmt::format("{}", a.dflt.get<double>());
    return s.find_first_of(".e") == std::string::npos ? s + ".0" : s;
  }
  return a.dflt.dump();
}

std::string signature_text(const KindInfo& k) {
  std::vector<std::string> parts;
  for (const auto& a : k.args) parts.push_back(a.required ? a.name : a.name + "=" + python_default(a));
  // torch.nn's classes by their name; netshape's merges and containers by theirs.
  return fmt::format("{}({})", k.torch.rfind("torch.nn.", 0) == 0 ? k.torch : k.name, fmt::join(parts, ", "));
}

}  // namespace netshape
