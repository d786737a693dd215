#include "analysis.h"

#include <algorithm>

#include <fmt/format.h>

#include "formula.h"

namespace netshape {
namespace {

using Field = Row::Field;
using RF = std::optional<std::vector<Field>>;  // one Field per spatial dim

int64_t numel(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n = checked_mul(n, d).value_or(INT64_MAX);
  return n;
}

int64_t bytes(const Shape& s) { return checked_mul(numel(s), 4).value_or(INT64_MAX); }

// One window along one dim: r' = r + (k' − 1)·j, j' = j·s, start' = start + ((k' − 1)/2 − p)·j.
Field through(const Field& f, int64_t kernel, int64_t stride, int64_t pad, int64_t dilation) {
  int64_t span = dilation * (kernel - 1) + 1;
  return {f.size + (span - 1) * f.jump, f.jump * stride,
          f.start + ((span - 1) / 2.0 - static_cast<double>(pad)) * static_cast<double>(f.jump)};
}


// The receptive field of a merge: the largest over its inputs, which must
// sample the input on the same grid (same jump and start) to be comparable.
class Analyser {
 public:
  Analyser(const Graph& g, Evaluation& ev) : g_(g), ev_(ev) {}

  // Walks the rows (one per graph node, up to the first failure). Peak
  // memory by liveness: a value is freed after the last node that reads it
  // (the network's outputs never are); an in-place op (ReLU(inplace), an add
  // into a dead first input) writes over its input instead of allocating.
  void run(const Shape& input) {
    input_ = &input;
    std::size_t values = g_.nodes.size() + 1;
    rf_.assign(values, std::nullopt);
    owned_.assign(values, 0);
    std::vector<std::size_t> last(values, 0);
    for (std::size_t i = 0; i < g_.nodes.size(); ++i)
      for (const auto& x : g_.nodes[i].inputs) last[static_cast<std::size_t>(x.value)] = i;
    for (int v : g_.outputs) last[static_cast<std::size_t>(v)] = SIZE_MAX;
    if (input.size() >= 3 && input.size() <= 5) rf_[0] = std::vector<Field>(input.size() - 2, Field{1, 1, 0});
    owned_[0] = bytes(input);
    int64_t live = owned_[0];
    for (std::size_t i = 0; i < ev_.rows.size() && i < g_.nodes.size(); ++i) {
      Row& row = ev_.rows[i];
      if (row.failed) return;
      const GraphNode& n = g_.nodes[i];
      row.activation_bytes = bytes(row.output);
      int alias = node(n, row);  // the input value the output overwrites, or -1
      if (alias >= 0 && last[static_cast<std::size_t>(alias)] != i) alias = -1;  // still needed
      int64_t out = alias >= 0 ? 0 : row.activation_bytes;
      auto now = checked_add(live, out);
      if (!now) {
        ev_.diagnostics.error("overflow", fmt::format("the activations alive at `{}` exceed 2^63 bytes", n.name),
                              n.pointer, n.name);
        return;
      }
      live = *now;
      peak = std::max(peak, live);
      owned_[i + 1] = out;
      for (const auto& x : n.inputs) {
        auto v = static_cast<std::size_t>(x.value);
        if (last[v] != i) continue;
        if (x.value == alias) { owned_[i + 1] = owned_[v]; owned_[v] = 0; continue; }
        live -= owned_[v];
        owned_[v] = 0;
      }
      row.receptive_field = rf_[i + 1];
    }
  }

  int64_t peak = 0;

 private:
  const Graph& g_;
  Evaluation& ev_;
  const Shape* input_ = nullptr;
  std::vector<RF> rf_;          // by value id
  std::vector<int64_t> owned_;  // bytes each live value holds

