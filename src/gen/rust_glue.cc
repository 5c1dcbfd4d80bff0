#include "gen/rust_glue.h"

#include <algorithm>
#include <optional>
#include <unordered_map>
#include <utility>

namespace aex::gen {
namespace {

// Strict and reserved keywords of Rust 2015-2021, and the weak keyword
// `union`'s siblings that cannot name a function.
constexpr std::string_view kRustKeywords[] = {
    "Self",   "abstract", "as",       "async",   "await",  "become", "box",    "break",
    "const",  "continue", "crate",    "do",      "dyn",    "else",   "enum",   "extern",
    "false",  "final",    "fn",       "for",     "if",     "impl",   "in",     "let",
    "loop",   "macro",    "match",    "mod",     "move",   "mut",    "override", "priv",
    "pub",    "ref",      "return",   "self",    "static", "struct", "super",  "trait",
    "true",   "try",      "type",     "typeof",  "unsafe", "unsized", "use",   "virtual",
    "where",  "while",    "yield",
};

// The annotations that name a function defined after them, and those that
// declare a name in parentheses.
struct RustAnnotation {
  std::string_view word;
  IoKind kind;
  bool declares;  // sm_output(name) / sm_request(name)
};

constexpr RustAnnotation kRustAnnotations[] = {
    {"sm_output", IoKind::kOutput, true},    {"sm_request", IoKind::kRequest, true},
    {"sm_input", IoKind::kInput, false},     {"sm_handler", IoKind::kHandler, false},
    {"sm_entry", IoKind::kEntry, false},
};

bool IsAsciiLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }
// Rust identifiers may contain non-ASCII letters: any byte >= 0x80 continues
// a word, so that a name is never split inside one.
bool IsWordChar(char c) {
  return IsAsciiLetter(c) || IsDigit(c) || c == '_' || static_cast<unsigned char>(c) >= 0x80;
}

// Length of the UTF-8 sequence a lead byte announces (1 for ASCII and for
// stray continuation bytes).
size_t Utf8Length(unsigned char lead) {
  if (lead >= 0xf0) return 4;
  if (lead >= 0xe0) return 3;
  if (lead >= 0xc0) return 2;
  return 1;
}

// Untrusted text in an error message: printable ASCII, the rest as '?'.
std::string Shown(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size() && i < 64; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    out += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
  }
  if (s.size() > 64) out += "...";
  return out;
}

// Collects the names of all files of one module in order, rejecting
// duplicates with the place of the first declaration.
class RustManifestBuilder {
 public:
  explicit RustManifestBuilder(std::string_view module_name) { manifest_.name = module_name; }

  Status Add(IoKind kind, std::string name, const std::string& where) {
    auto [it, inserted] = first_.try_emplace(name, where);
    if (!inserted) {
      return InvalidArgument(where + ": duplicate name '" + name + "' (first at " + it->second +
                             ")");
    }
    std::vector<std::string>& list = manifest_.List(kind);
    if (list.size() >= ModuleManifest::kMaxPerKind) {
      return InvalidArgument(where + ": more than " +
                             std::to_string(ModuleManifest::kMaxPerKind) + " " +
                             IoKindName(kind) + " names");
    }
    list.push_back(std::move(name));
    return Status::Ok();
  }

  ModuleManifest Take() { return std::move(manifest_); }

 private:
  ModuleManifest manifest_;
  std::unordered_map<std::string, std::string> first_;
};

// Lexer over one file. Peek returns '\0' past the end, which none of the
// look-aheads match, so no read goes past the text.
class RustScanner {
 public:
  RustScanner(std::string_view path, std::string_view text, RustManifestBuilder* builder)
      : path_(path), text_(text), builder_(builder) {}

  Status Scan() {
    while (pos_ < text_.size()) AEX_RETURN_IF_ERROR(Step());
    if (pending_) {
      return Error(pending_line_, "//@ " + std::string(pending_->word) +
                                      " is not followed by 'pub fn NAME('");
    }
    return Status::Ok();
  }

 private:
  char Peek(size_t ahead = 0) const {
    return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0';
  }

