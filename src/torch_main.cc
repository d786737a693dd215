// netshape-torch: `netshape run`. Validates symbolically, then builds the
// network in LibTorch, runs it, and puts real shapes beside predicted ones.
// No LibTorch header here: torch_net.cc is the one file that includes it.
#include <algorithm>
#include <iostream>
#include <map>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

// CMakeLists.txt: the LibTorch side uses fmt header-only, so that it works
// with the fmt that PyTorch 2.x brings as well as with the system's.
#ifndef FMT_HEADER_ONLY
#error "netshape-torch must be built with fmt header-only (fmt::fmt-header-only)"
#endif

#include "run_options.h"

using namespace netshape;

namespace {

struct Stats { double min, median, max; };
Stats stats(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  std::size_t n = v.size();
  double med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  return {v.front(), med, v.back()};
}

bool row_matches(const Row* p, const RealRow& r) {
  return p && !p->failed && r.shape && *r.shape == p->output && r.params == p->params;
}

// How a row compares. A row that fails in both, or that neither reached, is
// no disagreement.
std::string row_status(const Row* p, const RealRow& r) {
  if (row_matches(p, r)) return "✓";
  if (p && p->failed && !r.shape) return "✗ fails in both";
  if (!p && !r.shape) return "not reached";
  if (!p) return "not predicted";  // past netshape's first error (a --force run)
  return "✗ differs";
}

}  // namespace

int run_main(int argc, char** argv);

// As netshape's own main: standard output checked once everything is written.
int main(int argc, char** argv) {
  StandardStreams streams = guard_standard_streams();
  int rc = run_main(argc, argv);
  std::string error;
  if (!flush_standard_output(streams, error)) {
    std::cerr << "error[io]: cannot write standard output: " << error << "\n";
    return kExitUsage;
  }
  return rc;
}

