#include "analysis.h"

#include <algorithm>

#include <fmt/format.h>

#include "formula.h"

namespace netshape {
namespace {

using Field = Row::Field;
using RF = std::optional<std::pair<Field, Field>>;

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


class Analyser {
 public:
  explicit Analyser(Evaluation& ev) : ev_(ev) {}

  // Walks the layers in the evaluator's row order; `held_` is what waits
  // elsewhere (a block's input, a body's result) for an add. Returns false once a row
  // failed: nothing after it has a shape.
  bool run(const Layers& layers, RF& rf, int64_t& in_bytes) {
    for (const auto& n : layers)
      if (!node(n, rf, in_bytes)) return false;
    return true;
  }

  int64_t peak = 0;

 private:
  Evaluation& ev_;
  std::size_t next_ = 0;  // the next row
  int64_t held_ = 0;

  Row* take() { return next_ < ev_.rows.size() ? &ev_.rows[next_++] : nullptr; }

  bool node(const Node& n, RF& rf, int64_t& in_bytes) {
    if (auto* s = std::get_if<Sequential>(&n.kind)) return run(s->layers, rf, in_bytes);
    if (auto* r = std::get_if<Residual>(&n.kind)) return residual(n, *r, rf, in_bytes);
    Row* row = take();
    if (!row || row->failed) return false;
    row->activation_bytes = bytes(row->output);
    bool aliases = false;  // an in-place op writes over its input
    std::visit(overloaded{
                   [&](const Conv2d& k) {
                     int64_t per = (row->input[1] / k.groups) * k.kernel_size.h * k.kernel_size.w;
                     row->macs = checked_mul(numel(row->output), per).value_or(INT64_MAX);
                     Pair pad = conv_pads(k).before;  // the padding before sets the start
                     if (rf) rf = std::pair{through(rf->first, k.kernel_size.h, k.stride.h, pad.h, k.dilation.h),
                                            through(rf->second, k.kernel_size.w, k.stride.w, pad.w, k.dilation.w)};
                   },
                   [&](const BatchNorm2d& k) {
                     if (k.track_running_stats) row->buffers = 2 * row->input[1] + 1;  // + num_batches_tracked
                   },
                   [&](const ReLU& k) { aliases = k.inplace; },
                   [&](const Dropout& k) { aliases = k.inplace; },
                   [&](const MaxPool2d& k) {
                     if (rf) rf = std::pair{through(rf->first, k.kernel_size.h, k.stride.h, k.padding.h, k.dilation.h),
                                            through(rf->second, k.kernel_size.w, k.stride.w, k.padding.w, k.dilation.w)};
                   },
                   [&](const AvgPool2d& k) {
                     if (rf) rf = std::pair{through(rf->first, k.kernel_size.h, k.stride.h, k.padding.h, 1),
                                            through(rf->second, k.kernel_size.w, k.stride.w, k.padding.w, 1)};
                   },
                   [&](const AdaptiveAvgPool2d&) { adaptive(*row, rf); },
                   [&](const AdaptiveMaxPool2d&) { adaptive(*row, rf); },
                   [&](const Flatten&) { rf.reset(); },  // every feature now sees everything
                   [&](const Linear& k) {
                     row->macs = checked_mul(numel(row->input), k.out_features).value_or(INT64_MAX);
                     rf.reset();
                   },
                   [&](const Sequential&) {},
                   [&](const Residual&) {},
               },
               n.kind);
    row->receptive_field = rf;
    int64_t out = aliases ? 0 : row->activation_bytes;
    peak = std::max(peak, held_ + in_bytes + out);
    in_bytes = row->activation_bytes;
    return true;
  }

  // Adaptive pooling uses equal windows only when the input divides evenly.
  static void adaptive(const Row& row, RF& rf) {
    if (!rf) return;
    int64_t ih = row.input[2], iw = row.input[3], oh = row.output[2], ow = row.output[3];
    if (ih % oh != 0 || iw % ow != 0) { rf.reset(); return; }
    rf = std::pair{through(rf->first, ih / oh, ih / oh, 0, 1), through(rf->second, iw / ow, iw / ow, 0, 1)};
  }

  bool residual(const Node& n, const Residual& r, RF& rf, int64_t& in_bytes) {
    int64_t x = in_bytes;
    RF body_rf = rf, short_rf = rf;
    held_ += x;  // x waits for the shortcut
    int64_t b = x;
    bool ok = run(r.body, body_rf, b);
    held_ -= x;
    if (!ok) return false;
    int64_t s = x;
    held_ += b;  // the body's result waits for the add
    ok = run(r.shortcut, short_rf, s);
    held_ -= b;
    if (!ok) return false;
    Row* add = take();
    if (!add || add->failed) return false;
    add->activation_bytes = bytes(add->output);
    peak = std::max(peak, held_ + b + s);  // added in place into the body's result
    if (body_rf && short_rf && !r.shortcut.empty()) {
      for (int d = 0; d < 2; ++d) {
        const Field& fb = d == 0 ? body_rf->first : body_rf->second;
        const Field& fs = d == 0 ? short_rf->first : short_rf->second;
        if (fb.jump != fs.jump || fb.start != fs.start) {
          auto& w = ev_.diagnostics.warning(
              "rf-misaligned",
              fmt::format("the branches of `{}` sample the input differently along {}: body "
                          "jump {} from {}, shortcut jump {} from {}",
                          n.name, d == 0 ? "H" : "W", fb.jump, fb.start, fs.jump, fs.start),
              n.pointer, n.name);
          w.notes.push_back("the add then mixes features centred on different input pixels");
          break;
        }
      }
    }
    if (body_rf && short_rf)
      body_rf = std::pair{Field{std::max(body_rf->first.size, short_rf->first.size), body_rf->first.jump, body_rf->first.start},
                          Field{std::max(body_rf->second.size, short_rf->second.size), body_rf->second.jump, body_rf->second.start}};
    else
      body_rf.reset();
    add->receptive_field = body_rf;
    rf = body_rf;
    in_bytes = add->activation_bytes;
    return run(r.after, rf, in_bytes);
  }
};

}  // namespace

void analyse(const Spec& spec, Evaluation& ev) {
  Analyser a(ev);
  RF rf;
  if (spec.input.size() == 4) rf = std::pair{Field{1, 1, 0}, Field{1, 1, 0}};
  int64_t in_bytes = bytes(spec.input);
  a.run(spec.layers, rf, in_bytes);
  ev.buffers = ev.macs = 0;
  for (const auto& r : ev.rows) {
    ev.buffers = checked_add(ev.buffers, r.buffers).value_or(INT64_MAX);
    ev.macs = checked_add(ev.macs, r.macs).value_or(INT64_MAX);
  }
  ev.peak_activation_bytes = a.peak;
}

}  // namespace netshape
