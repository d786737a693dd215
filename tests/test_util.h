// Helpers for the doctest suites: evaluate spec text, find diagnostics.
#pragma once
#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>

#include "evaluate.h"
#include "pipeline.h"
#include "fix.h"
#include "parse.h"

namespace netshape::test {

struct Outcome {
  Diagnostics diags;  // parse diagnostics, then the evaluator's
  Evaluation eval;
  bool parsed = false;

  bool valid() const { return parsed && eval.valid() && !diags.has_errors(); }
  const Diagnostic* find(const std::string& code) const {
    for (const auto& d : diags.items)
      if (d.code == code) return &d;
    return nullptr;
  }
  bool has(const std::string& code) const { return find(code) != nullptr; }
  const Row* row(const std::string& name) const {
    for (const auto& r : eval.rows)
      if (r.name == name) return &r;
    return nullptr;
  }
};

// Parse, evaluate and suggest fixes, as the CLI does.
inline Outcome run_text(const std::string& text, const std::vector<Override>& overrides = {}) {
  Outcome o;
  auto p = parse_spec(text, overrides);
  o.diags = p.diagnostics;
  if (p.spec) {
    o.parsed = true;
    o.eval = evaluate(*p.spec);
    if (!o.eval.valid()) suggest_fixes(text, overrides, *p.spec, o.eval);
    for (const auto& d : o.eval.diagnostics.items) o.diags.add(d);
  }
  return o;
}

// A spec with one list of layers on a given input.
inline Outcome run_layers(const std::string& input, const std::string& layers) {
  return run_text("{\"input\": " + input + ", \"layers\": [" + layers + "]}");
}

inline std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace netshape::test
