// pipeline: the passes of a parsed spec, in their order — the shapes
// (evaluate), then what they cost (analyse). Each pass only reads what the
// passes before it made, so no pass calls another: this file is where they
// are put in sequence, for the commands and for fix.cc's checks.
//
//   parse → lower → evaluate → analyse → symbolic / explain / fix / graph / export → report
#pragma once
#include "evaluate.h"
#include "network.h"

namespace netshape {

// Shapes, parameter counts and their diagnostics, then buffers, MACs,
// activation memory and receptive fields (analysis.h).
Evaluation evaluate(const Spec& spec);

// For a spec whose input names dims: the batch becomes 1 and the named spatial
// dims the smallest common size (1 to 4,096, fewer for a huge spec) at which the network is valid, so
// that the numeric evaluation has numbers. Returns false if there is none
// (then the sizes stay at 1).
bool resolve_named_input(Spec& spec);

}  // namespace netshape
