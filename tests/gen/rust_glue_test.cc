// Tests of the Rust annotation scanner and glue writer (gen/rust_glue.h).
// The glue is compiled and run for real by tests/deployer/rust_module_test.sh.

#include "gen/rust_glue.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace aex::gen {
namespace {

using Names = std::vector<std::string>;

Result<ModuleManifest> ParseRs(std::string text) {
  return ParseRustAnnotations("rmod", {SourceFile{"lib.rs", std::move(text)}});
}

// Expects kInvalidArgument with a message starting "lib.rs:LINE: " that
// contains `what`.
void ExpectError(const Result<ModuleManifest>& r, int line, const std::string& what) {
  ASSERT_FALSE(r.ok()) << "expected an error at line " << line;
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  const std::string& msg = r.status().message();
  const std::string where = "lib.rs:" + std::to_string(line) + ": ";
  EXPECT_EQ(msg.rfind(where, 0), 0u) << msg;
  EXPECT_NE(msg.find(what), std::string::npos) << msg;
}

bool Contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

TEST(RustAnnotationTest, RecognisesEveryKindInOrder) {
  auto r = ParseRs(
      "use std::sync::Mutex;\n"
      "//@ sm_output(out_b)\n"
      "//@sm_output( out_a )\n"
      "//@ sm_request(req)\n"
      "//@ sm_input\n"
      "pub fn in1(data: &[u8]) {}\n"
      "  //@ sm_handler  \r\n"
      "  // an ordinary comment in between\n"
      "  pub   fn\n  h1 (data: &[u8]) -> Vec<u8> { vec![] }\n"
      "//@ sm_entry\n"
      "pub fn e1(data: &[u8]) -> ResultMessage { success(None) }\n"
      "//@ sm_input\n"
      "pub fn in2(_: &[u8]) {}\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->name, "rmod");
  EXPECT_EQ(r->outputs, (Names{"out_b", "out_a"}));
  EXPECT_EQ(r->requests, Names{"req"});
  EXPECT_EQ(r->inputs, (Names{"in1", "in2"}));
  EXPECT_EQ(r->handlers, Names{"h1"});
  EXPECT_EQ(r->entries, Names{"e1"});
}

TEST(RustAnnotationTest, SkipsStringsCommentsAndCharacters) {
  auto r = ParseRs(
      "/* outer /* nested */ still a comment\n//@ sm_output(c1)\n*/\n"
      "const A: &str = \"//@ sm_output(s1) \\\" //@ sm_output(s2)\";\n"
      "const B: &str = r#\"raw \" //@ sm_output(s3)\n\"#;\n"
      "const C: &[u8] = br##\"\"# //@ sm_output(s4)\"##;\n"
      "const D: &[u8] = b\"//@ sm_output(s5)\";\n"
      "const Q: char = '\"';\n"
      "const E: char = '\\'';\n"
      "const U: char = '\\u{1F600}';\n"
      "const X: char = '\xc3\xa9';\n"
      "fn f<'a>(x: &'a str) -> &'a str { x }\n"
      "/// //@ sm_output(doc)\n"
      "//! //@ sm_output(doc2)\n"
      "//@ not an annotation, just a comment\n"
      "const r#match: u8 = 0;\n"
      "//@ sm_output(real)\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->outputs, Names{"real"});
}

TEST(RustAnnotationTest, FunctionMustFollow) {
  ExpectError(ParseRs("\n//@ sm_input\nfn private(data: &[u8]) {}\n"), 2,
              "//@ sm_input must be followed by 'pub fn NAME(', found 'fn'");
  ExpectError(ParseRs("//@ sm_handler\npub struct S;\n"), 1, "found 'struct'");
  ExpectError(ParseRs("//@ sm_entry\npub fn e<T>(d: &[u8]) {}\n"), 1, "found '<'");
  ExpectError(ParseRs("x\n\n//@ sm_entry\n"), 3, "is not followed by 'pub fn NAME('");
  ExpectError(ParseRs("//@ sm_input\n//@ sm_input\npub fn a(d: &[u8]) {}\n"), 1,
              "is not followed by 'pub fn NAME('");
}

TEST(RustAnnotationTest, MalformedAnnotations) {
  ExpectError(ParseRs("//@ sm_output\n"), 1, "expected '//@ sm_output(NAME)'");
  ExpectError(ParseRs("//@ sm_request(a\n"), 1, "expected '//@ sm_request(NAME)'");
  ExpectError(ParseRs("//@ sm_output()\n"), 1, "expected '//@ sm_output(NAME)'");
  ExpectError(ParseRs("//@ sm_output(a) b\n"), 1, "unexpected text");
  ExpectError(ParseRs("//@ sm_input now\n"), 1, "unexpected text");
  ExpectError(ParseRs("\n//@ sm_outptu(a)\n"), 2, "unknown annotation '//@ sm_outptu'");
}

TEST(RustAnnotationTest, NameRules) {
  ExpectError(ParseRs("//@ sm_output(match)\n"), 1, "is a Rust keyword");
  // A raw identifier names the function without its r#.
  ExpectError(ParseRs("//@ sm_input\npub fn r#loop(d: &[u8]) {}\n"), 1, "is a Rust keyword");
  auto raw = ParseRs("//@ sm_input\npub fn r#tick(d: &[u8]) {}\n");
  ASSERT_TRUE(raw.ok()) << raw.status().ToString();
  EXPECT_EQ(raw->inputs, Names{"tick"});
  ExpectError(ParseRs("//@ sm_output(class)\n"), 1, "C or C++ keyword");
  ExpectError(ParseRs("//@ sm_output(aex_emit_output)\n"), 1, "is reserved");
  ExpectError(ParseRs("//@ sm_output(x)\n\n//@ sm_input\npub fn x(d: &[u8]) {}\n"), 3,
              "duplicate name 'x' (first at lib.rs:1)");
  EXPECT_FALSE(ParseRustAnnotations("bad name", {}).ok());
  EXPECT_TRUE(IsRustKeyword("fn"));
  EXPECT_FALSE(IsRustKeyword("union"));  // a weak keyword: a valid function name
}

TEST(RustAnnotationTest, UnterminatedLiterals) {
  ExpectError(ParseRs("\n/* /* */\n"), 2, "unterminated /* comment");
  ExpectError(ParseRs("let s = \"abc\n"), 1, "unterminated string literal");
  ExpectError(ParseRs("let s = \"abc\\"), 1, "unterminated string literal");
  ExpectError(ParseRs("let s = r##\"abc\"#;\n"), 1, "unterminated raw string literal");
  ExpectError(ParseRs("let c = '\\"), 1, "unterminated character literal");
  // A lone quote at the end is a (broken) lifetime, not an overrun.
  EXPECT_TRUE(ParseRs("'").ok());
}

TEST(RustGlueWriterTest, WritesPreludeTrampolinesAndTable) {
  auto m = ParseRs(
      "//@ sm_output(report)\n//@ sm_request(ask)\n"
      "//@ sm_input\npub fn tick(d: &[u8]) {}\n"
      "//@ sm_handler\npub fn total(d: &[u8]) -> Vec<u8> { vec![] }\n");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  std::string glue = WriteRustGlue(*m);
  EXPECT_EQ(glue, WriteRustGlue(*m));  // deterministic
  EXPECT_TRUE(Contains(glue, "use aex_sdk::prelude::*;"));
  EXPECT_TRUE(Contains(glue, "pub const MODULE_NAME: &str = \"rmod\";"));
  EXPECT_TRUE(Contains(glue, "pub fn report(data: &[u8]) {\n    aex_sdk::glue::output(0, "));
  EXPECT_TRUE(Contains(glue, "pub fn ask(data: &[u8]) -> Result<Vec<u8>, Error> {\n"
                             "    aex_sdk::issue_request(0, data)"));
  EXPECT_TRUE(Contains(glue, "include!(\"aex_module_src.rs\");"));
  EXPECT_TRUE(Contains(glue, "aex_sdk::glue::call_input(data, len, super::tick)"));
  EXPECT_TRUE(Contains(glue, "aex_sdk::glue::call_handler(data, len, resp, cap, super::total)"));
  EXPECT_TRUE(Contains(glue, "#[no_mangle]\n    pub static aex_module: ModuleDesc"));
  EXPECT_TRUE(Contains(glue, "name: b\"rmod\\0\".as_ptr()"));
  EXPECT_TRUE(Contains(glue, "inputs: INPUTS.as_ptr(),\n        n_inputs: 1,"));
  // Kinds without names get null tables (no zero-length statics).
  EXPECT_TRUE(Contains(glue, "entries: std::ptr::null(),\n        n_entries: 0,"));
  EXPECT_FALSE(Contains(glue, "ENTRIES"));
}

TEST(RustGlueWriterTest, ModuleNameIsEscapedInByteString) {
  ModuleManifest m;
  m.name = "a.b-c";
  EXPECT_TRUE(Contains(WriteRustGlue(m), "b\"a.b-c\\0\""));
}

}  // namespace
}  // namespace aex::gen
