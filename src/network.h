// network: the one graph every pass walks.
//
// The parser reads the spec into a tree (containers — Sequential, Residual,
// Branches — hold layers, and give them their dotted names); lower() turns
// that tree into a flat list of nodes in evaluation order, each with the
// values it reads and the one value it writes, as torch.fx and ONNX hold a
// network. A merge (add, cat, mul) is a node with several inputs; `from`
// is an input that is not the previous node's output. No pass after this
// knows what a Residual is: evaluate, analyse, symbolic, explain, graph and
// the LibTorch builder all loop over `Graph::nodes`.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "diagnostic.h"
#include "layers.h"

namespace netshape {

// Value ids: 0 is the network's input; node i writes value i + 1.
inline int value_of(std::size_t node) { return static_cast<int>(node) + 1; }

struct Input {
  int value = 0;
  std::string label;      // a merge's branch: "body", "shortcut", "branch1", or the `from` name
  bool identity = false;  // an empty branch: the container's own input
};

struct GraphNode {
  std::string name;     // the row's name: the layer's, or the container's for its merge
  std::string pointer;  // JSON Pointer of the layer (or container)
  std::string block;    // the block it was instantiated from, if any
  Op op;
  std::vector<Input> inputs;
  bool residual = false;  // the merge of a `Residual`
  bool then_after = false;  // a merge whose container has `after` layers
  bool has_from = false;  // its input was named with `from`
  int shares = -1;        // `shares`: the node whose module this one calls again (its weights)
};

// A named module as named_modules() lists it, containers too: what a forward
// hook on it would see is `value`. A leaf's name is its node's (not copied).
struct Module {
  int node = -1;     // a leaf: its node; -1 for a container
  std::string name;  // a container's dotted name
  int value = 0;
  bool shared = false;  // a second call of an earlier module (`shares`): a name for `from`, not in named_modules()
};

struct Graph {
  std::vector<GraphNode> nodes;  // in evaluation order
  std::vector<Module> modules;   // in the order they finish
  const std::string& module_name(const Module& m) const {
    return m.node >= 0 ? nodes[static_cast<std::size_t>(m.node)].name : m.name;
  }
  std::vector<int> outputs;      // the network's outputs (value ids)
  // The node that writes value `v`; nullptr for the input.
  const GraphNode* producer(int v) const {
    return v <= 0 ? nullptr : &nodes[static_cast<std::size_t>(v - 1)];
  }
  // The name that wrote value `v`: a node's name, or "input".
  std::string producer_name(int v) const { return v <= 0 ? "input" : nodes[static_cast<std::size_t>(v - 1)].name; }
};

// A block as the spec declares it: `netshape export` names a class after it.
struct BlockDef {
  std::string name, description;
  // Each parameter and its default as JSON text (nullopt: required).
  std::vector<std::pair<std::string, std::optional<std::string>>> params;
};

struct Spec {
  std::string name;
  std::string description;
  std::vector<BlockDef> blocks;
  Shape input;
  // A named input dim ("N", "H", "W") is "" here when numeric. Named dims get a
  // representative size in `input` (symbolic.h: resolve_named_input) and
  // closed forms in the table.
  std::vector<std::string> input_names;
  std::string input_pointer = "/input";
  Layers layers;  // the tree as written: containers and names
  // `outputs`: the dotted names of the network's outputs (several heads);
  // empty: the last layer.
  std::vector<std::string> outputs;
  std::string outputs_pointer = "/outputs";
  std::vector<std::string> allow;  // warning codes the spec silences ("allow": [...])
  Graph graph;  // lower(layers): what every pass walks
};

// Lowers `spec.layers` into `spec.graph`. Reports `from` and `outputs` names
// that are unknown, or not yet computed where they are used (a later layer,
// or the container the reference sits in: a graph cannot have a cycle).
// Returns false after reporting.
bool lower(Spec& spec, Diagnostics& diags);

// The layer (or container) with this dotted name in the tree.
const Node* find_node(const Layers& layers, const std::string& name);

}  // namespace netshape
