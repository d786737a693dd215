#include "parse.h"

#include <deque>
#include <limits>
#include <map>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "expr.h"
#include "formula.h"
#include "json_cursor.h"
#include "kinds.h"
#include "text.h"

namespace netshape {
namespace {

// 1, 2 or 3 when `type` is the family's 1-d, 2-d or 3-d name; 0 otherwise.
int rank_of(const std::string& type, const char* const (&names)[3]) {
  for (int r = 0; r < 3; ++r)
    if (type == names[r]) return r + 1;
  return 0;
}

// A list argument as --set takes it: "3" when every dim agrees, else "[3, 1]".
std::string list_text(const Dims& v) {
  bool same = std::all_of(v.begin(), v.end(), [&](int64_t x) { return x == v[0]; });
  return same && !v.empty() ? std::to_string(v[0]) : fmt::format("[{}]", fmt::join(v, ", "));
}

// Block arguments, already resolved to the values they stand for.
using Env = std::map<std::string, Cursor>;

std::string join_name(const std::string& prefix, const std::string& local) {
  return prefix.empty() ? local : prefix + "." + local;
}

class Fields;

class Parser {
 public:
  Parser(Diagnostics& diags, std::vector<Override>& overrides)
      : diags_(diags), overrides_(overrides) {}

  // The --set value for this layer's field, if there is one.
  Override* override_for(const std::string& layer, const std::string& field) {
    for (auto& o : overrides_)
      if (o.layer == layer && o.field == field) return &o;
    return nullptr;
  }
  std::vector<std::string> layer_names;  // every layer's dotted name, for --set's "did you mean"

  std::optional<Spec> spec(const Cursor& root);

 private:
  friend class Fields;
  Diagnostics& diags_;
  std::vector<Override>& overrides_;
  const json* blocks_ = nullptr;
  std::vector<std::string> active_blocks_;  // to catch a block that uses itself
  std::size_t layer_count_ = 0;
  bool too_many_ = false;
  // The value a kind's sizes read (Upsample's size_from, Expand's "x.shape[0]"),
  // set while its fields are read and moved into its Node.
  std::string size_from_;

  // A value as it stands for: "$param" becomes the argument, {"if": ...}
  // its chosen branch. nullopt: absent (or an error, already reported).
  std::optional<Cursor> resolve(const Cursor& c, const Env& env, const std::string& layer);
  // "$planes * 4", "$stride == 1 and $in == $out": an integer or a boolean.
  std::optional<Cursor> expression(const Cursor& c, const Env& env, const std::string& layer);
  std::deque<json> computed_;  // values made here (expressions, $index): stable addresses
  std::optional<Layers> layer_list(const Cursor& c, const Env& env, const std::string& prefix);
  std::optional<Node> layer(const Cursor& c, const Env& env, const std::string& name);
  std::optional<Node> instantiate(const Cursor& c, const Env& env, const std::string& name,
                                  const std::string& block);
  std::optional<Kind> resizing_kind(const std::string& type, Fields& f, const Cursor& c, const std::string& name,
                                    bool* ok);
  std::optional<Kind> norm_kind(const std::string& type, Fields& f, const Cursor& c, const std::string& name,
                                bool* ok);
  std::optional<Kind> kind(const std::string& type, const Cursor& c, const Env& env,
                           const std::string& name);
  Merge merge_fields(Fields& f, const Cursor& c, const std::string& name, const std::string& type,
                     bool* ok);
  Embedding embedding(Fields& f, const Cursor& c, const std::string& name, bool* ok);
  std::optional<std::vector<Branch>> branch_list(const Cursor& c, const Env& env,
                                                 const std::string& prefix);
  bool from_field(const Cursor& c, const Env& env, Node& node);
  bool size_of(const Cursor& e, Fields& f, const std::string& name, const char* key, Shape& sizes,
               std::vector<std::optional<int64_t>>& from_dim, bool* ok);
  bool kernel_read(Fields& f, const std::string& name, int rank, Dims& kernel, KernelRead& read, bool* ok);
  bool size_from_field(Fields& f, const Cursor& from, const std::string& clash, const char* keep, const char* takes,
                       const std::string& name, bool* ok);
  std::optional<Node> shared(const Cursor& c, const Env& env, const std::string& name);
  // False (after `bad-name`) when `text`, a name or type, holds a control character.
  bool printable_name(const std::string& text, const char* what, const std::string& pointer,
                      const std::string& layer);
};

// A name is shown in terminals, tables, CSV, DOT and generated Python; a
// control character (ESC, CR, a bidi override) would steer what the reader
// sees there, so none is accepted (docs/diagnostics.md#text-from-a-spec).
bool Parser::printable_name(const std::string& text, const char* what, const std::string& pointer,
                            const std::string& layer) {
  auto at = first_control(text);
  if (!at) return true;
  auto& d = diags_.error("bad-name",
                         fmt::format("{} may not contain control characters: `{}` has {} at byte {}", what,
                                     printable(text), code_point_text(at->code), at->byte),
                         pointer, layer);
  d.help = "remove it: a name is shown in terminals, tables and generated code, where a control "
           "character (ESC, CR, a bidi override) would change what the reader sees";
  return false;
}

// Reads the fields of one layer object; remembers which keys it asked for so
// that the rest can be reported as unknown, with a "did you mean".
class Fields {
 public:
  Fields(Parser& p, const Cursor& obj, const Env& env, const std::string& layer,
         std::string kind)
      : p_(p), obj_(obj), env_(env), layer_(layer), kind_(std::move(kind)), info_(find_kind(kind_)) {
    known_ = {"type", "name", "from"};
  }

  // An argument as the kind table declares it (kinds.cc): its default and
  // range come from there, read by the same readers as ever.
  const Arg& spec(const std::string& key) const {
    const Arg* a = info_ ? info_->arg(key) : nullptr;
    if (!a) throw std::logic_error(kind_ + " declares no argument `" + key + "` in src/kinds.cc");
    return *a;
  }
  std::optional<int64_t> int_arg(const std::string& key, bool* ok) {
    const Arg& a = spec(key);
    return integer(key, a.required ? std::nullopt : std::optional<int64_t>(a.dflt.get<int64_t>()),
                   static_cast<int64_t>(a.lo), ok);
  }
  std::optional<int64_t> inferred_arg(const std::string& key, bool* ok) {
    return optional_integer(key, static_cast<int64_t>(spec(key).lo), ok);
  }
  // `same`: the value of the argument this one defaults to (a pool's stride: its kernel).
  std::optional<Dims> dims_arg(const std::string& key, int rank, bool* ok, std::optional<Dims> same = std::nullopt) {
    const Arg& a = spec(key);
    std::optional<Dims> dflt = !a.same_as.empty() ? same
                               : a.required       ? std::nullopt
                                                  : std::optional<Dims>(Dims(static_cast<std::size_t>(rank), a.dflt.get<int64_t>()));
    return dims(key, rank, dflt, static_cast<int64_t>(a.lo), ok);
  }
  Dims dims_default(const std::string& key, int rank) const {
    return Dims(static_cast<std::size_t>(rank), spec(key).dflt.get<int64_t>());
  }
  bool bool_arg(const std::string& key, bool* ok) { return boolean(key, spec(key).dflt.get<bool>(), ok); }
  // A dimension index, −64 … 64 (negative counts from the end); required when the table gives no default.
  int64_t dim_arg(const std::string& key, bool* ok, const char* what = "the dimension, e.g. 1") {
    const Arg& a = spec(key);
    auto v = get(key);
    if (!v) {
      if (!a.required) return a.dflt.get<int64_t>();
      missing(key, what);
      *ok = false;
      return 0;
    }
    auto n = exact_int(*v->value);
    bool ranged = a.type == ArgType::dim_index;  // a nullable dim is `special`: the same range
    if (n && *n >= (ranged ? a.lo : -64) && *n <= (ranged ? a.hi : 64)) return *n;
    bad(*v, key, "a dimension index (negative counts from the end)");
    *ok = false;
    return 0;
  }
  double number_arg(const std::string& key, bool* ok) {
    const Arg& a = spec(key);
    if (a.required && !get(key)) {
      missing(key, fmt::format("a number from {} to {}", a.lo, a.hi));
      *ok = false;
      return 0;
    }
    return number(key, a.required ? 0 : a.dflt.get<double>(), a.lo, a.hi, ok);
  }
  // One of the table's `values` (a string); its default, or "" after reporting.
  std::string choice_arg(const std::string& key, bool* ok) {
    const Arg& a = spec(key);
    std::string listed;  // "add", "cat", "mul" or "matmul"
    for (std::size_t i = 0; i < a.values.size(); ++i)
      listed += (i == 0 ? "" : i + 1 == a.values.size() ? " or " : ", ") + ("\"" + a.values[i] + "\"");
    auto v = get(key);
    if (!v) {
      if (!a.required) return a.dflt.get<std::string>();
      if (!failed_.count(key)) missing(key, listed);
      *ok = false;
      return "";
    }
    if (v->value->is_string() &&
        std::find(a.values.begin(), a.values.end(), v->value->get<std::string>()) != a.values.end())
      return v->value->get<std::string>();
    Diagnostic& d = bad(*v, key, listed);
    if (v->value->is_string())
      if (auto s = did_you_mean(v->value->get<std::string>(), a.values)) d.help = fmt::format("did you mean \"{}\"?", *s);
    *ok = false;
    return "";
  }
  double float32_arg(const std::string& key, bool* ok) {
    const Arg& a = spec(key);
    return float32(key, a.required ? 0 : a.dflt.get<double>(), ok);
  }

  // The resolved value of `key`, or nullopt when absent or null. Resolved
  // once: a second look (a pool's kernel_size, read as sizes or numbers)
  // repeats no diagnostic.
  std::optional<Cursor> get(const std::string& key) {
    if (auto it = got_.find(key); it != got_.end()) return it->second;
    return got_[key] = resolved(key);
  }
  std::optional<Cursor> resolved(const std::string& key) {
    known_.push_back(key);
    std::optional<Cursor> r;
    if (Override* o = p_.override_for(layer_, key)) {
      o->used = true;
      r = Cursor{&o->value, "--set " + o->text};
    } else if (!obj_.value->contains(key)) {
      return std::nullopt;
    } else {
      r = p_.resolve(obj_.at(key), env_, layer_);
    }
    if (!r) { failed_.insert(key); return std::nullopt; }
    if (r->value->is_null()) return std::nullopt;
    return r;
  }

  void missing(const std::string& key, const std::string& what) {
    if (failed_.count(key)) return;  // already reported
    auto& d = p_.diags_.error("missing-field",
                              fmt::format("{} `{}` needs `{}`", kind_, layer_, key),
                              obj_.pointer, layer_);
    d.help = fmt::format("add \"{}\": {}", key, what);
  }

  Diagnostic& bad(const Cursor& c, const std::string& key, const std::string& expected) {
    auto& d = p_.diags_.error(
        "wrong-type",
        fmt::format("`{}` of {} must be {}, got {}", key, kind_, expected, describe(*c.value)),
        c.pointer, layer_);
    const json& v = *c.value;
    if (v.is_number_float() && std::isfinite(v.get<double>()) &&
        v.get<double>() == std::floor(v.get<double>()) && std::abs(v.get<double>()) < 1e15) {
      auto n = static_cast<int64_t>(v.get<double>());
      d.help = fmt::format("write {} without the fraction or exponent", n);
      d.fixes.push_back({fmt::format("write {} as the integer {}", key, n),
                         {fmt::format("{}.{}={}", layer_, key, n)}});
    } else if (v.is_string() && !v.get<std::string>().empty()) {
      const std::string& s = v.get<std::string>();
      bool digits = s.size() < 12 && s.find_first_not_of("-0123456789") == std::string::npos &&
                    s.find('-', 1) == std::string::npos && s != "-";
      if (digits) {
        d.help = fmt::format("write {} without quotes", s);
        d.fixes.push_back({fmt::format("write {} as the number {}", key, s),
                           {fmt::format("{}.{}={}", layer_, key, s)}});
      }
    }
    return d;
  }

  // An integer in [lo, kMaxInt]; nullopt after reporting.
  std::optional<int64_t> integer_value(const Cursor& c, const std::string& key, int64_t lo) {
    auto v = exact_int(*c.value);
    if (!v) {
      bad(c, key, lo >= 1 ? "a positive integer" : lo == 0 ? "a non-negative integer" : "an integer");
      return std::nullopt;
    }
    if (*v < lo) {
      auto& d = p_.diags_.error(
          "out-of-range",
          fmt::format("`{}` of {} must be at least {}, got {}", key, kind_, lo, *v), c.pointer,
          layer_);
      if (key == "padding") d.help = "padding adds zeros around the input; use 0 for none";
      else if (key == "kernel_size" || key == "stride" || key == "dilation") d.help = "use 1 or more";
      return std::nullopt;
    }
    if (*v > kMaxInt) {
      p_.diags_.error("out-of-range",
                      fmt::format("`{}` of {} is too large: {} (the limit is {})", key, kind_,
                                  *v, kMaxInt),
                      c.pointer, layer_);
      return std::nullopt;
    }
    return v;
  }

  std::optional<int64_t> integer(const std::string& key, std::optional<int64_t> dflt, int64_t lo,
                                 bool* ok) {
    auto c = get(key);
    if (!c) {
      if (!dflt) { missing(key, "an integer"); *ok = false; }
      else if (failed_.count(key)) *ok = false;
      return dflt;
    }
    auto v = integer_value(*c, key, lo);
    if (!v) *ok = false;
    return v ? v : dflt;
  }

  // An optional integer (in_channels, in_features): nullopt means "infer".
  std::optional<int64_t> optional_integer(const std::string& key, int64_t lo, bool* ok) {
    auto c = get(key);
    if (!c) { if (failed_.count(key)) *ok = false; return std::nullopt; }
    auto v = integer_value(*c, key, lo);
    if (!v) *ok = false;
    return v;
  }

