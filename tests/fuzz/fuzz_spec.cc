// libFuzzer harness: the whole symbolic path on arbitrary bytes — parse,
// evaluate, suggest fixes, explain, analyse sizes, and render every format —
// and the small parsers beside it: `--set` overrides applied to the spec,
// block expressions, `solve` on numbers taken from the input.
// Nothing may crash, hang or throw (netshape reports problems as diagnostics,
// it never throws them), and a valid result must have every size ≥ 1.
#include <cstddef>
#include <cstdint>
#include <string>

#include "expr.h"
#include "explain.h"
#include "fix.h"
#include "parse.h"
#include "report.h"
#include "solve.h"
#include "symbolic.h"

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

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  side_parsers(text);
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
