// netshape: the command line. Symbolic commands only: this binary never links
// LibTorch; `run` hands over to netshape-torch (docs/architecture.md).
#include <unistd.h>

#include <cstring>

#include <cstdlib>
#include <algorithm>
#include <iostream>
#include <sstream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "explain.h"
#include "export.h"
#include "graph.h"
#include "kinds.h"
#include "json_cursor.h"
#include "run_options.h"
#include "solve.h"
#include "symbolic.h"
#include "text.h"

using namespace netshape;

namespace {

// Replaces this process with netshape-torch from the same folder.
int exec_torch_runner(int argc, char** argv) {
  std::string self(4096, '\0');
  ssize_t n = readlink("/proc/self/exe", self.data(), self.size() - 1);
  std::string dir = n > 0 ? self.substr(0, static_cast<std::size_t>(n)) : std::string(argv[0]);
  dir = dir.substr(0, dir.rfind('/') + 1);
  std::string runner = dir + "netshape-torch";
  std::vector<char*> args{runner.data()};
  for (int i = 2; i < argc; ++i) args.push_back(argv[i]);  // drop "netshape run"
  args.push_back(nullptr);
#ifndef __EMSCRIPTEN__  // the browser runs no processes: the message below says what `run` needs
  execv(runner.c_str(), args.data());
#endif
  std::cerr << fmt::format(
      "error[no-libtorch]: `netshape run` needs netshape-torch, which was not built\n"
      "  --> looked for {}\n"
      "   = help: install LibTorch (apt-get install libtorch-dev) and rebuild: cmake -S . -B "
      "build && cmake --build build\n",
      runner);
  return kExitTorch;
}

// `netshape run`: everything that can be refused is refused here, in
// milliseconds; only a run that will happen pays LibTorch's load.
int run_command(int argc, char** argv) {
  CLI::App app{"netshape run: build the spec's network in LibTorch, run it, compare shapes"};
  app.name("netshape run");
  RunCli cli;
  add_run_options(app, cli);
  try {
    app.parse(argc - 1, argv + 1);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }
  Loaded in;
  // A spec on standard input can be read only once: netshape-torch checks it.
  if (cli.common.spec != "-")
    if (auto rc = precheck_run(cli, in)) return *rc;
  return exec_torch_runner(argc, argv);
}

int exit_code(const CommonOptions& opt, const Evaluation& ev) {
  if (!ev.valid() || (opt.strict && has_warnings(ev.diagnostics))) return kExitInvalid;
  return kExitOk;
}

int explain_command(const CommonOptions& opt, const std::string& layer) {
  Loaded in;
  if (int rc = load_and_evaluate(opt, in); rc != kExitOk) return rc;
  std::vector<Explanation> items;
  if (in.parsed) items = explain(*in.spec, in.eval, layer);
  if (in.parsed && !layer.empty() && items.empty()) {
    std::vector<std::string> names;
    for (const auto& r : in.eval.rows) names.push_back(r.name);
    std::cerr << fmt::format("error[usage]: --layer: no row of the table is named `{}`{}\n", printable(layer),
                             [&] {
                               auto m = did_you_mean(layer, names);
                               return m ? fmt::format("; did you mean `{}`?", *m) : std::string();
                             }());
    return kExitUsage;
  }
  if (!layer.empty()) {
    // --layer: that layer's diagnostics (and those of the layers below it) only.
    auto& items = in.eval.diagnostics.items;
    items.erase(std::remove_if(items.begin(), items.end(), [&](const Diagnostic& d) {
                  bool mine = d.layer == layer || d.layer.compare(0, layer.size() + 1, layer + ".") == 0;
                  return !mine && d.severity == Severity::warning;
                }),
                items.end());
  }
  if (opt.format == "json") {
    auto j = to_json(in.eval, in.context);
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const auto& e : items)
      list.push_back({{"name", e.name}, {"type", e.type}, {"headline", e.headline}, {"lines", e.lines}});
    j["explanations"] = list;
    std::cout << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  } else {
    std::cerr << diagnostics_text(in.eval.diagnostics, in.context.file, use_color(opt.color, STDERR_FILENO));
    bool color = use_color(opt.color, STDOUT_FILENO);
    for (const auto& e : items) {
      std::cout << fmt::format("{}{}{} · {}\n", color ? "\033[1m" : "", printable(e.name), color ? "\033[0m" : "",
                               printable(e.headline));
      for (const auto& l : e.lines) std::cout << "  " << printable(l) << "\n";
      std::cout << "\n";
    }
  }
  return exit_code(opt, in.eval);
}

