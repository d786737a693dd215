#include "evaluate.h"

#include <algorithm>

#include <fmt/format.h>

#include "analysis.h"
#include "formula.h"

namespace netshape {


std::string pair_text(Pair p) {
  return p.h == p.w ? std::to_string(p.h) : fmt::format("({}, {})", p.h, p.w);
}

std::string format_shape(const Shape& s) { return fmt::format("[{}]", fmt::join(s, ", ")); }

const Node* find_node(const Layers& layers, const std::string& name) {
  for (const auto& n : layers) {
    if (n.name == name) return &n;
    if (name.compare(0, n.name.size() + 1, n.name + ".") != 0) continue;
    if (auto* s = std::get_if<Sequential>(&n.kind)) return find_node(s->layers, name);
    if (auto* r = std::get_if<Residual>(&n.kind))
      for (const Layers* l : {&r->body, &r->shortcut, &r->after})
        if (auto* found = find_node(*l, name)) return found;
  }
  return nullptr;
}

const Row* find_row(const Evaluation& ev, const std::string& name) {
  for (const auto& r : ev.rows)
    if (r.name == name) return &r;
  return nullptr;
}

namespace {


class Evaluator {
 public:
  explicit Evaluator(Evaluation& ev) : ev_(ev) {}

  // Runs a list of layers; `producer` names the last leaf that produced the
  // result (for residual messages). nullopt: a layer failed, already reported.
  std::optional<Shape> run(const Layers& layers, Shape x, std::string& producer) {
    for (std::size_t i = 0; i < layers.size(); ++i) {
      const Node& n = layers[i];
      if (i + 1 < layers.size()) bias_before_batchnorm(n, layers[i + 1]);
      auto y = node(n, x, producer);
      if (!y) return std::nullopt;
      x = std::move(*y);
    }
    return x;
  }

  // Where a Flatten collapsed a spatial map whose size follows the input (no
  // adaptive pool pinned it): the next Linear's in_features fits that size only.
  struct FlattenedMap { std::string layer; Shape shape; };
  std::optional<FlattenedMap> flattened_map_;
  bool spatial_pinned_ = false;  // an adaptive pool fixed H and W

 private:
  Evaluation& ev_;

  Diagnostic& error(const Node& n, std::string code, std::string message,
                    const std::string& field = {}) {
    return ev_.diagnostics.error(std::move(code), std::move(message),
                                 field.empty() ? n.pointer : n.pointer + "/" + field, n.name);
  }

  Row& row(const Node& n, const char* type, const Shape& in) {
    Row r;
    r.name = n.name;
    r.type = type;
    r.pointer = n.pointer;
    r.input = in;
    ev_.rows.push_back(std::move(r));
    return ev_.rows.back();
  }

  // The row for a failing layer: shown in the table as the place it stopped.
  std::nullopt_t fail(Row& r) {
    r.failed = true;
    return std::nullopt;
  }

  bool need_rank4(const Node& n, const Shape& in, Row& r) {
    if (in.size() == 4) return true;
    auto& d = error(n, "rank",
                    fmt::format("{} expects a 4-D input [N, C, H, W], got {}", kind_name(n.kind),
                                format_shape(in)));
    if (in.size() == 2)
      d.help = "the input was flattened earlier: move Flatten and Linear after the last "
               "2-D layer";
    else if (in.size() == 3)
      d.help = "add the batch dimension to `input`, e.g. [1, " +
               fmt::format("{}", fmt::join(in, ", ")) + "]";
    fail(r);
    return false;
  }

  // One spatial dim of a conv or pool through the formula; reports out < 1.
  // A conv with bias right before a BatchNorm: the BatchNorm's shift does the
  // bias's job (the seed's reason for bias=False).
  void bias_before_batchnorm(const Node& a, const Node& b) {
    auto* conv = std::get_if<Conv2d>(&a.kind);
    if (!conv || !conv->bias || !std::holds_alternative<BatchNorm2d>(b.kind)) return;
    auto& d = ev_.diagnostics.warning(
        "bias-before-batchnorm",
        fmt::format("`{}` has a bias, but the BatchNorm `{}` right after it subtracts the mean "
                    "and adds its own shift",
                    a.name, b.name),
        a.pointer, a.name);
    d.notes.push_back(fmt::format("the bias adds {} parameters that training cannot use",
                                  conv->out_channels));
    d.help = "set \"bias\": false, as the seed's ResNet does";
  }

