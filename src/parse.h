// parse: spec text -> typed layers (Spec), with every problem located.
// Knows nothing about shapes: checks that need the incoming shape belong to
// evaluate. Expands blocks (the spec's `_make_layer`) so that later stages
// only ever see plain layers.
#pragma once
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "diagnostic.h"
#include "network.h"

namespace netshape {

// Limits, enforced before work starts (docs/spec-format.md#limits).
inline constexpr std::size_t kMaxFileBytes = 8u << 20;  // 8 MiB
inline constexpr int kMaxNesting = 200;                 // JSON arrays/objects deep
inline constexpr std::size_t kMaxLayers = 100'000;      // after expanding blocks (docs/spec-format.md#limits)
inline constexpr int64_t kMaxInt = 2147483647;          // ATen's pooling casts to int
inline constexpr std::size_t kMaxBlockDepth = 64;        // blocks inside blocks, recursion included

struct ParseResult {
  std::optional<Spec> spec;  // set when there were no errors
  Diagnostics diagnostics;
};

// One `--set NAME.FIELD=VALUE`: replaces a field of one concrete layer (after
// blocks are expanded, so `layer2.0.body.0` is that one instance), checked
// like any other value. `input=1,3,225,225` replaces the input shape.
struct Override {
  std::string layer, field;  // layer "" with field "input": the spec's input
  nlohmann::json value;      // VALUE as JSON, or as a string when it is not JSON
  std::string text;          // as the user wrote it, for messages
  bool used = false;
};

// Parses "layer2.0.body.0.stride=1"; nullopt (and `error`) when malformed.
std::optional<Override> parse_override(const std::string& text, std::string& error);

ParseResult parse_spec(std::string_view text, std::vector<Override> overrides = {});

// torch.nn layer names netshape does not support yet: answered as such,
// never with a "did you mean" for another layer.
const std::vector<std::string>& unsupported_torch_layers();

// Whether `text` is a spec at first sight — a JSON object with `input` and
// `layers` — as `netshape import` checks its helper's output before -o.
bool is_spec_text(std::string_view text);

// Parses "1,3,224,224" or "N,3,H,W" (the --input options): a JSON array of
// sizes and names; where a name may stand is the spec's rule (parse_spec).
std::optional<nlohmann::json> parse_input_list(std::string_view text, std::string& error);

}  // namespace netshape
