// netshape: the command line. Symbolic commands only: this binary never links
// LibTorch; `run` hands over to netshape-torch (docs/architecture.md).
#include <unistd.h>

#include <cstdlib>
#include <iostream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "run_options.h"

using namespace netshape;

namespace {

// Replaces this process with netshape-torch from the same folder.
int exec_torch_runner(int argc, char** argv) {
  std::string self(4096, '\0');
  ssize_t n = readlink("/proc/self/exe", self.data(), self.size() - 1);
  std::string dir = n > 0 ? self.substr(0, static_cast<std::size_t>(n)) : std::string(argv[0]);
  dir = dir.substr(0, dir.rfind('/') + 1);
  std::string runner = dir + "netshape-torch";
  std::vector<char*> args{runner.data()};
  for (int i = 2; i < argc; ++i) args.push_back(argv[i]);  // drop "netshape run"
  args.push_back(nullptr);
  execv(runner.c_str(), args.data());
  std::cerr << fmt::format(
      "error[no-libtorch]: `netshape run` needs netshape-torch, which was not built\n"
      "  --> looked for {}\n"
      "   = help: install LibTorch (apt-get install libtorch-dev) and rebuild: cmake -S . -B "
      "build && cmake --build build\n",
      runner);
  return kExitTorch;
}

// `netshape run`: everything that can be refused is refused here, in
// milliseconds; only a run that will happen pays LibTorch's load.
int run_command(int argc, char** argv) {
  CLI::App app{"netshape run: build the spec's network in LibTorch, run it, compare shapes"};
  app.name("netshape run");
  RunCli cli;
  add_run_options(app, cli);
  try {
    app.parse(argc - 1, argv + 1);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }
  Loaded in;
  // A spec on standard input can be read only once: netshape-torch checks it.
  if (cli.common.spec != "-")
    if (auto rc = precheck_run(cli, in)) return *rc;
  return exec_torch_runner(argc, argv);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && std::string(argv[1]) == "run") return run_command(argc, argv);

  CLI::App app{"netshape: what every layer of a convolutional network does to the shape of "
               "its data"};
  app.set_version_flag("--version", std::string(kVersion));
  app.require_subcommand(1);
  app.footer("Commands: table, check, run (LibTorch). Exit codes: 0 ok, 1 invalid spec, 2 "
             "usage or I/O, 3 LibTorch disagreed or failed. See docs/cli.md.");

  CommonOptions opt;
  auto* table = app.add_subcommand("table", "Print every layer's input and output shape");
  auto* check = app.add_subcommand("check", "Validate a spec: exit 0 if valid, 1 if not");
  app.add_subcommand("run", "Build the network in LibTorch, run it and compare shapes");
  for (auto* sub : {table, check}) add_common_options(*sub, opt);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);  // prints help, version or the error
    return code == 0 ? kExitOk : kExitUsage;
  }

  Loaded in;
  if (int rc = load_and_evaluate(opt, in); rc != kExitOk) return rc;
  bool color = use_color(opt.color, STDERR_FILENO);
  ReportContext ctx = in.context;
  if (opt.format == "json") {
    std::cout << to_json(in.eval, ctx).dump(2) << "\n";
  } else {
    std::cerr << diagnostics_text(in.eval.diagnostics, opt.spec, color);
    ctx.color = use_color(opt.color, STDOUT_FILENO);
    if (table->parsed()) {
      if (in.parsed) std::cout << table_text(in.eval, ctx);
    } else {
      std::cout << check_text(in.eval, ctx);
    }
  }
  return in.eval.valid() ? kExitOk : kExitInvalid;
}
