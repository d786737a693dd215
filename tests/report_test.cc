// report: the table's formats. Expected counts derived here, not pasted: a
// conv's MACs are output elements × (C_in / groups)·k·k, float32 activations
// 4 bytes each (torchinfo's and fvcore's convention for MACs).
#include <doctest/doctest.h>

#include <fmt/format.h>

#include "parse.h"
#include "pipeline.h"
#include "report.h"

using namespace netshape;

namespace {

struct Reported {
  Evaluation ev;
  ReportContext ctx;
};

Reported run(const std::string& text) {
  auto p = parse_spec(text);
  REQUIRE(p.spec);
  Reported r{evaluate(*p.spec), {}};
  r.ctx.file = "spec.json";
  r.ctx.name = p.spec->name;
  r.ctx.input = p.spec->input;
  return r;
}

const char* const kConv = R"({"name": "one", "input": [1, 3, 224, 224], "layers": [
  {"name": "conv", "type": "Conv2d", "out_channels": 64, "kernel_size": 7, "stride": 2, "padding": 3, "bias": false}]})";

}  // namespace

TEST_CASE("CSV: a header, then one row per layer with exact counts") {
  auto r = run(kConv);
  std::string csv = table_csv(r.ev, r.ctx);
  const int64_t macs = 64LL * 112 * 112 * (3 * 7 * 7), bytes = 64LL * 112 * 112 * 4;
  CHECK(csv.rfind("layer,type,input,output,args,params", 0) == 0);
  CHECK(csv.find(fmt::format("conv,Conv2d,\"[1, 3, 224, 224]\",\"[1, 64, 112, 112]\",k=7 s=2 p=3,9408,0,{},{}", macs,
                             bytes)) != std::string::npos);
}

TEST_CASE("a spec's names stay data in CSV and Markdown") {
  auto r = run(R"({"input": [1, 3, 8, 8], "layers": [{"name": "+cmd|x", "type": "ReLU"}]})");
  std::string csv = table_csv(r.ev, r.ctx);
  CHECK(csv.find("\n+cmd") == std::string::npos);  // a spreadsheet would evaluate it
  CHECK(csv.find("'+cmd|x") != std::string::npos);
  std::string md = table_markdown(r.ev, r.ctx);
  CHECK(md.find("`+cmd\\|x`") != std::string::npos);  // an unescaped | would split the cell
}

TEST_CASE("text and JSON agree on the totals") {
  auto r = run(kConv);
  std::string text = table_text(r.ev, r.ctx);
  CHECK(text.find("9,408 parameters") != std::string::npos);  // 7·7·3·64
  CHECK(text.find("118,013,952 MACs") != std::string::npos);  // 64·112·112·147
  auto j = to_json(r.ev, r.ctx);
  CHECK(j["layers"].size() == 1);
  CHECK(j["layers"][0]["output_shape"] == nlohmann::json::array({1, 64, 112, 112}));
  CHECK(j["params"] == 9408);
}

TEST_CASE("check: ok names the output, invalid counts the errors") {
  auto ok = run(kConv);
  CHECK(check_text(ok.ev, ok.ctx).find("[1, 64, 112, 112]") != std::string::npos);
  auto bad = run(R"({"input": [1, 3, 4, 4], "layers": [{"name": "c", "type": "Conv2d", "out_channels": 8, "kernel_size": 7}]})");
  CHECK(check_text(bad.ev, bad.ctx).find("invalid (1 error)") != std::string::npos);
}