  std::optional<int64_t> spatial(const Node& n, const char* dim, const Window& w, Row& r,
                                 bool is_conv) {
    WindowResult res = window_output(w);
    // Input rows no window reaches (not counting padding). Only when windows
    // abut or overlap (stride ≤ span): with gaps, rows inside are skipped too.
    int64_t lost = res.leftover - w.pad_r;
    if (res.out >= 1 && lost > 0 && w.stride <= res.span) {
      std::string unit = lost == 1 ? std::string(dim).substr(0, std::string(dim).size() - 1) : dim;
      std::string message = fmt::format("{} `{}` never reads the last {} input {} of {}",
                                        kind_name(n.kind), n.name, lost, unit, w.in);
      std::string note = fmt::format("⌊({} + {} + {} − {}·({} − 1) − 1) / {}⌋ + 1 = {}: the "
                                     "division leaves a remainder of {}",
                                     w.in, w.pad_l, w.pad_r, w.dilation, w.kernel, w.stride,
                                     res.out, res.numerator % w.stride);
      auto& items = ev_.diagnostics.items;
      // The same loss in both dims is one warning.
      if (!items.empty() && items.back().code == "floor-discards" && items.back().layer == n.name &&
          items.back().notes == std::vector<std::string>{note}) {
        items.back().message = fmt::format("{} `{}` never reads the last {} input {} and {} of {}",
                                           kind_name(n.kind), n.name, lost,
                                           lost == 1 ? "row" : "rows", unit, w.in);
      } else {
        auto& d = ev_.diagnostics.warning("floor-discards", message, n.pointer, n.name);
        d.notes.push_back(note);
        d.help = "`netshape solve` finds the input sizes or padding that leave nothing out";
      }
    }
    if (is_conv && res.padded < res.span) {
      // ATen: "Kernel size can't be greater than actual input size".
      auto& d = error(n, "kernel-too-large",
                      fmt::format("the kernel covers {} {} but the padded input has only {}",
                                  res.span, dim, res.padded),
                      "kernel_size");
      d.notes.push_back(fmt::format("padded input: {} + {} + {} = {}; kernel span: {}·({} − 1) + 1 = {}",
                                    w.in, w.pad_l, w.pad_r, res.padded, w.dilation, w.kernel,
                                    res.span));
      fail(r);
      return std::nullopt;
    }
    if (res.out < 1) {
      auto& d = error(n, "output-too-small",
                      fmt::format("{} gives {} output {} from an input of {}", kind_name(n.kind),
                                  res.out, dim, w.in));
      d.notes.push_back(fmt::format("⌊({} + {} + {} − {}·({} − 1) − 1{}) / {}⌋ + 1 = {}", w.in,
                                    w.pad_l, w.pad_r, w.dilation, w.kernel,
                                    w.ceil_mode ? fmt::format(" + {} − 1", w.stride) : "",
                                    w.stride, res.out));
      fail(r);
      return std::nullopt;
    }
    return res.out;
  }

  std::optional<Shape> node(const Node& n, const Shape& in, std::string& producer) {
    std::size_t first_row = ev_.rows.size();
    auto out = visit_kind(n, in, producer);
    bool leaf = !std::holds_alternative<Sequential>(n.kind) && !std::holds_alternative<Residual>(n.kind);
    if (out && leaf) ev_.rows[first_row].output = *out;
    return out;
  }

