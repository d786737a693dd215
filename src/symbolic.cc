#include "symbolic.h"

#include <unordered_map>

#include <cmath>

#include <algorithm>
#include <functional>
#include <numeric>

#include <fmt/format.h>

#include "kinds.h"

namespace netshape {

namespace {
constexpr int64_t kMaxModulus = 1 << 16;  // beyond this the analysis gives up, and says so

int64_t ceil_div(int64_t a, int64_t b) { return -floor_div(-a, b); }

}  // namespace

int64_t QDim::at(int64_t x) const {
  return alpha * floor_div(x, M) + beta[static_cast<std::size_t>(x - M * floor_div(x, M))];
}

bool QDim::is_constant() const {
  return alpha == 0 && std::all_of(beta.begin(), beta.end(), [&](int64_t b) { return b == beta[0]; });
}

QDim QDim::refined(int64_t factor) const {
  // x = M·factor·k' + r' = M·(factor·k' + ⌊r'/M⌋) + (r' mod M)
  QDim q{M * factor, alpha * factor, std::vector<int64_t>(static_cast<std::size_t>(M * factor))};
  for (int64_t r = 0; r < M * factor; ++r)
    q.beta[static_cast<std::size_t>(r)] = alpha * (r / M) + beta[static_cast<std::size_t>(r % M)];
  return q;
}

std::optional<QDim> window_q(const QDim& v, const Window& w) {
  // Make alpha a multiple of the stride, so the floor is exact per residue.
  int64_t t = v.alpha == 0 ? 1 : w.stride / std::gcd(v.alpha, w.stride);
  if (v.M * t > kMaxModulus) return std::nullopt;
  QDim u = t == 1 ? v : v.refined(t);
  QDim out{u.M, u.alpha / w.stride, std::vector<int64_t>(u.beta.size())};
  int64_t span = w.dilation * (w.kernel - 1) + 1;
  for (std::size_t r = 0; r < u.beta.size(); ++r) {
    // On this residue the input is alpha·k + beta: the formula's floor splits.
    int64_t num = u.beta[r] + w.pad_l + w.pad_r - span + (w.ceil_mode ? w.stride - 1 : 0);
    int64_t o = floor_div(num, w.stride) + 1;
    // ceil_mode's rule, (out − 1)·stride ≥ in + pad_l, loses k on both sides.
    if (w.ceil_mode && floor_div(num, w.stride) * w.stride >= u.beta[r] + w.pad_l) --o;
    out.beta[r] = o;
  }
  return out;
}

std::string qdim_text(const QDim& f, const std::string& var) {
  if (f.is_constant()) return std::to_string(f.beta[0]);
  if (f.alpha == f.M) {  // x + c on every residue?
    bool affine = true;
    for (int64_t r = 0; r < f.M && affine; ++r) affine = f.beta[static_cast<std::size_t>(r)] - r == f.beta[0];
    if (affine) return f.beta[0] == 0 ? var : fmt::format("{} {} {}", var, f.beta[0] < 0 ? "−" : "+", std::abs(f.beta[0]));
  }
  // ⌊(x + a)/b⌋ + c with b = M/alpha: try every a in [0, b).
  if (f.alpha > 0 && f.M % f.alpha == 0) {
    int64_t b = f.M / f.alpha;
    for (int64_t a = 0; a < b; ++a) {
      int64_t c = f.beta[0] - floor_div(a, b);
      bool fits = true;
      for (int64_t r = 0; r < f.M && fits; ++r)
        fits = f.beta[static_cast<std::size_t>(r)] == floor_div(r + a, b) + c;
      if (!fits) continue;
      std::string core = b == 1 ? var
                         : a == 0 ? fmt::format("⌊{}/{}⌋", var, b)
                         : a == b - 1 ? fmt::format("⌈{}/{}⌉", var, b)
                                      : fmt::format("⌊({} + {})/{}⌋", var, a, b);
      return c == 0 ? core : fmt::format("{} {} {}", core, c < 0 ? "−" : "+", std::abs(c));
    }
  }
  return fmt::format("{}·⌊{}/{}⌋ + [{}][{} mod {}]", f.alpha, var, f.M, fmt::join(f.beta, ", "), var, f.M);
}

// ---- SizeSet ----------------------------------------------------------------

bool SizeSet::contains(int64_t x) const {
  if (x < 1) return false;
  auto [lo, hi] = k[static_cast<std::size_t>(x % M)];
  int64_t q = x / M;
  return q >= lo && q <= hi;
}

bool SizeSet::empty() const {
  for (int64_t r = 0; r < M; ++r) {
    auto [lo, hi] = k[static_cast<std::size_t>(r)];
    if (std::max(lo, r == 0 ? int64_t{1} : int64_t{0}) <= hi) return false;  // x = M·k + r ≥ 1
  }
  return true;
}

std::optional<int64_t> SizeSet::smallest() const {
  std::optional<int64_t> best;
  for (int64_t r = 0; r < M; ++r) {
    auto [lo, hi] = k[static_cast<std::size_t>(r)];
    int64_t q = std::max(lo, r == 0 ? int64_t{1} : int64_t{0});
    if (q > hi) continue;
    int64_t x = M * q + r;
    if (!best || x < *best) best = x;
  }
  return best;
}

SizeSet::Description SizeSet::describe() const {
  // Past the largest finite bound the pattern repeats with period M, so
  // members up to two periods beyond it decide everything.
  int64_t limit = 0;
  bool unbounded = false;
  for (int64_t r = 0; r < M; ++r) {
    auto [lo, hi] = k[static_cast<std::size_t>(r)];
    if (std::max(lo, r == 0 ? int64_t{1} : int64_t{0}) > hi) continue;
    limit = std::max(limit, lo);
    if (hi < kInf) limit = std::max(limit, hi);
    else unbounded = true;
  }
  int64_t end = std::min<int64_t>((limit + 3) * M, 4'000'000);
  std::vector<int64_t> members;
  for (int64_t x = 1; x <= end; ++x)
    if (contains(x)) members.push_back(x);
  Description best;
  best.ranges.clear();
  std::size_t best_runs = SIZE_MAX;
  for (int64_t p = 1; p <= M; ++p) {
    if (M % p != 0) continue;
    std::vector<bool> res(static_cast<std::size_t>(p));
    for (int64_t x : members) res[static_cast<std::size_t>(x % p)] = true;
    // Runs: members at most p apart; inside a run every x with a listed
    // residue must be a member, or this p does not describe the set.
    std::vector<std::pair<int64_t, int64_t>> runs;
    for (int64_t x : members) {
      if (!runs.empty() && x - runs.back().second <= p) runs.back().second = x;
      else runs.push_back({x, x});
    }
    bool exact = true;
    for (const auto& [lo, hi] : runs)
      for (int64_t x = lo; x <= hi && exact; ++x)
        exact = contains(x) == res[static_cast<std::size_t>(x % p)];
    if (!exact || runs.size() >= best_runs) continue;
    best_runs = runs.size();
    best.modulus = p;
    best.residues.clear();
    for (int64_t r = 0; r < p; ++r)
      if (res[static_cast<std::size_t>(r)]) best.residues.push_back(r);
    best.ranges = runs;
  }
  if (unbounded && !best.ranges.empty() && best.ranges.back().second > end - 2 * M)
    best.ranges.back().second = kInf;
  return best;
}

namespace {

SizeSet refine(const SizeSet& s, int64_t newM) {
  if (newM == s.M) return s;
  int64_t t = newM / s.M;
  SizeSet out{newM, std::vector<std::pair<int64_t, int64_t>>(static_cast<std::size_t>(newM))};
  for (int64_t r = 0; r < newM; ++r) {
    // old k = t·k' + ⌊r/M⌋
    auto [lo, hi] = s.k[static_cast<std::size_t>(r % s.M)];
    int64_t q = r / s.M;
    out.k[static_cast<std::size_t>(r)] = {ceil_div(lo - q, t), hi >= SizeSet::kInf ? SizeSet::kInf : floor_div(hi - q, t)};
  }
  return out;
}

// The analysis of one dim: constraints accumulate into `valid`.
class Walker {
 public:
  Walker(DimAnalysis& a, const Evaluation& numeric, int axis, std::size_t rank)
      : a_(a), numeric_(numeric), axis_(axis), rank_(rank) {}

  // A shape along the walk: N and C as numbers, the analysed dim as a QDim,
  // the other spatial dim as a constant QDim. After Flatten, `product` holds
  // the features as constant · f(x).
  struct Sym {
    std::vector<QDim> dims;
    bool product = false;  // last dim = dims.back() is "features", a multiple of f
    // Where a Permute moved the analysed dim (ConvNeXt's channels-last
    // [N, H, W, C]); -1: in place, at axis_. Rows are recorded in place only.
    int moved = -1;
  };
  static constexpr int kAway = 64;  // `moved` of a shape of another rank whose varying dims a Permute moved

  bool ok = true;

