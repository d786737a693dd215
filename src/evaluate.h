// evaluate: a parsed Spec -> the shape after every layer, parameter counts,
// and the diagnostics that need shapes (channel mismatches, kernels larger than
// their input, residual adds that do not line up). Knows nothing about JSON
// text or terminals. Stops at the first layer that fails: shapes after it are
// unknown, and the rows so far are still reported.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "diagnostic.h"
#include "layers.h"

namespace netshape {

struct Row {
  std::string name;       // dotted layer name; for an add, the Residual's name
  std::string type;       // "Conv2d", ..., or "add" for a residual add
  std::string pointer;    // JSON Pointer of the layer
  std::string arguments;  // "k=7 s=2 p=3" and the like
  Shape input, output;    // output is empty when the layer failed
  // With a named input: the shapes with closed forms ("⌈H/32⌉"); else empty.
  std::vector<std::string> symbolic_input, symbolic_output;
  int64_t params = 0;     // trainable parameters (weights and biases)
  bool failed = false;
  // Filled by analyse() (analysis.h) on rows that did not fail:
  int64_t buffers = 0;            // BatchNorm running statistics
  int64_t macs = 0;               // multiply-accumulates, docs/analysis.md
  int64_t activation_bytes = 0;   // the output, float32
  struct Field { int64_t size = 0, jump = 0; double start = 0; };
  std::optional<std::pair<Field, Field>> receptive_field;  // H, W; none once global or uneven
};

struct Evaluation {
  std::vector<Row> rows;  // every leaf layer and every residual add, in order
  Diagnostics diagnostics;
  std::optional<Shape> output;
  int64_t params = 0;
  int64_t buffers = 0, macs = 0;     // totals (analysis.h)
  int64_t peak_activation_bytes = 0; // the most live float32 activations at once
  bool valid() const { return output.has_value() && !diagnostics.has_errors(); }
};

Evaluation evaluate(const Spec& spec);

// Bytes a float32 forward pass needs, estimated from the symbolic shapes
// before anything is allocated: parameters plus BatchNorm statistics, and
// three times the largest activation (a residual block's input, the tensor
// being read and the one being written). nullopt: it overflows 64 bits.
std::optional<int64_t> forward_memory_estimate(const Evaluation& ev, const Shape& input);

// The layer with this dotted name, and its row (the add, for a Residual).
const Node* find_node(const Layers& layers, const std::string& name);
const Row* find_row(const Evaluation& ev, const std::string& name);

// "3" for (3, 3), "(3, 1)" otherwise, as PyTorch prints a _pair.
std::string pair_text(Pair p);

// "[1, 64, 56, 56]", as torch.Size prints it.
std::string format_shape(const Shape& s);

}  // namespace netshape
