// text.cc: what may be printed raw, and how everything else is escaped.
// Expected values are the escapes themselves, written out by hand.
#include <doctest/doctest.h>

#include "text.h"

using namespace netshape;

TEST_CASE("controls: C0, DEL, C1, the bidi controls and the line separators; not letters or emoji") {
  for (char32_t c : {U'\0', U'\x1b', U'\r', U'\n', U'\x7f', U'\x85', U'\x9b', U'\u061c', U'\u200e', U'\u202e',
                     U'\u2066', U'\u2069', U'\u2028', U'\u2029'})
    CHECK(is_control(c));
  for (char32_t c : {U' ', U'a', U'~', U'\u00e9', U'\u540d', U'\U0001F642', U'\u200b', U'\u2192'})
    CHECK_FALSE(is_control(c));
}

TEST_CASE("first_control: the code point and its byte offset; an invalid byte is U+FFFD") {
  CHECK_FALSE(first_control("layer2.0.body"));
  CHECK_FALSE(first_control("caf\xc3\xa9 \xe5\x90\x8d"));  // café 名: valid UTF-8
  auto esc = first_control("ab\x1b[2J");
  REQUIRE(esc);
  CHECK(esc->code == 0x1B);
  CHECK(esc->byte == 2);
  auto rlo = first_control("x\xe2\x80\xae" "y");  // U+202E
  REQUIRE(rlo);
  CHECK(rlo->code == 0x202E);
  CHECK(rlo->byte == 1);
  auto bad = first_control("caf\xe9");  // Latin-1 é: not UTF-8
  REQUIRE(bad);
  CHECK(bad->code == 0xFFFD);
  CHECK(bad->byte == 3);
  CHECK(first_control("\xc0\xaf"));  // an overlong '/'
  CHECK(first_control("\xed\xa0\x80"));  // a UTF-16 surrogate
}

TEST_CASE("code_point_text names the usual suspects") {
  CHECK(code_point_text(0x1B) == "U+001B (ESCAPE)");
  CHECK(code_point_text(0x202E) == "U+202E (RIGHT-TO-LEFT OVERRIDE)");
  CHECK(code_point_text(0x0085) == "U+0085 (NEXT LINE)");
  CHECK(code_point_text(0x0001) == "U+0001");
  CHECK(code_point_text(0xFFFD) == "an invalid UTF-8 byte");
}

TEST_CASE("printable: unchanged without controls; ESC, CR, bidi and bad bytes escaped") {
  CHECK(printable("layer2.0 · 224 → 112") == "layer2.0 · 224 → 112");
  CHECK(printable("a\x1b[8mhidden") == "a\\x1b[8mhidden");
  CHECK(printable("ok\rfake") == "ok\\rfake");
  CHECK(printable("x\xe2\x80\xaey") == "x\\u{202e}y");
  CHECK(printable("caf\xe9") == "caf\\xe9");
  CHECK(printable("two\nlines") == "two\\nlines");
  CHECK(printable("two\nlines\tkept", true) == "two\nlines\tkept");
  CHECK(printable(std::string("nul\0x", 5)) == "nul\\x00x");
}

TEST_CASE("csv_field: RFC 4180 quoting; formula-like cells neutralised, numbers not") {
  CHECK(csv_field("layer2.0") == "layer2.0");
  CHECK(csv_field("[1, 64, 56, 56]") == "\"[1, 64, 56, 56]\"");
  CHECK(csv_field("say \"hi\"") == "\"say \"\"hi\"\"\"");
  CHECK(csv_field("=HYPERLINK(\"x\")") == "\"'=HYPERLINK(\"\"x\"\")\"");
  CHECK(csv_field("+1+2") == "'+1+2");
  CHECK(csv_field("@SUM(A1)") == "'@SUM(A1)");
  CHECK(csv_field("-cmd") == "'-cmd");
  CHECK(csv_field("-3") == "-3");      // a number stays a number
  CHECK(csv_field("1e5") == "1e5");
  CHECK(csv_field("a\rb") == "a\\rb");  // no bare CR reaches the file
  CHECK(csv_field("a\nb") == "a\\nb");
}

TEST_CASE("markdown: names as code spans with a long enough fence; text with HTML and emphasis escaped") {
  CHECK(markdown_code("layer2.0") == "`layer2.0`");
  CHECK(markdown_code("a`b") == "``a`b``");
  CHECK(markdown_code("`x") == "`` `x ``");
  CHECK(markdown_code("a|b") == "`a\\|b`");
  CHECK(markdown_text("resnet34") == "resnet34");
  CHECK(markdown_text("<img src=x onerror=alert(1)>") == "\\<img src=x onerror=alert(1)\\>");
  CHECK(markdown_text("**bold** [link](x)") == "\\*\\*bold\\*\\* \\[link\\](x)");
}

TEST_CASE("python_escape: nothing can end a literal or hide in it; other Unicode stays") {
  CHECK(python_escape("plain") == "plain");
  CHECK(python_escape("\"\"\"") == "\\\"\\\"\\\"");
  CHECK(python_escape("ends in \"") == "ends in \\\"");
  CHECK(python_escape("back\\slash \\N{BULLET}") == "back\\\\slash \\\\N{BULLET}");
  CHECK(python_escape(std::string("nul\0", 4)) == "nul\\x00");
  CHECK(python_escape("x\xe2\x80\xaey") == "x\\u202ey");
  CHECK(python_escape("caf\xe9") == "caf\\ufffd");
  CHECK(python_escape("二 lines\n") == "二 lines\\n");
  CHECK(python_escape("two\nlines", true) == "two\nlines");
  CHECK(python_escape("it's") == "it\\'s");
}
