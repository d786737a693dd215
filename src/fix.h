// suggest: verified fixes for the errors the evaluator found.
//
// Every candidate is a list of `--set` changes. Before it is shown, the spec is
// parsed and evaluated again with the change applied; only a change that gets
// the evaluation past the failing layer survives, and it says whether the
// whole spec is then valid. A suggestion that would not work is never shown.
#pragma once
#include <string_view>
#include <vector>

#include "evaluate.h"
#include "parse.h"

namespace netshape {

// `text` and `base` are the spec and the --set overrides `ev` was computed
// with. Adds Diagnostic::fixes to the errors it knows how to repair.
void suggest_fixes(std::string_view text, const std::vector<Override>& base, const Spec& spec,
                   Evaluation& ev);

// Verifies every candidate fix of every diagnostic (the parser proposes some
// too) and drops those that do not work. Works on specs that did not parse.
void verify_fixes(std::string_view text, const std::vector<Override>& base, Diagnostics& diags);

// Parses and evaluates `text` with `base` and then `sets` applied (a set
// replaces a base override of the same field). nullopt: it does not parse.
std::optional<Evaluation> evaluate_with(std::string_view text, const std::vector<Override>& base,
                                        const std::vector<std::string>& sets);

// True when `ev` got past `layer`: its row exists, did not fail, and no error
// names it.
bool gets_past(const Evaluation& ev, const std::string& layer);

}  // namespace netshape