// What --set does downstream: shapes that change, adds that break or heal,
// the parameter count's move.
int diff_command(const CommonOptions& opt) {
  if (opt.sets.empty()) {
    std::cerr << "error[usage]: diff compares the spec with and without --set changes: give at "
                 "least one --set NAME.FIELD=VALUE\n";
    return kExitUsage;
  }
  CommonOptions plain = opt;
  plain.sets.clear();
  Loaded before, after;
  if (int rc = load_and_evaluate(plain, before); rc != kExitOk) return rc;
  if (int rc = load_and_evaluate(opt, after); rc != kExitOk) return rc;
  if (!before.parsed) {
    std::cerr << diagnostics_text(before.eval.diagnostics, before.context.file, use_color(opt.color, STDERR_FILENO));
    return kExitInvalid;
  }
  struct Change { std::string name, type, was, now; };
  std::vector<Change> changed, breaks, heals, added, removed;
  auto shape_of = [](const Row& r) { return r.failed ? std::string("✗ error") : format_shape(r.output); };
  for (const auto& r : after.eval.rows) {
    const Row* b = find_row(before.eval, r.name);
    if (!b) { added.push_back({r.name, r.type, "", shape_of(r)}); continue; }
    if (r.type == "add" && b->failed != r.failed)
      (r.failed ? breaks : heals).push_back({r.name, r.type, shape_of(*b), shape_of(r)});
    else if (shape_of(*b) != shape_of(r) || b->params != r.params || b->input != r.input)
      changed.push_back({r.name, r.type, format_shape(b->input) + " → " + shape_of(*b),
                         format_shape(r.input) + " → " + shape_of(r)});
  }
  for (const auto& r : before.eval.rows)
    if (!find_row(after.eval, r.name)) removed.push_back({r.name, r.type, shape_of(r), ""});
  auto summary = [](const Evaluation& ev) {
    return ev.valid() ? fmt::format("{}, {} parameters", format_shape(*ev.output), thousands(ev.params))
                      : std::string("invalid");
  };
  if (opt.format == "json") {
    using oj = nlohmann::ordered_json;
    auto list = [](const std::vector<Change>& v) {
      oj a = oj::array();
      for (const auto& c : v) a.push_back({{"name", c.name}, {"type", c.type}, {"before", c.was}, {"after", c.now}});
      return a;
    };
    auto side = [](const Evaluation& ev) {
      return oj{{"valid", ev.valid()},
                {"output_shape", ev.valid() ? oj(*ev.output) : oj(nullptr)},
                {"params", ev.valid() ? oj(ev.params) : oj(nullptr)}};
    };
    oj diags = oj::array();
    for (const auto& d : after.eval.diagnostics.items) diags.push_back(diagnostic_json(d));
    std::cout << oj{{"name", after.context.name}, {"set", opt.sets}, {"before", side(before.eval)},
                    {"after", side(after.eval)}, {"changed", list(changed)}, {"breaks", list(breaks)},
                    {"heals", list(heals)}, {"added", list(added)}, {"removed", list(removed)},
                    {"diagnostics", diags}}
                     .dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
              << "\n";
  } else {
    std::cerr << diagnostics_text(after.eval.diagnostics, after.context.file, use_color(opt.color, STDERR_FILENO));
    std::cout << printable(fmt::format("{} with --set {}", after.context.name, fmt::join(opt.sets, " --set "))) << "\n\n";
    std::cout << fmt::format("before: {}\nafter:  {}\n", summary(before.eval), summary(after.eval));
    if (before.eval.valid() && after.eval.valid() && before.eval.params != after.eval.params)
      std::cout << fmt::format("parameters: {:+}\n", after.eval.params - before.eval.params);
    auto section = [](const char* title, const std::vector<Change>& v, bool two) {
      if (v.empty()) return;
      std::cout << fmt::format("\n{} ({}):\n", title, v.size());
      std::size_t w = 0, t = 0;
      for (const auto& c : v) { w = std::max(w, c.name.size()); t = std::max(t, c.type.size()); }
      for (const auto& c : v)
        std::cout << printable(fmt::format("  {:<{}}  {:<{}}  {}", c.name, w, c.type, t,
                                           two ? c.was + "  ⇒  " + c.now : (c.was.empty() ? c.now : c.was)))
                  << "\n";
    };
    section("residual adds that break", breaks, true);
    section("residual adds that heal", heals, true);
    section("layers whose shapes change", changed, true);
    section("layers that appear", added, false);
    section("layers that disappear", removed, false);
    if (changed.empty() && breaks.empty() && heals.empty() && added.empty() && removed.empty())
      std::cout << "\nno layer's shape changes\n";
  }
  return exit_code(opt, after.eval);
}

