#include "report.h"

#include <algorithm>

#include <fmt/format.h>

namespace netshape {

std::string thousands(int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n), out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

// Display width of UTF-8 text (every code point counts as one column).
static std::size_t width(const std::string& s) {
  return static_cast<std::size_t>(
      std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

static std::string pad(const std::string& s, std::size_t w) {
  std::size_t sw = width(s);
  return sw >= w ? s : s + std::string(w - sw, ' ');
}

static std::string pad_left(const std::string& s, std::size_t w) {
  std::size_t sw = width(s);
  return sw >= w ? s : std::string(w - sw, ' ') + s;
}

static std::size_t error_count(const Diagnostics& d) {
  return static_cast<std::size_t>(std::count_if(d.items.begin(), d.items.end(), [](const Diagnostic& x) {
    return x.severity == Severity::error;
  }));
}

std::string table_text(const Evaluation& ev, const ReportContext& ctx) {
  const char* header = ctx.color ? "\033[1m" : "";
  const char* red = ctx.color ? "\033[1;31m" : "";
  const char* reset = ctx.color ? "\033[0m" : "";
  std::vector<std::array<std::string, 6>> cells;
  cells.push_back({"layer", "type", "input", "output", "arguments", "params"});
  for (const auto& r : ev.rows)
    cells.push_back({r.name, r.type, format_shape(r.input),
                     r.failed ? "✗ error" : format_shape(r.output), r.arguments,
                     r.failed ? "" : thousands(r.params)});
  std::array<std::size_t, 6> w{};
  for (const auto& row : cells)
    for (std::size_t i = 0; i < 6; ++i) w[i] = std::max(w[i], width(row[i]));

  std::string out = fmt::format("{}: input {}\n\n", ctx.name, format_shape(ctx.input));
  for (std::size_t k = 0; k < cells.size(); ++k) {
    const auto& c = cells[k];
    bool failed = k > 0 && ev.rows[k - 1].failed;
    std::string line = pad(c[0], w[0]) + "  " + pad(c[1], w[1]) + "  " + pad(c[2], w[2]) + "  " +
                       pad(c[3], w[3]) + "  " + pad(c[4], w[4]) + "  " + pad_left(c[5], w[5]);
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += fmt::format("{}{}{}\n", k == 0 ? header : failed ? red : "", line,
                       (k == 0 || failed) ? reset : "");
  }
  out += "\n";
  if (ev.valid()) {
    out += fmt::format("output {} · {} layers · {} parameters\n", format_shape(*ev.output),
                       ev.rows.size(), thousands(ev.params));
  } else {
    std::size_t n = error_count(ev.diagnostics);
    out += fmt::format("{}invalid{}: {} error{}{}\n", red, reset, n, n == 1 ? "" : "s",
                       ev.rows.empty() ? "" : "; the table stops at the first failing layer");
  }
  return out;
}

std::string check_text(const Evaluation& ev, const ReportContext& ctx) {
  if (!ev.valid()) {
    std::size_t n = error_count(ev.diagnostics);
    return fmt::format("{}: invalid ({} error{})\n", ctx.file, n, n == 1 ? "" : "s");
  }
  std::size_t warnings = ev.diagnostics.items.size() - error_count(ev.diagnostics);
  return fmt::format("{}: ok: {} {} → {}, {} parameters{}\n", ctx.file, ctx.name,
                     format_shape(ctx.input), format_shape(*ev.output), thousands(ev.params),
                     warnings == 0 ? "" : fmt::format("; {} warning{}", warnings, warnings == 1 ? "" : "s"));
}

nlohmann::ordered_json diagnostic_json(const Diagnostic& d) {
  nlohmann::ordered_json j = {{"severity", d.severity == Severity::error ? "error" : "warning"},
                      {"code", d.code},
                      {"message", d.message},
                      {"pointer", d.pointer},
                      {"layer", d.layer},
                      {"notes", d.notes},
                      {"help", d.help}};
  nlohmann::ordered_json fixes = nlohmann::ordered_json::array();
  for (const auto& f : d.fixes)
    if (f.verified)
      fixes.push_back({{"description", f.description}, {"set", f.sets}, {"makes_valid", f.makes_valid}});
  j["fixes"] = fixes;
  if (d.line > 0) {
    j["line"] = d.line;
    j["column"] = d.column;
  }
  return j;
}

nlohmann::ordered_json to_json(const Evaluation& ev, const ReportContext& ctx) {
  using json = nlohmann::ordered_json;
  json layers = json::array();
  for (const auto& r : ev.rows) {
    layers.push_back({{"name", r.name},
                      {"type", r.type},
                      {"pointer", r.pointer},
                      {"arguments", r.arguments},
                      {"input_shape", r.input},
                      {"output_shape", r.failed ? json(nullptr) : json(r.output)},
                      {"params", r.params}});
  }
  json diags = json::array();
  for (const auto& d : ev.diagnostics.items) diags.push_back(diagnostic_json(d));
  return {{"name", ctx.name},
          {"file", ctx.file},
          {"input_shape", ctx.input},
          {"output_shape", ev.valid() ? json(*ev.output) : json(nullptr)},
          {"params", ev.valid() ? json(ev.params) : json(nullptr)},
          {"valid", ev.valid()},
          {"layers", layers},
          {"diagnostics", diags}};
}

std::string diagnostics_text(const Diagnostics& diags, const std::string& file, bool color) {
  std::string out;
  for (const auto& d : diags.items) out += render(d, file, color) + "\n";
  return out;
}

}  // namespace netshape