  // Every node in order, each on the symbolic shapes of its inputs; stops at
  // the first that fails.
  void run(const Graph& g, Sym input) {
    std::vector<std::optional<Sym>> values(g.nodes.size() + 1);
    values[0] = std::move(input);
    for (std::size_t i = 0; i < g.nodes.size(); ++i) {
      const GraphNode& n = g.nodes[i];
      std::vector<Sym> in;
      for (const auto& x : n.inputs) in.push_back(*values[static_cast<std::size_t>(x.value)]);
      second_ = in.size() > 1 ? &in[1] : nullptr;  // the value whose sizes it reads (size_from)
      if (!follows_moved(n, in)) return;
      auto y = std::holds_alternative<Merge>(n.op) ? merge(n, std::get<Merge>(n.op), in) : node(n, in[0]);
      if (!y) return;
      values[i + 1] = std::move(y);
    }
  }

 private:
  DimAnalysis& a_;
  const Sym* second_ = nullptr;
  const Evaluation& numeric_;
  int axis_;
  std::size_t rank_;  // the input's rank: 3, 4 or 5 (1, 2 or 3 spatial dims)

  // A ranked kind's input: [N, C] and its spatial dims (BatchNorm1d also [N, C]).
  static bool fits_rank(const Op& op, const Sym& in) {
    auto want = static_cast<std::size_t>(op_rank(op)) + 2;
    return !in.product && (in.dims.size() == want || (want == 3 && in.dims.size() == 2 && std::holds_alternative<BatchNorm>(op)));
  }
  std::string unit() const { return spatial_unit(rank_ - 2, static_cast<std::size_t>(axis_) - 2); }

  // Past a Permute that moved the analysed dim, the layers that keep the
  // layout (element-wise, norms, Linear on the last dim), adds and muls of
  // values laid out alike, and the Permute back; sizes past anything else are
  // not analysed (said so).
  bool follows_moved(const GraphNode& n, const std::vector<Sym>& in) {
    bool moved = false, alike = true;
    for (const auto& x : in) moved = moved || x.moved >= 0, alike = alike && (x.moved == in[0].moved || x.dims.size() < rank_);
    if (!moved) return true;
    const KindInfo* k = find_kind(op_name(n.op));
    auto* m = std::get_if<Merge>(&n.op);
    // Select and Squeeze pick dims through picked(), which gives up itself when a varying dim would move.
    bool picks = std::holds_alternative<Select>(n.op) || std::holds_alternative<Squeeze>(n.op);
    // A Parameter reads nothing; an Expand's sizes are read from whole QDims (ViT's class token over the batch).
    bool own = (k && k->source) || std::holds_alternative<Expand>(n.op);
    bool away = std::any_of(in.begin(), in.end(), [](const Sym& x) { return x.moved == kAway; });  // cat, matmul: whole QDims
    bool keeps = (k && k->keeps_shape) || std::holds_alternative<Linear>(n.op) || std::holds_alternative<Permute>(n.op) ||
                 picks || own || (m && (away || (m->op != MergeOp::cat && m->op != MergeOp::matmul)) && alike);
    if (keeps) return true;
    return give_up(fmt::format("`{}` follows a Permute that moved the analysed dim: sizes after it are not analysed", n.name));
  }

  bool give_up(const std::string& why) {
    a_.error = why;
    ok = false;
    return false;
  }

  void narrow(const std::string& layer, const std::string& what, const std::function<void(SizeSet&)>& f,
              const QDim& subject = QDim::constant(0), const std::string& noun = "") {
    f(a_.valid);
    f(a_.clean);
    a_.constraints.push_back({layer, what, a_.valid, subject, noun});
  }

  // f(x) in [lo, hi] on every residue; bounds may be ±kInf.
  bool bound(const QDim& f, int64_t lo, int64_t hi, const std::string& layer, const std::string& what,
             const std::string& noun) {
    int64_t M = std::lcm(f.M, a_.valid.M);
    M = std::lcm(M, a_.clean.M);
    if (M > kMaxModulus) return give_up("the sizes repeat with a period too long to analyse");
    QDim g = f.refined(M / f.M);
    narrow(layer, what, [&](SizeSet& s) {
      s = refine(s, M);
      for (int64_t r = 0; r < M; ++r) {
        auto& [klo, khi] = s.k[static_cast<std::size_t>(r)];
        int64_t al = g.alpha, be = g.beta[static_cast<std::size_t>(r)];
        if (al == 0) {
          if (be < lo || be > hi) klo = SizeSet::kInf, khi = -SizeSet::kInf;
          continue;
        }
        if (lo > -SizeSet::kInf) klo = std::max(klo, ceil_div(lo - be, al));
        if (hi < SizeSet::kInf) khi = std::min(khi, floor_div(hi - be, al));
      }
    }, f, noun);
    return true;
  }

  // f(x) = g(x) on every residue.
  bool equal(const QDim& f, const QDim& g, const std::string& layer, const std::string& what) {
    int64_t M = std::lcm(std::lcm(f.M, g.M), std::lcm(a_.valid.M, a_.clean.M));
    if (M > kMaxModulus) return give_up("the sizes repeat with a period too long to analyse");
    QDim F = f.refined(M / f.M), G = g.refined(M / g.M);
    narrow(layer, what, [&](SizeSet& s) {
      s = refine(s, M);
      for (int64_t r = 0; r < M; ++r) {
        auto& [klo, khi] = s.k[static_cast<std::size_t>(r)];
        int64_t da = F.alpha - G.alpha, db = G.beta[static_cast<std::size_t>(r)] - F.beta[static_cast<std::size_t>(r)];
        if (da == 0) {
          if (db != 0) klo = SizeSet::kInf, khi = -SizeSet::kInf;
        } else if (db % da != 0) {
          klo = SizeSet::kInf, khi = -SizeSet::kInf;
        } else {
          klo = std::max(klo, db / da);
          khi = std::min(khi, db / da);
        }
      }
    });
    return true;
  }

  // Marks residues where a window leaves input rows unread as not clean.
  void floor_loss(const QDim& v, const Window& w) {
    int64_t span = w.dilation * (w.kernel - 1) + 1;
    if (w.ceil_mode || w.stride > span) return;
    int64_t t = v.alpha == 0 ? 1 : w.stride / std::gcd(v.alpha, w.stride);
    int64_t M = std::lcm(v.M * t, a_.clean.M);
    if (M > kMaxModulus) return;
    QDim u = v.refined(M / v.M);
    a_.clean = refine(a_.clean, M);
    for (int64_t r = 0; r < M; ++r) {
      int64_t num = u.beta[static_cast<std::size_t>(r)] + w.pad_l + w.pad_r - span;
      int64_t leftover = num - w.stride * floor_div(num, w.stride);
      if (leftover - w.pad_r > 0) {  // the remainder does not depend on ⌊x/M⌋
        auto& [klo, khi] = a_.clean.k[static_cast<std::size_t>(r)];
        klo = SizeSet::kInf, khi = -SizeSet::kInf;
      }
    }
  }

  void record(const GraphNode& n, const Sym& in, const Sym& out) {
    if (in.dims.size() == rank_ && !in.product && in.moved < 0 && !std::holds_alternative<Parameter>(n.op))
      a_.inputs.push_back({n.name, in.dims[static_cast<std::size_t>(axis_)]});
    if (out.dims.size() == rank_ && !out.product && out.moved < 0)
      a_.forms.push_back({n.name, out.dims[static_cast<std::size_t>(axis_)]});
  }

  std::optional<QDim> spatial(const GraphNode& n, const QDim& v, const Window& w, bool conv) {
    int64_t span = w.dilation * (w.kernel - 1) + 1;
    std::string unit = this->unit();
    if (conv) {
      if (!bound(v, span - w.pad_l - w.pad_r, SizeSet::kInf, n.name,
                 fmt::format("needs at least {} input {} for its kernel (span {}, padding {})",
                             std::max<int64_t>(1, span - w.pad_l - w.pad_r), unit, span, w.pad_l + w.pad_r),
                 "input " + unit))
        return std::nullopt;
    }
    auto out = window_q(v, w);
    if (!out) { give_up("the sizes repeat with a period too long to analyse"); return std::nullopt; }
    if (!conv && !bound(*out, 1, SizeSet::kInf, n.name,
                        fmt::format("must give at least 1 output {}: it needs at least {} input {}",
                                    unit.substr(0, unit.size() - 1), std::max<int64_t>(1, span - w.pad_l - w.pad_r), unit),
                        "output " + unit))
      return std::nullopt;
    floor_loss(v, w);
    return out;
  }

  // A layer that needs a number (channels) the analysed dim cannot change:
  // the numeric evaluation already decided it.
  const Row* numeric_row(const std::string& name) {
    for (const auto& r : numeric_.rows)
      if (r.name == name) return &r;
    return nullptr;
  }

