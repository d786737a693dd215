#include "evaluate.h"

#include <algorithm>
#include <cmath>
#include <set>

#include <fmt/format.h>

#include "formula.h"
#include "kinds.h"
#include "text.h"

namespace netshape {


std::string dims_text(const Dims& v) {
  bool same = std::all_of(v.begin(), v.end(), [&](int64_t x) { return x == v[0]; });
  return same && !v.empty() ? std::to_string(v[0]) : fmt::format("({})", fmt::join(v, ", "));
}

std::string shape_form(int rank) {
  return rank == 1 ? "[N, C, L]" : rank == 3 ? "[N, C, D, H, W]" : "[N, C, H, W]";
}

namespace {

// Token indices pass through the reshape family unchanged (see input_holds_indices).
bool keeps_indices(const Op& op) {
  const KindInfo* k = find_kind(op_name(op));
  return k && k->family == "reshape";
}
// The same family's kind for another rank ("Conv1d" for a Conv2d), if any.
const char* sibling(const Op& op, std::size_t rank) {
  return std::visit(
      [&](const auto& x) -> const char* {
        if constexpr (is_ranked<std::decay_t<decltype(x)>>::value)
          return rank >= 1 && rank <= 3 ? std::decay_t<decltype(x)>::names[rank - 1] : nullptr;
        else return nullptr;
      },
      op);
}
}  // namespace

std::string format_shape(const Shape& s) { return fmt::format("[{}]", fmt::join(s, ", ")); }

const Row* find_row(const Evaluation& ev, const std::string& name) {
  if (ev.index.size() != ev.rows.size()) {  // built on first use: most commands never look up
    ev.index.clear();
    for (std::size_t i = 0; i < ev.rows.size(); ++i) ev.index.emplace(ev.rows[i].name, i);
  }
  auto it = ev.index.find(name);
  return it == ev.index.end() ? nullptr : &ev.rows[it->second];
}

namespace {

// Elements of a shape; nullopt past 64 bits.
std::optional<int64_t> numel(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) {
    auto m = checked_mul(n, d);
    if (!m) return std::nullopt;
    n = *m;
  }
  return n;
}

class Evaluator {
 public:
  explicit Evaluator(Evaluation& ev) : ev_(ev) {}

  // Runs the graph's nodes in order until one fails (already reported):
  // nothing after it has a shape. Returns the value shapes so far.
  // A value's shape is its producer's row output (rows and nodes share
  // indices), or the input: no second copy of every shape.
  void run(const Graph& g, const Shape& input) {
    g_ = &g;
    input_ = &input;
    layouts_.assign(1, Layout{});
    indices_.assign(1, input_holds_indices(g));
    // Reserved: a node reads its input by reference into rows, which must not move.
    ev_.rows.reserve(g.nodes.size());
    for (std::size_t i = 0; i < g.nodes.size(); ++i) {
      const GraphNode& n = g.nodes[i];
      if (i + 1 < g.nodes.size() && n.shares < 0) bias_before_batchnorm(i);  // said once, at the module
      if (!reads_indices_fitly(n)) return;
      std::optional<Shape> y;
      if (auto* m = std::get_if<Merge>(&n.op)) {
        std::vector<Shape> in;
        for (const auto& x : n.inputs) in.push_back(value(x.value));
        y = merge(n, *m, in);
      } else if (n.shares >= 0) {
        y = shared(n, value(n.inputs[0].value));
        if (n.has_from) ev_.rows[i].from = n.inputs[0].label;
      } else {
        // The flattened map's features reach a Linear unchanged only through
        // shape-keeping layers (a Transpose or a Select in between: not that map).
        const KindInfo* kind = find_kind(op_name(n.op));
        if (flattened_map_ && !std::holds_alternative<Linear>(n.op) && !(kind && kind->keeps_shape))
          flattened_map_.reset();
        y = visit_kind(n, value(n.inputs[0].value));
        if (n.has_from) ev_.rows[i].from = n.inputs[0].label;
      }
      if (!y) return;
      if (!fits(n, *y)) return;
      ev_.rows[i].output = std::move(*y);
      layouts_.push_back(layout_of(n, static_cast<int>(i) + 1));
      indices_.push_back(!n.inputs.empty() && indices_[static_cast<std::size_t>(n.inputs[0].value)] && keeps_indices(n.op));
    }
  }

  // Token indices (integers) are what an Embedding reads. netshape keeps no
  // dtypes, so the network's input holds indices exactly when an Embedding
  // reads it, directly or through reshapes (the only kinds that keep them);
  // any other layer reading them is an error (PyTorch's float layers refuse
  // a LongTensor; a few integer-capable ops would not: netshape is stricter).
  bool reads_indices_fitly(const GraphNode& n) {
    if (std::holds_alternative<Parameter>(n.op)) return true;  // reads nothing (its input is only its place)
    bool embedding = std::holds_alternative<Embedding>(n.op);
    std::size_t bad = n.inputs.size();
    for (std::size_t k = 0; k < n.inputs.size(); ++k) {
      bool idx = indices_[static_cast<std::size_t>(n.inputs[k].value)];
      if (embedding ? !idx : idx && (!keeps_indices(n.op) || n.inputs.size() > 1)) bad = k;
    }
    if (bad == n.inputs.size()) return true;
    const Input& x = n.inputs[bad];
    Row& r = row(n, std::holds_alternative<Merge>(n.op) ? merge_name(std::get<Merge>(n.op).op) : op_name(n.op), value(x.value));
    std::string source = x.value == 0 ? "the network's input" : fmt::format("`{}`'s output", g_->producer_name(x.value));
    if (embedding) {
      auto& d = error(n, "embedding-input", fmt::format("Embedding `{}` reads {}, a float tensor: an Embedding looks up "
                                                        "integer indices", n.name, source));
      d.notes.push_back("PyTorch: \"Expected tensor for argument #1 'indices' to have one of the following scalar types: "
                        "Long, Int; but got torch.FloatTensor instead (while checking arguments for embedding)\"");
      d.help = "give it the token indices (\"from\": \"input\"); for float features use a Linear";
    } else {
      auto& d = error(n, "embedding-input", fmt::format("`{}` reads {}, which holds token indices (an Embedding reads "
                                                        "them): integers, not the floats a {} computes on",
                                                        n.name, source, r.type));
      d.help = "let the Embedding read the indices first, and this layer its output";
    }
    fail(r);
    return false;
  }
  // Every tensor's float32 bytes must fit in 64 bits, so that memory figures
  // are numbers, never a cap or a wrapped 0.
  bool fits(const GraphNode& n, const Shape& s) {
    int64_t count = 1;
    for (int64_t d : s) {
      auto m = checked_mul(count, d);
      if (!m) { count = -1; break; }
      count = *m;
    }
    if (count >= 0 && checked_mul(count, 4)) return true;
    auto& d = error(n, "overflow", fmt::format("`{}`'s output {} holds more than 2^63 bytes in float32", n.name,
                                               format_shape(s)));
    d.help = "no machine holds this tensor: check the input size and the channel counts";
    fail(ev_.rows.back());
    return false;
  }
  const Shape& value(int v) const { return v == 0 ? *input_ : ev_.rows[static_cast<std::size_t>(v - 1)].output; }
  bool computed(int v) const {
    return v == 0 || (static_cast<std::size_t>(v - 1) < ev_.rows.size() && !ev_.rows[static_cast<std::size_t>(v - 1)].failed);
  }

  // Where a Flatten collapsed a spatial map whose size follows the input (no
  // adaptive pool pinned it): the next Linear's in_features fits that size only.
  struct FlattenedMap { std::string layer; Shape shape; };
  std::optional<FlattenedMap> flattened_map_;
  bool spatial_pinned_ = false;  // an adaptive pool fixed H and W
  bool named_spatial_ = false;   // the input names H or W: the map varies even where it is 1×1 here

 private:
  Evaluation& ev_;
  const Graph* g_ = nullptr;
  std::vector<std::string> lost_units_;  // the dims of the last floor-discards warning
  std::vector<char> indices_;  // per value: it holds token indices (an Embedding's input), not floats
  const Shape* input_ = nullptr;

  Diagnostic& error(const GraphNode& n, std::string code, std::string message,
                    const std::string& field = {}) {
    return ev_.diagnostics.error(std::move(code), std::move(message),
                                 field.empty() ? n.pointer : n.pointer + "/" + field, n.name);
  }

  Row& row(const GraphNode& n, const char* type, const Shape& in) {
    Row r;
    r.name = n.name;
    r.type = type;
    r.pointer = n.pointer;
    r.input = in;
    if (n.inputs.size() > 1 && !std::holds_alternative<Merge>(n.op)) r.read_from = value(n.inputs[1].value);
    ev_.rows.push_back(std::move(r));
    return ev_.rows.back();
  }

  // The row for a failing layer: shown in the table as the place it stopped.
  std::nullopt_t fail(Row& r) {
    r.failed = true;
    return std::nullopt;
  }

  // A ranked kind needs [N, C] and `rank` spatial dims (BatchNorm1d also takes [N, C]).
  bool need_rank(const GraphNode& n, const Shape& in, Row& r) {
    int rank = op_rank(n.op);
    std::size_t want = static_cast<std::size_t>(rank) + 2;
    if (in.size() == want) return true;
    if (rank == 1 && in.size() == 2 && std::holds_alternative<BatchNorm>(n.op)) return true;
    auto& d = error(n, "rank",
                    fmt::format("{} expects a {}-D input {}, got {}", op_name(n.op), want, shape_form(rank),
                                format_shape(in)));
    // Where the wrong rank came from: the network's input, or a layer that
    // changed the rank on the way (a Flatten, a Linear).
    // Kinds that set their output's rank (kinds.h: sets_rank) end the walk.
    auto sets_rank = [](const GraphNode* x) {
      const KindInfo* k = find_kind(op_name(x->op));
      return std::holds_alternative<Merge>(x->op) || (k && k->sets_rank);
    };
    const GraphNode* from = g_->producer(n.inputs[0].value);
    while (from && !sets_rank(from)) from = g_->producer(from->inputs[0].value);
    const char* other = in.size() >= 3 ? sibling(n.op, in.size() - 2) : nullptr;
    if (from && !std::holds_alternative<Merge>(from->op)) {
      d.notes.push_back(fmt::format("`{}` ({}) made it {}-D", from->name, op_name(from->op), in.size()));
      d.help = fmt::format("move `{}` after the last {}-D layer, or give it the dims that keep {}", from->name,
                           rank, shape_form(rank));
    } else if (!from && in.size() + 1 == want) {
      d.notes.push_back(fmt::format("the network's input is {}-D", in.size()));
      d.help = fmt::format("add the batch dimension to `input`, e.g. [1, {}]", fmt::join(in, ", "));
      if (other)
        d.help += fmt::format(" (if the first dim is already the batch, the layer for {} is {})",
                              shape_form(static_cast<int>(in.size()) - 2), other);
    } else if (!from) {
      d.notes.push_back(fmt::format("the network's input is {}-D", in.size()));
      d.help = other ? fmt::format("a {}-D input {} is what {} takes", in.size(),
                                   shape_form(static_cast<int>(in.size()) - 2), other)
                     : fmt::format("{} needs {}", op_name(n.op), shape_form(rank));
    }
    fail(r);
    return false;
  }

  // One spatial dim of a conv or pool through the formula; reports out < 1.
  // A conv with bias right before a BatchNorm: the BatchNorm's shift does the
  // bias's job (the seed's reason for bias=False).
  // Node i is a conv with bias and node i + 1 a BatchNorm reading it.
  void bias_before_batchnorm(std::size_t i) {
    const GraphNode& a = g_->nodes[i];
    const GraphNode& b = g_->nodes[i + 1];
    auto* conv = std::get_if<Conv>(&a.op);
    if (!conv || !conv->bias || !std::holds_alternative<BatchNorm>(b.op) ||
        b.inputs[0].value != value_of(i))
      return;
    auto& d = ev_.diagnostics.warning(
        "bias-before-batchnorm",
        fmt::format("`{}` has a bias, but the BatchNorm `{}` right after it subtracts the mean "
                    "and adds its own shift",
                    a.name, b.name),
        a.pointer, a.name);
    d.notes.push_back(fmt::format("the bias adds {} parameters that training cannot use",
                                  conv->out_channels));
    d.help = "the bias is redundant here: \"bias\": false saves those parameters (ResNet drops it; "
             "torchvision's VGG-BN keeps it, which is harmless)";
  }

  std::optional<int64_t> spatial(const GraphNode& n, const char* dim, const Window& w, Row& r,
                                 bool is_conv) {
    WindowResult res = window_output(w);
    // Input rows no window reaches (not counting padding). Only when windows
    // abut or overlap (stride ≤ span): with gaps, rows inside are skipped too.
    int64_t lost = res.leftover - w.pad_r;
    if (res.out >= 1 && lost > 0 && w.stride <= res.span) {
      std::string unit = lost == 1 ? std::string(dim).substr(0, std::string(dim).size() - 1) : dim;
      std::string message = fmt::format("{} `{}` never reads the last {} input {} of {}",
                                        op_name(n.op), n.name, lost, unit, w.in);
      std::string note = fmt::format("⌊({} + {} + {} − {}·({} − 1) − 1) / {}⌋ + 1 = {}: the "
                                     "division leaves a remainder of {}",
                                     w.in, w.pad_l, w.pad_r, w.dilation, w.kernel, w.stride,
                                     res.out, res.numerator % w.stride);
      auto& items = ev_.diagnostics.items;
      // The same loss in several dims is one warning: "rows and columns".
      if (!items.empty() && items.back().code == "floor-discards" && items.back().layer == n.name &&
          items.back().notes == std::vector<std::string>{note}) {
        lost_units_.push_back(unit);
        std::string units = lost_units_[0];
        for (std::size_t i = 1; i < lost_units_.size(); ++i)
          units += (i + 1 == lost_units_.size() ? " and " : ", ") + lost_units_[i];
        items.back().message = fmt::format("{} `{}` never reads the last {} input {} of {}", op_name(n.op), n.name,
                                           lost, units, w.in);
      } else {
        lost_units_ = {unit};
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
                      fmt::format("{} gives {} output {} from an input of {}", op_name(n.op),
                                  res.out, dim, w.in));
      d.notes.push_back(fmt::format("⌊({} + {} + {} − {}·({} − 1) − 1{}) / {}⌋ + 1 = {}", w.in,
                                    w.pad_l, w.pad_r, w.dilation, w.kernel,
                                    w.ceil_mode ? fmt::format(" + {} − 1", w.stride) : "",
                                    w.stride, res.out));
      if (res.out == 0 && op_rank(n.op) == 1 && std::holds_alternative<MaxPool>(n.op))
        d.notes.push_back("PyTorch's max_pool1d returns an empty tensor here on the CPU without autograd, and "
                          "raises when training or on CUDA: netshape reports it as the error it is");
      fail(r);
      return std::nullopt;
    }
    return res.out;
  }