  // Line of `pos`. REQUIRES: pos never decreases between calls.
  size_t LineAt(size_t pos) {
    pos = std::min(pos, text_.size());
    line_ += static_cast<size_t>(
        std::count(text_.begin() + static_cast<std::ptrdiff_t>(counted_),
                   text_.begin() + static_cast<std::ptrdiff_t>(pos), '\n'));
    counted_ = std::max(counted_, pos);
    return line_;
  }

  std::string Where(size_t line) const { return std::string(path_) + ":" + std::to_string(line); }

  Status Error(size_t line, const std::string& what) const {
    return InvalidArgument(Where(line) + ": " + what);
  }

  Status Step() {
    const char c = text_[pos_];
    if (c == '/' && Peek(1) == '/') return LineComment();
    if (c == '/' && Peek(1) == '*') return BlockComment();
    if (c == '"') return QuotedString(pos_ + 1);
    if (c == '\'') return Quote();
    if (IsWordChar(c)) return Word();
    if (IsBlank(c) || c == '\n') {
      ++pos_;
      return Status::Ok();
    }
    ++pos_;
    return Token(std::string_view(&c, 1));
  }

  Status LineComment() {
    const size_t start = pos_;
    size_t end = text_.find('\n', start);
    if (end == std::string_view::npos) end = text_.size();
    pos_ = end;
    std::string_view body = text_.substr(start + 2, end - start - 2);
    if (body.empty() || body[0] != '@') return Status::Ok();
    return Annotation(body.substr(1), LineAt(start));
  }

  // Rust block comments nest.
  Status BlockComment() {
    const size_t line = LineAt(pos_);
    size_t depth = 0;
    while (pos_ < text_.size()) {
      if (Peek() == '/' && Peek(1) == '*') {
        ++depth;
        pos_ += 2;
      } else if (Peek() == '*' && Peek(1) == '/') {
        pos_ += 2;
        if (--depth == 0) return Status::Ok();
      } else {
        ++pos_;
      }
    }
    return Error(line, "unterminated /* comment");
  }

