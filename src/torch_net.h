// Build the network a Spec describes from torch::nn modules, run it, and
// record every leaf's and every add's real output shape and parameter count.
// This header is free of LibTorch types on purpose: only torch_net.cc pays the
// ~40 s compile of <torch/torch.h>.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "evaluate.h"
#include "layers.h"

namespace netshape {

struct RealRow {
  std::string name, type;       // as the evaluator's rows: type "add" for a residual add
  std::optional<Shape> shape;   // nullopt: never reached (LibTorch failed before it)
  int64_t params = 0;           // numel of the module's own parameters
};

struct RunOptions {
  uint64_t seed = 0;
  int bench = 0;            // timed forward passes after one warm-up
  int threads = 0;          // 0: LibTorch's default
  bool compare_plain = false;  // also time the same module tree without shape probes
  std::string device = "cpu";  // "cpu", "cuda", "cuda:N" (torch::Device's syntax)
  std::string dtype = "float32";  // "float32", "float16", "bfloat16"
  bool channels_last = false;  // input and 4-D/5-D weights in NHWC/NDHWC memory order
};

struct RunResult {
  std::vector<RealRow> rows;   // in the evaluator's order
  std::optional<Shape> output;
  int64_t params = 0;          // numel of every parameter of the whole network
  std::string error;           // LibTorch's message (what_without_backtrace), if it failed
  std::vector<double> forward_ms, plain_forward_ms;
  std::string device, dtype;   // where it ran ("cpu", "cuda:0") and in what
  std::string setup_error;     // the device or dtype cannot be used: nothing ran
};

// `predicted` supplies the channel counts the modules are built with (as
// PyTorch code writes in_channels); a layer the evaluator never reached uses
// its explicit in_channels / num_features / in_features, or 1.
RunResult run_network(const Spec& spec, const Evaluation& predicted, const RunOptions& opt);

}  // namespace netshape
