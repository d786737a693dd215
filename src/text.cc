#include "text.h"

#include <cctype>
#include <cstdint>

#include <fmt/format.h>

namespace netshape {
namespace {

// One UTF-8 sequence at `s[i]`: its code point and length; an invalid or
// overlong sequence, a surrogate or a value past U+10FFFF is one bad byte.
struct Decoded {
  char32_t code;
  std::size_t length;
  bool valid;
};
Decoded decode(std::string_view s, std::size_t i) {
  auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = b(i);
  if (c < 0x80) return {c, 1, true};
  std::size_t n = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
  if (n == 0 || i + n > s.size()) return {c, 1, false};
  char32_t v = c & (n == 2 ? 0x1F : n == 3 ? 0x0F : 0x07);
  for (std::size_t k = 1; k < n; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) return {c, 1, false};
    v = (v << 6) | (b(i + k) & 0x3F);
  }
  static const char32_t least[5] = {0, 0, 0x80, 0x800, 0x10000};
  if (v < least[n] || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return {c, 1, false};
  return {v, n, true};
}

// `\x1b` for ASCII controls (and `\n`, `\r`, `\t` by name), `\u{202e}` beyond.
std::string escape_code(char32_t c) {
  if (c == '\n') return "\\n";
  if (c == '\r') return "\\r";
  if (c == '\t') return "\\t";
  if (c < 0x80) return fmt::format("\\x{:02x}", static_cast<unsigned>(c));
  return fmt::format("\\u{{{:x}}}", static_cast<unsigned>(c));
}

}  // namespace

bool is_control(char32_t c) {
  return c < 0x20 || c == 0x7F || (c >= 0x80 && c <= 0x9F) || c == 0x061C || c == 0x200E || c == 0x200F ||
         (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069) || c == 0x2028 || c == 0x2029;
}

std::optional<ControlAt> first_control(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    Decoded d = decode(s, i);
    if (!d.valid) return ControlAt{0xFFFD, i};
    if (is_control(d.code)) return ControlAt{d.code, i};
    i += d.length;
  }
  return std::nullopt;
}

std::string code_point_text(char32_t c) {
  static const struct { char32_t code; const char* name; } names[] = {
      {0x00, "NULL"}, {0x07, "BELL"}, {0x08, "BACKSPACE"}, {0x09, "TAB"}, {0x0A, "LINE FEED"},
      {0x0D, "CARRIAGE RETURN"}, {0x1B, "ESCAPE"}, {0x7F, "DELETE"}, {0x85, "NEXT LINE"},
      {0x9B, "CONTROL SEQUENCE INTRODUCER"}, {0x200E, "LEFT-TO-RIGHT MARK"}, {0x200F, "RIGHT-TO-LEFT MARK"},
      {0x202A, "LEFT-TO-RIGHT EMBEDDING"}, {0x202B, "RIGHT-TO-LEFT EMBEDDING"}, {0x202C, "POP DIRECTIONAL FORMATTING"},
      {0x202D, "LEFT-TO-RIGHT OVERRIDE"}, {0x202E, "RIGHT-TO-LEFT OVERRIDE"}, {0x2066, "LEFT-TO-RIGHT ISOLATE"},
      {0x2067, "RIGHT-TO-LEFT ISOLATE"}, {0x2068, "FIRST STRONG ISOLATE"}, {0x2069, "POP DIRECTIONAL ISOLATE"},
      {0x2028, "LINE SEPARATOR"}, {0x2029, "PARAGRAPH SEPARATOR"}, {0xFFFD, "an invalid UTF-8 byte"}};
  std::string out = fmt::format("U+{:04X}", static_cast<unsigned>(c));
  for (const auto& n : names)
    if (n.code == c) return c == 0xFFFD ? n.name : out + " (" + n.name + ")";
  return out;
}

std::string printable(std::string_view s, bool keep_newlines) {
  if (!first_control(s)) return std::string(s);
  std::string out;
  for (std::size_t i = 0; i < s.size();) {
    Decoded d = decode(s, i);
    if (!d.valid) out += fmt::format("\\x{:02x}", static_cast<unsigned>(d.code));
    else if (keep_newlines && (d.code == '\n' || d.code == '\t')) out += static_cast<char>(d.code);
    else if (is_control(d.code)) out += escape_code(d.code);
    else out.append(s.substr(i, d.length));
    i += d.length;
  }
  return out;
}

std::string csv_field(std::string_view raw) {
  // A CR or tab is escaped first, so a spreadsheet never sees one raw.
  std::string s = printable(raw);
  // -3, 2.5, 1e5: a plain number (optional minus, digits, fraction, exponent) is left as it is.
  auto plain_number = [](const std::string& t) {
    std::size_t i = t[0] == '-' ? 1 : 0, digits = 0;
    auto run = [&] { std::size_t n = 0; while (i < t.size() && std::isdigit(static_cast<unsigned char>(t[i]))) ++i, ++n; return n; };
    digits = run();
    if (i < t.size() && t[i] == '.') ++i, digits += run();
    if (digits && i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
      ++i;
      if (i < t.size() && (t[i] == '+' || t[i] == '-')) ++i;
      if (!run()) return false;
    }
    return digits > 0 && i == t.size();
  };
  bool number = !s.empty() && plain_number(s);
  if (!s.empty() && !number && std::string_view("=+-@\t\r").find(s[0]) != std::string_view::npos) s = "'" + s;
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

std::string markdown_text(std::string_view raw) {
  std::string out;
  for (char c : printable(raw)) {
    if (std::string_view("\\`*[]<>&|~!#").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

std::string markdown_code(std::string_view raw) {
  std::string s = printable(raw);
  std::size_t longest = 0, run = 0;
  for (char c : s) {
    run = c == '`' ? run + 1 : 0;
    longest = std::max(longest, run);
  }
  std::string body;
  for (char c : s) body += c == '|' ? std::string("\\|") : std::string(1, c);
  std::string fence(longest + 1, '`');
  // A space inside the fence when the text itself starts or ends with a backtick (CommonMark strips one).
  bool pad = !s.empty() && (s.front() == '`' || s.back() == '`');
  return fence + (pad ? " " : "") + body + (pad ? " " : "") + fence;
}

std::string python_escape(std::string_view s, bool multiline) {
  std::string out;
  for (std::size_t i = 0; i < s.size();) {
    Decoded d = decode(s, i);
    if (!d.valid) out += "\\ufffd";
    else if (d.code == '\\') out += "\\\\";
    else if (d.code == '"') out += "\\\"";
    else if (d.code == '\'') out += "\\'";
    else if (d.code == '\n') out += multiline ? "\n" : "\\n";
    else if (is_control(d.code)) out += d.code < 0x100 ? fmt::format("\\x{:02x}", static_cast<unsigned>(d.code))
                                                        : fmt::format("\\u{:04x}", static_cast<unsigned>(d.code));
    else out.append(s.substr(i, d.length));
    i += d.length;
  }
  return out;
}

std::string thousands(int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n), out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

std::string human_bytes(int64_t b) {
  static const char* units[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  if (b < 1024) return fmt::format("{} B", b);
  double v = static_cast<double>(b);
  int u = -1;
  while (v >= 1024 && u < 5) v /= 1024, ++u;
  return fmt::format("{:.1f} {}", v, units[u]);
}

}  // namespace netshape
