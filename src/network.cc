#include "network.h"

#include <set>
#include <unordered_map>

#include <fmt/format.h>

#include "json_cursor.h"

namespace netshape {
namespace {

// Every dotted name in the tree, to tell "later" from "unknown".
void collect_names(const Layers& layers, std::set<std::string>& out) {
  for (const auto& n : layers) {
    out.insert(n.name);
    if (auto* s = std::get_if<Sequential>(&n.kind)) collect_names(s->layers, out);
    if (auto* b = std::get_if<Branches>(&n.kind)) {
      for (const auto& br : b->branches) {
        if (!br.layers.empty()) out.insert(n.name + "." + br.name);
        collect_names(br.layers, out);
      }
      if (!b->after.empty()) out.insert(n.name + ".after");
      collect_names(b->after, out);
    }
  }
}

class Lowering {
 public:
  Lowering(Spec& spec, Diagnostics& diags) : spec_(spec), g_(spec.graph), diags_(diags) {}

  bool run() {
    int out = list(spec_.layers, 0);
    if (spec_.outputs.empty()) {
      g_.outputs = {out};
    } else {
      for (std::size_t i = 0; i < spec_.outputs.size(); ++i)
        if (auto v = resolve(spec_.outputs[i], spec_.outputs_pointer + "/" + std::to_string(i), "", false))
          g_.outputs.push_back(*v);
    }
    return ok_;
  }

 private:
  Spec& spec_;
  Graph& g_;
  Diagnostics& diags_;
  // Name -> value of the modules finished so far, filled only when a name is
  // looked up: a spec without `from` pays nothing for it.
  std::unordered_map<std::string, int> known_{{"input", 0}};
  std::size_t indexed_ = 0;  // g_.modules[0, indexed_) are in known_
  bool ok_ = true;

  int list(const Layers& layers, int x) {
    for (const auto& n : layers) x = node(n, x);
    return x;
  }

  void container(const std::string& name, int value) { g_.modules.push_back({-1, name, value}); }

  int add(const Node& n, Op op, std::vector<Input> inputs, bool residual = false) {
    g_.nodes.push_back({n.name, n.pointer, n.block, std::move(op), std::move(inputs), residual,
                        false, !n.from.empty()});
    return value_of(g_.nodes.size() - 1);
  }

  int node(const Node& n, int x) {
    bool merge = std::holds_alternative<Merge>(n.kind);
    std::string label;  // the name `from` gave, as the user wrote it
    if (!n.from.empty() && !merge)
      if (auto v = resolve(n.from[0], n.pointer + "/from", n.name, true)) x = *v, label = n.from[0];
    int y = std::visit(
        overloaded{
            [&](const Sequential& s) { return list(s.layers, x); },
            [&](const Branches& b) { return branches(n, b, x); },
            [&](const Merge& m) {
              std::vector<Input> in;
              for (std::size_t i = 0; i < n.from.size(); ++i) {
                std::string at = n.pointer + "/from/" + std::to_string(i);
                if (auto v = resolve(n.from[i], at, n.name, true)) in.push_back({*v, n.from[i], false});
              }
              return add(n, m, std::move(in));
            },
            [&](const auto&) { return add(n, *leaf_op(n.kind), {{x, label, false}}); },
        },
        n.kind);
    if (std::holds_alternative<Sequential>(n.kind) || std::holds_alternative<Branches>(n.kind))
      container(n.name, y);
    else
      g_.modules.push_back({static_cast<int>(g_.nodes.size()) - 1, {}, y});
    return y;
  }

  int branches(const Node& n, const Branches& b, int x) {
    std::vector<Input> in;
    for (const auto& br : b.branches) {
      int v = list(br.layers, x);
      if (!br.layers.empty()) container(n.name + "." + br.name, v);
      in.push_back({v, br.name, br.layers.empty()});
      if (!b.merged) break;  // "add": false: the first branch alone
    }
    int y = b.merged ? add(n, b.merge, std::move(in), b.residual) : in[0].value;
    if (b.merged) g_.nodes.back().then_after = !b.after.empty();
    int out = list(b.after, y);
    if (!b.after.empty()) container(n.name + ".after", out);
    return out;
  }

  // The value a name stands for where it is used.
  std::optional<int> resolve(const std::string& name, const std::string& pointer,
                             const std::string& layer, bool from) {
    for (; indexed_ < g_.modules.size(); ++indexed_)
      known_[g_.module_name(g_.modules[indexed_])] = g_.modules[indexed_].value;
    if (auto it = known_.find(name); it != known_.end()) return it->second;
    ok_ = false;
    const char* what = from ? "`from`" : "`outputs`";
    std::set<std::string> all;  // every name in the spec: an error is rare, the walk is linear
    collect_names(spec_.layers, all);
    if (all.count(name)) {
      auto& d = diags_.error("bad-reference",
                             fmt::format("{} names `{}`, which is not computed yet here", what, name),
                             pointer, layer);
      d.notes.push_back(layer.size() > name.size() && layer.compare(0, name.size() + 1, name + ".") == 0
                            ? fmt::format("`{}` contains `{}`: its output depends on this layer", name, layer)
                            : fmt::format("`{}` comes later in the spec; layers run in the order written", name));
      d.help = "a layer can take the output of an earlier layer or container, or \"input\"";
      return std::nullopt;
    }
    auto& d = diags_.error("bad-reference", fmt::format("{} names `{}`, but no layer has that name", what, name),
                           pointer, layer);
    std::vector<std::string> names(all.begin(), all.end());
    names.push_back("input");
    if (auto m = did_you_mean(name, names)) d.help = fmt::format("did you mean `{}`?", *m);
    else d.help = "`netshape table` lists every layer's dotted name; \"input\" is the network's input";
    return std::nullopt;
  }
};

}  // namespace

bool lower(Spec& spec, Diagnostics& diags) {
  spec.graph = Graph{};
  return Lowering(spec, diags).run();
}

const Node* find_node(const Layers& layers, const std::string& name) {
  for (const auto& n : layers) {
    if (n.name == name) return &n;
    if (name.compare(0, n.name.size() + 1, n.name + ".") != 0) continue;
    if (auto* s = std::get_if<Sequential>(&n.kind)) return find_node(s->layers, name);
    if (auto* b = std::get_if<Branches>(&n.kind)) {
      for (const auto& br : b->branches)
        if (auto* found = find_node(br.layers, name)) return found;
      if (auto* found = find_node(b->after, name)) return found;
    }
  }
  return nullptr;
}

}  // namespace netshape
