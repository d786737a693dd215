// What netshape and netshape-torch share on the command line: the options
// every command takes, and spec file -> parse -> evaluate.
#pragma once
#include <unistd.h>

#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <sstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <string>
#include <algorithm>

#include <fmt/format.h>

#include <CLI/CLI.hpp>

#include "evaluate.h"
#include "pipeline.h"
#include "fix.h"
#include "io.h"
#include "json_cursor.h"
#include "symbolic.h"
#include "parse.h"
#include "text.h"
#include "report.h"

namespace netshape {

inline constexpr const char* kVersion = "netshape 0.1.0";
inline constexpr int kExitOk = 0, kExitInvalid = 1, kExitUsage = 2, kExitTorch = 3;

struct CommonOptions {
  std::string spec;
  std::string format = "text";
  std::string input;
  bool input_given = false;       // --input was on the command line (even empty)
  std::string color = "auto";
  std::vector<std::string> sets;  // --set NAME.FIELD=VALUE, repeatable
  bool strict = false;            // warnings fail too
  std::vector<std::string> allow, warn, deny;  // per warning code: drop it, keep it, make it an error
  std::string output;             // --output FILE: written whole or not at all
};

// `formats`: what --format accepts for this command (the first is the default);
// anything else is a usage error, never silently another format.
inline void add_common_options(CLI::App& app, CommonOptions& o,
                               std::vector<std::string> formats = {"text", "json"}) {
  app.add_option("spec", o.spec, "The architecture spec (JSON), or - for standard input")
      ->required();
  app.add_option("--format", o.format, "Output format: " + fmt::format("{}", fmt::join(formats, ", ")))
      ->check(CLI::IsMember(formats));
  app.add_option_function<std::string>(
      "--input", [&o](const std::string& v) { o.input = v; o.input_given = true; },
      "Override the spec's input shape, e.g. 1,3,224,224");
  app.add_option("--set", o.sets,
                 "Change one field of one layer without editing the file, e.g. "
                 "layer2.0.body.0.stride=1 (repeatable; input=1,3,225,225 too)");
  app.add_flag("--strict", o.strict, "Treat warnings as errors (exit 1)");
  app.add_option("--allow", o.allow, "Silence a warning code (repeatable), e.g. bias-before-batchnorm");
  app.add_option("--warn", o.warn, "Keep a warning code the spec's \"allow\" silences (repeatable)");
  app.add_option("--deny", o.deny, "Make a warning code an error: exit 1 (repeatable)");
  app.add_option("--output,-o", o.output,
                 "Write the result to FILE: a regular file is replaced whole (temporary file + rename), a device or FIFO written through; never the spec itself");
  app.add_option("--color", o.color, "Colour: auto (a terminal without NO_COLOR), always, never")
      ->check(CLI::IsMember({"auto", "always", "never"}))
      ->capture_default_str();
}

// Examples shown by `--help`, `netshape help COMMAND` and docs/cli.md.
inline const char* examples_for(const std::string& command) {
  if (command == "table")
    return "Examples:\n"
           "  netshape table specs/resnet34.json\n"
           "  netshape table specs/resnet18.json --columns all\n"
           "  netshape table specs/lenet5.json --format markdown -o lenet5.md\n"
           "  netshape table specs/resnet34.json --set layer2.0.body.0.stride=1\n";
  if (command == "check")
    return "Examples:\n"
           "  netshape check specs/resnet34.json\n"
           "  netshape check specs/broken/missing_shortcut.json     # a located error and a checked fix\n"
           "  netshape check specs/lenet5.json --strict              # warnings fail too\n";
  if (command == "explain")
    return "Examples:\n"
           "  netshape explain specs/resnet34.json --layer pre.0     # 224 → 112, step by step\n"
           "  netshape explain specs/resnet34.json --layer layer2.0  # a whole residual block\n";
  if (command == "solve")
    return "Examples:\n"
           "  netshape solve --input 224 --output 112 --kernel-size 7 --stride 2   # padding 3\n"
           "  netshape solve --output 112 --kernel-size 7 --stride 2 --padding 3   # inputs 223 to 224\n"
           "  netshape solve --kernel-size 3 --keep                                # padding 1\n"
           "  netshape solve --kernel-size 3 --pool --halve                        # ResNet's MaxPool2d(3, 2, 1)\n";
  if (command == "diff")
    return "Examples:\n"
           "  netshape diff specs/resnet34.json --set layer2.0.shortcut.0.stride=1\n"
           "  netshape diff specs/resnet34.json --set input=1,3,256,256\n";
  if (command == "sizes")
    return "Examples:\n"
           "  netshape sizes specs/resnet34.json                     # 193 to 416, and why\n"
           "  netshape sizes specs/vgg16.json --format json\n";
  if (command == "graph")
    return "Examples:\n"
           "  netshape graph specs/resnet34.json | dot -Tsvg > resnet34.svg\n"
           "  netshape graph specs/broken/missing_shortcut.json -o broken.dot\n";
  if (command == "export")
    return "Examples:\n"
           "  netshape export specs/resnet34.json --to pytorch -o resnet34.py   # then: python3 resnet34.py\n"
           "  netshape export specs/unet.json --to pytorch --set input=1,1,444,444\n";
  if (command == "import")
    return "Examples:\n"
           "  netshape import model.py:Net --input 1,3,224,224 -o net.json && netshape check net.json\n"
           "  netshape import torchvision.models:resnet18 --arg num_classes=10\n"
           "  netshape import model.py:make_model --arg depth=18 --input N,3,H,W\n";
  if (command == "run")
    return "Examples:\n"
           "  netshape run specs/resnet34.json\n"
           "  netshape run specs/resnet34.json --bench 20 --threads 2 --format json\n"
           "  netshape run specs/broken/missing_shortcut.json --force   # PyTorch's own error\n";
  return "";
}

// NO_COLOR (https://no-color.org) and TERM=dumb switch colour off in auto mode.
inline bool use_color(const std::string& mode, int fd) {
  if (mode == "always") return true;
  if (mode == "never") return false;
  const char* no_color = std::getenv("NO_COLOR");
  if (no_color && *no_color) return false;
  const char* term = std::getenv("TERM");
  if (term && std::strcmp(term, "dumb") == 0) return false;
  return isatty(fd) != 0;
}

inline bool has_warnings(const Diagnostics& d) {
  for (const auto& x : d.items)
    if (x.severity == Severity::warning) return true;
  return false;
}

// Collects everything printed to std::cout; commit() writes it to `path`
// through write_output (io.h): atomic on a regular file, straight through to
// a device or FIFO. Empty path: stdout as usual.
class OutputFile {
 public:
  explicit OutputFile(std::string path) : path_(std::move(path)) {
    if (!path_.empty()) old_ = std::cout.rdbuf(buffer_.rdbuf());
  }
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;
  // Returns false (after saying why) when the file could not be written.
  bool commit() {
    if (path_.empty() || committed_) return true;
    std::cout.rdbuf(old_);
    committed_ = true;
    std::string error;
    if (!write_output(path_, buffer_.str(), error)) {
      std::cerr << "error[io]: " << printable(error) << "\n";
      return false;
    }
    return true;
  }
  ~OutputFile() {
    if (!path_.empty() && !committed_) std::cout.rdbuf(old_);
  }