// `netshape sizes`: every input size the network accepts, per spatial dim.
int sizes_command(const CommonOptions& opt) {
  Loaded in;
  if (int rc = load_and_evaluate(opt, in); rc != kExitOk) return rc;
  if (!in.parsed) {
    std::cerr << diagnostics_text(in.eval.diagnostics, in.context.file, use_color(opt.color, STDERR_FILENO));
    return kExitInvalid;
  }
  std::vector<DimAnalysis> dims;
  // One analysis per spatial dim (L; H, W; D, H, W), or one that says why there is none.
  std::size_t rank = in.spec->input.size();
  if (rank < 3 || rank > 5) dims.push_back(analyse_dim(*in.spec, in.eval, 2));
  else
    for (std::size_t axis = 2; axis < rank; ++axis) dims.push_back(analyse_dim(*in.spec, in.eval, static_cast<int>(axis)));
  auto text_range = [](const std::pair<int64_t, int64_t>& r) {
    return r.second >= SizeSet::kInf ? fmt::format("{} and up", r.first)
           : r.first == r.second     ? std::to_string(r.first)
                                     : fmt::format("{} to {}", r.first, r.second);
  };
  // The condition that first rules out x, and what the layer sees there.
  auto why = [](const DimAnalysis& a, int64_t x) -> std::string {
    for (const auto& c : a.constraints)
      if (!c.after.contains(x))
        return fmt::format("at {} = {}, `{}` {} — it {}", a.dim, x, c.layer,
                           c.noun.empty() ? "fails" : fmt::format("gets {} {}", c.subject.at(x), c.noun),
                           c.what);
    return "";
  };
  if (opt.format == "json") {
    using oj = nlohmann::ordered_json;
    oj out{{"name", in.context.name}, {"input_shape", in.spec->input}, {"dims", oj::object()}};
    for (const auto& a : dims) {
      auto set_json = [](const SizeSet& set) {
        auto d = set.describe();
        oj ranges = oj::array();
        for (const auto& r : d.ranges)
          ranges.push_back({r.first, r.second >= SizeSet::kInf ? oj(nullptr) : oj(r.second)});
        return oj{{"ranges", ranges}, {"modulus", d.modulus}, {"residues", d.residues},
                  {"smallest", set.smallest() ? oj(*set.smallest()) : oj(nullptr)}};
      };
      oj forms = oj::object();
      for (const auto& [name, f] : a.forms) forms[name] = qdim_text(f, a.dim);
      out["dims"][a.dim] = set_json(a.valid);
      out["dims"][a.dim]["clean"] = set_json(a.clean);
      out["dims"][a.dim]["forms"] = forms;
      if (!a.error.empty()) out["dims"][a.dim]["error"] = a.error;
    }
    std::cout << out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  } else {
    std::size_t spatial = in.spec->input.size() > 2 ? in.spec->input.size() - 2 : 0;
    if (spatial == 1)
      std::cout << fmt::format("{}: the input sizes it accepts along its one spatial dim (input {})\n",
                               printable(in.context.name), format_shape(in.spec->input));
    else
      std::cout << fmt::format("{}: the input sizes it accepts, one spatial dim at a time (the {} held at {} "
                               "in {})\n",
                               printable(in.context.name), spatial == 2 ? "other" : "others",
                               spatial == 2 ? "its value" : "their values", format_shape(in.spec->input));
    for (const auto& a : dims) {
      std::cout << "\n";
      if (!a.error.empty()) {
        std::cout << fmt::format("{}: not analysed: {}\n", a.dim, a.error);
        continue;
      }
      auto described = a.valid.describe();
      const auto& ranges = described.ranges;
      if (ranges.empty()) {
        std::cout << fmt::format("{}: no size works\n", a.dim);
        if (!a.constraints.empty()) std::cout << fmt::format("   {}\n", why(a, in.spec->input[static_cast<std::size_t>(a.axis)]));
        continue;
      }
      auto set_text = [&](const SizeSet::Description& d) {
        std::vector<std::string> parts;
        for (const auto& r : d.ranges) parts.push_back(text_range(r));
        return fmt::format("{}{}", fmt::join(parts, ", "),
                           d.modulus == 1 ? "" : fmt::format(" where {} mod {} is {}", a.dim, d.modulus, fmt::join(d.residues, " or ")));
      };
      std::cout << fmt::format("{}: {}\n", a.dim, set_text(described));
      int64_t lo = ranges.front().first, hi = ranges.back().second;
      std::cout << fmt::format("   smallest: {}\n", lo);
      if (lo > 1) std::cout << fmt::format("   why not {}: {}\n", lo - 1, why(a, lo - 1));
      if (hi < SizeSet::kInf) std::cout << fmt::format("   why not {}: {}\n", hi + 1, why(a, hi + 1));
      // What the binding layers see across the valid range.
      for (int64_t edge : {lo - 1, hi + 1}) {
        if (edge < 1 || edge == SizeSet::kInf + 1) continue;
        for (const auto& c : a.constraints) {
          if (c.after.contains(edge)) continue;
          for (const auto& [name, f] : a.inputs)
            if (name == c.layer && hi < SizeSet::kInf)
              std::cout << fmt::format("   across {} to {}, `{}` gets {} to {} input {} ({})\n", lo, hi, name,
                                       f.at(lo), f.at(hi), a.unit, qdim_text(f, a.dim));
          break;
        }
      }
      if (a.clean.smallest())
        std::cout << fmt::format("   no input {} left unread: {}\n", a.unit.substr(0, a.unit.size() - 1),
                                 set_text(a.clean.describe()));
      else
        std::cout << fmt::format("   at every valid size some layer leaves input {} unread\n", a.unit);
      if (!a.forms.empty())
        std::cout << fmt::format("   after `{}`, the last {}-D layer: {}\n", a.forms.back().first, in.spec->input.size(),
                                 qdim_text(a.forms.back().second, a.dim));
    }
  }
  for (const auto& a : dims)
    if (!a.error.empty() || a.valid.empty()) return kExitInvalid;
  return kExitOk;
}

