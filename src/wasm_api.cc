// The browser build's C API (docs/playground, build-web/netshape.html): the
// CLI's own code, called with a spec's text and a command line; its exit code
// returned, its standard output and error kept for the page. The page asks for
// `table --format json`, `explain`, `sizes`, `solve` exactly as a person types
// them, so the browser's answers are the CLI's (CTest web-cli-equality).
#include <emscripten/emscripten.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

int netshape_cli_main(int argc, char** argv);  // src/main.cc

namespace {

// Captures std::cout and std::cerr for one call.
struct Capture {
  std::ostringstream out, err;
  std::streambuf* old_out = std::cout.rdbuf(out.rdbuf());
  std::streambuf* old_err = std::cerr.rdbuf(err.rdbuf());
  ~Capture() {
    std::cout.rdbuf(old_out);
    std::cerr.rdbuf(old_err);
  }
};

std::string last_out, last_err;  // the last call's, until the next

}  // namespace

// args_json: the command line after `netshape`, as a JSON array of strings;
// file: the path the spec is written to (in the page's in-memory file
// system, so that messages name it; "" for none, as for solve); text: the
// spec, `text_bytes` long (a NUL inside is the CLI's `nul-byte` error here
// too, never the end of the text). Returns the exit code; netshape_stdout() and netshape_stderr() hold
// what it printed until the next call. (Three calls rather than one JSON
// reply: the table's JSON is then not escaped into a string and parsed twice,
// a third of the time of a keystroke on ResNet50.)
extern "C" EMSCRIPTEN_KEEPALIVE int netshape_call(const char* args_json, const char* file, const char* text,
                                                  int text_bytes) {
  // The output is captured, never a terminal: no colour codes.
  setenv("NO_COLOR", "1", 1);
  std::vector<std::string> words{"netshape"};
  try {
    for (const auto& a : nlohmann::json::parse(args_json)) words.push_back(a.get<std::string>());
  } catch (const std::exception& e) {
    last_out.clear();
    last_err = std::string("error[usage]: bad arguments: ") + e.what() + "\n";
    return 2;
  }
  if (*file) {
    std::filesystem::path path(file);
    if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary | std::ios::trunc).write(text, text_bytes > 0 ? text_bytes : 0);
  }
  std::vector<char*> argv;
  for (auto& w : words) argv.push_back(w.data());
  argv.push_back(nullptr);
  Capture capture;
  int code = netshape_cli_main(static_cast<int>(words.size()), argv.data());
  std::cout.flush();
  last_out = capture.out.str();
  last_err = capture.err.str();
  return code;
}

extern "C" EMSCRIPTEN_KEEPALIVE const char* netshape_stdout() { return last_out.c_str(); }
extern "C" EMSCRIPTEN_KEEPALIVE const char* netshape_stderr() { return last_err.c_str(); }
