// kinds: every layer kind declared once — its spec name (PyTorch's), the
// torch.nn class, PyTorch's signature (each argument's type, default, range
// and one line of doc, in PyTorch's order), the ranks it takes, its shape
// rule in words and its traits. The parser reads arguments through it, export
// leaves out its defaults, and the schema (specs/schema.json), the kinds table
// of docs/spec-format.md, the importer's map (src/netshape_kinds.json) and
// `netshape help KIND` are generated from it (CTest checks they are current).
// How it works and how to add a kind: docs/architecture.md.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace netshape {

enum class ArgType {
  integer,    // a whole number in [lo, hi]
  inferred,   // a whole number ≥ 1 that netshape takes from the input when absent (in_channels, …)
  dims,       // a whole number, or one per spatial dim, each in [lo, hi]
  boolean,
  number,     // a number in [lo, hi]
  float32,    // a number PyTorch keeps as float32: within ±3.4028234663852886e38
  choice,     // one of `values`
  dim_index,  // a dimension index, −64 … 64 (negative counts from the end)
  special,    // read by its family's own code; `schema` gives its JSON form
};

struct Arg {
  std::string name;
  ArgType type = ArgType::integer;
  bool required = false;        // PyTorch's signature has no default for it (netshape may infer it)
  nlohmann::json dflt;          // PyTorch's default (null: None); unused when required
  std::string same_as;          // the default is that argument's value (a pool's stride: kernel_size)
  double lo = 0, hi = 0;        // integer, dims, number: the range
  std::vector<std::string> values;  // choice
  nlohmann::json schema;        // special: its JSON Schema
  std::string doc;
};

struct KindInfo {
  std::string name;     // the spec's `type`, PyTorch's class name: "Conv2d"
  std::string family;   // "conv", "pool", "norm", …: the src/kinds.cc section and `help kinds`' grouping
  std::string torch;    // "torch.nn.Conv2d", "torch.cat"
  int rank = 0;         // spatial dims it works on; 0: any
  std::string takes;    // the input it takes: "[N, C, H, W]"
  std::string doc;      // one line
  std::string rule;     // what it does to the shape, as `explain` derives it
  std::string example;  // a spec line
  std::vector<Arg> args;  // PyTorch's signature order
  // Traits, read by the passes instead of lists of kinds kept elsewhere.
  bool keeps_shape = false;   // the output shape is the input's (element-wise, norms, dropout)
  bool keeps_channels = false;  // dim 1 passes through unchanged (keeps_shape, pools, padding, resizing)
  bool makes_channels = false;  // its out_channels sets the output's channels (the convolutions)
  std::string channels_arg;   // the argument that fixes its input's channels: in_channels, num_features, …
  bool sets_rank = false;     // its output's rank is its own doing (Flatten, Unflatten, Linear)
  bool container = false;     // holds layers (Sequential, Residual, Branches)
  bool source = false;        // takes no input: its value is its own (Parameter); the graph draws no edge in
  bool attributes = false;    // torch.nn's module keeps each argument as an attribute of that name (the importer reads them)
  nlohmann::json schema_rule;  // a rule over several arguments the schema also states (Upsample: size or scale_factor)
  const Arg* arg(std::string_view n) const;
};

// Every kind, in the order `help kinds` lists them (by family).
const std::vector<KindInfo>& kinds();
// The kind of a spec type name; nullptr for a block or a typo.
const KindInfo* find_kind(std::string_view name);
// Every type name a spec may use, in that order.
const std::vector<std::string>& spec_names();
// The families in order, with a one-line description each.
const std::vector<std::pair<std::string, std::string>>& kind_families();

// PyTorch's signature as Python writes it: "Conv2d(in_channels, out_channels,
// kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True, padding_mode='zeros')".
std::string signature_text(const KindInfo& k);
// A default as Python writes it: 1e-05, True, None, (1, 1), 'zeros'.
std::string python_default(const Arg& a);

// The generated documents (CTest compares them with the files in the tree).
nlohmann::ordered_json kinds_json();   // src/netshape_kinds.json: the importer's map
nlohmann::ordered_json spec_schema();  // specs/schema.json
std::string kinds_markdown();          // docs/spec-format.md's kinds table
std::string kind_card(const KindInfo& k);  // `netshape help KIND`
std::string kinds_list();                  // `netshape help kinds`

}  // namespace netshape
