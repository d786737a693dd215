// libFuzzer harness: the whole symbolic path on arbitrary bytes — parse,
// evaluate, suggest fixes, explain, analyse sizes, and render every format.
// Nothing may crash, hang or throw (netshape reports problems as diagnostics,
// it never throws them), and a valid result must have every size ≥ 1.
#include <cstddef>
#include <cstdint>
#include <string>

#include "explain.h"
#include "fix.h"
#include "parse.h"
#include "report.h"
#include "symbolic.h"

using namespace netshape;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
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
