// explain: the arithmetic behind every row of the table, with the numbers
// substituted — the derivations the seed article does by hand. A reporter:
// it reads the Spec and the Evaluation and computes nothing of its own but
// the formula's intermediate values (through window_output).
#pragma once
#include <string>
#include <vector>

#include "evaluate.h"

namespace netshape {

struct Explanation {
  std::string name, type;
  std::string headline;            // "Conv2d(3 → 64, kernel_size=7, stride=2, padding=3, bias=False)"
  std::vector<std::string> lines;  // the derivation, one step a line
};

// Every row, or those named `only` and below it (a block's name selects its rows).
std::vector<Explanation> explain(const Spec& spec, const Evaluation& ev, const std::string& only);

}  // namespace netshape