  // Costs and the receptive field of one node; returns the input value an
  // in-place op writes over, or -1.
  int node(const GraphNode& n, Row& row) {
    const RF& in = rf_[static_cast<std::size_t>(n.inputs[0].value)];
    RF& rf = rf_[static_cast<std::size_t>(value_of(&n - g_.nodes.data()))];
    rf = in;
    int alias = -1;
    std::visit(overloaded{
                   [&](const Conv& k) {
                     int64_t per = row.input[1] / k.groups;
                     for (int64_t ks : k.kernel_size) per *= ks;
                     row.macs = macs(n, numel(row.output), per);
                     // the padding before sets the start
                     windows(rf, k.kernel_size, k.stride, conv_pads(k).before, k.dilation);
                   },
                   [&](const BatchNorm& k) {
                     if (k.track_running_stats) row.buffers = 2 * row.input[1] + 1;  // + num_batches_tracked
                   },
                   [&](const ReLU& k) { if (k.inplace) alias = n.inputs[0].value; },
                   [&](const Dropout& k) { if (k.inplace) alias = n.inputs[0].value; },
                   [&](const Pointwise& k) { if (k.inplace) alias = n.inputs[0].value; },
                   [&](const ConvTranspose& k) {
                     // Every input element is multiplied into a kernel per output channel of its group.
                     int64_t per = k.out_channels / k.groups;
                     for (int64_t ks : k.kernel_size) per *= ks;
                     row.macs = macs(n, numel(row.input), per);
                     rf.reset();  // a jump below 1 (a fraction): not tracked
                   },
                   // A kernel read from another value (F.avg_pool2d(x, x.size(3))): the sizes evaluation read.
                   [&](const MaxPool& m) {
                     MaxPool k = read_kernel(m, row.read_from);
                     windows(rf, k.kernel_size, k.stride, k.padding, k.dilation);
                   },
                   [&](const AvgPool& a) {
                     AvgPool k = read_kernel(a, row.read_from);
                     windows(rf, k.kernel_size, k.stride, k.padding, Dims(k.kernel_size.size(), 1));
                   },
                   [&](const AdaptiveAvgPool&) { adaptive(row, rf); },
                   [&](const AdaptiveMaxPool&) { adaptive(row, rf); },
                   // A fractional jump (an upsampled grid) is not tracked: the field is dropped.
                   [&](const Upsample&) { rf.reset(); },
                   [&](const PixelShuffle&) { rf.reset(); },
                   [&](const ChannelShuffle&) {},
                   [&](const InstanceNorm& k) {
                     if (k.track_running_stats) row.buffers = 2 * row.input[1] + 1;  // as BatchNorm's
                   },
                   [&](const GroupNorm&) {},
                   [&](const LayerNorm&) {},
                   [&](const LocalResponseNorm&) {},
                   [&](const PReLU&) {},
                   [&](const Softmax&) {},
                   // Along a spatial dim each output pairs two inputs half the dim apart: no one window.
                   [&](const GLU& k) { if (dim_index(row, k.dim) >= 2) rf.reset(); },
                   // Views of their input (no new memory); the dims are no longer the input's.
                   [&](const Permute&) { alias = n.inputs[0].value; rf.reset(); },
                   [&](const Reshape&) { alias = n.inputs[0].value; rf.reset(); },
                   [&](const Squeeze&) { alias = n.inputs[0].value; rf.reset(); },
                   [&](const Select&) { alias = n.inputs[0].value; rf.reset(); },
                   [&](const Reduce&) { rf.reset(); },
                   [&](const Roll&) { rf.reset(); },
                   [&](const Parameter&) { rf.reset(); },  // no input: nothing of it is seen
                   [&](const Embedding&) { rf.reset(); },  // a lookup: no multiply-accumulates
                   [&](const Expand&) { alias = n.inputs[0].value; rf.reset(); },  // a view: no memory of its own  // a value from the far edge: no one window
                   [&](const Unflatten&) { rf.reset(); },  // the dims are no longer the input's
                   // A slice of a spatial dim moves the start; the channels leave the field as it is.
                   [&](const Narrow& k) { slice_rf(rf, row, k.dim, k.start < 0 ? k.start + row.input[dim_index(row, k.dim)] : k.start); },
                   // Every step-th entry from start: the field moves to start, and its jump grows by step.
                   [&](const Slice& k) {
                     std::size_t d = dim_index(row, k.dim);
                     slice_rf(rf, row, k.dim, slice_bounds(k, row.input[d]).first);
                     if (!rf || d < 2 || d - 2 >= rf->size()) return;
                     auto jump = checked_mul((*rf)[d - 2].jump, k.step);
                     if (jump) (*rf)[d - 2].jump = *jump;
                     else rf.reset();
                   },
                   [&](const Chunk& k) {
                     int64_t size = row.input[dim_index(row, k.dim)], each = (size + k.chunks - 1) / k.chunks;
                     slice_rf(rf, row, k.dim, k.index * each);
                   },
                   [&](const Pad& p) {
                     // The first output now sits `before` input steps earlier; sizes and jumps stay.
                     if (!rf) return;
                     Pad k = p.to_other ? pad_to(p, row.input, row.read_from) : p;
                     for (std::size_t i = 0; i < static_cast<std::size_t>(k.rank) && i < rf->size(); ++i) {
                       Field& f = (*rf)[rf->size() - 1 - i];
                       f.start -= static_cast<double>(k.pads[2 * i]) * static_cast<double>(f.jump);
                     }
                   },
                   [&](const Flatten&) { rf.reset(); },  // every feature now sees everything
                   [&](const Linear& k) {
                     row.macs = macs(n, numel(row.input), k.out_features);
                     rf.reset();
                   },
                   [&](const Merge& m) {
                     if (m.op == MergeOp::matmul) {  // every output entry is a length-m dot product
                       const Shape& a = row.inputs[0];
                       row.macs = macs(n, numel(row.output), a.back());
                       rf.reset();
                       return;
                     }
                     rf = merged_rf(n, m);
                     // In place into the first input, as the runner's add_ (and
                     // the seed's `out += residual`); cat and mul allocate.
                     // A broadcast that grows the first input allocates too.
                     if (m.op == MergeOp::add && row.inputs[0] == row.output) alias = n.inputs[0].value;
                   },
               },
               n.op);
    if (n.shares >= 0) row.buffers = 0;  // the module's own statistics, counted where it first runs
    return alias;
  }