  // A string with escapes whose body starts at `body`.
  Status QuotedString(size_t body) {
    const size_t line = LineAt(pos_);
    pos_ = body;
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      if (c == '\\') {
        pos_ += 2;
      } else if (c == '"') {
        ++pos_;
        return Status::Ok();
      } else {
        ++pos_;
      }
    }
    pos_ = text_.size();
    return Error(line, "unterminated string literal");
  }

  // r"...", r#"..."#, br##"..."##: `pos_` is just past the r. A '#' not
  // followed by hashes and a quote makes a raw identifier (r#match).
  Status RawString() {
    const size_t line = LineAt(pos_);
    size_t hashes = 0;
    while (Peek(hashes) == '#') ++hashes;
    if (Peek(hashes) != '"') {
      pos_ += hashes;
      return Status::Ok();
    }
    pos_ += hashes + 1;
    while (pos_ < text_.size()) {
      if (text_[pos_] == '"') {
        size_t n = 0;
        while (n < hashes && Peek(1 + n) == '#') ++n;
        if (n == hashes) {
          pos_ += 1 + hashes;
          return Status::Ok();
        }
      }
      ++pos_;
    }
    return Error(line, "unterminated raw string literal");
  }

  // A character literal ('x', '\n', '\u{1F600}', 'é') or a lifetime/label
  // ('a, 'static), which has no closing quote.
  Status Quote() {
    const size_t line = LineAt(pos_);
    if (Peek(1) == '\\') {
      // The longest escape is '\u{10FFFF}'.
      for (size_t i = 3; i < 13; ++i) {
        if (Peek(i) == '\'') {
          pos_ += i + 1;
          return Status::Ok();
        }
      }
      return Error(line, "unterminated character literal");
    }
    size_t len = Utf8Length(static_cast<unsigned char>(Peek(1)));
    if (Peek(1) != '\0' && Peek(1 + len) == '\'') {
      pos_ += len + 2;
    } else {
      ++pos_;  // a lifetime: its name is read as a word next
    }
    return Status::Ok();
  }

  Status Word() {
    const size_t start = pos_;
    while (pos_ < text_.size() && IsWordChar(text_[pos_])) ++pos_;
    std::string_view word = text_.substr(start, pos_ - start);
    if ((word == "r" || word == "br") && (Peek() == '"' || Peek() == '#')) return RawString();
    return Token(word);
  }

  // Every token of code: checks the `pub fn NAME(` that must follow an
  // sm_input/sm_handler/sm_entry annotation.
  Status Token(std::string_view token) {
    if (!pending_) return Status::Ok();
    const RustAnnotation& a = *pending_;
    auto wrong = [&]() {
      return Error(pending_line_, "//@ " + std::string(a.word) +
                                      " must be followed by 'pub fn NAME(', found '" +
                                      Shown(token) + "'");
    };
    switch (stage_) {
      case 0:
        if (token != "pub") return wrong();
        break;
      case 1:
        if (token != "fn") return wrong();
        break;
      case 2:
        if (token.empty() || !IsWordChar(token[0])) return wrong();
        name_ = std::string(token);
        break;
      default:
        if (token != "(") return wrong();
        pending_ = nullptr;
        return Declare(a, std::move(name_), pending_line_);
    }
    ++stage_;
    return Status::Ok();
  }

  Status Declare(const RustAnnotation& a, std::string name, size_t line) {
    std::string reason = CheckIoName(name);
    if (reason.empty() && IsRustKeyword(name)) reason = "is a Rust keyword";
    if (!reason.empty()) {
      return Error(line, std::string(a.word) + ": '" + Shown(name) + "' " + reason);
    }
    return builder_->Add(a.kind, std::move(name), Where(line));
  }

  // `body` is the comment after "//@".
  Status Annotation(std::string_view body, size_t line) {
    size_t i = 0;
    while (i < body.size() && IsBlank(body[i])) ++i;
    size_t start = i;
    while (i < body.size() && IsWordChar(body[i])) ++i;
    std::string_view word = body.substr(start, i - start);
    if (word.substr(0, 3) != "sm_") return Status::Ok();  // an ordinary comment
    const RustAnnotation* a = nullptr;
    for (const RustAnnotation& known : kRustAnnotations) {
      if (known.word == word) a = &known;
    }
    if (a == nullptr) return Error(line, "unknown annotation '//@ " + Shown(word) + "'");
    if (pending_) {
      return Error(pending_line_, "//@ " + std::string(pending_->word) +
                                      " is not followed by 'pub fn NAME('");
    }
    std::string_view rest = body.substr(i);
    auto skip_blanks = [&rest]() {
      while (!rest.empty() && IsBlank(rest.front())) rest.remove_prefix(1);
    };
    skip_blanks();
    if (!a->declares) {
      if (!rest.empty()) return Error(line, "unexpected text after '//@ " + std::string(word) + "'");
      pending_ = a;
      pending_line_ = line;
      stage_ = 0;
      return Status::Ok();
    }
    const std::string usage = "expected '//@ " + std::string(word) + "(NAME)'";
    if (rest.empty() || rest.front() != '(') return Error(line, usage);
    rest.remove_prefix(1);
    skip_blanks();
    size_t n = 0;
    while (n < rest.size() && IsWordChar(rest[n])) ++n;
    std::string name(rest.substr(0, n));
    rest.remove_prefix(n);
    skip_blanks();
    if (name.empty() || rest.empty() || rest.front() != ')') return Error(line, usage);
    rest.remove_prefix(1);
    skip_blanks();
    if (!rest.empty()) return Error(line, "unexpected text after '//@ " + std::string(word) + "(...)'");
    return Declare(*a, std::move(name), line);
  }

  const std::string_view path_;
  const std::string_view text_;
  RustManifestBuilder* const builder_;
  size_t pos_ = 0;
  size_t line_ = 1;
  size_t counted_ = 0;
  // The sm_input/sm_handler/sm_entry waiting for its function, and how much
  // of "pub fn NAME (" has been seen.
  const RustAnnotation* pending_ = nullptr;
  size_t pending_line_ = 0;
  int stage_ = 0;
  std::string name_;
};