  // An int or a list of `rank` ints, as PyTorch's _single/_pair/_triple accept.
  std::optional<Dims> dims_value(const Cursor& c, const std::string& key, int rank, int64_t lo) {
    auto n = static_cast<std::size_t>(rank);
    if (c.value->is_array()) {
      if (c.value->size() != n) {
        auto& d = p_.diags_.error("wrong-type",
                                  fmt::format("`{}` of {} must be an integer or a {} list, got a list of {}",
                                              key, kind_, dims_form(rank), c.value->size()),
                                  c.pointer, layer_);
        d.help = rank == 1 ? "give one number" : fmt::format("give one number for every dim, or {}: {}", rank, dims_form(rank));
        return std::nullopt;
      }
      Dims out;
      for (std::size_t i = 0; i < n; ++i) {
        auto e = p_.resolve(c.at(i), env_, layer_);
        if (!e) return std::nullopt;
        auto v = integer_value(*e, key, lo);
        if (!v) return std::nullopt;
        out.push_back(*v);
      }
      return out;
    }
    if (!exact_int(*c.value)) {
      bad(c, key, fmt::format("{} integer or a {} list", lo >= 1 ? "a positive" : "a non-negative", dims_form(rank)));
      return std::nullopt;
    }
    auto v = integer_value(c, key, lo);
    if (!v) return std::nullopt;
    return Dims(n, *v);
  }

  std::optional<Dims> dims(const std::string& key, int rank, std::optional<Dims> dflt, int64_t lo, bool* ok) {
    auto c = get(key);
    if (!c) {
      if (!dflt) { missing(key, fmt::format("an integer or {}", dims_form(rank))); *ok = false; }
      else if (failed_.count(key)) *ok = false;
      return dflt;
    }
    auto v = dims_value(*c, key, rank, lo);
    if (!v) *ok = false;
    return v ? v : dflt;
  }

  bool boolean(const std::string& key, bool dflt, bool* ok) {
    auto c = get(key);
    if (!c) { if (failed_.count(key)) *ok = false; return dflt; }
    if (!c->value->is_boolean()) { bad(*c, key, "true or false"); *ok = false; return dflt; }
    return c->value->get<bool>();
  }

  // A number PyTorch converts to float32 (an activation's constants, a
  // padding value, PReLU's init): past ±3.4028e38 PyTorch raises.
  double float32(const std::string& key, double dflt, bool* ok) {
    std::size_t before = p_.diags_.items.size();
    double v = number(key, dflt, -std::numeric_limits<float>::max(), std::numeric_limits<float>::max(), ok);
    if (p_.diags_.items.size() > before && p_.diags_.items.back().code == "out-of-range")
      p_.diags_.items.back().notes.push_back(
          "PyTorch holds it as a float32: \"value cannot be converted to type float without overflow\"");
    return v;
  }

  double number(const std::string& key, double dflt, double lo, double hi, bool* ok) {
    auto c = get(key);
    if (!c) { if (failed_.count(key)) *ok = false; return dflt; }
    if (!c->value->is_number()) { bad(*c, key, "a number"); *ok = false; return dflt; }
    double v = c->value->get<double>();
    if (!(v >= lo && v <= hi)) {
      p_.diags_.error("out-of-range",
                      fmt::format("`{}` of {} must be between {} and {}, got {}", key, kind_,
                                  lo, hi, describe(*c->value)),
                      c->pointer, layer_);
      *ok = false;
      return dflt;
    }
    return v;
  }

  // Reports keys nobody asked for. Returns false if there were any.
  bool finish() {
    bool clean = true;
    std::vector<std::string> fields(known_.begin() + 3, known_.end());
    for (auto& o : p_.overrides_) {
      if (o.layer != layer_ || o.used) continue;
      o.used = true;  // reported here, not again as an unknown layer
      auto& d = p_.diags_.error("unknown-field",
                                fmt::format("{} `{}` has no field `{}`", kind_, layer_, o.field),
                                "--set " + o.text, layer_);
      if (auto m = did_you_mean(o.field, fields)) d.help = fmt::format("did you mean `{}`?", *m);
      else d.notes.push_back(fmt::format("{} takes: {}", kind_, fmt::join(fields, ", ")));
      clean = false;
    }
    for (auto it = obj_.value->begin(); it != obj_.value->end(); ++it) {
      if (std::find(known_.begin(), known_.end(), it.key()) != known_.end()) continue;
      auto& d = p_.diags_.error(
          "unknown-field", fmt::format("{} has no field `{}`", kind_, it.key()),
          obj_.pointer + "/" + pointer_escape(it.key()), layer_);
      if (auto m = did_you_mean(it.key(), fields)) d.help = fmt::format("did you mean `{}`?", *m);
      else d.notes.push_back(fmt::format("{} takes: {}", kind_, fmt::join(fields, ", ")));
      clean = false;
    }
    return clean;
  }

  const std::string& layer() const { return layer_; }
  const std::string& kind() const { return kind_; }

 private:
  Parser& p_;
  Cursor obj_;
  const Env& env_;
  std::string layer_, kind_;
  std::vector<std::string> known_;
  std::map<std::string, std::optional<Cursor>> got_;
  std::set<std::string> failed_;
  const KindInfo* info_;  // nullptr: a type the table does not hold (reported as unknown)
};

std::optional<Cursor> Parser::resolve(const Cursor& c, const Env& env, const std::string& layer) {
  const json& v = *c.value;
  if (v.is_string() && !v.get_ref<const std::string&>().empty() &&
      v.get_ref<const std::string&>()[0] == '$' && !is_plain_param(v.get_ref<const std::string&>()))
    return expression(c, env, layer);
  if (v.is_string() && !v.get_ref<const std::string&>().empty() &&
      v.get_ref<const std::string&>()[0] == '$') {
    std::string param = v.get<std::string>().substr(1);
    auto it = env.find(param);
    if (it != env.end()) return it->second;
    auto& d = diags_.error("unknown-parameter",
                           env.empty() ? fmt::format("`${}` is used outside a block", param)
                                       : fmt::format("`${}` is not a parameter of this block",
                                                     param),
                           c.pointer, layer);
    std::vector<std::string> names;
    for (const auto& [k, _] : env) names.push_back(k);
    if (auto m = did_you_mean(param, names)) d.help = fmt::format("did you mean `${}`?", *m);
    else if (env.empty())
      d.help = "\"$name\" refers to a parameter of the block being defined (see \"blocks\")";
    return std::nullopt;
  }
  if (v.is_object() && v.contains("if") && !v.contains("type")) {
    for (auto it = v.begin(); it != v.end(); ++it)
      if (it.key() != "if" && it.key() != "then" && it.key() != "else") {
        diags_.error("unknown-field",
                     fmt::format("a conditional takes `if`, `then` and `else`, not `{}`", it.key()),
                     c.pointer + "/" + pointer_escape(it.key()), layer);
        return std::nullopt;
      }
    auto cond = resolve(c.at("if"), env, layer);
    if (!cond) return std::nullopt;
    if (!cond->value->is_boolean()) {
      diags_.error("wrong-type",
                   fmt::format("`if` needs true or false, got {}", describe(*cond->value)),
                   cond->pointer, layer);
      return std::nullopt;
    }
    const char* branch = cond->value->get<bool>() ? "then" : "else";
    if (!v.contains(branch)) {
      static const json null_value;
      return Cursor{&null_value, c.pointer};  // the field is absent
    }
    return resolve(c.at(branch), env, layer);
  }
  return c;
}

std::optional<Cursor> Parser::expression(const Cursor& c, const Env& env, const std::string& layer) {
  std::string error;
  ExprLookup lookup = [&](const std::string& name, std::string& err) -> std::optional<ExprValue> {
    auto it = env.find(name);
    if (it == env.end()) return std::nullopt;
    auto r = resolve(it->second, env, layer);
    if (!r) { err = fmt::format("`${}` could not be read", name); return std::nullopt; }
    if (r->value->is_boolean()) return r->value->get<bool>();
    if (auto i = exact_int(*r->value)) return *i;
    err = fmt::format("`${}` is {}, not an integer or a boolean", name, describe(*r->value));
    return std::nullopt;
  };
  auto v = eval_expr(c.value->get_ref<const std::string&>(), lookup, error);
  if (!v) {
    auto& d = diags_.error("bad-expression",
                           fmt::format("cannot evaluate {}: {}", describe(*c.value), error), c.pointer, layer);
    d.help = "expressions combine integer parameters with + - * // % and compare them with == != < <= > >=, "
             "joined by and, or, not";
    return std::nullopt;
  }
  computed_.push_back(std::holds_alternative<bool>(*v) ? json(std::get<bool>(*v)) : json(std::get<int64_t>(*v)));
  return Cursor{&computed_.back(), c.pointer};
}

std::optional<Layers> Parser::layer_list(const Cursor& c, const Env& env,
                                         const std::string& prefix) {
  if (!c.value->is_array()) {
    diags_.error("wrong-type", fmt::format("a list of layers was expected, got {}",
                                           type_word(*c.value)),
                 c.pointer, prefix);
    return std::nullopt;
  }
  // An item may be {"if": ..., "then": ...} (dropped when false without
  // `else`) or "$param": either may stand for one layer or a list of them.
  std::vector<Cursor> items;
  bool ok = true;
  for (std::size_t i = 0; i < c.value->size(); ++i) {
    Cursor item = c.at(i);
    const json& v = *item.value;
    bool indirect = (v.is_object() && v.contains("if") && !v.contains("type")) ||
                    (v.is_string() && !v.get_ref<const std::string&>().empty() && v.get_ref<const std::string&>()[0] == '$');
    if (!indirect) { items.push_back(item); continue; }
    auto r = resolve(item, env, prefix);
    if (!r) { ok = false; continue; }
    if (r->value->is_null()) continue;  // a false `if` without `else`
    if (r->value->is_array())
      for (std::size_t k = 0; k < r->value->size(); ++k) items.push_back(r->at(k));
    else
      items.push_back(*r);
  }
  Layers out;
  std::map<std::string, std::string> seen;  // local name -> pointer
  for (std::size_t i = 0; i < items.size() && !too_many_; ++i) {
    Cursor item = items[i];
    std::string local = std::to_string(i);
    if (item.value->is_object() && item.value->contains("name")) {
      auto n = resolve(item.at("name"), env, join_name(prefix, local));
      if (n && n->value->is_string() && !n->value->get<std::string>().empty() &&
          n->value->get<std::string>().find_first_of(".=") == std::string::npos) {
        local = n->value->get<std::string>();
        if (!printable_name(local, "a layer name", n->pointer, join_name(prefix, std::to_string(i)))) {
          ok = false;
          continue;
        }
      } else if (n) {
        auto& d = diags_.error("bad-name",
                               fmt::format("a layer name must be a non-empty string without "
                                           "dots or `=`, got {}",
                                           describe(*n->value)),
                               n->pointer, join_name(prefix, local));
        d.help = "dots separate the levels of a dotted name, as in layer2.0.body, and `=` ends the "
                 "name in --set NAME.FIELD=VALUE: neither could be addressed";
        ok = false;
        continue;
      }
    }
    if (prefix.empty() && local == "input") {
      auto& d = diags_.error("bad-name", "a top-level layer cannot be named `input`: that name is the network's input",
                             item.pointer + "/name", local);
      d.notes.push_back("`from`: \"input\" and `outputs` would read the network's input, not this layer");
      d.help = "give the layer another name, e.g. \"input_conv\"";
      ok = false;
      continue;
    }
    if (auto [it, fresh] = seen.emplace(local, item.pointer); !fresh) {
      auto& d = diags_.error("duplicate-name",
                             fmt::format("two layers are named `{}`", join_name(prefix, local)),
                             item.pointer, join_name(prefix, local));
      d.notes.push_back(fmt::format("the first is at {}", it->second));
      d.help = "give each layer in a list its own name";
      ok = false;
      continue;
    }
    auto node = layer(item, env, join_name(prefix, local));
    if (node) out.push_back(std::move(*node));
    else ok = false;
  }
  if (!ok || too_many_) return std::nullopt;
  return out;
}

std::vector<std::string> builtin_names() {
  return spec_names();
}

std::optional<Node> Parser::layer(const Cursor& c, const Env& env, const std::string& name) {
  if (++layer_count_ > kMaxLayers) {
    if (!too_many_)
      diags_.error("too-many-layers",
                   fmt::format("the spec expands to more than {} layers", kMaxLayers), c.pointer,
                   name);
    too_many_ = true;
    return std::nullopt;
  }
  if (!c.value->is_object()) {
    auto& d = diags_.error("wrong-type",
                           fmt::format("a layer must be an object, got {}", describe(*c.value)),
                           c.pointer, name);
    d.help = "write a layer as {\"type\": \"Conv2d\", ...}";
    return std::nullopt;
  }
  if (c.value->contains("shares")) return shared(c, env, name);
  if (!c.value->contains("type")) {
    auto& d = diags_.error("missing-field", fmt::format("layer `{}` has no `type`", name),
                           c.pointer, name);
    d.help = "add \"type\": \"Conv2d\" (or another layer kind, see docs/spec-format.md)";
    // {"Type": "ReLU"}, {"typ": …}: the key the user meant, named (keys are case-sensitive).
    for (auto it = c.value->begin(); it != c.value->end(); ++it) {
      std::string lower = it.key();
      std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char ch) { return std::tolower(ch); });
      if (lower == "type" || did_you_mean(it.key(), {"type"})) {
        d.help = fmt::format("did you mean `type`? the layer has `{}` (keys are case-sensitive)", it.key());
        break;
      }
    }
    if (c.value->contains("if"))
      d.help = "an `if` stands for a layer in a list of layers, as a field's value, or as a block's whole "
               "`layer`: here it needs a `type` of its own";
    return std::nullopt;
  }
  if (!overrides_.empty()) layer_names.push_back(name);  // only --set needs them
  auto t = resolve(c.at("type"), env, name);
  if (!t) return std::nullopt;
  if (!t->value->is_string()) {
    diags_.error("wrong-type", fmt::format("`type` must be a string, got {}", describe(*t->value)),
                 t->pointer, name);
    return std::nullopt;
  }
  const std::string& type = t->value->get_ref<const std::string&>();
  if (!printable_name(type, "a layer type", t->pointer, name)) return std::nullopt;
  if (blocks_ && blocks_->contains(type)) return instantiate(c, env, name, type);
  size_from_.clear();
  auto k = kind(type, c, env, name);
  if (!k) return std::nullopt;
  Node node{name, c.pointer, {}, std::move(*k), {}, std::move(size_from_), {}};
  if (!from_field(c, env, node)) return std::nullopt;
  return node;
}

