// text: spec text and command-line text made safe to show. A spec is data
// people share, so nothing in it may steer a terminal (ESC, CR, bidi
// overrides), a spreadsheet (a cell starting with `=`) or a Markdown page
// (docs/diagnostics.md#text-from-a-spec).
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace netshape {

// A code point that must never be printed raw: C0 controls and DEL, C1
// controls, the bidi embeddings, overrides and isolates (the "Trojan Source"
// characters), and the Unicode line and paragraph separators.
bool is_control(char32_t c);

// The first control code point in UTF-8 `s` (an invalid byte counts as one,
// reported as 0xFFFD), with its byte offset; nullopt when there is none.
struct ControlAt {
  char32_t code;
  std::size_t byte;
};
std::optional<ControlAt> first_control(std::string_view s);

// "U+001B (ESCAPE)", "U+202E (RIGHT-TO-LEFT OVERRIDE)", "U+0085".
std::string code_point_text(char32_t c);

// `s` for a terminal: every control escaped (`\x1b`, `\r`, `\u{202e}`) and
// every invalid UTF-8 byte as `\xff`; newlines and tabs kept when
// `keep_newlines`. Text without controls comes back unchanged.
std::string printable(std::string_view s, bool keep_newlines = false);

// One CSV field per RFC 4180 (quoted when it holds `,` `"` CR or LF, quotes
// doubled), a cell that a spreadsheet would evaluate as a formula (it starts
// with `=`, `+`, `-`, `@`, a tab or CR, and is not a plain number) prefixed
// with `'` (OWASP's advice), and controls escaped as printable() does.
std::string csv_field(std::string_view s);

// Markdown: `s` as inline text (every mark that could start emphasis, a
// link, an image, HTML or code backslash-escaped: \ ` * [ ] < > & | ~ ! #), or as a code span whose fence is longer
// than any run of backticks inside. `|` is escaped in both (a table cell).
std::string markdown_text(std::string_view s);
std::string markdown_code(std::string_view s);

// Text inside a Python string literal or docstring: backslashes, quotes and
// every control code point escaped (`\\`, `\"`, `\x1b`, `\u202e`), an
// invalid UTF-8 byte as `\ufffd`, so that nothing can end the literal or hide
// in it. Other non-ASCII text (a description in Chinese) stays as it is:
// Python reads its source as UTF-8. `multiline` (a docstring) keeps newlines.
std::string python_escape(std::string_view s, bool multiline = false);

// 21801896 -> "21,801,896"
std::string thousands(int64_t n);
// 6389760 -> "6.1 MiB"
std::string human_bytes(int64_t bytes);

}  // namespace netshape
