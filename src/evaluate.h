// evaluate: a parsed Spec -> the shape after every layer, parameter counts,
// and the diagnostics that need shapes (channel mismatches, kernels larger than
// their input, residual adds that do not line up). Knows nothing about JSON
// text or terminals. Stops at the first layer that fails: shapes after it are
// unknown, and the rows so far are still reported.
#pragma once
#include <optional>
#include <unordered_map>
#include <string>
#include <vector>

#include "diagnostic.h"
#include "network.h"

namespace netshape {

struct Row {
  std::string name;       // dotted layer name; for a merge, its container's (a Residual's add)
  std::string type;       // "Conv2d", ..., or "add" / "cat" / "mul" for a merge
  std::string pointer;    // JSON Pointer of the layer
  std::string arguments;  // "k=7 s=2 p=3" and the like
  Shape input, output;    // output is empty when the layer failed; input: a merge's first
  std::vector<Shape> inputs;  // a merge's every input, in order (empty for other layers)
  std::string from;       // the layer its input came from, when the spec said `from`
  Shape read_from;        // the shape of the value whose sizes it reads (size_from), when it reads one
  // With a named input: the shapes with closed forms ("⌈H/32⌉"); else empty.
  std::vector<std::string> symbolic_input, symbolic_output;
  int64_t params = 0;     // trainable parameters (weights and biases)
  // Elements a kind allocates beside its input and output while it runs
  // (LocalResponseNorm's padded square); -1: more than 64 bits hold.
  int64_t scratch_elements = 0;
  bool failed = false;
  // Filled by analyse() (analysis.h) on rows that did not fail:
  int64_t buffers = 0;            // BatchNorm running statistics
  int64_t macs = 0;               // multiply-accumulates, docs/analysis.md
  int64_t activation_bytes = 0;   // the output, float32
  struct Field { int64_t size = 0, jump = 0; double start = 0; };
  std::optional<std::vector<Field>> receptive_field;  // one per spatial dim; none once global or uneven
};

struct Evaluation {
  std::vector<Row> rows;  // one per graph node (Spec::graph), in order, up to the first failure
  Diagnostics diagnostics;
  std::optional<Shape> output;       // the (first) output
  std::vector<Shape> outputs;        // every output (`outputs` in the spec), when valid
  int64_t params = 0;
  int64_t buffers = 0, macs = 0;     // totals (analysis.h)
  int64_t peak_activation_bytes = 0; // the most live float32 activations at once
  // Row name -> position, built by find_row on first use.
  mutable std::unordered_map<std::string, std::size_t> index;
  bool valid() const { return output.has_value() && !diagnostics.has_errors(); }
};

// Slice's length on a dim of `size` (Python's len(range(start, end, step))
// after clamping), and its arguments as Python writes them ("[::2]").
std::pair<int64_t, int64_t> slice_bounds(const Slice& k, int64_t size);  // [start, end) clamped
int64_t slice_length(const Slice& k, int64_t size);
std::string slice_text(const Slice& k);

// Sizes as code writes them, a size read from another value (`from_dim`) as
// "y.shape[0]" (`label` names y); `as_other`: x.expand_as(y), "as y".
std::string sizes_text(const Shape& sizes, const std::vector<std::optional<int64_t>>& from_dim,
                       const std::string& label, bool as_other = false);

// The shapes and parameter counts, row by row, and the diagnostics that need
// shapes. pipeline.h's evaluate() runs this and then analyse().
Evaluation evaluate_shapes(const Spec& spec);

// Bytes a float32 forward pass needs, estimated from the symbolic shapes
// before anything is allocated: parameters plus BatchNorm statistics, and
// three times the largest activation (a residual block's input, the tensor
// being read and the one being written), or a kind's own intermediates with
// its input and output where they are more (LocalResponseNorm's padded
// square is the one such kind; convolution backends' workspaces are not
// counted). nullopt: it overflows 64 bits.
std::optional<int64_t> forward_memory_estimate(const Evaluation& ev, const Shape& input);

// Whether the network's input holds token indices: an Embedding reads it,
// directly or through reshapes. netshape keeps no dtypes; this is the one
// place an integer tensor is told apart (`run` feeds it zeros of int64).
bool input_holds_indices(const Graph& g);

// The row with this name (a merge's row has its container's name).
const Row* find_row(const Evaluation& ev, const std::string& name);

// "3" for (3, 3), "(3, 1)" otherwise, as PyTorch prints a _pair / _triple.
std::string dims_text(const Dims& v);
// "[N, C, L]", "[N, C, H, W]", "[N, C, D, H, W]": what a kind of this rank takes.
std::string shape_form(int rank);

// "[1, 64, 56, 56]", as torch.Size prints it.
std::string format_shape(const Shape& s);

}  // namespace netshape