// `{"shares": "NAME"}` (with `name` and `from`, nothing else): NAME's module
// called again; lower() checks that NAME is an earlier module.
std::optional<Node> Parser::shared(const Cursor& c, const Env& env, const std::string& name) {
  bool ok = true;
  for (auto it = c.value->begin(); it != c.value->end(); ++it) {
    if (it.key() == "shares" || it.key() == "name" || it.key() == "from") continue;
    auto& d = diags_.error("unknown-field",
                           fmt::format("layer `{}` shares another module, so it takes no `{}`", name, it.key()),
                           c.pointer + "/" + pointer_escape(it.key()), name);
    d.notes.push_back("a shared layer is that module again, with its arguments and its weights: it takes only "
                      "shares, name, from");
    if (it.key() == "type") d.help = "drop `type`, or drop `shares` to make a layer of its own";
    ok = false;
  }
  auto m = resolve(c.at("shares"), env, name);
  if (!m) return std::nullopt;
  if (!m->value->is_string() || m->value->get_ref<const std::string&>().empty()) {
    auto& d = diags_.error("wrong-type", fmt::format("`shares` must name an earlier layer, got {}", describe(*m->value)),
                           m->pointer, name);
    d.help = "write \"shares\": \"rcl.conv\" (the dotted name, as in the table)";
    return std::nullopt;
  }
  if (!ok) return std::nullopt;
  Node node{name, c.pointer, {}, Shared{m->value->get<std::string>()}, {}, {}, {}};
  if (!from_field(c, env, node)) return std::nullopt;
  return node;
}

// A size read from another value, written as Python reads it:
// "patches.shape[0]" or "input.size(0)" (Expand's sizes, Reshape's shape).
// One value per layer.
bool Parser::size_of(const Cursor& e, Fields& f, const std::string& name, const char* key, Shape& sizes,
                     std::vector<std::optional<int64_t>>& from_dim, bool* ok) {
  const std::string& text = e.value->get_ref<const std::string&>();
  std::string ref, digits;
  for (auto [open, close] : {std::pair{".shape[", "]"}, {".size(", ")"}}) {
    auto at = text.rfind(open);
    if (at == std::string::npos || at == 0 || text.back() != *close) continue;
    ref = text.substr(0, at);
    digits = text.substr(at + std::string(open).size(), text.size() - at - std::string(open).size() - 1);
    break;
  }
  auto d = digits.empty() || digits.size() > 3 ? std::nullopt : exact_int(nlohmann::json::parse(digits, nullptr, false));
  if (ref.empty() || !d || *d < -8 || *d > 7) {
    f.bad(e, key, "a size, -1, or another layer's size written as \"NAME.shape[0]\"");
    return false;
  }
  if (!size_from_.empty() && size_from_ != ref) {
    auto& g = diags_.error("wrong-type",
                           fmt::format("`{}` reads sizes from `{}` and `{}`: one layer's sizes at most", name,
                                       size_from_, ref),
                           e.pointer, name);
    g.help = fmt::format("read every size from `{}`, or give the number", size_from_);
    *ok = false;
    return true;
  }
  size_from_ = ref;
  from_dim.resize(sizes.size());
  from_dim.push_back(*d);
  sizes.push_back(-2);  // read at evaluation
  return true;
}

// `size_from`: the earlier value whose sizes a layer takes (Upsample,
// Expand's expand_as, a pad to that size). `clash`: the message when a field
// it replaces is given too (empty: none is). False, *ok false, when refused.
bool Parser::size_from_field(Fields& f, const Cursor& from, const std::string& clash, const char* keep,
                             const char* takes, const std::string& name, bool* ok) {
  if (!clash.empty()) {
    diags_.error("wrong-type", clash, from.pointer, name).help = keep;
  } else if (!from.value->is_string() || from.value->get_ref<const std::string&>().empty()) {
    f.bad(from, "size_from", takes);
  } else {
    size_from_ = from.value->get<std::string>();
    return true;
  }
  *ok = false;
  return false;
}

// A pool's kernel_size read from another value: "x.shape[3]" for every
// spatial dim (F.avg_pool2d(x, x.size(3)) passes one int), or a list mixing
// such sizes and numbers. False when the kernel is numbers only.
bool Parser::kernel_read(Fields& f, const std::string& name, int rank, Dims& kernel, KernelRead& read, bool* ok) {
  auto c = f.get("kernel_size");
  if (!c) return false;
  bool list = c->value->is_array() && static_cast<int>(c->value->size()) == rank;
  bool any = c->value->is_string();
  for (std::size_t i = 0; list && i < c->value->size(); ++i) any = any || c->value->at(i).is_string();
  if (!any) return false;
  for (int i = 0; i < rank; ++i) {
    Cursor e = list ? c->at(static_cast<std::size_t>(i)) : *c;
    if (e.value->is_string()) {
      if (!size_of(e, f, name, "kernel_size", kernel, read.from_dim, ok)) *ok = false;
      if (!kernel.empty() && kernel.back() == -2) kernel.back() = 1;  // a stand-in until evaluation
    } else if (auto m = f.integer_value(e, "kernel_size", 1)) {
      kernel.push_back(*m);
    } else {
      *ok = false;
    }
    if (static_cast<int>(kernel.size()) < i + 1) kernel.push_back(1);
  }
  read.from_dim.resize(kernel.size());
  return true;
}

// `from`: one name for a layer, two or more for Add/Cat/Mul (which need it).
bool Parser::from_field(const Cursor& c, const Env& env, Node& node) {
  bool merge = std::holds_alternative<Merge>(node.kind);
  const char* type = !merge ? kind_name(node.kind) : merge_type(std::get<Merge>(node.kind).op);
  if (!c.value->contains("from")) {
    if (!merge) return true;
    auto& d = diags_.error("missing-field",
                           fmt::format("{} `{}` needs `from`: the layers whose outputs it merges",
                                       type, node.name),
                           c.pointer, node.name);
    d.help = "add \"from\": [\"enc1\", \"up1\"] (dotted names as in the table, or \"input\")";
    return false;
  }
  auto v = resolve(c.at("from"), env, node.name);
  if (!v) return false;
  auto name_at = [&](const Cursor& e) -> std::optional<std::string> {
    auto r = resolve(e, env, node.name);
    if (r && r->value->is_string() && !r->value->get<std::string>().empty())
      return r->value->get<std::string>();
    if (r)
      diags_.error("wrong-type", fmt::format("`from` must name a layer, got {}", describe(*r->value)),
                   r->pointer, node.name);
    return std::nullopt;
  };
  if (!merge) {
    if (v->value->is_string()) {
      if (auto n = name_at(*v)) { node.from = {*n}; return true; }
      return false;
    }
    auto& d = diags_.error("wrong-type",
                           fmt::format("`from` of {} must be one layer's name, got {}", type,
                                       describe(*v->value)),
                           v->pointer, node.name);
    d.help = "to combine several outputs, use {\"type\": \"Cat\" (or Add, Mul), \"from\": [...]}";
    return false;
  }
  // torch.cat([x]) is x; torch.add and torch.mul take two or more, torch.matmul two.
  MergeOp op = std::get<Merge>(node.kind).op;
  std::size_t least = op == MergeOp::cat ? 1 : 2;
  if (!v->value->is_array() || v->value->size() < least || (op == MergeOp::matmul && v->value->size() != 2)) {
    auto& d = diags_.error("wrong-type",
                           fmt::format("`from` of {} must list {} layers, got {}", type,
                                       op == MergeOp::cat ? "one or more" : op == MergeOp::matmul ? "two" : "two or more",
                                       describe(*v->value)),
                           v->pointer, node.name);
    d.help = op == MergeOp::matmul ? "write \"from\": [\"q\", \"k_t\"]: torch.matmul(q, k_t)"
                                   : "write \"from\": [\"enc1\", \"up1\"]";
    return false;
  }
  bool ok = true;
  for (std::size_t i = 0; i < v->value->size(); ++i) {
    if (auto n = name_at(v->at(i))) node.from.push_back(*n);
    else ok = false;
  }
  return ok;
}

// merge (Branches) or the type (Add/Cat/Mul), and cat's dim and crop.
// nn.Embedding; its padding_idx check is PyTorch's assert
// ("Padding_idx must be within num_embeddings").
Embedding Parser::embedding(Fields& f, const Cursor& c, const std::string& name, bool* ok) {
  Embedding k;
  k.num_embeddings = f.int_arg("num_embeddings", ok).value_or(0);
  k.embedding_dim = f.int_arg("embedding_dim", ok).value_or(0);
  if (auto v = f.get("padding_idx")) {
    auto n = exact_int(*v->value);
    if (!n) {
      f.bad(*v, "padding_idx", "an integer (negative counts from the end) or null");
      *ok = false;
    } else if (k.num_embeddings && (*n >= k.num_embeddings || *n < -k.num_embeddings)) {
      auto& d = diags_.error("out-of-range",
                             fmt::format("`padding_idx` of Embedding must lie in {} … {}, got {}", -k.num_embeddings,
                                         k.num_embeddings - 1, *n),
                             v->pointer, name);
      d.notes.push_back("PyTorch: \"Padding_idx must be within num_embeddings\"");
      d.help = "padding_idx names a row of the table: 0 is the usual padding token";
      *ok = false;
    } else {
      k.padding_idx = *n;
    }
  }
  if (auto v = f.get("max_norm")) {
    if (v->value->is_number()) k.max_norm = v->value->get<double>();
    else f.bad(*v, "max_norm", "a number or null"), *ok = false;
  }
  k.norm_type = f.number_arg("norm_type", ok);
  k.scale_grad_by_freq = f.bool_arg("scale_grad_by_freq", ok);
  k.sparse = f.bool_arg("sparse", ok);
  (void)c;
  return k;
}

Merge Parser::merge_fields(Fields& f, const Cursor& c, const std::string& name,
                           const std::string& type, bool* ok) {
  Merge m;
  std::string op;  // the layer's type fixes it (Add, …), or Branches' `merge` (its values: the kind table's)
  for (MergeOp o : kMergeOps)
    if (type == merge_type(o)) op = merge_name(o);
  if (op.empty() && (op = f.choice_arg("merge", ok)).empty()) return m;
  for (MergeOp o : kMergeOps)
    if (op == merge_name(o)) m.op = o;
  if (m.op == MergeOp::matmul) return m;  // torch.matmul(a, b) takes nothing else
  auto only_cat = [&](const Cursor& v, const char* key) {
    auto& d = diags_.error("unknown-field",
                           fmt::format("`{}` only applies to a cat, not to {}", key, op), v.pointer, name);
    d.help = op == "add" ? "an add needs identical shapes: remove it"
                         : "a mul broadcasts size-1 dims: remove it";
    *ok = false;
  };
  if (auto v = f.get("dim")) {
    auto n = exact_int(*v->value);
    if (m.op != MergeOp::cat) only_cat(*v, "dim");
    else if (!n || *n < -8 || *n > 7) {
      f.bad(*v, "dim", "a dimension index (an integer; negative counts from the end)");
      *ok = false;
    } else {
      m.dim = *n;
    }
  }
  if (auto v = f.get("crop")) {
    if (m.op != MergeOp::cat) only_cat(*v, "crop");
    else if (v->value->is_string() && v->value->get<std::string>() == "center") m.crop = true;
    else if (!(v->value->is_boolean() && !v->value->get<bool>())) {
      f.bad(*v, "crop", "\"center\"");
      *ok = false;
    }
  }
  if (auto v = f.get("broadcast")) {
    if (m.op != MergeOp::add) {
      auto& d = diags_.error("unknown-field", fmt::format("`broadcast` only applies to an add, not to {}", op),
                             v->pointer, name);
      d.help = op == "mul" ? "a mul always broadcasts size-1 dims: remove it" : "a cat does not broadcast: remove it";
      *ok = false;
    } else {
      m.broadcast = f.bool_arg("broadcast", ok);
    }
  }
  (void)c;
  return m;
}

// Branches' `branches`: each a bare list of layers (named 0, 1, …) or
// {"name": ..., "layers": [...]}. An empty list is the identity.
std::optional<std::vector<Branch>> Parser::branch_list(const Cursor& c, const Env& env,
                                                       const std::string& prefix) {
  if (!c.value->is_array() || c.value->empty()) {
    auto& d = diags_.error("wrong-type",
                           fmt::format("`branches` must be a non-empty list, got {}", describe(*c.value)),
                           c.pointer, prefix);
    d.help = "write \"branches\": [[...layers...], [...layers...]]";
    return std::nullopt;
  }
  std::vector<Branch> out;
  std::map<std::string, std::string> seen;
  bool ok = true;
  for (std::size_t i = 0; i < c.value->size(); ++i) {
    auto item = resolve(c.at(i), env, prefix);
    if (!item) { ok = false; continue; }
    std::string local = std::to_string(i);
    std::optional<Cursor> layers = *item;
    if (item->value->is_object()) {
      layers.reset();
      for (auto it = item->value->begin(); it != item->value->end(); ++it) {
        if (it.key() == "name") {
          auto n = resolve(item->at("name"), env, prefix);
          if (n && n->value->is_string() && !n->value->get<std::string>().empty() &&
              n->value->get<std::string>().find_first_of(".=") == std::string::npos) {
            local = n->value->get<std::string>();
            if (!printable_name(local, "a branch name", n->pointer, prefix)) ok = false;
          } else {
            if (n) diags_.error("bad-name", fmt::format("a branch name must be a non-empty string without dots, got {}",
                                                        describe(*n->value)), n->pointer, prefix);
            ok = false;
          }
        } else if (it.key() == "layers") {
          layers = resolve(item->at("layers"), env, prefix);
          if (!layers) ok = false;
        } else {
          auto& d = diags_.error("unknown-field", fmt::format("a branch has no field `{}`", it.key()),
                                 item->pointer + "/" + pointer_escape(it.key()), prefix);
          d.notes.push_back("a branch takes: name, layers (or write it as a bare list of layers)");
          ok = false;
        }
      }
      if (!layers) {
        if (ok) diags_.error("missing-field", "a branch needs `layers`", item->pointer, prefix)
                    .help = "write {\"name\": \"branch1\", \"layers\": [...]}";
        ok = false;
        continue;
      }
    }
    if (local == "after") {
      auto& d = diags_.error("duplicate-name",
                             fmt::format("a branch cannot be named `after`: `{}` names the layers after the merge",
                                         join_name(prefix, "after")),
                             item->pointer + "/name", prefix);
      d.help = "give the branch another name, e.g. \"after_branch\"";
      ok = false;
      continue;
    }
    if (auto [it, fresh] = seen.emplace(local, item->pointer); !fresh) {
      diags_.error("duplicate-name", fmt::format("two branches are named `{}`", join_name(prefix, local)),
                   item->pointer, prefix)
          .notes.push_back(fmt::format("the first is at {}", it->second));
      ok = false;
      continue;
    }
    auto l = layer_list(*layers, env, join_name(prefix, local));
    if (!l) { ok = false; continue; }
    out.push_back({local, std::move(*l)});
  }
  if (!ok) return std::nullopt;
  return out;
}

