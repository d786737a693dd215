// The backbone: netshape's symbolic verdicts against the real thing in LibTorch.
//
// 1. Every spec in specs/: real shapes and parameter counts equal the predicted
//    ones at every layer.
// 2. A seeded, randomized differential test of single Conv2d / MaxPool2d /
//    AvgPool2d layers. The LibTorch side is built here directly from the random
//    arguments (not through netshape's builder), so the two sides share
//    nothing but the numbers: netshape's verdict (valid with shape S, or
//    invalid) must be LibTorch's.
// 3. Random small networks with Residual blocks, some deliberately mismatched,
//    run through netshape's builder with every layer's shape recorded.
// 4. Random graphs — branches merged by add, cat (along several dims, with and
//    without crop) and mul (broadcasting gates), skips with `from`, Add/Cat/Mul
//    layers — computed directly in LibTorch step by step (torch::cat,
//    operator+, operator*, narrow), and every named step's shape and the
//    verdict compared with netshape's.
// A failure prints the case as a spec that reproduces it.
#include <doctest/doctest.h>
// LibTorch brings glog, whose CHECK() aborts: this file spells doctest's
// assertions DOCTEST_CHECK so that a failure is reported, not a crash.

#include <dirent.h>

#include <algorithm>
#include <map>
#include <random>

#include <fmt/format.h>
#include <torch/torch.h>

#include "test_util.h"
#include "torch_net.h"

using namespace netshape;
using namespace netshape::test;

