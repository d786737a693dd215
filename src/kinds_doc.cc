// What is generated from the kind table (kinds.h): the JSON Schema, the
// importer's map, the kinds table of docs/spec-format.md, and `netshape help
// KIND`. Nothing here is written by hand per kind.
#include <fmt/format.h>

#include "diagnostic.h"
#include "kinds.h"

namespace netshape {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;

namespace {

const char* type_word(ArgType t) {
  switch (t) {
    case ArgType::integer: return "int";
    case ArgType::inferred: return "int (inferred)";
    case ArgType::dims: return "int or list";
    case ArgType::boolean: return "bool";
    case ArgType::number: return "number";
    case ArgType::float32: return "float32";
    case ArgType::choice: return "choice";
    case ArgType::dim_index: return "dim";
    case ArgType::special: return "see doc";
  }
  return "";
}

// A default as the spec writes it: 1, true, "zeros", null; "= kernel_size"; "inferred"; "required".
std::string spec_default(const Arg& a) {
  if (a.type == ArgType::inferred) return "inferred";
  if (a.required) return "required";
  if (!a.same_as.empty()) return a.same_as + "'s";
  return a.dflt.dump();
}

// ---- the JSON Schema ---------------------------------------------------------

json param_or(json s) { return {{"anyOf", json::array({std::move(s), {{"$ref", "#/$defs/param"}}, {{"$ref", "#/$defs/conditional"}}})}}; }

json int_range(double lo, double hi) { return {{"type", "integer"}, {"minimum", lo}, {"maximum", hi}}; }

json arg_schema(const Arg& a, int rank) {
  json s;
  switch (a.type) {
    case ArgType::integer: s = int_range(a.lo, a.hi); break;
    case ArgType::inferred: s = int_range(1, a.hi); break;
    case ArgType::dims: {
      json one = int_range(a.lo, a.hi);
      if (!a.schema.is_null()) one = {{"anyOf", json::array({one, a.schema})}};  // or read from a size
      s = {{"anyOf", json::array({one, {{"type", "array"}, {"minItems", rank}, {"maxItems", rank}, {"items", param_or(one)}}})}};
      break;
    }
    case ArgType::boolean: s = {{"type", "boolean"}}; break;
    case ArgType::number:
    case ArgType::float32: s = {{"type", "number"}, {"minimum", a.lo}, {"maximum", a.hi}}; break;
    case ArgType::choice: s = {{"enum", a.values}}; break;
    case ArgType::dim_index: s = int_range(-64, 64); break;
    case ArgType::special: s = a.schema; break;
  }
  s["description"] = a.doc + (a.required ? "" : " (default: " + spec_default(a) + ")");
  if (!a.required && a.type != ArgType::special) s = {{"anyOf", json::array({s, {{"type", "null"}}})}, {"description", s["description"]}};
  return param_or(s);
}

// Names are shown in terminals and code: no dot, `=` or control character (docs/spec-format.md#names).
json name_schema() {
  return {{"anyOf", json::array({{{"type", "string"},
                                  {"pattern", "^[^.=\\u0000-\\u001f\\u007f-\\u009f\\u061c\\u200e\\u200f\\u2028-\\u202e\\u2066-\\u2069]+$"}},
                                 {{"$ref", "#/$defs/param"}}})}};
}
json from_schema() {
  json one = {{"type", "string"}, {"minLength", 1}};
  return param_or({{"anyOf", json::array({one, {{"type", "array"}, {"minItems", 1}, {"items", param_or(one)}}})}});
}

// Every "#/$defs/layers" in `s` made "#/$defs/layers_<mode>": containers hold layers of their own mode.
json with_mode(json s, const std::string& mode) {
  if (s.is_object()) {
    for (auto& [k, v] : s.items()) {
      if (k == "$ref" && v == "#/$defs/layers") v = "#/$defs/layers_" + mode;
      else v = with_mode(v, mode);
    }
  } else if (s.is_array()) {
    for (auto& v : s) v = with_mode(v, mode);
  }
  return s;
}

json kind_schema(const KindInfo& k, const std::string& mode) {
  json props = {{"type", {{"const", k.name}}}, {"name", name_schema()}, {"from", from_schema()}};
  json required = json::array({"type"});
  for (const auto& a : k.args) {
    props[a.name] = with_mode(arg_schema(a, std::max(k.rank, 1)), mode);
    if (a.required && a.type != ArgType::inferred) required.push_back(a.name);
  }
  json then = {{"properties", props}, {"required", required}, {"additionalProperties", false},
               {"description", k.name + ": " + k.doc}};
  if (!k.schema_rule.is_null()) then.update(k.schema_rule);
  return {{"if", {{"properties", {{"type", {{"const", k.name}}}}}, {"required", {"type"}}}}, {"then", then}};
}

// A kind's schema is in $defs once ("kind_Conv2d"); a container's twice, once
// per mode, since its layers are of the mode it is in.
std::string kind_def(const KindInfo& k, const std::string& mode) {
  return k.container ? "kind_" + k.name + "_" + mode : "kind_" + k.name;
}

// A layer: a kind with its arguments, a `shares` layer, or (where the spec has
// blocks) a block's use — whose arguments only the block knows.
json layer_schema(const std::string& mode) {
  json names = json::array();
  json all = json::array();
  for (const auto& k : kinds()) {
    names.push_back(k.name);
    all.push_back({{"$ref", "#/$defs/" + kind_def(k, mode)}});
  }
  json shared = {{"type", "object"}, {"required", {"shares"}}, {"additionalProperties", false},
                 {"properties", {{"shares", {{"anyOf", json::array({{{"type", "string"}, {"minLength", 1}}, {{"$ref", "#/$defs/param"}}})}}},
                                 {"name", name_schema()}, {"from", from_schema()}}},
                 {"description", "the module named by `shares` called again, with its weights"}};
  json type = mode == "strict" ? json{{"anyOf", json::array({{{"enum", names}}, {{"$ref", "#/$defs/param"}}})}}
                               : json{{"type", "string"}, {"description", "a layer kind, or the name of one of the spec's blocks"}};
  json typed = {{"type", "object"}, {"required", {"type"}}, {"properties", {{"type", type}}}, {"allOf", all}};
  return {{"anyOf", json::array({typed, shared})}};
}

json layers_schema(const std::string& mode) {
  return {{"type", "array"},
          {"items", {{"anyOf", json::array({{{"$ref", "#/$defs/layer_" + mode}}, {{"$ref", "#/$defs/param"}},
                                            {{"$ref", "#/$defs/conditional"}}})}}}};
}

// ---- text ----------------------------------------------------------------------

std::string md_escape(const std::string& s) {
  std::string out;
  for (char c : s) out += c == '|' ? std::string("\\|") : std::string(1, c);
  return out;
}

std::string arg_line(const Arg& a) {
  if (!a.same_as.empty()) return fmt::format("`{}` = {}", a.name, a.same_as);
  std::string d = spec_default(a);
  return d == "required" || d == "inferred" ? fmt::format("`{}` ({})", a.name, d) : fmt::format("`{}` = {}", a.name, d);
}

// The other ranks of a ranked family, for a card: "Conv1d [N, C, L], Conv3d [N, C, D, H, W]".
std::string siblings(const KindInfo& k) {
  std::vector<std::string> out;
  if (k.rank == 0) return "";
  std::string stem = k.name.substr(0, k.name.size() - 2);
  for (const auto& o : kinds())
    if (&o != &k && o.family == k.family && o.rank && o.name.size() == k.name.size() &&
        o.name.compare(0, stem.size(), stem) == 0)
      out.push_back(o.name + " " + o.takes);
  return fmt::format("{}", fmt::join(out, ", "));
}

}  // namespace

ojson kinds_json() {
  ojson out = ojson::object();
  out["$comment"] = "Generated by `netshape help kinds --format json` from src/kinds.cc; "
                    "CTest kinds-generated-current checks it. The importer reads it: each kind's "
                    "arguments and PyTorch's defaults, left out of an imported spec.";
  ojson list = ojson::array();
  for (const auto& k : kinds()) {
    ojson args = ojson::array();
    for (const auto& a : k.args) {
      ojson e = {{"name", a.name}, {"type", type_word(a.type)}, {"required", a.required}};
      if (!a.required && a.same_as.empty()) e["default"] = a.dflt;
      if (!a.same_as.empty()) e["default_is"] = a.same_as;
      if (!a.values.empty()) e["values"] = a.values;
      e["doc"] = a.doc;
      args.push_back(e);
    }
    ojson e = {{"name", k.name}, {"family", k.family}, {"torch", k.torch}, {"rank", k.rank}, {"takes", k.takes},
               {"doc", k.doc}, {"rule", k.rule}, {"signature", signature_text(k)}, {"args", args}};
    ojson traits = ojson::array();
    if (k.keeps_shape) traits.push_back("keeps_shape");
    if (k.keeps_channels) traits.push_back("keeps_channels");
    if (k.makes_channels) traits.push_back("makes_channels");
    if (k.sets_rank) traits.push_back("sets_rank");
    if (k.container) traits.push_back("container");
    if (k.attributes) traits.push_back("attributes");
    e["traits"] = traits;
    if (!k.channels_arg.empty()) e["channels_arg"] = k.channels_arg;
    list.push_back(e);
  }
  out["kinds"] = list;
  return out;
}

ojson spec_schema() {
  ojson s = ojson::object();
  s["$schema"] = "https://json-schema.org/draft/2020-12/schema";
  s["$id"] = "https://netshape.invalid/specs/schema.json";
  s["$comment"] = "Generated by `netshape help kinds --format schema` from src/kinds.cc; CTest "
                  "kinds-generated-current checks it is current.";
  s["title"] = "netshape architecture spec";
  s["description"] = "A network described with torch.nn's class and argument names. See docs/spec-format.md.";
  s["type"] = "object";
  s["required"] = {"input", "layers"};
  s["additionalProperties"] = false;
  json input_item = {{"anyOf", json::array({int_range(1, 2147483647),
                                            {{"type", "string"}, {"pattern", "^[A-Za-z][A-Za-z0-9_]{0,30}$"},
                                             {"description", "a named dim: the batch, or the height or width of an NCHW input"}}})}};
  s["properties"] = {
      {"$schema", {{"type", "string"}}},
      {"name", {{"type", "string"}, {"pattern", name_schema()["anyOf"][0]["pattern"]}}},
      {"description", {{"type", "string"}}},
      {"input", {{"type", "array"}, {"minItems", 1}, {"maxItems", 8}, {"items", input_item},
                 {"description", "NCHW: [batch, channels, height, width]; the batch, height and width may be names"}}},
      {"blocks", {{"type", "object"}, {"additionalProperties", {{"$ref", "#/$defs/block"}}}}},
      {"layers", {{"type", "array"}}},
      {"outputs", {{"type", "array"}, {"minItems", 1}, {"items", {{"type", "string"}, {"minLength", 1}}},
                   {"description", "the dotted names of the network's outputs; default: the last layer"}}},
      {"allow", {{"type", "array"}, {"items", {{"enum", warning_codes()}}},
                 {"description", "warning codes this spec silences (as --allow CODE does)"}}}};
  // Without blocks every type is a kind netshape knows; with them, a block's name too.
  s["if"] = {{"required", {"blocks"}}};
  s["then"] = {{"properties", {{"layers", {{"$ref", "#/$defs/layers_open"}}}}}};
  s["else"] = {{"properties", {{"layers", {{"$ref", "#/$defs/layers_strict"}}}}}};
  json defs = {
      {"param", {{"type", "string"}, {"pattern", "^\\$"},
                 {"description", "a block parameter (\"$name\") or an expression of parameters (\"$planes * 4\")"}}},
      {"conditional", {{"type", "object"}, {"required", {"if"}}, {"additionalProperties", false},
                       {"properties", {{"if", {{"anyOf", json::array({{{"type", "boolean"}}, {{"$ref", "#/$defs/param"}}})}}},
                                       {"then", true}, {"else", true}}},
                       {"description", "inside a block: {\"if\": \"$flag\", \"then\": X, \"else\": Y}"}}},
      {"block", {{"type", "object"}, {"required", {"layer"}}, {"additionalProperties", false},
                 {"properties", {{"description", {{"type", "string"}}}, {"params", {{"type", "object"}}},
                                 {"layer", {{"anyOf", json::array({{{"$ref", "#/$defs/layer_open"}}, {{"$ref", "#/$defs/conditional"}}})}}}}}}},
      {"layers_strict", layers_schema("strict")},
      {"layers_open", layers_schema("open")},
      {"layer_strict", layer_schema("strict")},
      {"layer_open", layer_schema("open")}};
  for (const auto& k : kinds())
    for (const std::string mode : {"strict", "open"})
      if (k.container || mode == "strict") defs[kind_def(k, mode)] = kind_schema(k, mode);
  s["$defs"] = defs;
  return s;
}

std::string kinds_markdown() {
  std::string out = "<!-- generated by `netshape help kinds --format markdown` from src/kinds.cc: edit the table there -->\n"
                    "| type | PyTorch | arguments (default) | takes | shape |\n|---|---|---|---|---|\n";
  for (const auto& k : kinds()) {
    std::vector<std::string> args;
    for (const auto& a : k.args) args.push_back(arg_line(a));
    out += fmt::format("| `{}` | `{}` | {} | {} | {} |\n", k.name, k.torch, md_escape(fmt::format("{}", fmt::join(args, ", "))),
                       md_escape(k.takes), md_escape(k.rule));
  }
  return out;
}

std::string kind_card(const KindInfo& k) {
  std::string out = fmt::format("{} — {}\n{}\n\n", k.name, k.doc, signature_text(k));
  out += fmt::format("  takes   {}{}\n", k.takes, siblings(k).empty() ? "" : " (" + siblings(k) + ")");
  out += fmt::format("  shape   {}\n", k.rule);
  if (!k.args.empty()) {
    std::size_t w = 0, d = 0;
    for (const auto& a : k.args) w = std::max(w, a.name.size()), d = std::max(d, spec_default(a).size());
    out += "\narguments (the spec's defaults are PyTorch's)\n";
    for (const auto& a : k.args)
      out += fmt::format("  {:<{}}  {:<{}}  {}\n", a.name, w, spec_default(a), d, a.doc);
  }
  out += fmt::format("\nexample\n  {}\n", k.example);
  out += "\n`netshape explain SPEC --layer NAME` shows this rule on a layer's own numbers; "
         "`netshape help kinds` lists every kind.\n";
  return out;
}

std::string kinds_list() {
  std::string out = "The layer kinds, by family (`netshape help KIND` for one):\n";
  for (const auto& [family, what] : kind_families()) {
    std::vector<std::string> names;
    for (const auto& k : kinds())
      if (k.family == family) names.push_back(k.name);
    out += fmt::format("\n{} — {}\n", family, what);
    std::string line = " ";
    for (const auto& n : names) {
      if (line.size() + n.size() > 78) out += line + "\n", line = " ";
      line += " " + n;
    }
    out += line + "\n";
  }
  out += "\nA layer may also be {\"shares\": \"NAME\"}: that module called again (docs/spec-format.md).\n";
  return out;
}

}  // namespace netshape