int graph_command(const CommonOptions& opt) {
  Loaded in;
  if (int rc = load_and_evaluate(opt, in); rc != kExitOk) return rc;
  std::cerr << diagnostics_text(in.eval.diagnostics, in.context.file, use_color(opt.color, STDERR_FILENO));
  if (!in.parsed) return kExitInvalid;
  std::cout << graph_dot(*in.spec, in.eval, in.context.name);
  return exit_code(opt, in.eval);
}

// The folder this executable is in, with its trailing slash.
std::string exe_dir(const char* argv0) {
  std::string self(4096, '\0');
  ssize_t n = readlink("/proc/self/exe", self.data(), self.size() - 1);
  std::string path = n > 0 ? self.substr(0, static_cast<std::size_t>(n)) : std::string(argv0);
  return path.substr(0, path.rfind('/') + 1);
}

// `netshape import FILE.py:NAME`: runs the shipped script (src/netshape_import.py,
// copied next to the executable by the build; installed to ../share/netshape)
// with python3 (or $NETSHAPE_PYTHON), which prints the spec. Its standard
// output is read here so that -o writes it as every command writes its
// output; its messages go straight to standard error. This binary itself
// never loads Python or LibTorch.
struct ImportOptions {
  std::string target, input, output, module;
  std::vector<std::string> args;
};
#ifdef __EMSCRIPTEN__
int import_command(const ImportOptions&, const char*) {
  std::cerr << "error[usage]: netshape import runs Python and PyTorch, which a browser has not: "
               "use the command line\n";
  return kExitUsage;
}
#else
// The helper's verdict on itself: nullopt when it printed a spec; else the
// exit code, after saying what went wrong where the helper did not.
std::optional<int> helper_failure(const ChildRun& r, const std::string& python, const std::string& script) {
  std::string who = fmt::format("the import helper (`{} {}`)", python, script);
  if (r.start_error) {
    std::cerr << fmt::format("error[io]: netshape import runs `{}`, which could not be started: {}\n"
                             "   = help: install Python 3 and PyTorch (Debian: apt-get install python3-torch), "
                             "or set NETSHAPE_PYTHON\n", printable(python), std::strerror(r.start_error));
    return kExitUsage;
  }
  if (!r.exited) {
    std::cerr << fmt::format("error[import]: {} was killed by signal {} ({})\n"
                             "   = help: a model too large for this machine's memory ends this way; "
                             "try a smaller configuration (--arg)\n",
                             printable(who), r.signal, strsignal(r.signal));
    return kExitUsage;
  }
  if (r.code != kExitOk) {
    // 1 and 2 are the helper's own codes, always with a message; anything else is not the helper speaking.
    if (r.err_bytes == 0 || (r.code != kExitInvalid && r.code != kExitUsage))
      std::cerr << fmt::format("error[import]: {} exited with {}{}\n", printable(who), r.code,
                               r.err_bytes == 0 ? " without saying why" : "");
    return r.code == kExitInvalid ? kExitInvalid : kExitUsage;
  }
  if (r.out_cut) {
    std::cerr << fmt::format("error[io]: the imported spec is larger than {} bytes, the most a spec may be\n",
                             kMaxFileBytes);
    return kExitUsage;
  }
  // What it printed must be a spec before anything is written: a model that
  // calls sys.exit(0) while loading, or a NETSHAPE_PYTHON that is not Python,
  // must not leave an empty or foreign file behind -o.
  if (!is_spec_text(r.out)) {
    std::string start = r.out.substr(0, std::min<std::size_t>(r.out.find('\n'), 60));
    std::cerr << fmt::format("error[import]: {} exited with 0 but printed {}\n"
                             "   = help: NETSHAPE_PYTHON must be a python3 that has PyTorch; the model's module "
                             "must not end the process while it loads (sys.exit)\n",
                             printable(who), r.out.find_first_not_of(" \t\r\n") == std::string::npos
                                                  ? "no spec"
                                                  : fmt::format("something that is not a spec: `{}`", printable(start)));
    return kExitUsage;
  }
  return std::nullopt;
}

int import_command(const ImportOptions& o, const char* argv0) {
  std::string dir = exe_dir(argv0), script;
  for (const std::string& s : {dir + "netshape_import.py", dir + "../share/netshape/netshape_import.py"})
    if (access(s.c_str(), R_OK) == 0) { script = s; break; }
  if (script.empty()) {
    std::cerr << fmt::format("error[io]: netshape import needs netshape_import.py next to netshape or in "
                             "{}../share/netshape/; it is not there (rebuild, or reinstall)\n", dir);
    return kExitUsage;
  }
  std::string error;
  if (!o.input.empty() && !parse_input_list(o.input, error)) {
    std::cerr << "error[usage]: --input: " << printable(error) << "\n";
    return kExitUsage;
  }
  const char* env = std::getenv("NETSHAPE_PYTHON");
  std::string python = env && *env ? env : "python3";
  std::vector<std::string> words{python, script, o.target};
  if (!o.input.empty()) words.insert(words.end(), {"--input", o.input});
  for (const auto& a : o.args) words.insert(words.end(), {"--arg", a});
  if (!o.module.empty()) words.insert(words.end(), {"--module", o.module});
  // The helper refuses -o when it is the model's own source (by inode),
  // before the model's module runs.
  if (!o.output.empty()) words.insert(words.end(), {"--output-path", o.output});
  ChildRun r = run_child(words, kMaxFileBytes);
  if (auto rc = helper_failure(r, python, script)) return *rc;
  std::cout << r.out;
  return kExitOk;
}
#endif

