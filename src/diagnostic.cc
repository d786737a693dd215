#include "diagnostic.h"

#include <fmt/format.h>

#include "text.h"

namespace netshape {

// A word the shell passes through unchanged: bare when it is safe, else in
// single quotes with each ' written as '\'' (POSIX sh, bash, zsh alike).
std::string shell_quote(const std::string& s) {
  static const char* safe = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.,:=/+-@%";
  if (!s.empty() && s.find_first_not_of(safe) == std::string::npos) return s;
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}


Diagnostic& Diagnostics::error(std::string code, std::string message, std::string pointer,
                               std::string layer) {
  return add({Severity::error, std::move(code), std::move(message), std::move(pointer),
              std::move(layer), {}, {}, {}, 0, 0, {}});
}

Diagnostic& Diagnostics::warning(std::string code, std::string message, std::string pointer,
                                 std::string layer) {
  return add({Severity::warning, std::move(code), std::move(message), std::move(pointer),
              std::move(layer), {}, {}, {}, 0, 0, {}});
}

bool Diagnostics::has_errors() const {
  for (const auto& d : items)
    if (d.severity == Severity::error) return true;
  return false;
}

// Every field is printable()'d: a spec's text (an unknown key, a file name)
// must not steer the terminal. The caret moves with the escapes before it.
std::string render(const Diagnostic& d, const std::string& file, bool color) {
  const char* bold = color ? "\033[1m" : "";
  const char* reset = color ? "\033[0m" : "";
  const char* hue = !color ? "" : d.severity == Severity::error ? "\033[1;31m" : "\033[1;33m";
  const char* blue = color ? "\033[1;34m" : "";
  std::string out = fmt::format("{}{}[{}]{}: {}{}{}\n", hue,
                                d.severity == Severity::error ? "error" : "warning", printable(d.code),
                                reset, bold, printable(d.message), reset);
  std::string where = file;
  if (d.line > 0) where += fmt::format(":{}:{}", d.line, d.column);
  if (!d.pointer.empty()) where += ": " + d.pointer;
  if (!d.layer.empty()) where += fmt::format(" ({})", d.layer);
  out += fmt::format("  {}-->{} {}\n", blue, reset, printable(where));
  if (!d.source_line.empty()) {
    int column = d.caret > 0 ? d.caret : d.column;  // 1-based, counted in bytes
    std::size_t before = column > 0 ? static_cast<std::size_t>(column - 1) : 0;
    std::string line = printable(d.source_line);
    before = printable(std::string_view(d.source_line).substr(0, std::min(before, d.source_line.size()))).size();
    out += fmt::format("   {}|{} {}\n", blue, reset, line);
    out += fmt::format("   {}|{} {}{}^{}\n", blue, reset, std::string(before, ' '), hue, reset);
  }
  for (const auto& n : d.notes) out += fmt::format("   {}={} note: {}\n", blue, reset, printable(n, true));
  bool shown = false;
  for (const auto& f : d.fixes) {
    if (!f.verified) continue;
    shown = true;
    std::string sets;
    for (const auto& s : f.sets) sets += " --set " + printable(shell_quote(s));
    out += fmt::format("   {}={} help: {}{}{}\n", blue, reset, printable(f.description),
                       f.makes_valid ? " (checked: the spec is then valid)" : " (checked: gets past this layer)",
                       fmt::format("\n           try:{}", sets));
  }
  if (!shown && !d.help.empty()) out += fmt::format("   {}={} help: {}\n", blue, reset, printable(d.help, true));
  return out;
}

}  // namespace netshape
