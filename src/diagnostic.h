// Diagnostics: what went wrong, where (file, JSON Pointer, dotted layer name),
// the numbers involved, and how to fix it. Parsing and evaluation append them
// and carry on where they can, so a learner sees every problem at once.
#pragma once
#include <string>
#include <vector>

namespace netshape {

// Every warning code: what --allow, --warn, --deny and a spec's "allow" may name.
inline const std::vector<std::string>& warning_codes() {
  static const std::vector<std::string> codes = {
      "floor-discards", "conv-padding", "bias-before-batchnorm", "adaptive-upsamples", "linear-fixed-size",
      "linear-rank", "rf-misaligned", "duplicate-key", "no-valid-size", "implicit-dim", "instance-norm-channels",
      "group-norm-channels", "dropout-rank"};
  return codes;
}

// `s` as one shell word, quoted only when it has to be: "it's" → 'it'\''s'.
std::string shell_quote(const std::string& s);

enum class Severity { error, warning };

// A change that repairs an error, as `--set` arguments, proven by
// re-evaluating the spec with it applied before it is ever shown (fix.h).
struct Fix {
  std::string description;        // "set the shortcut conv's stride to 2"
  std::vector<std::string> sets;  // "layer2.0.shortcut.0.stride=2"
  bool makes_valid = false;       // with it, the whole spec is valid
  bool verified = false;          // only verified fixes are ever shown
};

struct Diagnostic {
  Severity severity = Severity::error;
  std::string code;     // stable kebab-case id, e.g. "residual-mismatch"
  std::string message;  // lowercase, no trailing period, the user's own values
  std::string pointer;  // JSON Pointer of the offending value ("" = whole document)
  std::string layer;    // dotted layer name, as in PyTorch's named_modules()
  std::vector<std::string> notes;  // the numbers behind the message
  std::string help;                // a concrete fix, when there is one
  std::vector<Fix> fixes;          // verified --set changes; shown instead of `help`
  int line = 0, column = 0;        // only for malformed JSON
  std::string source_line;         // the offending line, for malformed JSON
  int caret = 0;                   // the column within source_line (a window of a long line); 0: `column`
};

struct Diagnostics {
  std::vector<Diagnostic> items;
  Diagnostic& add(Diagnostic d) { items.push_back(std::move(d)); return items.back(); }
  Diagnostic& error(std::string code, std::string message, std::string pointer = {},
                    std::string layer = {});
  Diagnostic& warning(std::string code, std::string message, std::string pointer = {},
                      std::string layer = {});
  bool has_errors() const;
};

// Renders one diagnostic the way rustc does:
//   error[code]: message
//     --> file: /pointer (layer)
//      = note: ...
//      = help: ...
std::string render(const Diagnostic& d, const std::string& file, bool color);

}  // namespace netshape