// `netshape export SPEC --to pytorch`: the spec as a Python module. Only a
// valid spec exports (every inferred channel count is known); a spec export
// cannot write (a skip it cannot reach) is exit 2 with the reason.
int export_command(const CommonOptions& opt) {
  Loaded in;
  if (int rc = load_and_evaluate(opt, in); rc != kExitOk) return rc;
  std::cerr << diagnostics_text(in.eval.diagnostics, in.context.file, use_color(opt.color, STDERR_FILENO));
  if (!in.parsed || !in.eval.valid()) {
    std::cerr << "netshape export: the spec has errors (above); it exports once `netshape check` passes\n";
    return kExitInvalid;
  }
  ExportResult r = export_pytorch(*in.spec, in.eval, in.context.file);
  if (!r.error.empty()) {
    std::cerr << fmt::format("error[export]: {}\n", printable(r.error));
    if (!r.layer.empty()) std::cerr << printable(fmt::format("  --> {} (layer {})", in.context.file, r.layer)) << "\n";
    return kExitUsage;
  }
  std::cout << r.code;
  return kExitOk;
}

// `netshape help KIND` and `netshape help kinds [--format …]`: from the kind
// table (kinds.h), as the schema and the docs are.
int help_kind(const std::string& topic, const std::string& format) {
  if (topic == "kinds") {
    if (format == "json") std::cout << kinds_json().dump(2) << "\n";
    else if (format == "schema") std::cout << spec_schema().dump(2) << "\n";
    else if (format == "markdown") std::cout << kinds_markdown();
    else std::cout << kinds_list();
    return kExitOk;
  }
  if (const KindInfo* k = find_kind(topic)) {
    std::cout << kind_card(*k);
    return kExitOk;
  }
  std::vector<std::string> names = {"table", "check", "explain", "solve", "diff", "sizes", "graph", "export",
                                    "import", "run", "kinds"};
  for (const auto& k : kinds()) names.push_back(k.name);
  auto m = did_you_mean(topic, names);
  std::cerr << fmt::format("error[usage]: no command or layer kind `{}`{}; the commands are table, check, explain, "
                           "solve, diff, sizes, graph, export, import, run; `netshape help kinds` lists the layer kinds\n",
                           printable(topic), m ? fmt::format(" (did you mean `{}`?)", *m) : "");
  return kExitUsage;
}

// solve --transposed as text: every (value, output_padding) pair on its line,
// with the formula, and the conv that the transposed conv undoes.
template <class Value>
int solve_transposed_text(const SolveQuery& q, const SolveResult& r, const Value& value) {
  if (r.solutions.empty()) {
    std::vector<std::string> given;
    for (auto [name, v] : {std::pair{"input", q.input}, {"output", q.output}, {"kernel_size", q.kernel},
                           {"stride", q.stride}, {"padding", q.padding}, {"output_padding", q.output_padding}})
      if (v) given.push_back(fmt::format("{} {}", name, *v));
    if (q.dilation != 1) given.push_back(fmt::format("dilation {}", q.dilation));
    std::cout << fmt::format("no {} works for a transposed conv ({})\n", r.unknown, fmt::join(given, ", "));
    if (!r.note.empty()) std::cout << r.note << "\n";
    return kExitInvalid;
  }
  for (const auto& s : r.solutions) {
    std::string op = r.unknown != "output_padding" && !q.output_padding ? fmt::format(", output_padding {}", s.output_padding) : "";
    std::cout << fmt::format("{} {}{}{}: {}\n", r.unknown, value(s), r.unbounded ? " and beyond" : "", op,
                             transposed_text(s));
  }
  if (r.count > static_cast<int64_t>(r.solutions.size()))
    std::cout << fmt::format("… {} solutions in all, the first {} shown\n", thousands(r.count), r.solutions.size());
  const Solution& s = r.solutions.front();
  WindowResult back = window_output({s.output, s.kernel, s.stride, s.padding, s.padding, s.dilation, false});
  std::cout << fmt::format("it undoes Conv(kernel_size={}, stride={}, padding={}): {} → {}{}\n", s.kernel, s.stride,
                           s.padding, s.output, back.out,
                           s.stride > 1 ? fmt::format(" (that conv maps {} sizes onto {}; output_padding picks one)",
                                                      s.stride, back.out)
                                        : "");
  if (!r.note.empty()) std::cout << r.note << "\n";
  return kExitOk;
}

