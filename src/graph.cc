#include "graph.h"

#include <fmt/format.h>

namespace netshape {
namespace {

// DOT string literal.
std::string quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') { out += "\\n"; continue; }
    out += c;
  }
  return out + "\"";
}

class Dot {
 public:
  Dot(const Evaluation& ev) : ev_(ev) {}
  std::string out;
  std::string edge_lines;  // after every cluster: an edge inside one would pull its ends in

  // Emits `layers` after the nodes `preds`; returns the nodes the next layer follows.
  std::vector<std::string> list(const Layers& layers, std::vector<std::string> preds, int depth) {
    for (const auto& n : layers) preds = node(n, preds, depth);
    return preds;
  }

 private:
  const Evaluation& ev_;

  std::string indent(int depth) const { return std::string(static_cast<std::size_t>(2 * depth + 2), ' '); }

  void edges(const std::vector<std::string>& from, const std::string& to, int depth, const std::string& attrs = "") {
    (void)depth;
    for (const auto& f : from) edge_lines += fmt::format("  {} -> {}{};\n", quote(f), quote(to), attrs);
  }

  std::vector<std::string> node(const Node& n, const std::vector<std::string>& preds, int depth) {
    if (auto* s = std::get_if<Sequential>(&n.kind)) {
      out += fmt::format("{}subgraph {} {{\n{}  label={}; style=rounded; color=gray60;\n", indent(depth),
                         quote("cluster_" + n.name), indent(depth), quote(n.name));
      auto tails = list(s->layers, preds, depth + 1);
      out += indent(depth) + "}\n";
      return tails;
    }
    const Row* row = find_row(ev_, n.name);
    if (auto* r = std::get_if<Residual>(&n.kind)) {
      out += fmt::format("{}subgraph {} {{\n{}  label={}; style=rounded; color=gray80;\n", indent(depth),
                         quote("cluster_" + n.name), indent(depth), quote(n.name + (n.block.empty() ? "" : " (" + n.block + ")")));
      auto body = list(r->body, preds, depth + 1);
      auto shortcut = r->shortcut.empty() ? preds : list(r->shortcut, preds, depth + 1);
      std::string add = n.name + " +";
      bool failed = row && row->failed;
      std::string label = !row ? "+\nnot reached" : failed ? "+\n✗ shapes differ" : "+\n" + format_shape(row->output);
      out += fmt::format("{}  {} [shape=diamond, label={}{}];\n", indent(depth), quote(add), quote(label),
                         failed ? ", color=red, fontcolor=red" : !row ? ", style=dashed, color=gray50" : "");
      auto branch_attr = [&](const std::string& name, const std::string& last) {
        const Row* from = find_row(ev_, last);
        std::string shape = from && !from->failed && !from->output.empty() ? format_shape(from->output) : "";
        return fmt::format(" [label={}{}]", quote(name + (shape.empty() ? "" : "\n" + shape)),
                           failed ? ", color=red, fontcolor=red, penwidth=2" : "");
      };
      for (const auto& b : body) edge_lines += fmt::format("  {} -> {}{};\n", quote(b), quote(add), branch_attr("body", b));
      for (const auto& s : shortcut) {
        // The identity edge shows the block's input shape.
        std::string x;
        for (const auto& rr : ev_.rows)
          if (rr.name.compare(0, n.name.size() + 6, n.name + ".body.") == 0) { x = format_shape(rr.input); break; }
        std::string attr = r->shortcut.empty()
                               ? fmt::format(" [label={}, style=dashed{}]", quote("identity" + (x.empty() ? "" : "\n" + x)),
                                             failed ? ", color=red, fontcolor=red, penwidth=2" : "")
                               : branch_attr("shortcut", s);
        edge_lines += fmt::format("  {} -> {}{};\n", quote(s), quote(add), attr);
      }
      auto tails = list(r->after, {add}, depth + 1);
      out += indent(depth) + "}\n";
      return tails;
    }
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
    out += fmt::format("{}{} [label={}{}];\n", indent(depth), quote(n.name), quote(label), attrs);
    edges(preds, n.name, depth);
    return {n.name};
  }
};

}  // namespace

std::string graph_dot(const Spec& spec, const Evaluation& ev, const std::string& name) {
  Dot d(ev);
  d.out = fmt::format("digraph {} {{\n  rankdir=TB;\n  node [shape=box, style=rounded, fontname=\"Helvetica\", fontsize=10];\n"
                      "  edge [fontname=\"Helvetica\", fontsize=9];\n  graph [fontname=\"Helvetica\", fontsize=11];\n",
                      quote(name));
  d.out += fmt::format("  \"input\" [shape=oval, label={}];\n", quote("input\n" + format_shape(spec.input)));
  d.list(spec.layers, {"input"}, 0);
  d.out += d.edge_lines + "}\n";
  return d.out;
}

}  // namespace netshape