  std::optional<Sym> node(const GraphNode& n, const Sym& in) {
    std::optional<Sym> out = std::visit(
        overloaded{
            [&](const Conv& k) -> std::optional<Sym> {
              if (!fits_rank(n.op, in)) return fail_const(n);
              auto [pl, pr] = conv_pads(k);
              int64_t c = in.dims[1].beta[0];
              if ((k.in_channels && *k.in_channels != c) || c % k.groups != 0) return fail_const(n);
              Sym s = in;
              s.dims[1] = QDim::constant(k.out_channels);
              for (std::size_t i = 0; i < k.kernel_size.size(); ++i) {
                Window w{0, k.kernel_size[i], k.stride[i], pl[i], pr[i], k.dilation[i], false};
                if (!window_dim(n, s, 2 + i, w, true)) return std::nullopt;
              }
              return s;
            },
            [&](const MaxPool& m) -> std::optional<Sym> {
              std::vector<std::size_t> whole;
              auto k = kernel_read(n, m, whole);
              if (!k) return std::nullopt;
              return whole_dims(pool(n, in, k->kernel_size, k->stride, k->padding, k->dilation, k->ceil_mode), whole);
            },
            [&](const AvgPool& a) -> std::optional<Sym> {
              std::vector<std::size_t> whole;
              auto k = kernel_read(n, a, whole);
              if (!k) return std::nullopt;
              return whole_dims(pool(n, in, k->kernel_size, k->stride, k->padding, Dims(k->kernel_size.size(), 1),
                                     k->ceil_mode, k->rank == 3), whole);
            },
            [&](const AdaptiveAvgPool& k) { return adaptive(n, in, k.output_size); },
            [&](const AdaptiveMaxPool& k) { return adaptive(n, in, k.output_size); },
            [&](const BatchNorm& k) -> std::optional<Sym> {
              if (!fits_rank(n.op, in)) return fail_const(n);
              if (k.num_features && *k.num_features != in.dims[1].beta[0]) return fail_const(n);
              return in;
            },
            [&](const ReLU&) -> std::optional<Sym> { return in; },
            [&](const Dropout& k) -> std::optional<Sym> {
              if (k.rank == 1 && !k.alpha && in.dims.size() != 2 && in.dims.size() != 3) return fail_const(n);
              return in;
            },
            [&](const InstanceNorm& k) -> std::optional<Sym> {
              if (!fits_rank(n.op, in)) return fail_const(n);
              if (k.num_features && *k.num_features != in.dims[1].beta[0] && (k.affine || k.track_running_stats))
                return fail_const(n);
              return in;
            },
            [&](const GroupNorm& k) -> std::optional<Sym> {
              if (in.dims.size() < 2 || !in.dims[1].is_constant()) return fail_const(n);
              int64_t c = in.dims[1].beta[0];
              if ((k.num_channels && *k.num_channels != c && k.affine) || c % k.num_groups != 0) return fail_const(n);
              return in;
            },
            [&](const LayerNorm& k) -> std::optional<Sym> {
              // The trailing dims must equal normalized_shape: on the analysed dim, an exact size.
              if (in.dims.size() < k.normalized_shape.size()) return fail_const(n);
              for (std::size_t i = 0; i < k.normalized_shape.size(); ++i) {
                const QDim& f = in.dims[in.dims.size() - k.normalized_shape.size() + i];
                int64_t want = k.normalized_shape[i];
                if (f.is_constant() ? f.beta[0] != want
                                    : !bound(f, want, want, n.name, fmt::format("normalises over exactly {}", want), "size"))
                  return f.is_constant() ? fail_const(n) : std::nullopt;
              }
              return in;
            },
            [&](const LocalResponseNorm&) -> std::optional<Sym> {
              if (in.dims.size() < 3) return fail_const(n);
              return in;
            },
            [&](const PReLU& k) -> std::optional<Sym> {
              if (k.num_parameters == 1) return in;
              QDim c = in.dims.size() >= 2 ? in.dims[1] : QDim::constant(1);
              if (c.is_constant() ? c.beta[0] != k.num_parameters
                                  : !bound(c, k.num_parameters, k.num_parameters, n.name,
                                           fmt::format("has {} slopes, one per channel", k.num_parameters), "channels"))
                return c.is_constant() ? fail_const(n) : std::nullopt;
              return in;
            },
            [&](const Softmax& k) -> std::optional<Sym> {
              auto rank = static_cast<int64_t>(in.dims.size());
              if (k.which == Softmax::softmax2d ? rank != 3 && rank != 4
                                                : k.dim && (*k.dim < -std::max<int64_t>(rank, 1) || *k.dim >= std::max<int64_t>(rank, 1)))
                return fail_const(n);
              return in;
            },
            [&](const Unflatten& k) { return unflatten(n, k, in); },
            [&](const Slice& k) { return slice(n, k, in); },
            [&](const Narrow& k) -> std::optional<Sym> {
              auto rank = static_cast<int64_t>(in.dims.size());
              int64_t dim = k.dim < 0 ? k.dim + rank : k.dim;
              if (dim < 0 || dim >= rank || k.length < 1) return fail_const(n);
              Sym s = in;
              const QDim& f = in.dims[static_cast<std::size_t>(dim)];
              // A start from the front needs start + length; from the end, −start ≥ length.
              int64_t need = k.start >= 0 ? k.start + k.length : -k.start;
              if (k.start < 0 && k.length > -k.start) return fail_const(n);
              if (f.is_constant() ? f.beta[0] < need
                                  : !bound(f, need, SizeSet::kInf, n.name, fmt::format("narrows to [{}, +{})", k.start, k.length), "size"))
                return f.is_constant() ? fail_const(n) : std::nullopt;
              s.dims[static_cast<std::size_t>(dim)] = QDim::constant(k.length);
              if (in.product && dim == rank - 1) s.product = false;
              return s;
            },
            [&](const Permute& k) { return permute(n, k, in); },
            [&](const Reshape& k) { return k.from_dim.empty() ? reshape(n, k, in) : reshape_read(n, k, in); },
            [&](const Squeeze& k) { return squeeze(n, k, in); },
            [&](const Select& k) { return select(n, k, in); },
            [&](const Reduce& k) { return reduce(n, k, in); },
            [&](const Expand& k) {
              return k.as_other ? expand(n, k.reading(second_ ? second_->dims.size() : 0), in) : expand(n, k, in);
            },
            [&](const Embedding& k) -> std::optional<Sym> {
              Sym s = in;
              s.dims.push_back(QDim::constant(k.embedding_dim));
              s.product = false;
              return s;
            },
            [&](const Parameter& k) -> std::optional<Sym> {
              Sym s;
              for (int64_t d : k.shape) s.dims.push_back(QDim::constant(d));
              return s;
            },
            [&](const Roll& k) -> std::optional<Sym> {
              auto rank = static_cast<int64_t>(in.dims.size());
              if (k.dims.empty() ? k.shifts.size() != 1 : k.shifts.size() != k.dims.size()) return fail_const(n);
              for (int64_t d : k.dims)
                if (d < -rank || d >= rank) return fail_const(n);
              return in;
            },
            [&](const GLU& k) -> std::optional<Sym> {
              auto rank = static_cast<int64_t>(in.dims.size());
              int64_t dim = k.dim < 0 ? k.dim + rank : k.dim;
              if (dim < 0 || dim >= rank) return fail_const(n);
              auto half = divided(n, in.dims[static_cast<std::size_t>(dim)], 2, "halves a dim that must be even");
              if (!half) return std::nullopt;
              Sym s = in;
              s.dims[static_cast<std::size_t>(dim)] = *half;
              return s;
            },
            [&](const Chunk& k) -> std::optional<Sym> {
              auto rank = static_cast<int64_t>(in.dims.size());
              int64_t dim = k.dim < 0 ? k.dim + rank : k.dim;
              if (dim < 0 || dim >= rank) return fail_const(n);
              const QDim& f = in.dims[static_cast<std::size_t>(dim)];
              if (!f.is_constant()) {
                give_up(fmt::format("`{}` chunks a dim that follows the input: ⌈x/{}⌉-sized chunks are not analysed "
                                    "symbolically", n.name, k.chunks));
                return std::nullopt;
              }
              int64_t size = f.beta[0], each = (size + k.chunks - 1) / k.chunks;
              if (k.index >= (size + each - 1) / each) return fail_const(n);
              Sym s = in;
              s.dims[static_cast<std::size_t>(dim)] = QDim::constant(std::min(each, size - k.index * each));
              return s;
            },
            [&](const Pointwise&) -> std::optional<Sym> { return in; },
            [&](const ConvTranspose& k) -> std::optional<Sym> {
              if (!fits_rank(n.op, in)) return fail_const(n);
              int64_t c = in.dims[1].beta[0];
              if ((k.in_channels && *k.in_channels != c) || c % k.groups != 0) return fail_const(n);
              Sym s = in;
              s.dims[1] = QDim::constant(k.out_channels);
              for (std::size_t i = 0; i < k.kernel_size.size(); ++i) {
                TransposedWindow w{0, k.kernel_size[i], k.stride[i], k.padding[i], k.output_padding[i], k.dilation[i]};
                // Affine: s·f(x) + (out at in = 0); still a QDim.
                QDim f = s.dims[2 + i];
                int64_t offset = transposed_output(w);
                f.alpha *= w.stride;
                for (auto& b : f.beta) b = b * w.stride + offset;
                std::string unit = spatial_unit(k.kernel_size.size(), i);
                if (!bound(f, 1, SizeSet::kInf, n.name, fmt::format("must give at least 1 output {}", unit.substr(0, unit.size() - 1)),
                           "output " + unit))
                  return std::nullopt;
                s.dims[2 + i] = f;
              }
              return s;
            },
            [&](const Upsample& k) { return upsample(n, k, in); },
            [&](const Pad& k) -> std::optional<Sym> {
              if (!k.to_other) return pad(n, k, in);
              // To the other value's sizes exactly: whatever the input, the output is that value's.
              auto rank = static_cast<std::size_t>(k.rank);
              if (!second_ || second_->product || in.dims.size() < rank || second_->dims.size() < rank) return fail_const(n);
              Sym s = in;
              for (std::size_t i = 0; i < rank; ++i)
                s.dims[in.dims.size() - 1 - i] = second_->dims[second_->dims.size() - 1 - i];
              return s;
            },
            [&](const PixelShuffle& k) { return pixel_shuffle(n, k, in); },
            [&](const ChannelShuffle& k) -> std::optional<Sym> {
              if (in.dims.size() < 3 || !in.dims[1].is_constant() || in.dims[1].beta[0] % k.groups != 0)
                return fail_const(n);
              return in;
            },
            [&](const Flatten& k) -> std::optional<Sym> {
              auto rank = static_cast<int64_t>(in.dims.size());
              int64_t s = k.start_dim < 0 ? k.start_dim + rank : k.start_dim;
              int64_t e = k.end_dim < 0 ? k.end_dim + rank : k.end_dim;
              if (s < 0 || e >= rank || s > e) return fail_const(n);
              // features = (product of the constant dims) · f(x) when the
              // analysed dim is among them, else a constant.
              int64_t c = 1;
              std::optional<QDim> var;
              for (int64_t i = s; i <= e; ++i) {
                const QDim& d = in.dims[static_cast<std::size_t>(i)];
                if (i == axis_ && !in.product) var = d;
                else if (d.is_constant()) c = checked_mul(c, d.beta[0]).value_or(SizeSet::kInf);
                else var = d;  // a product along an earlier flatten
              }
              Sym out;
              out.dims.assign(in.dims.begin(), in.dims.begin() + s);
              if (var) {
                QDim f = *var;
                // c·f(x) is still a QDim: scale alpha and beta.
                f.alpha *= c;
                for (auto& b : f.beta) b *= c;
                out.dims.push_back(f);
                out.product = true;
              } else {
                out.dims.push_back(QDim::constant(c));
              }
              out.dims.insert(out.dims.end(), in.dims.begin() + e + 1, in.dims.end());
              return out;
            },
            [&](const Linear& k) -> std::optional<Sym> {
              // The built network's in_features: given, or what it got at the spec's input.
              std::optional<int64_t> want = k.in_features;
              if (!want)
                if (const Row* r = numeric_row(n.name); r && !r->input.empty()) want = r->input.back();
              if (want && !bound(in.dims.back(), *want, *want, n.name,
                                 fmt::format("takes exactly {} features", *want), "features"))
                return std::nullopt;
              Sym s = in;
              s.dims.back() = QDim::constant(k.out_features);
              s.product = false;
              return s;
            },
            [&](const Merge&) -> std::optional<Sym> { return std::nullopt; },  // merge()
        },
        n.op);
    if (out) record(n, in, *out);
    return out;
  }