  // A second call of node `n.shares`'s module: the module was built for the
  // input it got there, so what the spec inferred from that input (in_channels,
  // num_features, in_features) is fixed, and checked here as PyTorch would.
  // Its parameters are counted once, at the module.
  std::optional<Shape> shared(const GraphNode& n, const Shape& in) {
    const Row& first = ev_.rows[static_cast<std::size_t>(n.shares)];
    GraphNode bound = n;
    const Shape& was = first.input;
    int64_t c = was.size() > 1 ? was[1] : 0;
    std::visit(overloaded{[&](Conv& k) { k.in_channels = k.in_channels.value_or(c); },
                          [&](ConvTranspose& k) { k.in_channels = k.in_channels.value_or(c); },
                          [&](BatchNorm& k) { k.num_features = k.num_features.value_or(c); },
                          [&](InstanceNorm& k) { k.num_features = k.num_features.value_or(c); },
                          [&](GroupNorm& k) { k.num_channels = k.num_channels.value_or(c); },
                          [&](Linear& k) { k.in_features = k.in_features.value_or(was.empty() ? 0 : was.back()); },
                          [](auto&) {}},
               bound.op);
    std::size_t errors = ev_.diagnostics.items.size();
    auto y = visit_kind(bound, in);
    for (std::size_t k = errors; k < ev_.diagnostics.items.size(); ++k) {
      auto& d = ev_.diagnostics.items[k];
      // Its arguments are the module's: a message about one points at `shares`.
      if (d.pointer.size() > n.pointer.size() && d.pointer.compare(0, n.pointer.size() + 1, n.pointer + "/") == 0)
        d.pointer = n.pointer + "/shares";
      if (d.severity == Severity::error)
        d.notes.push_back(fmt::format("`{}` shares the module of `{}`, which was built for its input {}", n.name,
                                      first.name, format_shape(was)));
    }
    Row& r = ev_.rows.back();
    r.params = 0;
    r.arguments = "shares " + first.name + (r.arguments.empty() ? "" : " · " + r.arguments);
    return y;
  }