int solve_command(const SolveQuery& q, const std::string& format) {
  SolveResult r = solve(q);
  if (!r.error.empty()) {
    std::cerr << "error[usage]: solve: " << r.error << "\n";
    return kExitUsage;
  }
  auto sol_json = [&](const Solution& s) {
    nlohmann::ordered_json j{{"input", s.input}, {"output", s.output}, {"kernel_size", s.kernel},
                             {"stride", s.stride}, {"padding", s.padding}, {"dilation", s.dilation}};
    if (q.transposed) j["output_padding"] = s.output_padding;
    return j;
  };
  auto value = [&](const Solution& s) {
    if (r.unknown == "input") return s.input;
    if (r.unknown == "output") return s.output;
    if (r.unknown == "kernel_size") return s.kernel;
    if (r.unknown == "stride") return s.stride;
    if (r.unknown == "output_padding") return s.output_padding;
    return s.padding;
  };
  if (format == "json") {
    nlohmann::ordered_json j{{"unknown", r.unknown}, {"solutions", nlohmann::ordered_json::array()}};
    for (const auto& s : r.solutions) j["solutions"].push_back(sol_json(s));
    j["count"] = r.count;  // `solutions` lists them all up to 256, else the first and the last
    j["unbounded"] = r.unbounded;
    j["closest"] = nlohmann::ordered_json::array();
    for (const auto& s : r.closest) j["closest"].push_back(sol_json(s));
    if (!r.note.empty()) j["note"] = r.note;
    std::cout << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return r.solutions.empty() ? kExitInvalid : kExitOk;
  }
  if (q.transposed) return solve_transposed_text(q, r, value);
  const char* what = q.pool ? (q.ceil_mode ? "a pool with ceil_mode" : "a pool") : "a conv";
  if (r.solutions.empty()) {
    std::vector<std::string> given;
    for (auto [name, v] : {std::pair{"input", q.input}, {"kernel_size", q.kernel}, {"stride", q.stride},
                           {"padding", q.padding}})
      if (v) given.push_back(fmt::format("{} {}", name, *v));
    if (q.dilation != 1) given.push_back(fmt::format("dilation {}", q.dilation));
    if (q.keep || q.halve)
      std::cout << fmt::format("no padding {} every {}size for {} ({})\n", q.keep ? "keeps" : "halves",
                               q.keep ? "" : "even ", what, fmt::join(given, ", "));
    else
      std::cout << fmt::format("no {} gives output {} for {} ({})\n", r.unknown, *q.output, what,
                               fmt::join(given, ", "));
    if (!r.note.empty()) std::cout << r.note << "\n";
    for (const auto& s : r.closest)
      std::cout << fmt::format("closest: {} {} gives {}: {}\n", r.unknown, value(s), s.output,
                               formula_text(s, q.ceil_mode));
    return kExitInvalid;
  }
  if (q.keep || q.halve) {
    for (const auto& s : r.solutions)
      std::cout << fmt::format("padding {} {} every {}size, e.g. {}\n", s.padding,
                               q.keep ? "keeps" : "halves", q.keep ? "" : "even ", formula_text(s, q.ceil_mode));
    return kExitOk;
  }
  if (r.count > static_cast<int64_t>(r.solutions.size())) {  // only the ends were kept
    const Solution &a = r.solutions.front(), &b = r.solutions.back();
    std::cout << fmt::format("{} {} to {}{} ({} values): {} … {}\n", r.unknown, value(a), value(b),
                             r.unbounded ? " and beyond" : "", thousands(r.count), formula_text(a, q.ceil_mode),
                             formula_text(b, q.ceil_mode));
    return kExitOk;
  }
  // Runs of consecutive values print as one range.
  std::size_t i = 0;
  while (i < r.solutions.size()) {
    std::size_t j = i;
    while (j + 1 < r.solutions.size() && value(r.solutions[j + 1]) == value(r.solutions[j]) + 1) ++j;
    if (i == j)
      std::cout << fmt::format("{} {}: {}\n", r.unknown, value(r.solutions[i]), formula_text(r.solutions[i], q.ceil_mode));
    else
      std::cout << fmt::format("{} {} to {}{} ({} values): {} … {}\n", r.unknown, value(r.solutions[i]),
                               value(r.solutions[j]), r.unbounded && j + 1 == r.solutions.size() ? " and beyond" : "",
                               j - i + 1, formula_text(r.solutions[i], q.ceil_mode),
                               formula_text(r.solutions[j], q.ceil_mode));
    i = j + 1;
  }
  return kExitOk;
}

}  // namespace

// table, check, explain, diff, sizes, graph: everything that reads a spec.
int symbolic_command(const CommonOptions& opt, CLI::App* table, CLI::App* expl, CLI::App* diff,
                     CLI::App* sizes, CLI::App* graph, const std::string& layer,
                     const std::string& columns);

// In the browser build (docs/playground), src/wasm_api.cc calls the same
// main once per request, under another name.
#ifdef __EMSCRIPTEN__
#define NETSHAPE_MAIN netshape_cli_main
#else
#define NETSHAPE_MAIN main
#endif

