#include "explain.h"

#include <algorithm>

#include <fmt/format.h>

#include "formula.h"
#include "text.h"

namespace netshape {
namespace {


// One spatial dim through the formula, written out the way the seed does it.
std::vector<std::string> derive(const char* dim, const Window& w) {
  WindowResult r = window_output(w);
  std::vector<std::string> out;
  std::string pad = w.pad_l == w.pad_r ? fmt::format("2·{}", w.pad_l) : fmt::format("{} + {}", w.pad_l, w.pad_r);
  if (w.ceil_mode) {
    int64_t raw = floor_div(r.numerator, w.stride) + 1;  // before the last-window rule
    out.push_back(fmt::format("{}: ⌈({} + {} − {}·({} − 1) − 1) / {}⌉ + 1 = ⌈{} / {}⌉ + 1 = {}", dim,
                              w.in, pad, w.dilation, w.kernel, w.stride,
                              r.numerator - (w.stride - 1), w.stride, raw));
    if (r.last_window_dropped)
      out.push_back(fmt::format(
          "   ceil_mode's last window would start at {} ≥ {} + {} = {}, inside the right padding, "
          "so PyTorch drops it: {} → {}",
          (raw - 1) * w.stride, w.in, w.pad_l, w.in + w.pad_l, raw, r.out));
  } else {
    out.push_back(fmt::format("{}: ⌊({} + {} − {}·({} − 1) − 1) / {}⌋ + 1 = ⌊{} / {}⌋ + 1 = {}", dim,
                              w.in, pad, w.dilation, w.kernel, w.stride, r.numerator, w.stride,
                              r.out));
  }
  out.push_back(fmt::format("   {}: {} → {}", dim, w.in, r.out));
  if (r.out >= 1 && r.leftover > 0) {
    int64_t lost = r.leftover - w.pad_r;
    std::string what = w.ceil_mode ? fmt::format("the windows stop {} short of the padded end", r.leftover)
                                   : fmt::format("the floor throws away {}", r.leftover);
    if (lost > 0)
      out.push_back(fmt::format("   {}: the last {} input row{} never covered by a window", what,
                                lost, lost == 1 ? " is" : "s are"));
    else
      out.push_back(fmt::format("   {}: only padding, every input row is covered", what));
  }
  if (w.stride > r.span)
    out.push_back(fmt::format("   stride {} > window {}: {} of every {} input rows are skipped",
                              w.stride, r.span, w.stride - r.span, w.stride));
  return out;
}

// Every spatial dim through the formula; a dim with the same input and
// arguments as the one before it is "W: the same as H".
void windows(Explanation& e, const Shape& in, const Dims& k, const Dims& s, const Dims& pl, const Dims& pr,
             const Dims& d, bool ceil) {
  const std::size_t rank = k.size();
  for (std::size_t i = 0; i < rank; ++i) {
    if (i > 0 && in[2 + i] == in[1 + i] && k[i] == k[i - 1] && s[i] == s[i - 1] && pl[i] == pl[i - 1] &&
        pr[i] == pr[i - 1] && d[i] == d[i - 1]) {
      e.lines.push_back(fmt::format("{}: the same as {}", spatial_letter(rank, i), spatial_letter(rank, i - 1)));
      continue;
    }
    auto lines = derive(spatial_letter(rank, i), {in[2 + i], k[i], s[i], pl[i], pr[i], d[i], ceil});
    e.lines.insert(e.lines.end(), lines.begin(), lines.end());
  }
}

bool any_not(const Dims& v, int64_t x) {
  return std::any_of(v.begin(), v.end(), [&](int64_t y) { return y != x; });
}

// What each input of a merge is: "body", "branch 1", "`enc4`".
std::string input_label(const GraphNode& n, const Input& x) {
  if (n.residual) return x.label;
  if (n.has_from) return "`" + x.label + "`";
  return "branch " + x.label;
}

// PyTorch's broadcasting, dim by dim from the right: "dim 1: 1 and 64 → 64".
void explain_broadcast(Explanation& e, const Row& row, const char* done) {
  e.lines.push_back(fmt::format("{} elementwise, broadcasting: the shapes are aligned at their last dim, "
                                "and a missing or size-1 dim is stretched to the other's size",
                                done));
  std::size_t rank = row.output.size();
  for (std::size_t k = 0; k < rank; ++k) {
    std::vector<std::string> sizes;
    bool stretched = false;
    for (const auto& in : row.inputs) {
      std::size_t from_end = rank - 1 - k;
      if (from_end >= in.size()) {
        sizes.push_back("–");
        stretched = true;
        continue;
      }
      int64_t v = in[in.size() - 1 - from_end];
      sizes.push_back(std::to_string(v));
      stretched = stretched || v != row.output[k];
    }
    e.lines.push_back(fmt::format("dim {}: {} → {}{}", k, fmt::join(sizes, " and "), row.output[k],
                                  stretched ? " (stretched)" : ""));
  }
}

// torch.matmul: a 1-D side gains a 1 (dropped after), the last two dims
// multiply as matrices, the rest broadcast as batch dims.
void explain_matmul(Explanation& e, const Row& row) {
  const Shape &a = row.inputs[0], &b = row.inputs[1];
  if (a.size() == 1) e.lines.push_back(fmt::format("a is 1-D: it multiplies as [1, {}], and the 1 is dropped after", a[0]));
  if (b.size() == 1) e.lines.push_back(fmt::format("b is 1-D: it multiplies as [{}, 1], and the 1 is dropped after", b[0]));
  Shape a2 = a.size() == 1 ? Shape{1, a[0]} : a, b2 = b.size() == 1 ? Shape{b[0], 1} : b;
  int64_t n = a2[a2.size() - 2], m = a2.back(), p = b2.back();
  e.lines.push_back(fmt::format("the last two dims multiply as matrices: ({}×{}) @ ({}×{}) = ({}×{}), each entry a "
                                "sum of {} products", n, m, m, p, n, p, m));
  Shape ab(a2.begin(), a2.end() - 2), bb(b2.begin(), b2.end() - 2);
  if (!ab.empty() || !bb.empty()) {
    std::size_t batch = row.output.size() - (a.size() > 1) - (b.size() > 1);
    e.lines.push_back(fmt::format("batch dims {} and {} broadcast to {}", format_shape(ab), format_shape(bb),
                                  format_shape(Shape(row.output.begin(), row.output.begin() + static_cast<long>(batch)))));
  }
  e.lines.push_back(fmt::format("no parameters; {} multiply-accumulates", thousands(row.macs)));
}

void explain_merge(Explanation& e, const Row& row, const GraphNode& n, const Merge& m, const Graph& g,
                   const Evaluation& ev) {
  if (n.residual) {
    e.headline = fmt::format("Residual: body(x) + {}", n.inputs[1].identity ? "x" : "shortcut(x)");
    const Row* short_last = find_row(ev, g.producer_name(n.inputs[1].value));
    e.lines.push_back(fmt::format("body gives {}", format_shape(row.input)));
    if (n.inputs[1].identity)
      e.lines.push_back("no shortcut layers: the shortcut is the identity, x itself");
    else if (short_last && !short_last->failed)
      e.lines.push_back(fmt::format("shortcut gives {} (it exists to change the channels and, with "
                                    "a stride, the size, so that the two can be added)",
                                    format_shape(short_last->output)));
    e.lines.push_back(row.failed ? "the shapes differ, so they cannot be added elementwise"
                                 : "equal shapes: added elementwise, the shape is unchanged");
    if (n.then_after) e.lines.push_back("then the `after` layers (the ReLU after the add)");
    return;
  }
  std::vector<std::string> names;
  for (const auto& x : n.inputs) names.push_back(x.identity ? "x" : input_label(n, x));
  const char* fn = m.op == MergeOp::add ? "torch.add" : m.op == MergeOp::mul ? "torch.mul" : "torch.cat";
  e.headline = m.op == MergeOp::cat      ? fmt::format("{}([{}], dim={})", fn, fmt::join(names, ", "), m.dim)
               : m.op == MergeOp::matmul ? fmt::format("torch.matmul({})", fmt::join(names, ", "))
                                         : fmt::format("{}", fmt::join(names, m.op == MergeOp::add ? " + " : " * "));
  for (std::size_t i = 0; i < n.inputs.size() && i < row.inputs.size(); ++i) {
    // A cropped input: what its layer gave, then what the cat receives.
    const GraphNode* p = g.producer(n.inputs[i].value);
    const Row* src = p ? find_row(ev, p->name) : nullptr;
    std::string given = src && !src->failed && src->output != row.inputs[i]
                            ? fmt::format("{}, cropped to {}", format_shape(src->output), format_shape(row.inputs[i]))
                            : format_shape(row.inputs[i]);
    e.lines.push_back(fmt::format("{} gives {}{}", input_label(n, n.inputs[i]), given,
                                  n.inputs[i].identity ? " (the identity: the block's input)" : ""));
  }
  if (row.failed) {
    e.lines.push_back("the shapes do not fit (see the error)");
    return;
  }
  if (m.op == MergeOp::matmul) {
    explain_matmul(e, row);
  } else if (m.op == MergeOp::add && !m.broadcast) {
    e.lines.push_back("equal shapes: added elementwise, the shape is unchanged");
  } else if (m.op != MergeOp::cat) {
    explain_broadcast(e, row, m.op == MergeOp::add ? "added" : "multiplied");
  } else {
    auto rank = static_cast<int64_t>(row.output.size());
    auto d = static_cast<std::size_t>(m.dim < 0 ? m.dim + rank : m.dim);
    std::vector<std::string> parts;
    for (const auto& in : row.inputs) parts.push_back(std::to_string(in[d]));
    e.lines.push_back(fmt::format("dim {} adds up: {} = {}; every other dim is equal", d,
                                  fmt::join(parts, " + "), row.output[d]));
    if (m.crop) {
      for (std::size_t i = 0; i < n.inputs.size(); ++i) {
        const GraphNode* p = g.producer(n.inputs[i].value);
        const Row* src = p ? find_row(ev, p->name) : nullptr;
        const Shape& before = src ? src->output : row.inputs[i];
        for (std::size_t k = 2; k < before.size() && k < row.inputs[i].size(); ++k)
          if (before[k] != row.inputs[i][k])
            e.lines.push_back(fmt::format("crop: {} dim {} {} → {}, offset ({} − {}) // 2 = {}",
                                          input_label(n, n.inputs[i]), k, before[k], row.inputs[i][k],
                                          before[k], row.inputs[i][k], (before[k] - row.inputs[i][k]) / 2));
      }
    }
  }
}

int64_t elements(const Shape& s) {
  int64_t n = 1;
  for (int64_t x : s) n = checked_mul(n, x).value_or(INT64_MAX);
  return n;
}

// A call's sizes: "y.shape[0], 1" (sizes_text without its brackets).
std::string call_sizes(const Shape& sizes, const std::vector<std::optional<int64_t>>& from_dim, const GraphNode& n) {
  std::string t = sizes_text(sizes, from_dim, n.inputs.size() > 1 ? n.inputs[1].label : std::string("?"));
  return t.substr(1, t.size() - 2);
}

Explanation explain_row(const Row& row, const GraphNode& node, const Graph& g, const Evaluation& ev) {
  Explanation e{row.name, row.type, {}, {}};
  const Shape& in = row.input;
  std::string io = row.failed ? fmt::format("input {} → ✗ (see the error)", format_shape(in))
                              : fmt::format("input {} → output {}", format_shape(in), format_shape(row.output));
  e.lines.push_back(io);
  if (!row.from.empty()) e.lines.push_back(fmt::format("its input is the output of `{}` (\"from\")", row.from));
  if (auto* m = std::get_if<Merge>(&node.op)) {
    explain_merge(e, row, node, *m, g, ev);
    return e;
  }
  std::visit(
      overloaded{
          [&](const Conv& k) {
            int64_t c = in.size() > 1 ? in[1] : 0;
            e.headline = fmt::format("{}({} → {}, kernel_size={}, stride={}, padding={}{}{}{})", row.type, c,
                                     k.out_channels, dims_text(k.kernel_size), dims_text(k.stride),
                                     k.padding_mode == Padding::same ? "\"same\""
                                     : k.padding_mode == Padding::valid ? "\"valid\""
                                                                        : dims_text(k.padding),
                                     any_not(k.dilation, 1) ? ", dilation=" + dims_text(k.dilation) : "",
                                     k.groups != 1 ? fmt::format(", groups={}", k.groups) : "",
                                     k.bias ? "" : ", bias=False");
            if (in.size() != k.kernel_size.size() + 2 || row.failed) return;
            auto [pl, pr] = conv_pads(k);
            if (k.padding_mode == Padding::same)
              e.lines.push_back(fmt::format("padding \"same\": dilation·(kernel − 1) = {} rows of "
                                            "zeros in total, {} before and {} after",
                                            pl[0] + pr[0], pl[0], pr[0]));
            windows(e, in, k.kernel_size, k.stride, pl, pr, k.dilation, false);
            e.lines.push_back(fmt::format("channels: out_channels = {}: one {}×{} filter per "
                                          "output channel{}",
                                          k.out_channels, c / k.groups, fmt::join(k.kernel_size, "×"),
                                          k.groups > 1 ? fmt::format(", each seeing {} of the {} "
                                                                     "input channels (groups={})",
                                                                     c / k.groups, c, k.groups)
                                                       : ""));
            e.lines.push_back(fmt::format("parameters: {}·{}/{}·{}{} = {}", fmt::join(k.kernel_size, "·"), c, k.groups,
                                          k.out_channels, k.bias ? fmt::format(" + {} (bias)", k.out_channels) : "",
                                          thousands(row.params)));
            if (k.stride[0] == 1 && k.padding_mode == Padding::explicit_ &&
                2 * k.padding[0] == k.dilation[0] * (k.kernel_size[0] - 1))
              e.lines.push_back(fmt::format("kernel {} with padding {} and stride 1 keeps the size; "
                                            "with stride 2 it would halve it",
                                            k.kernel_size[0], k.padding[0]));
          },
          [&](const BatchNorm& k) {
            int64_t c = in.size() > 1 ? in[1] : 0;
            e.headline = fmt::format("{}({})", row.type, c);
            e.lines.push_back(fmt::format("normalizes each of the {} channels: the shape is unchanged", c));
            e.lines.push_back(fmt::format("parameters: {}", k.affine ? fmt::format("2·{} = {} (a scale and a shift per channel; the shift is why the conv before it needs no bias)", c, 2 * c) : "none (affine=false)"));
            if (k.track_running_stats)
              e.lines.push_back(fmt::format("buffers: running mean and variance, 2·{} = {} numbers", c, 2 * c));
          },
          [&](const ReLU& k) {
            e.headline = k.inplace ? "ReLU(inplace=True)" : "ReLU()";
            e.lines.push_back("max(0, x) elementwise: the shape is unchanged");
            if (k.inplace)
              e.lines.push_back("inplace=True overwrites its input to save memory; it changes no shape");
          },
          [&](const MaxPool& m) {
            MaxPool k = read_kernel(m, row.read_from);  // F.max_pool2d(x, x.size(3)): the sizes read
            e.headline = fmt::format("{}(kernel_size={}, stride={}, padding={}{}{})", row.type,
                                     dims_text(k.kernel_size), dims_text(k.stride), dims_text(k.padding),
                                     any_not(k.dilation, 1) ? ", dilation=" + dims_text(k.dilation) : "",
                                     k.ceil_mode ? ", ceil_mode=True" : "");
            if (in.size() != k.kernel_size.size() + 2 || row.failed) return;
            if (!m.read.from_dim.empty() && node.inputs.size() > 1)
              e.lines.push_back(fmt::format("kernel_size read from `{}`'s output {}", node.inputs[1].label,
                                            format_shape(row.read_from)));
            windows(e, in, k.kernel_size, k.stride, k.padding, k.padding, k.dilation, k.ceil_mode);
            e.lines.push_back("channels: unchanged (pooling works on each channel alone); no parameters");
          },
          [&](const AvgPool& a) {
            AvgPool k = read_kernel(a, row.read_from);
            e.headline = fmt::format("{}(kernel_size={}, stride={}, padding={}{})", row.type,
                                     dims_text(k.kernel_size), dims_text(k.stride), dims_text(k.padding),
                                     k.ceil_mode ? ", ceil_mode=True" : "");
            if (in.size() != k.kernel_size.size() + 2 || row.failed) return;
            if (!a.read.from_dim.empty() && node.inputs.size() > 1)
              e.lines.push_back(fmt::format("kernel_size read from `{}`'s output {}", node.inputs[1].label,
                                            format_shape(row.read_from)));
            windows(e, in, k.kernel_size, k.stride, k.padding, k.padding, Dims(k.kernel_size.size(), 1), k.ceil_mode);
            e.lines.push_back("channels: unchanged (pooling works on each channel alone); no parameters");
          },
          [&](const AdaptiveAvgPool&) {
            e.headline = row.type;
            e.lines.push_back("picks its windows so that the output has the asked size, whatever the input: no formula to satisfy");
          },
          [&](const AdaptiveMaxPool&) {
            e.headline = row.type;
            e.lines.push_back("picks its windows so that the output has the asked size, whatever the input: no formula to satisfy");
          },
          [&](const Flatten& k) {
            e.headline = fmt::format("Flatten(start_dim={}, end_dim={})", k.start_dim, k.end_dim);
            if (!row.failed && in.size() >= 3 && row.output.size() == 2)
              e.lines.push_back(fmt::format("{} = {} features per example", fmt::join(in.begin() + 1, in.end(), "·"),
                                            row.output[1]));
          },
          [&](const Linear& k) {
            int64_t f = in.empty() ? 0 : in.back();
            e.headline = fmt::format("Linear({} → {}{})", f, k.out_features, k.bias ? "" : ", bias=False");
            e.lines.push_back(fmt::format("y = x·Wᵀ + b on the last dim: in_features {} ({}), out_features {}",
                                          f, k.in_features ? "given" : "inferred from the input", k.out_features));
            if (!row.failed)
              e.lines.push_back(fmt::format("parameters: {}·{}{} = {}", f, k.out_features,
                                            k.bias ? fmt::format(" + {} (bias)", k.out_features) : "",
                                            thousands(row.params)));
          },
          [&](const Dropout& k) {
            if (k.stochastic) {
              e.headline = fmt::format("StochasticDepth(p={}, mode='{}')", k.p, k.row_mode ? "row" : "batch");
              e.lines.push_back(fmt::format("while training, zeroes the branch's output for {} with probability {} "
                                            "(and scales the rest by 1 / (1 − p)); in eval, nothing: the shape is unchanged",
                                            k.row_mode ? "each sample on its own" : "the whole batch", k.p));
              return;
            }
            e.headline = fmt::format("{}(p={})", k.name(), k.p);
            e.lines.push_back("zeroes elements at random while training, nothing in eval: the shape is unchanged");
          },
          [&](const Pointwise& k) {
            const auto& kind = pointwise_kind(k.fn);
            std::vector<std::string> args;
            for (std::size_t i = 0; i < kind.args.size(); ++i)
              if (k.args[i] != kind.args[i].second) args.push_back(fmt::format("{}={}", kind.args[i].first, k.args[i]));
            if (k.tanh_gelu) args.push_back("approximate='tanh'");
            if (k.inplace) args.push_back("inplace=True");
            e.headline = fmt::format("{}({})", kind.name, fmt::join(args, ", "));
            e.lines.push_back(fmt::format("{} elementwise: the shape is unchanged, no parameters", kind.formula));
          },
          [&](const ConvTranspose& k) {
            int64_t c = in.size() > 1 ? in[1] : 0;
            e.headline = fmt::format("{}({} → {}, kernel_size={}, stride={}, padding={}{}{}{}{})", row.type, c,
                                     k.out_channels, dims_text(k.kernel_size), dims_text(k.stride), dims_text(k.padding),
                                     any_not(k.output_padding, 0) ? ", output_padding=" + dims_text(k.output_padding) : "",
                                     any_not(k.dilation, 1) ? ", dilation=" + dims_text(k.dilation) : "",
                                     k.groups != 1 ? fmt::format(", groups={}", k.groups) : "", k.bias ? "" : ", bias=False");
            const std::size_t rank = k.kernel_size.size();
            if (in.size() != rank + 2 || row.failed) return;
            const Dims &ks = k.kernel_size, &ss = k.stride, &ps = k.padding, &ops = k.output_padding, &ds = k.dilation;
            for (std::size_t d = 0; d < rank; ++d) {
              if (d > 0 && in[2 + d] == in[1 + d] && ks[d] == ks[d - 1] && ss[d] == ss[d - 1] && ps[d] == ps[d - 1] &&
                  ops[d] == ops[d - 1] && ds[d] == ds[d - 1]) {
                e.lines.push_back(fmt::format("{}: the same as {}", spatial_letter(rank, d), spatial_letter(rank, d - 1)));
                continue;
              }
              int64_t out = row.output[2 + d];
              e.lines.push_back(fmt::format("{}: ({} − 1)·{} − 2·{} + {}·({} − 1) + {} + 1 = {}", spatial_letter(rank, d),
                                            in[2 + d], ss[d], ps[d], ds[d], ks[d], ops[d], out));
              // The conv with the same arguments maps `out` back onto `in`: the transposed conv is its gradient.
              WindowResult back = window_output({out, ks[d], ss[d], ps[d], ps[d], ds[d], false});
              e.lines.push_back(fmt::format("   undoes {}(kernel_size={}, stride={}, padding={}): {} → {}{}",
                                            Conv::names[rank - 1], ks[d], ss[d], ps[d], out, back.out,
                                            ss[d] > 1 ? fmt::format("; that conv maps {} sizes onto {} (output_padding picks one: {})",
                                                                    ss[d], back.out, ops[d])
                                                      : ""));
            }
            static const char* const weight[3] = {"[in, out/groups, k]", "[in, out/groups, kh, kw]",
                                                  "[in, out/groups, kd, kh, kw]"};
            e.lines.push_back(fmt::format("parameters: {}·{}/{}·{}{} = {} (weight {})", c, k.out_channels, k.groups,
                                          fmt::join(ks, "·"), k.bias ? fmt::format(" + {} (bias)", k.out_channels) : "",
                                          thousands(row.params), weight[rank - 1]));
          },
          [&](const Upsample& k) {
            std::string what = k.size.empty() ? fmt::format("scale_factor={}", k.scale.size() == 1
                                                                                   ? fmt::format("{}", k.scale[0])
                                                                                   : fmt::format("({})", fmt::join(k.scale, ", ")))
                                              : fmt::format("size={}", dims_text(k.size));
            e.headline = k.kind == 0 ? fmt::format("Upsample({}, mode='{}'{})", what, interp_name(k.mode),
                                                   k.align_corners ? fmt::format(", align_corners={}", *k.align_corners ? "True" : "False") : "")
                                     : fmt::format("{}({})", k.name(), what);
            if (row.failed || row.output.size() != in.size()) return;
            const std::size_t spatial = in.size() - 2;
            for (std::size_t d = 0; d < spatial; ++d) {
              const char* letter = spatial_letter(spatial, d);
              if (!k.size.empty())
                e.lines.push_back(fmt::format("{}: {} → {} (size given: no formula)", letter, in[2 + d], row.output[2 + d]));
              else
                e.lines.push_back(fmt::format("{}: ⌊{}·{}⌋ = {}", letter, in[2 + d],
                                              k.scale[k.scale.size() == 1 ? 0 : d], row.output[2 + d]));
            }
            e.lines.push_back(fmt::format("{}: every output pixel {}; channels unchanged, no parameters",
                                          interp_name(k.mode),
                                          k.mode == Interp::nearest || k.mode == Interp::nearest_exact
                                              ? "copies its nearest input pixel"
                                          : k.mode == Interp::area ? "averages the input pixels it covers"
                                                                   : "interpolates its neighbouring input pixels"));
          },
          [&](const Pad& p) {
            Pad k = p.to_other ? pad_to(p, in, row.read_from) : p;
            if (p.to_other && node.inputs.size() > 1)
              e.lines.push_back(fmt::format("padded to `{}`'s {}: each dim's difference d as d // 2 before and d − d // 2 "
                                            "after (F.pad(x, [dX // 2, dX − dX // 2, …]))", node.inputs[1].label,
                                            format_shape(row.read_from)));
            e.headline = fmt::format("{}(padding=({}){})", k.name(), fmt::join(k.pads, ", "),
                                     k.mode == PadMode::constant && !k.zero && k.value != 0 ? fmt::format(", value={}", k.value) : "");
            if (row.failed) return;
            const auto rank = static_cast<std::size_t>(k.rank);
            for (std::size_t i = rank; i-- > 0;) {  // in the input's order: depth, height, width
              std::size_t d = in.size() - 1 - i;
              auto term = [](int64_t v) { return v < 0 ? fmt::format("− {}", -v) : fmt::format("+ {}", v); };
              e.lines.push_back(fmt::format("dim {}: {} {} {} = {}{}", d, in[d], term(k.pads[2 * i]), term(k.pads[2 * i + 1]),
                                            row.output[d], i == 0 ? " (PyTorch's padding starts with the last dim)" : ""));
            }
            e.lines.push_back(k.mode == PadMode::reflect ? "reflection mirrors the input without repeating the edge, so each side needs padding < the input size"
                              : k.mode == PadMode::replicate ? "replication repeats the edge value"
                                                             : "constant: the new border holds the value; a negative size crops");
          },
          [&](const PixelShuffle& k) {
            e.headline = fmt::format("{}({})", k.name(), k.factor);
            if (row.failed) return;
            std::size_t c = in.size() - 3;
            int64_t r2 = k.factor * k.factor;
            if (!k.unshuffle)
              e.lines.push_back(fmt::format("channels {} = {}·{}² → {}; H {}·{} = {}; W {}·{} = {}: each group of {} channels "
                                            "becomes a {}×{} block of pixels",
                                            in[c], in[c] / r2, k.factor, row.output[c], in[c + 1], k.factor,
                                            row.output[c + 1], in[c + 2], k.factor, row.output[c + 2], r2, k.factor, k.factor));
            else
              e.lines.push_back(fmt::format("H {}/{} = {}; W {}/{} = {}; channels {}·{}² = {}: each {}×{} block of pixels "
                                            "becomes {} channels",
                                            in[c + 1], k.factor, row.output[c + 1], in[c + 2], k.factor, row.output[c + 2],
                                            in[c], k.factor, row.output[c], k.factor, k.factor, r2));
            e.lines.push_back("the number of elements is unchanged; no parameters");
          },
          [&](const ChannelShuffle& k) {
            e.headline = fmt::format("ChannelShuffle({})", k.groups);
            if (row.failed) return;
            e.lines.push_back(fmt::format("the {} channels, as {} groups of {}, are interleaved so that the next grouped "
                                          "conv mixes information across groups; the shape is unchanged",
                                          in[1], k.groups, in[1] / k.groups));
          },
          [&](const InstanceNorm& k) {
            int64_t c = in.size() > 1 ? in[1] : 0;
            e.headline = fmt::format("{}({}{}{})", row.type, c, k.affine ? ", affine=True" : "",
                                     k.track_running_stats ? ", track_running_stats=True" : "");
            e.lines.push_back("normalizes each channel of each example over its spatial dims: the shape is unchanged");
            e.lines.push_back(k.affine ? fmt::format("parameters: 2·{} = {} (affine=True)", c, 2 * c)
                                       : "parameters: none (affine=False is PyTorch's default here, unlike BatchNorm)");
          },
          [&](const GroupNorm& k) {
            int64_t c = in.size() > 1 ? in[1] : 0;
            e.headline = fmt::format("GroupNorm({}, {})", k.num_groups, c);
            if (row.failed) return;
            e.lines.push_back(fmt::format("normalizes each example over {} groups of {} channels (and the spatial dims): "
                                          "the shape is unchanged", k.num_groups, c / k.num_groups));
            e.lines.push_back(k.affine ? fmt::format("parameters: 2·{} = {}", c, 2 * c) : "parameters: none");
          },
          [&](const LayerNorm& k) {
            e.headline = fmt::format("LayerNorm({})", format_shape(k.normalized_shape));
            e.lines.push_back(fmt::format("normalizes over the last {} dim{} {}: the input must end with them; the shape "
                                          "is unchanged", k.normalized_shape.size(), k.normalized_shape.size() == 1 ? "" : "s",
                                          format_shape(k.normalized_shape)));
            if (!row.failed) e.lines.push_back(fmt::format("parameters: {}", thousands(row.params)));
          },
          [&](const LocalResponseNorm& k) {
            e.headline = fmt::format("LocalResponseNorm({})", k.size);
            e.lines.push_back(fmt::format("divides each value by a sum over {} neighbouring channels: the shape is unchanged, "
                                          "no parameters", k.size));
          },
          [&](const PReLU& k) {
            e.headline = fmt::format("PReLU(num_parameters={})", k.num_parameters);
            e.lines.push_back(fmt::format("x if x ≥ 0 else a·x with {} learned slope{}: the shape is unchanged",
                                          k.num_parameters, k.num_parameters == 1 ? "" : "s, one per channel"));
          },
          [&](const Softmax& k) {
            e.headline = k.dim ? fmt::format("{}(dim={})", k.name(), *k.dim) : fmt::format("{}()", k.name());
            e.lines.push_back(fmt::format("{} along {}: every slice along it {}; the shape is unchanged",
                                          k.which == Softmax::log_softmax ? "log of the softmax" : k.which == Softmax::softmin ? "softmax of −x" : "softmax",
                                          k.which == Softmax::softmax2d ? "the channels (dim −3)" : row.arguments,
                                          k.which == Softmax::log_softmax ? "gives log-probabilities" : "sums to 1"));
          },
          [&](const Unflatten& k) {
            e.headline = fmt::format("Unflatten(dim={}, unflattened_size={})", k.dim, format_shape(k.sizes));
            if (!row.failed)
              e.lines.push_back(fmt::format("dim {} of size {} becomes {}: the inverse of a Flatten", k.dim,
                                            in[static_cast<std::size_t>(k.dim < 0 ? k.dim + static_cast<int64_t>(in.size()) : k.dim)],
                                            fmt::join(k.sizes, "×")));
          },
          [&](const Narrow& k) {
            e.headline = fmt::format("torch.narrow(x, dim={}, start={}, length={})", k.dim, k.start, k.length);
            if (!row.failed) e.lines.push_back(fmt::format("keeps {} of dim {}: the rest of the shape is unchanged", k.length, k.dim));
          },
          [&](const Slice& k) {
            std::vector<std::string> index(static_cast<std::size_t>(k.dim < 0 ? 0 : k.dim), ":");
            std::string text = slice_text(k);
            index.push_back(text.substr(text.find('[') + 1, text.size() - text.find('[') - 2));
            e.headline = fmt::format("x[{}{}]", k.dim < 0 ? "..., " : "", fmt::join(index, ", "));
            if (row.failed) return;
            auto d = static_cast<std::size_t>(k.dim < 0 ? k.dim + static_cast<int64_t>(in.size()) : k.dim);
            auto [start, end] = slice_bounds(k, in[d]);
            e.lines.push_back(fmt::format("len(range({}, {}, {})) = {} of dim {}'s {} entries (a view)", start, end,
                                          k.step, row.output[d], d, in[d]));
          },
          [&](const Chunk& k) {
            e.headline = fmt::format("torch.chunk(x, {}, dim={})[{}]", k.chunks, k.dim, k.index);
            if (row.failed) return;
            auto d = static_cast<std::size_t>(k.dim < 0 ? k.dim + static_cast<int64_t>(in.size()) : k.dim);
            int64_t each = (in[d] + k.chunks - 1) / k.chunks;
            e.lines.push_back(fmt::format("chunks of ⌈{}/{}⌉ = {} along dim {}; chunk {} has {}", in[d], k.chunks, each, d,
                                          k.index, row.output[d]));
          },
          [&](const Permute& k) {
            e.headline = k.transpose ? fmt::format("x.transpose({}, {})", k.dim0, k.dim1)
                                     : fmt::format("x.permute({})", fmt::join(k.dims, ", "));
            if (row.failed) return;
            e.lines.push_back(fmt::format("the same {} elements, dims reordered: {} → {} (a view: no copy, no memory)",
                                          thousands(elements(in)), format_shape(in), format_shape(row.output)));
          },
          [&](const Reshape& k) {
            e.headline = fmt::format("x.{}({})", k.view ? "view" : "reshape", call_sizes(k.shape, k.from_dim, node));
            if (row.failed) return;
            int64_t n = elements(in), known = 1;
            for (std::size_t i = 0; i < k.shape.size(); ++i)
              if (k.shape[i] != -1) known = checked_mul(known, row.output[i]).value_or(INT64_MAX);
            if (!k.from_dim.empty())
              e.lines.push_back(fmt::format("the sizes read from `{}`'s output make {}", node.inputs[1].label,
                                            format_shape(row.output)));
            e.lines.push_back(fmt::format("{} elements: {} = {}", thousands(n), fmt::join(in, "·"),
                                          thousands(n)));
            auto infer = std::find(k.shape.begin(), k.shape.end(), -1);
            if (infer != k.shape.end())
              e.lines.push_back(fmt::format("-1 = {} / {} = {}", thousands(n), thousands(known),
                                            row.output[static_cast<std::size_t>(infer - k.shape.begin())]));
            else
              e.lines.push_back(fmt::format("{} = {}: the counts match", fmt::join(row.output, "·"), thousands(n)));
          },
          [&](const Squeeze& k) {
            e.headline = fmt::format("x.{}({})", k.unsqueeze ? "unsqueeze" : "squeeze", k.dim ? std::to_string(*k.dim) : "");
            if (row.failed) return;
            e.lines.push_back(k.unsqueeze ? fmt::format("a dim of size 1 inserted at {} (a view)", *k.dim)
                              : row.output.size() == in.size() ? std::string("no dim of size 1 there: the shape is unchanged, as in PyTorch")
                                                               : std::string("its size-1 dims dropped (a view)"));
          },
          [&](const Select& k) {
            e.headline = fmt::format("x.select({}, {})", k.dim, k.index);
            if (row.failed) return;
            auto d = static_cast<std::size_t>(k.dim < 0 ? k.dim + static_cast<int64_t>(in.size()) : k.dim);
            e.lines.push_back(fmt::format("entry {} of dim {} (of {}); the dim disappears (a view)", k.index, d, in[d]));
          },
          [&](const Reduce& k) {
            e.headline = fmt::format("torch.{}(x, dim={}{})", k.op == Reduce::mean ? "mean" : k.op == Reduce::sum ? "sum" : "amax",
                                     k.dims.size() == 1 ? std::to_string(k.dims[0]) : format_shape(k.dims),
                                     k.keepdim ? ", keepdim=True" : "");
            if (row.failed) return;
            e.lines.push_back(fmt::format("{} over dims {}: {}", k.name(), format_shape(k.dims),
                                          k.keepdim ? "each becomes 1" : "they disappear"));
          },
          [&](const Expand& k) {
            e.headline = k.as_other && node.inputs.size() > 1
                             ? fmt::format("x.expand_as({})", node.inputs[1].label)
                             : fmt::format("x.expand({})", call_sizes(k.sizes, k.from_dim, node));
            if (!row.failed)
              e.lines.push_back(fmt::format("{} → {}: size-1 dims repeated, new dims in front; a view (stride 0), no copy",
                                            format_shape(in), format_shape(row.output)));
          },
          [&](const Embedding& k) {
            e.headline = fmt::format("Embedding({}, {}{})", k.num_embeddings, k.embedding_dim,
                                     k.padding_idx ? fmt::format(", padding_idx={}", *k.padding_idx) : "");
            e.lines.push_back(fmt::format("the input holds token indices (integers below {}): each picks a row of the "
                                          "{}×{} table, so a dim of {} is added at the end", k.num_embeddings,
                                          k.num_embeddings, k.embedding_dim, k.embedding_dim));
            e.lines.push_back(fmt::format("parameters: {}·{} = {}", k.num_embeddings, k.embedding_dim, thousands(row.params)));
          },
          [&](const Parameter& k) {
            e.headline = fmt::format("nn.Parameter(torch.zeros({}))", fmt::join(k.shape, ", "));
            e.lines[0] = fmt::format("no input → output {}", format_shape(k.shape));
            e.lines.push_back(fmt::format("a learned tensor: {} = {} parameters, whatever the input",
                                          fmt::join(k.shape, "·"), row.params));
          },
          [&](const Roll& k) {
            e.headline = fmt::format("torch.roll(x, shifts={}, dims={})", format_shape(k.shifts), format_shape(k.dims));
            if (!row.failed) e.lines.push_back("values shifted round, those pushed off one end coming in at the other: the shape is unchanged");
          },
          [&](const GLU& k) {
            e.headline = fmt::format("GLU(dim={})", k.dim);
            if (row.failed) return;
            auto d = static_cast<std::size_t>(k.dim < 0 ? k.dim + static_cast<int64_t>(in.size()) : k.dim);
            e.lines.push_back(fmt::format("a ⊗ σ(b), a and b the two halves of dim {}: {} / 2 = {}", d, in[d],
                                          row.output[d]));
          },
          [&](const Merge&) {},
      },
      node.op);
  return e;
}

}  // namespace

std::vector<Explanation> explain(const Spec& spec, const Evaluation& ev, const std::string& only) {
  std::vector<Explanation> out;
  for (std::size_t i = 0; i < ev.rows.size() && i < spec.graph.nodes.size(); ++i) {
    const Row& row = ev.rows[i];
    if (!only.empty() && row.name != only && row.name.compare(0, only.size() + 1, only + ".") != 0)
      continue;
    out.push_back(explain_row(row, spec.graph.nodes[i], spec.graph, ev));
  }
  return out;
}

}  // namespace netshape