  // add and cat need equal sizes (but for cat's dim, which adds up); mul
  // broadcasts a constant 1. A centre crop makes a size the smaller of two
  // functions of x, which is not a QDim: said so rather than guessed.
  std::optional<Sym> merge(const GraphNode& n, const Merge& m, const std::vector<Sym>& in) {
    if (m.op == MergeOp::matmul) return matmul(n, in[0], in[1]);
    if (m.op == MergeOp::mul || m.broadcast) return broadcast(n, m, in);
    Sym out = in[0];
    for (const auto& x : in)
      if (x.dims.size() != out.dims.size()) return fail_const(n);
    auto rank = static_cast<int64_t>(out.dims.size());
    int64_t dim = m.dim < 0 ? m.dim + rank : m.dim;
    for (std::size_t i = 1; i < in.size(); ++i)
      for (std::size_t d = 0; d < out.dims.size(); ++d) {
        const QDim &a = out.dims[d], &b = in[i].dims[d];
        if (m.op == MergeOp::cat && static_cast<int64_t>(d) == dim) {
          out.dims[d] = sum(a, b);
          continue;
        }
        if (m.op == MergeOp::cat && m.crop && d >= 2) {
          auto least = smaller(a, b);
          if (!least) {
            give_up(fmt::format("`{}` centre-crops to the smaller of two sizes, and which one is smaller "
                                "changes with the input: not analysed symbolically", n.name));
            return std::nullopt;
          }
          out.dims[d] = *least;
          continue;
        }
        const char* what = m.op == MergeOp::add ? "adds two branches whose sizes must agree"
                                                : "concatenates inputs whose other sizes must agree";
        if (!equal(a, b, n.name, what)) return std::nullopt;
      }
    record(n, in[0], out);
    return out;
  }

  // PyTorch's broadcasting, right-aligned: a constant 1 takes the other
  // size, other sizes must agree for every input size.
  std::optional<Sym> broadcast(const GraphNode& n, const Merge& m, const std::vector<Sym>& in) {
    Sym out = in[0];
    for (std::size_t i = 1; i < in.size(); ++i) {
      const auto& b = in[i].dims;
      std::size_t rank = std::max(out.dims.size(), b.size());
      std::vector<QDim> next;
      for (std::size_t k = 0; k < rank; ++k) {
        std::size_t from_end = rank - 1 - k;
        const QDim* x = from_end < out.dims.size() ? &out.dims[out.dims.size() - 1 - from_end] : nullptr;
        const QDim* y = from_end < b.size() ? &b[b.size() - 1 - from_end] : nullptr;
        if (!x || is_one(*x)) {
          if (y && k + 1 == rank) out.product = in[i].product;  // the last dim is now b's
          next.push_back(y ? *y : *x);
          continue;
        }
        if (!y || is_one(*y)) { next.push_back(*x); continue; }
        const char* what = m.op == MergeOp::add ? "adds inputs whose sizes must agree or be 1"
                                                : "multiplies inputs whose sizes must agree or be 1";
        if (!equal(*x, *y, n.name, what)) return std::nullopt;
        next.push_back(*x);
      }
      out.dims = std::move(next);
    }
    record(n, in[0], out);
    return out;
  }

  // torch.matmul: the batch dims broadcast (a constant 1 takes the other
  // size), a's last size must equal b's dim -2 for every input size; 1-D
  // inputs as evaluate.cc.
  std::optional<Sym> matmul(const GraphNode& n, const Sym& a, const Sym& b) {
    std::size_t ra = a.dims.size(), rb = b.dims.size();
    if (ra == 1 && rb == 1) return fail_const(n);
    const QDim& m = a.dims.back();
    const QDim& k = rb == 1 ? b.dims[0] : b.dims[rb - 2];
    std::vector<QDim> ab(a.dims.begin(), a.dims.end() - std::min<std::size_t>(ra, 2)),
        bb(b.dims.begin(), b.dims.end() - std::min<std::size_t>(rb, 2));
    Sym out = a;
    out.dims = ab.size() >= bb.size() ? ab : bb;
    for (std::size_t i = 0; i < std::min(ab.size(), bb.size()); ++i) {
      const QDim &x = ab[ab.size() - 1 - i], &y = bb[bb.size() - 1 - i];
      QDim& at = out.dims[out.dims.size() - 1 - i];
      if (is_one(x)) at = y;
      else if (is_one(y)) at = x;
      else if (!equal(x, y, n.name, "multiplies batches whose sizes must agree or be 1")) return std::nullopt;
      else at = x;
    }
    if (!equal(m, k, n.name, "multiplies matrices whose inner sizes must agree")) return std::nullopt;
    if (ra > 1) out.dims.push_back(a.dims[ra - 2]);
    if (rb > 1) out.dims.push_back(b.dims.back());
    out.product = false;
    record(n, a, out);
    return out;
  }

  static bool is_one(const QDim& q) { return q.is_constant() && q.beta[0] == 1; }

  // min(f, g) when one of them is never larger on the sizes still valid
  // (U-Net: the decoder's map is always the smaller); nullopt otherwise.
  // Later conditions only shrink the valid set, so the answer stays right.
  std::optional<QDim> smaller(const QDim& f, const QDim& g) const {
    int64_t M = std::lcm(std::lcm(f.M, g.M), a_.valid.M);
    if (M > kMaxModulus) return std::nullopt;
    QDim F = f.refined(M / f.M), G = g.refined(M / g.M);
    SizeSet v = refine(a_.valid, M);
    bool f_le = true, g_le = true;
    for (int64_t r = 0; r < M; ++r) {
      auto [lo, hi] = v.k[static_cast<std::size_t>(r)];
      lo = std::max<int64_t>(lo, r == 0 ? 1 : 0);  // x = M·k + r ≥ 1
      if (lo > hi) continue;
      int64_t slope = F.alpha - G.alpha, at = F.beta[static_cast<std::size_t>(r)] - G.beta[static_cast<std::size_t>(r)];
      // f − g at k = lo and at k = hi (or its sign as k grows without bound).
      long double first = static_cast<long double>(slope) * lo + at;
      long double last = hi >= SizeSet::kInf ? (slope > 0 ? 1.0L : slope < 0 ? -1.0L : first)
                                             : static_cast<long double>(slope) * hi + at;
      if (first > 0 || last > 0) f_le = false;
      if (first < 0 || last < 0) g_le = false;
    }
    if (f_le) return f;
    if (g_le) return g;
    return std::nullopt;
  }

