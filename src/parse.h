// parse: spec text -> typed layers (Spec), with every problem located.
// Knows nothing about shapes: checks that need the incoming shape belong to
// evaluate. Expands blocks (the spec's `_make_layer`) so that later stages
// only ever see plain layers.
#pragma once
#include <optional>
#include <string>
#include <string_view>

#include "diagnostic.h"
#include "layers.h"

namespace netshape {

// Limits, enforced before work starts (docs/spec-format.md#limits).
inline constexpr std::size_t kMaxFileBytes = 8u << 20;  // 8 MiB
inline constexpr int kMaxNesting = 200;                 // JSON arrays/objects deep
inline constexpr std::size_t kMaxLayers = 1'000'000;    // after expanding blocks
inline constexpr int64_t kMaxInt = 2147483647;          // ATen's pooling casts to int

struct ParseResult {
  std::optional<Spec> spec;  // set when there were no errors
  Diagnostics diagnostics;
};

ParseResult parse_spec(std::string_view text);

// Reads a whole file; on failure returns nullopt and sets `error` (exit code 2).
std::optional<std::string> read_file(const std::string& path, std::string& error);

// Parses "1,3,224,224" (the --input option).
std::optional<Shape> parse_shape_list(std::string_view text, std::string& error);

}  // namespace netshape
