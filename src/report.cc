#include <cctype>
#include "report.h"

#include <algorithm>

#include <fmt/format.h>

#include "text.h"

namespace netshape {

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


namespace {

std::string rf_text(const Row& r) {
  if (!r.receptive_field) return "global";
  const auto& f = *r.receptive_field;
  bool same = std::all_of(f.begin(), f.end(), [&](const Row::Field& x) { return x.size == f[0].size && x.jump == f[0].jump; });
  if (same) return fmt::format("{} /{}", f[0].size, f[0].jump);
  std::vector<int64_t> sizes, jumps;
  for (const auto& x : f) sizes.push_back(x.size), jumps.push_back(x.jump);
  return fmt::format("{} /{}", fmt::join(sizes, "×"), fmt::join(jumps, "×"));
}

struct Column {
  const char* name;
  const char* header;
  bool numeric;  // right-aligned in text
  std::string (*cell)(const Row&);
};

const Column kColumns[] = {
    {"layer", "layer", false, [](const Row& r) { return r.name; }},
    {"type", "type", false, [](const Row& r) { return r.type; }},
    {"input", "input", false, [](const Row& r) {
       // A cat or mul shows every input; an add's are equal when it works.
       if (r.inputs.size() > 1 && r.type != "add") {
         std::vector<std::string> all;
         for (const auto& s : r.inputs) all.push_back(format_shape(s));
         return fmt::format("{}", fmt::join(all, r.type == "cat" ? " + " : r.type == "matmul" ? " @ " : " * "));
       }
       if (r.input.empty()) return std::string("—");  // a Parameter reads nothing
       std::string in = r.symbolic_input.empty() ? format_shape(r.input) : fmt::format("[{}]", fmt::join(r.symbolic_input, ", "));
       return r.from.empty() ? in : fmt::format("{} from {}", in, r.from);
     }},
    {"output", "output", false, [](const Row& r) {
       if (r.failed) return std::string("✗ error");
       return r.symbolic_output.empty() ? format_shape(r.output) : fmt::format("[{}]", fmt::join(r.symbolic_output, ", "));
     }},
    {"args", "arguments", false, [](const Row& r) { return r.arguments; }},
    {"params", "params", true, [](const Row& r) { return r.failed ? std::string() : thousands(r.params); }},
    {"buffers", "buffers", true, [](const Row& r) { return r.failed ? std::string() : thousands(r.buffers); }},
    {"macs", "MACs", true, [](const Row& r) { return r.failed ? std::string() : thousands(r.macs); }},
    {"memory", "activation", true, [](const Row& r) { return r.failed ? std::string() : human_bytes(r.activation_bytes); }},
    {"rf", "receptive field", true, [](const Row& r) { return r.failed ? std::string() : rf_text(r); }},
};

std::vector<const Column*> pick(const std::vector<std::string>& names) {
  std::vector<const Column*> out;
  for (const auto& n : names)
    for (const auto& c : kColumns)
      if (n == c.name) out.push_back(&c);
  return out;
}

// A cell of the text table: spec text (a layer's name) with every control escaped.
std::string cell_text(const Column& c, const Row& r) { return printable(c.cell(r)); }

}  // namespace

std::vector<std::string> column_names(bool all) {
  std::vector<std::string> out;
  for (const auto& c : kColumns)
    if (all || (std::string(c.name) != "buffers" && std::string(c.name) != "macs" &&
                std::string(c.name) != "memory" && std::string(c.name) != "rf"))
      out.push_back(c.name);
  return out;
}

// "[N, 3, H, W] (numbers at [1, 3, 193, 193])" for a named input.
std::string input_text(const ReportContext& ctx) {
  if (ctx.input_names.empty()) return format_shape(ctx.input);
  std::vector<std::string> dims;
  for (std::size_t i = 0; i < ctx.input.size(); ++i)
    dims.push_back(i < ctx.input_names.size() && !ctx.input_names[i].empty() ? ctx.input_names[i] : std::to_string(ctx.input[i]));
  return fmt::format("[{}] (numbers below at {}, the smallest valid size)", fmt::join(dims, ", "), format_shape(ctx.input));
}

// "[1, 1000]", or every output of a network with several heads.
std::string outputs_text(const Evaluation& ev) {
  if (ev.outputs.size() <= 1) return "output " + format_shape(*ev.output);
  std::vector<std::string> all;
  for (const auto& s : ev.outputs) all.push_back(format_shape(s));
  return fmt::format("outputs {}", fmt::join(all, ", "));
}

std::string totals_text(const Evaluation& ev) {
  return fmt::format("{} · {} layers · {} parameters · {} buffers · {} MACs · peak "
                     "activations {}",
                     outputs_text(ev), ev.rows.size(), thousands(ev.params),
                     thousands(ev.buffers), thousands(ev.macs), human_bytes(ev.peak_activation_bytes));
}

std::string table_text(const Evaluation& ev, const ReportContext& ctx) {
  const char* header = ctx.color ? "\033[1m" : "";
  const char* red = ctx.color ? "\033[1;31m" : "";
  const char* reset = ctx.color ? "\033[0m" : "";
  auto cols = pick(ctx.columns.empty() ? column_names(false) : ctx.columns);
  std::vector<std::vector<std::string>> cells(1);
  for (const auto* c : cols) cells[0].push_back(c->header);
  for (const auto& r : ev.rows) {
    cells.emplace_back();
    for (const auto* c : cols) cells.back().push_back(cell_text(*c, r));
  }
  std::vector<std::size_t> w(cols.size());
  for (const auto& row : cells)
    for (std::size_t i = 0; i < cols.size(); ++i) w[i] = std::max(w[i], width(row[i]));

  std::string out = fmt::format("{}: input {}{}\n\n", printable(ctx.name), input_text(ctx),
                                ctx.graph && input_holds_indices(*ctx.graph) ? " (token indices: an Embedding reads them)" : "");
  for (std::size_t k = 0; k < cells.size(); ++k) {
    bool failed = k > 0 && ev.rows[k - 1].failed;
    std::string line;
    for (std::size_t i = 0; i < cols.size(); ++i)
      line += (cols[i]->numeric ? pad_left(cells[k][i], w[i]) : pad(cells[k][i], w[i])) + "  ";
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += fmt::format("{}{}{}\n", k == 0 ? header : failed ? red : "", line,
                       (k == 0 || failed) ? reset : "");
  }
  out += "\n";
  if (ev.valid()) {
    out += totals_text(ev) + "\n";
  } else {
    std::size_t n = error_count(ev.diagnostics);
    out += fmt::format("{}invalid{}: {} error{}{}\n", red, reset, n, n == 1 ? "" : "s",
                       ev.rows.empty() ? "" : "; the table stops at the first failing layer");
  }
  return out;
}

std::string table_csv(const Evaluation& ev, const ReportContext& ctx) {
  auto cols = pick(ctx.columns.empty() ? column_names(true) : ctx.columns);
  std::string out;
  for (std::size_t i = 0; i < cols.size(); ++i) out += (i ? "," : "") + std::string(cols[i]->name);
  out += "\n";
  for (const auto& r : ev.rows) {
    for (std::size_t i = 0; i < cols.size(); ++i) {
      std::string v = cols[i]->cell(r);
      // Plain numbers in CSV: no thousands separators.
      if (cols[i]->numeric && std::string(cols[i]->name) != "memory" && std::string(cols[i]->name) != "rf")
        v.erase(std::remove(v.begin(), v.end(), ','), v.end());
      if (std::string(cols[i]->name) == "memory" && !r.failed) v = std::to_string(r.activation_bytes);
      out += (i ? "," : "") + csv_field(v);
    }
    out += "\n";
  }
  return out;
}

std::string table_markdown(const Evaluation& ev, const ReportContext& ctx) {
  auto cols = pick(ctx.columns.empty() ? column_names(false) : ctx.columns);
  // Cells that are not code are netshape's own words and numbers: `|` and
  // what could start HTML are escaped; names are code spans (markdown_code).
  auto esc = [](const std::string& s) {
    std::string o;
    for (char c : printable(s)) o += std::string_view("|<>&`\\").find(c) != std::string_view::npos ? std::string("\\") + c : std::string(1, c);
    return o;
  };
  std::string out = fmt::format("**{}**: input `{}`\n\n|", markdown_text(ctx.name), format_shape(ctx.input));
  for (const auto* c : cols) out += fmt::format(" {} |", c->header);
  out += "\n|";
  for (const auto* c : cols) out += c->numeric ? "---:|" : "---|";
  out += "\n";
  for (const auto& r : ev.rows) {
    out += "|";
    for (const auto* c : cols) {
      std::string v = c->cell(r);
      bool code = std::string(c->name) == "layer" || std::string(c->name) == "input" ||
                  std::string(c->name) == "output";
      out += fmt::format(" {} |", code && !v.empty() ? markdown_code(v) : esc(v));
    }
    out += "\n";
  }
  out += "\n" + (ev.valid() ? totals_text(ev) : std::string("**invalid**: see the diagnostics")) + "\n";
  return out;
}

std::string check_text(const Evaluation& ev, const ReportContext& ctx) {
  if (!ev.valid()) {
    std::size_t n = error_count(ev.diagnostics);
    return fmt::format("{}: invalid ({} error{})\n", printable(ctx.file), n, n == 1 ? "" : "s");
  }
  std::size_t warnings = ev.diagnostics.items.size() - error_count(ev.diagnostics);
  return fmt::format("{}: ok: {} {} → {}, {} parameters{}\n", printable(ctx.file), printable(ctx.name),
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

static nlohmann::ordered_json rf_json(const Row& r) {
  if (!r.receptive_field) return nullptr;
  auto dim = [](const Row::Field& f) {
    return nlohmann::ordered_json{{"size", f.size}, {"jump", f.jump}, {"start", f.start}};
  };
  // Keyed by the dims' letters: {"h", "w"} for 2-d, {"l"} for 1-d, {"d", "h", "w"} for 3-d.
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  const auto& f = *r.receptive_field;
  for (std::size_t d = 0; d < f.size(); ++d) {
    std::string key = spatial_letter(f.size(), d);
    key[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(key[0])));
    out[key] = dim(f[d]);
  }
  return out;
}

namespace {

using ojson = nlohmann::ordered_json;

ojson layer_json(const Evaluation& ev, const ReportContext& ctx, std::size_t i) {
  const Row& r = ev.rows[i];
  ojson j = {{"name", r.name},
             {"type", r.type},
             {"pointer", r.pointer},
             {"arguments", r.arguments},
             {"input_shape", r.input.empty() ? ojson(nullptr) : ojson(r.input)},  // null: a Parameter reads nothing
             {"output_shape", r.failed ? ojson(nullptr) : ojson(r.output)},
             {"params", r.params},
             {"buffers", r.buffers},
             {"macs", r.macs},
             {"activation_bytes", r.activation_bytes},
             {"receptive_field", rf_json(r)}};
  if (!r.symbolic_output.empty() || !r.symbolic_input.empty()) {
    j["symbolic_input_shape"] = r.symbolic_input;
    j["symbolic_output_shape"] = r.symbolic_output;
  }
  if (!r.inputs.empty()) {
    j["input_shapes"] = r.inputs;
    // A merge's inputs by the layer that gives each ("input": the network's),
    // in order: what a diagram draws its edges from.
    if (ctx.graph && i < ctx.graph->nodes.size()) {
      ojson from = ojson::array();
      for (const auto& in : ctx.graph->nodes[i].inputs) from.push_back(ctx.graph->producer_name(in.value));
      j["input_layers"] = from;
    }
  }
  if (!r.from.empty()) j["from"] = r.from;
  return j;
}

// What a forward hook on every named module would see (containers too): a
// value's shape is its producer's row output. `each(name, shape)` per module.
template <class Each> void each_module(const Evaluation& ev, const ReportContext& ctx, Each each) {
  if (!ctx.graph) return;
  for (const auto& m : ctx.graph->modules) {
    if (m.shared) continue;  // a second call: named_modules() lists the module once
    auto v = static_cast<std::size_t>(m.value);
    if (v == 0) each(ctx.graph->module_name(m), ctx.input);
    else if (v - 1 < ev.rows.size() && !ev.rows[v - 1].failed) each(ctx.graph->module_name(m), ev.rows[v - 1].output);
  }
}

// Everything but the layers and the modules, in the document's order.
ojson head_json(const Evaluation& ev, const ReportContext& ctx) {
  ojson diags = ojson::array();
  for (const auto& d : ev.diagnostics.items) diags.push_back(diagnostic_json(d));
  return {{"name", ctx.name},
          {"file", ctx.file},
          {"input_shape", ctx.input},
          {"input_names", ctx.input_names.empty() ? ojson(nullptr) : ojson(ctx.input_names)},
          // "int64": token indices, as an Embedding reads them (evaluate.h: input_holds_indices)
          {"input_dtype", ctx.graph && input_holds_indices(*ctx.graph) ? "int64" : "float32"},
          {"output_shape", ev.valid() ? ojson(*ev.output) : ojson(nullptr)},
          {"output_shapes", ev.valid() ? ojson(ev.outputs) : ojson(nullptr)},
          {"params", ev.valid() ? ojson(ev.params) : ojson(nullptr)},
          {"buffers", ev.valid() ? ojson(ev.buffers) : ojson(nullptr)},
          {"macs", ev.valid() ? ojson(ev.macs) : ojson(nullptr)},
          {"peak_activation_bytes", ev.valid() ? ojson(ev.peak_activation_bytes) : ojson(nullptr)},
          {"valid", ev.valid()},
          {"layers", ojson::array()},
          {"modules", ojson::object()},
          {"diagnostics", diags}};
}

std::string dumped(const ojson& j) { return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace); }

// Appends `text` (a dump at depth 0) to `out` as it reads at depth 2 (4 spaces).
void append_indented(std::string& out, const std::string& text) {
  std::size_t from = 0;
  for (std::size_t at; (at = text.find('\n', from)) != std::string::npos; from = at + 1)
    out.append(text, from, at + 1 - from).append("    ");
  out.append(text, from, std::string::npos);
}

}  // namespace

ojson to_json(const Evaluation& ev, const ReportContext& ctx) {
  ojson j = head_json(ev, ctx);
  for (std::size_t i = 0; i < ev.rows.size(); ++i) j["layers"].push_back(layer_json(ev, ctx, i));
  // Appended to the ordered map's vector directly: its operator[] searches
  // linearly, which would make this quadratic (names are unique).
  auto& entries = j["modules"].get_ref<ojson::object_t&>();
  each_module(ev, ctx, [&](const std::string& name, const Shape& shape) { entries.emplace_back(name, ojson(shape)); });
  return j;
}

// The text of to_json(...).dump(2), written a layer at a time: a 100,000-row
// document never exists as one tree (that tree's allocations were most of the
// time `table --format json` took at the layer limit).
std::string json_text(const Evaluation& ev, const ReportContext& ctx) {
  std::string head = dumped(head_json(ev, ctx));
  const std::string layers_key = "\n  \"layers\": []", modules_key = "\n  \"modules\": {}";
  std::size_t at_layers = head.find(layers_key), at_modules = head.find(modules_key);
  std::string out;
  out.reserve(head.size() + ev.rows.size() * 700);
  out.append(head, 0, at_layers + layers_key.size() - 2);
  for (std::size_t i = 0; i < ev.rows.size(); ++i) {
    out += i ? ",\n    " : "[\n    ";
    append_indented(out, dumped(layer_json(ev, ctx, i)));
  }
  out += ev.rows.empty() ? "[]" : "\n  ]";
  out.append(head, at_layers + layers_key.size(), at_modules + modules_key.size() - 2 - (at_layers + layers_key.size()));
  bool first = true;
  each_module(ev, ctx, [&](const std::string& name, const Shape& shape) {
    out += first ? "{\n    " : ",\n    ";
    first = false;
    out += dumped(ojson(name)) + ": ";
    append_indented(out, dumped(ojson(shape)));
  });
  out += first ? "{}" : "\n  }";
  out.append(head, at_modules + modules_key.size(), std::string::npos);
  return out;
}

std::string diagnostics_text(const Diagnostics& diags, const std::string& file, bool color) {
  std::string out;
  for (const auto& d : diags.items) out += render(d, file, color) + "\n";
  return out;
}

}  // namespace netshape