// A byte string literal b"...\0" for a validated name; escapes anything but
// [A-Za-z0-9_.-] as a second line of defence.
std::string ByteString(std::string_view s) {
  static const char kHex[] = "0123456789abcdef";
  std::string out = "b\"";
  for (char ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (IsAsciiLetter(ch) || IsDigit(ch) || ch == '_' || ch == '.' || ch == '-') {
      out += ch;
    } else {
      out.append("\\x").append(1, kHex[c >> 4]).append(1, kHex[c & 0xf]);
    }
  }
  out += "\\0\"";
  return out;
}

std::string Count(size_t n, std::string_view one, std::string_view many) {
  return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}

void WritePrelude(const ModuleManifest& m, std::string* out) {
  out->append("// Generated by aex-gen; do not edit.\n// Module ")
      .append(m.name)
      .append(": ")
      .append(Count(m.inputs.size(), "input", "inputs"))
      .append(", ")
      .append(Count(m.outputs.size(), "output", "outputs"))
      .append(", ")
      .append(Count(m.requests.size(), "request", "requests"))
      .append(", ")
      .append(Count(m.handlers.size(), "handler", "handlers"))
      .append(", ")
      .append(Count(m.entries.size(), "entry", "entries"))
      .append(".\n\n");
  out->append(
      "#![allow(dead_code, unused_imports, unused_macros)]\n\n"
      "extern crate aex_sdk;\n\n"
      "// What the module's code sees without imports (docs/modules.md).\n"
      "#[allow(unused_imports)]\n"
      "use aex_sdk::prelude::*;\n\n");
  // The name is a validated module name: [A-Za-z0-9_.-] only.
  out->append("pub const MODULE_NAME: &str = \"").append(m.name).append("\";\n");
  for (size_t i = 0; i < m.outputs.size(); ++i) {
    out->append("\npub fn ")
        .append(m.outputs[i])
        .append("(data: &[u8]) {\n    aex_sdk::glue::output(")
        .append(std::to_string(i))
        .append(", \"")
        .append(m.outputs[i])
        .append("\", data)\n}\n");
  }
  for (size_t i = 0; i < m.requests.size(); ++i) {
    out->append("\npub fn ")
        .append(m.requests[i])
        .append("(data: &[u8]) -> Result<Vec<u8>, Error> {\n    aex_sdk::issue_request(")
        .append(std::to_string(i))
        .append(", data)\n}\n");
  }
  out->append("\ninclude!(\"").append(kRustModuleSource).append("\");\n");
}

constexpr std::string_view kInputSignature = "(data: *const u8, len: usize)";
constexpr std::string_view kHandlerSignature =
    "(data: *const u8, len: usize, resp: *mut u8, cap: usize) -> usize";

// One trampoline per function: `unsafe extern "C" fn PREFIX_I(...)` calling
// aex_sdk::glue::CALLER with the module's function.
void WriteTrampolines(const std::vector<std::string>& names, std::string_view prefix,
                      std::string_view signature, std::string_view caller,
                      std::string_view args, std::string* out) {
  for (size_t i = 0; i < names.size(); ++i) {
    out->append("\n    unsafe extern \"C\" fn ")
        .append(prefix)
        .append(std::to_string(i))
        .append(signature)
        .append(" {\n        aex_sdk::glue::")
        .append(caller)
        .append("(")
        .append(args)
        .append(", super::")
        .append(names[i])
        .append(")\n    }\n");
  }
}

// `static TABLE: [TYPE; N] = [...];` for a non-empty kind.
void WriteTable(const std::vector<std::string>& names, std::string_view table,
                std::string_view type, std::string_view prefix, std::string* out) {
  if (names.empty()) return;
  out->append("\n    static ")
      .append(table)
      .append(": [")
      .append(type)
      .append("; ")
      .append(std::to_string(names.size()))
      .append("] = [\n");
  for (size_t i = 0; i < names.size(); ++i) {
    out->append("        ");
    if (prefix.empty()) {
      out->append("Name(").append(ByteString(names[i])).append(".as_ptr() as *const c_char),\n");
    } else {
      out->append(type)
          .append(" { name: ")
          .append(ByteString(names[i]))
          .append(".as_ptr() as *const c_char, f: ")
          .append(prefix)
          .append(std::to_string(i))
          .append(" },\n");
    }
  }
  out->append("    ];\n");
}

