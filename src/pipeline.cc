#include "pipeline.h"

#include <algorithm>

#include "analysis.h"

namespace netshape {

Evaluation evaluate(const Spec& spec) {
  Evaluation ev = evaluate_shapes(spec);
  analyse(spec, ev);
  return ev;
}

bool resolve_named_input(Spec& spec) {
  if (spec.input_names.empty()) return true;
  if (!spec.input_names[0].empty()) spec.input[0] = 1;
  std::vector<std::size_t> spatial;
  for (std::size_t i = 2; i < spec.input_names.size(); ++i)
    if (!spec.input_names[i].empty()) spatial.push_back(i);
  if (spatial.empty()) return evaluate(spec).valid();
  // A bounded scan: about 20 million layer evaluations at most, so that a
  // huge spec stays fast (it then finds only small sizes).
  std::size_t rows = std::max<std::size_t>(1, spec.graph.nodes.size());
  int64_t tries = std::clamp<int64_t>(static_cast<int64_t>(20'000'000 / rows), 16, 4096);
  for (int64_t x = 1; x <= tries; ++x) {
    for (auto i : spatial) spec.input[i] = x;
    if (evaluate(spec).valid()) return true;
  }
  for (auto i : spatial) spec.input[i] = 1;
  return false;
}

}  // namespace netshape
