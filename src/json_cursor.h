// A JSON value together with its JSON Pointer, so that every message about it
// is located for free, and checked readers that never convert silently
// (nlohmann's get<int>() turns 3.7 into 3, true into 1, -1 into 4294967295).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace netshape {

using json = nlohmann::json;

struct Cursor {
  const json* value = nullptr;  // never null for a cursor that exists
  std::string pointer;

  Cursor at(std::string_view key) const;   // value must be an object holding key
  Cursor at(std::size_t index) const;      // value must be an array
};

// Escapes a key for a JSON Pointer (RFC 6901: ~ -> ~0, / -> ~1).
std::string pointer_escape(std::string_view key);

// How a JSON value reads in a message: 3.7, "3", true, [1, 2], an object.
std::string describe(const json& v);
// The JSON type's name for messages: "an integer", "a string", ...
std::string type_word(const json& v);

// If v holds an integer that fits in int64, return it; floats, bools, strings
// and integers beyond 64 bits are not integers here.
std::optional<int64_t> exact_int(const json& v);

// Levenshtein-closest candidate within a small distance, for "did you mean".
std::optional<std::string> did_you_mean(std::string_view word,
                                        const std::vector<std::string>& candidates);

// Byte offset -> 1-based line and column, and the text of that line.
// `caret`: the column within line_text, which is a window of a long line.
struct TextPosition { int line = 1, column = 1, caret = 1; std::string line_text; };
TextPosition position_of(std::string_view text, std::size_t byte_offset);

}  // namespace netshape
