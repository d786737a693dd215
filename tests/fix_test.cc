// Every fix netshape shows is re-checked here, independently of the check
// that fix.cc makes before showing it: each golden case's stderr is read, every
// `try: --set ...` line is applied to that case's spec (with the case's own
// --set/--input), and the result must get past the layer the error named —
// and be valid where the message says "the spec is then valid".
#include <doctest/doctest.h>

#include <dirent.h>

#include <regex>

#include "test_util.h"

using namespace netshape;
using namespace netshape::test;

namespace {

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  for (std::string l; std::getline(ss, l);) out.push_back(l);
  return out;
}

// Splits `--set a --set 'b c'` into {"a", "b c"}.
// The --set words of a `try:` line, split as a POSIX shell would: bare words,
// and single-quoted words where '\'' stands for a quote.
std::vector<std::string> sets_of(const std::string& tail) {
  std::vector<std::string> words;
  std::string word;
  bool in = false, quoted = false;
  for (std::size_t i = 0; i < tail.size(); ++i) {
    char c = tail[i];
    if (quoted) {
      if (c == '\'') quoted = false;
      else word += c;
    } else if (c == '\'') {
      quoted = in = true;
    } else if (c == '\\' && i + 1 < tail.size()) {
      word += tail[++i];
      in = true;
    } else if (c == ' ') {
      if (in) words.push_back(word);
      word.clear();
      in = false;
    } else {
      word += c;
      in = true;
    }
  }
  if (in) words.push_back(word);
  std::vector<std::string> out;
  for (std::size_t i = 0; i + 1 < words.size(); ++i)
    if (words[i] == "--set") out.push_back(words[++i]);
  return out;
}

}  // namespace

TEST_CASE("every fix shown in the golden files works when applied") {
  std::string root = NETSHAPE_SOURCE_DIR;
  DIR* d = opendir((root + "/tests/golden").c_str());
  REQUIRE(d);
  int checked = 0;
  while (dirent* e = readdir(d)) {
    std::string dir = root + "/tests/golden/" + e->d_name;
    // Colour codes (the --color always case) are not part of the text.
    std::string err = std::regex_replace(slurp(dir + "/stderr"), std::regex("\x1b\\[[0-9;]*m"), "");
    if (err.find("try: --set") == std::string::npos) continue;
    auto args = lines(slurp(dir + "/args"));
    REQUIRE(args.size() >= 2);
    std::string spec = slurp(root + "/" + args[1]);
    std::vector<Override> base;
    for (std::size_t i = 2; i + 1 < args.size(); ++i) {
      std::string error;
      if (args[i] == "--set") base.push_back(*parse_override(args[i + 1], error));
      if (args[i] == "--input") base.push_back(*parse_override("input=" + args[i + 1], error));
    }
    std::string layer;
    bool then_valid = false;
    for (const auto& l : lines(err)) {
      std::smatch m;
      if (std::regex_search(l, m, std::regex(R"(^  --> .*\(([^()]*)\)$)"))) layer = m[1];
      if (l.find("= help:") != std::string::npos) then_valid = l.find("the spec is then valid") != std::string::npos;
      auto at = l.find("try: --set");
      if (at == std::string::npos) continue;
      CAPTURE(e->d_name);
      CAPTURE(l);
      // Apply the fix on top of the case's own overrides (a fix replaces an
      // override of the same field), then parse and evaluate from scratch.
      std::vector<Override> all;
      for (const auto& s : sets_of(l.substr(at + 5))) {
        std::string error;
        auto o = parse_override(s, error);
        REQUIRE(o);
        all.push_back(*o);
      }
      for (const auto& b : base)
        if (std::none_of(all.begin(), all.end(), [&](const Override& o) { return o.layer == b.layer && o.field == b.field; }))
          all.push_back(b);
      auto parsed = parse_spec(spec, all);
      if (parsed.spec) {
        Evaluation ev = evaluate(*parsed.spec);
        const Row* row = find_row(ev, layer);
        REQUIRE(row);
        CHECK_FALSE(row->failed);
        if (then_valid) CHECK(ev.valid());
      } else {
        // Other layers still keep the spec from parsing: this one must be clean.
        CHECK_FALSE(then_valid);
        for (const auto& diag : parsed.diagnostics.items)
          CHECK_FALSE((diag.severity == Severity::error && diag.layer == layer));
      }
      ++checked;
    }
  }
  closedir(d);
  CHECK(checked >= 5);
}

TEST_CASE("the done-when case: a stride-1 shortcut in layer2.0 and its fix") {
  std::string spec = slurp(std::string(NETSHAPE_SOURCE_DIR) + "/specs/resnet34.json");
  std::string error;
  auto broken = run_text(spec, {*parse_override("layer2.0.shortcut.0.stride=1", error)});
  const Diagnostic* d = broken.find("residual-mismatch");
  REQUIRE(d);
  CHECK(d->layer == "layer2.0");
  // Body [1,128,28,28]; shortcut conv 1×1 stride 1 on [1,64,56,56] gives 56:
  // stride 2 gives ⌊(56 − 1)/2⌋ + 1 = 28, the body's size.
  REQUIRE_FALSE(d->fixes.empty());
  CHECK(d->fixes[0].sets == std::vector<std::string>{"layer2.0.shortcut.0.stride=2"});
  CHECK(d->fixes[0].makes_valid);
}
