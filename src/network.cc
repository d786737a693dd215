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
        if (auto v = resolve(spec_.outputs[i], spec_.outputs_pointer + "/" + std::to_string(i), "", "`outputs`"))
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
      if (auto v = resolve(n.from[0], n.pointer + "/from", n.name, "`from`")) x = *v, label = n.from[0];
    int y = std::visit(
        overloaded{
            [&](const Sequential& s) { return list(s.layers, x); },
            [&](const Branches& b) { return branches(n, b, x); },
            [&](const Shared& s) { return shared(n, s, x); },
            [&](const Merge& m) {
              std::vector<Input> in;
              for (std::size_t i = 0; i < n.from.size(); ++i) {
                std::string at = n.pointer + "/from/" + std::to_string(i);
                if (auto v = resolve(n.from[i], at, n.name, "`from`")) in.push_back({*v, n.from[i], false});
              }
              return add(n, m, std::move(in));
            },
            [&](const auto&) {
              std::vector<Input> in{{x, label, false}};
              if (!n.size_from.empty())
                if (auto v = resolve(n.size_from, n.pointer + size_pointer(n), n.name, "`size_from`"))
                  in.push_back({*v, n.size_from, false});
              return add(n, *leaf_op(n.kind), std::move(in));
            },
        },
        n.kind);
    if (std::holds_alternative<Shared>(n.kind)) return y;  // shared() named it
    if (std::holds_alternative<Sequential>(n.kind) || std::holds_alternative<Branches>(n.kind))
      container(n.name, y);
    else
      g_.modules.push_back({static_cast<int>(g_.nodes.size()) - 1, {}, y});
    return y;
  }

  // `shares`: the module `s.module` again on input x. Its subtree is lowered
  // once more under this layer's name, each node marked with the node whose
  // module it calls; the names it adds serve `from`, not named_modules().
  int shared(const Node& n, const Shared& s, int x) {
    if (tree_.empty()) index_tree(spec_.layers);
    auto at = tree_.find(s.module);
    const Node* orig = at == tree_.end() ? nullptr : at->second;
    auto finished = resolve(s.module, n.pointer + "/shares", n.name, "`shares`");
    if (!finished) return x;
    if (!orig || orig == &n) {
      ok_ = false;
      auto& d = diags_.error("bad-reference", fmt::format("`shares` names `{}`, which is not a module", s.module),
                             n.pointer + "/shares", n.name);
      d.help = "name an earlier layer or container, as the table names it";
      return x;
    }
    if (std::holds_alternative<Merge>(orig->kind)) {
      ok_ = false;
      auto& d = diags_.error("bad-reference",
                             fmt::format("`{}` shares `{}`, which merges its inputs ({}): a merge has no module "
                                         "to call again", n.name, s.module, kind_name(orig->kind)),
                             n.pointer + "/shares", n.name);
      d.help = "write another Add, Cat or Mul with its own `from`";
      return x;
    }
    Node copy = renamed(*orig, orig->name, n.name, n.pointer);
    copy.from.clear();  // its input is this layer's
    std::size_t first = g_.nodes.size(), modules = g_.modules.size();
    int y = node(copy, x);
    for (std::size_t k = first; k < g_.nodes.size(); ++k) {
      if (g_.nodes[k].shares >= 0) continue;  // a `shares` inside the copy: already its module's
      int t = node_index(orig->name + g_.nodes[k].name.substr(n.name.size()));
      while (t >= 0 && g_.nodes[static_cast<std::size_t>(t)].shares >= 0) t = g_.nodes[static_cast<std::size_t>(t)].shares;
      g_.nodes[k].shares = t;
    }
    for (std::size_t k = modules; k < g_.modules.size(); ++k) g_.modules[k].shared = true;
    return y;
  }

  // A copy of `n` whose names (and the names its `from` and `shares` give
  // inside it) start with `to` instead of `from`, every pointer `pointer`.
  static Node renamed(const Node& n, const std::string& from, const std::string& to, const std::string& pointer) {
    auto move = [&](const std::string& name) {
      bool inside = name == from || name.compare(0, from.size() + 1, from + ".") == 0;
      return inside ? to + name.substr(from.size()) : name;
    };
    Node c = n;
    c.name = move(n.name);
    c.pointer = pointer;
    for (auto& f : c.from) f = move(f);
    if (!c.size_from.empty()) c.size_from = move(c.size_from);
    std::visit(overloaded{[&](Sequential& s) { for (auto& k : s.layers) k = renamed(k, from, to, pointer); },
                          [&](Branches& b) {
                            for (auto& br : b.branches)
                              for (auto& k : br.layers) k = renamed(k, from, to, pointer);
                            for (auto& k : b.after) k = renamed(k, from, to, pointer);
                          },
                          [&](Shared& s) { s.module = move(s.module); },
                          [](auto&) {}},
               c.kind);
    return c;
  }

  // The node with this name, by a map built as far as needed.
  int node_index(const std::string& name) {
    for (; nodes_indexed_ < g_.nodes.size(); ++nodes_indexed_)
      node_of_.emplace(g_.nodes[nodes_indexed_].name, static_cast<int>(nodes_indexed_));
    auto it = node_of_.find(name);
    return it == node_of_.end() ? -1 : it->second;
  }
  std::unordered_map<std::string, int> node_of_;
  std::size_t nodes_indexed_ = 0;
  // Every layer and container of the tree by name, built at the first `shares`.
  std::unordered_map<std::string, const Node*> tree_;
  void index_tree(const Layers& layers) {
    for (const auto& n : layers) {
      tree_.emplace(n.name, &n);
      if (auto* q = std::get_if<Sequential>(&n.kind)) index_tree(q->layers);
      if (auto* b = std::get_if<Branches>(&n.kind)) {
        for (const auto& br : b->branches) index_tree(br.layers);
        index_tree(b->after);
      }
    }
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

  // Where the spec names the value whose sizes a layer reads.
  static std::string size_pointer(const Node& n) {
    if (auto* e = std::get_if<Expand>(&n.kind))
      for (std::size_t i = 0; i < e->from_dim.size(); ++i)
        if (e->from_dim[i]) return "/sizes/" + std::to_string(i);
    if (auto* r = std::get_if<Reshape>(&n.kind))
      for (std::size_t i = 0; i < r->from_dim.size(); ++i)
        if (r->from_dim[i]) return "/shape/" + std::to_string(i);
    return "/size_from";
  }

  // The value a name stands for where it is used.
  // `what`: the field that names it, for messages ("`from`", "`outputs`", "`shares`").
  std::optional<int> resolve(const std::string& name, const std::string& pointer,
                             const std::string& layer, const char* what) {
    for (; indexed_ < g_.modules.size(); ++indexed_)
      known_[g_.module_name(g_.modules[indexed_])] = g_.modules[indexed_].value;
    if (auto it = known_.find(name); it != known_.end()) return it->second;
    ok_ = false;
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
