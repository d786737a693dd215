#include "fix.h"

#include <algorithm>

#include <fmt/format.h>

#include "formula.h"

namespace netshape {
namespace {

std::string pair_json(int64_t h, int64_t w) {
  return h == w ? std::to_string(h) : fmt::format("[{}, {}]", h, w);
}

// The stride with which a 1×1 conv maps `from` onto `to`, if any.
std::optional<int64_t> stride_for(int64_t from, int64_t to) {
  for (int64_t s = 1; s <= from; ++s)
    if (window_output({from, 1, s, 0, 0, 1, false}).out == to) return s;
  return std::nullopt;
}

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

struct Candidate {
  std::string description;
  std::vector<std::string> sets;
};

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
  if (in.size() != 4 || body.size() != 4) return out;
  auto sh = stride_for(in[2], body[2]);
  auto sw = stride_for(in[3], body[3]);
  std::string projection;
  if (sh && sw)
    projection = fmt::format(
        R"([{{"type": "Conv2d", "out_channels": {}, "kernel_size": 1, "stride": {}, "bias": false}}, {{"type": "BatchNorm2d"}}])",
        body[1], pair_json(*sh, *sw));
  if (shortcut_layers.empty()) {
    if (!projection.empty())
      out.push_back({fmt::format("give `{}` a 1×1 conv + BatchNorm shortcut, as ResNet's "
                                 "_make_layer does, mapping {} to {}",
                                 R, format_shape(in), format_shape(body)),
                     {R + ".shortcut=" + projection}});
  } else {
    Shape s = short_last ? short_last->output : in;
    for (const auto& n : shortcut_layers) {
      auto* conv = std::get_if<Conv2d>(&n.kind);
      if (!conv) continue;
      std::vector<std::string> sets;
      std::vector<std::string> what;
      if (s[2] != body[2] || s[3] != body[3]) {
        // Keep the conv's own kernel and padding: find the stride that fits.
        const Row* row = find_row(ev, n.name);
        if (!row || row->input.size() != 4) continue;
        std::optional<int64_t> st[2];
        int64_t pads[2] = {conv->padding.h, conv->padding.w};
        int64_t ks[2] = {conv->kernel_size.h, conv->kernel_size.w};
        int64_t ds[2] = {conv->dilation.h, conv->dilation.w};
        for (int d = 0; d < 2; ++d)
          for (int64_t v = 1; v <= row->input[2 + d] && !st[d]; ++v)
            if (window_output({row->input[2 + d], ks[d], v, pads[d], pads[d], ds[d], false}).out ==
                body[2 + d])
              st[d] = v;
        if (!st[0] || !st[1]) continue;
        sets.push_back(n.name + ".stride=" + pair_json(*st[0], *st[1]));
        what.push_back(fmt::format("stride to {}", pair_json(*st[0], *st[1])));
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
    auto* conv = std::get_if<Conv2d>(&n.kind);
    if (conv && (conv->stride.h > 1 || conv->stride.w > 1))
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
  if (!row || row->input.size() != 4) return out;
  const Shape& in = row->input;
  if (auto* conv = std::get_if<Conv2d>(&node.kind)) {
    int64_t need = 0;
    int64_t spans[2] = {conv->dilation.h * (conv->kernel_size.h - 1) + 1,
                        conv->dilation.w * (conv->kernel_size.w - 1) + 1};
    for (int d = 0; d < 2; ++d) need = std::max(need, (spans[d] - in[2 + d] + 1) / 2);
    if (conv->padding_mode == Padding::explicit_ && need > 0)
      out.push_back({fmt::format("pad `{}` by {} so its {}×{} kernel fits", node.name,
                                 need, conv->kernel_size.h, conv->kernel_size.w),
                     {fmt::format("{}.padding={}", node.name, std::max({need, conv->padding.h, conv->padding.w}))}});
    int64_t kh = std::min(conv->kernel_size.h, (in[2] + 2 * conv->padding.h - 1) / conv->dilation.h + 1);
    int64_t kw = std::min(conv->kernel_size.w, (in[3] + 2 * conv->padding.w - 1) / conv->dilation.w + 1);
    out.push_back({fmt::format("use a {}×{} kernel in `{}`", kh, kw, node.name),
                   {fmt::format("{}.kernel_size={}", node.name, pair_json(kh, kw))}});
  } else {
    Pair k{0, 0}, p{0, 0};
    if (auto* m = std::get_if<MaxPool2d>(&node.kind)) { k = m->kernel_size; p = m->padding; }
    if (auto* a = std::get_if<AvgPool2d>(&node.kind)) { k = a->kernel_size; p = a->padding; }
    if (k.h > 0) {
      int64_t kh = std::min(k.h, in[2] + 2 * p.h), kw = std::min(k.w, in[3] + 2 * p.w);
      out.push_back({fmt::format("use a {}×{} window in `{}` (it sees the whole {}×{} map)",
                                 kh, kw, node.name, in[2], in[3]),
                     {fmt::format("{}.kernel_size={}", node.name, pair_json(kh, kw))}});
    }
  }
  return out;
}

// The conv whose out_channels decides the channels of value `v`: back through
// layers that keep the channels (BatchNorm, activations, pools, dropout).
const GraphNode* channel_source(const Graph& g, int v) {
  for (const GraphNode* n = g.producer(v); n; n = g.producer(n->inputs[0].value)) {
    if (std::holds_alternative<Conv2d>(n->op) || std::holds_alternative<ConvTranspose2d>(n->op)) return n;
    bool keeps = std::holds_alternative<BatchNorm2d>(n->op) || std::holds_alternative<ReLU>(n->op) ||
                 std::holds_alternative<Pointwise>(n->op) || std::holds_alternative<Dropout>(n->op) ||
                 std::holds_alternative<MaxPool2d>(n->op) || std::holds_alternative<AvgPool2d>(n->op);
    if (!keeps) return nullptr;
  }
  return nullptr;
}

// Candidates for a merge whose inputs do not fit: a crop for a cat whose maps
// differ in size (U-Net's copy and crop), or the channel count a conv feeding
// it would need.
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

std::vector<Candidate> candidates_for(const Diagnostic& d, const Evaluation& ev, const Node& node) {
  const Row* row = find_row(ev, node.name);
  if (d.code == "residual-mismatch" && std::holds_alternative<Branches>(node.kind) &&
      std::get<Branches>(node.kind).residual)
    return residual_candidates(ev, node);
  if (d.code == "features" && row && !row->input.empty())
    return {{fmt::format("set in_features of `{}` to {}", node.name, row->input.back()),
             {fmt::format("{}.in_features={}", node.name, row->input.back())}}};
  if (d.code == "channels" && row && row->input.size() > 1) {
    const char* field = std::holds_alternative<Conv2d>(node.kind) ? "in_channels" : "num_features";
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

static std::optional<Fix> smallest_input(std::string_view text, const std::vector<Override>& base,
                                         const Shape& in, const std::string& layer) {
  for (int64_t v = std::min(in[2], in[3]) + 1; v <= 4096 && budget.spend(text); ++v) {
    std::string set = fmt::format("input={},{},{},{}", in[0], in[1], std::max(in[2], v),
                                  std::max(in[3], v));
    auto trial = evaluate_with(text, base, {set});
    if (trial && gets_past(*trial, layer))
      return Fix{fmt::format("the smallest input that gets past `{}` is [{}, {}, {}, {}]", layer,
                             in[0], in[1], std::max(in[2], v), std::max(in[3], v)),
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
    const Node* node = find_node(spec.layers, d.layer);
    if (!node) continue;
    for (auto& c : candidates_for(d, ev, *node)) d.fixes.push_back({c.description, c.sets});
    if ((d.code == "kernel-too-large" || d.code == "output-too-small") && spec.input.size() == 4)
      if (auto f = smallest_input(text, base, spec.input, d.layer)) d.fixes.push_back(*f);
  }
  verify_fixes_within_budget(text, base, ev.diagnostics);
}

}  // namespace netshape