  std::optional<Shape> visit_kind(const Node& n, const Shape& in, std::string& producer) {
    return std::visit(
        overloaded{
            [&](const Conv2d& k) -> std::optional<Shape> {
              Row& r = row(n, "Conv2d", in);
              producer = n.name;
              if (!need_rank4(n, in, r)) return std::nullopt;
              int64_t c = in[1];
              if (k.in_channels && *k.in_channels != c) {
                auto& d = error(n, "channels",
                                fmt::format("in_channels is {} but the input has {} channels",
                                            *k.in_channels, c),
                                "in_channels");
                d.notes.push_back(fmt::format("input shape {}", format_shape(in)));
                return fail(r);
              }
              if (c % k.groups != 0) {
                auto& d = error(n, "groups",
                                fmt::format("the input's {} channels are not divisible by groups "
                                            "{}",
                                            c, k.groups),
                                "groups");
                d.help = "use a groups value that divides both the input and output channels";
                return fail(r);
              }
              auto [pad_l, pad_r] = conv_pads(k);
              if (k.padding_mode == Padding::explicit_ &&
                  (k.padding.h > k.kernel_size.h / 2 || k.padding.w > k.kernel_size.w / 2)) {
                auto& d = ev_.diagnostics.warning(
                    "conv-padding",
                    fmt::format("`{}` pads {} around a {}×{} kernel: more than half the kernel, "
                                "so edge windows see only zeros",
                                n.name, pair_text(k.padding), k.kernel_size.h, k.kernel_size.w),
                    n.pointer + "/padding", n.name);
                d.notes.push_back("legal for a conv in PyTorch (pools refuse it), but unusual");
                d.help = fmt::format("padding {} keeps the size at stride 1",
                                     pair_text({k.dilation.h * (k.kernel_size.h - 1) / 2,
                                                k.dilation.w * (k.kernel_size.w - 1) / 2}));
              }
              auto h = spatial(n, "rows", {in[2], k.kernel_size.h, k.stride.h, pad_l.h, pad_r.h, k.dilation.h, false}, r, true);
              if (!h) return std::nullopt;
              auto w = spatial(n, "columns", {in[3], k.kernel_size.w, k.stride.w, pad_l.w, pad_r.w, k.dilation.w, false}, r, true);
              if (!w) return std::nullopt;
              auto weights = checked_mul(k.out_channels, c / k.groups);
              if (weights) weights = checked_mul(*weights, k.kernel_size.h);
              if (weights) weights = checked_mul(*weights, k.kernel_size.w);
              if (!weights || *weights > INT64_MAX / 2) {
                error(n, "overflow", "the weight count overflows 64 bits");
                return fail(r);
              }
              r.params = *weights + (k.bias ? k.out_channels : 0);
              r.arguments = fmt::format("k={} s={} p={}", pair_text(k.kernel_size),
                                        pair_text(k.stride),
                                        k.padding_mode == Padding::same    ? "same"
                                        : k.padding_mode == Padding::valid ? "valid"
                                                                           : pair_text(k.padding));
              if (k.dilation.h != 1 || k.dilation.w != 1) r.arguments += " d=" + pair_text(k.dilation);
              if (k.groups != 1) r.arguments += fmt::format(" g={}", k.groups);
              return Shape{in[0], k.out_channels, *h, *w};
            },
            [&](const BatchNorm2d& k) -> std::optional<Shape> {
              Row& r = row(n, "BatchNorm2d", in);
              producer = n.name;
              if (!need_rank4(n, in, r)) return std::nullopt;
              if (k.num_features && *k.num_features != in[1]) {
                error(n, "channels",
                                fmt::format("num_features is {} but the input has {} channels",
                                            *k.num_features, in[1]),
                                "num_features");
                return fail(r);
              }
              r.params = k.affine ? 2 * in[1] : 0;  // weight and bias, one per channel
              return in;
            },
            [&](const ReLU& k) -> std::optional<Shape> {
              Row& r = row(n, "ReLU", in);
              producer = n.name;
              if (k.inplace) r.arguments = "inplace";
              return in;
            },
            [&](const MaxPool2d& k) -> std::optional<Shape> {
              return pool(n, in, producer, "MaxPool2d", k.kernel_size, k.stride, k.padding,
                          k.dilation, k.ceil_mode);
            },
            [&](const AvgPool2d& k) -> std::optional<Shape> {
              return pool(n, in, producer, "AvgPool2d", k.kernel_size, k.stride, k.padding,
                          Pair{1, 1}, k.ceil_mode);
            },
            [&](const AdaptiveAvgPool2d& k) -> std::optional<Shape> {
              return adaptive(n, in, producer, "AdaptiveAvgPool2d", k.output_size);
            },
            [&](const AdaptiveMaxPool2d& k) -> std::optional<Shape> {
              return adaptive(n, in, producer, "AdaptiveMaxPool2d", k.output_size);
            },
            [&](const Flatten& k) -> std::optional<Shape> {
              Row& r = row(n, "Flatten", in);
              producer = n.name;
              auto rank = static_cast<int64_t>(in.size());
              int64_t s = k.start_dim < 0 ? k.start_dim + rank : k.start_dim;
              int64_t e = k.end_dim < 0 ? k.end_dim + rank : k.end_dim;
              if (s < 0 || s >= rank || e < 0 || e >= rank || s > e) {
                auto& d = error(n, "flatten-dims",
                                fmt::format("Flatten from dim {} to dim {} does not fit a {}-D "
                                            "input {}",
                                            k.start_dim, k.end_dim, rank, format_shape(in)));
                d.help = "the default, start_dim 1 and end_dim -1, keeps the batch and "
                         "flattens the rest";
                return fail(r);
              }
              Shape out(in.begin(), in.begin() + s);
              int64_t prod = 1;
              for (int64_t i = s; i <= e; ++i) {
                auto p = checked_mul(prod, in[static_cast<std::size_t>(i)]);
                if (!p) {
                  error(n, "overflow", fmt::format("flattening {} overflows 64 bits",
                                                   format_shape(in)));
                  return fail(r);
                }
                prod = *p;
              }
              out.push_back(prod);
              if (rank == 4 && s <= 2 && e >= 3 && in[2] * in[3] > 1 && !spatial_pinned_)
                flattened_map_ = FlattenedMap{n.name, in};
              out.insert(out.end(), in.begin() + e + 1, in.end());
              if (k.start_dim != 1 || k.end_dim != -1)
                r.arguments = fmt::format("dims {}..{}", k.start_dim, k.end_dim);
              return out;
            },
            [&](const Linear& k) -> std::optional<Shape> {
              Row& r = row(n, "Linear", in);
              producer = n.name;
              int64_t features = in.back();
              if (flattened_map_) {
                const Shape& m = flattened_map_->shape;
                auto& d = ev_.diagnostics.warning(
                    "linear-fixed-size",
                    fmt::format("`{}` takes {} features = {}·{}·{}, which holds only while the "
                                "input gives a {}×{} map at `{}`",
                                n.name, features, m[1], m[2], m[3], m[2], m[3],
                                flattened_map_->layer),
                    n.pointer, n.name);
                d.help = "an AdaptiveAvgPool2d before Flatten (as torchvision does) makes it "
                         "independent of the input size";
                flattened_map_.reset();
              }
              if (k.in_features && *k.in_features != features) {
                auto& d = error(n, "features",
                                fmt::format("in_features is {} but the input has {} features",
                                            *k.in_features, features),
                                "in_features");
                d.notes.push_back(fmt::format("input shape {}: Linear acts on the last dim",
                                              format_shape(in)));
                if (in.size() > 2) {
                  int64_t flat = 1;
                  for (std::size_t i = 1; i < in.size(); ++i)
                    flat = checked_mul(flat, in[i]).value_or(-1);
                  d.help = flat == *k.in_features
                               ? "add {\"type\": \"Flatten\"} before this Linear"
                               : fmt::format("add a Flatten before it and set \"in_features\": "
                                             "{} (or remove it to infer it)",
                                             flat);
                }
                return fail(r);
              }
              if (in.size() > 2) {
                auto& d = ev_.diagnostics.warning(
                    "linear-rank",
                    fmt::format("Linear gets a {}-D input {} and acts on its last dim only",
                                in.size(), format_shape(in)),
                    n.pointer, n.name);
                d.help = "add {\"type\": \"Flatten\"} before it, unless this is intended";
              }
              auto w = checked_mul(features, k.out_features);
              if (!w || *w > INT64_MAX / 2) {
                error(n, "overflow", "the weight count overflows 64 bits");
                return fail(r);
              }
              r.params = *w + (k.bias ? k.out_features : 0);
              Shape out = in;
              out.back() = k.out_features;
              return out;
            },
            [&](const Dropout& k) -> std::optional<Shape> {
              Row& r = row(n, "Dropout", in);
              producer = n.name;
              r.arguments = fmt::format("p={}", k.p);
              return in;
            },
            [&](const Sequential& k) -> std::optional<Shape> { return run(k.layers, in, producer); },
            [&](const Residual& k) -> std::optional<Shape> { return residual(n, k, in, producer); },
        },
        n.kind);
  }