std::optional<Node> Parser::instantiate(const Cursor& c, const Env& env, const std::string& name,
                                        const std::string& block) {
  Cursor def{&(*blocks_)[block], "/blocks/" + pointer_escape(block)};
  // A block may use itself (U-Net's levels, with an `if` on a depth
  // parameter); an expansion that does not stop is cut at a depth limit.
  if (active_blocks_.size() >= kMaxBlockDepth) {
    auto& d = diags_.error("recursive-block",
                           fmt::format("blocks nest deeper than {} levels here (`{}` inside {})", kMaxBlockDepth,
                                       block, fmt::join(active_blocks_.end() - 3, active_blocks_.end(), " > ")),
                           c.pointer, name);
    d.help = "a block that uses itself needs an `if` on a parameter that changes at each level, so that it stops";
    return std::nullopt;
  }
  // Arguments: every field but type/name/repeat/first, resolved in the caller's env.
  static const json no_params = json::object();  // a block without "params" takes none
  const json& params = def.value->contains("params") ? (*def.value)["params"] : no_params;
  std::vector<std::string> param_names;
  for (auto it = params.begin(); it != params.end(); ++it) param_names.push_back(it.key());
  Env args;
  bool ok = true;
  auto bind = [&](const Cursor& obj, Env& into) {
    for (auto it = obj.value->begin(); it != obj.value->end(); ++it) {
      const std::string& key = it.key();
      if (&into == &args && (key == "type" || key == "name" || key == "repeat" || key == "first" || key == "from"))
        continue;
      if (!params.contains(key)) {
        auto& d = diags_.error("unknown-field",
                               fmt::format("block `{}` has no parameter `{}`", block, key),
                               obj.pointer + "/" + pointer_escape(key), name);
        if (auto m = did_you_mean(key, param_names)) d.help = fmt::format("did you mean `{}`?", *m);
        else d.notes.push_back(fmt::format("`{}` takes: {}", block, fmt::join(param_names, ", ")));
        ok = false;
        continue;
      }
      auto v = resolve(obj.at(key), env, name);
      if (v) into[key] = *v;
      else ok = false;
    }
  };
  bind(c, args);
  for (const auto& p : param_names) {
    if (args.count(p)) continue;
    Cursor dflt = def.at("params").at(p);
    if (dflt.value->is_null()) {
      auto& d = diags_.error("missing-field",
                             fmt::format("block `{}` needs the argument `{}`", block, p),
                             c.pointer, name);
      d.help = fmt::format("add \"{}\": ... to `{}`", p, name);
      ok = false;
    } else {
      args[p] = dflt;
    }
  }
  std::optional<Cursor> repeat, first;
  if (c.value->contains("repeat")) repeat = resolve(c.at("repeat"), env, name);
  if (c.value->contains("first")) first = resolve(c.at("first"), env, name);
  int64_t count = 1;
  if (repeat) {
    auto n = exact_int(*repeat->value);
    if (!n || *n < 1 || *n > static_cast<int64_t>(kMaxLayers)) {
      auto& d = diags_.error(n ? "out-of-range" : "wrong-type",
                             fmt::format("`repeat` must be an integer from 1 to {}, got {}", kMaxLayers,
                                         describe(*repeat->value)),
                             repeat->pointer, name);
      d.notes.push_back(fmt::format("a spec expands to at most {} layers in all, containers and every "
                                    "instance's layers counted", kMaxLayers));
      return std::nullopt;
    }
    count = *n;
  }
  Env first_args = args;
  if (first) {
    if (!repeat) {
      auto& d = diags_.error("unknown-field", "`first` only makes sense with `repeat`",
                             first->pointer, name);
      d.help = "put the arguments straight on the layer, or add \"repeat\"";
      ok = false;
    } else if (!first->value->is_object()) {
      diags_.error("wrong-type",
                   fmt::format("`first` must be an object of arguments, got {}",
                               describe(*first->value)),
                   first->pointer, name);
      ok = false;
    } else {
      bind(*first, first_args);
    }
  }
  if (!ok) return std::nullopt;

  Cursor tmpl = def.at("layer");
  active_blocks_.push_back(block);
  std::optional<Node> result;
  auto mark = [&](Node& n, const Env& used) {
    n.instance_of = block;
    for (const auto& [key, value] : used)
      if (key != "index") n.block_args.emplace_back(key, value.value->dump());
  };
  // The template may itself be an `if`: one layer, a list of layers (a
  // Sequential), or nothing (a false `if` without `else`: the identity).
  auto expand = [&](const Env& e, const std::string& n) -> std::optional<Node> {
    Cursor t = tmpl;
    if (t.value->is_object() && t.value->contains("if") && !t.value->contains("type")) {
      auto r = resolve(t, e, n);
      if (!r) return std::nullopt;
      t = *r;
    }
    if (t.value->is_null()) return Node{n, c.pointer, {}, Sequential{}, {}, {}, {}};
    if (t.value->is_array()) {
      auto l = layer_list(t, e, n);
      if (!l) return std::nullopt;
      return Node{n, t.pointer, {}, Sequential{std::move(*l)}, {}, {}, {}};
    }
    return layer(t, e, n);
  };
  if (!repeat) {
    result = expand(args, name);
    if (result) mark(*result, args);
  } else {
    Sequential seq;
    for (int64_t i = 0; i < count && !too_many_; ++i) {
      Env inst = i == 0 ? first_args : args;
      computed_.push_back(json(i));
      inst["index"] = Cursor{&computed_.back(), c.pointer + "/repeat"};  // "$index": 0, 1, …
      auto child = expand(inst, join_name(name, std::to_string(i)));
      if (!child) { ok = false; break; }  // one report per block, not per repeat
      mark(*child, inst);
      seq.layers.push_back(std::move(*child));
    }
    if (ok && !too_many_) result = Node{name, c.pointer, block, std::move(seq), {}, {}, {}};
  }
  active_blocks_.pop_back();
  if (result && !repeat) result->block = block;
  // `from` on the block's use: where the instance (or the repeated stack) reads.
  if (result && c.value->contains("from") && !from_field(c, env, *result)) return std::nullopt;
  return result;
}