  // elements · work per element; an overflow is an error naming the layer.
  int64_t macs(const GraphNode& n, int64_t elements, int64_t per) {
    if (auto m = checked_mul(elements, per)) return *m;
    ev_.diagnostics.error("overflow", fmt::format("`{}` needs more than 2^63 multiply-accumulates", n.name),
                          n.pointer, n.name);
    return 0;
  }

  static std::size_t dim_index(const Row& row, int64_t dim) {
    return static_cast<std::size_t>(dim < 0 ? dim + static_cast<int64_t>(row.input.size()) : dim);
  }
  static void slice_rf(RF& rf, const Row& row, int64_t dim, int64_t first) {
    std::size_t d = dim_index(row, dim);
    if (!rf || d < 2 || d - 2 >= rf->size()) return;
    (*rf)[d - 2].start += static_cast<double>(first) * static_cast<double>((*rf)[d - 2].jump);
  }

  static void windows(RF& rf, const Dims& k, const Dims& s, const Dims& pad, const Dims& dil) {
    if (!rf || rf->size() != k.size()) { rf.reset(); return; }
    for (std::size_t d = 0; d < k.size(); ++d) (*rf)[d] = through((*rf)[d], k[d], s[d], pad[d], dil[d]);
  }

  // Adaptive pooling uses equal windows only when the input divides evenly.
  static void adaptive(const Row& row, RF& rf) {
    if (!rf || rf->size() + 2 != row.input.size()) { rf.reset(); return; }
    for (std::size_t d = 0; d < rf->size(); ++d) {
      int64_t i = row.input[2 + d], o = row.output[2 + d];
      if (i % o != 0) { rf.reset(); return; }
      (*rf)[d] = through((*rf)[d], i / o, i / o, 0, 1);
    }
  }

