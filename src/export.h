// export: a spec -> a readable PyTorch module (`netshape export --to pytorch`).
// A reporter like report.h and graph.h: it walks the spec's tree (for the
// module hierarchy and its names) and the evaluation (for the channels and
// features the spec leaves to be inferred). One class per spec block, its
// constructor's arguments found by comparing the block's uses; the network's
// class holds the top-level layers under their spec names, so that
// named_modules() lists exactly the names of netshape's table.
#pragma once
#include <string>

#include "evaluate.h"

namespace netshape {

struct ExportResult {
  std::string code;   // the Python module; empty when `error` is set
  std::string error;  // what the export cannot write, and why
  std::string layer;  // the layer the error is about
};

// `ev` must be valid (every layer evaluated). `source` names the spec file in
// the module's docstring.
ExportResult export_pytorch(const Spec& spec, const Evaluation& ev, const std::string& source);

}  // namespace netshape
