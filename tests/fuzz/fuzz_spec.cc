// libFuzzer harness: the whole symbolic path on arbitrary bytes — parse,
// evaluate, suggest fixes, explain, analyse sizes, and render every format —
// and the small parsers beside it: `--set` overrides applied to the spec,
// block expressions, `solve` on numbers taken from the input, and `-o`:
// the output checks and writer on paths of every kind in a private folder.
// Nothing may crash, hang or throw (netshape reports problems as diagnostics,
// it never throws them), and a valid result must have every size ≥ 1.
#include <cstddef>
#include <cstdint>
#include <string>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "expr.h"
#include "explain.h"
#include "export.h"
#include "fix.h"
#include "io.h"
#include "parse.h"
#include "pipeline.h"
#include "report.h"
#include "solve.h"
#include "symbolic.h"
#include "text.h"

using namespace netshape;

namespace {

// The first line as a `--set` override and as an expression; the first bytes
// as the numbers of a solve query (each unknown in turn).
void side_parsers(const std::string& text) {
  std::string first = text.substr(0, text.find('\n')), error;
  if (auto o = parse_override(first, error)) (void)parse_spec(text.substr(first.size()), {*o});
  (void)eval_expr(first, [](const std::string& n, std::string&) -> std::optional<ExprValue> {
    if (n == "a") return int64_t{INT64_MAX};
    if (n == "b") return true;
    return std::nullopt;
  }, error);
  if (text.size() < 12) return;
  auto num = [&](std::size_t i) {
    auto v = static_cast<int64_t>(static_cast<unsigned char>(text[i]) | static_cast<unsigned char>(text[i + 1]) << 8);
    return text[i] & 1 ? v * 32768 : v;  // small numbers and ones near 2^31
  };
  SolveQuery q;
  q.input = num(0), q.output = num(2), q.kernel = num(4), q.stride = num(6), q.padding = num(8);
  q.pool = text[10] & 1, q.ceil_mode = q.pool && (text[10] & 2), q.keep = text[10] & 4, q.halve = text[10] & 8;
  q.dilation = 1 + (text[11] & 3);
  switch (static_cast<unsigned char>(text[11]) % 6) {
    case 0: q.input.reset(); break;
    case 1: q.output.reset(); break;
    case 2: q.kernel.reset(); break;
    case 3: q.stride.reset(); break;
    case 4: q.padding.reset(); break;
    default: break;
  }
  q.transposed = text[10] & 16;
  if (q.transposed && (text[10] & 32)) q.output_padding = (static_cast<unsigned char>(text[11]) >> 2) & 7;
  SolveResult r = solve(q);
  if (r.solutions.size() > static_cast<std::size_t>(kMaxListed)) __builtin_trap();  // never materialised
}

std::string slurp_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// `-o` on one of the paths a user might give, chosen by a byte: a new file,
// the spec itself (refused), a folder (refused), a symlink (followed), a
// dangling symlink, a FIFO nobody reads (refused without blocking), a path in
// a missing folder. The spec must never change; a write that succeeds must
// leave exactly the data behind.
void output_paths(const std::string& text) {
  static std::string dir = [] {
    char tmpl[] = "/tmp/netshape-fuzz-XXXXXX";
    std::string d = ::mkdtemp(tmpl) ? tmpl : "/tmp";
    std::ofstream(d + "/spec.json") << "{\"input\": [1, 3, 8, 8], \"layers\": []}";
    std::ofstream(d + "/target") << "target";
    (void)::symlink((d + "/target").c_str(), (d + "/link").c_str());
    (void)::symlink((d + "/nowhere").c_str(), (d + "/dangling").c_str());
    (void)::mkfifo((d + "/fifo").c_str(), 0600);
    static std::string cleanup = d;  // removed when the fuzzer exits
    std::atexit([] { std::error_code ec; std::filesystem::remove_all(cleanup, ec); });
    return d;
  }();
  if (text.size() < 13) return;
  static const char* const names[] = {"out.txt", "spec.json", ".", "link", "dangling", "fifo", "missing/out.txt", ""};
  std::string out = std::string(names[static_cast<unsigned char>(text[12]) % 8]);
  if (!out.empty()) out = dir + "/" + out;
  std::string input = dir + "/spec.json", before = slurp_file(input), error, data = text.substr(0, 64);
  bool ok = check_output_path(out, input, error);
  if (out == input && ok) __builtin_trap();  // the spec itself must be refused
  if (ok && !out.empty() && out != dir + "/fifo") {
    bool wrote = write_output(out, data, error);
    if (wrote && slurp_file(out) != data) __builtin_trap();
  }
  if (slurp_file(input) != before) __builtin_trap();
}

// The escapers on raw bytes: what they return must hold no control
// character a terminal or a literal could act on (text.h).
void escapers(const std::string& text) {
  if (first_control(printable(text))) __builtin_trap();
  std::string kept = printable(text, true);
  for (char c : kept)
    if (c != '\n' && c != '\t' && (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)) __builtin_trap();
  std::string cell = csv_field(text);
  if (cell.find('\r') != std::string::npos || (!cell.empty() && std::string("=+@\t").find(cell[0]) != std::string::npos))
    __builtin_trap();
  std::string py = python_escape(text);
  if (first_control(py) || py.find('"') != std::string::npos) {
    // Every quote must be escaped: a '"' is allowed only right after a backslash that is itself unescaped.
    for (std::size_t i = 0; i < py.size(); ++i) {
      if (py[i] == '\\') { ++i; continue; }
      if (py[i] == '"' || static_cast<unsigned char>(py[i]) < 0x20) __builtin_trap();
    }
  }
  (void)markdown_code(text);
  (void)markdown_text(text);
  (void)is_spec_text(text);  // the import helper's output check
}

// The same spec with a named input ("N", C, "H", "W"): the closed forms of
// every row, on whatever the fuzzer makes (at scale: `repeat` up to 100,000,
// where they were once quadratic; -timeout catches that).
void named_input(const std::string& text, const Spec& spec) {
  if (spec.input.size() != 4) return;
  std::string error;
  auto o = parse_override("input=\"N\"," + std::to_string(spec.input[1]) + ",\"H\",\"W\"", error);
  if (!o) return;
  ParseResult named = parse_spec(text, {*o});
  if (!named.spec || !resolve_named_input(*named.spec)) return;
  Evaluation ev = evaluate(*named.spec);
  name_shapes(*named.spec, ev);
  ReportContext ctx;
  ctx.graph = &named.spec->graph;
  ctx.input = named.spec->input;
  ctx.input_names = named.spec->input_names;
  (void)json_text(ev, ctx);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  side_parsers(text);
  output_paths(text);
  escapers(text);
  ParseResult parsed = parse_spec(text);
  Evaluation ev;
  ev.diagnostics = parsed.diagnostics;
  ReportContext ctx;
  ctx.file = "fuzz.json";
  ctx.name = "fuzz";
  if (parsed.spec) {
    ev = evaluate(*parsed.spec);
    if (!ev.valid()) suggest_fixes(text, {}, *parsed.spec, ev);
    if (ev.valid()) {
      for (const auto& r : ev.rows)
        for (int64_t d : r.output)
          if (d < 1) __builtin_trap();  // a valid network with an empty dim
      for (int64_t d : *ev.output)
        if (d < 1) __builtin_trap();
    }
    ctx.input = parsed.spec->input;
    (void)explain(*parsed.spec, ev, "");
    if (ev.valid()) {  // export: Python text or a reason, never a crash
      ExportResult x = export_pytorch(*parsed.spec, ev, "fuzz.json");
      if (x.code.empty() == x.error.empty()) __builtin_trap();
    }
    named_input(text, *parsed.spec);
    if (parsed.spec->input.size() == 4 && ev.rows.size() < 2000)
      for (int axis : {2, 3}) {
        DimAnalysis a = analyse_dim(*parsed.spec, ev, axis);
        if (a.error.empty()) (void)a.valid.smallest();
      }
  } else {
    verify_fixes(text, {}, ev.diagnostics);
  }
  (void)table_text(ev, ctx);
  (void)table_csv(ev, ctx);
  (void)table_markdown(ev, ctx);
  (void)to_json(ev, ctx).dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
  (void)diagnostics_text(ev.diagnostics, "fuzz.json", true);
  return 0;
}