  std::optional<Shape> visit_kind(const GraphNode& n, const Shape& in) {
    return std::visit(
        overloaded{
            [&](const Conv& k) -> std::optional<Shape> { return conv(n, k, in); },
            [&](const BatchNorm& k) -> std::optional<Shape> {
              Row& r = row(n, op_name(n.op), in);
              if (!need_rank(n, in, r)) return std::nullopt;
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
              if (k.inplace) r.arguments = "inplace";
              return in;
            },
            [&](const MaxPool& m) -> std::optional<Shape> {
              auto k = kernel_read(n, m, in);
              if (!k) return std::nullopt;
              return pool(n, in, k->kernel_size, k->stride, k->padding, k->dilation, k->ceil_mode);
            },
            [&](const AvgPool& a) -> std::optional<Shape> {
              auto k = kernel_read(n, a, in);
              if (!k) return std::nullopt;
              return pool(n, in, k->kernel_size, k->stride, k->padding, Dims(k->kernel_size.size(), 1), k->ceil_mode);
            },
            [&](const AdaptiveAvgPool& k) -> std::optional<Shape> { return adaptive(n, in, k.output_size); },
            [&](const AdaptiveMaxPool& k) -> std::optional<Shape> { return adaptive(n, in, k.output_size); },
            [&](const Flatten& k) -> std::optional<Shape> {
              Row& r = row(n, "Flatten", in);
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
              // A spatial map (of any rank) flattened whole: its size follows the input's.
              if (rank >= 3 && s <= 2 && e == rank - 1 && !spatial_pinned_ &&
                  (named_spatial_ || std::any_of(in.begin() + 2, in.end(), [](int64_t x) { return x > 1; })))
                flattened_map_ = FlattenedMap{n.name, in};
              out.insert(out.end(), in.begin() + e + 1, in.end());
              if (k.start_dim != 1 || k.end_dim != -1)
                r.arguments = fmt::format("dims {}..{}", k.start_dim, k.end_dim);
              return out;
            },
            [&](const Linear& k) -> std::optional<Shape> {
              Row& r = row(n, "Linear", in);
              int64_t features = in.back();
              if (flattened_map_) {
                const Shape& m = flattened_map_->shape;
                auto& d = ev_.diagnostics.warning(
                    "linear-fixed-size",
                    fmt::format("`{}` takes {} features = {}, which holds only while the "
                                "input gives a {} map at `{}`",
                                n.name, features, fmt::join(m.begin() + 1, m.end(), "·"),
                                fmt::join(m.begin() + 2, m.end(), "×"), flattened_map_->layer),
                    n.pointer, n.name);
                d.help = fmt::format("an {} before Flatten (as torchvision does) makes it "
                                     "independent of the input size",
                                     AdaptiveAvgPool::names[std::min<std::size_t>(m.size() - 2, 3) - 1]);
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
              if (in.size() > 2 && !features_last(n.inputs[0].value)) {
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
              Row& r = row(n, k.name(), in);
              r.arguments = fmt::format("p={}{}", k.p, !k.stochastic ? "" : k.row_mode ? " mode=row" : " mode=batch");
              // Dropout1d refuses other ranks (PyTorch: "Dropout1d: Expected 2D or 3D input"); Dropout2d/3d only warn.
              if (k.rank == 1 && !k.alpha && in.size() != 2 && in.size() != 3) {
                error(n, "rank", fmt::format("Dropout1d expects [N, C] or [N, C, L], got {}", format_shape(in)))
                    .notes.push_back("PyTorch: \"Dropout1d: Expected 2D or 3D input\"");
                return fail(r);
              }
              if ((k.rank == 2 || k.rank == 3) && !k.alpha) dropout_rank(n, k.rank, in);
              return in;
            },
            [&](const InstanceNorm& k) -> std::optional<Shape> { return instance_norm(n, k, in); },
            [&](const GroupNorm& k) -> std::optional<Shape> { return group_norm(n, k, in); },
            [&](const LayerNorm& k) -> std::optional<Shape> { return layer_norm(n, k, in); },
            [&](const LocalResponseNorm& k) -> std::optional<Shape> {
              Row& r = row(n, "LocalResponseNorm", in);
              r.arguments = fmt::format("size={}", k.size);
              if (in.size() < 3) {
                error(n, "rank", fmt::format("LocalResponseNorm expects [N, C, …] with at least 3 dims, got {}",
                                             format_shape(in)))
                    .notes.push_back(fmt::format("PyTorch: \"Expected 3D or higher dimensionality input (got {} "
                                                 "dimensions)\"", in.size()));
                return fail(r);
              }
              // F.local_response_norm squares the input and pads the square with
              // size − 1 zero channels before its average pool: the one kind whose
              // intermediate can dwarf its output (size 3,000,000 on 64 channels).
              int64_t c = in[1];
              auto rest = numel(in);
              auto padded = checked_mul(rest.value_or(0) / std::max<int64_t>(c, 1), c + k.size - 1);
              auto scratch = padded ? checked_add(*padded, rest.value_or(0)) : std::nullopt;
              r.scratch_elements = scratch.value_or(-1);
              return in;
            },
            [&](const PReLU& k) -> std::optional<Shape> {
              Row& r = row(n, "PReLU", in);
              if (k.num_parameters != 1) r.arguments = fmt::format("num_parameters={}", k.num_parameters);
              // One slope per channel: dim 1, as ATen's prelu reads it (a 1-D input counts as 1 channel).
              int64_t channels = in.size() >= 2 ? in[1] : 1;
              if (k.num_parameters != 1 && k.num_parameters != channels) {
                auto& d = error(n, "channels", fmt::format("PReLU has {} slopes but the input has {} channels",
                                                           k.num_parameters, channels), "num_parameters");
                d.notes.push_back(fmt::format("PyTorch: \"Mismatch of parameter numbers and input channel size. Found "
                                              "parameter numbers = {} and channel size = {}.\"", k.num_parameters, channels));
                d.fixes.push_back({fmt::format("one slope per channel: num_parameters {}", channels),
                                   {fmt::format("{}.num_parameters={}", n.name, channels)}});
                d.fixes.push_back({"one slope for all channels", {n.name + ".num_parameters=1"}});
                return fail(r);
              }
              r.params = k.num_parameters;
              return in;
            },
            [&](const Softmax& k) -> std::optional<Shape> { return softmax(n, k, in); },
            [&](const Unflatten& k) -> std::optional<Shape> { return unflatten(n, k, in); },
            [&](const Narrow& k) -> std::optional<Shape> { return narrow(n, k, in); },
            [&](const Slice& k) -> std::optional<Shape> { return slice(n, k, in); },
            [&](const Chunk& k) -> std::optional<Shape> { return chunk(n, k, in); },
            [&](const GLU& k) -> std::optional<Shape> { return glu(n, k, in); },
            [&](const Permute& k) -> std::optional<Shape> { return permute(n, k, in); },
            [&](const Reshape& k) -> std::optional<Shape> {
              if (k.from_dim.empty()) return reshape(n, k, in);
              Reshape c = k;
              if (!sizes_read(n, k.name(), "shape", c.shape, c.from_dim, in)) return std::nullopt;
              auto out = reshape(n, c, in);
              ev_.rows.back().arguments = sizes_text(c.shape, k.from_dim, n.inputs[1].label);
              return out;
            },
            [&](const Squeeze& k) -> std::optional<Shape> { return squeeze(n, k, in); },
            [&](const Select& k) -> std::optional<Shape> { return select(n, k, in); },
            [&](const Reduce& k) -> std::optional<Shape> { return reduce(n, k, in); },
            [&](const Roll& k) -> std::optional<Shape> { return roll(n, k, in); },
            [&](const Expand& k) -> std::optional<Shape> {
              if (k.from_dim.empty() && !k.as_other) return expand(n, k, in);
              Expand c = k.as_other ? k.reading(value(n.inputs[1].value).size()) : k;
              if (!sizes_read(n, "Expand", "sizes", c.sizes, c.from_dim, in)) return std::nullopt;
              return expand(n, c, in);
            },
            [&](const Embedding& k) -> std::optional<Shape> {
              // F.embedding: weight.index_select(0, indices.reshape(-1)).view(indices.sizes() + [dim]).
              Row& r = row(n, "Embedding", in);
              r.arguments = fmt::format("{}×{}{}", k.num_embeddings, k.embedding_dim,
                                        k.padding_idx ? fmt::format(" padding_idx={}", *k.padding_idx) : "");
              r.params = checked_mul(k.num_embeddings, k.embedding_dim).value_or(INT64_MAX);
              Shape out = in;
              out.push_back(k.embedding_dim);
              return out;
            },
            [&](const Parameter& k) -> std::optional<Shape> {
              Row& r = row(n, "Parameter", {});
              r.arguments = format_shape(k.shape);
              r.params = numel(k.shape).value_or(INT64_MAX);
              return k.shape;
            },
            [&](const Pointwise& k) -> std::optional<Shape> {
              Row& r = row(n, op_name(n.op), in);
              std::vector<std::string> args;
              const auto& kind = pointwise_kind(k.fn);
              for (std::size_t i = 0; i < kind.args.size(); ++i)
                if (k.args[i] != kind.args[i].second) args.push_back(fmt::format("{}={}", kind.args[i].first, k.args[i]));
              if (k.tanh_gelu) args.push_back("approximate=tanh");
              if (k.inplace) args.push_back("inplace");
              r.arguments = fmt::format("{}", fmt::join(args, " "));
              return in;
            },
            [&](const ConvTranspose& k) -> std::optional<Shape> { return transposed(n, k, in); },
            [&](const Upsample& k) -> std::optional<Shape> {
              if (!k.size_from) return upsample(n, k, in);
              // F.interpolate(x, size=y.shape[2:]): y's spatial sizes.
              Upsample c = k;
              const Shape& y = value(n.inputs[1].value);
              c.size.assign(y.begin() + std::min<std::ptrdiff_t>(2, static_cast<std::ptrdiff_t>(y.size())), y.end());
              if (y.size() != in.size() && in.size() >= 3 && in.size() <= 5) {
                Row& r = row(n, k.name(), in);
                auto& d = error(n, "upsample-dims",
                                fmt::format("{} takes its size from `{}`, whose output {} has {} spatial dims; its "
                                            "input {} has {}", k.name(), n.inputs[1].label, format_shape(y),
                                            y.size() > 2 ? y.size() - 2 : 0, format_shape(in), in.size() - 2),
                                "size_from");
                d.notes.push_back("PyTorch: \"Input and output must have the same number of spatial dimensions\"");
                d.help = fmt::format("name a {}-D layer (or \"input\"), as F.interpolate(x, size=y.shape[2:]) reads "
                                     "y's sizes after [N, C]", in.size());
                return fail(r);
              }
              auto out = upsample(n, c, in);
              if (!ev_.rows.empty()) ev_.rows.back().arguments.insert(0, "size of " + n.inputs[1].label + " ");
              return out;
            },
            [&](const Pad& k) -> std::optional<Shape> {
              if (!k.to_other) return pad(n, k, in);
              const Shape& y = value(n.inputs[1].value);
              if (y.size() < static_cast<std::size_t>(k.rank)) {
                Row& r = row(n, k.name(), in);
                error(n, "rank", fmt::format("{} pads its last {} dims to `{}`'s, whose output {} has only {}", k.name(),
                                             k.rank, n.inputs[1].label, format_shape(y), y.size()), "size_from");
                return fail(r);
              }
              auto out = pad(n, pad_to(k, in, y), in);
              if (!ev_.rows.empty()) ev_.rows.back().arguments.insert(0, "to " + n.inputs[1].label + " ");
              return out;
            },
            [&](const PixelShuffle& k) -> std::optional<Shape> { return pixel_shuffle(n, k, in); },
            [&](const ChannelShuffle& k) -> std::optional<Shape> {
              Row& r = row(n, "ChannelShuffle", in);
              r.arguments = fmt::format("groups={}", k.groups);
              if (in.size() < 3) {
                error(n, "rank", fmt::format("ChannelShuffle expects [N, C, …] with at least 3 dims, got {}",
                                             format_shape(in)))
                    .notes.push_back("PyTorch: \"channel_shuffle expects input to have at least 3 dimensions\"");
                return fail(r);
              }
              if (in[1] % k.groups != 0) {
                auto& d = error(n, "groups", fmt::format("the input's {} channels are not divisible by groups {}",
                                                         in[1], k.groups), "groups");
                d.notes.push_back(fmt::format("PyTorch: \"Number of channels must be divisible by groups. Got {} "
                                              "channels and {} groups.\"", in[1], k.groups));
                return fail(r);
              }
              return in;
            },
            [&](const Merge&) -> std::optional<Shape> { return std::nullopt; },  // merge()
        },
        n.op);
  }

  // A conv's (or transposed conv's) input channels: as given, and divisible by groups.
  bool channels_fit(const GraphNode& n, const Shape& in, std::optional<int64_t> given, int64_t groups, Row& r) {
    int64_t c = in[1];
    if (given && *given != c) {
      auto& d = error(n, "channels", fmt::format("in_channels is {} but the input has {} channels", *given, c),
                      "in_channels");
      d.notes.push_back(fmt::format("input shape {}", format_shape(in)));
      fail(r);
      return false;
    }
    if (c % groups != 0) {
      error(n, "groups", fmt::format("the input's {} channels are not divisible by groups {}", c, groups), "groups")
          .help = "use a groups value that divides both the input and output channels";
      fail(r);
      return false;
    }
    return true;
  }

  // a · b · the kernel's volume, checked: an overflow is an error naming the layer.
  std::optional<int64_t> weight_count(const GraphNode& n, int64_t a, int64_t b, const Dims& kernel, Row& r) {
    auto w = checked_mul(a, b);
    for (int64_t ks : kernel)
      if (w) w = checked_mul(*w, ks);
    if (w && *w <= INT64_MAX / 2) return w;
    error(n, "overflow", "the weight count overflows 64 bits");
    fail(r);
    return std::nullopt;
  }

  // Conv1d/2d/3d: the window formula per spatial dim (ATen's conv_output_size).
  std::optional<Shape> conv(const GraphNode& n, const Conv& k, const Shape& in) {
    Row& r = row(n, op_name(n.op), in);
    if (!need_rank(n, in, r)) return std::nullopt;
    int64_t c = in[1];
    if (!channels_fit(n, in, k.in_channels, k.groups, r)) return std::nullopt;
    auto [pad_l, pad_r] = conv_pads(k);
    const std::size_t rank = k.kernel_size.size();
    Dims keep(rank);
    bool wide = false, dilated = false;
    Dims span(rank);
    for (std::size_t d = 0; d < rank; ++d) {
      // A dilated kernel spans dilation·(k − 1) + 1 (DeepLab's atrous convs pad
      // 12 around a 3×3 kernel dilated by 12, and keep the size): half of that.
      span[d] = k.dilation[d] * (k.kernel_size[d] - 1) + 1;
      keep[d] = (span[d] - 1) / 2;
      wide = wide || k.padding[d] > span[d] / 2;
      dilated = dilated || k.dilation[d] > 1;
    }
    if (k.padding_mode == Padding::explicit_ && wide) {
      auto& d = ev_.diagnostics.warning(
          "conv-padding",
          fmt::format("`{}` pads {} around a {} kernel{}: more than half the kernel, so edge windows see only zeros",
                      n.name, dims_text(k.padding), fmt::join(k.kernel_size, "×"),
                      dilated ? fmt::format(" dilated by {} (spanning {})", dims_text(k.dilation), fmt::join(span, "×")) : ""),
          n.pointer + "/padding", n.name);
      d.notes.push_back("legal for a conv in PyTorch (pools refuse it), but unusual");
      d.help = fmt::format("padding {} keeps the size at stride 1", dims_text(keep));
    }
    Shape out{in[0], k.out_channels};
    for (std::size_t d = 0; d < rank; ++d) {
      auto o = spatial(n, spatial_unit(rank, d),
                       {in[2 + d], k.kernel_size[d], k.stride[d], pad_l[d], pad_r[d], k.dilation[d], false}, r, true);
      if (!o) return std::nullopt;
      out.push_back(*o);
    }
    auto weights = weight_count(n, k.out_channels, c / k.groups, k.kernel_size, r);
    if (!weights) return std::nullopt;
    r.params = *weights + (k.bias ? k.out_channels : 0);
    r.arguments = fmt::format("k={} s={} p={}", dims_text(k.kernel_size), dims_text(k.stride),
                              k.padding_mode == Padding::same    ? "same"
                              : k.padding_mode == Padding::valid ? "valid"
                                                                 : dims_text(k.padding));
    if (std::any_of(k.dilation.begin(), k.dilation.end(), [](int64_t x) { return x != 1; }))
      r.arguments += " d=" + dims_text(k.dilation);
    if (k.groups != 1) r.arguments += fmt::format(" g={}", k.groups);
    return out;
  }

  std::optional<Shape> transposed(const GraphNode& n, const ConvTranspose& k, const Shape& in) {
    Row& r = row(n, op_name(n.op), in);
    if (!need_rank(n, in, r)) return std::nullopt;
    int64_t c = in[1];
    if (!channels_fit(n, in, k.in_channels, k.groups, r)) return std::nullopt;
    const std::size_t rank = k.kernel_size.size();
    Shape out{in[0], k.out_channels};
    for (std::size_t d = 0; d < rank; ++d) {
      TransposedWindow w{in[2 + d], k.kernel_size[d], k.stride[d], k.padding[d], k.output_padding[d], k.dilation[d]};
      out.push_back(transposed_output(w));
      if (out.back() >= 1) continue;
      // ATen: "Given input size per channel: ... Calculated output size per channel: ... Output size is too small".
      auto& e = error(n, "output-too-small", fmt::format("{} gives {} output {} from an input of {}", op_name(n.op),
                                                         out.back(), spatial_unit(rank, d), w.in));
      e.notes.push_back(fmt::format("({} − 1)·{} − 2·{} + {}·({} − 1) + {} + 1 = {}", w.in, w.stride, w.padding,
                                    w.dilation, w.kernel, w.output_padding, out.back()));
      e.help = "the padding takes more than the transposed conv adds: use less padding";
      return fail(r);
    }
    auto weights = weight_count(n, c, k.out_channels / k.groups, k.kernel_size, r);  // [in, out/groups, k…]
    if (!weights) return std::nullopt;
    r.params = *weights + (k.bias ? k.out_channels : 0);  // weight [in, out/groups, k...]
    r.arguments = fmt::format("k={} s={} p={}", dims_text(k.kernel_size), dims_text(k.stride), dims_text(k.padding));
    if (std::any_of(k.output_padding.begin(), k.output_padding.end(), [](int64_t x) { return x != 0; }))
      r.arguments += " op=" + dims_text(k.output_padding);
    if (std::any_of(k.dilation.begin(), k.dilation.end(), [](int64_t x) { return x != 1; }))
      r.arguments += " d=" + dims_text(k.dilation);
    if (k.groups != 1) r.arguments += fmt::format(" g={}", k.groups);
    return out;
  }

  // A pool whose kernel_size is read from another value (F.avg_pool2d(x,
  // x.size(3))): the dims must exist (PyTorch's IndexError), and the padding
  // the spec gives must be at most half the kernel read, as the parser
  // checks a kernel of numbers.
  template <class Pool> std::optional<Pool> kernel_read(const GraphNode& n, const Pool& k, const Shape& in) {
    if (k.read.from_dim.empty()) return k;
    const Shape& y = value(n.inputs[1].value);
    auto rank = static_cast<int64_t>(y.size());
    for (std::size_t i = 0; i < k.read.from_dim.size(); ++i) {
      if (!k.read.from_dim[i] || (*k.read.from_dim[i] >= -rank && *k.read.from_dim[i] < rank)) continue;
      Row& r = row(n, op_name(n.op), in);
      error(n, "kernel-read",
            fmt::format("{} reads its kernel_size from dim {} of `{}`, whose output {} is {}-D", op_name(n.op),
                        *k.read.from_dim[i], n.inputs[1].label, format_shape(y), rank), "kernel_size")
          .notes.push_back("PyTorch: \"tuple index out of range\"");
      fail(r);
      return std::nullopt;
    }
    Pool out = read_kernel(k, y);
    for (std::size_t i = 0; i < out.kernel_size.size(); ++i) {
      constexpr int64_t kInt32 = 2147483647;  // ATen's pooling takes the kernel as an int
      if (out.kernel_size[i] > kInt32) {
        Row& r = row(n, op_name(n.op), in);
        error(n, "out-of-range", fmt::format("{} reads a kernel_size of {} from `{}`, over 2,147,483,647", op_name(n.op),
                                             out.kernel_size[i], n.inputs[1].label), "kernel_size")
            .notes.push_back("PyTorch: \"value cannot be converted to type int32 without overflow\"");
        fail(r);
        return std::nullopt;
      }
      if (out.padding[i] <= out.kernel_size[i] / 2) continue;
      Row& r = row(n, op_name(n.op), in);
      auto& d = error(n, "pool-padding", fmt::format("{} padding {} is more than half the kernel size {} it reads from `{}`",
                                                     op_name(n.op), out.padding[i], out.kernel_size[i], n.inputs[1].label),
                      "padding");
      d.notes.push_back("PyTorch: \"pad should be at most half of kernel size\"");
      d.help = fmt::format("use padding {} or less", out.kernel_size[i] / 2);
      fail(r);
      return std::nullopt;
    }
    return out;
  }

  std::optional<Shape> pool(const GraphNode& n, const Shape& in, const Dims& kernel, const Dims& stride,
                            const Dims& padding, const Dims& dilation, bool ceil_mode) {
    Row& r = row(n, op_name(n.op), in);
    if (!need_rank(n, in, r)) return std::nullopt;
    if (auto* avg = std::get_if<AvgPool>(&n.op); avg && avg->rank == 3 && !avg_pool3d_fits(n, in, kernel, r))
      return std::nullopt;
    Shape out{in[0], in[1]};
    for (std::size_t d = 0; d < kernel.size(); ++d) {
      auto o = spatial(n, spatial_unit(kernel.size(), d),
                       {in[2 + d], kernel[d], stride[d], padding[d], padding[d], dilation[d], ceil_mode}, r, false);
      if (!o) return std::nullopt;
      out.push_back(*o);
    }
    r.arguments = fmt::format("k={} s={} p={}", dims_text(kernel), dims_text(stride), dims_text(padding));
    if (std::any_of(dilation.begin(), dilation.end(), [](int64_t x) { return x != 1; }))
      r.arguments += " d=" + dims_text(dilation);
    if (ceil_mode) r.arguments += " ceil";
    return out;
  }

  // F.interpolate's output size: `size`, or ⌊in·scale⌋ in double precision.
  std::optional<Shape> upsample(const GraphNode& n, const Upsample& k, const Shape& in) {
    Row& r = row(n, k.name(), in);
    const std::size_t spatial = in.size() >= 3 ? in.size() - 2 : 0;
    std::vector<std::string> args;
    if (!k.size.empty()) args.push_back(fmt::format("size={}", fmt::join(k.size, "×")));
    else args.push_back(fmt::format("scale={}", fmt::join(k.scale, "×")));
    if (k.kind == 0) args.push_back(interp_name(k.mode));
    if (k.align_corners && k.kind == 0) args.push_back(*k.align_corners ? "align_corners" : "align_corners=False");
    r.arguments = fmt::format("{}", fmt::join(args, " "));
    // The rank each mode needs (F.interpolate: "Got 4D input, but linear mode needs 3D input").
    int needs = k.mode == Interp::linear ? 3 : k.mode == Interp::bilinear || k.mode == Interp::bicubic ? 4
              : k.mode == Interp::trilinear ? 5 : 0;
    if (in.size() < 3 || in.size() > 5 || (needs && static_cast<int>(in.size()) != needs)) {
      auto& d = error(n, "rank", needs ? fmt::format("{} mode \"{}\" needs a {}-D input {}, got {}", k.name(),
                                                     interp_name(k.mode), needs, shape_form(needs - 2), format_shape(in))
                                       : fmt::format("{} needs a 3-D, 4-D or 5-D input [N, C, …], got {}", k.name(),
                                                     format_shape(in)));
      if (needs && in.size() >= 3 && in.size() <= 5)
        d.help = fmt::format("for a {}-D input use mode \"{}\" (or \"nearest\")", in.size(),
                             in.size() == 3 ? "linear" : in.size() == 4 ? "bilinear" : "trilinear");
      return fail(r);
    }
    const std::vector<double>& sc = k.scale;
    std::size_t given = k.size.empty() ? sc.size() : k.size.size();
    if (given != spatial && (given != 1 || k.listed)) {  // F.interpolate: a list has one entry per spatial dim
      auto& d = error(n, "upsample-dims", fmt::format("{} gives {} {} for an input with {} spatial dims {}", k.name(),
                                                      given, k.size.empty() ? "scale factors" : "sizes", spatial,
                                                      format_shape(in)),
                      k.size.empty() ? "scale_factor" : "size");
      d.notes.push_back("PyTorch: \"Input and output must have the same number of spatial dimensions\"");
      d.help = fmt::format("give {} {}, one per spatial dim, or a single number for all of them", spatial,
                           k.size.empty() ? "scale factors" : "sizes");
      return fail(r);
    }
    Shape out{in[0], in[1]};
    for (std::size_t d = 0; d < spatial; ++d) {
      int64_t o = 0;
      if (!k.size.empty()) {
        o = k.size[given == 1 ? 0 : d];
      } else {
        double v = std::floor(static_cast<double>(in[2 + d]) * sc[given == 1 ? 0 : d]);
        if (!(v < 9.2e18)) {
          error(n, "overflow", fmt::format("{} makes {} {} out of {}: more than 64 bits", k.name(), v,
                                           spatial_unit(spatial, d), in[2 + d]));
          return fail(r);
        }
        o = static_cast<int64_t>(v);
      }
      if (o < 1) {
        auto& e = error(n, "output-too-small", fmt::format("{} gives {} output {} from an input of {}", k.name(), o,
                                                           spatial_unit(spatial, d), in[2 + d]),
                        "scale_factor");
        e.notes.push_back(fmt::format("⌊{}·{}⌋ = {}", in[2 + d], sc[given == 1 ? 0 : d], o));
        e.notes.push_back(k.mode == Interp::area
                              ? "PyTorch's \"area\" mode (adaptive average pooling) returns an empty tensor here "
                                "instead of raising: netshape reports it as the error it is"
                              : "PyTorch: \"Input and output sizes should be greater than 0\"");
        return fail(r);
      }
      out.push_back(o);
    }
    return out;
  }

  // F.pad: every padded dim grows by its two sizes (a negative constant pad crops).
  std::optional<Shape> pad(const GraphNode& n, const Pad& k, const Shape& in) {
    Row& r = row(n, k.name(), in);
    bool same = std::all_of(k.pads.begin(), k.pads.end(), [&](int64_t x) { return x == k.pads[0]; });
    r.arguments = same ? fmt::format("p={}", k.pads[0]) : fmt::format("p=({})", fmt::join(k.pads, ", "));
    const auto rank = static_cast<std::size_t>(k.rank);
    // Reflection and replication need [N, C] and exactly `rank` spatial dims;
    // a constant pad pads the last `rank` dims of any input that has them.
    bool fits = k.mode == PadMode::constant ? in.size() >= rank : in.size() == rank + 2;
    if (!fits) {
      error(n, "rank", k.mode == PadMode::constant
                           ? fmt::format("{} pads the last {} dims, but the input {} has only {}", k.name(), rank,
                                         format_shape(in), in.size())
                           : fmt::format("{} expects a {}-D input {}, got {}", k.name(), rank + 2,
                                         shape_form(k.rank), format_shape(in)));
      return fail(r);
    }
    Shape out = in;
    for (std::size_t i = 0; i < rank; ++i) {
      std::size_t d = in.size() - 1 - i;  // pads[2i], pads[2i + 1] pad the i-th dim from the end
      int64_t before = k.pads[2 * i], after = k.pads[2 * i + 1];
      const char* unit = spatial_unit(rank, rank - 1 - i);
      if (k.mode == PadMode::reflect && (before >= in[d] || after >= in[d])) {
        auto& e = error(n, "reflect-padding",
                        fmt::format("{} pads {} by ({}, {}), but reflection needs padding smaller than the input's {} {}",
                                    k.name(), unit, before, after, in[d], unit),
                        "padding");
        e.notes.push_back(fmt::format("PyTorch: \"Padding size should be less than the corresponding input dimension, "
                                      "but got: padding ({}, {}) at dimension {} of input {}\"",
                                      before, after, d, format_shape(in)));
        e.help = "reflection mirrors the input without repeating the edge: it cannot pad more than the input "
                 "holds minus one; use ReplicationPad or a constant pad for more";
        return fail(r);
      }
      out[d] = in[d] + before + after;
      // ATen's constant_pad_nd narrows for each negative size in turn: together
      // they cannot take more than the dim holds, even where the other side adds back.
      if (in[d] + std::min<int64_t>(before, 0) + std::min<int64_t>(after, 0) < 0) {
        auto& e = error(n, "output-too-small", fmt::format("{} crops {} {} from {} {}", k.name(),
                                                           -std::min<int64_t>(before, 0) - std::min<int64_t>(after, 0),
                                                           unit, in[d], unit),
                        "padding");
        e.help = "a negative padding crops, before the other side is padded: it cannot take away more than the dim holds";
        return fail(r);
      }
      if (out[d] < 1) {
        auto& e = error(n, "output-too-small", fmt::format("{} crops {} to {} ({} {} {} {})", k.name(), unit, out[d],
                                                           in[d], before < 0 ? "−" : "+", std::abs(before),
                                                           after < 0 ? "− " + std::to_string(-after)
                                                                     : "+ " + std::to_string(after)),
                        "padding");
        e.help = "a negative padding crops: it cannot take away the whole dim";
        return fail(r);
      }
    }
    return out;
  }

  // [*, C·r², H, W] ↔ [*, C, H·r, W·r] (ATen's pixel_shuffle / pixel_unshuffle checks).
  std::optional<Shape> pixel_shuffle(const GraphNode& n, const PixelShuffle& k, const Shape& in) {
    Row& r = row(n, k.name(), in);
    r.arguments = fmt::format("r={}", k.factor);
    if (in.size() < 4) {
      auto& d = error(n, "rank", fmt::format("{} expects a 4-D input [N, C, H, W], got {}", k.name(), format_shape(in)));
      if (in.size() == 3) d.help = fmt::format("add the batch dimension, e.g. [1, {}]", fmt::join(in, ", "));
      return fail(r);
    }
    std::size_t c = in.size() - 3, h = in.size() - 2, w = in.size() - 1;
    int64_t rr = k.factor * k.factor;
    Shape out = in;
    if (!k.unshuffle) {
      if (in[c] % rr != 0) {
        auto& d = error(n, "pixel-shuffle", fmt::format("PixelShuffle({}) needs channels divisible by {}² = {}, got {}",
                                                        k.factor, k.factor, rr, in[c]),
                        "upscale_factor");
        d.notes.push_back(fmt::format("PyTorch: \"pixel_shuffle expects its input's 'channel' dimension to be divisible "
                                      "by the square of upscale_factor, but input.size(-3)={} is not divisible by {}\"",
                                      in[c], rr));

        return fail(r);
      }
      auto oh = checked_mul(in[h], k.factor), ow = checked_mul(in[w], k.factor);
      if (!oh || !ow) { error(n, "overflow", "the output size overflows 64 bits"); return fail(r); }
      out[c] = in[c] / rr, out[h] = *oh, out[w] = *ow;
      return out;
    }
    for (std::size_t d : {h, w})
      if (in[d] % k.factor != 0) {
        auto& e = error(n, "pixel-shuffle", fmt::format("PixelUnshuffle({}) needs the {} divisible by {}, got {}",
                                                        k.factor, d == h ? "height" : "width", k.factor, in[d]),
                        "downscale_factor");
        e.notes.push_back(fmt::format("PyTorch: \"pixel_unshuffle expects {} to be divisible by downscale_factor, but "
                                      "input.size({})={} is not divisible by {}\"",
                                      d == h ? "height" : "width", d == h ? -2 : -1, in[d], k.factor));
        return fail(r);
      }
    auto oc = checked_mul(in[c], rr);
    if (!oc) { error(n, "overflow", "the channel count overflows 64 bits"); return fail(r); }
    out[c] = *oc, out[h] = in[h] / k.factor, out[w] = in[w] / k.factor;
    return out;
  }

  // F.dropout2d and F.dropout3d warn (in eval mode too) where the rank is not
  // theirs: a 5-D input to Dropout2d drops whole depth slices of a volume, a
  // 3-D one is read as [N, C, L] (PyTorch 1.13's functional.py).
  void dropout_rank(const GraphNode& n, int rank, const Shape& in) {
    std::size_t want = static_cast<std::size_t>(rank) + 2;
    if (in.size() == want) return;
    auto& d = ev_.diagnostics.warning(
        "dropout-rank", fmt::format("Dropout{}d `{}` gets a {}-D input {}; it drops whole channels of {} {}", rank,
                                    n.name, in.size(), format_shape(in), shape_form(rank),
                                    in.size() == want - 1 ? "maps, so it reads this one as one sample without a batch"
                                                          : "maps"),
        n.pointer, n.name);
    if (rank == 2 && in.size() == 3)
      d.notes.push_back("PyTorch: \"dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D "
                        "dropout behavior is desired - input is interpreted as shape (N, C, L)\"");
    else if (in.size() != want - 1)
      d.notes.push_back(fmt::format("PyTorch: \"dropout{}d: Received a {}-D input to dropout{}d, which is deprecated "
                                    "and will result in an error in a future release\"", rank, in.size(), rank));
    d.help = in.size() >= 3 && in.size() <= 5
                 ? fmt::format("for a {}-D input use Dropout{}d", in.size(), in.size() - 2)
                 : "for other ranks use Dropout, which drops single values";
  }

  std::optional<Shape> instance_norm(const GraphNode& n, const InstanceNorm& k, const Shape& in) {
    Row& r = row(n, op_name(n.op), in);
    if (!need_rank(n, in, r)) return std::nullopt;
    // Statistics of one value per channel: PyTorch refuses them whenever it
    // uses the input's own (training, or no running stats: eval mode too).
    int64_t spatial = 1;
    for (std::size_t i = 2; i < in.size(); ++i) spatial *= in[i];
    if (spatial == 1 && !k.track_running_stats) {
      auto& d = error(n, "one-value-per-channel", fmt::format("{} `{}` normalises each channel over its {} values, and {} has "
                                                  "one per channel",
                                                  op_name(n.op), n.name, shape_form(static_cast<int>(in.size()) - 2),
                                                  format_shape(in)));
      d.notes.push_back(fmt::format("PyTorch: \"Expected more than 1 spatial element when training, got input size "
                                    "torch.Size({})\" (in eval mode too, without running stats)", format_shape(in)));
      d.help = "normalise a larger map (InstanceNorm before the last pooling), or use track_running_stats=true";
      return fail(r);
    }
    // Only the affine weights and the running statistics tie it to a channel
    // count; without them PyTorch 1.13 normalises any channels (with a warning).
    if (k.num_features && *k.num_features != in[1]) {
      if (k.affine || k.track_running_stats) {
        error(n, "channels", fmt::format("num_features is {} but the input has {} channels", *k.num_features, in[1]),
              "num_features");
        return fail(r);
      }
      ev_.diagnostics.warning("instance-norm-channels", fmt::format("`{}` says num_features {} but gets {} channels: without affine "
                                                      "weights or running stats it normalises them anyway",
                                                      n.name, *k.num_features, in[1]),
                              n.pointer + "/num_features", n.name);
    }
    r.params = k.affine ? 2 * in[1] : 0;
    return in;
  }

  std::optional<Shape> group_norm(const GraphNode& n, const GroupNorm& k, const Shape& in) {
    Row& r = row(n, "GroupNorm", in);
    r.arguments = fmt::format("groups={}", k.num_groups);
    if (in.size() < 2) {
      error(n, "rank", fmt::format("GroupNorm expects [N, C, …], got {}", format_shape(in)));
      return fail(r);
    }
    int64_t c = in[1];
    if (k.num_channels && *k.num_channels != c && k.affine) {
      error(n, "channels", fmt::format("num_channels is {} but the input has {} channels", *k.num_channels, c),
            "num_channels")
          .notes.push_back(fmt::format("PyTorch: \"Expected weight to be a vector of size equal to the number of "
                                       "channels in input, but got weight of shape [{}] and input of shape {}\"",
                                       *k.num_channels, format_shape(in)));
      return fail(r);
    }
    if (k.num_channels && *k.num_channels != c) {
      // Without affine PyTorch keeps no per-channel weight, so it never looks.
      auto& d = ev_.diagnostics.warning(
          "group-norm-channels",
          fmt::format("GroupNorm `{}` says num_channels {} but its input has {} channels", n.name, *k.num_channels, c),
          n.pointer + "/num_channels", n.name);
      d.notes.push_back("with affine=False PyTorch has no per-channel weight and does not check num_channels; the "
                        "spec is almost surely wrong here");
      d.help = fmt::format("write num_channels {} (or leave it out: netshape takes it from the input)", c);
    }
    if (c % k.num_groups != 0) {
      auto& d = error(n, "groups", fmt::format("the input's {} channels are not divisible by num_groups {}", c,
                                               k.num_groups), "num_groups");
      d.notes.push_back(fmt::format("PyTorch: \"Expected number of channels in input to be divisible by num_groups, "
                                    "but got input of shape {} and num_groups={}\"", format_shape(in), k.num_groups));
      int64_t g = largest_divisor_below(c, k.num_groups);
      d.fixes.push_back({fmt::format("use num_groups {}, which divides {}", g, c), {fmt::format("{}.num_groups={}", n.name, g)}});
      return fail(r);
    }
    r.params = k.affine ? 2 * k.num_channels.value_or(c) : 0;
    return in;
  }

  std::optional<Shape> layer_norm(const GraphNode& n, const LayerNorm& k, const Shape& in) {
    Row& r = row(n, "LayerNorm", in);
    const Shape& ns = k.normalized_shape;
    r.arguments = fmt::format("over {}", format_shape(ns));
    bool fits = in.size() >= ns.size() && std::equal(ns.begin(), ns.end(), in.end() - static_cast<std::ptrdiff_t>(ns.size()));
    if (!fits) {
      auto& d = error(n, "layer-norm-shape", fmt::format("LayerNorm normalises over {} but the input {} does not end "
                                                         "with those dims", format_shape(ns), format_shape(in)),
                      "normalized_shape");
      d.notes.push_back(fmt::format("PyTorch: \"Given normalized_shape={}, expected input with shape [*, {}], but got "
                                    "input of size{}\"", format_shape(ns), fmt::join(ns, ", "), format_shape(in)));
      if (in.size() > 2)
        d.fixes.push_back({fmt::format("normalise over every dim but the batch, {}", format_shape(Shape(in.begin() + 1, in.end()))),
                           {fmt::format("{}.normalized_shape=[{}]", n.name, fmt::join(in.begin() + 1, in.end(), ","))}});
      if (!in.empty())
        d.fixes.push_back({fmt::format("normalise over the last dim, {}", in.back()),
                           {fmt::format("{}.normalized_shape={}", n.name, in.back())}});
      return fail(r);
    }
    int64_t count = 1;
    for (int64_t x : ns) count = checked_mul(count, x).value_or(INT64_MAX / 4);
    r.params = k.elementwise_affine ? (k.bias ? 2 : 1) * count : 0;
    return in;
  }

  std::optional<Shape> softmax(const GraphNode& n, const Softmax& k, const Shape& in) {
    Row& r = row(n, k.name(), in);
    auto rank = static_cast<int64_t>(in.size());
    if (k.which == Softmax::softmax2d) {
      if (rank != 3 && rank != 4) {
        error(n, "rank", fmt::format("Softmax2d expects [N, C, H, W] (or [C, H, W]), got {}", format_shape(in)))
            .notes.push_back("PyTorch: \"Softmax2d: expected input to be 3D or 4D\"");
        return fail(r);
      }
      return in;
    }
    int64_t dim = 0;
    if (!k.dim) {
      // PyTorch's _get_softmax_dim: 0 for 0-, 1- and 3-D inputs, else 1, with a warning.
      dim = rank == 0 || rank == 1 || rank == 3 ? 0 : 1;
      auto& d = ev_.diagnostics.warning("implicit-dim", fmt::format("`{}` has no `dim`: PyTorch picks dim {} for a "
                                                                    "{}-D input, and warns that this choice is deprecated",
                                                                    n.name, dim, rank),
                                        n.pointer, n.name);
      d.help = fmt::format("say which: \"dim\": {} (or --set {}.dim={})", dim, n.name, dim);
    } else {
      dim = *k.dim;
      if (dim < -std::max<int64_t>(rank, 1) || dim >= std::max<int64_t>(rank, 1)) {
        auto& d = error(n, "dim", fmt::format("{} over dim {} does not fit a {}-D input {}", k.name(), dim, rank,
                                              format_shape(in)), "dim");
        d.notes.push_back(fmt::format("PyTorch: \"Dimension out of range (expected to be in range of [{}, {}], but got "
                                      "{})\"", -std::max<int64_t>(rank, 1), std::max<int64_t>(rank, 1) - 1, dim));
        d.fixes.push_back({"the last dim", {n.name + ".dim=-1"}});
        return fail(r);
      }
    }
    r.arguments = fmt::format("dim={}", dim);
    return in;
  }

  std::optional<Shape> unflatten(const GraphNode& n, const Unflatten& k, const Shape& in) {
    Row& r = row(n, "Unflatten", in);
    r.arguments = fmt::format("dim {} → {}", k.dim, format_shape(k.sizes));
    auto dim_at = dim_of(n, "Unflatten", k.dim, in, r);
    if (!dim_at) return std::nullopt;
    const int64_t dim = *dim_at;
    int64_t known = 1;
    for (int64_t x : k.sizes)
      if (x != -1) known = checked_mul(known, x).value_or(INT64_MAX);
    Shape sizes = k.sizes;
    bool infer = std::find(sizes.begin(), sizes.end(), -1) != sizes.end();
    int64_t size = in[static_cast<std::size_t>(dim)];
    if (infer ? size % known != 0 : known != size) {
      auto& d = error(n, "unflatten", fmt::format("Unflatten splits dim {} of size {} into {}, whose product is {}",
                                                  dim, size, format_shape(k.sizes), known), "unflattened_size");
      d.notes.push_back(fmt::format("PyTorch: \"unflatten: Provided sizes {} don't multiply up to the size of dim {} "
                                    "({}) in the input tensor\"", format_shape(k.sizes), dim, size));
      return fail(r);
    }
    if (infer) *std::find(sizes.begin(), sizes.end(), -1) = size / known;
    Shape out(in.begin(), in.begin() + dim);
    out.insert(out.end(), sizes.begin(), sizes.end());
    out.insert(out.end(), in.begin() + dim + 1, in.end());
    return out;
  }

  // A `dim` argument (negative counts from the end) as an index into `in`, or an error.
  std::optional<int64_t> dim_of(const GraphNode& n, const char* kind, int64_t dim, const Shape& in, Row& r) {
    auto rank = static_cast<int64_t>(in.size());
    int64_t d = dim < 0 ? dim + rank : dim;
    if (d >= 0 && d < rank) return d;
    error(n, "dim", fmt::format("{} dim {} does not fit a {}-D input {}", kind, dim, rank, format_shape(in)), "dim");
    fail(r);
    return std::nullopt;
  }

  // torch.narrow: [start, start + length) of one dim (a negative start counts from the end).
  // x[start:end:step] on one dim, as ATen's slice: a negative bound counts
  // from the end, both are clamped into [0, size], and the length is
  // len(range(start, end, step)). PyTorch returns an empty tensor where
  // nothing is left; netshape refuses it, as it does every size of 0.
  std::optional<Shape> slice(const GraphNode& n, const Slice& k, const Shape& in) {
    Row& r = row(n, "Slice", in);
    r.arguments = slice_text(k);
    auto dim_at = dim_of(n, "Slice", k.dim, in, r);
    if (!dim_at) return std::nullopt;
    const auto dim = static_cast<std::size_t>(*dim_at);
    Shape out = in;
    out[dim] = slice_length(k, in[dim]);
    if (out[dim] < 1) {
      error(n, "output-too-small", fmt::format("Slice {} of dim {} (size {}) keeps nothing", slice_text(k), dim, in[dim]),
            k.start ? "start" : "end")
          .notes.push_back(fmt::format("PyTorch gives an empty tensor (size 0 in dim {}); netshape follows no empty "
                                       "tensors", dim));
      return fail(r);
    }
    return out;
  }

  std::optional<Shape> narrow(const GraphNode& n, const Narrow& k, const Shape& in) {
    Row& r = row(n, "Narrow", in);
    r.arguments = fmt::format("dim={} [{}, +{})", k.dim, k.start, k.length);
    auto dim_at = dim_of(n, "Narrow", k.dim, in, r);
    if (!dim_at) return std::nullopt;
    const int64_t dim = *dim_at;
    int64_t size = in[static_cast<std::size_t>(dim)];
    if (k.start < -size || k.start > size) {
      error(n, "narrow", fmt::format("Narrow starts at {}, outside dim {} of size {}", k.start, dim, size), "start")
          .notes.push_back(fmt::format("PyTorch: \"start out of range (expected to be in range of [{}, {}], but got {})\"",
                                       -size, size, k.start));
      return fail(r);
    }
    int64_t start = k.start < 0 ? k.start + size : k.start;
    if (start + k.length > size) {
      error(n, "narrow", fmt::format("Narrow takes {} from {} but dim {} has only {}", k.length, start, dim, size),
            "length")
          .notes.push_back(fmt::format("PyTorch: \"start ({}) + length ({}) exceeds dimension size ({}).\"", start,
                                       k.length, size));
      return fail(r);
    }
    if (k.length < 1) {
      error(n, "output-too-small", "Narrow of length 0 gives an empty tensor", "length");
      return fail(r);
    }
    Shape out = in;
    out[static_cast<std::size_t>(dim)] = k.length;
    return out;
  }

  // torch.chunk(x, chunks, dim)[index]: chunks of ⌈size/chunks⌉, the last
  // smaller, and fewer than asked when the size does not divide.
  std::optional<Shape> chunk(const GraphNode& n, const Chunk& k, const Shape& in) {
    Row& r = row(n, "Chunk", in);
    r.arguments = fmt::format("{} of {} along dim {}", k.index, k.chunks, k.dim);
    auto dim_at = dim_of(n, "Chunk", k.dim, in, r);
    if (!dim_at) return std::nullopt;
    const int64_t dim = *dim_at;
    int64_t size = in[static_cast<std::size_t>(dim)];
    int64_t each = (size + k.chunks - 1) / k.chunks;
    int64_t count = (size + each - 1) / each;
    if (k.index >= count) {
      auto& d = error(n, "chunk", fmt::format("torch.chunk makes {} chunk{} of dim {} (size {}, {} each), so there is "
                                              "no chunk {}", count, count == 1 ? "" : "s", dim, size, each, k.index),
                      "index");
      if (count < k.chunks)
        d.notes.push_back(fmt::format("fewer than the {} asked: chunks of ⌈{}/{}⌉ = {} use up the dim after {}", k.chunks,
                                      size, k.chunks, each, count));
      return fail(r);
    }
    Shape out = in;
    out[static_cast<std::size_t>(dim)] = std::min(each, size - k.index * each);
    return out;
  }

  // A dim index wrapped as ATen's maybe_wrap_dim does, or its error.
  std::optional<std::size_t> wrapped(const GraphNode& n, const char* field, int64_t dim, const Shape& in, Row& r) {
    auto rank = static_cast<int64_t>(in.size());
    if (dim >= -rank && dim < rank) return static_cast<std::size_t>(dim < 0 ? dim + rank : dim);
    error(n, "dim", fmt::format("{} dim {} does not fit a {}-D input {}", r.type, dim, rank, format_shape(in)), field)
        .notes.push_back(fmt::format("PyTorch: \"Dimension out of range (expected to be in range of [{}, {}], but got "
                                     "{})\"", -rank, rank - 1, dim));
    fail(r);
    return std::nullopt;
  }

  // x.permute(*dims) (ATen's permute: one index per dim, none twice), x.transpose(dim0, dim1).
  std::optional<Shape> permute(const GraphNode& n, const Permute& k, const Shape& in) {
    Row& r = row(n, k.name(), in);
    auto rank = static_cast<int64_t>(in.size());
    Shape order(in.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int64_t>(i);
    if (k.transpose) {
      r.arguments = fmt::format("{} ↔ {}", k.dim0, k.dim1);
      auto a = wrapped(n, "dim0", k.dim0, in, r);
      auto b = a ? wrapped(n, "dim1", k.dim1, in, r) : std::nullopt;
      if (!b) return std::nullopt;
      std::swap(order[*a], order[*b]);
    } else {
      r.arguments = format_shape(k.dims);
      if (static_cast<int64_t>(k.dims.size()) != rank) {
        error(n, "permute", fmt::format("Permute orders {} dims but its input {} has {}", k.dims.size(),
                                        format_shape(in), rank), "dims")
            .notes.push_back(fmt::format("PyTorch: \"permute(sparse_coo): number of dimensions in the tensor input does "
                                         "not match the length of the desired ordering of dimensions i.e. input.dim() = "
                                         "{} is not equal to len(dims) = {}\"", rank, k.dims.size()));
        return fail(r);
      }
      std::vector<bool> seen(in.size());
      for (std::size_t i = 0; i < k.dims.size(); ++i) {
        auto d = wrapped(n, "dims", k.dims[i], in, r);
        if (!d) return std::nullopt;
        if (seen[*d]) {
          error(n, "permute", fmt::format("Permute names dim {} twice in {}", *d, format_shape(k.dims)), "dims")
              .notes.push_back("PyTorch: \"permute(): duplicate dims are not allowed.\"");
          return fail(r);
        }
        seen[*d] = true;
        order[i] = static_cast<int64_t>(*d);
      }
    }
    Shape out(in.size());
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = in[static_cast<std::size_t>(order[i])];
    return out;
  }

  // PyTorch would give a 0-d tensor (one number): netshape follows tensors with dims.
  std::optional<Shape> no_dims_left(const GraphNode& n, Row& r, const char* help) {
    error(n, "zero-dim", fmt::format("{} `{}` leaves a 0-d tensor (a single number); netshape follows tensors with at "
                                     "least one dim", r.type, n.name)).help = help;
    return fail(r);
  }

  // x.squeeze(dim): drops dim when its size is 1 (PyTorch keeps any other);
  // without dim, every size-1 dim. x.unsqueeze(dim): dim in [−rank−1, rank].
  std::optional<Shape> squeeze(const GraphNode& n, const Squeeze& k, const Shape& in) {
    Row& r = row(n, k.name(), in);
    r.arguments = k.dim ? fmt::format("dim={}", *k.dim) : std::string("every size-1 dim");
    Shape out = in;
    if (k.unsqueeze) {
      Shape wider = in;
      wider.push_back(1);  // unsqueeze's range is the output's: one dim more
      auto d = wrapped(n, "dim", *k.dim, wider, r);
      if (!d) return std::nullopt;
      out.insert(out.begin() + static_cast<std::ptrdiff_t>(*d), 1);
      return out;
    }
    if (k.dim) {
      auto d = wrapped(n, "dim", *k.dim, in, r);
      if (!d) return std::nullopt;
      if (in[*d] == 1) out.erase(out.begin() + static_cast<std::ptrdiff_t>(*d));
    } else {
      out.erase(std::remove(out.begin(), out.end(), 1), out.end());
    }
    if (out.empty()) return no_dims_left(n, r, "give `dim`, or keep one dim");
    return out;
  }

  // x.select(dim, index) (x[:, index]): ATen's select checks the index against the dim.
  std::optional<Shape> select(const GraphNode& n, const Select& k, const Shape& in) {
    Row& r = row(n, "Select", in);
    r.arguments = fmt::format("dim={} index={}", k.dim, k.index);
    auto d = wrapped(n, "dim", k.dim, in, r);
    if (!d) return std::nullopt;
    int64_t size = in[*d];
    if (k.index < -size || k.index >= size) {
      auto& e = error(n, "select", fmt::format("Select takes entry {} of dim {}, which has {}", k.index, *d, size),
                      "index");
      e.notes.push_back(fmt::format("PyTorch: \"select(): index {} out of range for tensor of size {} at dimension {}\"",
                                    k.index, format_shape(in), *d));
      e.help = fmt::format("an index from {} to {}", -size, size - 1);
      return fail(r);
    }
    Shape out = in;
    out.erase(out.begin() + static_cast<std::ptrdiff_t>(*d));
    if (out.empty()) return no_dims_left(n, r, "use Narrow with length 1 to keep the dim");
    return out;
  }

  // torch.mean/sum/amax over dims: each named once (ATen's dim_list_to_bitset).
  std::optional<Shape> reduce(const GraphNode& n, const Reduce& k, const Shape& in) {
    Row& r = row(n, k.name(), in);
    r.arguments = fmt::format("dim={}{}", k.dims.size() == 1 ? std::to_string(k.dims[0]) : format_shape(k.dims),
                              k.keepdim ? " keepdim" : "");
    std::vector<bool> gone(in.size());
    for (int64_t dim : k.dims) {
      auto d = wrapped(n, "dim", dim, in, r);
      if (!d) return std::nullopt;
      if (gone[*d]) {
        error(n, "dim", fmt::format("{} names dim {} twice", k.name(), *d), "dim")
            .notes.push_back(fmt::format("PyTorch: \"dim {} appears multiple times in the list of dims\"", *d));
        return fail(r);
      }
      gone[*d] = true;
    }
    Shape out;
    for (std::size_t i = 0; i < in.size(); ++i)
      if (!gone[i]) out.push_back(in[i]);
      else if (k.keepdim) out.push_back(1);
    if (out.empty()) return no_dims_left(n, r, "\"keepdim\": true keeps each reduced dim as 1");
    return out;
  }

  // Sizes read from another value ("x.shape[0]", Expand's and Reshape's):
  // that value's dims, PyTorch's IndexError where the dim is out of range.
  bool sizes_read(const GraphNode& n, const char* kind, const char* key, Shape& sizes,
                  const std::vector<std::optional<int64_t>>& from_dim, const Shape& in) {
    const Shape& y = value(n.inputs[1].value);
    auto rank = static_cast<int64_t>(y.size());
    for (std::size_t i = 0; i < sizes.size(); ++i) {
      if (!from_dim[i]) continue;
      int64_t d = *from_dim[i];
      if (d < -rank || d >= rank) {
        Row& r = row(n, kind, in);
        error(n, std::holds_alternative<Expand>(n.op) ? "expand" : "reshape",
              fmt::format("{} reads dim {} of `{}`, whose output {} is {}-D", kind, d, n.inputs[1].label,
                                       format_shape(y), rank), fmt::format("{}/{}", key, i))
            .notes.push_back(fmt::format("PyTorch: \"tuple index out of range\""));
        fail(r);
        return false;
      }
      sizes[i] = y[static_cast<std::size_t>(d < 0 ? d + rank : d)];
    }
    return true;
  }

  // x.expand(*sizes): ATen's inferExpandGeometry — sizes right-aligned with
  // the input's dims, a -1 or the same size keeps one, a 1 may grow; the
  // extra leading sizes are new dims (no -1 there).
  std::optional<Shape> expand(const GraphNode& n, const Expand& k, const Shape& in) {
    Row& r = row(n, "Expand", in);
    r.arguments = k.from_dim.empty() ? format_shape(k.sizes) : sizes_text(k.sizes, k.from_dim, n.inputs[1].label, k.as_other);
    const char* key = k.as_other ? "size_from" : "sizes";
    if (k.sizes.size() < in.size()) {
      error(n, "expand", fmt::format("Expand gives {} sizes for a {}-D input {}", k.sizes.size(), in.size(),
                                     format_shape(in)), key)
          .notes.push_back(fmt::format("PyTorch: \"the number of sizes provided ({}) must be greater or equal to the "
                                       "number of dimensions in the tensor ({})\"", k.sizes.size(), in.size()));
      return fail(r);
    }
    std::size_t lead = k.sizes.size() - in.size();
    Shape out = k.sizes;
    for (std::size_t i = 0; i < out.size(); ++i) {
      if (i < lead) {
        if (out[i] != -1) continue;
        error(n, "expand", fmt::format("Expand's -1 at {} is a new dim, which has no size to keep", i), key)
            .notes.push_back(fmt::format("PyTorch: \"The expanded size of the tensor (-1) isn't allowed in a leading, "
                                         "non-existing dimension {}\"", i));
        return fail(r);
      }
      int64_t was = in[i - lead];
      if (out[i] == -1) out[i] = was;
      if (out[i] == was || was == 1) continue;
      auto& e = error(n, "expand", fmt::format("Expand can only repeat a dim of size 1, but dim {} of {} is {}, not {}",
                                               i - lead, format_shape(in), was, out[i]), key);
      e.notes.push_back(fmt::format("PyTorch: \"The expanded size of the tensor ({}) must match the existing size ({}) "
                                    "at non-singleton dimension {}.  Target sizes: {}.  Tensor sizes: {}\"", out[i],
                                    was, i, format_shape(k.sizes), format_shape(in)));
      e.help = k.as_other ? fmt::format("expand_as repeats size-1 dims only: give `{}` {} at dim {}, or read the "
                                        "sizes one by one (\"sizes\": [-1, …])", n.inputs[1].label, was, i)
                          : fmt::format("-1 (or {}) keeps that dim", was);
      return fail(r);
    }
    return out;
  }

  // torch.roll: as many shifts as dims (or one shift and no dims: the flattened tensor).
  std::optional<Shape> roll(const GraphNode& n, const Roll& k, const Shape& in) {
    Row& r = row(n, "Roll", in);
    r.arguments = fmt::format("shifts={} dims={}", format_shape(k.shifts), format_shape(k.dims));
    if (k.dims.empty() ? k.shifts.size() != 1 : k.shifts.size() != k.dims.size()) {
      error(n, "roll", fmt::format("Roll has {} shifts for {} dims", k.shifts.size(), k.dims.size()), "shifts")
          .notes.push_back(fmt::format("PyTorch: \"shifts and dimensions must align. shifts: {}, dims:{}\"",
                                       k.shifts.size(), k.dims.size()));
      return fail(r);
    }
    for (int64_t d : k.dims)
      if (!wrapped(n, "dims", d, in, r)) return std::nullopt;
    return in;
  }

  // x.reshape(shape) / x.view(shape): ATen's infer_size — the element count
  // must match, a -1 takes what the other sizes leave.
  std::optional<Shape> reshape(const GraphNode& n, const Reshape& k, const Shape& in) {
    Row& r = row(n, k.name(), in);
    r.arguments = format_shape(k.shape);
    int64_t numel = 1, known = 1;
    for (int64_t x : in) numel = checked_mul(numel, x).value_or(INT64_MAX);
    for (int64_t x : k.shape)
      if (x != -1) known = checked_mul(known, x).value_or(INT64_MAX);
    auto infer = std::find(k.shape.begin(), k.shape.end(), -1);
    bool fits = infer == k.shape.end() ? known == numel : known > 0 && numel % known == 0;
    if (!fits) {
      auto& d = error(n, "reshape", fmt::format("{} to {} needs {}, but its input {} has {} elements", k.name(),
                                                format_shape(k.shape),
                                                infer == k.shape.end() ? fmt::format("exactly {} elements", thousands(known))
                                                : known == 0 ? std::string("a size that is not 0")
                                                             : fmt::format("a multiple of {} elements", thousands(known)),
                                                format_shape(in), thousands(numel)), "shape");
      d.notes.push_back(fmt::format("PyTorch: \"shape '{}' is invalid for input of size {}\"", format_shape(k.shape),
                                    numel));
      if (in.size() > 1 && infer == k.shape.begin() && known > 0)
        d.help = fmt::format("a sample has {} = {} values, not {}: \"shape\": [{}, -1] keeps the batch "
                             "(x.view(x.size(0), -1)), or change the layers before", thousands(numel / in[0]),
                             fmt::join(in.begin() + 1, in.end(), "·"), thousands(known), in[0]);
      else if (in.size() > 1)
        d.help = fmt::format("\"shape\": [{}, -1] keeps dim 0 ({} elements = {})", in[0], thousands(numel), fmt::join(in, "·"));
      return fail(r);
    }
    Shape out = k.shape;
    if (infer != k.shape.end()) out[static_cast<std::size_t>(infer - k.shape.begin())] = numel / known;
    if (k.view && !viewable(n, in, out)) return fail(r);
    // x.view(-1, 400) where a sample no longer has 400 values: PyTorch takes
    // the count from the batch and runs on with the wrong batch size.
    if (infer == k.shape.begin() && in.size() >= 2 && out.size() >= 2 && out[0] != in[0]) {
      auto& d = ev_.diagnostics.warning(
          "reshape-batch", fmt::format("`{}`'s -1 is the batch: {} becomes {}, so {} samples turn into {}", n.name,
                                       format_shape(in), format_shape(out), in[0], out[0]), n.pointer, n.name);
      int64_t per = numel / in[0];
      d.notes.push_back(fmt::format("each sample has {} = {} values, not {}", thousands(per),
                                    fmt::join(in.begin() + 1, in.end(), "·"), thousands(known)));
      d.help = fmt::format("\"shape\": [{}, -1] keeps the batch (x.view(x.size(0), -1)); or fix the layers before "
                           "so that a sample has {} values", in[0], thousands(known));
    }
    return out;
  }

  // x.view needs strides it can keep (ATen's computeStride). netshape knows a
  // value's strides through views of contiguous tensors; past an element-wise
  // op or a new tensor made from a strided value it does not, and only warns.
  bool viewable(const GraphNode& n, const Shape& in, const Shape& out) {
    const Layout& l = layouts_[static_cast<std::size_t>(n.inputs[0].value)];
    Shape st = l.kind == Layout::contiguous ? contiguous(in) : l.strides;
    if (l.kind != Layout::unknown && view_strides(in, st, out)) return true;
    const GraphNode* p = g_->producer(l.from);
    std::string source = p ? fmt::format("`{}` ({})", p->name, op_name(p->op)) : std::string("the input");
    const char* why = "PyTorch: \"view size is not compatible with input tensor's size and stride (at least one "
                      "dimension spans across two contiguous subspaces). Use .reshape(...) instead.\"";
    if (l.kind != Layout::unknown) {
      auto& d = error(n, "view-strides", fmt::format("View to {} cannot keep the strides {} left: its input {} is laid "
                                                     "out as strides {}", format_shape(out), source, format_shape(in),
                                                     format_shape(st)), "shape");
      d.notes.push_back(why);
      d.help = "\"type\": \"Reshape\" gives the same shape on any layout (it copies), as x.reshape(…) or "
               "x.contiguous().view(…) would";
      return false;
    }
    if (!warned_layouts_.insert(l.from).second) return true;  // said once per layout's source
    auto& d = ev_.diagnostics.warning("view-strides", fmt::format("`{}` views a value laid out by {}, which may not "
                                                                  "be contiguous: PyTorch's view may refuse it",
                                                                  n.name, source), n.pointer, n.name);
    d.notes.push_back(why);
    d.help = "\"type\": \"Reshape\" works on any layout (it copies when it must)";
    return true;
  }

  // How a value is laid out in memory, as far as a View needs to know:
  // contiguous (most values: no strides stored), strided by a view op, or
  // not known. `from`: the value whose op decided it.
  struct Layout {
    enum Kind { contiguous, strided, unknown } kind = contiguous;
    Shape strides;
    int from = 0;
  };
  std::vector<Layout> layouts_;  // by value, filled as the nodes are evaluated
  std::set<int> warned_layouts_;

  static Shape contiguous(const Shape& s) {
    Shape st(s.size(), 1);
    for (std::size_t i = s.size(); i-- > 1;) st[i - 1] = st[i] * s[i];
    return st;
  }
  Shape strides(int v) const {
    const Layout& l = layouts_[static_cast<std::size_t>(v)];
    return l.kind == Layout::contiguous ? contiguous(value(v)) : l.strides;
  }
  Layout strided(Shape st, int v, const Shape& out) const {
    if (st == contiguous(out)) return {Layout::contiguous, {}, v};
    return {Layout::strided, std::move(st), v};
  }

  // Node i's output layout, from its inputs' (one step: linear in the network).
  Layout layout_of(const GraphNode& n, int v) const {
    const Shape& out = value(v);
    int x = n.inputs[0].value;
    const Layout& in = layouts_[static_cast<std::size_t>(x)];
    if (auto* k = std::get_if<Permute>(&n.op)) {
      if (in.kind == Layout::unknown) return in;
      const Shape& was = value(x);
      Shape order(was.size());
      for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int64_t>(i);
      auto wrap = [&](int64_t d) { return static_cast<std::size_t>(d < 0 ? d + static_cast<int64_t>(was.size()) : d); };
      if (k->transpose) std::swap(order[wrap(k->dim0)], order[wrap(k->dim1)]);
      else for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int64_t>(wrap(k->dims[i]));
      Shape from = strides(x), st(order.size());
      for (std::size_t i = 0; i < st.size(); ++i) st[i] = from[static_cast<std::size_t>(order[i])];
      return strided(std::move(st), v, out);
    }
    if (auto* k = std::get_if<Squeeze>(&n.op)) {  // a view: a size-1 dim's stride comes or goes
      if (in.kind == Layout::unknown) return in;
      const Shape& was = value(x);
      Shape st = strides(x);
      if (k->unsqueeze) {
        auto d = static_cast<std::size_t>(*k->dim < 0 ? *k->dim + static_cast<int64_t>(was.size()) + 1 : *k->dim);
        st.insert(st.begin() + static_cast<std::ptrdiff_t>(d), d < was.size() ? was[d] * st[d] : 1);  // ATen's inferUnsqueezeGeometry
      } else {
        Shape kept;
        for (std::size_t i = 0; i < was.size(); ++i)
          if (was[i] != 1 || (k->dim && i != static_cast<std::size_t>(*k->dim < 0 ? *k->dim + static_cast<int64_t>(was.size()) : *k->dim)))
            kept.push_back(st[i]);
        st = kept;
      }
      return strided(std::move(st), v, out);
    }
    if (std::holds_alternative<Expand>(n.op)) {  // a view: stride 0 where a dim repeats or is new
      if (in.kind == Layout::unknown) return in;
      const Shape& was = value(x);
      Shape from = strides(x), st(out.size(), 0);
      std::size_t lead = out.size() - was.size();
      for (std::size_t i = lead; i < out.size(); ++i) st[i] = was[i - lead] == out[i] ? from[i - lead] : 0;
      return {Layout::strided, std::move(st), v};
    }
    if (auto* k = std::get_if<Select>(&n.op)) {  // a view without that dim's stride
      if (in.kind == Layout::unknown) return in;
      Shape st = strides(x);
      st.erase(st.begin() + (k->dim < 0 ? k->dim + static_cast<int64_t>(st.size()) : k->dim));
      return strided(std::move(st), v, out);
    }
    if (auto* k = std::get_if<Slice>(&n.op)) {  // a view that steps over that dim
      if (in.kind == Layout::unknown) return in;
      Shape st = strides(x);
      int64_t& s = st[static_cast<std::size_t>(k->dim < 0 ? k->dim + static_cast<int64_t>(st.size()) : k->dim)];
      s = checked_mul(s, k->step).value_or(INT64_MAX);
      return {Layout::strided, std::move(st), v};
    }
    if (std::holds_alternative<Narrow>(n.op) || std::holds_alternative<Chunk>(n.op)) {
      if (in.kind == Layout::unknown) return in;
      return {Layout::strided, strides(x), v};  // a slice keeps its input's strides (and is not contiguous)
    }
    if (std::holds_alternative<Reshape>(n.op) || std::holds_alternative<Flatten>(n.op) ||
        std::holds_alternative<Unflatten>(n.op)) {  // views where they can be; reshape and flatten copy otherwise
      if (in.kind == Layout::contiguous) return {Layout::contiguous, {}, v};
      if (in.kind == Layout::unknown) return in;
      if (auto st = view_strides(value(x), in.strides, out)) return strided(std::move(*st), in.from, out);
      return {Layout::contiguous, {}, v};
    }
    // Element-wise ops (TensorIterator) give a dense permuted input's strides
    // back; the norms, the softmaxes and Linear compute on a contiguous copy
    // (PyTorch 1.13, checked: LayerNorm, BatchNorm2d, softmax, Linear and roll
    // of a permuted map are contiguous; relu, GELU and add keep its strides).
    const KindInfo* kind = find_kind(op_name(n.op));
    auto* merge = std::get_if<Merge>(&n.op);
    bool elementwise = (kind && kind->keeps_shape && (kind->family == "activation" || kind->family == "dropout") &&
                        !std::holds_alternative<Softmax>(n.op)) ||
                       (merge && merge->op != MergeOp::cat);
    if (elementwise && in.kind == Layout::strided && dense(in.strides, value(x))) {
      for (const auto& i : n.inputs)
        if (value(i.value) != value(x) || strides(i.value) != in.strides) return {Layout::unknown, {}, in.from};
      return {Layout::strided, in.strides, in.from};
    }
    if (std::holds_alternative<Softmax>(n.op) || std::holds_alternative<Linear>(n.op) || std::holds_alternative<Roll>(n.op) ||
        std::holds_alternative<LayerNorm>(n.op) || std::holds_alternative<BatchNorm>(n.op) ||
        std::holds_alternative<GroupNorm>(n.op) || std::holds_alternative<InstanceNorm>(n.op))
      return {Layout::contiguous, {}, v};
    // Any other op makes a new tensor, contiguous when its inputs' dims are
    // laid out in order (a slice's are). From permuted ones ATen may follow
    // their order (a conv's or a pool's suggest_memory_format, by version): not known.
    for (const auto& i : n.inputs) {
      const Layout& l = layouts_[static_cast<std::size_t>(i.value)];
      if (l.kind == Layout::unknown || (l.kind == Layout::strided && !in_order(l.strides, value(i.value))))
        return {Layout::unknown, {}, l.from};
    }
    return {Layout::contiguous, {}, v};
  }
  // Strides that are a contiguous tensor's in some order of the dims (no gaps, no overlap).
  static bool dense(const Shape& st, const Shape& shape) {
    std::vector<std::size_t> order(st.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return st[a] > st[b]; });
    int64_t expect = 1;
    for (std::size_t k = order.size(); k-- > 0;) {
      std::size_t d = order[k];
      if (shape[d] != 1 && st[d] != expect) return false;
      expect *= shape[d];
    }
    return true;
  }
  // Strides that fall from the first dim to the last (size-1 dims aside).
  static bool in_order(const Shape& st, const Shape& shape) {
    int64_t last = INT64_MAX;
    for (std::size_t i = 0; i < st.size(); ++i) {
      if (shape[i] == 1) continue;
      if (st[i] > last) return false;
      last = st[i];
    }
    return true;
  }

  // ATen's computeStride (aten/src/ATen/TensorUtils.cpp): the strides a view
  // of `shape` laid out as `strides` has as `to`, or nullopt where no view can.
  static std::optional<Shape> view_strides(const Shape& shape, const Shape& strides, const Shape& to) {
    Shape out(to.size(), 1);
    if (shape.empty()) return out;
    auto view_d = static_cast<int64_t>(to.size()) - 1;
    int64_t chunk_base_stride = strides.back(), tensor_numel = 1, view_numel = 1;
    for (auto d = static_cast<int64_t>(shape.size()) - 1; d >= 0; --d) {
      auto i = static_cast<std::size_t>(d);
      tensor_numel *= shape[i];
      if (d == 0 || (shape[i - 1] != 1 && strides[i - 1] != tensor_numel * chunk_base_stride)) {
        while (view_d >= 0 && (view_numel < tensor_numel || to[static_cast<std::size_t>(view_d)] == 1)) {
          out[static_cast<std::size_t>(view_d)] = view_numel * chunk_base_stride;
          view_numel *= to[static_cast<std::size_t>(view_d)];
          --view_d;
        }
        if (view_numel != tensor_numel) return std::nullopt;
        if (d > 0) {
          chunk_base_stride = strides[i - 1];
          tensor_numel = 1;
          view_numel = 1;
        }
      }
    }
    if (view_d != -1) return std::nullopt;
    return out;
  }

  // torch.nn.GLU: the first half of dim times the sigmoid of the second (ATen's glu_meta).
  std::optional<Shape> glu(const GraphNode& n, const GLU& k, const Shape& in) {
    Row& r = row(n, "GLU", in);
    r.arguments = fmt::format("dim={}", k.dim);
    auto dim_at = dim_of(n, "GLU", k.dim, in, r);
    if (!dim_at) return std::nullopt;
    const auto d = static_cast<std::size_t>(*dim_at);
    if (in[d] % 2 != 0) {
      auto& e = error(n, "glu-odd", fmt::format("GLU halves dim {}, but its size {} is odd", *dim_at, in[d]), "dim");
      e.notes.push_back(fmt::format("PyTorch: \"Halving dimension must be even, but dimension {} is size {}\"",
                                    *dim_at, in[d]));
      e.help = fmt::format("make dim {} even ({} or {}) in the layer before, or split another dim", *dim_at, in[d] - 1,
                           in[d] + 1);
      return fail(r);
    }
    Shape out = in;
    out[d] /= 2;
    return out;
  }

  // ATen's avg_pool3d (unlike every other pool, and unlike AvgPool1d/2d)
  // checks the input before padding: pool3d_shape_check(…, check_input_size=true).
  bool avg_pool3d_fits(const GraphNode& n, const Shape& in, const Dims& kernel, Row& r) {
    for (std::size_t d = 0; d < kernel.size(); ++d) {
      if (in[2 + d] >= kernel[d]) continue;
      auto& e = error(n, "kernel-too-large",
                      fmt::format("AvgPool3d's kernel covers {} {} but the input has only {} (padding does not count)",
                                  kernel[d], spatial_unit(3, d), in[2 + d]),
                      "kernel_size");
      e.notes.push_back(fmt::format("PyTorch: \"input image (T: {} H: {} W: {}) smaller than kernel size (kT: {} kH: {} "
                                    "kW: {})\": avg_pool3d checks the input before padding, as no other pool does",
                                    in[2], in[3], in[4], kernel[0], kernel[1], kernel[2]));
      fail(r);
      return false;
    }
    return true;
  }

  std::optional<Shape> adaptive(const GraphNode& n, const Shape& in, const Dims& size) {
    Row& r = row(n, op_name(n.op), in);
    if (!need_rank(n, in, r)) return std::nullopt;
    Shape out{in[0], in[1]};
    bool grows = false;
    for (std::size_t d = 0; d < size.size(); ++d) {
      out.push_back(size[d] ? size[d] : in[2 + d]);
      grows = grows || out.back() > in[2 + d];
    }
    r.arguments = fmt::format("out=({})", fmt::join(out.begin() + 2, out.end(), ", "));
    if (grows) {
      auto& d = ev_.diagnostics.warning(
          "adaptive-upsamples",
          fmt::format("{} `{}` makes a {} map out of a {} one: windows repeat input pixels", op_name(n.op), n.name,
                      fmt::join(out.begin() + 2, out.end(), "×"), fmt::join(in.begin() + 2, in.end(), "×")),
          n.pointer, n.name);
      d.help = "an adaptive pool is meant to shrink; check the input size or output_size";
    }
    spatial_pinned_ = true;
    return out;
  }

  // Whether value v's last dim was put there on purpose: it comes (through
  // shape-keeping layers and merges) from a rearrangement, a Linear, a
  // Parameter or a matmul — ConvNeXt's Linear after a Permute to channels-last,
  // a transformer's MLP — rather than from a conv or a pool that a Flatten
  // should have followed (linear-rank).
  bool features_last(int v) const {
    const GraphNode* p = g_->producer(v);
    for (; p; p = g_->producer(v = p->inputs[0].value)) {
      if (auto* m = std::get_if<Merge>(&p->op)) {
        if (m->op == MergeOp::matmul) return true;
        continue;  // an add, mul or cat: its first input's layout
      }
      const KindInfo* k = find_kind(op_name(p->op));
      if (!k) return false;
      bool slices = std::holds_alternative<Narrow>(p->op) || std::holds_alternative<Chunk>(p->op) ||
                    std::holds_alternative<Slice>(p->op) ||
                    std::holds_alternative<Select>(p->op) || std::holds_alternative<Squeeze>(p->op) ||
                    std::holds_alternative<Roll>(p->op);  // the last dim stays where it was
      if (!slices && (k->family == "reshape" || k->family == "linear" || k->family == "tensor")) return true;
      if ((!k->keeps_shape && !slices) || p->inputs.empty()) return false;
    }
    // The network's own input: tokens [N, L, features] are meant; an image [N, C, H, W] is not.
    return v == 0 && input_->size() <= 3;
  }

  // "body gives [1, 64, 56, 56] (its last layer is layer1.0.body.4)"
  std::string input_note(const GraphNode& n, const Input& x, const Shape& s) const {
    std::string shape = format_shape(s);
    if (x.identity)
      return n.residual ? fmt::format("{} gives {}: it is the identity, so the block's input", x.label, shape)
                        : fmt::format("branch {} gives {}: it is empty (the identity), so the block's input", x.label, shape);
    if (!n.residual && n.has_from) return fmt::format("`{}` gives {}", x.label, shape);
    return fmt::format("{}{} gives {} (its last layer is {})", n.residual ? "" : "branch ", x.label, shape,
                       g_->producer_name(x.value));
  }

  std::optional<Shape> merge(const GraphNode& n, const Merge& m, const std::vector<Shape>& in) {
    Row& r = row(n, merge_name(m.op), in[0]);
    r.inputs = in;
    if (m.broadcast) r.arguments = "broadcast";
    // A broadcasting add whose maps do not broadcast either way is told as an
    // exact add is (a residual's projection fix; import writes every + as
    // broadcasting); one with a learned tensor keeps PyTorch's broadcast rule.
    if (m.op == MergeOp::add && (!m.broadcast || (!broadcastable(in) && !reads_parameter(n)))) return add(n, r, in);
    if (m.op == MergeOp::matmul) return matmul(n, r, in[0], in[1]);
    if (m.op != MergeOp::cat) {
      auto out = broadcast(n, m.op, r, in);
      if (out && m.op == MergeOp::add) residual_broadcast(n, in, *out);
      return out;
    }
    return cat(n, m, r, in);
  }

  static bool broadcastable(const std::vector<Shape>& in) {
    for (std::size_t i = 1; i < in.size(); ++i)
      for (std::size_t k = 1; k <= std::min(in[0].size(), in[i].size()); ++k) {
        int64_t x = in[0][in[0].size() - k], y = in[i][in[i].size() - k];
        if (x != y && x != 1 && y != 1) return false;
      }
    return true;
  }
  bool reads_parameter(const GraphNode& n) const {
    for (const auto& x : n.inputs)
      if (const GraphNode* p = g_->producer(x.value); p && std::holds_alternative<Parameter>(p->op)) return true;
    return false;
  }

  // A broadcasting add that stretches a spatial dim of a map whose other
  // spatial dims are not 1 ([N, C, 1, W] + [N, C, H, W]) looks like a residual
  // whose shapes went wrong: PyTorch adds silently, so netshape warns. A
  // context ([N, C, 1, 1]), a learned tensor, a stretched batch or channel
  // dim are broadcasts people mean.
  void residual_broadcast(const GraphNode& n, const std::vector<Shape>& in, const Shape& out) {
    for (std::size_t j = 0; j < in.size(); ++j) {
      const GraphNode* p = g_->producer(n.inputs[j].value);
      if ((p && std::holds_alternative<Parameter>(p->op)) || in[j].size() != out.size() || out.size() < 3) continue;
      std::optional<std::size_t> stretched;
      bool map = false;
      for (std::size_t d = 2; d < out.size(); ++d) {
        if (in[j][d] != out[d] && !stretched) stretched = d;
        map = map || in[j][d] > 1;
      }
      if (!stretched || !map) continue;
      auto& w = ev_.diagnostics.warning(
          "add-broadcasts", fmt::format("add `{}` broadcasts {} to {}: dim {} is 1 and becomes {}", n.name,
                                        format_shape(in[j]), format_shape(out), *stretched, out[*stretched]),
          n.pointer, n.name);
      w.notes.push_back(input_note(n, n.inputs[j], in[j]));
      w.notes.push_back("PyTorch adds it silently; a residual whose branches differ in shape is usually a mistake");
      w.help = "make the shapes equal, or silence it where the broadcast is meant (\"allow\": [\"add-broadcasts\"])";
      return;
    }
  }

  // torch.matmul (ATen's _matmul_impl): a 1-D a is [1, m] and a 1-D b [m, 1],
  // the 1 dropped again; the batch dims (all but the last two) broadcast.
  std::optional<Shape> matmul(const GraphNode& n, Row& r, const Shape& a, const Shape& b) {
    if (a.size() == 1 && b.size() == 1) {
      auto& d = error(n, "rank", fmt::format("matmul `{}` of two 1-D tensors {} and {} is a dot product, a 0-d "
                                             "scalar, which netshape does not hold", n.name, format_shape(a), format_shape(b)));
      d.help = "for one number per row, give a a leading dim ([1, m]) with Unsqueeze";
      return fail(r);
    }
    Shape a2 = a.size() == 1 ? Shape{1, a[0]} : a, b2 = b.size() == 1 ? Shape{b[0], 1} : b;
    Shape ab(a2.begin(), a2.end() - 2), bb(b2.begin(), b2.end() - 2);
    int64_t m = a2.back(), k = b2[b2.size() - 2];
    Shape batch = ab.size() >= bb.size() ? ab : bb;
    for (std::size_t i = 0; i < std::min(ab.size(), bb.size()); ++i) {
      int64_t x = ab[ab.size() - 1 - i], y = bb[bb.size() - 1 - i];
      std::size_t at = batch.size() - 1 - i;
      if (x != y && x != 1 && y != 1) {
        auto& d = error(n, "matmul-batch", fmt::format("matmul `{}` cannot broadcast the batch dims of {} and {}: "
                                                       "dim {} is {} and {}", n.name, format_shape(a), format_shape(b), at, x, y));
        matmul_notes(d, n, a, b);
        d.notes.push_back(fmt::format("PyTorch: \"The size of tensor a ({}) must match the size of tensor b ({}) at "
                                      "non-singleton dimension {}\"", x, y, at));
        d.help = "batch dims (all but the last two) broadcast when they are equal or one of them is 1";
        return fail(r);
      }
      batch[at] = x == 1 ? y : x;
    }
    if (m != k) {
      auto& d = error(n, "matmul-mismatch",
                      fmt::format("matmul `{}` cannot multiply {} by {}: a's last dim ({}) must equal b's {} ({})",
                                  n.name, format_shape(a), format_shape(b), m, b.size() == 1 ? "only dim" : "dim -2", k));
      matmul_notes(d, n, a, b);
      d.notes.push_back("PyTorch: \"" + matmul_message(a, b, batch) + "\"");
      d.help = matmul_help(n, a, b);
      return fail(r);
    }
    Shape out = batch;
    if (a.size() > 1) out.push_back(a2[a2.size() - 2]);
    if (b.size() > 1) out.push_back(b2.back());
    r.arguments = fmt::format("{}×{} @ {}×{}", a2[a2.size() - 2], m, k, b2.back());
    return out;
  }

  void matmul_notes(Diagnostic& d, const GraphNode& n, const Shape& a, const Shape& b) const {
    d.notes.push_back(fmt::format("a: {}", input_note(n, n.inputs[0], a)));
    d.notes.push_back(fmt::format("b: {}", input_note(n, n.inputs[1], b)));
  }

  // The message of the path PyTorch 1.13's matmul takes (checked there):
  // dot, mv and mm for ranks ≤ 2, a fold into one mm or mv when one side is
  // ≤ 2-D, else bmm over the broadcast batch.
  static std::string matmul_message(const Shape& a, const Shape& b, const Shape& batch) {
    auto prod = [](const Shape& s, std::size_t from, std::size_t to) {
      int64_t p = 1;
      for (std::size_t i = from; i < to; ++i) p = checked_mul(p, s[i]).value_or(INT64_MAX);
      return p;
    };
    auto mm = [](int64_t r1, int64_t c1, int64_t r2, int64_t c2) {
      return fmt::format("mat1 and mat2 shapes cannot be multiplied ({}x{} and {}x{})", r1, c1, r2, c2);
    };
    auto mv = [](int64_t r, int64_t c, int64_t v) { return fmt::format("size mismatch, got {}, {}x{},{}", r, r, c, v); };
    std::size_t ra = a.size(), rb = b.size();
    if (ra == 2 && rb == 1) return mv(a[0], a[1], b[0]);
    if (ra <= 2 && rb == 2) return mm(ra == 1 ? 1 : a[0], a.back(), b[0], b[1]);
    if (ra >= 3 && rb <= 2) {  // a folded to [batch·n, m]
      int64_t rows = prod(a, 0, ra - 1);
      return rb == 1 ? mv(rows, a.back(), b[0]) : mm(rows, a.back(), b[0], b[1]);
    }
    if (ra <= 2 && rb >= 3) {  // (bᵀ @ aᵀ)ᵀ: b transposed and folded to [batch·p, m']
      int64_t rows = checked_mul(prod(b, 0, rb - 2), b.back()).value_or(INT64_MAX);
      return ra == 1 ? mv(rows, b[rb - 2], a[0]) : mm(rows, b[rb - 2], a[1], a[0]);
    }
    return fmt::format("Expected size for first two dimensions of batch2 tensor to be: [{}, {}] but got: [{}, {}].",
                       prod(batch, 0, batch.size()), a.back(), prod(batch, 0, batch.size()), b[rb - 2]);
  }

  // The fix a person makes: b transposed (q @ k.transpose(-2, -1)), or the
  // Linear that made a give b's size.
  std::string matmul_help(const GraphNode& n, const Shape& a, const Shape& b) const {
    std::string bn = n.inputs[1].label, an = n.inputs[0].label;
    if (b.size() >= 2 && b.back() == a.back())
      return fmt::format("`{}` holds its {} along its last dim: transpose its last two dims first, as attention's "
                         "q @ k.transpose(-2, -1) does ({{\"type\": \"Transpose\", \"dim0\": -2, \"dim1\": -1}})",
                         bn, a.back());
    const GraphNode* p = g_->producer(n.inputs[0].value);
    if (p && std::holds_alternative<Linear>(p->op))
      return fmt::format("let Linear `{}` give {} features (out_features={}), the size of b's dim -2", p->name,
                         b[b.size() == 1 ? 0 : b.size() - 2], b[b.size() == 1 ? 0 : b.size() - 2]);
    return fmt::format("the sizes that meet are a's last dim and b's {}: change the layer before `{}` or `{}`",
                       b.size() == 1 ? "only dim" : "dim -2", an, bn);
  }

  std::optional<Shape> add(const GraphNode& n, Row& r, const std::vector<Shape>& in) {
    r.output = in[0];
    std::size_t bad = 1;
    while (bad < in.size() && in[bad] == in[0]) ++bad;
    if (bad == in.size()) return in[0];
    const Shape &b = in[0], &s = in[bad];
    bool broadcast = b.size() == s.size();
    for (std::size_t i = 0; broadcast && i < b.size(); ++i)
      broadcast = b[i] == s[i] || b[i] == 1 || s[i] == 1;
    std::vector<std::string> shapes;
    for (const auto& x : in) shapes.push_back(format_shape(x));
    auto& d = n.residual
                  ? error(n, "residual-mismatch",
                          fmt::format("the two branches of residual `{}` have different shapes: {} and {}",
                                      n.name, format_shape(b), format_shape(s)))
                  : error(n, "add-mismatch",
                          fmt::format("the inputs of add `{}` have different shapes: {}", n.name,
                                      fmt::join(shapes, " and ")));
    for (std::size_t i = 0; i < in.size(); ++i) d.notes.push_back(input_note(n, n.inputs[i], in[i]));
    if (broadcast) {
      d.notes.push_back("PyTorch would broadcast the size-1 dims and add silently, which is "
                        "almost always a bug");
      if (!n.residual)
        d.help = fmt::format("if the broadcast is meant (a position embedding, a layer scale), add "
                             "\"broadcast\": true to `{}`", n.name);
    }
    return fail(r);
  }

  // torch.cat: the same rank, every dim but `dim` equal (after the crop).
  std::optional<Shape> cat(const GraphNode& n, const Merge& m, Row& r, std::vector<Shape> in) {
    auto rank = static_cast<int64_t>(in[0].size());
    r.arguments = fmt::format("dim={}{}", m.dim, m.crop ? " crop" : "");
    for (std::size_t i = 1; i < in.size(); ++i)
      if (static_cast<int64_t>(in[i].size()) != rank) {
        auto& d = error(n, "cat-mismatch",
                        fmt::format("cat `{}` joins tensors of different ranks: {}-D and {}-D", n.name,
                                    rank, in[i].size()));
        for (std::size_t j = 0; j < in.size(); ++j) d.notes.push_back(input_note(n, n.inputs[j], in[j]));
        d.notes.push_back("PyTorch: \"Tensors must have same number of dimensions\"");
        return fail(r);
      }
    int64_t dim = m.dim < 0 ? m.dim + rank : m.dim;
    if (dim < 0 || dim >= rank) {
      auto& d = error(n, "cat-dim", fmt::format("cat `{}` along dim {} of a {}-D tensor", n.name, m.dim, rank));
      d.notes.push_back(fmt::format("PyTorch: \"Dimension out of range (expected to be in range of [{}, {}], but got {})\"",
                                    -rank, rank - 1, m.dim));
      d.help = "dim 1 joins the channels of [N, C, H, W] tensors";
      return fail(r);
    }
    if (m.crop)
      for (int64_t k = 2; k < rank; ++k) {
        if (k == dim) continue;
        int64_t least = INT64_MAX;
        for (const auto& x : in) least = std::min(least, x[static_cast<std::size_t>(k)]);
        for (auto& x : in) x[static_cast<std::size_t>(k)] = least;
      }
    r.inputs = in;  // as cropped: what torch.cat receives
    Shape out = in[0];
    for (std::size_t i = 1; i < in.size(); ++i) {
      for (int64_t k = 0; k < rank; ++k) {
        auto kk = static_cast<std::size_t>(k);
        if (k == dim || in[i][kk] == in[0][kk]) continue;
        auto& d = error(n, "cat-mismatch",
                        fmt::format("cat `{}` joins along dim {}, but dim {} differs: {} and {}", n.name,
                                    dim, k, in[0][kk], in[i][kk]));
        for (std::size_t j = 0; j < in.size(); ++j) d.notes.push_back(input_note(n, n.inputs[j], in[j]));
        d.notes.push_back(fmt::format("PyTorch: \"Sizes of tensors must match except in dimension {}. Expected "
                                      "size {} but got size {} for tensor number {} in the list.\"",
                                      dim, in[0][kk], in[i][kk], i));
        if (k >= 2 && !m.crop)
          d.help = "U-Net crops the larger map to the smaller one: add \"crop\": \"center\"";
        return fail(r);
      }
      auto sum = checked_add(out[static_cast<std::size_t>(dim)], in[i][static_cast<std::size_t>(dim)]);
      if (!sum) {
        error(n, "overflow", fmt::format("cat `{}` makes dim {} overflow 64 bits", n.name, dim));
        return fail(r);
      }
      out[static_cast<std::size_t>(dim)] = *sum;
    }
    return out;
  }

  // torch.mul, and torch.add with "broadcast": PyTorch's broadcasting,
  // right-aligned; a size-1 dim stretches (ATen's infer_size).
  std::optional<Shape> broadcast(const GraphNode& n, MergeOp op, Row& r, const std::vector<Shape>& in) {
    Shape out = in[0];
    for (std::size_t i = 1; i < in.size(); ++i) {
      const Shape& b = in[i];
      Shape next(std::max(out.size(), b.size()), 1);
      for (std::size_t k = 0; k < next.size(); ++k) {
        std::size_t from_end = next.size() - 1 - k;
        int64_t x = from_end < out.size() ? out[out.size() - 1 - from_end] : 1;
        int64_t y = from_end < b.size() ? b[b.size() - 1 - from_end] : 1;
        if (x != y && x != 1 && y != 1) {
          auto& d = error(n, op == MergeOp::mul ? "mul-broadcast" : "add-broadcast",
                          fmt::format("{} `{}` cannot broadcast {} with {}: dim {} is {} and {}", merge_name(op),
                                      n.name, format_shape(out), format_shape(b), k, x, y));
          for (std::size_t j = 0; j < in.size(); ++j) d.notes.push_back(input_note(n, n.inputs[j], in[j]));
          d.notes.push_back(fmt::format("PyTorch: \"The size of tensor a ({}) must match the size of tensor b "
                                        "({}) at non-singleton dimension {}\"", x, y, k));
          d.help = op == MergeOp::mul ? "two dims broadcast when they are equal or one of them is 1 (as [N, C, 1, 1] "
                                        "gates scale [N, C, H, W] in squeeze-and-excitation)"
                                      : "two dims broadcast when they are equal or one of them is 1 (as a [1, 197, 768] "
                                        "position embedding is added to [N, 197, 768] tokens)";
          return fail(r);
        }
        next[k] = x == 1 ? y : x;
      }
      out = std::move(next);
    }
    return out;
  }
};


}  // namespace

bool input_holds_indices(const Graph& g) {
  for (const auto& n : g.nodes) {
    if (!std::holds_alternative<Embedding>(n.op)) continue;
    int v = n.inputs[0].value;
    for (const GraphNode* p; (p = g.producer(v)) && keeps_indices(p->op) && !p->inputs.empty();) v = p->inputs[0].value;
    if (v == 0) return true;
  }
  return false;
}

std::optional<int64_t> forward_memory_estimate(const Evaluation& ev, const Shape& input) {
  auto largest = numel(input);
  int64_t weights = 0, scratch = 0;
  for (const auto& r : ev.rows) {
    auto n = numel(r.output.empty() ? r.input : r.output);
    if (!largest || !n || r.scratch_elements < 0) return std::nullopt;
    largest = std::max(*largest, *n);
    // A kind's own intermediates live beside its input and output (LRN's).
    if (r.scratch_elements > 0) {
      auto with = checked_add(r.scratch_elements, checked_mul(*n, 2).value_or(INT64_MAX));
      if (!with) return std::nullopt;
      scratch = std::max(scratch, *with);
    }
    // BatchNorm keeps running mean and variance beside its weight and bias.
    auto w = checked_add(weights, r.type.rfind("BatchNorm", 0) == 0 ? 2 * r.params : r.params);
    if (!w) return std::nullopt;
    weights = *w;
  }
  if (!largest) return std::nullopt;
  auto act = checked_mul(*largest, 3);
  if (!act) return std::nullopt;
  act = std::max(*act, scratch);
  auto total = checked_add(*act, weights);
  if (!total) return std::nullopt;
  return checked_mul(*total, 4);  // float32
}

std::pair<int64_t, int64_t> slice_bounds(const Slice& k, int64_t size) {
  auto clamp = [size](std::optional<int64_t> v, int64_t none) {
    if (!v) return none;
    return std::clamp<int64_t>(*v < 0 ? *v + size : *v, 0, size);
  };
  return {clamp(k.start, 0), clamp(k.end, size)};
}

int64_t slice_length(const Slice& k, int64_t size) {
  auto [start, end] = slice_bounds(k, size);
  return end > start ? (end - start - 1) / k.step + 1 : 0;
}

std::string slice_text(const Slice& k) {
  auto bound = [](std::optional<int64_t> v) { return v ? std::to_string(*v) : std::string(); };
  return fmt::format("dim={} [{}:{}{}]", k.dim, bound(k.start), bound(k.end), k.step != 1 ? ":" + std::to_string(k.step) : "");
}

std::string sizes_text(const Shape& sizes, const std::vector<std::optional<int64_t>>& from_dim,
                       const std::string& label, bool as_other) {
  if (as_other) return "as " + label;
  std::vector<std::string> out;
  for (std::size_t i = 0; i < sizes.size(); ++i)
    out.push_back(i < from_dim.size() && from_dim[i] ? fmt::format("{}.shape[{}]", label, *from_dim[i])
                                                     : std::to_string(sizes[i]));
  return fmt::format("[{}]", fmt::join(out, ", "));
}

Evaluation evaluate_shapes(const Spec& spec) {
  Evaluation ev;
  Evaluator e(ev);
  for (std::size_t i = 2; i < spec.input_names.size(); ++i)
    e.named_spatial_ = e.named_spatial_ || !spec.input_names[i].empty();
  e.run(spec.graph, spec.input);
  bool all = true;
  for (int v : spec.graph.outputs) {
    if (e.computed(v)) ev.outputs.push_back(e.value(v));
    else all = false;
  }
  if (all && !ev.outputs.empty()) {
    ev.output = ev.outputs.front();
    int64_t total = 0;
    for (const auto& r : ev.rows) total = checked_add(total, r.params).value_or(INT64_MAX);
    ev.params = total;
  } else {
    ev.outputs.clear();
  }
  return ev;
}

}  // namespace netshape
