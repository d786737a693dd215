#include "json_cursor.h"

#include <algorithm>

#include <fmt/format.h>

namespace netshape {

std::string pointer_escape(std::string_view key) {
  std::string out;
  for (char c : key) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out += c;
  }
  return out;
}

Cursor Cursor::at(std::string_view key) const {
  return {&(*value)[std::string(key)], pointer + "/" + pointer_escape(key)};
}

Cursor Cursor::at(std::size_t index) const {
  return {&(*value)[index], pointer + "/" + std::to_string(index)};
}

std::string type_word(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return "null";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned: return "an integer";
    case json::value_t::number_float: return "a number with a fraction or exponent";
    case json::value_t::string: return "a string";
    case json::value_t::array: return "a list";
    case json::value_t::object: return "an object";
    default: return "a value";
  }
}

std::string describe(const json& v) {
  if (v.is_object()) return "an object";
  std::string s = v.dump(-1, ' ', false, json::error_handler_t::replace);
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return s;
}

std::optional<int64_t> exact_int(const json& v) {
  if (v.is_number_integer() && !v.is_number_unsigned()) return v.get<int64_t>();
  if (v.is_number_unsigned()) {
    auto u = v.get<uint64_t>();
    if (u <= static_cast<uint64_t>(INT64_MAX)) return static_cast<int64_t>(u);
  }
  return std::nullopt;
}

static std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t up = row[j];
      bool same = std::tolower(static_cast<unsigned char>(a[i - 1])) ==
                  std::tolower(static_cast<unsigned char>(b[j - 1]));
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (same ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

std::optional<std::string> did_you_mean(std::string_view word,
                                        const std::vector<std::string>& candidates) {
  if (word.size() > 64) return std::nullopt;
  std::optional<std::string> best;
  std::size_t best_d = std::max<std::size_t>(2, word.size() / 3) + 1;
  for (const auto& c : candidates) {
    std::size_t d = edit_distance(word, c);
    if (d < best_d) { best_d = d; best = c; }
  }
  return best;
}

TextPosition position_of(std::string_view text, std::size_t byte_offset) {
  byte_offset = std::min(byte_offset, text.size());
  TextPosition p;
  std::size_t line_start = 0;
  for (std::size_t i = 0; i < byte_offset; ++i)
    if (text[i] == '\n') { ++p.line; line_start = i + 1; }
  p.column = static_cast<int>(byte_offset - line_start) + 1;
  p.caret = p.column;
  std::size_t end = text.find('\n', line_start);
  p.line_text = std::string(text.substr(line_start, end == std::string_view::npos
                                                        ? std::string_view::npos
                                                        : end - line_start));
  if (p.line_text.size() > 120) {
    // Keep a window around the column so huge one-line files stay readable.
    std::size_t from = p.column > 60 ? static_cast<std::size_t>(p.column) - 60 : 0;
    p.line_text = p.line_text.substr(from, 120);
    p.caret -= static_cast<int>(from);  // the column itself stays the line's
  }
  return p;
}

}  // namespace netshape
