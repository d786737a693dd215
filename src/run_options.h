// `netshape run`'s options and the checks made before LibTorch is touched.
// Shared by netshape (which refuses invalid or oversized runs in milliseconds,
// before paying LibTorch's load) and netshape-torch (which checks again, so
// that it is safe when started directly). Free of LibTorch.
#pragma once
#include <iostream>
#include <optional>
#include <string>
#include <thread>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli_common.h"
#include "torch_net.h"

namespace netshape {

struct RunCli {
  CommonOptions common;
  RunOptions run;
  bool force = false;
  std::string max_memory = "4GiB";
};

inline void add_run_options(CLI::App& app, RunCli& o) {
  app.footer(examples_for("run"));
  add_common_options(app, o.common, {"text", "json", "csv", "markdown"});
  // Digits only: CLI11 (like torch.manual_seed) would wrap -1 to 2^64 − 1.
  app.add_option("--seed", o.run.seed, "Seed for the random input and weights (0 to 18446744073709551615)")
      ->capture_default_str()
      ->check(CLI::Validator(
          [](const std::string& v) {
            bool digits = !v.empty() && v.size() <= 20 && v.find_first_not_of("0123456789") == std::string::npos &&
                          (v.size() < 20 || v <= "18446744073709551615");
            return digits ? std::string() : "a seed is a whole number from 0 to 18446744073709551615";
          },
          "SEED"));
  app.add_option("--bench", o.run.bench, "Time N forward passes after one warm-up")
      ->check(CLI::Range(0, 100000));
  app.add_option("--threads", o.run.threads, "LibTorch threads (0: its default)")
      ->check(CLI::Range(0, 1024));
  app.add_flag("--bench-plain", o.run.compare_plain,
               "With --bench: also time the same modules with shape recording off");
  app.add_flag("--force", o.force, "Run even an invalid spec, to see PyTorch's own error");
  app.add_option("--device", o.run.device, "cpu, cuda or cuda:N")
      ->check([](const std::string& d) {
        bool ok = d == "cpu" || d == "cuda" ||
                  (d.rfind("cuda:", 0) == 0 && d.size() > 5 && d.size() < 9 &&
                   d.find_first_not_of("0123456789", 5) == std::string::npos);
        return ok ? std::string() : "--device: `" + d + "` is not cpu, cuda or cuda:N";
      })
      ->capture_default_str();
  app.add_option("--dtype", o.run.dtype, "float32, float16 or bfloat16")
      ->check(CLI::IsMember({"float32", "float16", "bfloat16"}))
      ->capture_default_str();
  app.add_flag("--channels-last", o.run.channels_last, "Input and 4-D/5-D weights in channels-last (NHWC, NDHWC) memory order");
  app.add_option("--max-memory", o.max_memory, "Refuse to run above this estimate (e.g. 512M, 4GiB)")
      ->capture_default_str();
}

// "4GiB", "512M", "1000000" -> bytes.
inline std::optional<int64_t> parse_bytes(const std::string& text) {
  std::size_t used = 0;
  double v = 0;
  try { v = std::stod(text, &used); } catch (const std::exception&) { return std::nullopt; }
  std::string unit = text.substr(used);
  double scale = unit.empty() || unit == "B" ? 1
               : unit == "K" || unit == "KiB" ? 1024.0
               : unit == "M" || unit == "MiB" ? 1024.0 * 1024
               : unit == "G" || unit == "GiB" ? 1024.0 * 1024 * 1024
               : unit == "T" || unit == "TiB" ? 1024.0 * 1024 * 1024 * 1024 : -1;
  if (scale < 0 || !(v > 0) || v * scale > 9e18) return std::nullopt;
  return static_cast<int64_t>(v * scale);
}


// Loads and evaluates the spec and decides whether it may run. Returns an exit
// code after printing why not; nullopt when the run may go ahead (then nothing
// has been printed: the caller shows warnings with its results).
inline std::optional<int> precheck_run(const RunCli& o, Loaded& in) {
  auto limit = parse_bytes(o.max_memory);
  if (!limit) {
    std::cerr << fmt::format("error[usage]: --max-memory: `{}` is not a size; write e.g. 512M, 4GiB or 1TiB\n",
                             printable(o.max_memory));
    return kExitUsage;
  }
  if (!output_path_ok(o.common)) return kExitUsage;
  if (unsigned cores = std::thread::hardware_concurrency(); cores > 0 && o.run.threads > static_cast<int>(cores)) {
    std::cerr << fmt::format("error[usage]: --threads {}: this machine has {} cores; more threads only slow "
                             "LibTorch down (0 lets it choose)\n", o.run.threads, cores);
    return kExitUsage;
  }
  if (int rc = load_and_evaluate(o.common, in); rc != kExitOk) return rc;
  bool color = use_color(o.common.color, STDERR_FILENO);
  if (!in.parsed || (!in.eval.valid() && !o.force)) {
    std::cerr << diagnostics_text(in.eval.diagnostics, in.context.file, color);
    if (in.parsed)
      std::cerr << "refusing to run an invalid spec in LibTorch; --force runs it anyway, to show "
                   "PyTorch's own error\n";
    if (o.common.format == "json") std::cout << to_json(in.eval, in.context).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return kExitInvalid;
  }
  auto estimate = forward_memory_estimate(in.eval, in.spec->input);
  if (!estimate || *estimate > *limit) {
    // The layer with the largest intermediate of its own, when one has one.
    const Row* scratch = nullptr;
    for (const auto& r : in.eval.rows)
      if (r.scratch_elements != 0 && (!scratch || r.scratch_elements < 0 ||
                                      (scratch->scratch_elements >= 0 && r.scratch_elements > scratch->scratch_elements)))
        scratch = &r;
    std::cerr << fmt::format(
        "error[memory]: running {} would need {}, above the limit of {}\n"
        "   = note: parameters and BatchNorm statistics, plus three times the largest "
        "activation, in float32{}\n"
        "   = help: use a smaller --input, or raise --max-memory if the machine has the room\n",
        printable(in.context.name), estimate ? "about " + human_bytes(*estimate) : std::string("more than 8 EiB"),
        human_bytes(*limit),
        scratch ? printable(fmt::format(", or a layer's own intermediates with its input and output where they are "
                                        "more: {} `{}` squares its input and pads it by size − 1 channels ({} elements)",
                                        scratch->type, scratch->name,
                                        scratch->scratch_elements < 0 ? std::string("more than 2^63")
                                                                      : thousands(scratch->scratch_elements)))
                : "");
    return kExitTorch;
  }
  return std::nullopt;
}

}  // namespace netshape