  std::optional<Shape> pool(const Node& n, const Shape& in, std::string& producer,
                            const char* type, Pair kernel, Pair stride, Pair padding,
                            Pair dilation, bool ceil_mode) {
    Row& r = row(n, type, in);
    producer = n.name;
    if (!need_rank4(n, in, r)) return std::nullopt;
    auto h = spatial(n, "rows", {in[2], kernel.h, stride.h, padding.h, padding.h, dilation.h, ceil_mode}, r, false);
    if (!h) return std::nullopt;
    auto w = spatial(n, "columns", {in[3], kernel.w, stride.w, padding.w, padding.w, dilation.w, ceil_mode}, r, false);
    if (!w) return std::nullopt;
    r.arguments = fmt::format("k={} s={} p={}", pair_text(kernel), pair_text(stride),
                              pair_text(padding));
    if (dilation.h != 1 || dilation.w != 1) r.arguments += " d=" + pair_text(dilation);
    if (ceil_mode) r.arguments += " ceil";
    return Shape{in[0], in[1], *h, *w};
  }

  std::optional<Shape> adaptive(const Node& n, const Shape& in, std::string& producer,
                                const char* type, Pair size) {
    Row& r = row(n, type, in);
    producer = n.name;
    if (!need_rank4(n, in, r)) return std::nullopt;
    Shape out{in[0], in[1], size.h ? size.h : in[2], size.w ? size.w : in[3]};
    r.arguments = fmt::format("out=({}, {})", out[2], out[3]);
    if (out[2] > in[2] || out[3] > in[3]) {
      auto& d = ev_.diagnostics.warning(
          "adaptive-upsamples",
          fmt::format("{} `{}` makes a {}×{} map out of a {}×{} one: windows repeat input pixels",
                      type, n.name, out[2], out[3], in[2], in[3]),
          n.pointer, n.name);
      d.help = "an adaptive pool is meant to shrink; check the input size or output_size";
    }
    spatial_pinned_ = true;
    return out;
  }

