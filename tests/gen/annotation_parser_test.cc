// Tests of the annotation scanner and of ModuleManifest (JSON, validation).

#include "gen/annotation_parser.h"

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "gen/manifest.h"

namespace aex::gen {
namespace {

using Names = std::vector<std::string>;

Result<ModuleManifest> ParseOne(std::string text, std::string path = "m.c") {
  return ParseAnnotations("mod", {SourceFile{std::move(path), std::move(text)}});
}

// Expects a kInvalidArgument whose message starts with "where: " and
// contains `what`.
void ExpectError(const Result<ModuleManifest>& r, const std::string& where,
                 const std::string& what) {
  ASSERT_FALSE(r.ok()) << "expected an error at " << where;
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  const std::string& msg = r.status().message();
  EXPECT_EQ(msg.rfind(where + ": ", 0), 0u) << msg;
  EXPECT_NE(msg.find(what), std::string::npos) << msg;
}

// --- Recognition ----------------------------------------------------------

TEST(AnnotationParserTest, RecognisesEveryKind) {
  auto r = ParseOne(
      "#include \"aex/module.h\"\n"
      "SM_OUTPUT(out1);\n"
      "SM_REQUEST(req1);\n"
      "SM_INPUT(in1, data, len) { (void)data; (void)len; }\n"
      "SM_HANDLER(h1, data, len, resp, cap) { return 0; }\n"
      "SM_ENTRY(e1, data, len, resp, cap) { return 0; }\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->name, "mod");
  EXPECT_EQ(r->outputs, Names{"out1"});
  EXPECT_EQ(r->requests, Names{"req1"});
  EXPECT_EQ(r->inputs, Names{"in1"});
  EXPECT_EQ(r->handlers, Names{"h1"});
  EXPECT_EQ(r->entries, Names{"e1"});
}

TEST(AnnotationParserTest, EmptySourceGivesEmptyManifest) {
  auto r = ParseOne("int x;\n");
  ASSERT_TRUE(r.ok());
  for (IoKind k : {IoKind::kInput, IoKind::kOutput, IoKind::kRequest, IoKind::kHandler,
                   IoKind::kEntry}) {
    EXPECT_TRUE(r->List(k).empty());
  }
  EXPECT_TRUE(ParseAnnotations("mod", {}).ok());
}

TEST(AnnotationParserTest, IndexesFollowOrderAcrossFiles) {
  std::vector<SourceFile> files = {
      {"a.c", "SM_OUTPUT(a1);\nSM_INPUT(ia, d, l) {}\nSM_OUTPUT(a2);\n"},
      {"b.cc", "SM_INPUT(ib, d, l) {}\nSM_OUTPUT(b1);\n"},
      {"c.h", "SM_OUTPUT(c1);\n"},
  };
  auto r = ParseAnnotations("mod", files);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->outputs, (Names{"a1", "a2", "b1", "c1"}));
  EXPECT_EQ(r->inputs, (Names{"ia", "ib"}));
  EXPECT_EQ(r->IndexOf(IoKind::kOutput, "b1"), 2);
  EXPECT_EQ(r->IndexOf(IoKind::kInput, "ib"), 1);
  EXPECT_EQ(r->IndexOf(IoKind::kInput, "b1"), std::nullopt);
}

TEST(AnnotationParserTest, IgnoresCommentsStringsAndDirectives) {
  auto r = ParseOne(
      "// SM_OUTPUT(line_comment)\n"
      "/* SM_OUTPUT(block_comment)\n"
      "   SM_OUTPUT(block_comment2) */\n"
      "// continued comment \\\n"
      "SM_OUTPUT(spliced_comment)\n"
      "const char* s = \"SM_OUTPUT(in_string) \\\" SM_OUTPUT(after_escape)\";\n"
      "char c = '\\''; char d = '\"'; /* quote chars must not open literals */\n"
      "const char* w = L\"SM_OUTPUT(wide)\" u8\"SM_OUTPUT(utf8)\";\n"
      "const char* raw = R\"x(SM_OUTPUT(raw) )\" \")x\";\n"
      "int big = 1'000'000; /* digit separators are not char literals */\n"
      "#define FOO SM_OUTPUT(in_define)\n"
      "#define BAR(x) \\\n"
      "    SM_OUTPUT(continued_define)\n"
      "  #  if 0 /* a directive after spaces; comment\n"
      "   spanning lines SM_OUTPUT(c) */ SM_OUTPUT(still_directive)\n"
      "#endif\n"
      "/**/ #pragma SM_OUTPUT(directive_after_comment)\n"
      "#error don't SM_OUTPUT(unbalanced_quote_in_directive)\n"
      "int MY_SM_OUTPUT(x); int SM_OUTPUTS(y); int $SM_OUTPUT(z);\n"
      "SM_OUTPUT(real);\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->outputs, Names{"real"});
}

TEST(AnnotationParserTest, HashInsideALineIsNotADirective) {
  auto r = ParseOne("int a = 1; # SM_OUTPUT(x)\nint b; /* x\n */ #define SM_OUTPUT(y)\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->outputs, (Names{"x", "y"}));
}

TEST(AnnotationParserTest, AcceptsBlanksAndCommentsInsideAnnotation) {
  auto r = ParseOne("SM_INPUT /*c*/ (\n  // c\n  name /* c */ , d, l) {}\nSM_OUTPUT( o )\n;");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->inputs, Names{"name"});
  EXPECT_EQ(r->outputs, Names{"o"});
}

TEST(AnnotationParserTest, ArgumentsAfterNameAreNotInterpreted) {
  auto r = ParseOne("SM_HANDLER(h, a /* ) */, \"(\", SM_x, ')') { return 0; }\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->handlers, Names{"h"});
}

TEST(AnnotationParserTest, HandlesCrlfAndNoTrailingNewline) {
  auto r = ParseOne("// c\r\n#define X \\\r\n SM_OUTPUT(no)\r\nSM_OUTPUT(yes)");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->outputs, Names{"yes"});
}

// --- The original framework's forms (aex/ae_forms.h) -----------------------

TEST(AnnotationParserTest, SancusForms) {
  auto r = ParseOne(
      "#include <sancus/reactive.h>\n"
      "SM_OUTPUT(button_driver, button_pressed);\n"
      "SM_INPUT(button_driver, trigger, data, len) { button_pressed(data, len); }\n"
      "SM_ENTRY(button_driver) void init(uint8_t* input_data, size_t len) {}\n"
      "void SM_ENTRY(button_driver) start(void) {}\n"
      "SM_ENTRY(button_driver) static unsigned char * /* c */ poll() { return 0; }\n"
      "static int SM_DATA(button_driver) count;\n"
      "static void SM_FUNC(button_driver) helper(void) {}\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->outputs, Names{"button_pressed"});
  EXPECT_EQ(r->inputs, Names{"trigger"});
  EXPECT_EQ(r->entries, (Names{"init", "start", "poll"}));
  EXPECT_EQ(r->entry_forms.at("init"), EntryForm::kData);
  EXPECT_EQ(r->entry_forms.at("start"), EntryForm::kNoArgs);
  EXPECT_EQ(r->entry_forms.at("poll"), EntryForm::kNoArgs);
}

TEST(AnnotationParserTest, TrustZoneForms) {
  auto r = ParseOne(
      "SM_OUTPUT(toggle_led);\n"
      "SM_INPUT(button_pressed, data, data_len) { DMSG(\"pressed\\n\"); toggle_led(NULL, 0); }\n"
      "SM_ENTRY(entry1, data, data_len) { OUTPUT(toggle_led, data, data_len); }\n"
      "SM_ENTRY(native, data, len, resp, cap) { return 0; }\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->outputs, Names{"toggle_led"});
  EXPECT_EQ(r->inputs, Names{"button_pressed"});
  EXPECT_EQ(r->entries, (Names{"entry1", "native"}));
  EXPECT_EQ(r->entry_forms.at("entry1"), EntryForm::kData);
  EXPECT_EQ(r->entry_forms.count("native"), 0u);  // aex's own form
}

TEST(AnnotationParserTest, FormsNestedArgumentsDoNotCount) {
  // Commas inside parentheses, literals and comments are not separators.
  auto r = ParseOne("SM_INPUT(in, f(a, b), g(\",\", /* , */ ',')) {}\nSM_OUTPUT(o /* , x */);\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->inputs, Names{"in"});  // three arguments: aex's form
  EXPECT_EQ(r->outputs, Names{"o"});
}

TEST(AnnotationParserTest, FormErrors) {
  ExpectError(ParseOne("SM_OUTPUT(mod, 1x);"), "m.c:1", "'1x' is not a C identifier");
  ExpectError(ParseOne("\nSM_INPUT(mod, aex_in, d, l) {}"), "m.c:2", "'aex_in' is reserved");
  ExpectError(ParseOne("SM_ENTRY(mod) ;"), "m.c:1", "expected a function declaration");
  ExpectError(ParseOne("SM_ENTRY(mod) ("), "m.c:1", "expected the function's name");
  ExpectError(ParseOne("SM_ENTRY(mod) void int(void) {}"), "m.c:1", "keyword");
  ExpectError(ParseOne("SM_ENTRY(mod)"), "m.c:1", "expected a function declaration");
  ExpectError(ParseOne("SM_ENTRY(mod) a b c d e f g h i j k l m n o p q r(void)"), "m.c:1",
              "expected a function declaration");
  ExpectError(ParseOne("SM_INPUT(in, d, l"), "m.c:1", "unterminated argument list of SM_INPUT");
  ExpectError(ParseOne("SM_HANDLER(h, a, b, c, d, e, f, g, h, i) {}"), "m.c:1",
              "too many arguments to SM_HANDLER");
  ExpectError(ParseOne("SM_OUTPUT(a, \"b);"), "m.c:1", "unterminated string literal");
  ExpectError(ParseOne("SM_OUTPUT(m, x);\nSM_OUTPUT(x);"), "m.c:2", "duplicate name 'x'");
}

// --- Errors, each with its line number -------------------------------------

TEST(AnnotationParserTest, MissingParenthesis) {
  ExpectError(ParseOne("int x;\n\nSM_OUTPUT;\n"), "m.c:3", "expected '(' after SM_OUTPUT");
  ExpectError(ParseOne("SM_INPUT"), "m.c:1", "expected '(' after SM_INPUT");
  ExpectError(ParseOne("#if 1\n#endif\nSM_ENTRY\n#define X\n(e)"), "m.c:3",
              "expected '(' after SM_ENTRY");
}

TEST(AnnotationParserTest, MissingName) {
  ExpectError(ParseOne("\nSM_OUTPUT()"), "m.c:2", "expected a name after 'SM_OUTPUT('");
  ExpectError(ParseOne("SM_REQUEST(\n"), "m.c:1", "expected a name after 'SM_REQUEST('");
  ExpectError(ParseOne("SM_HANDLER(, d)"), "m.c:1", "expected a name");
  ExpectError(ParseOne("SM_HANDLER(\"h\", d)"), "m.c:1", "expected a name");
}

TEST(AnnotationParserTest, NameNotAnIdentifier) {
  ExpectError(ParseOne("\n\n\nSM_OUTPUT(1abc);"), "m.c:4", "'1abc' is not a C identifier");
  ExpectError(ParseOne("SM_OUTPUT(a$b);"), "m.c:1", "'a$b' is not a C identifier");
  ExpectError(ParseOne("SM_OUTPUT(caf\xc3\xa9);"), "m.c:1",
              "'caf\\xc3\\xa9' is not a C identifier");
  ExpectError(ParseOne("SM_OUTPUT(int);"), "m.c:1", "'int' is a C or C++ keyword");
  ExpectError(ParseOne("SM_OUTPUT(class);"), "m.c:1", "keyword");
  ExpectError(ParseOne("SM_OUTPUT(" + std::string(kMaxNameLength + 1, 'a') + ");"), "m.c:1",
              "longer than 255");
  EXPECT_TRUE(ParseOne("SM_OUTPUT(" + std::string(kMaxNameLength, 'a') + ");").ok());
}

TEST(AnnotationParserTest, NameFollowedByGarbage) {
  ExpectError(ParseOne("SM_OUTPUT(a.b);"), "m.c:1", "expected ',' or ')' after 'SM_OUTPUT(a'");
  ExpectError(ParseOne("SM_OUTPUT(a b);"), "m.c:1", "expected ',' or ')'");
  ExpectError(ParseOne("\nSM_OUTPUT(a"), "m.c:2", "expected ',' or ')'");
}

TEST(AnnotationParserTest, ReservedNames) {
  ExpectError(ParseOne("\nSM_OUTPUT(aex_out);"), "m.c:2", "'aex_out' is reserved");
  ExpectError(ParseOne("SM_INPUT(__in, d, l) {}"), "m.c:1", "'__in' is reserved");
  ExpectError(ParseOne("SM_INPUT(AEX_OK, d, l) {}"), "m.c:1", "is reserved");
  ExpectError(ParseOne("SM_INPUT(_Upper, d, l) {}"), "m.c:1", "is reserved");
  ExpectError(ParseOne("SM_ENTRY(main, d, l, r, c) {}"), "m.c:1", "'main' is reserved");
  ExpectError(ParseOne("SM_OUTPUT(SM_INPUT);"), "m.c:1", "'SM_INPUT' is reserved");
  EXPECT_TRUE(ParseOne("SM_OUTPUT(_lower); SM_OUTPUT(aex); SM_OUTPUT(my_aex_x);").ok());
}

TEST(AnnotationParserTest, DuplicateNames) {
  ExpectError(ParseOne("SM_OUTPUT(x);\n\nSM_OUTPUT(x);"), "m.c:3",
              "duplicate name 'x' (first declared as output at m.c:1)");
  // One namespace for all kinds: they are all C functions.
  ExpectError(ParseOne("SM_OUTPUT(x);\nSM_INPUT(x, d, l) {}"), "m.c:2",
              "duplicate name 'x' (first declared as output at m.c:1)");
  std::vector<SourceFile> files = {{"a.c", "\nSM_HANDLER(h, d, l, r, c) {}"},
                                   {"b.c", "int y;\n\n\nSM_ENTRY(h, d, l, r, c) {}"}};
  ExpectError(ParseAnnotations("mod", files), "b.c:4",
              "duplicate name 'h' (first declared as handler at a.c:2)");
}

TEST(AnnotationParserTest, TooManyOfAKind) {
  std::string text;
  for (size_t i = 0; i < ModuleManifest::kMaxPerKind; ++i) {
    text += "SM_OUTPUT(o" + std::to_string(i) + ");\n";
  }
  auto ok = ParseOne(text);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->outputs.size(), ModuleManifest::kMaxPerKind);
  EXPECT_EQ(ok->IndexOf(IoKind::kOutput, "o1023"), 1023);
  // Other kinds have their own limit.
  text += "SM_INPUT(i0, d, l) {}\n";
  EXPECT_TRUE(ParseOne(text).ok());
  text += "SM_OUTPUT(one_too_many);\n";
  ExpectError(ParseOne(text), "m.c:1026", "more than 1024 annotations of kind output");
}

TEST(AnnotationParserTest, UnterminatedCommentAndLiterals) {
  ExpectError(ParseOne("int x;\n/* SM_OUTPUT(a)\n\n"), "m.c:2", "unterminated /* comment");
  ExpectError(ParseOne("#define X /* no end\n"), "m.c:1", "unterminated /* comment");
  ExpectError(ParseOne("\n\nconst char* s = \"abc\nSM_OUTPUT(x);"), "m.c:3",
              "unterminated string literal");
  ExpectError(ParseOne("const char* s = \"abc\\"), "m.c:1", "unterminated string literal");
  ExpectError(ParseOne("\nchar c = 'a;\n"), "m.c:2", "unterminated character literal");
  ExpectError(ParseOne("\nauto s = R\"x(abc)y\";\n"), "m.c:2", "unterminated raw string");
  ExpectError(ParseOne("auto s = R\"01234567890123456(a)01234567890123456\";"), "m.c:1",
              "invalid raw string literal delimiter");
  ExpectError(ParseOne("auto s = R\"a b(x)a b\";"), "m.c:1", "invalid raw string");
}

TEST(AnnotationParserTest, LineNumbersCountSplicedAndCrlfLines) {
  ExpectError(ParseOne("#define A \\\n  1 \\\n  2\r\n\r\nSM_OUTPUT();"), "m.c:5",
              "expected a name");
  ExpectError(ParseOne("/* a\r\n b */ int \\\r\n x;\nSM_OUTPUT(aex_x);"), "m.c:4", "reserved");
}

TEST(AnnotationParserTest, ErrorInLaterFileNamesThatFile) {
  std::vector<SourceFile> files = {{"ok.c", "SM_OUTPUT(a);"}, {"dir/bad.c", "\"open"}};
  ExpectError(ParseAnnotations("mod", files), "dir/bad.c:1", "unterminated string literal");
}

TEST(AnnotationParserTest, SizeLimits) {
  std::vector<SourceFile> files(kMaxSourceFiles, SourceFile{"f.c", ""});
  EXPECT_TRUE(ParseAnnotations("mod", files).ok());
  files.push_back({"extra.c", ""});
  auto r = ParseAnnotations("mod", files);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("too many source files"), std::string::npos);

  std::string big(kMaxSourceBytes, ' ');
  EXPECT_TRUE(ParseOne(big).ok());
  big += ' ';
  r = ParseOne(big, "big.c");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  EXPECT_NE(r.status().message().find("big.c: file too large"), std::string::npos);
}

TEST(AnnotationParserTest, RejectsBadModuleName) {
  for (const std::string& bad : std::vector<std::string>{"", "a b", "a/b", ".hidden", "-x", "a\"b",
                                                          std::string(129, 'm')}) {
    auto r = ParseAnnotations(bad, {});
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().message().find("invalid module name"), std::string::npos);
  }
  for (const std::string& good :
       std::vector<std::string>{"m", "sensor-1", "a.b_c", "9lives", std::string(128, 'm')}) {
    EXPECT_TRUE(ParseAnnotations(good, {}).ok()) << good;
  }
}

// Cheap in-tree fuzzing (fuzz/gen_parser_fuzz.cc is the real target): random
// bytes biased towards the scanner's special characters must never crash
// (run under ASan/UBSan), and every success must yield a valid manifest.
TEST(AnnotationParserTest, SurvivesRandomInput) {
  static const char kAlphabet[] = "SM_OUTPUT(SM_INPUT(ab_1 ,)/*\\\n\r'\"#R\"x(u8 1'e+.$\xc3\x00";
  std::mt19937 rng(12345);
  std::uniform_int_distribution<size_t> pick(0, sizeof kAlphabet - 1);
  std::uniform_int_distribution<size_t> length(0, 200);
  for (int i = 0; i < 20000; ++i) {
    std::string text;
    size_t n = length(rng);
    for (size_t j = 0; j < n; ++j) text += kAlphabet[pick(rng)];
    auto r = ParseOne(text);
    if (r.ok()) {
      EXPECT_TRUE(ValidateManifest(*r).ok()) << ValidateManifest(*r).ToString();
    } else {
      EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
      EXPECT_EQ(r.status().message().rfind("m.c:", 0), 0u) << r.status().message();
    }
  }
}

// --- Name rules -----------------------------------------------------------

TEST(NameRulesTest, Identifiers) {
  EXPECT_TRUE(IsCIdentifier("a"));
  EXPECT_TRUE(IsCIdentifier("_a9"));
  EXPECT_TRUE(IsCIdentifier("Z_"));
  EXPECT_FALSE(IsCIdentifier(""));
  EXPECT_FALSE(IsCIdentifier("9a"));
  EXPECT_FALSE(IsCIdentifier("a-b"));
  EXPECT_FALSE(IsCIdentifier("while"));
  EXPECT_FALSE(IsCIdentifier("co_await"));
  EXPECT_TRUE(IsReservedName("aex_module"));
  EXPECT_FALSE(IsReservedName("aexmodule"));
  EXPECT_EQ(CheckIoName("ok_name"), "");
}

// --- ModuleManifest ---------------------------------------------------------

ModuleManifest SampleManifest() {
  ModuleManifest m;
  m.name = "sensor-1";
  m.inputs = {"in_a", "in_b"};
  m.outputs = {"out"};
  m.requests = {};
  m.handlers = {"h"};
  m.entries = {"e1", "e2"};
  return m;
}

bool SameManifest(const ModuleManifest& a, const ModuleManifest& b) {
  return a.name == b.name && a.inputs == b.inputs && a.outputs == b.outputs &&
         a.requests == b.requests && a.handlers == b.handlers && a.entries == b.entries;
}

Status FromJsonStatus(const std::string& text) { return ModuleManifest::FromJson(text).status(); }

void ExpectJsonError(const std::string& text, const std::string& what) {
  Status s = FromJsonStatus(text);
  ASSERT_FALSE(s.ok()) << text;
  EXPECT_EQ(s.code(), Code::kInvalidArgument) << s.ToString();
  EXPECT_NE(s.message().find(what), std::string::npos) << s.message();
}

TEST(ManifestTest, JsonRoundTrip) {
  ModuleManifest m = SampleManifest();
  std::string json = m.ToJson();
  EXPECT_EQ(json.rfind("{\n  \"name\": \"sensor-1\",\n  \"inputs\": [", 0), 0u) << json;
  auto back = ModuleManifest::FromJson(json);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(SameManifest(m, *back));
  EXPECT_EQ(back->ToJson(), json);
}

TEST(ManifestTest, RoundTripOfParsedSource) {
  auto parsed = ParseOne("SM_OUTPUT(o);\nSM_ENTRY(e, a, b, c, d) { return 0; }\n");
  ASSERT_TRUE(parsed.ok());
  auto back = ModuleManifest::FromJson(parsed->ToJson());
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(SameManifest(*parsed, *back));
}

TEST(ManifestTest, MissingArraysAreEmpty) {
  auto m = ModuleManifest::FromJson(R"({"name": "m", "outputs": ["o"]})");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->outputs, Names{"o"});
  EXPECT_TRUE(m->inputs.empty());
  EXPECT_TRUE(m->entries.empty());
}

TEST(ManifestTest, IndexOfAndKindNames) {
  ModuleManifest m = SampleManifest();
  EXPECT_EQ(m.IndexOf(IoKind::kEntry, "e2"), 1);
  EXPECT_EQ(m.IndexOf(IoKind::kEntry, "h"), std::nullopt);
  EXPECT_STREQ(IoKindName(IoKind::kInput), "input");
  EXPECT_STREQ(IoKindName(IoKind::kOutput), "output");
  EXPECT_STREQ(IoKindName(IoKind::kRequest), "request");
  EXPECT_STREQ(IoKindName(IoKind::kHandler), "handler");
  EXPECT_STREQ(IoKindName(IoKind::kEntry), "entry");
  EXPECT_TRUE(ValidateManifest(m).ok());
}

TEST(ManifestTest, RejectsMalformedJson) {
  ExpectJsonError("", "invalid JSON");
  ExpectJsonError("{", "invalid JSON");
  ExpectJsonError("{\"name\": \"m\"} trailing", "invalid JSON");
  ExpectJsonError("{\"name\": \"\xff\"}", "invalid JSON");
  ExpectJsonError(std::string(100000, '['), "invalid JSON");
}

TEST(ManifestTest, RejectsNonObjects) {
  ExpectJsonError("[]", "not a JSON object");
  ExpectJsonError("\"m\"", "not a JSON object");
  ExpectJsonError("null", "not a JSON object");
  ExpectJsonError("42", "not a JSON object");
}

TEST(ManifestTest, RejectsWrongTypes) {
  ExpectJsonError("{}", "\"name\" must be a string");
  ExpectJsonError(R"({"name": 1})", "\"name\" must be a string");
  ExpectJsonError(R"({"name": ["m"]})", "\"name\" must be a string");
  ExpectJsonError(R"({"name": "m", "inputs": "a"})", "\"inputs\" must be an array of strings");
  ExpectJsonError(R"({"name": "m", "outputs": {"a": 1}})", "\"outputs\" must be an array");
  ExpectJsonError(R"({"name": "m", "requests": [1]})", "\"requests\" must be an array");
  ExpectJsonError(R"({"name": "m", "handlers": [null]})", "\"handlers\" must be an array");
  ExpectJsonError(R"({"name": "m", "entries": [["e"]]})", "\"entries\" must be an array");
  ExpectJsonError(R"({"name": "m", "extra": []})", "unknown key \"extra\"");
}

TEST(ManifestTest, RejectsBadNames) {
  ExpectJsonError(R"({"name": "a b"})", "invalid module name");
  ExpectJsonError(R"({"name": ""})", "invalid module name");
  ExpectJsonError(R"({"name": "m", "inputs": ["1x"]})", "input name '1x' is not a C identifier");
  ExpectJsonError(R"({"name": "m", "outputs": ["a-b"]})", "not a C identifier");
  ExpectJsonError(R"({"name": "m", "outputs": [""]})", "not a C identifier");
  ExpectJsonError(R"({"name": "m", "outputs": ["x\u0000"]})", "not a C identifier");
  ExpectJsonError(R"({"name": "m", "entries": ["return"]})", "keyword");
  ExpectJsonError(R"({"name": "m", "handlers": ["aex_h"]})", "reserved");
}

TEST(ManifestTest, RejectsDuplicates) {
  ExpectJsonError(R"({"name": "m", "outputs": ["a", "a"]})", "duplicate name 'a'");
  ExpectJsonError(R"({"name": "m", "inputs": ["a"], "entries": ["a"]})",
                  "duplicate name 'a' (input and entry)");
}

TEST(ManifestTest, RejectsTooMany) {
  auto make = [](size_t n) {
    std::string json = R"({"name": "m", "requests": [)";
    for (size_t i = 0; i < n; ++i) json += (i ? ",\"r" : "\"r") + std::to_string(i) + "\"";
    return json + "]}";
  };
  auto ok = ModuleManifest::FromJson(make(ModuleManifest::kMaxPerKind));
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->requests.size(), ModuleManifest::kMaxPerKind);
  ExpectJsonError(make(ModuleManifest::kMaxPerKind + 1), "\"requests\" has more than 1024");
}

TEST(ManifestTest, RejectsOversizedText) {
  std::string json = "{\"name\": \"m\"}" + std::string(size_t{5} << 20, ' ');
  Status s = FromJsonStatus(json);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("larger than"), std::string::npos);
}

}  // namespace
}  // namespace aex::gen