int run_main(int argc, char** argv) {
  CLI::App app{"netshape run: build the spec's network in LibTorch, run it, compare shapes"};
  app.name("netshape run");
  app.set_version_flag("--version", std::string(kVersion));
  RunCli cli;
  add_run_options(app, cli);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }
  const CommonOptions& opt = cli.common;
  const RunOptions& run = cli.run;
  Loaded in;
  if (auto rc = precheck_run(cli, in)) return *rc;
  std::cerr << diagnostics_text(in.eval.diagnostics, in.context.file, use_color(opt.color, STDERR_FILENO));

  OutputFile output(opt.output);
  RunResult real = run_network(*in.spec, in.eval, run);
  if (!real.setup_error.empty()) {
    output.commit();
    std::cerr << "error[device]: " << real.setup_error << "\n";
    return kExitTorch;
  }

  // Join real rows with predicted ones by name (a merge's row has its container's name).
  bool all_match = real.error.empty() && in.eval.valid() &&
                   real.rows.size() == in.eval.rows.size() && real.params == in.eval.params &&
                   real.output == in.eval.output;
  std::vector<bool> matches;
  std::vector<std::string> status;
  std::vector<const Row*> predicted;
  std::map<std::string, std::size_t> real_index;
  for (std::size_t i = 0; i < real.rows.size(); ++i) {
    const Row* p = find_row(in.eval, real.rows[i].name);
    predicted.push_back(p);
    real_index[real.rows[i].name] = i;
    matches.push_back(row_matches(p, real.rows[i]));
    status.push_back(row_status(p, real.rows[i]));
    all_match = all_match && matches.back();
  }

  if (opt.format == "json") {
    auto j = to_json(in.eval, in.context);
    for (auto& l : j["layers"]) {
      auto it = real_index.find(l["name"].get<std::string>());
      if (it == real_index.end()) continue;
      std::size_t i = it->second;
      l["real_shape"] = real.rows[i].shape ? nlohmann::ordered_json(*real.rows[i].shape) : nullptr;
      l["real_params"] = real.rows[i].params;
      l["match"] = bool(matches[i]);
    }
    j["real_output_shape"] = real.output ? nlohmann::ordered_json(*real.output) : nullptr;
    j["real_params"] = real.params;
    j["all_match"] = all_match;
    j["torch_error"] = real.error.empty() ? nullptr : nlohmann::ordered_json(real.error);
    if (!real.forward_ms.empty()) {
      Stats s = stats(real.forward_ms);
      j["forward_ms"] = {{"min", s.min}, {"median", s.median}, {"max", s.max}};
    }
    if (!real.plain_forward_ms.empty()) {
      Stats s = stats(real.plain_forward_ms);
      j["plain_forward_ms"] = {{"min", s.min}, {"median", s.median}, {"max", s.max}};
    }
    j["device"] = real.device.empty() ? run.device : real.device;
    j["dtype"] = run.dtype;
    j["threads"] = run.threads;
    j["seed"] = run.seed;
    std::cout << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  } else if (opt.format == "csv" || opt.format == "markdown") {
    bool csv = opt.format == "csv";
    auto shape = [](const std::optional<Shape>& s) { return s ? format_shape(*s) : std::string(); };
    std::cout << (csv ? "layer,type,predicted,real,params,real_params,status\n"
                      : fmt::format("**{}** in LibTorch: input `{}`\n\n| layer | type | predicted | real | params | real params | |\n|---|---|---|---|---:|---:|---|\n",
                                    in.context.name, format_shape(in.spec->input)));
    for (std::size_t i = 0; i < real.rows.size(); ++i) {
      const RealRow& r = real.rows[i];
      const Row* p = predicted[i];
      std::string predicted = p && !p->failed ? format_shape(p->output) : "";
      std::string params = p && !p->failed ? std::to_string(p->params) : "";
      if (csv)
        std::cout << fmt::format("{},{},\"{}\",\"{}\",{},{},{}\n", r.name, r.type, predicted, shape(r.shape), params,
                                 r.params, status[i]);
      else
        std::cout << fmt::format("| `{}` | {} | `{}` | `{}` | {} | {} | {} |\n", r.name, r.type, predicted, shape(r.shape),
                                 params, r.params, status[i]);
    }
    if (!csv)
      std::cout << fmt::format("\n{} · {} real parameters{}\n", all_match ? "all layers match" : "**layers differ**",
                               thousands(real.params), real.error.empty() ? "" : " · LibTorch failed: " + real.error);
  } else {
    bool out_color = use_color(opt.color, STDOUT_FILENO);
    const char* red = out_color ? "\033[1;31m" : "";
    const char* reset = out_color ? "\033[0m" : "";
    std::vector<std::array<std::string, 6>> cells{{"layer", "type", "predicted", "real", "params", ""}};
    for (std::size_t i = 0; i < real.rows.size(); ++i) {
      const RealRow& r = real.rows[i];
      const Row* p = predicted[i];
      std::string predicted = !p ? "—" : p->failed ? "✗ error" : format_shape(p->output);
      std::string actual = r.shape ? format_shape(*r.shape) : "—";
      std::string params = thousands(r.params);
      if (p && !p->failed && p->params != r.params) params = thousands(p->params) + " ≠ " + params;
      cells.push_back({r.name, r.type, predicted, actual, params, status[i]});
    }
    std::array<std::size_t, 6> w{};
    auto width = [](const std::string& s) {
      return static_cast<std::size_t>(std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
    };
    for (const auto& c : cells)
      for (std::size_t k = 0; k < 6; ++k) w[k] = std::max(w[k], width(c[k]));
    std::cout << fmt::format("{}: input {} · LibTorch · seed {}\n\n", in.context.name,
                             format_shape(in.spec->input), run.seed);
    for (std::size_t i = 0; i < cells.size(); ++i) {
      std::string line;
      for (std::size_t k = 0; k < 6; ++k) {
        bool right = k == 4;
        std::string pad(w[k] - width(cells[i][k]), ' ');
        line += (right ? pad + cells[i][k] : cells[i][k] + pad) + "  ";
      }
      while (!line.empty() && line.back() == ' ') line.pop_back();
      bool bad = i > 0 && status[i - 1] == "✗ differs";
      std::cout << (bad ? red : "") << line << (bad ? reset : "") << "\n";
    }
    std::cout << "\n";
    if (!real.error.empty())
      std::cout << fmt::format("{}LibTorch failed{}: {}\n", red, reset, real.error);
    std::size_t differ = static_cast<std::size_t>(std::count(status.begin(), status.end(), "✗ differs"));
    if (all_match)
      std::cout << fmt::format("all {} layers match · {} real parameters\n", real.rows.size(),
                               thousands(real.params));
    else if (differ == 0 && !real.error.empty())
      std::cout << "PyTorch fails where netshape said it would; every layer before agrees\n";
    else
      std::cout << fmt::format("{}{} of {} layers differ{} · {} real parameters, {} predicted\n", red,
                               differ, real.rows.size(), reset, thousands(real.params),
                               in.eval.valid() ? thousands(in.eval.params) : "no total");
    if (!real.forward_ms.empty()) {
      Stats s = stats(real.forward_ms);
      std::cout << fmt::format("forward: median {:.2f} ms (min {:.2f}, max {:.2f}) over {} runs\n",
                               s.median, s.min, s.max, real.forward_ms.size());
    }
    if (!real.plain_forward_ms.empty()) {
      Stats s = stats(real.plain_forward_ms);
      std::cout << fmt::format("plain LibTorch forward: median {:.2f} ms (min {:.2f}, max {:.2f})\n",
                               s.median, s.min, s.max);
    }
  }
  if (!output.commit()) return kExitUsage;
  return all_match ? kExitOk : kExitTorch;
}