 private:
  std::string path_;
  std::ostringstream buffer_;
  std::streambuf* old_ = nullptr;
  bool committed_ = false;
};

// Refuses an --output that would destroy the spec being read, before any work.
inline bool output_path_ok(const CommonOptions& o) {
  std::string error;
  if (check_output_path(o.output, o.spec, error)) return true;
  std::cerr << "error[usage]: " << printable(error) << "\n";
  return false;
}

// What becomes of each warning code: the spec's "allow" silences; on the
// command line --deny beats --warn beats --allow, whatever their order.
inline void apply_warning_policy(const CommonOptions& o, const std::vector<std::string>& spec_allow,
                                 Diagnostics& diags) {
  auto has = [](const std::vector<std::string>& v, const std::string& c) {
    return std::find(v.begin(), v.end(), c) != v.end();
  };
  std::vector<Diagnostic> kept;
  for (auto& d : diags.items) {
    if (d.severity == Severity::warning) {
      if (has(o.deny, d.code)) {
        d.severity = Severity::error;
        d.notes.push_back(fmt::format("an error because of --deny {}", d.code));
      } else if (!has(o.warn, d.code) && (has(o.allow, d.code) || has(spec_allow, d.code))) {
        continue;  // allowed: silenced
      }
    }
    kept.push_back(std::move(d));
  }
  diags.items = std::move(kept);
}

// --allow/--warn/--deny name warning codes that exist.
inline bool warning_options_ok(const CommonOptions& o) {
  for (const auto* list : {&o.allow, &o.warn, &o.deny})
    for (const auto& c : *list)
      if (std::find(warning_codes().begin(), warning_codes().end(), c) == warning_codes().end()) {
        auto m = did_you_mean(c, warning_codes());
        std::cerr << fmt::format("error[usage]: `{}` is not a warning code{}; the warnings are {}\n", printable(c),
                                 m ? fmt::format(" (did you mean `{}`?)", *m) : "",
                                 fmt::join(warning_codes(), ", "));
        return false;
      }
  return true;
}

struct Loaded {
  std::optional<Spec> spec;
  bool parsed = false;
  Evaluation eval;  // parse diagnostics first, then the evaluator's
  std::string text;  // the spec file's text
  std::vector<Override> overrides;  // --set and --input
  ReportContext context;
};

// Reads, parses and evaluates. Returns kExitUsage after printing an I/O or
// usage error; otherwise kExitOk, with validity in out.eval.
inline int load_and_evaluate(const CommonOptions& o, Loaded& out) {
  std::string text, error;
  if (!warning_options_ok(o)) return kExitUsage;
  if (auto t = read_bounded(o.spec, kMaxFileBytes, error)) {
    text = std::move(*t);
  } else {
    std::cerr << "error[io]: " << printable(error) << "\n";
    return kExitUsage;
  }
  std::vector<Override> overrides;
  for (const auto& s : o.sets) {
    auto ov = parse_override(s, error);
    if (!ov) {
      std::cerr << "error[usage]: " << printable(error) << "\n";
      return kExitUsage;
    }
    // The same field set twice: the last wins, as -D does in compilers.
    overrides.erase(std::remove_if(overrides.begin(), overrides.end(),
                                   [&](const Override& x) { return x.layer == ov->layer && x.field == ov->field; }),
                    overrides.end());
    overrides.push_back(std::move(*ov));
  }
  if (o.input_given) {  // --input X is --set input=X, checked as a shape first
    auto shape = parse_input_list(o.input, error);
    if (!shape) {
      std::cerr << "error[usage]: --input: " << printable(error) << "\n";
      return kExitUsage;
    }
    overrides.erase(std::remove_if(overrides.begin(), overrides.end(),
                                   [](const Override& x) { return x.layer.empty() && x.field == "input"; }),
                    overrides.end());
    std::vector<std::string> items;  // "1,3,224,224" as before; a name as a JSON string
    for (const auto& v : *shape) items.push_back(v.dump());
    overrides.push_back(*parse_override(fmt::format("input={}", fmt::join(items, ",")), error));
  }
  out.overrides = overrides;
  auto parsed = parse_spec(text, overrides);
  out.eval.diagnostics = std::move(parsed.diagnostics);
  std::string stem = o.spec == "-" ? "stdin" : o.spec.substr(o.spec.rfind('/') + 1);
  stem = stem.substr(0, stem.rfind(".json"));
  out.context.file = o.spec == "-" ? "<stdin>" : o.spec;
  out.text = text;
  out.context.name = stem;
  if (!parsed.spec) {
    verify_fixes(text, overrides, out.eval.diagnostics);
    apply_warning_policy(o, {}, out.eval.diagnostics);
    return kExitOk;
  }
  out.parsed = true;
  if (!parsed.spec->name.empty()) out.context.name = parsed.spec->name;
  if (!parsed.spec->input_names.empty() && !resolve_named_input(*parsed.spec))
    out.eval.diagnostics.warning("no-valid-size",
                                 "no size from 1 to 4096 for the named input dims makes the network valid",
                                 "/input", "")
        .help = "`netshape sizes` shows which layer rules each size out";
  out.context.input = parsed.spec->input;
  out.context.input_names = parsed.spec->input_names;
  Evaluation ev = evaluate(*parsed.spec);
  name_shapes(*parsed.spec, ev);
  if (!ev.valid()) suggest_fixes(text, overrides, *parsed.spec, ev);
  for (auto& d : ev.diagnostics.items) out.eval.diagnostics.add(std::move(d));
  ev.diagnostics = std::move(out.eval.diagnostics);
  out.eval = std::move(ev);
  out.spec = std::move(parsed.spec);
  out.context.graph = &out.spec->graph;
  apply_warning_policy(o, out.spec->allow, out.eval.diagnostics);
  return kExitOk;
}

}  // namespace netshape