  // f + g, itself a QDim on the common modulus.
  static QDim sum(const QDim& f, const QDim& g) {
    int64_t M = std::lcm(f.M, g.M);
    QDim F = f.refined(M / f.M), G = g.refined(M / g.M);
    for (std::size_t r = 0; r < F.beta.size(); ++r) F.beta[r] += G.beta[r];
    F.alpha += G.alpha;
    return F;
  }

  // The other spatial dim is a constant: the formula on a number.
  std::optional<QDim> const_window(const GraphNode& n, const QDim& v, const Window& w, bool conv) {
    Window x = w;
    x.in = v.beta[0];
    WindowResult r = window_output(x);
    if ((conv && r.padded < r.span) || r.out < 1) {
      fail_const(n);
      return std::nullopt;
    }
    return QDim::constant(r.out);
  }

  // Spatial dim `d` of s through a window: the analysed dim symbolically, the others as numbers.
  bool window_dim(const GraphNode& n, Sym& s, std::size_t d, const Window& w, bool conv) {
    auto o = static_cast<int>(d) == axis_ ? spatial(n, s.dims[d], w, conv) : const_window(n, s.dims[d], w, conv);
    if (!o) return false;
    s.dims[d] = *o;
    return true;
  }

  // `unpadded_kernel`: AvgPool3d, whose input must hold the kernel before padding (evaluate.cc).
  std::optional<Sym> pool(const GraphNode& n, const Sym& in, const Dims& k, const Dims& st, const Dims& p,
                          const Dims& d, bool ceil, bool unpadded_kernel = false) {
    if (!fits_rank(n.op, in)) return fail_const(n);
    Sym s = in;
    for (std::size_t i = 0; i < k.size() && unpadded_kernel; ++i) {
      if (static_cast<int>(2 + i) != axis_) {
        if (in.dims[2 + i].beta[0] < k[i]) return fail_const(n);
      } else if (!bound(in.dims[2 + i], k[i], SizeSet::kInf, n.name,
                        fmt::format("needs at least {} input {} for its kernel (avg_pool3d checks the input "
                                    "before padding)", k[i], unit()),
                        "input " + unit())) {
        return std::nullopt;
      }
    }
    for (std::size_t i = 0; i < k.size(); ++i)
      if (!window_dim(n, s, 2 + i, Window{0, k[i], st[i], p[i], p[i], d[i], ceil}, false)) return std::nullopt;
    return s;
  }

  std::optional<Sym> adaptive(const GraphNode& n, const Sym& in, const Dims& size) {
    if (!fits_rank(n.op, in)) return fail_const(n);
    Sym s = in;
    for (std::size_t i = 0; i < size.size(); ++i)
      if (size[i]) s.dims[2 + i] = QDim::constant(size[i]);
    return s;
  }

  // f scaled by an integer: still a QDim (nullopt when it would overflow).
  static std::optional<QDim> scaled(QDim f, int64_t k) {
    auto a = checked_mul(f.alpha, k);
    if (!a) return std::nullopt;
    f.alpha = *a;
    for (auto& b : f.beta) {
      auto v = checked_mul(b, k);
      if (!v) return std::nullopt;
      b = *v;
    }
    return f;
  }

  std::optional<Sym> upsample(const GraphNode& n, const Upsample& k, const Sym& in) {
    int needs = k.mode == Interp::linear ? 3 : k.mode == Interp::bilinear || k.mode == Interp::bicubic ? 4
              : k.mode == Interp::trilinear ? 5 : 0;
    const std::size_t rank = in.dims.size();
    std::size_t given = k.size.empty() ? k.scale.size() : k.size.size();
    if (in.product || rank < 3 || rank > 5 || (needs && static_cast<int>(rank) != needs) ||
        (!k.size_from && given != 1 && given != rank - 2))
      return fail_const(n);
    if (k.size_from) {  // the other value's spatial sizes, exactly
      if (!second_ || second_->product || second_->dims.size() != rank) return fail_const(n);
      Sym s = in;
      for (std::size_t d = 2; d < rank; ++d) s.dims[d] = second_->dims[d];
      return s;
    }
    Sym s = in;
    for (std::size_t d = 0; d + 2 < rank; ++d) {
      QDim& f = s.dims[2 + d];
      if (!k.size.empty()) { f = QDim::constant(k.size[given == 1 ? 0 : d]); continue; }
      double sc = k.scale[given == 1 ? 0 : d];
      if (f.is_constant()) {  // a dim this analysis holds fixed: the formula on a number
        double v = std::floor(static_cast<double>(f.beta[0]) * sc);
        if (!(v >= 1 && v < 9.2e18)) return fail_const(n);
        f = QDim::constant(static_cast<int64_t>(v));
      } else if (sc == std::floor(sc) && sc <= 1e9) {  // ⌊x·k⌋ = k·x
        auto g = scaled(f, static_cast<int64_t>(sc));
        if (!g) { give_up("the sizes grow past 64 bits"); return std::nullopt; }
        f = *g;
      } else {
        give_up(fmt::format("`{}` scales by {}, not a whole number: ⌊{}·{}⌋ is not analysed symbolically "
                            "(`netshape check` at a given size is exact)", n.name, sc, a_.dim, sc));
        return std::nullopt;
      }
    }
    return s;
  }

  // Each padded dim grows by its two sizes; reflection needs more input than padding.
  std::optional<Sym> pad(const GraphNode& n, const Pad& k, const Sym& in) {
    const auto rank = static_cast<std::size_t>(k.rank);
    bool fits = k.mode == PadMode::constant ? in.dims.size() >= rank : in.dims.size() == rank + 2 && !in.product;
    if (!fits) return fail_const(n);
    Sym s = in;
    for (std::size_t i = 0; i < rank; ++i) {
      QDim& f = s.dims[in.dims.size() - 1 - i];
      int64_t before = k.pads[2 * i], after = k.pads[2 * i + 1];
      std::string unit = in.dims.size() - 1 - i == static_cast<std::size_t>(axis_) ? this->unit() : "positions";
      if (k.mode == PadMode::reflect) {
        int64_t need = std::max(before, after) + 1;
        if (f.is_constant() ? f.beta[0] < need
                            : !bound(f, need, SizeSet::kInf, n.name,
                                     fmt::format("needs at least {} input {} to reflect a padding of {}", need, unit,
                                                 need - 1),
                                     "input " + unit))
          return f.is_constant() ? fail_const(n) : std::nullopt;
      }
      int64_t crop = -std::min<int64_t>(before, 0) - std::min<int64_t>(after, 0);  // taken before padding (evaluate.cc)
      if (crop > 0 && (f.is_constant() ? f.beta[0] < crop
                                       : !bound(f, crop, SizeSet::kInf, n.name,
                                                fmt::format("crops {} {}: it needs at least that many", crop, unit),
                                                "input " + unit)))
        return f.is_constant() ? fail_const(n) : std::nullopt;
      for (auto& b : f.beta) b += before + after;
      if (before + after < 0 && (f.is_constant() ? f.beta[0] < 1
                                                 : !bound(f, 1, SizeSet::kInf, n.name,
                                                          fmt::format("must keep at least 1 {} after cropping",
                                                                      unit.substr(0, unit.size() - 1)),
                                                          "output " + unit)))
        return f.is_constant() ? fail_const(n) : std::nullopt;
    }
    return s;
  }

  // f(x) / r where f(x) must be a multiple of r: refined by r, f(x) mod r is
  // fixed on every residue class, and the classes where it is not 0 go.
  std::optional<QDim> divided(const GraphNode& n, const QDim& f, int64_t r, const std::string& what) {
    if (f.is_constant()) {
      if (f.beta[0] % r != 0) return fail_const(n);
      return QDim::constant(f.beta[0] / r);
    }
    auto fm = checked_mul(f.M, r);
    if (!fm || *fm > kMaxModulus) { give_up("the sizes repeat with a period too long to analyse"); return std::nullopt; }
    int64_t M = std::lcm(std::lcm(*fm, a_.valid.M), a_.clean.M);
    if (M > kMaxModulus) { give_up("the sizes repeat with a period too long to analyse"); return std::nullopt; }
    QDim g = f.refined(M / f.M);
    narrow(n.name, what, [&](SizeSet& s) {
      s = refine(s, M);
      for (int64_t q = 0; q < M; ++q)
        if (g.beta[static_cast<std::size_t>(q)] % r != 0) s.k[static_cast<std::size_t>(q)] = {SizeSet::kInf, -SizeSet::kInf};
    });
    g.alpha /= r;  // a multiple of r: M / f.M is
    for (auto& b : g.beta) b = floor_div(b, r);
    return g;
  }