namespace {

// A verdict: the output shape, or nullopt for "refused".
using Verdict = std::optional<Shape>;

std::string verdict_text(const Verdict& v) { return v ? format_shape(*v) : "invalid"; }

Verdict netshape_verdict(const std::string& spec) {
  auto o = run_text(spec);
  if (!o.valid()) return std::nullopt;
  return o.eval.output;
}

// The comparison every randomized test makes: netshape's verdict (a shape, or
// refused) against LibTorch's on one case, failing with both and the case.
void compare(const Verdict& ours, const Verdict& theirs, const std::string& torch_error, int i, uint64_t seed,
             const std::string& spec) {
  if (ours == theirs) return;
  FAIL_CHECK(fmt::format("shape mismatch: ours={} | torch={}{}\n  case {} (seed {}): {}", verdict_text(ours),
                         verdict_text(theirs), torch_error.empty() ? "" : " (" + torch_error.substr(0, 200) + ")", i,
                         seed, spec));
}

struct Rng {
  std::mt19937_64 gen;
  explicit Rng(uint64_t seed) : gen(seed) {}
  int64_t in(int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(gen); }
  bool chance(double p) { return std::bernoulli_distribution(p)(gen); }
};

// One random conv or pool layer: its spec text and the LibTorch module.
struct LayerCase {
  std::string spec;
  std::function<torch::Tensor(const torch::Tensor&)> torch_forward;  // may throw
  Shape input;
};

LayerCase random_layer(Rng& r) {
  LayerCase c;
  int64_t C = r.in(1, 6), H = r.in(1, 24), W = r.in(1, 24);
  c.input = {r.in(1, 2), C, H, W};
  auto pair = [&](int64_t lo, int64_t hi) -> std::pair<int64_t, int64_t> {
    int64_t a = r.in(lo, hi);
    return {a, r.chance(0.25) ? r.in(lo, hi) : a};
  };
  auto [kh, kw] = pair(1, 7);
  auto [sh, sw] = pair(1, 4);
  auto [ph, pw] = pair(0, 4);
  auto [dh, dw] = pair(1, 3);
  auto js = [](std::pair<int64_t, int64_t> p) { return fmt::format("[{}, {}]", p.first, p.second); };
  bool ceil = r.chance(0.5);
  int kind = static_cast<int>(r.in(0, 2));
  std::string layer;
  if (kind == 0) {
    int64_t groups = r.in(1, 4), out = r.in(1, 8);
    int pad_kind = static_cast<int>(r.in(0, 9));  // mostly numbers, sometimes "same"/"valid"
    std::string padding = pad_kind == 0 ? "\"same\"" : pad_kind == 1 ? "\"valid\"" : js({ph, pw});
    layer = fmt::format(R"({{"type": "Conv2d", "out_channels": {}, "kernel_size": {}, "stride": {}, "padding": {}, "dilation": {}, "groups": {}}})",
                        out, js({kh, kw}), js({sh, sw}), padding, js({dh, dw}), groups);
    c.torch_forward = [=](const torch::Tensor& x) {
      torch::nn::Conv2dOptions o(C, out, {kh, kw});
      o.stride({sh, sw}).dilation({dh, dw}).groups(groups);
      if (pad_kind == 0) o.padding(torch::kSame);
      else if (pad_kind == 1) o.padding(torch::kValid);
      else o.padding(torch::ExpandingArray<2>({ph, pw}));
      return torch::nn::Conv2d(o)->forward(x);
    };
  } else if (kind == 1) {
    layer = fmt::format(R"({{"type": "MaxPool2d", "kernel_size": {}, "stride": {}, "padding": {}, "dilation": {}, "ceil_mode": {}}})",
                        js({kh, kw}), js({sh, sw}), js({ph, pw}), js({dh, dw}), ceil);
    c.torch_forward = [=](const torch::Tensor& x) {
      return torch::nn::MaxPool2d(torch::nn::MaxPool2dOptions({kh, kw}).stride({sh, sw}).padding({ph, pw}).dilation({dh, dw}).ceil_mode(ceil))->forward(x);
    };
  } else {
    bool include = r.chance(0.5);
    layer = fmt::format(R"({{"type": "AvgPool2d", "kernel_size": {}, "stride": {}, "padding": {}, "ceil_mode": {}, "count_include_pad": {}}})",
                        js({kh, kw}), js({sh, sw}), js({ph, pw}), ceil, include);
    c.torch_forward = [=](const torch::Tensor& x) {
      return torch::nn::AvgPool2d(torch::nn::AvgPool2dOptions({kh, kw}).stride({sh, sw}).padding({ph, pw}).ceil_mode(ceil).count_include_pad(include))->forward(x);
    };
  }
  c.spec = fmt::format(R"({{"input": {}, "layers": [{}]}})", format_shape(c.input), layer);
  return c;
}

// A random small network of Residual blocks; roughly a third mismatch.
std::string random_network(Rng& r) {
  int64_t C = r.in(1, 8), H = r.in(4, 20);
  const int64_t first_c = C;
  std::string layers;
  auto conv = [&](int64_t out, int64_t k, int64_t s, int64_t p) {
    return fmt::format(R"({{"type": "Conv2d", "out_channels": {}, "kernel_size": {}, "stride": {}, "padding": {}, "bias": {}}})",
                       out, k, s, p, r.chance(0.5));
  };
  int blocks = static_cast<int>(r.in(1, 4));
  for (int b = 0; b < blocks; ++b) {
    int64_t out = r.chance(0.5) ? C : r.in(1, 12);
    int64_t stride = r.in(1, 2);
    int64_t k = 2 * r.in(0, 2) + 1;                           // 1, 3 or 5
    int64_t pad = r.chance(0.85) ? (k - 1) / 2 : r.in(0, 3);  // mostly size-keeping
    std::string body = conv(out, 3, stride, 1) + R"(, {"type": "BatchNorm2d"}, {"type": "ReLU"}, )" +
                       conv(out, k, 1, pad);
    std::string shortcut;
    double roll = r.in(0, 99) / 100.0;
    if (roll < 0.6) {  // what a correct block would need
      if (out != C || stride != 1) shortcut = conv(out, 1, stride, 0) + R"(, {"type": "BatchNorm2d"})";
    } else if (roll < 0.7) {  // one channel: PyTorch would broadcast it over the body's
      shortcut = conv(1, 1, stride, 0);
    } else if (roll < 0.85) {  // a 1x1 shortcut with random channels and stride
      shortcut = conv(r.in(1, 12), 1, r.in(1, 3), 0);
    }  // else identity, whatever the body does
    layers += fmt::format(R"({{"type": "Residual", "body": [{}], "shortcut": [{}], "after": [{{"type": "ReLU"}}]}}, )", body, shortcut);
    if (r.chance(0.3)) layers += fmt::format(R"({{"type": "MaxPool2d", "kernel_size": 2, "ceil_mode": {}}}, )", r.chance(0.5));
    C = out;
  }
  layers += R"({"type": "AdaptiveAvgPool2d", "output_size": 1}, {"type": "Flatten"}, {"type": "Linear", "out_features": 3})";
  return fmt::format(R"({{"input": [1, {}, {}, {}], "layers": [{}]}})", first_c, H, H + r.in(0, 3), layers);
}

// One random graph: the spec text and, for every top-level step, how
// LibTorch computes it directly (modules built from the real input's
// channels, as PyTorch code would write them).
struct GraphCase {
  std::string spec;
  Shape input;
  std::vector<std::string> names;  // the top-level steps, in order
  // Each step: the named outputs so far ("input" included) -> this step's output.
  std::vector<std::function<torch::Tensor(std::map<std::string, torch::Tensor>&, const torch::Tensor&)>> steps;
};

using Fn = std::function<torch::Tensor(const torch::Tensor&)>;

// A random conv, pool or ReLU: its spec text and its LibTorch computation.
// `keep`: mostly layers that keep the size (a branch that is to be merged).
std::pair<std::string, Fn> random_leaf(Rng& r, bool keep = false) {
  int kind = static_cast<int>(r.in(0, 3));
  if (keep && kind == 2 && r.chance(0.7)) kind = 3;
  if (kind <= 1) {
    int64_t out = r.in(1, 6), k = r.in(1, 3), s = r.in(1, 2), p = r.in(0, 1);
    if (keep && r.chance(0.7)) { k = 2 * r.in(0, 1) + 1; s = 1; p = (k - 1) / 2; }
    return {fmt::format(R"({{"type": "Conv2d", "out_channels": {}, "kernel_size": {}, "stride": {}, "padding": {}}})", out, k, s, p),
            [=](const torch::Tensor& x) {
              return torch::nn::Conv2d(torch::nn::Conv2dOptions(x.size(1), out, k).stride(s).padding(p))->forward(x);
            }};
  }
  if (kind == 2) {
    bool ceil = r.chance(0.5);
    return {fmt::format(R"({{"type": "MaxPool2d", "kernel_size": 2, "ceil_mode": {}}})", ceil),
            [=](const torch::Tensor& x) { return torch::nn::MaxPool2d(torch::nn::MaxPool2dOptions(2).ceil_mode(ceil))->forward(x); }};
  }
  switch (r.in(0, 3)) {  // element-wise: the shape passes through
    case 0: return {R"({"type": "Sigmoid"})", [](const torch::Tensor& x) { return torch::sigmoid(x); }};
    case 1: return {R"({"type": "Hardswish"})", [](const torch::Tensor& x) { return torch::hardswish(x); }};
    case 2: return {R"({"type": "LeakyReLU", "negative_slope": 0.2})", [](const torch::Tensor& x) { return torch::leaky_relu(x, 0.2); }};
    default: return {R"({"type": "ReLU"})", [](const torch::Tensor& x) { return torch::relu(x); }};
  }
}

// U-Net's copy and crop, written out directly.
torch::Tensor centre_crop(torch::Tensor t, int64_t d, int64_t size) {
  return t.narrow(d, (t.size(d) - size) / 2, size);
}

torch::Tensor merge_direct(const std::string& op, int64_t dim, bool crop, std::vector<torch::Tensor> xs) {
  if (op == "add") { torch::Tensor y = xs[0]; for (std::size_t i = 1; i < xs.size(); ++i) y = y + xs[i]; return y; }
  if (op == "mul") { torch::Tensor y = xs[0]; for (std::size_t i = 1; i < xs.size(); ++i) y = y * xs[i]; return y; }
  if (crop) {
    int64_t rank = xs[0].dim(), d0 = dim < 0 ? dim + rank : dim;
    for (int64_t d = 2; d < rank; ++d) {
      if (d == d0) continue;
      int64_t least = INT64_MAX;
      for (const auto& x : xs) least = std::min(least, x.size(d));
      for (auto& x : xs) x = centre_crop(x, d, least);
    }
  }
  return torch::cat(xs, dim);
}

GraphCase random_graph(Rng& r) {
  GraphCase c;
  int64_t C = r.in(1, 6);
  c.input = {1, C, r.in(6, 20), r.in(6, 20)};
  std::vector<std::string> layers;
  int steps = static_cast<int>(r.in(2, 6));
  const char* ops[] = {"add", "cat", "mul"};
  for (int i = 0; i < steps; ++i) {
    std::string name = fmt::format("n{}", i);
    // An earlier step or the input, for `from`.
    auto earlier = [&] { int64_t k = r.in(-1, i - 1); return k < 0 ? std::string("input") : fmt::format("n{}", k); };
    int kind = static_cast<int>(r.in(0, 9));
    std::string op = ops[r.in(0, 2)];
    int64_t dim = r.chance(0.8) ? 1 : r.in(-1, 3);
    bool crop = op == "cat" && r.chance(0.4);
    bool bcast = op == "add" && r.chance(0.5);  // PyTorch's broadcasting, asked for: then exact agreement
    std::string extra = op == "cat" ? fmt::format(R"(, "dim": {}{})", dim, crop ? R"(, "crop": "center")" : "")
                        : bcast ? R"(, "broadcast": true)" : "";
    if (kind <= 2) {  // a leaf, sometimes reading an earlier step
      auto [text, fn] = random_leaf(r);
      std::string from = r.chance(0.3) ? earlier() : "";
      text.insert(1, fmt::format(R"("name": "{}", {})", name, from.empty() ? "" : fmt::format(R"("from": "{}", )", from)));
      layers.push_back(text);
      c.steps.push_back([fn = fn, from](std::map<std::string, torch::Tensor>& v, const torch::Tensor& x) {
        return fn(from.empty() ? x : v.at(from));
      });
    } else if (kind <= 6) {  // Branches: 2 or 3 branches of 0 to 2 leaves, or a squeeze-and-excitation gate
      int nb = static_cast<int>(r.in(2, 3));
      std::vector<std::string> branches;
      std::vector<std::vector<Fn>> fns(static_cast<std::size_t>(nb));
      bool gate = (op == "mul" || bcast) && r.chance(0.6);
      for (int b = 0; b < nb; ++b) {
        std::vector<std::string> items;
        if (gate && b == 1) {  // [N, C, 1, 1], or [N, ch, 1, 1] after a 1x1 conv (ch 1 broadcasts too)
          items = {R"({"type": "AdaptiveAvgPool2d", "output_size": 1})"};
          fns[1].push_back([](const torch::Tensor& x) { return torch::adaptive_avg_pool2d(x, {1, 1}); });
          if (r.chance(0.5)) {
            int64_t ch = r.in(1, 3);
            items.push_back(fmt::format(R"({{"type": "Conv2d", "out_channels": {}, "kernel_size": 1}})", ch));
            fns[1].push_back([ch](const torch::Tensor& x) {
              return torch::nn::Conv2d(torch::nn::Conv2dOptions(x.size(1), ch, 1))->forward(x);
            });
          }
        } else {
          for (int64_t k = r.in(0, 2); k > 0; --k) {
            auto [text, fn] = random_leaf(r, /*keep=*/true);
            items.push_back(text);
            fns[static_cast<std::size_t>(b)].push_back(fn);
          }
        }
        branches.push_back("[" + fmt::format("{}", fmt::join(items, ", ")) + "]");
      }
      std::string spec_branches = fmt::format("{}", fmt::join(branches, ", "));
      c.steps.push_back([fns, op, dim, crop](std::map<std::string, torch::Tensor>&, const torch::Tensor& x) {
        std::vector<torch::Tensor> outs;
        for (const auto& branch : fns) {
          torch::Tensor y = x;
          for (const auto& f : branch) y = f(y);
          outs.push_back(y);
        }
        return merge_direct(op, dim, crop, outs);
      });
      layers.push_back(fmt::format(R"({{"name": "{}", "type": "Branches", "merge": "{}"{}, "branches": [{}]}})",
                                   name, op, extra, spec_branches));
    } else {  // Add / Cat / Mul of two earlier steps
      std::string a = earlier(), b = earlier();
      std::string type = op == "add" ? "Add" : op == "cat" ? "Cat" : "Mul";
      layers.push_back(fmt::format(R"({{"name": "{}", "type": "{}", "from": ["{}", "{}"]{}}})", name, type, a, b, extra));
      c.steps.push_back([=](std::map<std::string, torch::Tensor>& v, const torch::Tensor&) {
        return merge_direct(op, dim, crop, {v.at(a), v.at(b)});
      });
    }
    c.names.push_back(name);
  }
  c.spec = fmt::format(R"({{"input": {}, "layers": [{}]}})", format_shape(c.input), fmt::join(layers, ", "));
  return c;
}

std::vector<std::string> shipped_specs() {
  std::vector<std::string> out;
  std::string dir = std::string(NETSHAPE_SOURCE_DIR) + "/specs";
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      std::string n = e->d_name;
      if (n.size() > 5 && n.substr(n.size() - 5) == ".json" && n != "schema.json") out.push_back(dir + "/" + n);
    }
    closedir(d);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE("every shipped spec: LibTorch's shapes and parameters equal the predicted ones") {
  torch::set_num_threads(2);
  auto specs = shipped_specs();
  REQUIRE(specs.size() >= 6);
  for (const auto& path : specs) {
    CAPTURE(path);
    auto parsed = parse_spec(slurp(path));
    REQUIRE(parsed.spec);
    Evaluation ev = evaluate(*parsed.spec);
    REQUIRE(ev.valid());
    RunResult real = run_network(*parsed.spec, ev, {});
    DOCTEST_CHECK(real.error == "");
    REQUIRE(real.rows.size() == ev.rows.size());
    for (std::size_t i = 0; i < ev.rows.size(); ++i) {
      CAPTURE(ev.rows[i].name);
      DOCTEST_CHECK(real.rows[i].name == ev.rows[i].name);
      REQUIRE(real.rows[i].shape);
      DOCTEST_CHECK(*real.rows[i].shape == ev.rows[i].output);
      DOCTEST_CHECK(real.rows[i].params == ev.rows[i].params);
    }
    DOCTEST_CHECK(real.params == ev.params);
    DOCTEST_CHECK(real.output == ev.output);
  }
}

TEST_CASE("2,400 random conv and pool layers: netshape's verdict is LibTorch's") {
  const uint64_t seed = 20261128;
  Rng r(seed);
  int valid = 0, invalid = 0;
  for (int i = 0; i < 2400; ++i) {
    LayerCase c = random_layer(r);
    Verdict ours = netshape_verdict(c.spec);
    Verdict theirs;
    std::string torch_error;
    try {
      theirs = c.torch_forward(torch::zeros(c.input)).sizes().vec();
    } catch (const c10::Error& e) {
      torch_error = e.what_without_backtrace();
    }
    (ours ? valid : invalid)++;
    compare(ours, theirs, torch_error, i, seed, c.spec);
  }
  MESSAGE(fmt::format("{} valid and {} invalid single-layer cases agreed or were reported", valid, invalid));
  DOCTEST_CHECK(valid > 300);    // the generator must exercise both verdicts
  DOCTEST_CHECK(invalid > 300);
}

TEST_CASE("240 random residual networks: every layer's shape agrees with LibTorch") {
  const uint64_t seed = 7;
  Rng r(seed);
  int valid = 0, invalid = 0, broadcast = 0;
  for (int i = 0; i < 240; ++i) {
    std::string spec = random_network(r);
    auto parsed = parse_spec(spec);
    REQUIRE_MESSAGE(parsed.spec, spec);
    Evaluation ev = evaluate(*parsed.spec);
    RunResult real = run_network(*parsed.spec, ev, {});
    std::string where = fmt::format("case {} (seed {}): {}", i, seed, spec);
    // Every layer the evaluator got through must match LibTorch exactly.
    for (std::size_t k = 0; k < ev.rows.size() && k < real.rows.size(); ++k) {
      const Row& p = ev.rows[k];
      if (p.failed) break;
      if (!real.rows[k].shape || *real.rows[k].shape != p.output || real.rows[k].params != p.params)
        FAIL_CHECK(fmt::format("shape mismatch at {}: ours={} | torch={}\n  {}", p.name,
                               format_shape(p.output),
                               real.rows[k].shape ? format_shape(*real.rows[k].shape) : "none", where));
    }
    if (ev.valid()) {
      ++valid;
      if (!real.error.empty() || real.output != ev.output)
        FAIL_CHECK(fmt::format("netshape says valid, LibTorch says: {}\n  {}", real.error, where));
    } else if (real.error.empty()) {
      // The one deliberate disagreement: PyTorch broadcasts size-1 dims in the
      // add; netshape refuses. It must have said so.
      bool said = false;
      for (const auto& d : ev.diagnostics.items)
        for (const auto& n : d.notes) said = said || n.find("broadcast") != std::string::npos;
      if (!said) FAIL_CHECK(fmt::format("netshape says invalid, LibTorch ran it\n  {}", where));
      ++broadcast;
    } else {
      ++invalid;
    }
  }
  MESSAGE(fmt::format("{} valid, {} invalid, {} size-1 broadcasts", valid, invalid, broadcast));
  DOCTEST_CHECK(valid > 40);
  DOCTEST_CHECK(invalid > 40);
  DOCTEST_CHECK(broadcast > 0);
}

TEST_CASE("1,200 random graphs computed directly in LibTorch: every step's shape and the verdict agree") {
  torch::set_num_threads(1);
  torch::NoGradGuard no_grad;
  const uint64_t seed = 99;
  Rng r(seed);
  int valid = 0, invalid = 0, broadcast = 0;
  for (int i = 0; i < 1200; ++i) {
    GraphCase c = random_graph(r);
    std::map<std::string, torch::Tensor> v{{"input", torch::randn(c.input)}};
    torch::Tensor x = v["input"];
    std::string torch_error;
    std::vector<std::optional<Shape>> real(c.names.size());
    for (std::size_t k = 0; k < c.steps.size() && torch_error.empty(); ++k) {
      try {
        x = c.steps[k](v, x);
        v[c.names[k]] = x;
        real[k] = x.sizes().vec();
      } catch (const c10::Error& e) {
        torch_error = e.what_without_backtrace();
      }
    }
    const std::string& spec = c.spec;
    std::string where = fmt::format("case {} (seed {}): {}", i, seed, spec);
    auto o = run_text(spec);
    REQUIRE_MESSAGE(o.parsed, where);
    for (std::size_t k = 0; k < c.names.size(); ++k) {
      const Row* row = o.row(c.names[k]);
      if (!row || row->failed) break;
      if (!real[k] || *real[k] != row->output)
        FAIL_CHECK(fmt::format("shape mismatch at {}: ours={} | torch={}\n  {}", c.names[k], format_shape(row->output),
                               real[k] ? format_shape(*real[k]) : "failed: " + torch_error.substr(0, 160), where));
    }
    bool torch_ok = torch_error.empty();
    if (o.valid()) {
      ++valid;
      if (!torch_ok || !real.back() || *real.back() != *o.eval.output)
        FAIL_CHECK(fmt::format("netshape says valid ({}), LibTorch: {}\n  {}", format_shape(*o.eval.output),
                               torch_error.substr(0, 200), where));
    } else if (torch_ok) {
      // The one deliberate disagreement: an add that relies on broadcasting
      // without "broadcast": true (an add that asks for it must agree).
      bool said = false;
      for (const auto& d : o.diags.items)
        for (const auto& n : d.notes) said = said || ((d.code == "add-mismatch" || d.code == "residual-mismatch") && n.find("broadcast") != std::string::npos);
      if (!said) FAIL_CHECK(fmt::format("netshape says invalid, LibTorch ran it\n  {}", where));
      ++broadcast;
    } else {
      ++invalid;
    }
  }
  MESSAGE(fmt::format("{} valid, {} invalid, {} add broadcasts refused on purpose", valid, invalid, broadcast));
  DOCTEST_CHECK(valid > 300);
  DOCTEST_CHECK(invalid > 300);
}

// A ViT's tokens and a segmentation head's return to the input size (#22),
// computed directly in ATen: conv patches → flatten(2) → transpose(1, 2);
// a learned class token expanded by a size read from another value
// (class_token.expand(t.shape[k], -1, -1)) and concatenated; a position
// embedding added by broadcasting; F.interpolate(x, size=y.shape[2:]).
// Wrong sizes are drawn on purpose (a token of another width, an embedding
// of another length, a dim read past the rank, an interpolation to a 3-D
// value's size), and each verdict must be LibTorch's.
TEST_CASE("1,200 random token pipelines (Parameter, Expand by another value's size, broadcast Add, size_from)") {
  torch::set_num_threads(1);
  torch::NoGradGuard no_grad;
  const uint64_t seed = 22;
  Rng r(seed);
  int valid = 0, invalid = 0;
  for (int i = 0; i < 1200; ++i) {
    int64_t N = r.in(1, 3), C = r.in(1, 4), H = r.in(2, 12), W = r.in(2, 12), P = r.in(1, 4), D = r.in(1, 6);
    int64_t L = H >= P && W >= P ? (H / P) * (W / P) : 0;
    int64_t cls_d = r.chance(0.85) ? D : r.in(1, 6);
    int64_t k = r.chance(0.7) ? 0 : r.in(-4, 3);  // the dim read from `tok`
    Shape pos = {r.chance(0.8) ? 1 : r.in(1, 3), r.chance(0.8) ? L + 1 : r.chance(0.5) ? 1 : r.in(1, 9),
                 r.chance(0.8) ? D : r.chance(0.5) ? 1 : r.in(1, 6)};
    bool up = r.chance(0.5);
    std::string ref = r.chance(0.8) ? "input" : "tok";  // tok is 3-D: no 2-D size to take
    std::string mode = r.chance(0.5) ? "nearest" : "bilinear";
    std::string spec = fmt::format(
        R"({{"input": [{}, {}, {}, {}], "layers": [)"
        R"({{"name": "proj", "type": "Conv2d", "out_channels": {}, "kernel_size": {}, "stride": {}}}, )"
        R"({{"name": "flat", "type": "Flatten", "start_dim": 2}}, )"
        R"({{"name": "tok", "type": "Transpose", "dim0": 1, "dim1": 2}}, )"
        R"({{"name": "cls", "type": "Parameter", "shape": [1, 1, {}]}}, )"
        R"({{"name": "batch", "type": "Expand", "sizes": ["tok.shape[{}]", -1, -1]}}, )"
        R"({{"name": "cat", "type": "Cat", "from": ["batch", "tok"], "dim": 1}}, )"
        R"({{"name": "pos", "type": "Parameter", "shape": {}}}, )"
        R"({{"name": "add", "type": "Add", "from": ["cat", "pos"], "broadcast": true}}{}]}})",
        N, C, H, W, D, P, P, cls_d, k, format_shape(pos),
        up ? fmt::format(R"(, {{"name": "up", "type": "Upsample", "from": "proj", "size_from": "{}", "mode": "{}"}})",
                         ref, mode)
           : "");
    // LibTorch, step by step.
    std::vector<std::pair<std::string, Shape>> real;
    std::string torch_error;
    try {
      torch::Tensor x = torch::randn({N, C, H, W});
      torch::Tensor proj = torch::conv2d(x, torch::randn({D, C, P, P}), torch::randn({D}), P);
      real.emplace_back("proj", proj.sizes().vec());
      torch::Tensor tok = proj.flatten(2).transpose(1, 2);
      real.emplace_back("tok", tok.sizes().vec());
      torch::Tensor batch = torch::zeros({1, 1, cls_d}).expand({tok.size(k), -1, -1});
      real.emplace_back("batch", batch.sizes().vec());
      torch::Tensor cat = torch::cat({batch, tok}, 1);
      real.emplace_back("cat", cat.sizes().vec());
      torch::Tensor add = cat + torch::zeros(pos);
      real.emplace_back("add", add.sizes().vec());
      if (up) {
        torch::Tensor y = ref == "input" ? x : tok;
        std::vector<int64_t> size(y.sizes().begin() + 2, y.sizes().end());
        auto opts = torch::nn::functional::InterpolateFuncOptions().size(size);
        if (mode == "nearest") opts.mode(torch::kNearest); else opts.mode(torch::kBilinear).align_corners(false);
        real.emplace_back("up", torch::nn::functional::interpolate(proj, opts).sizes().vec());
      }
    } catch (const c10::Error& e) {
      torch_error = e.what_without_backtrace();
    }
    std::string where = fmt::format("case {} (seed {}): {}", i, seed, spec);
    auto o = run_text(spec);
    REQUIRE_MESSAGE(o.parsed, where);
    for (const auto& [name, shape] : real) {
      const Row* row = o.row(name);
      if (!row || row->failed || row->output != shape)
        FAIL_CHECK(fmt::format("at {}: torch {}, netshape {}\n  {}", name, format_shape(shape),
                               row && !row->failed ? format_shape(row->output) : "failed", where));
    }
    if (o.valid() != torch_error.empty())
      FAIL_CHECK(fmt::format("netshape says {}, LibTorch: {}\n  {}", o.valid() ? "valid" : "invalid",
                             torch_error.empty() ? "ran" : torch_error.substr(0, 200), where));
    (o.valid() ? valid : invalid)++;
    // The learned tensors are counted: D·C·P·P + D, then cls and pos.
    if (o.valid()) DOCTEST_CHECK(o.eval.params == D * C * P * P + D + cls_d + pos[0] * pos[1] * pos[2]);
  }
  MESSAGE(fmt::format("{} valid, {} invalid", valid, invalid));
  DOCTEST_CHECK(valid > 300);
  DOCTEST_CHECK(invalid > 300);
}

// A pad to another value's size, as a U-Net pads its upsampled map to the
// skip's: F.pad(x1, [dX // 2, dX - dX // 2, dY // 2, dY - dY // 2]) with dX =
// x2.size(3) - x1.size(3), directly in ATen. The other value is drawn larger
// or smaller (a negative difference crops), of another rank (a flattened one
// has no dims to read), and the pad covers 1 to 3 trailing dims.
TEST_CASE("600 random pads to another value's size: netshape's verdict is LibTorch's") {
  torch::set_num_threads(1);
  torch::NoGradGuard no_grad;
  const uint64_t seed = 2207;
  Rng r(seed);
  int valid = 0, invalid = 0;
  for (int i = 0; i < 600; ++i) {
    int64_t N = r.in(1, 2), C = r.in(1, 4), H = r.in(1, 12), W = r.in(1, 12), D = r.in(1, 4), k = r.in(1, 4);
    int rank = static_cast<int>(r.in(1, 3));
    bool flat = r.chance(0.1);
    std::string spec = fmt::format(
        R"({{"input": [{}, {}, {}, {}], "layers": [)"
        R"({{"name": "skip", "type": "Conv2d", "out_channels": {}, "kernel_size": {}}}, )"
        R"({{"name": "other", "type": "{}"}}, )"
        R"({{"name": "pad", "type": "ConstantPad{}d", "from": "input", "size_from": "other", "value": 0.5}}]}})",
        N, C, H, W, D, k, flat ? "Flatten" : "Identity", rank);
    Shape real;
    std::string torch_error;
    try {
      torch::Tensor x = torch::randn({N, C, H, W});
      torch::Tensor y = torch::conv2d(x, torch::randn({D, C, k, k}));
      if (flat) y = y.flatten(1);
      std::vector<int64_t> pads;
      for (int d = 1; d <= rank; ++d) {
        int64_t diff = y.size(-d) - x.size(-d);  // y.size(-3) of a 2-D y: PyTorch's IndexError
        int64_t before = static_cast<int64_t>(std::floor(static_cast<double>(diff) / 2));  // Python's diff // 2
        pads.insert(pads.end(), {before, diff - before});
      }
      real = torch::constant_pad_nd(x, pads, 0.5).sizes().vec();
    } catch (const c10::Error& e) {
      torch_error = e.what_without_backtrace();
    }
    std::string where = fmt::format("case {} (seed {}): {}", i, seed, spec);
    auto o = run_text(spec);
    REQUIRE_MESSAGE(o.parsed, where);
    if (o.valid() != torch_error.empty())
      FAIL_CHECK(fmt::format("netshape says {}, LibTorch: {}\n  {}", o.valid() ? "valid" : "invalid",
                             torch_error.empty() ? "ran" : torch_error.substr(0, 200), where));
    else if (o.valid() && o.row("pad")->output != real)
      FAIL_CHECK(fmt::format("torch {}, netshape {}\n  {}", format_shape(real), format_shape(o.row("pad")->output), where));
    (o.valid() ? valid : invalid)++;
  }
  MESSAGE(fmt::format("{} valid, {} invalid", valid, invalid));
  DOCTEST_CHECK(valid > 300);
  DOCTEST_CHECK(invalid > 30);
}

// A pool whose kernel_size is read from a size (the CIFAR ResNet's
// F.avg_pool2d(out, out.size()[3])), directly in ATen: the dims read are
// drawn (H or W of the pool's own input, a number beside one, a dim past the
// rank), and so are the stride (given, or the kernel's as stride=None), the
// padding (over half the kernel read is PyTorch's error) and ceil_mode; the
// input is not always square, so a kernel of W may not fit H.
TEST_CASE("1,200 random pools with a kernel read from a size: netshape's verdict is LibTorch's") {
  torch::set_num_threads(1);
  torch::NoGradGuard no_grad;
  const uint64_t seed = 2206;
  Rng r(seed);
  int valid = 0, invalid = 0;
  for (int i = 0; i < 1200; ++i) {
    int64_t N = r.in(1, 2), C = r.in(1, 3), H = r.in(1, 9), W = r.chance(0.5) ? H : r.in(1, 9);
    bool max = r.chance(0.5), ceil = r.chance(0.3);
    auto dim = [&]() -> int64_t { return r.chance(0.9) ? r.in(2, 3) - (r.chance(0.3) ? 4 : 0) : r.in(4, 5); };
    int64_t a = dim(), b = dim();
    bool fixed_b = r.chance(0.2);  // (x.size(a), 2)
    int64_t fb = r.in(1, 3);
    std::optional<int64_t> stride;
    if (r.chance(0.3)) stride = r.in(1, 3);
    int64_t pad = r.chance(0.7) ? 0 : r.in(1, 2);
    std::string kernel = fixed_b ? fmt::format(R"(["input.shape[{}]", {}])", a, fb)
                         : a == b && r.chance(0.5) ? fmt::format(R"("input.shape[{}]")", a)
                                                   : fmt::format(R"x(["input.shape[{}]", "input.size({})"])x", a, b);
    if (kernel.front() == '"') b = a;
    std::string spec = fmt::format(
        R"x({{"input": [{}, {}, {}, {}], "layers": [{{"name": "p", "type": "{}", "kernel_size": {}{}, "padding": {}, "ceil_mode": {}}}]}})x",
        N, C, H, W, max ? "MaxPool2d" : "AvgPool2d", kernel, stride ? fmt::format(R"(, "stride": {})", *stride) : "",
        pad, ceil ? "true" : "false");
    Shape real;
    std::string torch_error;
    try {
      torch::Tensor x = torch::randn({N, C, H, W});
      std::vector<int64_t> k{x.size(a), fixed_b ? fb : x.size(b)};
      std::vector<int64_t> s = stride ? std::vector<int64_t>{*stride, *stride} : k;
      real = (max ? torch::max_pool2d(x, k, s, pad, 1, ceil) : torch::avg_pool2d(x, k, s, pad, ceil)).sizes().vec();
    } catch (const c10::Error& e) {
      torch_error = e.what_without_backtrace();
    }
    std::string where = fmt::format("case {} (seed {}): {}", i, seed, spec);
    auto o = run_text(spec);  // a fixed dim's padding over half its kernel is refused as the spec is read
    bool ok = o.parsed && o.valid();
    if (ok != torch_error.empty())
      FAIL_CHECK(fmt::format("netshape says {}, LibTorch: {}\n  {}", ok ? "valid" : "invalid",
                             torch_error.empty() ? "ran" : torch_error.substr(0, 200), where));
    else if (ok && *o.eval.output != real)
      FAIL_CHECK(fmt::format("torch {}, netshape {}\n  {}", format_shape(real), format_shape(*o.eval.output), where));
    (ok ? valid : invalid)++;
  }
  MESSAGE(fmt::format("{} valid, {} invalid", valid, invalid));
  DOCTEST_CHECK(valid > 300);
  DOCTEST_CHECK(invalid > 200);
}

// x[:, start:end:step] on one dim (the CIFAR ResNet's option-A shortcut
// takes x[:, :, ::2, ::2]), against ATen's slice: bounds past either end,
// negative ones, a dim past the rank, a slice that keeps nothing.
TEST_CASE("1,200 random slices: netshape's verdict is LibTorch's") {
  torch::set_num_threads(1);
  const uint64_t seed = 2205;
  Rng r(seed);
  int valid = 0, invalid = 0;
  for (int i = 0; i < 1200; ++i) {
    Shape in;
    for (int64_t d = 0, rank = r.in(1, 4); d < rank; ++d) in.push_back(r.in(1, 9));
    auto rank = static_cast<int64_t>(in.size());
    int64_t dim = r.chance(0.9) ? r.in(-rank, rank - 1) : r.in(rank, rank + 1);
    auto bound = [&]() -> std::optional<int64_t> {
      if (r.chance(0.4)) return std::nullopt;
      return r.in(-11, 11);
    };
    Slice k{dim, bound(), bound(), r.in(1, 4)};
    auto text = [](std::optional<int64_t> v) { return v ? std::to_string(*v) : std::string("null"); };
    std::string spec = fmt::format(R"({{"input": {}, "layers": [{{"name": "s", "type": "Slice", "dim": {}, "start": {}, "end": {}, "step": {}}}]}})",
                                   format_shape(in), k.dim, text(k.start), text(k.end), k.step);
    Shape real;
    std::string torch_error;
    try {
      auto opt = [](std::optional<int64_t> v) { return v ? c10::optional<int64_t>(*v) : c10::nullopt; };
      real = torch::zeros(in).slice(k.dim, opt(k.start), opt(k.end), k.step).sizes().vec();
      // An empty result is a tensor to PyTorch, an error to netshape (docs/spec-format.md).
      if (std::find(real.begin(), real.end(), 0) != real.end()) torch_error = "empty";
    } catch (const c10::Error& e) {
      torch_error = e.what_without_backtrace();
    }
    std::string where = fmt::format("case {} (seed {}): {}", i, seed, spec);
    auto o = run_text(spec);
    REQUIRE_MESSAGE(o.parsed, where);
    if (o.valid() != torch_error.empty())
      FAIL_CHECK(fmt::format("netshape says {}, LibTorch: {}\n  {}", o.valid() ? "valid" : "invalid",
                             torch_error.empty() ? "ran" : torch_error.substr(0, 200), where));
    else if (o.valid() && *o.eval.output != real)
      FAIL_CHECK(fmt::format("torch {}, netshape {}\n  {}", format_shape(real), format_shape(*o.eval.output), where));
    (o.valid() ? valid : invalid)++;
  }
  MESSAGE(fmt::format("{} valid, {} invalid", valid, invalid));
  DOCTEST_CHECK(valid > 400);
  DOCTEST_CHECK(invalid > 200);
}

// A squeeze-and-excitation gate as SENet code writes it (#22), directly in
// ATen: b, c, _, _ = x.size(); y = pool(x).view(b, c); y = fc(y).view(b, c,
// 1, 1); x * y.expand_as(x) — the sizes read from another value. The dims
// read are drawn (a wrong one, one past the rank), so is the pool's size
// (a view of b·c·o·o elements into [b, c] fails unless o is 1), and each
// verdict must be LibTorch's.
TEST_CASE("600 random SE gates (View and Reshape by another value's sizes, expand_as)") {
  torch::set_num_threads(1);
  torch::NoGradGuard no_grad;
  const uint64_t seed = 2204;
  Rng r(seed);
  int valid = 0, invalid = 0;
  for (int i = 0; i < 600; ++i) {
    int64_t N = r.in(1, 3), C = r.in(1, 4), H = r.in(1, 6), W = r.in(1, 6), D = r.in(1, 6);
    int64_t o = r.chance(0.8) ? 1 : r.in(1, 3);
    auto dim = [&](int64_t usual) { return r.chance(0.85) ? usual : r.in(-5, 4); };
    int64_t a = dim(0), b = dim(1), c = dim(0), d = dim(1);
    const char* kind = r.chance(0.5) ? "View" : "Reshape";
    bool as = r.chance(0.6);
    std::string spec = fmt::format(
        R"({{"input": [{}, {}, {}, {}], "layers": [)"
        R"({{"name": "feat", "type": "Conv2d", "out_channels": {}, "kernel_size": 1}}, )"
        R"({{"name": "pool", "type": "AdaptiveAvgPool2d", "output_size": {}}}, )"
        R"x({{"name": "flat", "type": "{}", "shape": ["feat.shape[{}]", "feat.size({})"]}}, )x"
        R"({{"name": "fc", "type": "Linear", "out_features": {}}}, )"
        R"({{"name": "gate", "type": "{}", "shape": ["feat.shape[{}]", "feat.shape[{}]", 1, 1]}}, )"
        R"({{"name": "big", "type": "Expand", {}}}, )"
        R"({{"name": "scale", "type": "Mul", "from": ["feat", "big"]}}]}})",
        N, C, H, W, D, o, kind, a, b, D, kind, c, d,
        as ? R"("size_from": "feat")" : R"("sizes": [-1, -1, "feat.shape[2]", "feat.shape[3]"])");
    std::vector<std::pair<std::string, Shape>> real;
    std::string torch_error;
    try {
      torch::Tensor x = torch::randn({N, C, H, W});
      torch::Tensor feat = torch::conv2d(x, torch::randn({D, C, 1, 1}));
      torch::Tensor pool = torch::adaptive_avg_pool2d(feat, {o, o});
      auto view = [&](const torch::Tensor& t, std::vector<int64_t> sizes) {
        return std::string(kind) == "View" ? t.view(sizes) : t.reshape(sizes);
      };
      torch::Tensor flat = view(pool, {feat.size(a), feat.size(b)});
      real.emplace_back("flat", flat.sizes().vec());
      torch::Tensor fc = torch::linear(flat, torch::randn({D, flat.size(-1)}), torch::randn({D}));
      torch::Tensor gate = view(fc, {feat.size(c), feat.size(d), 1, 1});
      real.emplace_back("gate", gate.sizes().vec());
      torch::Tensor big = as ? gate.expand_as(feat) : gate.expand({-1, -1, feat.size(2), feat.size(3)});
      real.emplace_back("big", big.sizes().vec());
      real.emplace_back("scale", (feat * big).sizes().vec());
    } catch (const c10::Error& e) {
      torch_error = e.what_without_backtrace();
    } catch (const std::exception& e) {  // feat.size(5): IndexError in Python
      torch_error = e.what();
    }
    std::string where = fmt::format("case {} (seed {}): {}", i, seed, spec);
    auto out = run_text(spec);
    REQUIRE_MESSAGE(out.parsed, where);
    for (const auto& [name, shape] : real) {
      const Row* row = out.row(name);
      if (!row || row->failed || row->output != shape)
        FAIL_CHECK(fmt::format("at {}: torch {}, netshape {}\n  {}", name, format_shape(shape),
                               row && !row->failed ? format_shape(row->output) : "failed", where));
    }
    if (out.valid() != torch_error.empty())
      FAIL_CHECK(fmt::format("netshape says {}, LibTorch: {}\n  {}", out.valid() ? "valid" : "invalid",
                             torch_error.empty() ? "ran" : torch_error.substr(0, 200), where));
    (out.valid() ? valid : invalid)++;
    if (out.valid()) DOCTEST_CHECK(out.eval.params == D * C + D + D * D + D);  // conv (with bias) and fc
  }
  MESSAGE(fmt::format("{} valid, {} invalid", valid, invalid));
  DOCTEST_CHECK(valid > 150);
  DOCTEST_CHECK(invalid > 150);
}

// ConvTranspose2d: out = (in − 1)·s − 2p + d·(k − 1) + op + 1, output_padding
// below stride or dilation, groups dividing both channel counts.
TEST_CASE("1,200 random transposed convs: netshape's verdict is LibTorch's") {
  const uint64_t seed = 2015;
  Rng r(seed);
  int valid = 0, invalid = 0;
  for (int i = 0; i < 1200; ++i) {
    int64_t groups = r.in(1, 3), C = groups * r.in(1, 3), out = r.in(1, 6) * (r.chance(0.9) ? groups : 1);
    Shape input{r.in(1, 2), r.chance(0.9) ? C : C + 1, r.in(1, 9), r.in(1, 9)};
    int64_t kh = r.in(1, 5), kw = r.chance(0.7) ? kh : r.in(1, 5), sh = r.in(1, 3), sw = r.chance(0.7) ? sh : r.in(1, 3);
    int64_t ph = r.in(0, 4), pw = r.chance(0.7) ? ph : r.in(0, 4), dh = r.in(1, 2), dw = r.chance(0.7) ? dh : r.in(1, 2);
    int64_t oph = r.in(0, 3), opw = r.chance(0.7) ? oph : r.in(0, 3);
    std::string spec = fmt::format(
        R"({{"input": {}, "layers": [{{"type": "ConvTranspose2d", "in_channels": {}, "out_channels": {}, "kernel_size": [{}, {}], "stride": [{}, {}], "padding": [{}, {}], "output_padding": [{}, {}], "dilation": [{}, {}], "groups": {}}}]}})",
        format_shape(input), C, out, kh, kw, sh, sw, ph, pw, oph, opw, dh, dw, groups);
    Verdict ours = netshape_verdict(spec);
    Verdict theirs;
    std::string torch_error;
    try {
      torch::nn::ConvTranspose2dOptions o(C, out, {kh, kw});
      o.stride({sh, sw}).padding({ph, pw}).output_padding({oph, opw}).dilation({dh, dw}).groups(groups);
      theirs = torch::nn::ConvTranspose2d(o)->forward(torch::zeros(input)).sizes().vec();
    } catch (const c10::Error& e) {
      torch_error = e.what_without_backtrace();
    }
    (ours ? valid : invalid)++;
    compare(ours, theirs, torch_error, i, seed, spec);
  }
  MESSAGE(fmt::format("{} valid and {} invalid transposed convs agreed or were reported", valid, invalid));
  DOCTEST_CHECK(valid > 200);
  DOCTEST_CHECK(invalid > 200);
}

// 1-d and 3-d kinds (#10): each random layer built here from LibTorch's own
// modules (Conv1d … AdaptiveMaxPool3d, BatchNorm1d/3d), on batched inputs of
// the right rank and, one time in eight, of a wrong one. Unbatched inputs
// (rank + 1), which PyTorch accepts and netshape refuses on purpose
// (docs/spec-format.md), are not generated.
namespace {

template <std::size_t D> torch::ExpandingArray<D> ea(const std::vector<int64_t>& v) {
  return torch::ExpandingArray<D>(c10::IntArrayRef(v));
}

template <std::size_t D> std::function<torch::Tensor(const torch::Tensor&)> ranked_module(
    int kind, int64_t C, int64_t out, int64_t groups, const std::vector<int64_t>& k, const std::vector<int64_t>& s,
    const std::vector<int64_t>& p, const std::vector<int64_t>& d, const std::vector<int64_t>& op, bool ceil,
    const std::vector<int64_t>& size) {
  namespace nn = torch::nn;
  using Conv = std::conditional_t<D == 1, nn::Conv1d, nn::Conv3d>;
  using Trans = std::conditional_t<D == 1, nn::ConvTranspose1d, nn::ConvTranspose3d>;
  using Max = std::conditional_t<D == 1, nn::MaxPool1d, nn::MaxPool3d>;
  using Avg = std::conditional_t<D == 1, nn::AvgPool1d, nn::AvgPool3d>;
  using AAvg = std::conditional_t<D == 1, nn::AdaptiveAvgPool1d, nn::AdaptiveAvgPool3d>;
  using AMax = std::conditional_t<D == 1, nn::AdaptiveMaxPool1d, nn::AdaptiveMaxPool3d>;
  using BN = std::conditional_t<D == 1, nn::BatchNorm1d, nn::BatchNorm3d>;
  switch (kind) {
    case 0: return [=](const torch::Tensor& x) {
        return Conv(nn::ConvOptions<D>(C, out, ea<D>(k)).stride(ea<D>(s)).padding(ea<D>(p)).dilation(ea<D>(d)).groups(groups))->forward(x);
      };
    case 1: return [=](const torch::Tensor& x) {
        return Trans(nn::ConvTransposeOptions<D>(C, out, ea<D>(k)).stride(ea<D>(s)).padding(ea<D>(p))
                         .output_padding(ea<D>(op)).dilation(ea<D>(d)).groups(groups))->forward(x);
      };
    case 2: return [=](const torch::Tensor& x) {
        return Max(nn::MaxPoolOptions<D>(ea<D>(k)).stride(ea<D>(s)).padding(ea<D>(p)).dilation(ea<D>(d)).ceil_mode(ceil))->forward(x);
      };
    case 3: return [=](const torch::Tensor& x) {
        return Avg(nn::AvgPoolOptions<D>(ea<D>(k)).stride(ea<D>(s)).padding(ea<D>(p)).ceil_mode(ceil))->forward(x);
      };
    case 4: case 5: return [=](const torch::Tensor& x) {
        torch::Tensor y;
        if constexpr (D == 1) {
          y = kind == 4 ? AAvg(ea<1>(size))->forward(x) : AMax(ea<1>(size))->forward(x);
        } else {
          torch::ExpandingArrayWithOptionalElem<3> o(c10::optional<int64_t>(1));
          for (std::size_t i = 0; i < 3; ++i) (*o)[i] = size[i] ? c10::optional<int64_t>(size[i]) : c10::nullopt;
          y = kind == 4 ? AAvg(o)->forward(x) : AMax(o)->forward(x);
        }
        return y;
      };
    default: return [=](const torch::Tensor& x) {
        auto bn = BN(nn::BatchNormOptions(C));
        bn->eval();
        return bn->forward(x);
      };
  }
}

}  // namespace

TEST_CASE("2,400 random 1-d and 3-d layers: netshape's verdict is LibTorch's") {
  torch::NoGradGuard no_grad;
  const uint64_t seed = 1993;
  Rng r(seed);
  int valid = 0, invalid = 0, empty_max_pool1d = 0;
  static const char* const families[6][2] = {{"Conv1d", "Conv3d"},       {"ConvTranspose1d", "ConvTranspose3d"},
                                             {"MaxPool1d", "MaxPool3d"}, {"AvgPool1d", "AvgPool3d"},
                                             {"AdaptiveAvgPool1d", "AdaptiveAvgPool3d"},
                                             {"AdaptiveMaxPool1d", "AdaptiveMaxPool3d"}};
  for (int i = 0; i < 2400; ++i) {
    const std::size_t rank = r.chance(0.5) ? 1 : 3;
    const int kind = static_cast<int>(r.in(0, 6));  // 6: BatchNorm
    const std::string type = kind == 6 ? (rank == 1 ? "BatchNorm1d" : "BatchNorm3d") : families[kind][rank == 3];
    int64_t groups = kind <= 1 ? r.in(1, 3) : 1, C = groups * r.in(1, 3);
    int64_t out = r.in(1, 4) * (r.chance(0.9) ? groups : 1);
    int64_t spec_c = r.chance(0.92) ? C : C + 1;  // in_channels / num_features as written
    // The input: batched of the kind's rank, sometimes another (never rank + 1: unbatched).
    std::size_t dims = rank + 2;
    if (r.chance(0.125)) dims = rank == 1 ? static_cast<std::size_t>(r.in(4, 5)) : 3;
    if (kind == 6 && rank == 1 && r.chance(0.2)) dims = 2;  // BatchNorm1d's [N, C]
    Shape input{r.in(1, 2), C};
    for (std::size_t j = 2; j < dims; ++j) input.push_back(rank == 1 ? r.in(1, 40) : r.in(1, 9));
    auto list = [&](int64_t lo, int64_t hi) {
      std::vector<int64_t> v(rank, r.in(lo, hi));
      for (auto& x : v)
        if (r.chance(0.3)) x = r.in(lo, hi);
      return v;
    };
    auto k = list(1, rank == 1 ? 9 : 4), s = list(1, 3), p = list(0, 3), d = list(1, 2), op = list(0, 2);
    auto size = list(1, 5);
    if (rank == 3)
      for (auto& x : size)
        if (r.chance(0.15)) x = 0;  // None
    bool ceil = r.chance(0.5);
    auto js = [](const std::vector<int64_t>& v) { return fmt::format("[{}]", fmt::join(v, ", ")); };
    std::string fields;
    switch (kind) {
      case 0: fields = fmt::format(R"("in_channels": {}, "out_channels": {}, "kernel_size": {}, "stride": {}, "padding": {}, "dilation": {}, "groups": {})",
                                   spec_c, out, js(k), js(s), js(p), js(d), groups); break;
      case 1: fields = fmt::format(R"("in_channels": {}, "out_channels": {}, "kernel_size": {}, "stride": {}, "padding": {}, "output_padding": {}, "dilation": {}, "groups": {})",
                                   spec_c, out, js(k), js(s), js(p), js(op), js(d), groups); break;
      case 2: fields = fmt::format(R"("kernel_size": {}, "stride": {}, "padding": {}, "dilation": {}, "ceil_mode": {})",
                                   js(k), js(s), js(p), js(d), ceil); break;
      case 3: fields = fmt::format(R"("kernel_size": {}, "stride": {}, "padding": {}, "ceil_mode": {})", js(k), js(s), js(p), ceil); break;
      case 4: case 5: {
        std::vector<std::string> o;
        for (int64_t x : size) o.push_back(x ? std::to_string(x) : "null");
        fields = fmt::format(R"("output_size": [{}])", fmt::join(o, ", "));
        break;
      }
      default: fields = fmt::format(R"("num_features": {})", spec_c);
    }
    std::string spec = fmt::format(R"({{"input": {}, "layers": [{{"type": "{}", {}}}]}})", format_shape(input), type, fields);
    auto forward = rank == 1 ? ranked_module<1>(kind, spec_c, out, groups, k, s, p, d, op, ceil, size)
                             : ranked_module<3>(kind, spec_c, out, groups, k, s, p, d, op, ceil, size);
    Verdict ours = netshape_verdict(spec);
    Verdict theirs;
    std::string torch_error;
    try {
      theirs = forward(torch::zeros(input)).sizes().vec();
    } catch (const c10::Error& e) {
      torch_error = e.what_without_backtrace();
    }
    (ours ? valid : invalid)++;
    // The one known, deliberate difference: max_pool1d's CPU inference path
    // returns an empty [N, C, 0] where training and CUDA raise (ATen's
    // check_max_pool1d accepts an output size of 0); netshape calls it invalid.
    if (!ours && theirs && kind == 2 && rank == 1 && theirs->size() == 3 && (*theirs)[2] == 0) {
      ++empty_max_pool1d;
      continue;
    }
    compare(ours, theirs, torch_error, i, seed, spec);
  }
  MESSAGE(fmt::format("{} valid and {} invalid 1-d/3-d layers agreed or were reported ({} empty max_pool1d outputs "
                      "refused on purpose)", valid, invalid, empty_max_pool1d));
  DOCTEST_CHECK(valid > 500);
  DOCTEST_CHECK(invalid > 300);
}

// Resizing kinds (#10): Upsample in every mode (size or scale factor, whole
// and fractional), the padding layers (constant with negative sizes,
// reflection at its limit, replication), PixelShuffle/Unshuffle and
// ChannelShuffle, each computed here with ATen's own ops and LibTorch's
// Upsample module, not netshape's builder.
TEST_CASE("2,400 random resizing layers: netshape's verdict is LibTorch's") {
  torch::NoGradGuard no_grad;
  namespace F = torch::nn::functional;
  const uint64_t seed = 1412;
  Rng r(seed);
  int valid = 0, invalid = 0, empty_area = 0;
  static const char* const modes[] = {"nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear", "area"};
  for (int i = 0; i < 2400; ++i) {
    int kind = static_cast<int>(r.in(0, 3));  // upsample, pad, pixel (un)shuffle, channel shuffle
    std::size_t rank = static_cast<std::size_t>(r.in(3, 5));
    if (r.chance(0.05)) rank = r.chance(0.5) ? 2 : 6;
    Shape input{r.in(1, 2), r.in(1, 12)};
    while (input.size() < rank) input.push_back(r.in(1, rank == 5 ? 6 : 10));
    std::string layer;
    std::function<torch::Tensor(const torch::Tensor&)> forward;
    if (kind == 0) {
      int mode = static_cast<int>(r.in(0, 6));
      bool by_size = r.chance(0.3);
      std::size_t n = r.chance(0.8) && rank >= 3 ? rank - 2 : 1 + (r.chance(0.5) ? 1 : 0);
      std::vector<int64_t> size;
      std::vector<double> scale;
      for (std::size_t d = 0; d < n; ++d) {
        size.push_back(r.in(1, 12));
        static const double choices[] = {2, 3, 0.5, 1.5, 0.3, 2.5, 1, 0.1, 1.75};
        scale.push_back(choices[r.in(0, 8)]);
      }
      std::optional<bool> align;
      if (r.chance(0.3)) align = r.chance(0.5);
      // One number (Python's F.interpolate repeats it for every spatial dim) or a
      // list, which Python checks has one entry per spatial dim: [3] for a 4-D
      // input raises "Input and output must have the same number of spatial dimensions".
      bool scalar = n == 1 && r.chance(0.6);
      std::string what = by_size ? fmt::format(scalar ? R"("size": {})" : R"("size": [{}])", fmt::join(size, ", "))
                                 : fmt::format(scalar ? R"("scale_factor": {})" : R"("scale_factor": [{}])",
                                               fmt::join(scale, ", "));
      layer = fmt::format(R"({{"type": "Upsample", {}, "mode": "{}"{}}})", what, modes[mode],
                          align ? fmt::format(R"(, "align_corners": {})", *align) : "");
      forward = [=](const torch::Tensor& x) {
        // LibTorch's interpolate wants one value per dim: a number is repeated, as Python does.
        std::size_t sp = x.dim() >= 3 ? static_cast<std::size_t>(x.dim()) - 2 : 1;
        F::InterpolateFuncOptions o;
        if (by_size) o.size(scalar ? std::vector<int64_t>(sp, size[0]) : size);
        else o.scale_factor(scalar ? std::vector<double>(sp, scale[0]) : scale);
        switch (mode) {
          case 0: o.mode(torch::kNearest); break;
          case 1: o.mode(torch::kNearestExact); break;
          case 2: o.mode(torch::kLinear); break;
          case 3: o.mode(torch::kBilinear); break;
          case 4: o.mode(torch::kBicubic); break;
          case 5: o.mode(torch::kTrilinear); break;
          default: o.mode(torch::kArea);
        }
        // Python's F.interpolate raises for align_corners with "nearest", "area" or
        // "nearest-exact" (torch/nn/functional.py); LibTorch 1.13's C++ forgets
        // "nearest-exact". netshape follows Python, whose users write the specs.
        TORCH_CHECK(!(align && (mode == 0 || mode == 1 || mode == 6)),
                    "align_corners option can only be set with the interpolating modes");
        if (align) o.align_corners(*align);
        return F::interpolate(x, o);
      };
    } else if (kind == 1) {
      int mode = static_cast<int>(r.in(0, 3));  // constant, reflect, replicate, zero
      int64_t prank = r.in(1, 3);
      std::vector<int64_t> pads;
      for (int64_t j = 0; j < 2 * prank; ++j) pads.push_back(mode == 0 && r.chance(0.2) ? -r.in(1, 4) : r.in(0, 5));
      static const char* const base[] = {"ConstantPad", "ReflectionPad", "ReplicationPad", "ZeroPad"};
      layer = fmt::format(R"({{"type": "{}{}d", "padding": [{}]}})", base[mode], prank, fmt::join(pads, ", "));
      forward = [=](const torch::Tensor& x) {
        // PyTorch 1.13's F.pad: constant for any rank, else a 3-, 4- or 5-D input matching the padding.
        if (mode == 0 || mode == 3) return torch::constant_pad_nd(x, pads, 0);
        TORCH_CHECK(x.dim() == prank + 2, "non-constant padding needs a ", prank + 2, "-D input here");
        if (mode == 1)
          return prank == 1 ? torch::reflection_pad1d(x, pads) : prank == 2 ? torch::reflection_pad2d(x, pads)
                                                                            : torch::reflection_pad3d(x, pads);
        return prank == 1 ? torch::replication_pad1d(x, pads) : prank == 2 ? torch::replication_pad2d(x, pads)
                                                                           : torch::replication_pad3d(x, pads);
      };
    } else if (kind == 2) {
      // Never 3-D: PyTorch reads [C, H, W] as unbatched, which netshape refuses on purpose.
      if (input.size() == 3) input.insert(input.begin(), r.in(1, 2));
      bool un = r.chance(0.5);
      int64_t f = r.in(1, 3);
      if (!un && r.chance(0.7) && input.size() >= 3) input[input.size() - 3] = f * f * r.in(1, 3);
      if (un && r.chance(0.6)) for (std::size_t d = input.size() - 2; d < input.size(); ++d) input[d] = f * r.in(1, 4);
      layer = fmt::format(R"({{"type": "{}", "{}": {}}})", un ? "PixelUnshuffle" : "PixelShuffle",
                          un ? "downscale_factor" : "upscale_factor", f);
      forward = [=](const torch::Tensor& x) { return un ? torch::pixel_unshuffle(x, f) : torch::pixel_shuffle(x, f); };
    } else {
      int64_t g = r.in(1, 4);
      if (r.chance(0.6)) input[1] = g * r.in(1, 3);
      layer = fmt::format(R"({{"type": "ChannelShuffle", "groups": {}}})", g);
      forward = [=](const torch::Tensor& x) { return torch::channel_shuffle(x, g); };
    }
    std::string spec = fmt::format(R"({{"input": {}, "layers": [{}]}})", format_shape(input), layer);
    Verdict ours = netshape_verdict(spec);
    Verdict theirs;
    std::string torch_error;
    try {
      theirs = forward(torch::zeros(input)).sizes().vec();
    } catch (const c10::Error& e) {
      torch_error = e.what_without_backtrace();
    } catch (const std::out_of_range& e) {  // LibTorch's interpolate indexes a short size list with .at()
      torch_error = e.what();
    }
    (ours ? valid : invalid)++;
    // The known, deliberate difference: "area" mode is adaptive_avg_pool,
    // which returns an empty tensor for an output size of 0; netshape refuses it.
    if (!ours && theirs && spec.find("\"area\"") != std::string::npos &&
        std::find(theirs->begin() + 2, theirs->end(), 0) != theirs->end()) {
      ++empty_area;
      continue;
    }
    compare(ours, theirs, torch_error, i, seed, spec);
  }
  MESSAGE(fmt::format("{} valid and {} invalid resizing layers agreed or were reported ({} empty \"area\" outputs "
                      "refused on purpose)", valid, invalid, empty_area));
  DOCTEST_CHECK(valid > 700);
  DOCTEST_CHECK(invalid > 300);
}

// Normalisation, softmax, dropout variants, PReLU, Unflatten and LPPool
// (#10), and GLU (#21), each built here with LibTorch's own modules (Python's
// construction checks, which LibTorch's C++ lacks, applied as Python applies them).
TEST_CASE("2,640 random norm, softmax, dropout, PReLU, Unflatten, LPPool and GLU layers: netshape's verdict is LibTorch's") {
  torch::NoGradGuard no_grad;
  namespace nn = torch::nn;
  const uint64_t seed = 2016;
  Rng r(seed);
  int valid = 0, invalid = 0;
  for (int i = 0; i < 2640; ++i) {
    int kind = static_cast<int>(r.in(0, 10));
    std::size_t rank = static_cast<std::size_t>(r.in(2, 5));
    Shape input{r.in(1, 2), r.in(1, 8)};
    while (input.size() < rank) input.push_back(r.in(1, 6));
    int64_t C = input[1];
    std::string layer;
    std::function<torch::Tensor(const torch::Tensor&)> forward;
    switch (kind) {
      case 0: {  // InstanceNorm1d/2d/3d
        int64_t nr = r.in(1, 3);
        if (r.chance(0.7) && nr + 2 >= 3) { input.resize(2); while (input.size() < static_cast<std::size_t>(nr + 2)) input.push_back(r.in(2, 6)); }
        if (input.size() == static_cast<std::size_t>(nr + 1)) input.push_back(r.in(2, 6));  // never unbatched
        int64_t nf = r.chance(0.85) ? C : C + 1;
        bool affine = r.chance(0.5), track = r.chance(0.4);
        // One value per channel (after a global pool): Python refuses it without running stats.
        if (i % 16 == 0) std::fill(input.begin() + 2, input.end(), 1);
        layer = fmt::format(R"({{"type": "InstanceNorm{}d", "num_features": {}, "affine": {}, "track_running_stats": {}}})",
                            nr, nf, affine, track);
        forward = [=](const torch::Tensor& x) {
          auto o = nn::InstanceNormOptions(nf).affine(affine).track_running_stats(track);
          // Python's _check_input_dim: InstanceNormNd takes rank + 1 or rank + 2 dims.
          TORCH_CHECK(x.dim() == nr + 1 || x.dim() == nr + 2, "expected ", nr + 1, "D or ", nr + 2, "D input");
          // Python raises for a channel mismatch when affine (a ValueError), LibTorch's C++ lets ATen decide.
          TORCH_CHECK(!(affine && x.size(x.dim() - nr - 1) != nf), "expected input's size at dim to match num_features");
          // Python's F.instance_norm (_verify_spatial_size) whenever it uses the input's statistics; LibTorch's C++ has no such check.
          TORCH_CHECK(track || x.numel() / (x.size(0) * x.size(1)) > 1, "Expected more than 1 spatial element when training");
          nn::AnyModule m = nr == 1 ? nn::AnyModule(nn::InstanceNorm1d(o)) : nr == 2 ? nn::AnyModule(nn::InstanceNorm2d(o))
                                                                                    : nn::AnyModule(nn::InstanceNorm3d(o));
          m.ptr()->eval();
          return m.forward(x);
        };
        break;
      }
      case 1: {  // GroupNorm
        int64_t g = r.in(1, 4), nc = r.chance(0.8) ? C : r.in(1, 8);
        if (r.chance(0.6)) input[1] = C = g * r.in(1, 3), nc = r.chance(0.85) ? C : nc;
        bool affine = r.chance(0.7);
        layer = fmt::format(R"({{"type": "GroupNorm", "num_groups": {}, "num_channels": {}, "affine": {}}})", g, nc, affine);
        forward = [=](const torch::Tensor& x) {
          TORCH_CHECK(nc % g == 0, "num_channels must be divisible by num_groups");  // Python's constructor
          return nn::GroupNorm(nn::GroupNormOptions(g, nc).affine(affine))->forward(x);
        };
        break;
      }
      case 2: {  // LayerNorm over the last 1-2 dims (sometimes wrong)
        std::size_t k = r.chance(0.6) ? 1 : 2;
        std::vector<int64_t> ns;
        for (std::size_t j = 0; j < k && j < input.size(); ++j) ns.insert(ns.begin(), input[input.size() - 1 - j]);
        if (r.chance(0.2)) ns.back() += 1;
        bool affine = r.chance(0.7);
        layer = fmt::format(R"({{"type": "LayerNorm", "normalized_shape": [{}], "elementwise_affine": {}}})",
                            fmt::join(ns, ", "), affine);
        forward = [=](const torch::Tensor& x) {
          return nn::LayerNorm(nn::LayerNormOptions(ns).elementwise_affine(affine))->forward(x);
        };
        break;
      }
      case 3: {  // LocalResponseNorm
        int64_t size = r.in(1, 5);
        layer = fmt::format(R"({{"type": "LocalResponseNorm", "size": {}}})", size);
        forward = [=](const torch::Tensor& x) { return nn::LocalResponseNorm(nn::LocalResponseNormOptions(size))->forward(x); };
        break;
      }
      case 4: {  // PReLU
        int64_t np = r.chance(0.4) ? 1 : r.chance(0.8) ? C : C + 1;
        if (r.chance(0.1)) input.resize(1);
        layer = fmt::format(R"({{"type": "PReLU", "num_parameters": {}}})", np);
        forward = [=](const torch::Tensor& x) { return nn::PReLU(nn::PReLUOptions().num_parameters(np))->forward(x); };
        break;
      }
      case 5: {  // Softmax, LogSoftmax, Softmin, Softmax2d
        int which = static_cast<int>(r.in(0, 3));
        int64_t dim = r.in(-5, 4);
        static const char* const names[] = {"Softmax", "LogSoftmax", "Softmin", "Softmax2d"};
        layer = which == 3 ? R"({"type": "Softmax2d"})"
                           : fmt::format(R"({{"type": "{}", "dim": {}}})", names[which], dim);
        forward = [=](const torch::Tensor& x) {
          if (which == 0) return nn::Softmax(dim)->forward(x);
          if (which == 1) return nn::LogSoftmax(dim)->forward(x);
          if (which == 2) return nn::Softmin(dim)->forward(x);
          return nn::Softmax2d()->forward(x);
        };
        break;
      }
      case 6: {  // the dropouts, in eval mode
        int which = static_cast<int>(r.in(0, 5));
        static const char* const names[] = {"Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout"};
        layer = fmt::format(R"({{"type": "{}", "p": 0.3}})", names[which]);
        forward = [=](const torch::Tensor& x) {
          // Python's Dropout1d raises for other ranks (LibTorch 1.13 has no Dropout1d module); the others only warn.
          TORCH_CHECK(which != 1 || x.dim() == 2 || x.dim() == 3, "Dropout1d: Expected 2D or 3D input");
          nn::AnyModule m = which == 2 ? nn::AnyModule(nn::Dropout2d(0.3)) : which == 3 ? nn::AnyModule(nn::Dropout3d(0.3))
                          : which == 4 ? nn::AnyModule(nn::AlphaDropout(0.3)) : which == 5 ? nn::AnyModule(nn::FeatureAlphaDropout(0.3))
                                                                                  : nn::AnyModule(nn::Dropout(0.3));
          m.ptr()->eval();
          return m.forward(x);
        };
        break;
      }
      case 7: case 8: {  // Unflatten
        int64_t dim = r.in(-static_cast<int64_t>(input.size()), static_cast<int64_t>(input.size()) - 1);
        int64_t at = input[static_cast<std::size_t>(dim < 0 ? dim + static_cast<int64_t>(input.size()) : dim)];
        std::vector<int64_t> sizes;
        int64_t a = r.in(1, 3);
        if (r.chance(0.7) && at % a == 0) sizes = {a, r.chance(0.5) ? -1 : at / a};
        else sizes = {a, r.in(1, 4)};
        layer = fmt::format(R"({{"type": "Unflatten", "dim": {}, "unflattened_size": [{}]}})", dim, fmt::join(sizes, ", "));
        forward = [=](const torch::Tensor& x) { return nn::Unflatten(nn::UnflattenOptions(dim, sizes))->forward(x); };
        break;
      }
      case 9: {  // GLU along any dim, odd sizes included (ATen's glu_meta refuses them)
        int64_t dim = r.in(-static_cast<int64_t>(input.size()) - 1, static_cast<int64_t>(input.size()));
        if (r.chance(0.6)) input[static_cast<std::size_t>(r.in(0, static_cast<int64_t>(input.size()) - 1))] *= 2;
        layer = fmt::format(R"({{"type": "GLU", "dim": {}}})", dim);
        forward = [=](const torch::Tensor& x) { return nn::GLU(nn::GLUOptions(dim))->forward(x); };
        break;
      }
      default: {  // LPPool1d/2d
        int64_t pr = r.in(1, 2), k = r.in(1, 4), s = r.in(1, 3);
        if (input.size() == static_cast<std::size_t>(pr + 1)) input.push_back(r.in(1, 6));  // never unbatched
        bool ceil = r.chance(0.5);
        layer = fmt::format(R"({{"type": "LPPool{}d", "norm_type": 2, "kernel_size": {}, "stride": {}, "ceil_mode": {}}})",
                            pr, k, s, ceil);
        forward = [=](const torch::Tensor& x) {
          if (pr == 1) return nn::LPPool1d(nn::LPPool1dOptions(2, k).stride(s).ceil_mode(ceil))->forward(x);
          return nn::LPPool2d(nn::LPPool2dOptions(2, k).stride(s).ceil_mode(ceil))->forward(x);
        };
      }
    }
    std::string spec = fmt::format(R"({{"input": {}, "layers": [{}]}})", format_shape(input), layer);
    Verdict ours = netshape_verdict(spec);
    Verdict theirs;
    std::string torch_error;
    try {
      theirs = forward(torch::rand(input)).sizes().vec();
    } catch (const c10::Error& e) {
      torch_error = e.what_without_backtrace();
    }
    (ours ? valid : invalid)++;
    compare(ours, theirs, torch_error, i, seed, spec);
  }
  MESSAGE(fmt::format("{} valid and {} invalid norm/softmax/dropout/PReLU/Unflatten/LPPool/GLU layers agreed or were reported",
                      valid, invalid));
  DOCTEST_CHECK(valid > 900);
  DOCTEST_CHECK(invalid > 300);
}

// Narrow and Chunk (ShuffleNetV2's channel split), against ATen's own ops.
TEST_CASE("1,200 random narrows and chunks: netshape's verdict is LibTorch's") {
  const uint64_t seed = 2018;
  Rng r(seed);
  int valid = 0, invalid = 0, empty = 0;
  for (int i = 0; i < 1200; ++i) {
    Shape input{r.in(1, 2)};
    for (int64_t d = 1, n = r.in(2, 5); d < n; ++d) input.push_back(r.in(1, 9));
    auto rank = static_cast<int64_t>(input.size());
    int64_t dim = r.chance(0.9) ? r.in(-rank, rank - 1) : (r.chance(0.5) ? rank : -rank - 1);
    int64_t size = input[static_cast<std::size_t>(std::clamp<int64_t>(dim < 0 ? dim + rank : dim, 0, rank - 1))];
    bool narrow = r.chance(0.5);
    int64_t a = narrow ? r.in(-size - 1, size + 1) : r.in(1, 5), b = narrow ? r.in(0, size) : r.in(0, 3);
    std::string spec = narrow ? fmt::format(R"({{"input": {}, "layers": [{{"type": "Narrow", "dim": {}, "start": {}, "length": {}}}]}})",
                                            format_shape(input), dim, a, b)
                              : fmt::format(R"({{"input": {}, "layers": [{{"type": "Chunk", "chunks": {}, "dim": {}, "index": {}}}]}})",
                                            format_shape(input), a, dim, b);
    Verdict ours = netshape_verdict(spec);
    Verdict theirs;
    std::string torch_error;
    try {
      torch::Tensor x = torch::zeros(input);
      if (narrow) {
        theirs = x.narrow(dim, a, b).sizes().vec();
      } else {
        auto parts = x.chunk(a, dim);
        TORCH_CHECK(b < static_cast<int64_t>(parts.size()), "no chunk ", b);
        theirs = parts[static_cast<std::size_t>(b)].sizes().vec();
      }
    } catch (const c10::Error& e) {
      torch_error = e.what_without_backtrace();
    }
    (ours ? valid : invalid)++;
    // Deliberate: a narrow of length 0 is an empty tensor to PyTorch, an error to netshape.
    if (!ours && theirs && narrow && b == 0) { ++empty; continue; }
    compare(ours, theirs, torch_error, i, seed, spec);
  }
  MESSAGE(fmt::format("{} valid and {} invalid narrows and chunks agreed or were reported ({} empty narrows refused "
                      "on purpose)", valid, invalid, empty));
  DOCTEST_CHECK(valid > 300);
  DOCTEST_CHECK(invalid > 300);
}

// Permute, Transpose, Reshape and View (#22): chains of one to three (with
// a ReLU now and then), against ATen's own permute/transpose/reshape/view on
// the same random numbers. A View needs strides it can keep (ATen's
// computeStride, which netshape follows through views); past an element-wise
// op on a strided value netshape only warns (view-strides), and that case
// alone accepts either verdict, counted.
TEST_CASE("2,400 random permute/transpose/reshape/view/squeeze/select/mean/roll/expand chains: netshape's verdict is LibTorch's") {
  const uint64_t seed = 2022;
  Rng r(seed);
  int valid = 0, invalid = 0, refused_views = 0, warned_refused = 0, warned_fine = 0;
  for (int i = 0; i < 2400; ++i) {
    Shape input{r.in(1, 3)};
    for (int64_t d = 1, n = r.in(1, 5); d < n; ++d) input.push_back(r.in(1, 6));
    Shape now = input;  // the shape a valid chain has reached, to aim the next op at
    std::vector<std::string> layers;
    std::vector<std::function<torch::Tensor(const torch::Tensor&)>> ops;
    for (int64_t j = 0, n = r.in(1, 3); j < n; ++j) {
      auto rank = static_cast<int64_t>(now.size());
      int which = static_cast<int>(r.in(0, 10));
      if (which == 9) {  // Expand: size-1 dims grown, -1 kept, new leading dims, now and then a wrong size
        std::vector<int64_t> sizes;
        for (int64_t k = 0, lead = r.in(0, 1); k < lead; ++k) sizes.push_back(r.chance(0.1) ? -1 : r.in(1, 3));
        for (int64_t d : now) sizes.push_back(d == 1 ? (r.chance(0.7) ? r.in(1, 4) : -1) : r.chance(0.8) ? (r.chance(0.5) ? -1 : d) : d + 1);
        layers.push_back(fmt::format(R"({{"type": "Expand", "sizes": [{}]}})", fmt::join(sizes, ", ")));
        ops.push_back([sizes](const torch::Tensor& x) { return x.expand(sizes); });
        Shape next = sizes;
        for (std::size_t d = 0; d < next.size(); ++d)
          if (next[d] == -1) next[d] = d >= next.size() - now.size() ? now[d - (next.size() - now.size())] : 1;
        now = next;
        continue;
      }
      if (which == 8) {  // Roll: one shift per dim (or one and no dims), now and then misaligned or out of range
        std::vector<int64_t> dims, shifts;
        for (int64_t k = 0, m = r.in(0, 2); k < m; ++k) dims.push_back(r.in(-rank - 1, rank));
        for (std::size_t k = 0, m = dims.empty() ? 1 : dims.size(); k < m; ++k) shifts.push_back(r.in(-7, 7));
        if (r.chance(0.1)) shifts.push_back(1);
        layers.push_back(dims.empty() ? fmt::format(R"({{"type": "Roll", "shifts": [{}]}})", fmt::join(shifts, ", "))
                                      : fmt::format(R"({{"type": "Roll", "shifts": [{}], "dims": [{}]}})",
                                                    fmt::join(shifts, ", "), fmt::join(dims, ", ")));
        ops.push_back([shifts, dims](const torch::Tensor& x) { return x.roll(shifts, dims); });
        continue;
      }
      if (which == 5) {  // Squeeze (a dim, or every size-1 dim) or Unsqueeze, now and then out of range
        bool un = r.chance(0.4), all = !un && r.chance(0.3);
        int64_t d = un ? r.in(-rank - 2, rank + 1) : r.in(-rank - 1, rank);
        layers.push_back(all ? std::string(R"({"type": "Squeeze"})")
                             : fmt::format(R"({{"type": "{}", "dim": {}}})", un ? "Unsqueeze" : "Squeeze", d));
        ops.push_back([un, all, d](const torch::Tensor& x) {
          auto y = un ? x.unsqueeze(d) : all ? x.squeeze() : x.squeeze(d);
          TORCH_CHECK(y.dim() > 0, "a 0-d tensor");  // netshape refuses those (zero-dim)
          return y;
        });
        if (un && d >= -rank - 1 && d <= rank) now.insert(now.begin() + (d < 0 ? d + rank + 1 : d), 1);
        else if (!un && all) now.erase(std::remove(now.begin(), now.end(), 1), now.end());
        else if (!un && d >= -rank && d < rank && now[static_cast<std::size_t>((d + rank) % rank)] == 1)
          now.erase(now.begin() + (d + rank) % rank);
        if (now.empty()) break;
      } else if (which == 6) {  // Select, the index sometimes past the dim
        int64_t d = r.in(-rank, rank - 1);
        int64_t size = now[static_cast<std::size_t>((d + rank) % rank)];
        int64_t index = r.in(-size - 1, size);
        layers.push_back(fmt::format(R"({{"type": "Select", "dim": {}, "index": {}}})", d, index));
        ops.push_back([d, index](const torch::Tensor& x) {
          auto y = x.select(d, index);
          TORCH_CHECK(y.dim() > 0, "a 0-d tensor");
          return y;
        });
        now.erase(now.begin() + (d + rank) % rank);
        if (now.empty()) break;
      } else if (which == 7) {  // Mean, Sum or Amax over one or two dims, keepdim or not, a dim sometimes twice
        std::vector<int64_t> dims{r.in(-rank, rank - 1)};
        if (r.chance(0.4)) dims.push_back(r.chance(0.1) ? dims[0] : r.in(-rank, rank - 1));
        bool keep = r.chance(0.4);
        int op = static_cast<int>(r.in(0, 2));
        const char* names[] = {"Mean", "Sum", "Amax"};
        layers.push_back(fmt::format(R"({{"type": "{}", "dim": [{}], "keepdim": {}}})", names[op], fmt::join(dims, ", "), keep));
        ops.push_back([dims, keep, op](const torch::Tensor& x) {
          auto y = op == 0 ? x.mean(dims, keep) : op == 1 ? x.sum(dims, keep) : x.amax(dims, keep);
          TORCH_CHECK(y.dim() > 0, "a 0-d tensor");
          return y;
        });
        std::vector<bool> gone(now.size());
        for (int64_t d : dims) gone[static_cast<std::size_t>((d + rank) % rank)] = true;
        Shape next;
        for (std::size_t d = 0; d < now.size(); ++d)
          if (!gone[d]) next.push_back(now[d]);
          else if (keep) next.push_back(1);
        now = next;
        if (now.empty()) break;
      } else if (which == 4) {  // element-wise: keeps the shape (and, in ATen, a dense input's layout)
        layers.push_back(R"({"type": "ReLU"})");
        ops.push_back([](const torch::Tensor& x) { return torch::relu(x); });
      } else if (which == 0) {  // Permute: a shuffle of the dims, sometimes of the wrong length, a repeat or out of range
        std::vector<int64_t> dims(now.size());
        for (std::size_t d = 0; d < dims.size(); ++d) dims[d] = static_cast<int64_t>(d);
        std::shuffle(dims.begin(), dims.end(), r.gen);
        for (auto& d : dims) if (r.chance(0.3)) d -= rank;  // negative dims
        if (r.chance(0.08)) dims.push_back(0);
        else if (r.chance(0.08) && dims.size() > 1) dims[0] = dims[1];
        else if (r.chance(0.05)) dims[0] = rank;
        layers.push_back(fmt::format(R"({{"type": "Permute", "dims": [{}]}})", fmt::join(dims, ", ")));
        ops.push_back([dims](const torch::Tensor& x) { return x.permute(dims); });
        if (dims.size() == now.size()) {
          Shape next(now.size());
          for (std::size_t d = 0; d < dims.size(); ++d)
            next[d] = now[static_cast<std::size_t>(((dims[d] % rank) + rank) % rank)];
          now = next;
        }
      } else if (which == 1) {  // Transpose, now and then out of range
        int64_t a = r.in(-rank - 1, rank), b = r.in(-rank, rank - 1);
        layers.push_back(fmt::format(R"({{"type": "Transpose", "dim0": {}, "dim1": {}}})", a, b));
        ops.push_back([a, b](const torch::Tensor& x) { return x.transpose(a, b); });
        if (a >= -rank && a < rank) std::swap(now[static_cast<std::size_t>((a + rank) % rank)],
                                              now[static_cast<std::size_t>((b + rank) % rank)]);
      } else {  // Reshape or View: the element count split into factors, often with a -1, sometimes wrong
        int64_t numel = 1;
        for (int64_t x : now) numel *= x;
        if (numel == 0) break;  // an earlier size 0: both sides have refused already
        Shape shape;
        int64_t left = numel;
        for (int64_t k = 0, parts = r.in(1, 4); k < parts - 1; ++k) {
          std::vector<int64_t> divisors;
          for (int64_t d = 1; d <= left; ++d) if (left % d == 0) divisors.push_back(d);
          int64_t d = divisors[static_cast<std::size_t>(r.in(0, static_cast<int64_t>(divisors.size()) - 1))];
          shape.push_back(d);
          left /= d;
        }
        shape.push_back(left);
        std::shuffle(shape.begin(), shape.end(), r.gen);
        if (r.chance(0.5)) shape[static_cast<std::size_t>(r.in(0, static_cast<int64_t>(shape.size()) - 1))] = -1;
        if (r.chance(0.15)) shape[static_cast<std::size_t>(r.in(0, static_cast<int64_t>(shape.size()) - 1))] += 1;
        if (r.chance(0.03)) shape[0] = 0;
        bool view = r.chance(0.5);
        layers.push_back(fmt::format(R"({{"type": "{}", "shape": [{}]}})", view ? "View" : "Reshape", fmt::join(shape, ", ")));
        ops.push_back([shape, view](const torch::Tensor& x) { return view ? x.view(shape) : x.reshape(shape); });
        int64_t known = 1;
        for (int64_t x : shape) if (x != -1) known *= x;
        now = shape;
        for (auto& x : now) if (x == -1) x = known > 0 ? numel / known : 1;
      }
    }
    std::string spec = fmt::format(R"({{"input": {}, "layers": [{}]}})", format_shape(input), fmt::join(layers, ", "));
    auto o = run_text(spec);
    Verdict ours = o.valid() ? Verdict(o.eval.output) : std::nullopt;
    Verdict theirs;
    std::string torch_error;
    try {
      torch::Tensor x = torch::zeros(input);
      for (const auto& op : ops) x = op(x);
      theirs = x.sizes().vec();
    } catch (const std::exception& e) {  // LibTorch 1.13's infer_size throws std::runtime_error
      torch_error = e.what();
    }
    (ours ? valid : invalid)++;
    bool warned = o.find("view-strides") && o.find("view-strides")->severity == Severity::warning;
    if (ours && !theirs && warned && torch_error.find("view size is not compatible") != std::string::npos) {
      ++warned_refused;
      continue;
    }
    if (ours && theirs && warned) ++warned_fine;
    if (!ours && o.has("view-strides")) ++refused_views;
    compare(ours, theirs, torch_error, i, seed, spec);
  }
  MESSAGE(fmt::format("{} valid and {} invalid chains agreed or were reported ({} views refused for their strides as "
                      "PyTorch does; after an element-wise op, warned of: {} PyTorch refused, {} it took)", valid,
                      invalid, refused_views, warned_refused, warned_fine));
  DOCTEST_CHECK(refused_views > 10);
  DOCTEST_CHECK(valid > 500);
  DOCTEST_CHECK(invalid > 300);
}

// `shares` (issue 20): one module called again. Built here as PyTorch code
// would be — one torch::nn module object, called on each input in turn — and
// compared with netshape's verdict, its shapes, and its parameter and buffer
// totals (PyTorch counts a module once). The second call reads the first's
// output or the input; a conv, a BatchNorm or a Linear made for one channel
// count fails on another, as in PyTorch.
// A valid spec built by netshape's builder (`run`) and run: no error, the
// predicted output shape and parameter count.
static void builder_agrees(const std::string& spec) {
  auto parsed = parse_spec(spec);
  REQUIRE(parsed.spec);
  Evaluation ev = evaluate(*parsed.spec);
  RunResult real = run_network(*parsed.spec, ev, {});
  DOCTEST_CHECK(real.error == "");
  DOCTEST_CHECK(real.output == ev.output);
  DOCTEST_CHECK(real.params == ev.params);
}

// torch.matmul (#22): random ranks 1–4 on both sides, batch dims that
// broadcast or not, inner sizes that meet or not; b sometimes a transposed
// Parameter (attention's q @ k.transpose(-2, -1)). LibTorch's torch::matmul
// on zeros of those shapes is the verdict.
TEST_CASE("1,200 random matmuls: netshape's verdict is LibTorch's") {
  const uint64_t seed = 2222;
  Rng r(seed);
  int valid = 0, invalid = 0, dots = 0;
  for (int i = 0; i < 1200; ++i) {
    auto side = [&](int64_t rank, int64_t inner, bool last) {
      Shape s;
      for (int64_t d = 0; d + 2 < rank; ++d) s.push_back(r.chance(0.3) ? 1 : r.in(1, 3));
      if (rank == 1) return Shape{inner};
      s.push_back(last ? r.in(1, 5) : inner);
      s.push_back(last ? inner : r.in(1, 5));
      return s;
    };
    int64_t ra = r.in(1, 4), rb = r.in(1, 4), m = r.in(1, 5);
    Shape a = side(ra, m, true), b = side(rb, r.chance(0.6) ? m : r.in(1, 5), false);
    if (ra >= 3 && rb >= 3 && r.chance(0.5)) {  // batch dims mostly equal, so that products get tried
      for (std::size_t k = 0; k + 2 < std::min(a.size(), b.size()); ++k)
        b[b.size() - 3 - k] = r.chance(0.8) ? a[a.size() - 3 - k] : b[b.size() - 3 - k];
    }
    bool transposed = b.size() >= 2 && r.chance(0.3);
    Shape stored = b;
    if (transposed) std::swap(stored[stored.size() - 1], stored[stored.size() - 2]);
    std::string spec = fmt::format(
        R"({{"input": {}, "layers": [{{"name": "k", "type": "Parameter", "shape": {}}}, {}{{"name": "m", "type": "Matmul", "from": ["input", "{}"]}}]}})",
        format_shape(a), format_shape(stored),
        transposed ? R"({"name": "k_t", "type": "Transpose", "dim0": -2, "dim1": -1}, )" : "", transposed ? "k_t" : "k");
    Verdict ours = netshape_verdict(spec);
    Verdict theirs;
    std::string torch_error;
    try {
      torch::Tensor kb = torch::zeros(stored);
      theirs = torch::matmul(torch::zeros(a), transposed ? kb.transpose(-2, -1) : kb).sizes().vec();
    } catch (const c10::Error& e) {
      torch_error = e.what_without_backtrace();
    }
    // Deliberate: a dot product is a 0-d tensor to PyTorch, refused by netshape.
    if (!ours && theirs && theirs->empty()) { ++dots; continue; }
    (ours ? valid : invalid)++;
    compare(ours, theirs, torch_error, i, seed, spec);
    if (ours && valid % 8 == 0) builder_agrees(spec);  // netshape's builder (`run`) computes the same product
  }
  MESSAGE(fmt::format("{} valid and {} invalid matmuls agreed ({} 1-D dot products refused on purpose)", valid,
                      invalid, dots));
  DOCTEST_CHECK(valid > 300);
  DOCTEST_CHECK(invalid > 300);
}

// nn.Embedding (#22): random index shapes (1-D to 3-D), a reshape before it
// or not, padding_idx inside and outside PyTorch's range, a layer after it;
// and the two mistakes netshape calls errors — an Embedding of a float
// tensor (a Linear first) and a float layer reading the indices too. LibTorch
// runs zeros of int64 where an Embedding reads the input, float32 otherwise,
// as `run` does; every valid case also goes through netshape's builder.
TEST_CASE("600 random Embedding pipelines: netshape's verdict is LibTorch's") {
  const uint64_t seed = 2323;
  Rng r(seed);
  int valid = 0, invalid = 0;
  for (int i = 0; i < 600; ++i) {
    Shape in;
    for (int64_t d = 0, n = r.in(1, 3); d < n; ++d) in.push_back(r.in(1, 6));
    int pre = static_cast<int>(r.in(0, 2)), post = static_cast<int>(r.in(0, 2)), mistake = static_cast<int>(r.in(0, 7));
    if (pre == 2 && in.size() < 2) pre = 0;
    int64_t num = r.in(1, 20), dim = r.in(1, 8);
    std::optional<int64_t> pad;
    if (r.chance(0.3)) pad = r.in(-num - 2, num + 1);
    std::vector<std::string> layers;
    if (mistake == 0) layers.push_back(R"({"name": "first", "type": "Linear", "out_features": 4})");
    if (pre == 1) layers.push_back(R"({"name": "pre", "type": "Unsqueeze", "dim": 0})");
    if (pre == 2) layers.push_back(R"({"name": "pre", "type": "Transpose", "dim0": 0, "dim1": -1})");
    layers.push_back(fmt::format(R"({{"name": "emb", "type": "Embedding", "num_embeddings": {}, "embedding_dim": {}{}}})", num,
                                 dim, pad ? fmt::format(R"(, "padding_idx": {})", *pad) : ""));
    if (post == 1) layers.push_back(R"({"name": "post", "type": "Linear", "out_features": 3})");
    if (post == 2) layers.push_back(R"({"name": "post", "type": "Transpose", "dim0": -1, "dim1": -2})");
    if (mistake == 1) layers.push_back(R"({"name": "also", "type": "Linear", "out_features": 2, "from": "input"})");
    std::string spec = fmt::format(R"({{"input": {}, "layers": [{}]{}}})", format_shape(in), fmt::join(layers, ", "),
                                   mistake == 1 ? R"(, "outputs": ["emb", "also"])" : "");
    Verdict ours = netshape_verdict(spec);
    Verdict theirs;
    std::string torch_error;
    try {
      torch::Tensor x = mistake == 0 ? torch::zeros(in) : torch::zeros(in, torch::kLong);
      if (mistake == 0) x = torch::nn::Linear(in.back(), 4)->forward(x);
      if (pre == 1) x = x.unsqueeze(0);
      if (pre == 2) x = x.transpose(0, -1);
      torch::nn::EmbeddingOptions o(num, dim);
      if (pad) o.padding_idx(*pad);
      torch::Tensor y = torch::nn::Embedding(o)->forward(x);
      if (post == 1) y = torch::nn::Linear(dim, 3)->forward(y);
      if (post == 2) y = y.transpose(-1, -2);
      if (mistake == 1) torch::nn::Linear(in.back(), 2)->forward(torch::zeros(in, torch::kLong));
      theirs = y.sizes().vec();
    } catch (const c10::Error& e) {
      torch_error = e.what_without_backtrace();
    }
    (ours ? valid : invalid)++;
    compare(ours, theirs, torch_error, i, seed, spec);
    if (ours) builder_agrees(spec);  // netshape's builder feeds int64 indices and counts the table
  }
  MESSAGE(fmt::format("{} valid and {} invalid Embedding pipelines agreed", valid, invalid));
  DOCTEST_CHECK(valid > 250);
  DOCTEST_CHECK(invalid > 100);
}

TEST_CASE("600 random networks calling one module again: netshape's verdict and counts are LibTorch's") {
  torch::NoGradGuard no_grad;
  namespace nn = torch::nn;
  const uint64_t seed = 2020;
  Rng r(seed);
  int valid = 0, invalid = 0;
  for (int i = 0; i < 600; ++i) {
    int kind = static_cast<int>(r.in(0, 2));
    int64_t c = r.in(1, 6), out = r.chance(0.5) ? c : r.in(1, 6), calls = r.in(2, 4);
    bool conv = kind == 0, bn = kind == 1;
    Shape input = conv || bn ? Shape{r.in(1, 2), c, r.in(3, 8), r.in(3, 8)} : Shape{r.in(1, 2), c};
    std::string module = conv ? fmt::format(R"({{"name": "m", "type": "Conv2d", "out_channels": {}, "kernel_size": 3, "padding": 1}})", out)
                         : bn ? std::string(R"({"name": "m", "type": "BatchNorm2d"})")
                              : fmt::format(R"({{"name": "m", "type": "Linear", "out_features": {}}})", out);
    std::vector<bool> from_input;  // each later call: on the input (always fits) or on the last output
    std::string layers = module;
    for (int64_t k = 1; k < calls; ++k) {
      from_input.push_back(r.chance(0.3));
      layers += fmt::format(R"(, {{"name": "again{}", "shares": "m"{}}})", k, from_input.back() ? R"(, "from": "input")" : "");
    }
    std::string spec = fmt::format(R"({{"input": {}, "layers": [{}]}})", format_shape(input), layers);
    CAPTURE(spec);
    auto parsed = parse_spec(spec);
    REQUIRE(parsed.spec);
    Evaluation ev = evaluate(*parsed.spec);
    Verdict ours = ev.valid() ? Verdict(*ev.output) : std::nullopt;
    Verdict theirs;
    int64_t params = 0, buffers = 0;
    try {
      nn::AnyModule m = conv ? nn::AnyModule(nn::Conv2d(nn::Conv2dOptions(c, out, 3).padding(1)))
                        : bn ? nn::AnyModule(nn::BatchNorm2d(c))
                             : nn::AnyModule(nn::Linear(c, out));
      m.ptr()->eval();
      for (const auto& p : m.ptr()->parameters()) params += p.numel();
      for (const auto& b : m.ptr()->buffers()) buffers += b.numel();
      torch::Tensor x = torch::zeros(input), y = m.forward(x);
      for (bool again_on_input : from_input) y = m.forward(again_on_input ? x : y);
      theirs = y.sizes().vec();
    } catch (const c10::Error&) {
    }
    (ours ? valid : invalid)++;
    compare(ours, theirs, "", i, seed, spec);
    if (ours) {
      DOCTEST_CHECK(ev.params == params);
      DOCTEST_CHECK(ev.buffers == buffers);
    }
  }
  MESSAGE(fmt::format("{} valid and {} invalid shared-module networks agreed", valid, invalid));
  DOCTEST_CHECK(valid > 200);
  DOCTEST_CHECK(invalid > 100);
}

// Every element-wise kind of the table, built by netshape's builder on a 4-D
// and a 2-D input: LibTorch's module exists for it and keeps the shape.
TEST_CASE("every element-wise kind builds in LibTorch and keeps the shape") {
  for (const auto& k : pointwise_kinds()) {
    for (const char* input : {"[2, 3, 5, 4]", "[3, 7]"}) {
      std::string extra = k.fn == netshape::Fn::threshold ? R"(, "threshold": 0.1, "value": 20)" : "";
      std::string spec = fmt::format(R"({{"input": {}, "layers": [{{"name": "f", "type": "{}"{}}}]}})", input, k.name, extra);
      CAPTURE(spec);
      auto parsed = parse_spec(spec);
      REQUIRE(parsed.spec);
      Evaluation ev = evaluate(*parsed.spec);
      REQUIRE(ev.valid());
      RunResult real = run_network(*parsed.spec, ev, {});
      DOCTEST_CHECK(real.error == "");
      DOCTEST_CHECK(real.output == ev.output);
    }
  }
}

// Parameters of the kinds added in #10, as LibTorch's own modules count them:
// one spec with each, built and run, every row's parameters and shape compared.
TEST_CASE("the new kinds' parameters are LibTorch's") {
  const std::string spec = R"({"input": [2, 6, 8, 8], "layers": [
      {"name": "in", "type": "InstanceNorm2d", "affine": true, "track_running_stats": true},
      {"name": "gn", "type": "GroupNorm", "num_groups": 3},
      {"name": "ln", "type": "LayerNorm", "normalized_shape": [8, 8]},
      {"name": "ln_nobias", "type": "LayerNorm", "normalized_shape": 8, "bias": false},
      {"name": "prelu", "type": "PReLU", "num_parameters": 6},
      {"name": "lrn", "type": "LocalResponseNorm", "size": 3},
      {"name": "up", "type": "ConvTranspose2d", "out_channels": 4, "kernel_size": 3, "stride": 2, "groups": 2},
      {"name": "flat", "type": "Unflatten", "dim": 1, "unflattened_size": [2, 2]},
      {"name": "c3", "type": "Conv3d", "out_channels": 5, "kernel_size": [1, 3, 3], "bias": false},
      {"name": "bn3", "type": "BatchNorm3d"},
      {"name": "t3", "type": "ConvTranspose3d", "out_channels": 2, "kernel_size": 2, "stride": [1, 2, 2]},
      {"name": "sq", "type": "Flatten", "start_dim": 1, "end_dim": 3},
      {"name": "c1", "type": "Conv1d", "out_channels": 3, "kernel_size": 5, "dilation": 2},
      {"name": "bn1", "type": "BatchNorm1d"},
      {"name": "in1", "type": "InstanceNorm1d", "num_features": 3, "affine": true}]})";
  auto parsed = parse_spec(spec);
  REQUIRE(parsed.spec);
  Evaluation ev = evaluate(*parsed.spec);
  REQUIRE(ev.valid());
  RunResult real = run_network(*parsed.spec, ev, {});
  DOCTEST_CHECK(real.error == "");
  REQUIRE(real.rows.size() == ev.rows.size());
  for (std::size_t i = 0; i < ev.rows.size(); ++i) {
    CAPTURE(ev.rows[i].name);
    REQUIRE(real.rows[i].shape);
    DOCTEST_CHECK(*real.rows[i].shape == ev.rows[i].output);
    DOCTEST_CHECK(real.rows[i].params == ev.rows[i].params);
  }
  DOCTEST_CHECK(real.params == ev.params);
  DOCTEST_CHECK(ev.params > 0);
}
