#include "graph.h"

#include <fmt/format.h>

#include "kinds.h"
#include "text.h"

namespace netshape {
namespace {

// DOT string literal, controls escaped (printable): a spec's name or a file
// name must not reach a terminal raw through `netshape graph`.
std::string quote(const std::string& raw) {
  std::string out = "\"", s = printable(raw, true);
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') { out += "\\n"; continue; }
    out += c;
  }
  return out + "\"";
}

const char* merge_symbol(MergeOp op) {
  static const char* const symbols[] = {"+", "cat", "×", "@"};
  return symbols[static_cast<int>(op)];
}

// Clusters follow the spec's containers (the nesting the user wrote); every
// edge comes from the graph, so skips (`from`) and merges are drawn as they
// are computed.
class Dot {
 public:
  Dot(const Spec& spec, const Evaluation& ev) : g_(spec.graph), ev_(ev) {}
  std::string out;

  void list(const Layers& layers, int depth) {
    for (const auto& n : layers) node(n, depth);
  }

  // Every edge of the graph, after all clusters: an edge inside one would pull its ends in.
  void edges() {
    for (std::size_t i = 0; i < g_.nodes.size(); ++i) {
      const GraphNode& n = g_.nodes[i];
      bool merge = std::holds_alternative<Merge>(n.op);
      const Row* row = i < ev_.rows.size() ? &ev_.rows[i] : nullptr;
      bool failed = row && row->failed;
      const KindInfo* kind = find_kind(op_name(n.op));
      if (kind && kind->source) continue;  // a Parameter reads nothing
      for (std::size_t k = 0; k < n.inputs.size(); ++k) {
        const Input& x = n.inputs[k];
        std::string attrs;
        if (merge && !leaf_merge(i)) attrs = branch_attrs(n, x, failed);
        else if (k > 0 && !merge) attrs = " [style=dotted, label=\"size of\"]";  // size_from: only its sizes are read
        else if (n.has_from) attrs = " [style=dashed, label=\"from\"]";
        out += fmt::format("  {} -> {}{};\n", quote(id(x.value)), quote(id(value_of(i))), attrs);
      }
    }
  }

 private:
  const Graph& g_;
  const Evaluation& ev_;

  // An Add/Cat/Mul layer (with `from`), as opposed to a container's merge.
  bool leaf_merge(std::size_t i) const { return g_.nodes[i].has_from; }

  // The DOT id of a value. Ids live in their own namespace so that no layer
  // name can collide with another node (a layer named `input`): "I" is the
  // input, "L:name" a layer, "M:name" a container's merge.
  std::string id(int v) const {
    if (v == 0) return "I";
    const GraphNode& n = g_.nodes[static_cast<std::size_t>(v - 1)];
    if (std::holds_alternative<Merge>(n.op) && !n.has_from) return "M:" + n.name;
    return "L:" + n.name;
  }

  std::string shape_of(int v) const {
    if (v == 0) return "";
    std::size_t i = static_cast<std::size_t>(v - 1);
    if (i >= ev_.rows.size() || ev_.rows[i].failed || ev_.rows[i].output.empty()) return "";
    return format_shape(ev_.rows[i].output);
  }

  std::string branch_attrs(const GraphNode& n, const Input& x, bool failed) const {
    std::string red = failed ? ", color=red, fontcolor=red, penwidth=2" : "";
    if (x.identity) {
      // The identity edge shows the block's input shape.
      std::string s;
      auto at = static_cast<std::size_t>(&n - g_.nodes.data());
      if (at < ev_.rows.size() && !ev_.rows[at].inputs.empty()) s = format_shape(ev_.rows[at].inputs[static_cast<std::size_t>(&x - n.inputs.data())]);
      return fmt::format(" [label={}, style=dashed{}]", quote("identity" + (s.empty() ? "" : "\n" + s)), red);
    }
    std::string s = shape_of(x.value);
    return fmt::format(" [label={}{}]", quote(x.label + (s.empty() ? "" : "\n" + s)), red);
  }