std::optional<Kind> Parser::kind(const std::string& type, const Cursor& c, const Env& env,
                                 const std::string& name) {
  Fields f(*this, c, env, name, type);
  bool ok = true;
  std::optional<Kind> out;
  if (int rank = rank_of(type, Conv::names)) {
    Conv k;
    k.rank = rank;
    k.in_channels = f.inferred_arg("in_channels", &ok);
    k.out_channels = f.int_arg("out_channels", &ok).value_or(0);
    k.kernel_size = f.dims_arg("kernel_size", rank, &ok).value_or(Dims(rank, 1));
    k.stride = *f.dims_arg("stride", rank, &ok);
    k.padding = f.dims_default("padding", rank);
    if (auto p = f.get("padding")) {
      if (p->value->is_string()) {
        const auto& s = p->value->get_ref<const std::string&>();
        if (s == "same") k.padding_mode = Padding::same;
        else if (s == "valid") k.padding_mode = Padding::valid;
        else {
          auto& d = diags_.error("wrong-type",
                                 fmt::format("`padding` of {} must be an integer, {}, \"same\" or \"valid\", got {}",
                                             type, dims_form(rank), describe(*p->value)),
                                 p->pointer, name);
          if (auto m = did_you_mean(s, {"same", "valid"})) d.help = fmt::format("did you mean \"{}\"?", *m);
          ok = false;
        }
      } else if (auto v = f.dims_value(*p, "padding", rank, 0)) {
        k.padding = *v;
      } else {
        ok = false;
      }
    }
    k.dilation = *f.dims_arg("dilation", rank, &ok);
    k.groups = f.int_arg("groups", &ok).value_or(1);
    k.bias = f.bool_arg("bias", &ok);
    if (auto m = f.get("padding_mode")) {
      if (!m->value->is_string() || m->value->get<std::string>() != "zeros") {
        auto& d = diags_.error("unsupported",
                               fmt::format("only padding_mode \"zeros\" is supported, got {}",
                                           describe(*m->value)),
                               m->pointer, name);
        d.help = "remove padding_mode (the shape arithmetic is the same for every mode)";
        ok = false;
      }
    }
    if (ok && k.padding_mode == Padding::same && *std::max_element(k.stride.begin(), k.stride.end()) > 1) {
      int64_t keep = k.dilation[0] * (k.kernel_size[0] - 1) / 2;
      auto& d = diags_.error("same-padding-stride",
                             fmt::format("padding \"same\" is not supported with stride {}", list_text(k.stride)),
                             c.pointer + "/padding", name);
      d.notes.push_back("PyTorch: \"padding='same' is not supported for strided convolutions\"");
      d.help = fmt::format("use stride 1, or an explicit padding such as {} (keeps the size at "
                           "stride 1, halves it at stride 2 when the input is even)",
                           keep);
      d.fixes.push_back({fmt::format("pad explicitly: {} keeps the size at stride 1 and halves it "
                                     "at stride 2",
                                     keep),
                         {fmt::format("{}.padding={}", name, keep)}});
      d.fixes.push_back({"use stride 1, which \"same\" needs", {name + ".stride=1"}});
      ok = false;
    }
    if (ok && k.out_channels % k.groups != 0) {
      auto& d = diags_.error("groups",
                             fmt::format("out_channels {} is not divisible by groups {}",
                                         k.out_channels, k.groups),
                             c.pointer + "/groups", name);
      d.notes.push_back("PyTorch: \"out_channels must be divisible by groups\"");
      int64_t g = largest_divisor_below(k.out_channels, k.groups);
      d.fixes.push_back({fmt::format("use groups {}, which divides {}", g, k.out_channels),
                         {fmt::format("{}.groups={}", name, g)}});
      ok = false;
    }
    if (ok && k.in_channels && *k.in_channels % k.groups != 0) {
      diags_.error("groups",
                   fmt::format("in_channels {} is not divisible by groups {}", *k.in_channels,
                               k.groups),
                   c.pointer + "/groups", name)
          .notes.push_back("PyTorch: \"in_channels must be divisible by groups\"");
      ok = false;
    }
    out = k;
  } else if (int rank = rank_of(type, ConvTranspose::names)) {
    ConvTranspose k;
    k.rank = rank;
    k.in_channels = f.inferred_arg("in_channels", &ok);
    k.out_channels = f.int_arg("out_channels", &ok).value_or(0);
    k.kernel_size = f.dims_arg("kernel_size", rank, &ok).value_or(Dims(rank, 1));
    k.stride = *f.dims_arg("stride", rank, &ok);
    k.padding = *f.dims_arg("padding", rank, &ok);
    k.output_padding = *f.dims_arg("output_padding", rank, &ok);
    k.dilation = *f.dims_arg("dilation", rank, &ok);
    k.groups = f.int_arg("groups", &ok).value_or(1);
    k.bias = f.bool_arg("bias", &ok);
    if (auto m = f.get("padding_mode"); m && !(m->value->is_string() && m->value->get<std::string>() == "zeros")) {
      diags_.error("unsupported", fmt::format("{} supports only padding_mode \"zeros\", as PyTorch", type),
                   m->pointer, name)
          .notes.push_back(fmt::format("PyTorch: 'Only \"zeros\" padding mode is supported for {}'", type));
      ok = false;
    }
    // ATen: "output padding must be smaller than either stride or dilation".
    for (std::size_t d = 0; d < k.stride.size() && ok; ++d) {
      int64_t op = k.output_padding[d], st = k.stride[d], di = k.dilation[d];
      if (op < st || op < di) continue;
      auto& e = diags_.error("output-padding",
                             fmt::format("output_padding {} is not smaller than the stride {} or the dilation {}",
                                         op, st, di),
                             c.pointer + "/output_padding", name);
      e.notes.push_back("PyTorch: \"output padding must be smaller than either stride or dilation\"");
      e.help = "output_padding picks one of the `stride` sizes a strided conv maps onto the same input; "
               "it must be below the stride";
      int64_t fit = std::max(st, di) - 1;
      e.fixes.push_back({fmt::format("use output_padding {}", fit),
                         {fmt::format("{}.output_padding={}", name, fit)}});
      ok = false;
    }
    if (ok && k.out_channels % k.groups != 0) {
      diags_.error("groups", fmt::format("out_channels {} is not divisible by groups {}", k.out_channels, k.groups),
                   c.pointer + "/groups", name)
          .notes.push_back("PyTorch: \"out_channels must be divisible by groups\"");
      ok = false;
    }
    out = k;
  } else if (int rank = rank_of(type, BatchNorm::names)) {
    BatchNorm k;
    k.rank = rank;
    k.num_features = f.inferred_arg("num_features", &ok);
    k.eps = f.number_arg("eps", &ok);
    k.momentum = f.number_arg("momentum", &ok);
    k.affine = f.bool_arg("affine", &ok);
    k.track_running_stats = f.bool_arg("track_running_stats", &ok);
    out = k;
  } else if (type == "ReLU") {
    out = ReLU{f.bool_arg("inplace", &ok)};
  } else if (rank_of(type, MaxPool::names) || rank_of(type, AvgPool::names) || type == "LPPool1d" ||
             type == "LPPool2d") {
    bool max = rank_of(type, MaxPool::names) != 0;
    bool lp = type == "LPPool1d" || type == "LPPool2d";
    int rank = max ? rank_of(type, MaxPool::names) : lp ? type[6] - '0' : rank_of(type, AvgPool::names);
    double norm_type = lp ? f.number_arg("norm_type", &ok) : 0;
    if (lp && !f.get("norm_type")) { f.missing("norm_type", "a positive number (2 for an L2 pool)"); ok = false; }
    KernelRead read;
    Dims kernel;
    if (!lp && kernel_read(f, name, rank, kernel, read, &ok)) {  // F.avg_pool2d(x, x.size(3))
      auto st = f.get("stride");
      read.stride_follows = !st || st->value->is_null();
    } else {
      kernel = f.dims_arg("kernel_size", rank, &ok).value_or(Dims(rank, 1));
    }
    Dims stride = *f.dims_arg("stride", rank, &ok, kernel);
    Dims padding = lp ? Dims(rank, 0) : *f.dims_arg("padding", rank, &ok);
    Dims dilation(rank, 1);
    if (max) dilation = *f.dims_arg("dilation", rank, &ok);
    bool ceil_mode = f.bool_arg("ceil_mode", &ok);
    bool count_include_pad = !max && !lp && f.bool_arg("count_include_pad", &ok);
    // AvgPool2d/3d only (AvgPool1d has none): what each window's sum is divided
    // by. Any integer but 0, as ATen's "divisor must be not zero"; no shape effect.
    std::optional<int64_t> divisor;
    if (!max && !lp && rank >= 2) divisor = f.optional_integer("divisor_override", -kMaxInt, &ok);
    if (divisor && *divisor == 0) {
      auto& d = diags_.error("out-of-range", fmt::format("`divisor_override` of {} must not be 0", type),
                             c.pointer + "/divisor_override", name);
      d.notes.push_back("PyTorch: \"divisor must be not zero\"");
      d.help = "leave it out to divide each window's sum by the window's size";
      ok = false;
    }
    std::size_t bad = 0;
    auto read_at = [&](std::size_t i) { return i < read.from_dim.size() && read.from_dim[i]; };
    while (bad < kernel.size() && (read_at(bad) || padding[bad] <= kernel[bad] / 2)) ++bad;  // read: checked later
    if (ok && bad < kernel.size()) {
      auto& d = diags_.error(
          "pool-padding",
          fmt::format("{} padding {} is more than half the kernel size {}", type, padding[bad], kernel[bad]),
          c.pointer + "/padding", name);
      d.notes.push_back(
          "PyTorch: \"pad should be at most half of kernel size\": a window would then see "
          "only padding");
      d.help = fmt::format("use padding {} or less, or a kernel of {} or more", kernel[bad] / 2, 2 * padding[bad]);
      Dims fit = padding, grown = kernel;
      for (std::size_t i = 0; i < kernel.size(); ++i) {
        fit[i] = std::min(padding[i], kernel[i] / 2);
        grown[i] = std::max(kernel[i], 2 * padding[i]);
      }
      d.fixes.push_back({fmt::format("use padding {}, half the kernel", list_text(fit)),
                         {fmt::format("{}.padding={}", name, list_text(fit))}});
      d.fixes.push_back({fmt::format("use a kernel of {}", list_text(grown)),
                         {fmt::format("{}.kernel_size={}", name, list_text(grown))}});
      ok = false;
    }
    if (max) out = MaxPool{rank, kernel, stride, padding, dilation, ceil_mode, read};
    else out = AvgPool{rank, kernel, stride, padding, ceil_mode, count_include_pad || lp, norm_type, divisor, read};
  } else if (rank_of(type, AdaptiveAvgPool::names) || rank_of(type, AdaptiveMaxPool::names)) {
    bool avg = rank_of(type, AdaptiveAvgPool::names) != 0;
    int rank = avg ? rank_of(type, AdaptiveAvgPool::names) : rank_of(type, AdaptiveMaxPool::names);
    Dims size(rank, 1);
    if (auto v = f.get("output_size")) {
      // An int, or a list where null keeps that input dim (PyTorch's None).
      if (v->value->is_array() && v->value->size() == static_cast<std::size_t>(rank)) {
        for (std::size_t i = 0; i < size.size(); ++i) {
          Cursor e = v->at(i);
          size[i] = 0;
          if (e.value->is_null() && rank > 1) continue;  // AdaptiveAvgPool1d takes no None
          auto n = f.integer_value(e, "output_size", 1);
          if (!n) ok = false;
          else size[i] = *n;
        }
      } else if (auto p = f.dims_value(*v, "output_size", rank, 1)) {
        size = *p;
      } else {
        ok = false;
      }
    } else {
      f.missing("output_size", fmt::format("an integer or {}", dims_form(rank)));
      ok = false;
    }
    if (avg) out = AdaptiveAvgPool{rank, size};
    else out = AdaptiveMaxPool{rank, size};
  } else if (type == "Flatten") {
    Flatten k;
    auto dim = [&](const std::string& key, int64_t dflt) -> int64_t {
      auto v = f.get(key);
      if (!v) return dflt;
      auto n = exact_int(*v->value);
      if (!n || *n < -64 || *n > 64) {
        f.bad(*v, key, "a dimension index (an integer; negative counts from the end)");
        ok = false;
        return dflt;
      }
      return *n;
    };
    k.start_dim = dim("start_dim", f.spec("start_dim").dflt.get<int64_t>());
    k.end_dim = dim("end_dim", f.spec("end_dim").dflt.get<int64_t>());
    out = k;
  } else if (type == "Linear") {
    Linear k;
    k.in_features = f.inferred_arg("in_features", &ok);
    k.out_features = f.int_arg("out_features", &ok).value_or(0);
    k.bias = f.bool_arg("bias", &ok);
    out = k;
  } else if (type == "Dropout" || type == "Dropout1d" || type == "Dropout2d" || type == "Dropout3d" ||
             type == "AlphaDropout" || type == "FeatureAlphaDropout") {
    Dropout k;
    k.alpha = type.find("Alpha") != std::string::npos;
    k.rank = type == "Dropout1d" ? 1 : type == "Dropout2d" || type == "FeatureAlphaDropout" ? 2
           : type == "Dropout3d" ? 3 : 0;
    k.p = f.number_arg("p", &ok);
    k.inplace = f.bool_arg("inplace", &ok);
    out = k;
  } else if (type == "Embedding") {
    out = embedding(f, c, name, &ok);
  } else if (type == "StochasticDepth") {
    Dropout k;
    k.stochastic = true;
    k.p = f.number_arg("p", &ok);
    k.row_mode = f.choice_arg("mode", &ok) == "row";
    out = k;
  } else if (type == "Sequential") {
    auto v = f.get("layers");
    if (!v) { f.missing("layers", "[ ...layers... ]"); ok = false; }
    else if (auto l = layer_list(*v, env, name)) out = Sequential{std::move(*l)};
    else ok = false;
  } else if (type == "Residual") {
    Branches r;
    r.residual = true;
    r.branches = {{"body", {}}, {"shortcut", {}}};
    auto branch = [&](const std::string& key, bool required, Layers& into) {
      auto v = f.get(key);
      if (!v) {
        if (required) { f.missing(key, "[ ...layers... ]"); ok = false; }
        return;
      }
      if (auto l = layer_list(*v, env, join_name(name, key))) into = std::move(*l);
      else ok = false;
    };
    branch("body", true, r.branches[0].layers);
    branch("shortcut", false, r.branches[1].layers);
    branch("after", false, r.after);
    r.merged = f.bool_arg("add", &ok);
    if (ok && r.branches[0].layers.empty()) {
      auto& d = diags_.error("empty-body", fmt::format("residual `{}` has an empty body", name),
                             c.pointer + "/body", name);
      d.help = "a residual adds body(x) to x; give the body at least one layer";
      ok = false;
    }
    out = std::move(r);
  } else if (type == "Branches") {
    Branches b;
    b.merge = merge_fields(f, c, name, "merge", &ok);
    if (auto v = f.get("branches")) {
      if (auto l = branch_list(*v, env, name)) b.branches = std::move(*l);
      else ok = false;
    } else {
      f.missing("branches", "[[...layers...], [...layers...]] or [{\"name\": ..., \"layers\": [...]}, ...]");
      ok = false;
    }
    if (auto v = f.get("after")) {
      if (auto l = layer_list(*v, env, join_name(name, "after"))) b.after = std::move(*l);
      else ok = false;
    }
    b.merged = f.bool_arg("add", &ok);
    if (ok && b.merge.op == MergeOp::matmul && b.branches.size() != 2) {  // torch.matmul(a, b)
      auto& d = diags_.error("wrong-type", fmt::format("a matmul merges exactly two branches, a @ b; `{}` has {}", name,
                                                       b.branches.size()),
                             c.pointer + "/branches", name);
      d.help = "give two branches: the first is a, the second b (attention's q and k.transpose(-2, -1))";
      ok = false;
    }
    if (!b.merged && b.merge.op != MergeOp::add) {
      diags_.error("wrong-type", "`add`: false only makes sense with merge \"add\"",
                   c.pointer + "/add", name);
      ok = false;
    }
    out = std::move(b);
  } else if (std::any_of(std::begin(kMergeOps), std::end(kMergeOps), [&](MergeOp o) { return type == merge_type(o); })) {
    out = merge_fields(f, c, name, type, &ok);
  } else if (auto k = resizing_kind(type, f, c, name, &ok)) {
    out = std::move(*k);
  } else if (auto k = norm_kind(type, f, c, name, &ok)) {
    out = std::move(*k);
  } else if (auto pk = std::find_if(pointwise_kinds().begin(), pointwise_kinds().end(),
                                    [&](const PointwiseKind& k) { return type == k.name; });
             pk != pointwise_kinds().end()) {
    Pointwise k{pk->fn, false, {}, false};
    for (const auto& [arg, dflt] : pk->args) {
      // Threshold(threshold, value) has no defaults in PyTorch: both are required.
      if (f.spec(arg).required && !f.get(arg)) { f.missing(arg, "a number"); ok = false; }
      k.args.push_back(f.float32_arg(arg, &ok));
    }
    if (pk->inplace) k.inplace = f.bool_arg("inplace", &ok);
    if (pk->fn == Fn::gelu)
      if (auto a = f.get("approximate")) {
        if (a->value->is_string() && (a->value->get<std::string>() == "none" || a->value->get<std::string>() == "tanh"))
          k.tanh_gelu = a->value->get<std::string>() == "tanh";
        else { f.bad(*a, "approximate", "\"none\" or \"tanh\""); ok = false; }
      }
    out = k;
  } else {
    std::vector<std::string> names = builtin_names();
    if (blocks_)
      for (auto it = blocks_->begin(); it != blocks_->end(); ++it) names.push_back(it.key());
    // A real torch.nn layer is not a typo: never offer another layer for it.
    const auto& torch_nn = unsupported_torch_layers();
    if (std::find(torch_nn.begin(), torch_nn.end(), type) != torch_nn.end()) {
      auto& d = diags_.error("unsupported-type",
                             fmt::format("`{}` is a PyTorch layer netshape does not support yet", type),
                             c.pointer + "/type", name);
      d.help = "docs/spec-format.md lists the layer kinds netshape knows, and those it does not yet";
      return std::nullopt;
    }
    auto& d = diags_.error("unknown-type", fmt::format("unknown layer type `{}`", type),
                           c.pointer + "/type", name);
    if (auto m = did_you_mean(type, names)) d.help = fmt::format("did you mean `{}`?", *m);
    else d.notes.push_back("`netshape help kinds` lists every layer type, by family");
    return std::nullopt;
  }
  if (!f.finish()) ok = false;
  if (!ok) return std::nullopt;
  return out;
}

