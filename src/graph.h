// graph: the network as Graphviz DOT — one node per layer with its output
// shape, residual blocks as the diamond they are (two branches into an add),
// the edges into a failing add in red. A reporter like report.h.
#pragma once
#include <string>

#include "evaluate.h"

namespace netshape {

std::string graph_dot(const Spec& spec, const Evaluation& ev, const std::string& name);

}  // namespace netshape