int netshape_main(int argc, char** argv);

// Every command's output is checked once it is all written: a full disk, a
// closed or failing standard output is exit 2 with its reason, never exit 0
// with a cut file (`netshape table spec.json > /dev/full`).
int NETSHAPE_MAIN(int argc, char** argv) {
  StandardStreams streams = guard_standard_streams();
  int rc = netshape_main(argc, argv);
  std::string error;
  if (!flush_standard_output(streams, error)) {
    std::cerr << "error[io]: cannot write standard output: " << error << "\n";
    return kExitUsage;
  }
  return rc;
}

int netshape_main(int argc, char** argv) {
  if (argc >= 2 && std::string(argv[1]) == "run") return run_command(argc, argv);
  static const std::vector<std::string> commands = {"table", "check", "explain", "solve", "diff",
                                                    "sizes", "graph", "export", "import", "run", "help"};
  if (argc >= 2 && argv[1][0] != '-' &&
      std::find(commands.begin(), commands.end(), argv[1]) == commands.end()) {
    auto m = did_you_mean(argv[1], commands);
    std::cerr << fmt::format("error[usage]: no command `{}`{}; the commands are {}\n", printable(argv[1]),
                             m ? fmt::format(" (did you mean `{}`?)", *m) : "", fmt::join(commands, ", "));
    return kExitUsage;
  }

  CLI::App app{"netshape: what every layer of a convolutional network does to the shape of "
               "its data"};
  app.name("netshape");
  app.set_version_flag("--version", std::string(kVersion));
  app.require_subcommand(1);
  app.footer("Exit codes: 0 ok, 1 invalid spec, 2 usage or I/O, 3 LibTorch disagreed or "
             "failed. See docs/cli.md.");

  CommonOptions opt;
  auto* table = app.add_subcommand("table", "Print every layer's input and output shape");
  auto* check = app.add_subcommand("check", "Validate a spec: exit 0 if valid, 1 if not");
  auto* expl = app.add_subcommand("explain", "Show the arithmetic behind every layer's shape");
  auto* diff = app.add_subcommand("diff", "Show what --set changes downstream");
  auto* sizes = app.add_subcommand("sizes", "Every input size the network accepts, derived symbolically");
  auto* graph = app.add_subcommand("graph", "Write the network as Graphviz DOT (dot -Tsvg draws it)");
  auto* exp = app.add_subcommand("export", "Write the spec as PyTorch code: one nn.Module class per block");
  auto* imp = app.add_subcommand("import", "Write a spec from a PyTorch model (FILE.py:NAME), traced with torch.fx");
  ImportOptions import_opt;
  CommonOptions import_common;
  imp->add_option("target", import_opt.target,
                  "FILE.py:NAME or module.path:NAME: a torch.nn.Module class, or a function returning one")
      ->required();
  imp->add_option("--input", import_opt.input, "The input shape, e.g. 1,3,224,224 (names allowed: N,3,H,W)");
  imp->add_option("--arg", import_opt.args, "KEY=VALUE for NAME's constructor, e.g. num_classes=10 (repeatable)");
  imp->add_option("--module", import_opt.module,
                  "Import this submodule of the model, by its dotted name (a detection model's `backbone`)");
  imp->add_option("--output,-o", import_common.output,
                  "Write the spec to FILE: a regular file is replaced whole (temporary file + rename); never the model's file");
  app.add_subcommand("run", "Build the network in LibTorch, run it and compare shapes");
  add_common_options(*table, opt, {"text", "json", "csv", "markdown"});
  for (auto* sub : {check, expl, diff, sizes}) add_common_options(*sub, opt);
  add_common_options(*graph, opt, {"dot"});
  add_common_options(*exp, opt, {"python"});
  std::string export_to;
  exp->add_option("--to", export_to, "What to write: pytorch (a Python module)")
      ->required()
      ->check(CLI::IsMember({"pytorch"}));
  std::string columns;
  table->add_option("--columns", columns,
                    fmt::format("Columns, comma-separated, or `all`: {}", fmt::join(column_names(true), ",")));
  std::string layer;
  expl->add_option("--layer", layer, "Only this layer (a block's name: all of its layers)");

  auto* solve_cmd = app.add_subcommand("solve", "Solve the output-size formula for one unknown");
  SolveQuery q;
  std::string solve_format = "text";
  solve_cmd->add_option("--input", q.input, "Input size (one spatial dim)");
  solve_cmd->add_option("--output", q.output, "Output size");
  solve_cmd->add_option("--kernel-size", q.kernel, "Kernel size");
  solve_cmd->add_option("--stride", q.stride, "Stride");
  solve_cmd->add_option("--padding", q.padding, "Padding");
  solve_cmd->add_option("--dilation", q.dilation, "Dilation")->capture_default_str();
  solve_cmd->add_flag("--ceil-mode", q.ceil_mode, "Pooling with ceil_mode=True");
  solve_cmd->add_flag("--pool", q.pool, "Pooling rules (padding at most half the kernel)");
  solve_cmd->add_flag("--keep", q.keep, "The padding that keeps every size at stride 1");
  solve_cmd->add_flag("--halve", q.halve, "The padding that halves every even size at stride 2");
  solve_cmd->add_flag("--transposed", q.transposed,
                      "A transposed conv: out = (in − 1)·stride − 2·padding + dilation·(kernel − 1) + output_padding + 1");
  solve_cmd->add_option("--output-padding", q.output_padding,
                        "Transposed conv's output_padding (unset: every legal value is tried)");
  solve_cmd->add_option("--format", solve_format, "Output format")
      ->check(CLI::IsMember({"text", "json"}));

  for (auto* sub : app.get_subcommands({})) sub->footer(examples_for(sub->get_name()));
  std::string help_topic, help_format = "text";
  auto* help = app.add_subcommand("help", "A command's options and examples, or a layer kind's card: netshape help "
                                          "COMMAND, netshape help Conv2d, netshape help kinds");
  help->add_option("topic", help_topic, "A command, a layer kind (Conv2d), or `kinds` for all of them");
  help->add_option("--format", help_format,
                   "With `kinds`: text, json (the importer's map), schema (specs/schema.json), markdown (the docs' table)")
      ->check(CLI::IsMember({"text", "json", "schema", "markdown"}));

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);  // prints help, version or the error
    return code == 0 ? kExitOk : kExitUsage;
  }
  if (help->parsed()) {
    if (help_topic.empty() || help_topic == "help") {
      std::cout << app.get_formatter()->make_help(&app, "netshape", CLI::AppFormatMode::Normal);
      return kExitOk;
    }
    if (help_topic == "run") {
      CLI::App run_app{"netshape run: build the spec's network in LibTorch, run it, compare shapes"};
      run_app.name("netshape run");
      RunCli cli;
      add_run_options(run_app, cli);
      std::cout << run_app.help();
      return kExitOk;
    }
    for (auto* sub : app.get_subcommands({}))
      if (sub->get_name() == help_topic) {
        std::cout << sub->help();
        return kExitOk;
      }
    return help_kind(help_topic, help_format);
  }
  if (solve_cmd->parsed()) return solve_command(q, solve_format);
  if (imp->parsed()) {
    import_common.spec = import_opt.target.substr(0, import_opt.target.rfind(':'));  // -o may not be the model
    if (!output_path_ok(import_common)) return kExitUsage;
    OutputFile output(import_common.output);
    import_opt.output = import_common.output;
    int rc = import_command(import_opt, argv[0]);
    if (rc == kExitOk && !output.commit()) return kExitUsage;
    return rc;
  }
  if (!output_path_ok(opt)) return kExitUsage;
  // Everything below prints through std::cout, which --output captures.
  OutputFile output(opt.output);
  int rc = exp->parsed() ? export_command(opt) : symbolic_command(opt, table, expl, diff, sizes, graph, layer, columns);
  if (!output.commit()) return kExitUsage;
  return rc;
}