// Upsample, the padding layers, PixelShuffle/Unshuffle and ChannelShuffle;
// nullopt when `type` is none of them.
std::optional<Kind> Parser::resizing_kind(const std::string& type, Fields& f, const Cursor& c,
                                          const std::string& name, bool* ok) {
  if (type == "Upsample" || type == "UpsamplingNearest2d" || type == "UpsamplingBilinear2d") {
    Upsample k;
    k.kind = type == "Upsample" ? 0 : type == "UpsamplingNearest2d" ? 1 : 2;
    k.mode = k.kind == 2 ? Interp::bilinear : Interp::nearest;
    if (k.kind == 2) k.align_corners = true;  // UpsamplingBilinear2d is F.interpolate(..., align_corners=True)
    auto size = f.get("size");
    auto scale = f.get("scale_factor");
    if (size && size->value->is_null()) size.reset();
    if (scale && scale->value->is_null()) scale.reset();
    if (auto from = f.get("size_from")) {
      // F.interpolate(x, size=y.shape[2:]): the spatial size of an earlier value.
      if (!size_from_field(f, *from,
                           size || scale ? fmt::format("{} takes one of `size`, `scale_factor` and `size_from`", type) : "",
                           "keep \"size_from\" to match that layer's size, or drop it for a fixed size or factor",
                           "the name of an earlier layer (or \"input\") whose spatial size the output takes", name, ok))
        return k;
      k.size_from = true;
    } else if (!size == !scale) {
      auto& d = diags_.error(size ? "wrong-type" : "missing-field",
                             size ? fmt::format("{} takes `size` or `scale_factor`, not both", type)
                                  : fmt::format("{} needs `size` or `scale_factor`", type),
                             c.pointer, name);
      d.notes.push_back(size ? "PyTorch: \"only one of size or scale_factor should be defined\""
                             : "PyTorch: \"either size or scale_factor should be defined\"");
      d.help = "give \"scale_factor\": 2 to double every spatial dim, or \"size\": [64, 64] for a fixed size";
      *ok = false;
      return k;
    }
    // An int (or number) for every spatial dim, or a list with one per dim.
    k.listed = k.size_from || (size ? size : scale)->value->is_array();
    if (k.size_from) {
    } else if (size) {
      if (size->value->is_array()) {
        for (std::size_t i = 0; i < size->value->size(); ++i)
          if (auto v = f.integer_value(size->at(i), "size", 1)) k.size.push_back(*v);
          else *ok = false;
        if (size->value->empty()) { f.bad(*size, "size", "a positive integer or a list of them"); *ok = false; }
      } else if (auto v = f.integer_value(*size, "size", 1)) {
        k.size.push_back(*v);
      } else {
        *ok = false;
      }
    } else {
      auto one = [&](const Cursor& e) {
        if (!e.value->is_number() || !(e.value->get<double>() > 0) || !std::isfinite(e.value->get<double>()) ||
            e.value->get<double>() > 1e9) {
          f.bad(e, "scale_factor", "a positive number (at most 1e9)");
          *ok = false;
          return;
        }
        k.scale.push_back(e.value->get<double>());
      };
      if (scale->value->is_array() && !scale->value->empty())
        for (std::size_t i = 0; i < scale->value->size(); ++i) one(scale->at(i));
      else
        one(*scale);
    }
    if (k.kind == 0) {
      if (auto m = f.get("mode")) {
        static const std::vector<std::string> modes = {"nearest", "nearest-exact", "linear", "bilinear",
                                                       "bicubic", "trilinear", "area"};
        auto it = m->value->is_string() ? std::find(modes.begin(), modes.end(), m->value->get<std::string>())
                                        : modes.end();
        if (it == modes.end()) {
          f.bad(*m, "mode", "\"nearest\", \"nearest-exact\", \"linear\", \"bilinear\", \"bicubic\", \"trilinear\" or \"area\"");
          *ok = false;
        } else {
          k.mode = static_cast<Interp>(it - modes.begin());
        }
      }
      if (auto a = f.get("align_corners"); a && !a->value->is_null()) {
        if (!a->value->is_boolean()) { f.bad(*a, "align_corners", "true, false or null"); *ok = false; }
        else k.align_corners = a->value->get<bool>();
      }
      // Accepted (the output size is the same either way), but as PyTorch types it: a bool or None.
      if (auto r = f.get("recompute_scale_factor"); r && !r->value->is_boolean()) {
        f.bad(*r, "recompute_scale_factor", "true, false or null");
        *ok = false;
      }
      bool interpolating = k.mode == Interp::linear || k.mode == Interp::bilinear || k.mode == Interp::bicubic ||
                           k.mode == Interp::trilinear;
      if (*ok && k.align_corners && !interpolating) {
        auto& d = diags_.error("align-corners",
                               fmt::format("align_corners is only for the interpolating modes, not \"{}\"",
                                           interp_name(k.mode)),
                               c.pointer + "/align_corners", name);
        d.notes.push_back("PyTorch: \"align_corners option can only be set with the interpolating modes: "
                          "linear | bilinear | bicubic | trilinear\"");
        d.fixes.push_back({"remove align_corners", {name + ".align_corners=null"}});
        *ok = false;
      }
    }
    return k;
  }
  auto pad_rank = [&](const char* base) {
    for (int r = 1; r <= 3; ++r)
      if (type == fmt_rank(base, r)) return r;
    return 0;
  };
  int rank = 0;
  Pad p;
  if ((rank = pad_rank("ConstantPad"))) p.mode = PadMode::constant;
  else if ((rank = pad_rank("ZeroPad"))) p.zero = true;
  else if ((rank = pad_rank("ReflectionPad"))) p.mode = PadMode::reflect;
  else if ((rank = pad_rank("ReplicationPad"))) p.mode = PadMode::replicate;
  if (rank) {
    p.rank = rank;
    // An int pads every side; a list gives 2·rank sizes, the last dim first.
    // Constant pads may be negative (they crop), as F.pad allows.
    int64_t lo = p.mode == PadMode::constant ? -kMaxInt : 0;
    auto v = f.get("padding");
    auto to = p.mode == PadMode::constant ? f.get("size_from") : std::nullopt;
    if (to) {  // F.pad(x1, [diffX // 2, diffX - diffX // 2, …]) with diffX = x2.size(3) - x1.size(3)
      p.to_other = size_from_field(f, *to, v ? fmt::format("{} takes one of `padding` and `size_from`", type) : "",
                                   "keep \"size_from\" to pad to that layer's size, or \"padding\" for fixed amounts",
                                   "the name of an earlier layer (or \"input\") whose size the output takes", name, ok);
      p.pads.assign(static_cast<std::size_t>(2 * rank), 0);
    } else if (!v) {
      f.missing("padding", fmt::format("an integer or a list of {} sizes (left, right{})", 2 * rank,
                                       rank >= 2 ? ", top, bottom" : ""));
      *ok = false;
    } else if (v->value->is_array()) {
      if (v->value->size() != static_cast<std::size_t>(2 * rank)) {
        auto& d = diags_.error("wrong-type",
                               fmt::format("`padding` of {} must be an integer or a list of {} sizes, got a list of {}",
                                           type, 2 * rank, v->value->size()),
                               v->pointer, name);
        d.help = rank == 1 ? "give [left, right]" : rank == 2 ? "give [left, right, top, bottom]"
                                                              : "give [left, right, top, bottom, front, back]";
        *ok = false;
      } else {
        for (std::size_t i = 0; i < v->value->size(); ++i)
          if (auto n = f.integer_value(v->at(i), "padding", lo)) p.pads.push_back(*n);
          else *ok = false;
      }
    } else if (auto n = f.integer_value(*v, "padding", lo)) {
      p.pads.assign(static_cast<std::size_t>(2 * rank), *n);
    } else {
      *ok = false;
    }
    if (p.mode == PadMode::constant && !p.zero) p.value = f.float32_arg("value", ok);
    return p;
  }
  if (type == "PixelShuffle" || type == "PixelUnshuffle") {
    PixelShuffle k;
    k.unshuffle = type == "PixelUnshuffle";
    k.factor = f.int_arg(k.unshuffle ? "downscale_factor" : "upscale_factor", ok).value_or(1);
    return k;
  }
  if (type == "ChannelShuffle") return ChannelShuffle{f.int_arg("groups", ok).value_or(1)};
  return std::nullopt;
}

// The normalisation layers beyond BatchNorm, PReLU, the softmaxes and
// Unflatten; nullopt when `type` is none of them.
std::optional<Kind> Parser::norm_kind(const std::string& type, Fields& f, const Cursor& c, const std::string& name,
                                      bool* ok) {
  if (int rank = rank_of(type, InstanceNorm::names)) {
    InstanceNorm k;
    k.rank = rank;
    k.num_features = f.inferred_arg("num_features", ok);
    k.eps = f.number_arg("eps", ok);
    k.momentum = f.number_arg("momentum", ok);
    k.affine = f.bool_arg("affine", ok);
    k.track_running_stats = f.bool_arg("track_running_stats", ok);
    return k;
  }
  if (type == "GroupNorm") {
    GroupNorm k;
    k.num_groups = f.int_arg("num_groups", ok).value_or(1);
    k.num_channels = f.inferred_arg("num_channels", ok);
    k.eps = f.number_arg("eps", ok);
    k.affine = f.bool_arg("affine", ok);
    if (*ok && k.num_channels && *k.num_channels % k.num_groups != 0) {
      auto& d = diags_.error("groups", fmt::format("num_channels {} is not divisible by num_groups {}",
                                                   *k.num_channels, k.num_groups),
                             c.pointer + "/num_groups", name);
      d.notes.push_back("PyTorch: \"num_channels must be divisible by num_groups\"");
      int64_t g = largest_divisor_below(*k.num_channels, k.num_groups);
      d.fixes.push_back({fmt::format("use num_groups {}, which divides {}", g, *k.num_channels),
                         {fmt::format("{}.num_groups={}", name, g)}});
      *ok = false;
    }
    return k;
  }
  if (type == "LayerNorm") {
    LayerNorm k;
    if (auto v = f.get("normalized_shape")) {
      if (v->value->is_array() && !v->value->empty() && v->value->size() <= 8) {
        for (std::size_t i = 0; i < v->value->size(); ++i)
          if (auto n = f.integer_value(v->at(i), "normalized_shape", 1)) k.normalized_shape.push_back(*n);
          else *ok = false;
      } else if (auto n = f.integer_value(*v, "normalized_shape", 1)) {
        k.normalized_shape = {*n};
      } else {
        *ok = false;
      }
    } else {
      f.missing("normalized_shape", "the trailing dims to normalise, e.g. 768 or [64, 56, 56]");
      *ok = false;
    }
    k.eps = f.number_arg("eps", ok);
    k.elementwise_affine = f.bool_arg("elementwise_affine", ok);
    k.bias = f.bool_arg("bias", ok);
    return k;
  }
  if (type == "LocalResponseNorm") {
    LocalResponseNorm k;
    k.size = f.int_arg("size", ok).value_or(1);
    k.alpha = f.number_arg("alpha", ok);
    k.beta = f.number_arg("beta", ok);
    k.k = f.number_arg("k", ok);
    return k;
  }
  if (type == "PReLU") {
    PReLU k;
    k.num_parameters = f.int_arg("num_parameters", ok).value_or(1);
    k.init = f.float32_arg("init", ok);
    return k;
  }
  if (type == "Softmax" || type == "LogSoftmax" || type == "Softmin" || type == "Softmax2d") {
    Softmax k;
    k.which = type == "Softmax" ? Softmax::softmax : type == "LogSoftmax" ? Softmax::log_softmax
            : type == "Softmin" ? Softmax::softmin : Softmax::softmax2d;
    if (k.which != Softmax::softmax2d)
      if (auto v = f.get("dim"); v && !v->value->is_null()) {
        auto n = exact_int(*v->value);
        if (!n || *n < -64 || *n > 64) { f.bad(*v, "dim", "a dimension index (negative counts from the end)"); *ok = false; }
        else k.dim = *n;
      }
    return k;
  }
  if (type == "GLU") return GLU{f.dim_arg("dim", ok)};
  if (type == "Squeeze" || type == "Unsqueeze") {
    Squeeze k{type == "Unsqueeze", std::nullopt};
    if (k.unsqueeze) k.dim = f.dim_arg("dim", ok);
    else if (f.get("dim")) k.dim = f.dim_arg("dim", ok);
    return k;
  }
  if (type == "Select") {
    Select k{f.dim_arg("dim", ok), 0};
    auto v = f.get("index");
    auto n = v ? exact_int(*v->value) : std::nullopt;
    if (!v) { f.missing("index", "the entry kept, e.g. 0"); *ok = false; }
    else if (!n || *n < -kMaxInt || *n > kMaxInt) { f.bad(*v, "index", "an integer"); *ok = false; }
    else k.index = *n;
    return k;
  }
  if (type == "Mean" || type == "Sum" || type == "Amax") {
    Reduce k{type == "Mean" ? Reduce::mean : type == "Sum" ? Reduce::sum : Reduce::amax, {}, false};
    auto v = f.get("dim");
    if (!v) { f.missing("dim", "the dims reduced, e.g. [2, 3]"); *ok = false; }
    else if (auto one = exact_int(*v->value); one && *one >= -64 && *one <= 64) k.dims = {*one};
    else if (!v->value->is_array() || v->value->empty() || v->value->size() > 8) {
      f.bad(*v, "dim", "a dim index or a list of 1 to 8");
      *ok = false;
    } else {
      for (std::size_t i = 0; i < v->value->size(); ++i) {
        auto x = exact_int(*v->at(i).value);
        if (x && *x >= -64 && *x <= 64) k.dims.push_back(*x);
        else { f.bad(v->at(i), "dim", "a dim index (negative counts from the end)"); *ok = false; }
      }
    }
    k.keepdim = f.bool_arg("keepdim", ok);
    return k;
  }
  if (type == "Expand") {
    Expand k;
    auto v = f.get("sizes");
    if (auto from = f.get("size_from")) {  // x.expand_as(y)
      k.as_other = size_from_field(f, *from, v ? "Expand takes one of `sizes` and `size_from`" : "",
                                   "keep \"size_from\" for x.expand_as(y), or \"sizes\" for x.expand(*sizes)",
                                   "the name of an earlier layer (or \"input\") whose shape the output takes", name, ok);
      return k;
    }
    if (!v) { f.missing("sizes", "the new sizes, e.g. [-1, -1, 7, 7] (or \"size_from\": a layer's shape)"); *ok = false; }
    else if (!v->value->is_array() || v->value->empty() || v->value->size() > 8) {
      f.bad(*v, "sizes", "a list of 1 to 8 sizes (-1 keeps a dim)");
      *ok = false;
    } else {
      for (std::size_t i = 0; i < v->value->size(); ++i) {
        Cursor e = v->at(i);
        auto x = exact_int(*e.value);
        if (e.value->is_string()) {
          if (!size_of(e, f, name, "sizes", k.sizes, k.from_dim, ok)) *ok = false;
        } else if (x && *x == -1) {
          k.sizes.push_back(-1);
        } else if (auto m = f.integer_value(e, "sizes", 1)) {
          k.sizes.push_back(*m);
        } else {
          *ok = false;
        }
      }
      if (!k.from_dim.empty()) k.from_dim.resize(k.sizes.size());
    }
    return k;
  }
  if (type == "Parameter") {
    Parameter k;
    auto v = f.get("shape");
    if (!v) { f.missing("shape", "the tensor's sizes, e.g. [1, 1, 768]"); *ok = false; }
    else if (!v->value->is_array() || v->value->empty() || v->value->size() > 8) {
      f.bad(*v, "shape", "a list of 1 to 8 sizes, each ≥ 1");
      *ok = false;
    } else {
      for (std::size_t i = 0; i < v->value->size(); ++i)
        if (auto m = f.integer_value(v->at(i), "shape", 1)) k.shape.push_back(*m);
        else *ok = false;
    }
    return k;
  }
  if (type == "Roll") {
    // An int or a list of ints, for shifts and for dims.
    auto list = [&](const char* key, bool dim) -> Shape {
      Shape out;
      auto v = f.get(key);
      if (!v) return out;
      auto one = exact_int(*v->value);
      auto fits = [&](int64_t x) { return dim ? x >= -64 && x <= 64 : x >= -kMaxInt && x <= kMaxInt; };
      if (one && fits(*one)) return {*one};
      bool ok_list = v->value->is_array() && v->value->size() <= 8 && (dim || !v->value->empty());
      for (std::size_t i = 0; ok_list && i < v->value->size(); ++i) {
        auto x = exact_int(*v->at(i).value);
        if (x && fits(*x)) out.push_back(*x);
        else ok_list = false;
      }
      if (!ok_list) { f.bad(*v, key, dim ? "a dim index or a list of them" : "an integer or a list of them"); *ok = false; }
      return out;
    };
    Roll k{list("shifts", false), list("dims", true)};
    if (!f.get("shifts")) { f.missing("shifts", "how far to roll, e.g. [-3, -3]"); *ok = false; }
    return k;
  }
  if (type == "Transpose") {
    Permute k{true, {}, f.dim_arg("dim0", ok), 0};
    k.dim1 = f.dim_arg("dim1", ok);
    return k;
  }
  if (type == "Permute" || type == "Reshape" || type == "View") {
    const bool permute = type == "Permute";
    const char* key = permute ? "dims" : "shape";
    Shape list;
    std::vector<std::optional<int64_t>> from_dim;
    auto v = f.get(key);
    if (!v) { f.missing(key, permute ? "the new order of the dims, e.g. [0, 2, 3, 1]" : "the new sizes, e.g. [-1, 400]"); *ok = false; }
    else if (!v->value->is_array() || v->value->empty() || v->value->size() > 8) {
      f.bad(*v, key, permute ? "a list of 1 to 8 dim indices" : "a list of 1 to 8 sizes (one may be -1)");
      *ok = false;
    } else {
      int inferred = 0;
      for (std::size_t i = 0; i < v->value->size(); ++i) {
        Cursor e = v->at(i);
        auto x = exact_int(*e.value);
        if (permute && x && *x >= -64 && *x <= 64) { list.push_back(*x); continue; }
        if (permute) { f.bad(e, key, "a dim index (negative counts from the end)"); *ok = false; continue; }
        if (e.value->is_string()) {  // "x.shape[0]": another value's size
          if (!size_of(e, f, name, key, list, from_dim, ok)) *ok = false;
          continue;
        }
        if (x && *x == -1 && ++inferred == 1) { list.push_back(-1); continue; }
        if (x && *x == -1) {  // ATen's infer_size
          f.bad(e, key, "a size: only one dimension can be inferred (PyTorch: \"only one dimension can be inferred\")");
          *ok = false;
        } else if (auto m = f.integer_value(e, key, 0)) list.push_back(*m);
        else *ok = false;
      }
    }
    if (permute) return Permute{false, list, 0, 0};
    if (!from_dim.empty()) from_dim.resize(list.size());
    return Reshape{type == "View", list, std::move(from_dim)};
  }
  if (type == "Slice") {
    Slice k;
    k.dim = f.dim_arg("dim", ok, "the dimension to slice, e.g. 2");
    for (auto [key, at] : {std::pair{"start", &k.start}, {"end", &k.end}}) {
      auto v = f.get(key);
      if (!v || v->value->is_null()) continue;
      auto x = exact_int(*v->value);
      if (!x || *x < -kMaxInt || *x > kMaxInt) { f.bad(*v, key, "an integer or null"); *ok = false; }
      else *at = *x;
    }
    k.step = f.int_arg("step", ok).value_or(1);
    return k;
  }
  if (type == "Narrow" || type == "Chunk") {
    if (type == "Narrow") {
      Narrow k;
      k.dim = f.dim_arg("dim", ok, "the dimension to narrow, e.g. 1");
      auto st = f.get("start");
      auto n = st ? exact_int(*st->value) : std::nullopt;
      if (!st) { f.missing("start", "the first index kept (negative counts from the end)"); *ok = false; }
      else if (!n || *n < -kMaxInt || *n > kMaxInt) { f.bad(*st, "start", "an integer"); *ok = false; }
      else k.start = *n;
      k.length = f.int_arg("length", ok).value_or(1);
      return k;
    }
    Chunk k;
    k.chunks = f.int_arg("chunks", ok).value_or(1);
    k.dim = f.dim_arg("dim", ok);  // torch.chunk's default dim is 0
    k.index = f.int_arg("index", ok).value_or(0);
    return k;
  }
  if (type == "Unflatten") {
    Unflatten k;
    k.dim = f.dim_arg("dim", ok, "the dimension to unflatten, e.g. 1");
    auto v = f.get("unflattened_size");
    if (!v) { f.missing("unflattened_size", "the new sizes, e.g. [16, 5, 5]"); *ok = false; }
    else if (!v->value->is_array() || v->value->empty() || v->value->size() > 8) {
      f.bad(*v, "unflattened_size", "a list of 1 to 8 sizes (one may be -1)");
      *ok = false;
    } else {
      int inferred = 0;
      for (std::size_t i = 0; i < v->value->size(); ++i) {
        Cursor e = v->at(i);
        auto x = exact_int(*e.value);
        if (x && *x == -1 && ++inferred == 1) { k.sizes.push_back(-1); continue; }
        if (auto m = f.integer_value(e, "unflattened_size", 1)) k.sizes.push_back(*m);
        else *ok = false;
      }
    }
    return k;
  }
  return std::nullopt;
}

