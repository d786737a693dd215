// symbolic: every spatial size as an exact function of an input size x, and
// the exact set of x for which the whole network is valid — derived from the
// spec, not by trying sizes.
//
// Every conv and pool maps ⌊(x + a)/b⌋ to another such floor (for integer c
// and positive n, ⌊(⌊y⌋ + c)/n⌋ = ⌊(y + c)/n⌋), and ceil_mode's last-window
// rule depends only on x mod b. So every size is a QDim:
//     f(x) = alpha·⌊x / M⌋ + beta[x mod M]
// — affine on each residue class of x modulo M — and every validity condition
// (a kernel fits, an output is ≥ 1, two branches agree, a Linear gets its
// in_features) is an interval of ⌊x / M⌋ on each residue class.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "evaluate.h"
#include "formula.h"

namespace netshape {

struct QDim {
  int64_t M = 1, alpha = 1;
  std::vector<int64_t> beta{0};

  static QDim identity() { return {}; }
  static QDim constant(int64_t c) { return {1, 0, {c}}; }
  int64_t at(int64_t x) const;
  bool is_constant() const;
  QDim refined(int64_t factor) const;  // the same function with modulus M·factor
};

// The output-size formula applied to a QDim (window_output, symbolically).
// Fails (nullopt) only when the modulus would grow past a sane bound.
std::optional<QDim> window_q(const QDim& v, const Window& w);

// "⌈H/32⌉", "H + 2", "⌊(H + 1)/4⌋ + 3", "7"; a piecewise function otherwise.
std::string qdim_text(const QDim& f, const std::string& var);

// A set of sizes x ≥ 1: on each residue r of x mod M, x = M·k + r with
// k in [lo, hi] (hi may be unbounded).
struct SizeSet {
  static constexpr int64_t kInf = INT64_MAX / 4;
  int64_t M = 1;
  std::vector<std::pair<int64_t, int64_t>> k{{0, kInf}};

  bool contains(int64_t x) const;
  bool empty() const;
  std::optional<int64_t> smallest() const;
  // The set as ranges and a congruence: x is a member exactly when it lies in
  // one of `ranges` (hi = kInf: unbounded) and x mod `modulus` is one of
  // `residues`. The description with the fewest ranges, then the smallest
  // modulus, is chosen.
  struct Description {
    std::vector<std::pair<int64_t, int64_t>> ranges;
    int64_t modulus = 1;
    std::vector<int64_t> residues{0};
  };
  Description describe() const;
};

// Why the set ends where it does: one condition the network imposes.
struct Constraint {
  std::string layer;
  std::string what;      // "needs at least 7 input rows for its kernel"
  SizeSet after;         // the valid set once this condition is added
  QDim subject;          // the quantity constrained, as a function of x
  std::string noun;      // what `subject` counts: "input rows", "features"
};

struct DimAnalysis {
  std::string dim;            // "L", "D", "H" or "W" (or the input's own name)
  int axis = 2;               // its index in the input shape
  std::string unit = "rows";  // what one step along it is called: "rows", "columns", …
  SizeSet valid, clean;       // clean: valid and no layer leaves input rows unread
  std::vector<Constraint> constraints;
  std::string error;          // the analysis could not be done (and why)
  // Every row's output along this dim, by row name (qdim_text shows it).
  std::vector<std::pair<std::string, QDim>> forms;
  // The input of every row along this dim, by row name.
  std::vector<std::pair<std::string, QDim>> inputs;
};

// Analyses spatial dim `axis` (2, 3 or 4: the index in [N, C, …]) of the
// spec's input; the other spatial dims are held at their values in `spec.input`. `numeric` is the evaluation
// at the spec's own input: Linear layers without in_features keep the value
// they get there, as the built network would.
DimAnalysis analyse_dim(const Spec& spec, const Evaluation& numeric, int axis);

// Fills Row::symbolic_input/symbolic_output: each named dim as its closed form.
void name_shapes(const Spec& spec, Evaluation& ev);

}  // namespace netshape