std::string DescField(std::string_view field, std::string_view table, size_t n) {
  std::string f(field);
  std::string ptr = n == 0 ? "std::ptr::null()" : std::string(table) + ".as_ptr()";
  return "        " + f + ": " + ptr + ",\n        n_" + f + ": " + std::to_string(n) + ",\n";
}

void WriteGlueModule(const ModuleManifest& m, std::string* out) {
  out->append(
      "\n// The C entry points and the interface table the runtime reads\n"
      "// (aex_module_desc in aex/module.h); indexes follow source order.\n"
      "mod aex_gen_glue {\n"
      "    use aex_sdk::glue::{HandlerSlot, InputSlot, ModuleDesc, Name};\n"
      "    use std::os::raw::c_char;\n");
  WriteTrampolines(m.inputs, "input_", kInputSignature, "call_input", "data, len", out);
  WriteTrampolines(m.handlers, "handler_", kHandlerSignature, "call_handler",
                   "data, len, resp, cap", out);
  WriteTrampolines(m.entries, "entry_", kHandlerSignature, "call_entry", "data, len, resp, cap",
                   out);
  WriteTable(m.inputs, "INPUTS", "InputSlot", "input_", out);
  WriteTable(m.outputs, "OUTPUTS", "Name", "", out);
  WriteTable(m.requests, "REQUESTS", "Name", "", out);
  WriteTable(m.handlers, "HANDLERS", "HandlerSlot", "handler_", out);
  WriteTable(m.entries, "ENTRIES", "HandlerSlot", "entry_", out);
  out->append("\n    #[no_mangle]\n    pub static aex_module: ModuleDesc = ModuleDesc {\n");
  out->append("        name: ").append(ByteString(m.name)).append(".as_ptr() as *const c_char,\n");
  out->append(DescField("inputs", "INPUTS", m.inputs.size()));
  out->append(DescField("outputs", "OUTPUTS", m.outputs.size()));
  out->append(DescField("requests", "REQUESTS", m.requests.size()));
  out->append(DescField("handlers", "HANDLERS", m.handlers.size()));
  out->append(DescField("entries", "ENTRIES", m.entries.size()));
  out->append("    };\n}\n");
}

}  // namespace

bool IsRustKeyword(std::string_view s) {
  return std::find(std::begin(kRustKeywords), std::end(kRustKeywords), s) !=
         std::end(kRustKeywords);
}

Result<ModuleManifest> ParseRustAnnotations(std::string_view module_name,
                                            const std::vector<SourceFile>& files) {
  if (!IsValidModuleName(module_name)) {
    return InvalidArgument("invalid module name '" + Shown(module_name) + "' (1 to " +
                           std::to_string(kMaxModuleNameLength) +
                           " characters from [A-Za-z0-9_.-], not starting with '.' or '-')");
  }
  if (files.size() > kMaxSourceFiles) {
    return InvalidArgument("too many source files (" + std::to_string(files.size()) +
                           "; at most " + std::to_string(kMaxSourceFiles) + ")");
  }
  RustManifestBuilder builder(module_name);
  for (const SourceFile& file : files) {
    if (file.text.size() > kMaxSourceBytes) {
      return InvalidArgument(file.path + ": file too large (" + std::to_string(file.text.size()) +
                             " bytes; at most " + std::to_string(kMaxSourceBytes) + ")");
    }
    RustScanner scanner(file.path, file.text, &builder);
    AEX_RETURN_IF_ERROR(scanner.Scan());
  }
  ModuleManifest manifest = builder.Take();
  AEX_RETURN_IF_ERROR(ValidateManifest(manifest));
  return manifest;
}

std::string WriteRustGlue(const ModuleManifest& manifest) {
  std::string out;
  WritePrelude(manifest, &out);
  WriteGlueModule(manifest, &out);
  return out;
}

}  // namespace aex::gen