std::optional<Spec> Parser::spec(const Cursor& root) {
  if (!root.value->is_object()) {
    auto& d = diags_.error("wrong-type",
                           fmt::format("a spec must be a JSON object, got {}",
                                       type_word(*root.value)),
                           "", "");
    d.help = "write {\"input\": [1, 3, 224, 224], \"layers\": [...]}";
    return std::nullopt;
  }
  Spec spec;
  bool ok = true;
  static const std::vector<std::string> top = {"$schema", "name", "description", "input",
                                               "blocks", "layers", "outputs", "allow"};
  for (auto it = root.value->begin(); it != root.value->end(); ++it) {
    if (std::find(top.begin(), top.end(), it.key()) != top.end()) continue;
    auto& d = diags_.error("unknown-field", fmt::format("a spec has no field `{}`", it.key()),
                           "/" + pointer_escape(it.key()), "");
    if (auto m = did_you_mean(it.key(), top)) d.help = fmt::format("did you mean `{}`?", *m);
    else d.notes.push_back("a spec takes: name, description, input, blocks, layers, outputs");
    ok = false;
  }
  if (root.value->contains("name")) {
    Cursor n = root.at("name");
    if (n.value->is_string()) {
      spec.name = n.value->get<std::string>();
      if (!printable_name(spec.name, "the spec's name", n.pointer, "")) ok = false;
    } else {
      diags_.error("wrong-type", fmt::format("`name` must be a string, got {}", describe(*n.value)),
                   n.pointer, "");
      ok = false;
    }
  }
  if (root.value->contains("description") && !(*root.value)["description"].is_string()) {
    diags_.error("wrong-type", "`description` must be a string", "/description", "");
    ok = false;
  } else if (root.value->contains("description")) {
    spec.description = (*root.value)["description"].get<std::string>();
  }
  Override* input_override = override_for("", "input");
  if (!root.value->contains("input") && !input_override) {
    auto& d = diags_.error("missing-field", "the spec has no `input` shape", "", "");
    d.help = "add \"input\": [1, 3, 224, 224] (batch, channels, height, width)";
    ok = false;
  } else {
    Cursor in = input_override ? Cursor{&input_override->value, "--set " + input_override->text}
                               : root.at("input");
    if (input_override) input_override->used = true;
    if (!in.value->is_array() || in.value->empty() || in.value->size() > 8) {
      auto& d = diags_.error("wrong-type",
                             fmt::format("`input` must be a list of 1 to 8 sizes, got {}",
                                         describe(*in.value)),
                             in.pointer, "");
      d.help = "write the NCHW shape, e.g. [1, 3, 224, 224]";
      ok = false;
    } else {
      for (std::size_t i = 0; i < in.value->size(); ++i) {
        const json& e = (*in.value)[i];
        // A name stands for any size: the batch, or a spatial dim of an NCHW input.
        if (e.is_string()) {
          const std::string& n = e.get_ref<const std::string&>();
          bool word = !n.empty() && n.size() < 32 && std::isalpha(static_cast<unsigned char>(n[0])) &&
                      std::all_of(n.begin(), n.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
          bool place = i == 0 || (in.value->size() == 4 && i >= 2);
          if (word && place) {
            auto same = std::find(spec.input_names.begin(), spec.input_names.end(), n);
            if (same != spec.input_names.end()) {
              auto& d = diags_.error("wrong-type",
                                     fmt::format("input sizes {} and {} are both named `{}`, but they are different "
                                                 "dims", same - spec.input_names.begin(), i, n),
                                     in.pointer + "/" + std::to_string(i), "");
              d.help = "give each named dim its own name, e.g. [\"N\", 3, \"H\", \"W\"]";
              ok = false;
              continue;
            }
            spec.input_names.resize(in.value->size());
            spec.input_names[i] = n;
            spec.input.push_back(1);  // a placeholder until resolve_named_input
            continue;
          }
          auto& d = diags_.error("wrong-type",
                                 word ? fmt::format("input size {} cannot be named: only the batch and the "
                                                    "height and width of an NCHW input can", i)
                                      : fmt::format("input size {} must be an integer or a name like \"H\", got {}",
                                                    i, describe(e)),
                                 in.pointer + "/" + std::to_string(i), "");
          d.help = word ? "channels must be a number: the weights depend on them" : "write [\"N\", 3, \"H\", \"W\"] or [1, 3, 224, 224]";
          ok = false;
          continue;
        }
        auto v = exact_int((*in.value)[i]);
        if (!v || *v < 1 || *v > kMaxInt) {
          auto& d = diags_.error(
              v ? "out-of-range" : "wrong-type",
              fmt::format("input size {} must be an integer from 1 to {}, got {}", i, kMaxInt,
                          describe((*in.value)[i])),
              in.pointer + "/" + std::to_string(i), "");
          d.help = "write the NCHW shape, e.g. [1, 3, 224, 224]";
          ok = false;
        } else {
          spec.input.push_back(*v);
        }
      }
      if (!spec.input_names.empty()) spec.input_names.resize(spec.input.size());
    }
  }
  if (root.value->contains("blocks")) {
    Cursor b = root.at("blocks");
    if (!b.value->is_object()) {
      diags_.error("wrong-type",
                   fmt::format("`blocks` must be an object of named blocks, got {}",
                               type_word(*b.value)),
                   b.pointer, "");
      ok = false;
    } else {
      bool blocks_ok = true;
      for (auto it = b.value->begin(); it != b.value->end(); ++it) {
        Cursor def = b.at(it.key());
        std::string where = "block `" + it.key() + "`";
        if (!printable_name(it.key(), "a block name", def.pointer, "")) {
          blocks_ok = false;
          continue;
        }
        if (def.value->is_object() && def.value->contains("params") && (*def.value)["params"].is_object())
          for (auto p = (*def.value)["params"].begin(); p != (*def.value)["params"].end(); ++p)
            if (!printable_name(p.key(), "a block parameter's name", def.pointer + "/params/" + pointer_escape(p.key()), ""))
              blocks_ok = false;
        if (std::find(spec_names().begin(), spec_names().end(), it.key()) != spec_names().end()) {
          diags_.error("bad-name", fmt::format("a block cannot be named `{}`: that is a built-in "
                                               "layer type", it.key()),
                       def.pointer, "");
          blocks_ok = false;
          continue;
        }
        if (!def.value->is_object() || !def.value->contains("layer") ||
            !(*def.value)["layer"].is_object()) {
          auto& d = diags_.error("wrong-type", fmt::format("{} must be an object with a `layer`", where),
                                 def.pointer, "");
          d.help = "write {\"params\": {\"channels\": null, \"stride\": 1}, \"layer\": {...}}";
          blocks_ok = false;
          continue;
        }
        for (auto f = def.value->begin(); f != def.value->end(); ++f)
          if (f.key() != "params" && f.key() != "layer" && f.key() != "description") {
            auto& d = diags_.error("unknown-field",
                                   fmt::format("{} has no field `{}`", where, f.key()),
                                   def.pointer + "/" + pointer_escape(f.key()), "");
            d.notes.push_back("a block takes: params, layer, description");
            blocks_ok = false;
          }
        if (def.value->contains("params") && !(*def.value)["params"].is_object()) {
          diags_.error("wrong-type",
                       fmt::format("`params` of {} must be an object: name -> default (null "
                                   "for a required one)", where),
                       def.pointer + "/params", "");
          blocks_ok = false;
        }
      }
      if (blocks_ok) {
        blocks_ = b.value;
        for (auto it = b.value->begin(); it != b.value->end(); ++it) {
          const json& text = it->contains("description") ? (*it)["description"] : json();
          BlockDef def{it.key(), text.is_string() ? text.get<std::string>() : "", {}};
          if (it->contains("params"))
            for (auto p = (*it)["params"].begin(); p != (*it)["params"].end(); ++p)
              def.params.emplace_back(p.key(), p->is_null() ? std::nullopt : std::optional(p->dump()));
          spec.blocks.push_back(std::move(def));
        }
      }
      else ok = false;
    }
  }
  if (!root.value->contains("layers")) {
    auto& d = diags_.error("missing-field", "the spec has no `layers` list", "", "");
    d.help = "add \"layers\": [{\"type\": \"Conv2d\", ...}, ...]";
    return std::nullopt;
  }
  auto layers = layer_list(root.at("layers"), Env{}, "");
  for (auto& o : overrides_) {
    if (o.used) continue;
    auto& d = diags_.error("unknown-layer",
                           fmt::format("--set {}: the spec has no layer named `{}`", o.text, o.layer),
                           "--set " + o.text, o.layer);
    if (auto m = did_you_mean(o.layer, layer_names)) d.help = fmt::format("did you mean `{}`?", *m);
    else d.help = "`netshape table` lists every layer's dotted name";
    ok = false;
  }
  if (root.value->contains("outputs")) {
    Cursor o = root.at("outputs");
    bool names = o.value->is_array() && !o.value->empty();
    for (std::size_t i = 0; names && i < o.value->size(); ++i)
      names = (*o.value)[i].is_string();
    if (names) {
      for (const auto& e : *o.value) spec.outputs.push_back(e.get<std::string>());
    } else {
      auto& d = diags_.error("wrong-type",
                             fmt::format("`outputs` must be a list of layer names, got {}", describe(*o.value)),
                             o.pointer, "");
      d.help = "write \"outputs\": [\"head1\", \"head2\"]";
      ok = false;
    }
  }
  if (root.value->contains("allow")) {
    Cursor a = root.at("allow");
    bool list = a.value->is_array();
    for (std::size_t i = 0; list && i < a.value->size(); ++i) {
      const json& c = (*a.value)[i];
      if (c.is_string() && std::find(warning_codes().begin(), warning_codes().end(), c.get<std::string>()) !=
                               warning_codes().end()) {
        spec.allow.push_back(c.get<std::string>());
        continue;
      }
      auto& d = diags_.error("unknown-field", fmt::format("`allow` lists {}, which is not a warning code", describe(c)),
                             a.pointer + "/" + std::to_string(i), "");
      if (c.is_string())
        if (auto m = did_you_mean(c.get<std::string>(), warning_codes())) d.help = fmt::format("did you mean `{}`?", *m);
      d.notes.push_back(fmt::format("the warnings are {}", fmt::join(warning_codes(), ", ")));
      ok = false;
    }
    if (!list) {
      diags_.error("wrong-type", fmt::format("`allow` must be a list of warning codes, got {}", describe(*a.value)),
                   a.pointer, "");
      ok = false;
    }
  }
  if (!layers || !ok) return std::nullopt;
  spec.layers = std::move(*layers);
  if (!lower(spec, diags_)) return std::nullopt;
  return spec;
}

// Nesting depth found by a scan outside strings, before nlohmann parses: its
// parser, copies and dump() recurse, and a 100,000-deep document would crash
// them. Returns the byte offset where the limit is crossed, if it is.
std::optional<std::size_t> too_deep(std::string_view text) {
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char ch = text[i];
    if (in_string) {
      if (ch == '\\') ++i;
      else if (ch == '"') in_string = false;
    } else if (ch == '"') {
      in_string = true;
    } else if (ch == '[' || ch == '{') {
      if (++depth > kMaxNesting) return i;
    } else if (ch == ']' || ch == '}') {
      --depth;
    }
  }
  return std::nullopt;
}