  std::optional<Shape> residual(const Node& n, const Residual& k, const Shape& in,
                                std::string& producer) {
    std::string body_from, short_from;
    auto b = run(k.body, in, body_from);
    if (!b) return std::nullopt;
    std::optional<Shape> s = in;
    if (!k.shortcut.empty()) {
      s = run(k.shortcut, in, short_from);
      if (!s) return std::nullopt;
    }
    Row& r = row(n, "add", *b);
    r.output = *b;
    producer = n.name;
    if (*b != *s) {
      bool broadcast = b->size() == s->size();
      for (std::size_t i = 0; broadcast && i < b->size(); ++i)
        broadcast = (*b)[i] == (*s)[i] || (*b)[i] == 1 || (*s)[i] == 1;
      auto& d = error(n, "residual-mismatch",
                      fmt::format("the two branches of residual `{}` have different shapes: "
                                  "{} and {}",
                                  n.name, format_shape(*b), format_shape(*s)));
      d.notes.push_back(fmt::format("body gives {} (its last layer is {})", format_shape(*b), body_from));
      d.notes.push_back(k.shortcut.empty()
                            ? fmt::format("shortcut gives {}: it is the identity, so the block's input", format_shape(*s))
                            : fmt::format("shortcut gives {} (its last layer is {})", format_shape(*s), short_from));
      if (broadcast)
        d.notes.push_back("PyTorch would broadcast the size-1 dims and add silently, which is "
                          "almost always a bug");
      return fail(r);
    }
    return run(k.after, *b, producer);
  }
};

std::optional<int64_t> numel(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) {
    auto m = checked_mul(n, d);
    if (!m) return std::nullopt;
    n = *m;
  }
  return n;
}

}  // namespace

std::optional<int64_t> forward_memory_estimate(const Evaluation& ev, const Shape& input) {
  auto largest = numel(input);
  int64_t weights = 0;
  for (const auto& r : ev.rows) {
    auto n = numel(r.output.empty() ? r.input : r.output);
    if (!largest || !n) return std::nullopt;
    largest = std::max(*largest, *n);
    // BatchNorm keeps running mean and variance beside its weight and bias.
    auto w = checked_add(weights, r.type == "BatchNorm2d" ? 2 * r.params : r.params);
    if (!w) return std::nullopt;
    weights = *w;
  }
  if (!largest) return std::nullopt;
  auto act = checked_mul(*largest, 3);
  if (!act) return std::nullopt;
  auto total = checked_add(*act, weights);
  if (!total) return std::nullopt;
  return checked_mul(*total, 4);  // float32
}

Evaluation evaluate(const Spec& spec) {
  Evaluation ev;
  Evaluator e(ev);
  std::string producer;
  auto out = e.run(spec.layers, spec.input, producer);
  if (out) {
    ev.output = std::move(out);
    int64_t total = 0;
    for (const auto& r : ev.rows) total = checked_add(total, r.params).value_or(INT64_MAX);
    ev.params = total;
  }
  analyse(spec, ev);
  return ev;
}

}  // namespace netshape
