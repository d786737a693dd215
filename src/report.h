// report: formats an Evaluation. Only formatting happens here.
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "evaluate.h"
#include "text.h"

namespace netshape {

struct ReportContext {
  std::string file;  // as the user named it
  std::string name;  // the spec's name (or the file's stem)
  Shape input;
  bool color = false;
  std::vector<std::string> columns;  // empty: the default set
  std::vector<std::string> input_names;  // a named input's dims ("" when numeric)
  const Graph* graph = nullptr;  // for JSON's "modules" (every named module's output)
};

// "512 B", "36.8 KiB", "6.1 MiB", "1.5 GiB", … up to EiB.


// The table's column names: the default set, or all of them.
std::vector<std::string> column_names(bool all);

// The table as CSV (every column by default, plain numbers) or Markdown.
std::string table_csv(const Evaluation& ev, const ReportContext& ctx);
std::string table_markdown(const Evaluation& ev, const ReportContext& ctx);

// The per-layer table with totals, for a terminal.
std::string table_text(const Evaluation& ev, const ReportContext& ctx);

// One line for `check`.
std::string check_text(const Evaluation& ev, const ReportContext& ctx);

// The JSON document of docs/json-output.md.
nlohmann::ordered_json to_json(const Evaluation& ev, const ReportContext& ctx);
// Its text, to_json(...).dump(2), written without building the whole tree.
std::string json_text(const Evaluation& ev, const ReportContext& ctx);
nlohmann::ordered_json diagnostic_json(const Diagnostic& d);

// Every diagnostic, rendered for stderr.
std::string diagnostics_text(const Diagnostics& diags, const std::string& file, bool color);



}  // namespace netshape
