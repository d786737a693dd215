#include "fix.h"

#include <algorithm>

#include <fmt/format.h>

#include "formula.h"
#include "kinds.h"
#include "pipeline.h"

namespace netshape {
namespace {

// A list argument as --set takes it: "2" when every dim agrees, else "[2, 1]".
std::string list_json(const Dims& v) {
  bool same = std::all_of(v.begin(), v.end(), [&](int64_t x) { return x == v[0]; });
  return same && !v.empty() ? std::to_string(v[0]) : fmt::format("[{}]", fmt::join(v, ", "));
}

// The smallest stride with which window `w` (its stride ignored) maps w.in
// onto `to`, if any. The output never grows with the stride: a binary search,
// so that a 2^31-long input costs 31 steps, not 2^31.
std::optional<int64_t> stride_for(Window w, int64_t to) {
  int64_t lo = 1, hi = std::max<int64_t>(1, w.in + w.pad_l + w.pad_r);
  while (lo < hi) {
    int64_t mid = lo + (hi - lo) / 2;
    w.stride = mid;
    if (window_output(w).out <= to) hi = mid;
    else lo = mid + 1;
  }
  w.stride = lo;
  if (window_output(w).out == to) return lo;
  return std::nullopt;
}
std::optional<int64_t> stride_for(int64_t from, int64_t to) { return stride_for(Window{from, 1, 1, 0, 0, 1, false}, to); }

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

struct Candidate {
  std::string description;
  std::vector<std::string> sets;
};

// The product of the strides of the windows along a branch, per spatial dim
// (through nested Sequentials; other containers count as stride 1).
Dims total_stride(const Layers& layers, std::size_t rank) {
  Dims out(rank, 1);
  for (const auto& n : layers) {
    const Dims* s = nullptr;
    if (auto* c = std::get_if<Conv>(&n.kind)) s = &c->stride;
    if (auto* m = std::get_if<MaxPool>(&n.kind)) s = &m->stride;
    if (auto* a = std::get_if<AvgPool>(&n.kind)) s = &a->stride;
    if (auto* q = std::get_if<Sequential>(&n.kind)) {
      Dims inner = total_stride(q->layers, rank);
      for (std::size_t d = 0; d < rank; ++d) out[d] = checked_mul(out[d], inner[d]).value_or(INT64_MAX / 4);
    }
    if (s && s->size() == rank)
      for (std::size_t d = 0; d < rank; ++d) out[d] = checked_mul(out[d], (*s)[d]).value_or(INT64_MAX / 4);
  }
  return out;
}

// Candidates for a residual whose branches disagree.
std::vector<Candidate> residual_candidates(const Evaluation& ev, const Node& node) {
  const auto& r = std::get<Branches>(node.kind);
  const Layers& body_layers = r.branches[0].layers;
  const Layers& shortcut_layers = r.branches[1].layers;
  const std::string& R = node.name;
  const Row* add = find_row(ev, R);
  const Row* first = nullptr;
  const Row* short_last = nullptr;
  for (const auto& row : ev.rows) {
    if (!first && starts_with(row.name, R + ".body.")) first = &row;
    if (starts_with(row.name, R + ".shortcut.")) short_last = &row;
  }
  if (!add || !first) return {};
  const Shape& in = first->input;
  const Shape& body = add->input;
  std::vector<Candidate> out;
  if (in.size() < 3 || in.size() > 5 || body.size() != in.size()) return out;
  const std::size_t rank = in.size() - 2;
  // A 1×1 projection a person would write: its stride no larger than the
  // body's own total stride (ResNet's shortcut copies the body's stride).
  Dims strides;
  Dims body_stride = total_stride(body_layers, rank);
  for (std::size_t d = 0; d < rank; ++d)
    if (auto st = stride_for(in[2 + d], body[2 + d]); st && *st <= body_stride[d]) strides.push_back(*st);
  std::string projection;
  if (strides.size() == rank)
    projection = fmt::format(
        R"([{{"type": "{}", "out_channels": {}, "kernel_size": 1, "stride": {}, "bias": false}}, {{"type": "{}"}}])",
        Conv::names[rank - 1], body[1], list_json(strides), BatchNorm::names[rank - 1]);
  if (shortcut_layers.empty()) {
    if (!projection.empty())
      out.push_back({fmt::format("give `{}` a 1×1 conv + BatchNorm shortcut, as ResNet's "
                                 "_make_layer does, mapping {} to {}",
                                 R, format_shape(in), format_shape(body)),
                     {R + ".shortcut=" + projection}});
  } else {
    Shape s = short_last ? short_last->output : in;
    for (const auto& n : shortcut_layers) {
      auto* conv = std::get_if<Conv>(&n.kind);
      if (!conv || conv->kernel_size.size() != rank) continue;
      std::vector<std::string> sets;
      std::vector<std::string> what;
      if (s.size() != body.size() || !std::equal(s.begin() + 2, s.end(), body.begin() + 2)) {
        // Keep the conv's own kernel and padding: find the stride that fits.
        const Row* row = find_row(ev, n.name);
        if (!row || row->input.size() != in.size()) continue;
        auto [pl, pr] = conv_pads(*conv);
        Dims st;
        for (std::size_t d = 0; d < rank; ++d)
          if (auto v = stride_for(Window{row->input[2 + d], conv->kernel_size[d], 1, pl[d], pr[d], conv->dilation[d], false},
                                  body[2 + d]))
            st.push_back(*v);
        if (st.size() != rank) continue;
        sets.push_back(n.name + ".stride=" + list_json(st));
        what.push_back(fmt::format("stride to {}", list_json(st)));
      }
      if (conv->out_channels != body[1]) {
        sets.push_back(fmt::format("{}.out_channels={}", n.name, body[1]));
        what.push_back(fmt::format("out_channels to {}", body[1]));
      }
      if (!sets.empty())
        out.push_back({fmt::format("in the shortcut conv `{}`, set {}", n.name,
                                   fmt::join(what, " and ")),
                       sets});
    }
    if (!projection.empty())
      out.push_back({fmt::format("replace the shortcut of `{}` with a 1×1 conv + BatchNorm "
                                 "mapping {} to {}",
                                 R, format_shape(in), format_shape(body)),
                     {R + ".shortcut=" + projection}});
  }
  // Or make the body keep the size, when the shortcut does.
  for (const auto& n : body_layers) {
    auto* conv = std::get_if<Conv>(&n.kind);
    if (conv && *std::max_element(conv->stride.begin(), conv->stride.end()) > 1)
      out.push_back({fmt::format("set the stride of the body conv `{}` to 1, so the body keeps "
                                 "the size",
                                 n.name),
                     {n.name + ".stride=1"}});
  }
  return out;
}

// Candidates for a layer whose window does not fit its input.
std::vector<Candidate> window_candidates(const Evaluation& ev, const Node& node) {
  std::vector<Candidate> out;
  const Row* row = find_row(ev, node.name);
  if (!row || row->input.size() < 3) return out;
  const Shape& in = row->input;
  auto shape = [](const Dims& v) { return fmt::format("{}", fmt::join(v, "×")); };
  if (auto* conv = std::get_if<Conv>(&node.kind)) {
    const std::size_t rank = conv->kernel_size.size();
    if (in.size() != rank + 2) return out;
    // Only the dims that are too small change: their padding grows, or their kernel shrinks.
    Dims pad = conv->padding, fit(rank);
    bool pads = false;
    for (std::size_t d = 0; d < rank; ++d) {
      int64_t span = conv->dilation[d] * (conv->kernel_size[d] - 1) + 1;
      int64_t need = (span - in[2 + d] + 1) / 2;
      if (need > pad[d]) pad[d] = need, pads = true;
      fit[d] = std::min(conv->kernel_size[d], (in[2 + d] + 2 * conv->padding[d] - 1) / conv->dilation[d] + 1);
    }
    if (conv->padding_mode == Padding::explicit_ && pads)
      out.push_back({fmt::format("pad `{}` by {} so its {} kernel fits", node.name, dims_text(pad), shape(conv->kernel_size)),
                     {fmt::format("{}.padding={}", node.name, list_json(pad))}});
    out.push_back({fmt::format("use a {} kernel in `{}`", shape(fit), node.name),
                   {fmt::format("{}.kernel_size={}", node.name, list_json(fit))}});
  } else {
    Dims k, p;
    // (a kernel read from another value's size has no number to change)
    if (auto* m = std::get_if<MaxPool>(&node.kind); m && m->read.from_dim.empty()) { k = m->kernel_size; p = m->padding; }
    if (auto* a = std::get_if<AvgPool>(&node.kind); a && a->read.from_dim.empty()) {
      k = a->kernel_size;
      p = a->rank == 3 ? Dims(k.size(), 0) : a->padding;  // avg_pool3d: the kernel must fit unpadded
    }
    if (!k.empty() && in.size() == k.size() + 2) {
      Dims fit(k.size());
      for (std::size_t d = 0; d < k.size(); ++d) fit[d] = std::min(k[d], in[2 + d] + 2 * p[d]);
      std::string what = k.size() == 1 ? fmt::format("use a window of {} in `{}` (it sees all {} positions)", fit[0],
                                                     node.name, in[2])
                                       : fmt::format("use a {} window in `{}` (it sees the whole {} map)", shape(fit),
                                                     node.name, fmt::join(in.begin() + 2, in.end(), "×"));
      out.push_back({what,
                     {fmt::format("{}.kernel_size={}", node.name, list_json(fit))}});
    }
  }
  return out;
}

// The conv whose out_channels decides the channels of value `v`: back through
// layers that keep the channels (BatchNorm, activations, pools, dropout).
const GraphNode* channel_source(const Graph& g, int v) {
  for (const GraphNode* n = g.producer(v); n; n = g.producer(n->inputs[0].value)) {
    const KindInfo* k = find_kind(op_name(n->op));  // a merge is no kind: the walk stops there
    if (k && k->makes_channels) return n;
    if (!k || !k->keeps_channels) return nullptr;
  }
  return nullptr;
}

// Candidates for a merge whose inputs do not fit: a crop for a cat whose maps
// differ in size (U-Net's copy and crop), or the channel count a conv feeding
// it would need.
// PixelShuffle(r) on channels that r² does not divide: the conv before it
// gives the next multiple of r², or a smaller factor that divides.
std::vector<Candidate> pixel_shuffle_candidates(const Diagnostic& d, const Graph& g, const Evaluation& ev) {
  std::vector<Candidate> out;
  const GraphNode* node = nullptr;
  for (const auto& n : g.nodes)
    if (n.name == d.layer) node = &n;
  const Row* row = find_row(ev, d.layer);
  if (!node || !row || row->input.size() < 4) return out;
  auto* k = std::get_if<PixelShuffle>(&node->op);
  if (!k || k->unshuffle) return out;
  int64_t c = row->input[row->input.size() - 3], r2 = k->factor * k->factor;
  if (const GraphNode* conv = channel_source(g, node->inputs[0].value)) {
    int64_t want = (c / r2 + 1) * r2;
    out.push_back({fmt::format("let `{}` give {} channels ({}·{}²), which PixelShuffle({}) turns into {}", conv->name,
                               want, want / r2, k->factor, k->factor, want / r2),
                   {fmt::format("{}.out_channels={}", conv->name, want)}});
  }
  for (int64_t f = k->factor - 1; f >= 2; --f)
    if (c % (f * f) == 0) {
      out.push_back({fmt::format("use upscale_factor {} ({} = {}·{}²)", f, c, c / (f * f), f),
                     {fmt::format("{}.upscale_factor={}", d.layer, f)}});
      break;
    }
  return out;
}

// GLU over the channels of an odd count: the conv before it gives one more.
std::vector<Candidate> glu_candidates(const Diagnostic& d, const Graph& g, const Evaluation& ev) {
  const Row* row = find_row(ev, d.layer);
  for (const auto& n : g.nodes) {
    auto* k = n.name == d.layer ? std::get_if<GLU>(&n.op) : nullptr;
    if (!k || !row || row->input.size() < 2 || (k->dim != 1 && k->dim != 1 - static_cast<int64_t>(row->input.size())))
      continue;
    if (const GraphNode* conv = channel_source(g, n.inputs[0].value)) {
      int64_t want = row->input[1] + 1;
      return {{fmt::format("let `{}` give {} channels, which GLU halves to {}", conv->name, want, want / 2),
               {fmt::format("{}.out_channels={}", conv->name, want)}}};
    }
  }
  return {};
}

// A matmul whose a comes from a Linear of the wrong width: that Linear gives
// b's dim -2 (its only dim when 1-D), the size the product needs.
std::vector<Candidate> matmul_candidates(const Diagnostic& d, const Graph& g, const Evaluation& ev) {
  const Row* row = find_row(ev, d.layer);
  for (const auto& n : g.nodes) {
    auto* m = n.name == d.layer ? std::get_if<Merge>(&n.op) : nullptr;
    if (!m || m->op != MergeOp::matmul || !row || row->inputs.size() != 2) continue;
    const GraphNode* p = g.producer(n.inputs[0].value);
    if (!p || !std::holds_alternative<Linear>(p->op)) return {};
    const Shape& b = row->inputs[1];
    int64_t want = b.size() == 1 ? b[0] : b[b.size() - 2];
    return {{fmt::format("let `{}` give {} features, the size `{}` meets", p->name, want, n.inputs[1].label),
             {fmt::format("{}.out_features={}", p->name, want)}}};
  }
  return {};
}

// A Reshape/View to [-1, k] whose samples no longer hold k values: keep the
// batch instead (x.view(x.size(0), -1)); the next Linear then takes what comes.
std::vector<Candidate> reshape_candidates(const Diagnostic& d, const Graph& g, const Evaluation& ev) {
  const Row* row = find_row(ev, d.layer);
  for (const auto& n : g.nodes) {
    auto* k = n.name == d.layer ? std::get_if<Reshape>(&n.op) : nullptr;
    if (!k || !row || row->input.size() < 2 || k->shape.size() < 2 || k->shape[0] != -1) continue;
    return {{fmt::format("keep the batch: \"shape\": [{}, -1], as x.view(x.size(0), -1)", row->input[0]),
             {fmt::format("{}.shape=[{},-1]", d.layer, row->input[0])}}};
  }
  return {};
}

std::vector<Candidate> merge_candidates(const Diagnostic& d, const Graph& g, const Evaluation& ev) {
  std::vector<Candidate> out;
  const Row* row = find_row(ev, d.layer);
  const GraphNode* merge = nullptr;
  for (const auto& n : g.nodes)
    if (n.name == d.layer && std::holds_alternative<Merge>(n.op)) merge = &n;
  if (!row || !merge || row->inputs.size() != merge->inputs.size() || row->inputs[0].size() < 2) return out;
  const auto& m = std::get<Merge>(merge->op);
  bool spatial = false, channels = false;
  for (const auto& in : row->inputs) {
    if (in.size() != row->inputs[0].size()) return out;
    channels = channels || in[1] != row->inputs[0][1];
    for (std::size_t k = 2; k < in.size(); ++k) spatial = spatial || in[k] != row->inputs[0][k];
  }
  if (d.code == "cat-mismatch" && spatial && !m.crop)
    out.push_back({fmt::format("centre-crop every input of `{}` to the smallest map, as U-Net's copy and crop does",
                               d.layer),
                   {d.layer + ".crop=center"}});
  if (channels && (d.code != "cat-mismatch")) {
    // add and mul need the channels of the first input (a mul gate may also give 1).
    for (std::size_t i = 1; i < merge->inputs.size(); ++i) {
      if (row->inputs[i][1] == row->inputs[0][1]) continue;
      const GraphNode* conv = channel_source(g, merge->inputs[i].value);
      if (!conv) continue;
      out.push_back({fmt::format("give `{}` {} output channels, the number the other input of `{}` has",
                                 conv->name, row->inputs[0][1], d.layer),
                     {fmt::format("{}.out_channels={}", conv->name, row->inputs[0][1])}});
    }
  }
  return out;
}

// An add written with `from` (an imported forward(): `out + identity`) whose
// inputs differ in size or channels: the 1×1 conv + BatchNorm that maps the
// other input onto the first, as ResNet's downsample does. Not a --set fix
// (it inserts layers), so a help line, its stride found by the same window
// rule that the evaluator checks.
std::string projection_help(const Diagnostic& d, const Graph& g, const Evaluation& ev) {
  const Row* row = find_row(ev, d.layer);
  const GraphNode* merge = nullptr;
  for (const auto& n : g.nodes)
    if (n.name == d.layer && std::holds_alternative<Merge>(n.op)) merge = &n;
  if (!row || !merge || merge->residual || row->inputs.size() != merge->inputs.size()) return "";
  const Shape& want = row->inputs[0];
  if (want.size() < 3 || want.size() > 5) return "";
  const std::size_t rank = want.size() - 2;
  for (std::size_t i = 1; i < row->inputs.size(); ++i) {
    const Shape& in = row->inputs[i];
    if (in == want || in.size() != want.size() || in[0] != want[0]) continue;
    Dims strides;
    for (std::size_t k = 0; k < rank; ++k)
      if (auto st = stride_for(in[2 + k], want[2 + k])) strides.push_back(*st);
    if (strides.size() != rank) continue;
    std::string producer = g.producer_name(merge->inputs[i].value);
    return fmt::format("project `{}` ({}) to {} before `{}`, as ResNet's downsample does: "
                       "nn.{}({}, {}, kernel_size=1, stride={}, bias=False) then nn.{}({}) on that input "
                       "(⌊({} − 1) / {}⌋ + 1 = {})",
                       producer, format_shape(in), format_shape(want), d.layer, Conv::names[rank - 1], in[1],
                       want[1], dims_text(strides), BatchNorm::names[rank - 1], want[1], in[2], strides[0],
                       want[2]);
  }
  return "";
}

std::vector<Candidate> candidates_for(const Diagnostic& d, const Evaluation& ev, const Node& node) {
  const Row* row = find_row(ev, node.name);
  if (d.code == "residual-mismatch" && std::holds_alternative<Branches>(node.kind) &&
      std::get<Branches>(node.kind).residual)
    return residual_candidates(ev, node);
  if (d.code == "features" && row && !row->input.empty())
    return {{fmt::format("set in_features of `{}` to {}", node.name, row->input.back()),
             {fmt::format("{}.in_features={}", node.name, row->input.back())}}};
  if (d.code == "channels" && row && row->input.size() > 1) {
    const char* field = std::holds_alternative<Conv>(node.kind) || std::holds_alternative<ConvTranspose>(node.kind)
                            ? "in_channels" : "num_features";
    return {{fmt::format("set {} of `{}` to {}", field, node.name, row->input[1]),
             {fmt::format("{}.{}={}", node.name, field, row->input[1])}}};
  }
  if (d.code == "kernel-too-large" || d.code == "output-too-small")
    return window_candidates(ev, node);
  return {};
}

}  // namespace

// The smallest input, growing H and W together, that gets past `layer`. A scan,
// not a formula: residual adds can make validity depend on the residue.
// Every trial parses and evaluates the whole spec again. The work all trials
// of one command may do is bounded, so that a huge spec with many errors
// cannot make netshape slow: 16 MiB of spec text parsed in all. What the
// budget does not cover is not suggested (never suggested unverified).
namespace {
struct TrialBudget {
  int64_t left = int64_t{16} << 20;
  bool spend(std::string_view text) {
    left -= static_cast<int64_t>(text.size()) + 4096;
    return left >= 0;
  }
};
}  // namespace
static TrialBudget budget;  // one command at a time: the CLI is single-threaded

// A cat or add whose inputs differ only in spatial size (24 and 25: a map
// that lost a row to a floor on the way down): an input size may fix it.
static bool spatial_only(const Diagnostic& d, const Evaluation& ev) {
  if (d.code != "cat-mismatch" && d.code != "add-mismatch") return false;
  const Row* row = find_row(ev, d.layer);
  if (!row || row->inputs.size() < 2) return false;
  bool spatial = false;
  for (const auto& in : row->inputs) {
    if (in.size() != row->inputs[0].size() || in.size() < 3) return false;
    if (d.code == "add-mismatch" && in[1] != row->inputs[0][1]) return false;
    spatial = spatial || !std::equal(in.begin() + 2, in.end(), row->inputs[0].begin() + 2);
  }
  return spatial;
}

static std::optional<Fix> smallest_input(std::string_view text, const std::vector<Override>& base,
                                         const Shape& in, const std::string& layer, int64_t steps = 4096) {
  // Every spatial dim grows together (none shrinks).
  int64_t from = *std::min_element(in.begin() + 2, in.end()) + 1;
  for (int64_t v = from; v <= 4096 && v < from + steps && budget.spend(text); ++v) {
    Shape grown = in;
    for (std::size_t d = 2; d < grown.size(); ++d) grown[d] = std::max(grown[d], v);
    std::string set = fmt::format("input={}", fmt::join(grown, ","));
    auto trial = evaluate_with(text, base, {set});
    if (trial && gets_past(*trial, layer))
      return Fix{fmt::format("the smallest input that gets past `{}` is {}", layer, format_shape(grown)),
                 {set}, trial->valid(), /*verified=*/true};
  }
  return std::nullopt;
}

namespace {

struct Trial {
  Diagnostics parse;              // the parser's diagnostics
  std::optional<Evaluation> eval; // when it parsed
};

Trial trial_with(std::string_view text, const std::vector<Override>& base,
                 const std::vector<std::string>& sets) {
  Trial t;
  std::vector<Override> extra;
  for (const auto& s : sets) {
    std::string error;
    auto o = parse_override(s, error);
    if (!o) {
      t.parse.error("usage", error);
      return t;
    }
    extra.push_back(std::move(*o));
  }
  std::vector<Override> merged = extra;
  for (const auto& b : base) {
    bool replaced = std::any_of(extra.begin(), extra.end(), [&](const Override& e) {
      return e.layer == b.layer && e.field == b.field;
    });
    if (!replaced) merged.push_back(b);
  }
  for (auto& m : merged) m.used = false;
  auto parsed = parse_spec(text, merged);
  t.parse = std::move(parsed.diagnostics);
  if (parsed.spec) t.eval = evaluate(*parsed.spec);
  return t;
}

// A fix works when the layer it names no longer fails: the evaluation gets
// past it or, when other layers still keep the spec from parsing, the parser
// has nothing left to say about this one.
bool repairs(const Trial& t, const std::string& layer) {
  if (t.eval) return gets_past(*t.eval, layer);
  if (!t.parse.has_errors()) return false;
  return std::none_of(t.parse.items.begin(), t.parse.items.end(), [&](const Diagnostic& d) {
    return d.severity == Severity::error && (d.layer == layer || d.code == "usage");
  });
}

}  // namespace

std::optional<Evaluation> evaluate_with(std::string_view text, const std::vector<Override>& base,
                                        const std::vector<std::string>& sets) {
  return trial_with(text, base, sets).eval;
}

bool gets_past(const Evaluation& ev, const std::string& layer) {
  const Row* r = find_row(ev, layer);
  if (!r || r->failed) return false;
  return std::none_of(ev.diagnostics.items.begin(), ev.diagnostics.items.end(),
                      [&](const Diagnostic& d) { return d.severity == Severity::error && d.layer == layer; });
}

static void verify_fixes_within_budget(std::string_view text, const std::vector<Override>& base,
                                       Diagnostics& diags);

void verify_fixes(std::string_view text, const std::vector<Override>& base, Diagnostics& diags) {
  budget = TrialBudget{};
  verify_fixes_within_budget(text, base, diags);
}

static void verify_fixes_within_budget(std::string_view text, const std::vector<Override>& base,
                                       Diagnostics& diags) {
  for (auto& d : diags.items) {
    std::vector<Fix> kept;
    for (auto& f : d.fixes) {
      if (!f.verified) {
        if (!budget.spend(text)) continue;
        Trial t = trial_with(text, base, f.sets);
        if (!repairs(t, d.layer)) continue;
        f.verified = true;
        f.makes_valid = t.eval && t.eval->valid() && !t.parse.has_errors();
      }
      kept.push_back(f);
    }
    // Fixes that make the whole spec valid first; three at most.
    std::stable_sort(kept.begin(), kept.end(),
                     [](const Fix& a, const Fix& b) { return a.makes_valid && !b.makes_valid; });
    if (kept.size() > 3) kept.resize(3);
    d.fixes = std::move(kept);
  }
}

void suggest_fixes(std::string_view text, const std::vector<Override>& base, const Spec& spec,
                   Evaluation& ev) {
  budget = TrialBudget{};
  for (auto& d : ev.diagnostics.items) {
    if (d.severity != Severity::error || d.layer.empty()) continue;
    if (d.code == "cat-mismatch" || d.code == "add-mismatch" || d.code == "mul-broadcast")
      for (auto& c : merge_candidates(d, spec.graph, ev)) d.fixes.push_back({c.description, c.sets});
    if (d.code == "add-mismatch" && d.help.empty()) d.help = projection_help(d, spec.graph, ev);
    if (d.code == "pixel-shuffle")
      for (auto& c : pixel_shuffle_candidates(d, spec.graph, ev)) d.fixes.push_back({c.description, c.sets});
    if (d.code == "glu-odd")
      for (auto& c : glu_candidates(d, spec.graph, ev)) d.fixes.push_back({c.description, c.sets});
    if (d.code == "matmul-mismatch")
      for (auto& c : matmul_candidates(d, spec.graph, ev)) d.fixes.push_back({c.description, c.sets});
    if (d.code == "reshape")
      for (auto& c : reshape_candidates(d, spec.graph, ev)) d.fixes.push_back({c.description, c.sets});
    const Node* node = find_node(spec.layers, d.layer);
    if (!node) continue;
    for (auto& c : candidates_for(d, ev, *node)) d.fixes.push_back({c.description, c.sets});
    if ((d.code == "kernel-too-large" || d.code == "output-too-small" || d.code == "reshape") && spec.input.size() >= 3)
      if (auto f = smallest_input(text, base, spec.input, d.layer)) d.fixes.push_back(*f);
    // Maps of 24 and 25 meeting: a few sizes up, one that the strides divide
    // (a U-Net's 100 -> 104). Not the scan to 4,096: a mismatch no input size
    // mends must not spend the budget the other candidates are checked with.
    if (spatial_only(d, ev) && spec.input.size() >= 3)
      if (auto f = smallest_input(text, base, spec.input, d.layer, 64)) d.fixes.push_back(*f);
  }
  verify_fixes_within_budget(text, base, ev.diagnostics);
}

}  // namespace netshape