  std::optional<Sym> pixel_shuffle(const GraphNode& n, const PixelShuffle& k, const Sym& in) {
    const std::size_t rank = in.dims.size();
    if (in.product || rank < 4 || !in.dims[rank - 3].is_constant()) return fail_const(n);
    int64_t r2 = k.factor * k.factor, c = in.dims[rank - 3].beta[0];
    Sym s = in;
    if (!k.unshuffle) {
      if (c % r2 != 0) return fail_const(n);
      s.dims[rank - 3] = QDim::constant(c / r2);
      for (std::size_t d : {rank - 2, rank - 1}) {
        auto g = scaled(in.dims[d], k.factor);
        if (!g) { give_up("the sizes grow past 64 bits"); return std::nullopt; }
        s.dims[d] = *g;
      }
      return s;
    }
    s.dims[rank - 3] = QDim::constant(c * r2);
    for (std::size_t d : {rank - 2, rank - 1}) {
      auto g = divided(n, in.dims[d], k.factor,
                       fmt::format("needs the {} divisible by {}", d == rank - 2 ? "height" : "width", k.factor));
      if (!g) return std::nullopt;
      s.dims[d] = *g;
    }
    return s;
  }

  // A permutation moves dims; one that moves a dim following the input is
  // not analysed (the rows' closed forms read the analysed dim in place).
  std::optional<Sym> permute(const GraphNode& n, const Permute& k, const Sym& in) {
    auto rank = static_cast<int64_t>(in.dims.size());
    std::vector<int64_t> order(in.dims.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int64_t>(i);
    auto wrap = [&](int64_t d) { return d < 0 ? d + rank : d; };
    if (k.transpose) {
      int64_t a = wrap(k.dim0), b = wrap(k.dim1);
      if (a < 0 || a >= rank || b < 0 || b >= rank) return fail_const(n);
      std::swap(order[static_cast<std::size_t>(a)], order[static_cast<std::size_t>(b)]);
    } else {
      if (static_cast<int64_t>(k.dims.size()) != rank) return fail_const(n);
      std::vector<bool> seen(order.size());
      for (std::size_t i = 0; i < order.size(); ++i) {
        int64_t d = wrap(k.dims[i]);
        if (d < 0 || d >= rank || seen[static_cast<std::size_t>(d)]) return fail_const(n);
        seen[static_cast<std::size_t>(d)] = true;
        order[i] = d;
      }
    }
    Sym s = in;
    // A dim of an in-place shape of the input's rank may move: the analysed
    // dim's place is kept in `moved` (the other dims are functions of it too).
    bool placed = in.dims.size() == rank_ && !in.product;
    int at = in.moved >= 0 ? in.moved : axis_;
    for (std::size_t i = 0; i < order.size(); ++i) {
      const QDim& from = in.dims[static_cast<std::size_t>(order[i])];
      bool moves = order[i] != static_cast<int64_t>(i);
      bool follows = !from.is_constant() || (in.product && static_cast<std::size_t>(order[i]) == order.size() - 1);
      if (placed && order[i] == at) s.moved = static_cast<int>(i) == axis_ ? -1 : static_cast<int>(i);
      if (moves && follows && !placed) {
        // A shape of another rank (ViT's tokens [N, 768, ⌊H/16⌋·⌊W/16⌋] → [N, tokens, 768]): its
        // dims stay functions of the input; only the layers follows_moved() allows come after.
        if (in.dims.size() == rank_) {
          give_up(fmt::format("`{}` moves a dim that follows the input: sizes after it are not analysed", n.name));
          return std::nullopt;
        }
        s.moved = kAway;
      }
      s.dims[i] = from;
    }
    if (s.moved == kAway) s.product = in.product && order.back() == static_cast<int64_t>(order.size()) - 1;
    return s;
  }

  // The output's dims taken from the input's (nullopt: a new size-1 dim). A
  // dim that follows the input must stay where it is: the rows' closed forms
  // read the analysed dim in place.
  std::optional<Sym> picked(const GraphNode& n, const Sym& in, const std::vector<std::optional<std::size_t>>& from) {
    Sym s;
    if (in.moved >= 0) s.moved = kAway;  // a moved dim's place is not tracked through a change of rank
    for (std::size_t i = 0; i < from.size(); ++i) {
      if (!from[i]) { s.dims.push_back(QDim::constant(1)); continue; }
      s.dims.push_back(in.dims[*from[i]]);
      if (*from[i] != i && !in.dims[*from[i]].is_constant()) {
        give_up(fmt::format("`{}` moves a dim that follows the input: sizes after it are not analysed", n.name));
        return std::nullopt;
      }
    }
    for (std::size_t i = 0; i < in.dims.size(); ++i)  // a dropped dim that follows the input
      if (!in.dims[i].is_constant() && std::find(from.begin(), from.end(), std::optional<std::size_t>(i)) == from.end()) {
        give_up(fmt::format("`{}` drops a dim that follows the input: sizes after it are not analysed", n.name));
        return std::nullopt;
      }
    s.product = in.product && !from.empty() && from.back() == in.dims.size() - 1;
    return s;
  }

  std::optional<Sym> squeeze(const GraphNode& n, const Squeeze& k, const Sym& in) {
    auto rank = static_cast<int64_t>(in.dims.size());
    std::vector<std::optional<std::size_t>> from;
    if (k.unsqueeze) {
      int64_t d = *k.dim < 0 ? *k.dim + rank + 1 : *k.dim;
      if (d < 0 || d > rank) return fail_const(n);
      for (int64_t i = 0; i < rank; ++i) {
        if (i == d) from.push_back(std::nullopt);
        from.push_back(static_cast<std::size_t>(i));
      }
      if (d == rank) from.push_back(std::nullopt);
      return picked(n, in, from);
    }
    int64_t only = k.dim ? (*k.dim < 0 ? *k.dim + rank : *k.dim) : -1;
    if (k.dim && (only < 0 || only >= rank)) return fail_const(n);
    for (int64_t i = 0; i < rank; ++i) {
      const QDim& d = in.dims[static_cast<std::size_t>(i)];
      bool candidate = !k.dim || i == only;
      if (candidate && !d.is_constant()) {  // gone at size 1 only: the rank would depend on the size
        give_up(fmt::format("`{}` squeezes a dim that follows the input", n.name));
        return std::nullopt;
      }
      if (!(candidate && d.beta[0] == 1)) from.push_back(static_cast<std::size_t>(i));
    }
    if (from.empty()) return fail_const(n);
    return picked(n, in, from);
  }

  std::optional<Sym> select(const GraphNode& n, const Select& k, const Sym& in) {
    auto rank = static_cast<int64_t>(in.dims.size());
    int64_t d = k.dim < 0 ? k.dim + rank : k.dim;
    if (d < 0 || d >= rank || rank == 1) return fail_const(n);
    const QDim& f = in.dims[static_cast<std::size_t>(d)];
    int64_t need = k.index >= 0 ? k.index + 1 : -k.index;
    if (f.is_constant() ? f.beta[0] < need
                        : !bound(f, need, SizeSet::kInf, n.name, fmt::format("selects entry {}", k.index), "size"))
      return f.is_constant() ? fail_const(n) : std::nullopt;
    std::vector<std::optional<std::size_t>> from;
    for (int64_t i = 0; i < rank; ++i)
      if (i != d) from.push_back(static_cast<std::size_t>(i));
    Sym s = in;  // the selected dim is read, then dropped
    s.dims[static_cast<std::size_t>(d)] = QDim::constant(1);
    return picked(n, s, from);
  }

  std::optional<Sym> reduce(const GraphNode& n, const Reduce& k, const Sym& in) {
    auto rank = static_cast<int64_t>(in.dims.size());
    std::vector<bool> gone(in.dims.size());
    for (int64_t dim : k.dims) {
      int64_t d = dim < 0 ? dim + rank : dim;
      if (d < 0 || d >= rank || gone[static_cast<std::size_t>(d)]) return fail_const(n);
      gone[static_cast<std::size_t>(d)] = true;
    }
    Sym s = in;  // a reduced dim, whatever its size, is gone (or 1)
    std::vector<std::optional<std::size_t>> from;
    for (std::size_t i = 0; i < gone.size(); ++i) {
      if (gone[i]) s.dims[i] = QDim::constant(1);
      if (!gone[i]) from.push_back(i);
      else if (k.keepdim) from.push_back(std::nullopt);
    }
    if (from.empty()) return fail_const(n);
    return picked(n, s, from);
  }

  // A pool's kernel read from another value: its sizes there where they are
  // constant. A pool over the whole of a dim that varies — its own input's
  // dim, no padding, the stride the kernel (F.avg_pool2d(x, x.size(3)) along
  // W) — gives ⌊(W − W)/W⌋ + 1 = 1 there for every W: `whole` lists those,
  // pooled as 1 × 1 windows and set to 1 after. Anything else is not analysed.
  template <class Pool> std::optional<Pool> kernel_read(const GraphNode& n, const Pool& k, std::vector<std::size_t>& whole) {
    if (k.read.from_dim.empty()) return k;
    Pool c = k;
    auto rank = static_cast<int64_t>(second_ ? second_->dims.size() : 0);
    for (std::size_t i = 0; i < c.read.from_dim.size(); ++i) {
      if (!c.read.from_dim[i]) continue;
      int64_t d = *c.read.from_dim[i] < 0 ? *c.read.from_dim[i] + rank : *c.read.from_dim[i];
      if (!second_ || second_->product || d < 0 || d >= rank) return fail_const(n);
      const QDim& g = second_->dims[static_cast<std::size_t>(d)];
      if (g.is_constant()) {
        if (g.beta[0] > 2147483647) return fail_const(n);  // over ATen's int (evaluate.cc)
        c.kernel_size[i] = g.beta[0];
        if (c.read.stride_follows) c.stride[i] = g.beta[0];
      } else if (n.inputs[1].value == n.inputs[0].value && d == static_cast<int64_t>(2 + i) && c.padding[i] == 0 &&
                 c.read.stride_follows && undilated(c, i)) {
        c.kernel_size[i] = c.stride[i] = 1;
        whole.push_back(2 + i);
      } else {
        give_up(fmt::format("`{}` pools with a kernel read from a size that follows the input", n.name));
        return std::nullopt;
      }
    }
    return c;
  }

  static bool undilated(const MaxPool& k, std::size_t i) { return k.dilation[i] == 1; }
  static bool undilated(const AvgPool&, std::size_t) { return true; }

  static std::optional<Sym> whole_dims(std::optional<Sym> s, const std::vector<std::size_t>& whole) {
    if (s)
      for (std::size_t d : whole) s->dims[d] = QDim::constant(1);
    return s;
  }

  // x.expand(*sizes), a size read from another value ("x.shape[d]") taken
  // from it exactly.
  std::optional<Sym> expand(const GraphNode& n, const Expand& k, const Sym& in) {
    if (k.sizes.size() < in.dims.size()) return fail_const(n);
    std::size_t lead = k.sizes.size() - in.dims.size();
    Sym s;
    for (std::size_t i = 0; i < k.sizes.size(); ++i) {
      if (i < k.from_dim.size() && k.from_dim[i]) {  // "x.shape[d]": x's size there, exactly
        auto rank = static_cast<int64_t>(second_ ? second_->dims.size() : 0);
        int64_t d = *k.from_dim[i];
        if (!second_ || second_->product || d < -rank || d >= rank) return fail_const(n);
        const QDim& g = second_->dims[static_cast<std::size_t>(d < 0 ? d + rank : d)];
        if (i >= lead && !is_one(in.dims[i - lead]) &&
            !equal(in.dims[i - lead], g, n.name, "expands to a size that must equal the dim it keeps"))
          return std::nullopt;
        s.dims.push_back(g);
        continue;
      }
      if (i < lead) {
        if (k.sizes[i] == -1) return fail_const(n);
        s.dims.push_back(QDim::constant(k.sizes[i]));
        continue;
      }
      const QDim& f = in.dims[i - lead];
      if (k.sizes[i] == -1) { s.dims.push_back(f); continue; }
      if (!f.is_constant()) {  // valid where f(x) is 1 or the size: not one range
        give_up(fmt::format("`{}` expands a dim that follows the input", n.name));
        return std::nullopt;
      }
      if (f.beta[0] != 1 && f.beta[0] != k.sizes[i]) return fail_const(n);
      s.dims.push_back(QDim::constant(k.sizes[i]));
    }
    if (lead > 0)
      for (const auto& d : in.dims)
        if (!d.is_constant()) {
          give_up(fmt::format("`{}` adds dims before a dim that follows the input", n.name));
          return std::nullopt;
        }
    s.product = in.product && k.sizes.back() == -1 && lead == 0;
    return s;
  }

  // x[start:end:step] on one dim: a constant dim as evaluate does it; a dim
  // that follows the input only as x[::step], ⌈f(x)/step⌉ (a window of 1 at
  // that stride).
  std::optional<Sym> slice(const GraphNode& n, const Slice& k, const Sym& in) {
    auto rank = static_cast<int64_t>(in.dims.size());
    int64_t dim = k.dim < 0 ? k.dim + rank : k.dim;
    if (dim < 0 || dim >= rank) return fail_const(n);
    Sym s = in;
    const auto d = static_cast<std::size_t>(dim);
    if (in.dims[d].is_constant()) {
      int64_t len = slice_length(k, in.dims[d].beta[0]);
      if (len < 1) return fail_const(n);
      s.dims[d] = QDim::constant(len);
    } else if (k.start.value_or(0) == 0 && !k.end) {
      if (!window_dim(n, s, d, Window{0, 1, k.step, 0, 0, 1, false}, false)) return std::nullopt;
    } else {
      give_up(fmt::format("`{}` slices a dim that follows the input from {} to {}", n.name,
                          k.start ? std::to_string(*k.start) : "0", k.end ? std::to_string(*k.end) : "the end"));
      return std::nullopt;
    }
    if (in.product && dim == rank - 1) s.product = false;
    return s;
  }

  // A Reshape whose sizes are read from another value (y.view(b, c, 1, 1)):
  // analysed when each size read is constant (the batch, the channels).
  std::optional<Sym> reshape_read(const GraphNode& n, const Reshape& k, const Sym& in) {
    Reshape c = k;
    auto rank = static_cast<int64_t>(second_ ? second_->dims.size() : 0);
    for (std::size_t i = 0; i < c.shape.size(); ++i) {
      if (!c.from_dim[i]) continue;
      int64_t d = *c.from_dim[i];
      if (!second_ || second_->product || d < -rank || d >= rank) return fail_const(n);
      const QDim& g = second_->dims[static_cast<std::size_t>(d < 0 ? d + rank : d)];
      if (!g.is_constant()) {
        give_up(fmt::format("`{}` reshapes to a size read from a dim that follows the input", n.name));
        return std::nullopt;
      }
      c.shape[i] = g.beta[0];
    }
    c.from_dim.clear();
    return reshape(n, c, in);
  }

  // Reshape / View: the element count c·f(x) into new sizes. Analysed when
  // every size is constant, or when the -1 is last (it becomes (c/known)·f(x),
  // features as after a Flatten) or there is no -1 (f(x) must be known/c).
  std::optional<Sym> reshape(const GraphNode& n, const Reshape& k, const Sym& in) {
    int64_t c = 1, known = 1;
    std::optional<QDim> var;
    for (std::size_t i = 0; i < in.dims.size(); ++i) {
      const QDim& d = in.dims[i];
      if (d.is_constant()) c = checked_mul(c, d.beta[0]).value_or(SizeSet::kInf);
      else if (var) { give_up(fmt::format("`{}` reshapes two dims that follow the input", n.name)); return std::nullopt; }
      else var = d;
    }
    for (int64_t x : k.shape)
      if (x != -1) known = checked_mul(known, x).value_or(SizeSet::kInf);
    auto infer = std::find(k.shape.begin(), k.shape.end(), -1);
    Sym s;
    for (int64_t x : k.shape) s.dims.push_back(QDim::constant(x));
    if (!var) {  // every size known: the numeric rule
      bool fits = infer == k.shape.end() ? known == c : known > 0 && c % known == 0;
      if (!fits) return fail_const(n);
      if (infer != k.shape.end()) s.dims[static_cast<std::size_t>(infer - k.shape.begin())] = QDim::constant(c / known);
      return s;
    }
    if (infer == k.shape.end()) {  // c·f(x) = known exactly
      if (known % c != 0) return fail_const(n);
      if (!bound(*var, known / c, known / c, n.name, fmt::format("reshapes exactly {} elements", known), "size"))
        return std::nullopt;
      return s;
    }
    if (infer + 1 != k.shape.end() || known == 0) {
      give_up(fmt::format("`{}` infers a size that is not last from a dim that follows the input", n.name));
      return std::nullopt;
    }
    std::optional<QDim> last;
    if (c % known == 0) last = scaled(*var, c / known);
    else if (known % c == 0) last = divided(n, *var, known / c, fmt::format("needs a multiple of {} elements", known));
    else { give_up(fmt::format("`{}`: {} elements into sizes of {}", n.name, c, known)); return std::nullopt; }
    if (!last) return std::nullopt;
    s.dims.back() = *last;
    s.product = true;
    return s;
  }

  std::optional<Sym> unflatten(const GraphNode& n, const Unflatten& k, const Sym& in) {
    auto rank = static_cast<int64_t>(in.dims.size());
    int64_t dim = k.dim < 0 ? k.dim + rank : k.dim;
    if (dim < 0 || dim >= rank) return fail_const(n);
    int64_t known = 1;
    for (int64_t x : k.sizes)
      if (x != -1) known = checked_mul(known, x).value_or(SizeSet::kInf);
    bool infer = std::find(k.sizes.begin(), k.sizes.end(), -1) != k.sizes.end();
    const QDim& f = in.dims[static_cast<std::size_t>(dim)];
    Sym s;
    s.dims.assign(in.dims.begin(), in.dims.begin() + dim);
    std::optional<QDim> rest;
    if (!infer) {
      if (f.is_constant() ? f.beta[0] != known
                          : !bound(f, known, known, n.name, fmt::format("splits exactly {}", known), "size"))
        return f.is_constant() ? fail_const(n) : std::nullopt;
    } else {
      rest = divided(n, f, known, fmt::format("needs a size divisible by {}", known));
      if (!rest) return std::nullopt;
    }
    for (int64_t x : k.sizes) s.dims.push_back(x == -1 ? *rest : QDim::constant(x));
    s.dims.insert(s.dims.end(), in.dims.begin() + dim + 1, in.dims.end());
    // A product (after Flatten) that is unflattened again is no longer one dim: not followed further.
    s.product = false;
    if (in.product && dim == rank - 1 && infer) s.product = true;
    return s;
  }

  // A failure that no input size can change (a rank or channel error, or the
  // other dim): the set is empty.
  std::nullopt_t fail_const(const GraphNode& n) {
    narrow(n.name, "fails whatever the size (see `netshape check`)", [](SizeSet& s) {
      for (auto& [lo, hi] : s.k) lo = SizeSet::kInf, hi = -SizeSet::kInf;
    });
    return std::nullopt;
  }
};

}  // namespace

void name_shapes(const Spec& spec, Evaluation& ev) {
  if (spec.input_names.empty()) return;
  std::vector<DimAnalysis> dims;
  for (std::size_t axis = 2; axis < spec.input_names.size() && spec.input_names.size() <= 5; ++axis)
    if (!spec.input_names[axis].empty()) {
      dims.push_back(analyse_dim(spec, ev, static_cast<int>(axis)));
      dims.back().dim = spec.input_names[axis];
    }
  // Each dim's forms by node (row) index: the analysis records them in node
  // order, so one walk places them, and naming every shape stays linear.
  const Graph& graph = spec.graph;
  auto by_node = [&](const std::vector<std::pair<std::string, QDim>>& forms) {
    std::vector<const QDim*> out(graph.nodes.size(), nullptr);
    std::size_t j = 0;
    for (const auto& [name, f] : forms) {
      while (j < graph.nodes.size() && graph.nodes[j].name != name) ++j;
      if (j < graph.nodes.size()) out[j] = &f;
    }
    return out;
  };
  std::vector<std::vector<const QDim*>> outputs, inputs;
  for (const auto& a : dims) outputs.push_back(by_node(a.forms)), inputs.push_back(by_node(a.inputs));
  // `row`: the row's index, or -1 for the network's input.
  auto text = [&](const Shape& s, std::ptrdiff_t row, bool output) {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < s.size(); ++i) {
      std::string v = std::to_string(s[i]);
      if (i == 0 && s.size() >= 2 && !spec.input_names[0].empty()) v = spec.input_names[0];
      if (s.size() == spec.input.size() && i >= 2 && row >= 0)
        for (std::size_t k = 0; k < dims.size(); ++k)
          if (dims[k].dim == spec.input_names[i])
            if (const QDim* f = (output ? outputs[k] : inputs[k])[static_cast<std::size_t>(row)])
              v = qdim_text(*f, dims[k].dim);
      out.push_back(v);
    }
    return out;
  };
  // Along the graph: a layer's input is its producer's output, so a form
  // that only a Flatten can make (16·(⌊H/4⌋ − 3)·(⌊W/4⌋ − 3)) reaches the
  // Linear after it.
  const Graph& g = spec.graph;
  std::vector<std::vector<std::string>> value(g.nodes.size() + 1);
  value[0] = text(spec.input, -1, false);
  auto numeric = [](const std::string& s) { return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos; };
  // A name, or one floor or ceiling: a factor needs no parentheses.
  auto atomic = [](const std::string& s) {
    auto starts = [&](const char* p) { return s.rfind(p, 0) == 0; };
    auto ends = [&](const std::string& q) { return s.size() >= q.size() && s.compare(s.size() - q.size(), q.size(), q) == 0; };
    return s.find(' ') == std::string::npos || ((starts("⌊") && ends("⌋") && s.find("⌋") == s.size() - std::string("⌋").size()) ||
                                                (starts("⌈") && ends("⌉") && s.find("⌉") == s.size() - std::string("⌉").size()));
  };
  for (std::size_t i = 0; i < ev.rows.size() && i < g.nodes.size(); ++i) {
    Row& r = ev.rows[i];
    const GraphNode& n = g.nodes[i];
    const auto& from = value[static_cast<std::size_t>(n.inputs[0].value)];
    auto at = static_cast<std::ptrdiff_t>(i);
    r.symbolic_input = from.size() == r.input.size() && r.input.size() != spec.input.size() ? from : text(r.input, at, false);
    if (r.failed) continue;
    if (auto* f = std::get_if<Flatten>(&n.op); f && r.symbolic_input.size() == r.input.size()) {
      auto rank = static_cast<int64_t>(r.input.size());
      int64_t s = f->start_dim < 0 ? f->start_dim + rank : f->start_dim, e = f->end_dim < 0 ? f->end_dim + rank : f->end_dim;
      int64_t constant = 1;
      std::vector<std::string> parts;
      for (int64_t k = s; k <= e; ++k) {
        const std::string& p = r.symbolic_input[static_cast<std::size_t>(k)];
        if (numeric(p)) constant = checked_mul(constant, std::stoll(p)).value_or(0);
        else parts.push_back(atomic(p) ? p : "(" + p + ")");
      }
      if (!parts.empty() && constant != 1) parts.insert(parts.begin(), std::to_string(constant));
      std::vector<std::string> out(r.symbolic_input.begin(), r.symbolic_input.begin() + s);
      out.push_back(parts.empty() ? std::to_string(constant) : fmt::format("{}", fmt::join(parts, "·")));
      out.insert(out.end(), r.symbolic_input.begin() + e + 1, r.symbolic_input.end());
      r.symbolic_output = out;
    } else if (auto* ex = std::get_if<Expand>(&n.op); ex && n.inputs.size() > 1 &&
                                                          (ex->as_other || ex->from_dim.size() == r.output.size())) {
      // A size read from another value is that value's form (ViT: the class token over the batch, N).
      const Expand read = ex->as_other ? ex->reading(r.output.size()) : *ex;
      const Expand* x = &read;
      const auto& other = value[static_cast<std::size_t>(n.inputs[1].value)];
      r.symbolic_output.clear();
      for (std::size_t k = 0; k < r.output.size(); ++k) {
        std::optional<int64_t> d = x->from_dim[k];
        auto rank = static_cast<int64_t>(other.size());
        auto at = d ? (*d < 0 ? *d + rank : *d) : -1;
        r.symbolic_output.push_back(d && at >= 0 && at < rank ? other[static_cast<std::size_t>(at)] : std::to_string(r.output[k]));
      }
    } else if (std::holds_alternative<Parameter>(n.op)) {
      // Its own sizes: a learned tensor has no batch (class_token [1, 1, 768], never [N, 1, 768]).
      r.symbolic_output.clear();
      for (int64_t d : r.output) r.symbolic_output.push_back(std::to_string(d));
    } else if (auto* p = std::get_if<Permute>(&n.op); p && r.symbolic_input.size() == r.input.size() &&
                                                          r.output.size() == r.input.size() &&
                                                          r.output.size() != spec.input.size()) {
      // The forms move with their dims (ViT's tokens: [N, 768, ⌊H/16⌋·⌊W/16⌋] → [N, ⌊H/16⌋·⌊W/16⌋, 768]).
      auto rank = static_cast<int64_t>(r.input.size());
      auto wrap = [&](int64_t d) { return static_cast<std::size_t>(d < 0 ? d + rank : d); };
      r.symbolic_output = r.symbolic_input;
      if (p->transpose) std::swap(r.symbolic_output[wrap(p->dim0)], r.symbolic_output[wrap(p->dim1)]);
      else
        for (std::size_t k = 0; k < p->dims.size(); ++k) r.symbolic_output[k] = r.symbolic_input[wrap(p->dims[k])];
    } else if (r.output.size() != spec.input.size() && r.output.size() == r.symbolic_input.size()) {
      // A Linear or an element-wise layer on a flattened map: the dims it
      // keeps keep their forms; the one it sets is a number.
      r.symbolic_output = r.symbolic_input;
      for (std::size_t k = 0; k < r.output.size(); ++k)
        if (r.output[k] != r.input[k]) r.symbolic_output[k] = std::to_string(r.output[k]);
    } else {
      r.symbolic_output = text(r.output, at, true);
    }
    value[i + 1] = r.symbolic_output;
  }
}

DimAnalysis analyse_dim(const Spec& spec, const Evaluation& numeric, int axis) {
  DimAnalysis a;
  std::size_t rank = spec.input.size();
  if (rank < 3 || rank > 5 || axis < 2 || static_cast<std::size_t>(axis) >= rank) {
    a.dim = "X";
    a.error = "sizes needs an input [N, C, L], [N, C, H, W] or [N, C, D, H, W]";
    a.valid.k[0] = {SizeSet::kInf, -SizeSet::kInf};
    return a;
  }
  a.dim = spatial_letter(rank - 2, static_cast<std::size_t>(axis) - 2);
  a.axis = axis;
  a.unit = spatial_unit(rank - 2, static_cast<std::size_t>(axis) - 2);
  Walker w(a, numeric, axis, rank);
  Walker::Sym in;
  for (std::size_t d = 0; d < rank; ++d)
    in.dims.push_back(static_cast<int>(d) == axis ? QDim::identity() : QDim::constant(spec.input[d]));
  w.run(spec.graph, in);
  return a;
}

}  // namespace netshape