int symbolic_command(const CommonOptions& opt, CLI::App* table, CLI::App* expl, CLI::App* diff,
                     CLI::App* sizes, CLI::App* graph, const std::string& layer,
                     const std::string& columns) {
  if (expl->parsed()) return explain_command(opt, layer);
  if (diff->parsed()) return diff_command(opt);
  if (sizes->parsed()) return sizes_command(opt);
  if (graph->parsed()) return graph_command(opt);

  std::vector<std::string> column_list;
  if (columns == "all") column_list = column_names(true);
  else if (!columns.empty()) {
    std::stringstream ss(columns);
    auto known = column_names(true);
    for (std::string c; std::getline(ss, c, ',');) {
      if (std::find(known.begin(), known.end(), c) == known.end()) {
        std::cerr << fmt::format("error[usage]: --columns: no column `{}`; the columns are {}\n", printable(c),
                                 fmt::join(known, ", "));
        return kExitUsage;
      }
      column_list.push_back(c);
    }
  }
  Loaded in;
  if (int rc = load_and_evaluate(opt, in); rc != kExitOk) return rc;
  bool color = use_color(opt.color, STDERR_FILENO);
  ReportContext ctx = in.context;
  ctx.columns = column_list;
  if (opt.format == "json") {
    std::cout << json_text(in.eval, ctx) << "\n";
  } else if (opt.format == "csv" || opt.format == "markdown") {
    std::cerr << diagnostics_text(in.eval.diagnostics, in.context.file, color);
    if (in.parsed) std::cout << (opt.format == "csv" ? table_csv(in.eval, ctx) : table_markdown(in.eval, ctx));
  } else {
    std::cerr << diagnostics_text(in.eval.diagnostics, in.context.file, color);
    ctx.color = use_color(opt.color, STDOUT_FILENO);
    if (table->parsed()) {
      if (in.parsed) std::cout << table_text(in.eval, ctx);
    } else {
      std::cout << check_text(in.eval, ctx);
    }
  }
  return exit_code(opt, in.eval);
}
