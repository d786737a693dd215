// analyse: what each layer costs and sees, from the shapes the evaluator
// found — buffers, multiply-accumulates, activation memory and its peak, and
// the receptive field (size, jump, start per spatial dim, after Araujo et al.,
// "Computing Receptive Fields of Convolutional Neural Networks", Distill 2019).
// What is and is not counted: docs/analysis.md.
#pragma once
#include "evaluate.h"

namespace netshape {

// Fills the analysis fields of every row that did not fail, the totals, and
// warnings where a residual's branches see the input differently.
void analyse(const Spec& spec, Evaluation& ev);

}  // namespace netshape