// A SAX pass that reports duplicate keys (nlohmann keeps the last one
// silently) with their JSON Pointer. A separate pass, not json::parse's
// callback: nlohmann 3.11's callback parser scans the parent array at every
// object's end, which makes a 100,000-layer spec quadratic.
struct DuplicateKeyFinder : nlohmann::json_sax<json> {
  struct Frame { bool object; std::set<std::string> keys; std::string key; long index = -1; };
  std::vector<Frame> stack;
  Diagnostics* diags;
  explicit DuplicateKeyFinder(Diagnostics* d) : diags(d) {}

  std::string pointer() const {
    std::string p;
    for (const auto& f : stack)
      p += "/" + (f.object ? pointer_escape(f.key) : std::to_string(f.index));
    return p;
  }
  bool value() {  // a value starts: in an array it is the next element
    if (!stack.empty() && !stack.back().object) ++stack.back().index;
    return true;
  }
  bool null() override { return value(); }
  bool boolean(bool) override { return value(); }
  bool number_integer(number_integer_t) override { return value(); }
  bool number_unsigned(number_unsigned_t) override { return value(); }
  bool number_float(number_float_t, const string_t&) override { return value(); }
  bool string(string_t&) override { return value(); }
  bool binary(binary_t&) override { return value(); }
  bool start_object(std::size_t) override { value(); stack.push_back({true, {}, {}}); return true; }
  bool start_array(std::size_t) override { value(); stack.push_back({false, {}, {}}); return true; }
  bool end_object() override { stack.pop_back(); return true; }
  bool end_array() override { stack.pop_back(); return true; }
  bool key(string_t& k) override {
    auto& f = stack.back();
    f.key = k;
    if (!f.keys.insert(k).second) {
      auto& d = diags->warning(
          "duplicate-key",
          fmt::format("the key `{}` appears twice in one object; the last one wins", k),
          pointer(), "");
      d.help = "remove one of them";
    }
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    return false;  // json::parse has reported it already
  }
};

}  // namespace

std::optional<Override> parse_override(const std::string& text, std::string& error) {
  auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0) {
    error = fmt::format("--set `{}`: write NAME.FIELD=VALUE, e.g. layer2.0.body.0.stride=1, or "
                        "input=1,3,224,224",
                        text);
    return std::nullopt;
  }
  Override o;
  o.text = text;
  std::string lhs = text.substr(0, eq), value = text.substr(eq + 1);
  if (lhs == "input") {
    o.field = "input";
    if (!value.empty() && value[0] != '[') value = "[" + value + "]";
  } else {
    auto dot = lhs.rfind('.');
    if (dot == std::string::npos || dot == 0 || dot + 1 == lhs.size()) {
      error = fmt::format("--set `{}`: name a layer and a field, e.g. pre.0.padding=3", text);
      return std::nullopt;
    }
    o.layer = lhs.substr(0, dot);
    o.field = lhs.substr(dot + 1);
  }
  if (value.size() > kMaxFileBytes || too_deep(value)) {
    error = fmt::format("--set `{}`: the value is too large or nested too deeply", lhs);
    return std::nullopt;
  }
  // A JSON value when it is one (3, [2, 1], null, true, [{...}]), else a string (same).
  o.value = json::parse(value, nullptr, /*allow_exceptions=*/false);
  if (o.value.is_discarded()) o.value = value;
  return o;
}

// torch.nn's layers (PyTorch 2.x's __all__ of torch.nn.modules, the ones that
// make sense in a spec) that netshape does not know yet: a kind added to the
// table (kinds.cc) leaves this list by itself.
const std::vector<std::string>& unsupported_torch_layers() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> all = {
    "LazyConv1d", "LazyConv2d", "LazyConv3d", "FractionalMaxPool2d", "FractionalMaxPool3d", "LPPool3d",
    "MaxUnpool1d", "MaxUnpool2d", "MaxUnpool3d", "CircularPad1d",
    "CircularPad2d", "CircularPad3d", "SyncBatchNorm", "RMSNorm",
    "CrossMapLRN2d", "MultiheadAttention", "Embedding",
    "EmbeddingBag", "Bilinear", "LazyLinear", "RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell",
    "Transformer", "TransformerEncoder", "TransformerDecoder", "TransformerEncoderLayer",
    "TransformerDecoderLayer", "Fold", "Unfold", "ModuleList", "ModuleDict", "ParameterList",
    "ParameterDict", "CosineSimilarity", "PairwiseDistance"};
    all.erase(std::remove_if(all.begin(), all.end(), [](const std::string& n) { return find_kind(n) != nullptr; }),
              all.end());
    return all;
  }();
  return names;
}

// "UTF-16 (little-endian)" and the like, from a byte order mark or the NULs
// ASCII text has in those encodings ({"… is 7B 00 22 00 in UTF-16LE).
std::optional<std::string> wide_encoding(std::string_view t) {
  auto at = [&](std::size_t i) { return i < t.size() ? static_cast<unsigned char>(t[i]) : 0x100u; };
  if (at(0) == 0xFF && at(1) == 0xFE && at(2) == 0 && at(3) == 0) return "UTF-32 (little-endian)";
  if (at(0) == 0 && at(1) == 0 && at(2) == 0xFE && at(3) == 0xFF) return "UTF-32 (big-endian)";
  if (at(0) == 0xFF && at(1) == 0xFE) return "UTF-16 (little-endian)";
  if (at(0) == 0xFE && at(1) == 0xFF) return "UTF-16 (big-endian)";
  if (t.size() < 4) return std::nullopt;
  if (at(0) && !at(1) && !at(2) && !at(3)) return "UTF-32 (little-endian)";
  if (!at(0) && !at(1) && !at(2) && at(3)) return "UTF-32 (big-endian)";
  if (at(0) && !at(1) && at(2) && !at(3)) return "UTF-16 (little-endian)";
  if (!at(0) && at(1) && !at(2) && at(3)) return "UTF-16 (big-endian)";
  return std::nullopt;
}

ParseResult parse_spec(std::string_view text, std::vector<Override> overrides) {
  ParseResult r;
  auto located = [&](std::string code, std::string message, std::size_t offset) -> Diagnostic& {
    auto& d = r.diagnostics.error(std::move(code), std::move(message));
    auto pos = position_of(text, offset);
    d.line = pos.line;
    d.column = pos.column;
    d.caret = pos.caret;
    for (char& ch : pos.line_text)
      if (static_cast<unsigned char>(ch) < 0x20 && ch != '\t') ch = ' ';
    d.source_line = pos.line_text;
    return d;
  };
  if (text.size() > kMaxFileBytes) {
    auto& d = r.diagnostics.error(
        "too-large", fmt::format("the file is larger than the limit of {} bytes", kMaxFileBytes));
    d.help = "a spec describes layers, not data: use blocks and repeat to keep it short";
    return r;
  }
  // UTF-16 and UTF-32 (Windows editors save "Unicode" so) are full of NULs:
  // say the encoding rather than "remove the NUL byte".
  if (auto enc = wide_encoding(text)) {
    auto& d = r.diagnostics.error("encoding", fmt::format("the file is {} text; netshape reads UTF-8", *enc));
    d.help = fmt::format("save it as UTF-8 (your editor's \"Save with encoding\", or iconv -f {} -t UTF-8)",
                         enc->substr(0, 6));
    return r;
  }
  // nlohmann stops at a NUL as at the end of input, so text after one would
  // be ignored silently; a spec is text, and a NUL means it is not.
  if (auto nul = text.find('\0'); nul != std::string_view::npos) {
    auto& d = located("nul-byte", fmt::format("the file contains a NUL byte (byte {})", nul + 1), nul);
    d.help = nul == 0 ? "this is not a text file; a spec is JSON text"
                      : "remove the NUL byte: a spec is JSON text";
    return r;
  }
  if (auto at = too_deep(text)) {
    auto& d = located("too-deep", fmt::format("the JSON nests deeper than {} levels", kMaxNesting),
                      *at);
    d.help = "real architectures nest a few levels; use blocks for reuse";
    return r;
  }
  json doc;
  try {
    doc = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/true,
                      /*ignore_comments=*/false);
  } catch (const json::parse_error& e) {
    // e.what() is "[json.exception.parse_error.101] parse error at line 1, column 2: ..."
    std::string what = e.what();
    auto colon = what.find(": ", what.find("parse error"));
    std::string detail = colon == std::string::npos ? what : what.substr(colon + 2);
    std::size_t offset = e.byte > 0 ? e.byte - 1 : 0;
    auto& d = located("json-syntax", "the file is not valid JSON", offset);
    d.notes.push_back(detail);
    if (text.find_first_not_of(" \t\r\n") == std::string_view::npos)
      d.help = "the file is empty; a spec looks like {\"input\": [1, 3, 224, 224], \"layers\": [...]}";
    else if (detail.find("'/'") != std::string::npos || detail.find("<U+002F>") != std::string::npos)
      d.help = "JSON has no comments; put notes in a \"description\" field";
    else if (detail.find("NaN") != std::string::npos || detail.find("Infinity") != std::string::npos ||
             detail.find("'N'") != std::string::npos || detail.find("'I'") != std::string::npos)
      d.help = "JSON has no NaN or Infinity; write a number";
    else if (auto before = text.find_last_not_of(" \t\r\n", offset == 0 ? 0 : offset - 1);
             offset > 0 && before != std::string_view::npos && text[before] == ',' &&
             offset < text.size() && (text[offset] == ']' || text[offset] == '}'))
      d.help = "remove the comma before this bracket: JSON allows no trailing comma";
    else if (detail.find("unexpected end of input") != std::string::npos)
      d.help = "the file ends before the spec does: a closing `]` or `}` (or the rest of a value) is "
               "missing — was it cut short?";
    else if (detail.find("expected end of input") != std::string::npos)
      d.help = "something follows the spec's closing brace; remove it";
    else if (detail.find("invalid string: ill-formed UTF-8") != std::string::npos)
      d.help = "save the file as UTF-8";
    return r;
  } catch (const json::exception& e) {
    // out_of_range.406: a number beyond a double (1e400). No position comes
    // with it: find the number's text, which the message quotes.
    std::string what = e.what();
    auto q1 = what.find('\''), q2 = what.rfind('\'');
    std::string token = q1 != std::string::npos && q2 > q1 ? what.substr(q1 + 1, q2 - q1 - 1) : "";
    std::size_t at = token.empty() ? std::string_view::npos : text.find(token);
    auto& d = at == std::string_view::npos ? r.diagnostics.error("json-number", "")
                                           : located("json-number", "", at);
    d.message = token.empty() ? "a number in the file is out of range"
                              : fmt::format("the number {} is out of range", token);
    d.help = "sizes are integers up to 2147483647";
    return r;
  }
  DuplicateKeyFinder dups(&r.diagnostics);
  json::sax_parse(text.begin(), text.end(), &dups);
  Parser p(r.diagnostics, overrides);
  auto spec = p.spec({&doc, ""});
  if (!r.diagnostics.has_errors()) r.spec = std::move(spec);
  return r;
}

std::optional<json> parse_input_list(std::string_view text, std::string& error) {
  json shape = json::array();
  std::string s(text);
  std::stringstream ss(s);
  std::string part;
  auto is_name = [](const std::string& p) {
    return !p.empty() && p.size() < 32 && std::isalpha(static_cast<unsigned char>(p[0])) &&
           std::all_of(p.begin(), p.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
  };
  if (s.empty()) {
    error = fmt::format("`{}` is not a shape: give 1 to 8 sizes, e.g. 1,3,224,224", text);
    return std::nullopt;
  }
  bool ok = s.back() != ',';
  std::vector<std::string> parts;
  while (ok && std::getline(ss, part, ',')) parts.push_back(part);
  for (std::size_t i = 0; ok && i < parts.size(); ++i) {
    part = parts[i];
    if (is_name(part)) {
      // Where the spec allows a name: the batch, or an NCHW input's height and width.
      if (i == 0 || (parts.size() == 4 && i >= 2)) { shape.push_back(part); continue; }
      error = fmt::format("`{}`: size {} cannot be a name (`{}`): only the batch and the height and width of an "
                          "NCHW input can, e.g. N,3,H,W",
                          text, i, part);
      return std::nullopt;
    }
    // Digits only: stoll would also take "+32" and " 32".
    ok = !part.empty() && part.size() <= 10 && part.find_first_not_of("0123456789") == std::string::npos &&
         std::stoll(part) >= 1 && std::stoll(part) <= kMaxInt;
    if (ok) shape.push_back(std::stoll(part));
  }
  if (!ok) {
    error = fmt::format("`{}` is not a shape: give sizes from 1 to {} (or names such as N, H, W) separated by "
                        "commas, e.g. 1,3,224,224",
                        text, kMaxInt);
    return std::nullopt;
  }
  if (shape.empty() || shape.size() > 8) {
    error = fmt::format("`{}` is not a shape: give 1 to 8 sizes, e.g. 1,3,224,224", text);
    return std::nullopt;
  }
  return shape;
}

bool is_spec_text(std::string_view text) {
  if (text.size() > kMaxFileBytes || too_deep(text)) return false;
  auto j = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  return !j.is_discarded() && j.is_object() && j.contains("layers") && j.contains("input");
}

}  // namespace netshape