  std::string indent(int depth) const { return std::string(static_cast<std::size_t>(2 * depth + 2), ' '); }

  void node(const Node& n, int depth) {
    if (auto* s = std::get_if<Sequential>(&n.kind)) {
      out += fmt::format("{}subgraph {} {{\n{}  label={}; style=rounded; color=gray60;\n", indent(depth),
                         quote("cluster_" + n.name), indent(depth), quote(n.name));
      list(s->layers, depth + 1);
      out += indent(depth) + "}\n";
      return;
    }
    if (auto* b = std::get_if<Branches>(&n.kind)) {
      out += fmt::format("{}subgraph {} {{\n{}  label={}; style=rounded; color=gray80;\n", indent(depth),
                         quote("cluster_" + n.name), indent(depth), quote(n.name + (n.block.empty() ? "" : " (" + n.block + ")")));
      for (const auto& br : b->branches) {
        if (b->residual || br.layers.empty()) { list(br.layers, depth + 1); continue; }
        // Branches side by side, each in its own box.
        out += fmt::format("{}  subgraph {} {{\n{}    label={}; style=dashed; color=gray70;\n", indent(depth),
                           quote("cluster_" + n.name + "." + br.name), indent(depth), quote(br.name));
        list(br.layers, depth + 2);
        out += indent(depth) + "  }\n";
        if (!b->merged) break;
      }
      if (b->merged) merge_node(n, b->merge.op, depth + 1);
      list(b->after, depth + 1);
      out += indent(depth) + "}\n";
      return;
    }
    if (auto* m = std::get_if<Merge>(&n.kind)) {
      merge_node(n, m->op, depth, /*leaf=*/true);
      return;
    }
    const Row* row = find_row(ev_, n.name);
    std::string label = n.name + " · " + kind_name(n.kind);
    if (row && !row->arguments.empty()) label += " " + row->arguments;
    std::string attrs;
    if (!row) {
      label += "\nnot reached";
      attrs = ", style=dashed, color=gray50, fontcolor=gray50";
    } else if (row->failed) {
      label += "\n✗ error";
      attrs = ", color=red, fontcolor=red";
    } else {
      label += "\n" + format_shape(row->output);
    }
    out += fmt::format("{}{} [label={}{}];\n", indent(depth), quote("L:" + n.name), quote(label), attrs);
  }

  void merge_node(const Node& n, MergeOp op, int depth, bool leaf = false) {
    const Row* row = find_row(ev_, n.name);
    bool failed = row && row->failed;
    std::string head = leaf ? n.name + " · " + merge_name(op) + "\n" : std::string(merge_symbol(op)) + "\n";
    std::string label = !row ? head + "not reached" : failed ? head + "✗ shapes differ" : head + format_shape(row->output);
    std::string id = (leaf ? "L:" : "M:") + n.name;
    out += fmt::format("{}{} [shape=diamond, label={}{}];\n", indent(depth), quote(id), quote(label),
                       failed ? ", color=red, fontcolor=red" : !row ? ", style=dashed, color=gray50" : "");
  }
};

}  // namespace

std::string graph_dot(const Spec& spec, const Evaluation& ev, const std::string& name) {
  Dot d(spec, ev);
  d.out = fmt::format("digraph {} {{\n  rankdir=TB;\n  node [shape=box, style=rounded, fontname=\"Helvetica\", fontsize=10];\n"
                      "  edge [fontname=\"Helvetica\", fontsize=9];\n  graph [fontname=\"Helvetica\", fontsize=11];\n",
                      quote(name));
  d.out += fmt::format("  \"I\" [shape=oval, label={}];\n", quote("input\n" + format_shape(spec.input)));
  d.list(spec.layers, 0);
  d.edges();
  d.out += "}\n";
  return d.out;
}

}  // namespace netshape