  RF merged_rf(const GraphNode& n, const Merge& m) {
    const Row& row = ev_.rows[static_cast<std::size_t>(&n - g_.nodes.data())];
    if (m.op == MergeOp::mul || m.broadcast) {
      // The input that carries the feature map (a gate is [N, C, 1, 1]).
      for (std::size_t i = 0; i < n.inputs.size(); ++i)
        if (row.inputs[i] == row.output) return rf_[static_cast<std::size_t>(n.inputs[i].value)];
      return std::nullopt;
    }
    RF out = cropped_rf(n, m, row, 0);
    bool identity = false;
    for (const auto& x : n.inputs) identity = identity || x.identity;
    for (std::size_t i = 1; i < n.inputs.size() && out; ++i) {
      const RF other = cropped_rf(n, m, row, i);
      if (!other) return std::nullopt;
      if (!identity) misaligned(n, *out, *other, n.inputs[i].label);
      if (other->size() != out->size()) return std::nullopt;
      for (std::size_t d = 0; d < out->size(); ++d) (*out)[d].size = std::max((*out)[d].size, (*other)[d].size);
    }
    return out;
  }

  // A centre crop drops (big − small) // 2 rows at the start: the first
  // remaining row is centred that many jumps later.
  RF cropped_rf(const GraphNode& n, const Merge& m, const Row& row, std::size_t i) const {
    auto v = static_cast<std::size_t>(n.inputs[i].value);
    RF rf = rf_[v];
    if (!rf || !m.crop || i >= row.inputs.size()) return rf;
    const Shape& before = v == 0 ? *input_ : ev_.rows[v - 1].output;
    const Shape& after = row.inputs[i];
    if (before.size() != rf->size() + 2 || after.size() != before.size()) return rf;
    for (std::size_t d = 0; d < rf->size(); ++d)
      (*rf)[d].start += static_cast<double>((before[2 + d] - after[2 + d]) / 2 * (*rf)[d].jump);
    return rf;
  }

  void misaligned(const GraphNode& n, const std::vector<Field>& a, const std::vector<Field>& b,
                  const std::string& label) {
    for (std::size_t d = 0; d < a.size() && d < b.size(); ++d) {
      const Field& fa = a[d];
      const Field& fb = b[d];
      if (fa.jump == fb.jump && fa.start == fb.start) continue;
      auto& w = ev_.diagnostics.warning(
          "rf-misaligned",
          fmt::format("the branches of `{}` sample the input differently along {}: {} jump {} from {}, "
                      "{} jump {} from {}",
                      n.name, spatial_letter(a.size(), d), n.inputs[0].label, fa.jump, fa.start, label, fb.jump,
                      fb.start),
          n.pointer, n.name);
      w.notes.push_back(fmt::format("the {} then mixes features centred on different input pixels",
                                    op_name(n.op)));
      return;
    }
  }
};

}  // namespace

void analyse(const Spec& spec, Evaluation& ev) {
  Analyser a(spec.graph, ev);
  a.run(spec.input);
  ev.buffers = ev.macs = 0;
  bool overflow = false;
  for (const auto& r : ev.rows) {
    auto b = checked_add(ev.buffers, r.buffers), m = checked_add(ev.macs, r.macs);
    overflow = overflow || !b || !m;
    ev.buffers = b.value_or(0);
    ev.macs = m.value_or(0);
  }
  if (overflow) ev.diagnostics.error("overflow", "the network's total multiply-accumulates exceed 2^63", "", "");
  ev.peak_activation_bytes = a.peak;
}

}  // namespace netshape
