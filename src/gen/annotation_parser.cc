#include "gen/annotation_parser.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <unordered_map>
#include <utility>

namespace aex::gen {
namespace {

// C11/C23 and C++20 keywords and alternative tokens: none of them can name a
// function in both languages. (Keywords that begin with '_' and an upper case
// letter are caught by IsReservedName.)
constexpr std::string_view kKeywords[] = {
    "alignas",   "alignof",      "and",          "and_eq",       "asm",
    "auto",      "bitand",       "bitor",        "bool",         "break",
    "case",      "catch",        "char",         "char8_t",      "char16_t",
    "char32_t",  "class",        "co_await",     "co_return",    "co_yield",
    "compl",     "concept",      "const",        "const_cast",   "consteval",
    "constexpr", "constinit",    "continue",     "decltype",     "default",
    "delete",    "do",           "double",       "dynamic_cast", "else",
    "enum",      "explicit",     "export",       "extern",       "false",
    "float",     "for",          "friend",       "goto",         "if",
    "inline",    "int",          "long",         "mutable",      "namespace",
    "new",       "noexcept",     "not",          "not_eq",       "nullptr",
    "operator",  "or",           "or_eq",        "private",      "protected",
    "public",    "register",     "reinterpret_cast", "requires", "restrict",
    "return",    "short",        "signed",       "sizeof",       "static",
    "static_assert", "static_cast", "struct",    "switch",       "template",
    "this",      "thread_local", "throw",        "true",         "try",
    "typedef",   "typeid",       "typename",     "typeof",       "typeof_unqual",
    "union",     "unsigned",     "using",        "virtual",      "void",
    "volatile",  "wchar_t",      "while",        "xor",          "xor_eq",
};

struct AnnotationKeyword {
  std::string_view word;
  IoKind kind;
};

constexpr AnnotationKeyword kAnnotations[] = {
    {"SM_OUTPUT", IoKind::kOutput},   {"SM_INPUT", IoKind::kInput},
    {"SM_REQUEST", IoKind::kRequest}, {"SM_HANDLER", IoKind::kHandler},
    {"SM_ENTRY", IoKind::kEntry},
};

constexpr IoKind kAllKinds[] = {IoKind::kInput, IoKind::kOutput, IoKind::kRequest,
                                IoKind::kHandler, IoKind::kEntry};

bool IsAsciiLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r'; }

// Token boundaries follow what compilers accept in identifiers ('$' and
// UTF-8), so that e.g. "xSM_OUTPUT" or "\u00e9SM_OUTPUT" is not mistaken for
// an annotation; names themselves must still pass IsCIdentifier.
bool IsIdentStart(char c) {
  return IsAsciiLetter(c) || c == '_' || c == '$' || static_cast<unsigned char>(c) >= 0x80;
}
bool IsIdentChar(char c) { return IsIdentStart(c) || IsDigit(c); }

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// Renders untrusted text for an error message: printable ASCII as is, other
// bytes as \xNN, truncated to a readable length.
std::string Printable(std::string_view s) {
  constexpr size_t kMaxShown = 64;
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < s.size() && i < kMaxShown; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  if (s.size() > kMaxShown) out += "...";
  return out;
}

// Translation phase 2: removes every backslash-newline so that line
// continuations inside directives, comments and literals need no special
// case, while remembering where each physical line starts for messages.
class SplicedText {
 public:
  // REQUIRES: raw.size() <= kMaxSourceBytes (offsets fit in 32 bits).
  explicit SplicedText(std::string_view raw) {
    text_.reserve(raw.size());
    size_t i = 0;
    while (i < raw.size()) {
      size_t splice = SpliceLength(raw, i);
      if (splice != 0) {
        i += splice;
        line_starts_.push_back(static_cast<uint32_t>(text_.size()));
        continue;
      }
      text_ += raw[i];
      if (raw[i] == '\n') line_starts_.push_back(static_cast<uint32_t>(text_.size()));
      ++i;
    }
  }

  const std::string& text() const { return text_; }

  // 1-based physical line of the character at spliced offset `pos`.
  size_t LineAt(size_t pos) const {
    auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), pos);
    return 1 + static_cast<size_t>(it - line_starts_.begin());
  }

 private:
  // Length of a backslash-newline ("\\\n" or "\\\r\n") at raw[i], else 0.
  static size_t SpliceLength(std::string_view raw, size_t i) {
    if (raw[i] != '\\') return 0;
    if (i + 1 < raw.size() && raw[i + 1] == '\n') return 2;
    if (i + 2 < raw.size() && raw[i + 1] == '\r' && raw[i + 2] == '\n') return 3;
    return 0;
  }

  std::string text_;
  // Spliced offsets at which physical lines 2, 3, ... begin (sorted).
  std::vector<uint32_t> line_starts_;
};

struct Location {
  std::string_view path;
  size_t line;
};

// Accumulates annotations in order and enforces the manifest-wide rules
// (no duplicates, at most kMaxPerKind per kind) as they arrive, so the first
// offending annotation in source order is the one reported.
class ManifestBuilder {
 public:
  explicit ManifestBuilder(std::string_view module_name) { manifest_.name = module_name; }

  // REQUIRES: CheckIoName(name) is empty.
  Status Add(IoKind kind, std::string name, Location loc,
             EntryForm form = EntryForm::kHandler) {
    auto [it, inserted] = seen_.try_emplace(name, loc);
    if (!inserted) {
      return InvalidArgument(Where(loc) + "duplicate name '" + name + "' (first declared as " +
                             DeclaredKind(name) + " at " + std::string(it->second.path) + ":" +
                             std::to_string(it->second.line) + ")");
    }
    std::vector<std::string>& list = manifest_.List(kind);
    if (list.size() >= ModuleManifest::kMaxPerKind) {
      return InvalidArgument(Where(loc) + "more than " +
                             std::to_string(ModuleManifest::kMaxPerKind) + " annotations of kind " +
                             IoKindName(kind));
    }
    if (form != EntryForm::kHandler) manifest_.entry_forms[name] = form;
    list.push_back(std::move(name));
    return Status::Ok();
  }

  ModuleManifest Take() { return std::move(manifest_); }

 private:
  static std::string Where(Location loc) {
    return std::string(loc.path) + ":" + std::to_string(loc.line) + ": ";
  }

  // Kind of an already declared name, for duplicate messages. Linear, but
  // only ever used on the error path.
  std::string DeclaredKind(const std::string& name) const {
    for (IoKind kind : kAllKinds) {
      const auto& list = manifest_.List(kind);
      if (std::find(list.begin(), list.end(), name) != list.end()) return IoKindName(kind);
    }
    return "?";
  }

  ModuleManifest manifest_;
  std::unordered_map<std::string, Location> seen_;
};

// Lexer over one spliced file. It never indexes text_ without checking
// against its size; Peek returns '\0' past the end, which matches none of the
// characters the scanner looks ahead for.
class Scanner {
 public:
  Scanner(std::string_view path, const SplicedText& source, ManifestBuilder* builder)
      : path_(path), source_(source), text_(source.text()), builder_(builder) {}

  Status Scan() {
    while (pos_ < text_.size()) {
      AEX_RETURN_IF_ERROR(Step());
    }
    return Status::Ok();
  }

 private:
  // Consumes one token, comment, blank or directive.
  Status Step() {
    char c = text_[pos_];
    if (c == '\n') {
      ++pos_;
      at_line_start_ = true;
      return Status::Ok();
    }
    if (IsSpace(c)) {
      ++pos_;
      return Status::Ok();
    }
    // Comments are whitespace: a '#' after "/* */" still starts a directive.
    if (c == '/' && Peek(1) == '/') return SkipLineComment();
    if (c == '/' && Peek(1) == '*') return SkipBlockComment();

    bool directive = at_line_start_ && c == '#';
    at_line_start_ = false;
    if (directive) return SkipDirective();
    if (c == '"' || c == '\'') return SkipQuoted(/*lenient=*/false);
    if (IsDigit(c) || (c == '.' && IsDigit(Peek(1)))) return SkipNumber();
    if (IsIdentStart(c)) return ScanWord();
    ++pos_;
    return Status::Ok();
  }

  char Peek(size_t ahead = 0) const {
    return ahead < text_.size() - std::min(pos_, text_.size()) ? text_[pos_ + ahead] : '\0';
  }

  Status Error(size_t at, std::string_view what) const {
    return InvalidArgument(std::string(path_) + ":" + std::to_string(source_.LineAt(at)) + ": " +
                           std::string(what));
  }

  // REQUIRES: text_ at pos_ is "//". Stops before the newline.
  Status SkipLineComment() {
    size_t end = text_.find('\n', pos_);
    pos_ = end == std::string::npos ? text_.size() : end;
    return Status::Ok();
  }

  // REQUIRES: text_ at pos_ is "/*".
  Status SkipBlockComment() {
    size_t end = text_.find("*/", pos_ + 2);
    if (end == std::string::npos) return Error(pos_, "unterminated /* comment");
    pos_ = end + 2;
    return Status::Ok();
  }

  // REQUIRES: text_[pos_] is '"' or '\''. A lenient literal (inside a
  // directive, e.g. "#error don't") ends quietly at the end of the line.
  Status SkipQuoted(bool lenient) {
    const size_t start = pos_;
    const char quote = text_[pos_++];
    while (pos_ < text_.size() && text_[pos_] != '\n') {
      char c = text_[pos_];
      if (c == quote) {
        ++pos_;
        return Status::Ok();
      }
      // An escape consumes the next character, whatever it is.
      pos_ += (c == '\\' && pos_ + 1 < text_.size() && text_[pos_ + 1] != '\n') ? 2 : 1;
    }
    if (lenient) return Status::Ok();
    return Error(start, quote == '"' ? "unterminated string literal"
                                     : "unterminated character literal");
  }

  // Skips the comment or literal that starts at pos_ (REQUIRES: pos_ is in
  // the text), if one does; *skipped tells.
  Status SkipCommentOrLiteral(bool lenient, bool* skipped) {
    const char c = text_[pos_];
    *skipped = true;
    if (c == '/' && Peek(1) == '/') return SkipLineComment();
    if (c == '/' && Peek(1) == '*') return SkipBlockComment();
    if (c == '"' || c == '\'') return SkipQuoted(lenient);
    *skipped = false;
    return Status::Ok();
  }

  // REQUIRES: text_[pos_] is '#' at the start of a line. Skips to the end of
  // the logical line; comments inside may span physical lines.
  Status SkipDirective() {
    ++pos_;
    while (pos_ < text_.size() && text_[pos_] != '\n') {
      bool skipped = false;
      AEX_RETURN_IF_ERROR(SkipCommentOrLiteral(/*lenient=*/true, &skipped));
      if (!skipped) ++pos_;
    }
    return Status::Ok();
  }

  // A preprocessing number, including exponents with signs and C++14/C23
  // digit separators (1'000), whose quote must not open a char literal.
  Status SkipNumber() {
    ++pos_;
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      char prev = text_[pos_ - 1];
      if (IsIdentChar(c) || c == '.') {
        ++pos_;
      } else if ((c == '+' || c == '-') &&
                 (prev == 'e' || prev == 'E' || prev == 'p' || prev == 'P')) {
        ++pos_;
      } else if (c == '\'' && IsIdentChar(Peek(1))) {
        pos_ += 2;
      } else {
        break;
      }
    }
    return Status::Ok();
  }

  // REQUIRES: text_[pos_] is the '"' of a raw string literal R"delim(...)delim".
  Status SkipRawString(size_t start) {
    constexpr size_t kMaxDelimiter = 16;
    size_t open = pos_ + 1;
    size_t i = open;
    while (i < text_.size() && i - open <= kMaxDelimiter && text_[i] != '(') {
      char c = text_[i];
      if (c == ' ' || c == ')' || c == '\\' || c == '\n' || c == '\t' || c == '\v' ||
          c == '\f' || c == '\r') {
        break;
      }
      ++i;
    }
    if (i >= text_.size() || text_[i] != '(' || i - open > kMaxDelimiter) {
      return Error(start, "invalid raw string literal delimiter");
    }
    // Built by appending: GCC 12 at -O3 misreports operator+ here (-Wrestrict).
    std::string terminator(1, ')');
    terminator.append(text_, open, i - open);
    terminator.push_back('"');
    size_t end = text_.find(terminator, i + 1);
    if (end == std::string::npos) return Error(start, "unterminated raw string literal");
    pos_ = end + terminator.size();
    return Status::Ok();
  }

  static bool IsRawStringPrefix(std::string_view w) {
    return w == "R" || w == "LR" || w == "uR" || w == "UR" || w == "u8R";
  }

  static std::optional<IoKind> AnnotationKind(std::string_view w) {
    for (const AnnotationKeyword& a : kAnnotations) {
      if (a.word == w) return a.kind;
    }
    return std::nullopt;
  }

  // Identifier-like token: an annotation, a raw string prefix or anything
  // else (skipped).
  Status ScanWord() {
    const size_t start = pos_;
    while (pos_ < text_.size() && IsIdentChar(text_[pos_])) ++pos_;
    std::string_view word = std::string_view(text_).substr(start, pos_ - start);
    if (Peek() == '"' && IsRawStringPrefix(word)) return SkipRawString(start);
    std::optional<IoKind> kind = AnnotationKind(word);
    if (!kind) return Status::Ok();
    return ParseAnnotation(*kind, word, start);
  }

  // Skips blanks, newlines and comments between the tokens of an annotation.
  Status SkipBlanks() {
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      if (c == '\n') {
        at_line_start_ = true;
        ++pos_;
      } else if (IsSpace(c)) {
        ++pos_;
      } else if (c == '/' && Peek(1) == '/') {
        AEX_RETURN_IF_ERROR(SkipLineComment());
      } else if (c == '/' && Peek(1) == '*') {
        AEX_RETURN_IF_ERROR(SkipBlockComment());
      } else {
        break;
      }
    }
    return Status::Ok();
  }

  // Reads a name at pos_ (after blanks) that must be followed by ',' or ')'.
  Result<std::string> ReadName(const std::string& kw, size_t start) {
    AEX_RETURN_IF_ERROR(SkipBlanks());
    const size_t name_start = pos_;
    while (pos_ < text_.size() && IsIdentChar(text_[pos_])) ++pos_;
    if (pos_ == name_start) return Error(start, "expected a name after '" + kw + "('");
    std::string name = text_.substr(name_start, pos_ - name_start);
    std::string reason = CheckIoName(name);
    if (!reason.empty()) {
      return Error(start, kw + ": '" + Printable(name) + "' " + reason);
    }
    AEX_RETURN_IF_ERROR(SkipBlanks());
    if (Peek() != ',' && Peek() != ')') {
      return Error(start, "expected ',' or ')' after '" + kw + "(" + name + "'");
    }
    return name;
  }

  // Skips the rest of an argument list up to and including its ')', with
  // nested parentheses, comments and literals. Returns the start of each
  // argument after the first (just past its ','), at most kMaxArgs of them.
  static constexpr size_t kMaxArgs = 8;
  Result<std::vector<size_t>> SkipArguments(const std::string& kw, size_t start) {
    std::vector<size_t> more;
    size_t depth = 0;
    while (pos_ < text_.size()) {
      bool skipped = false;
      AEX_RETURN_IF_ERROR(SkipCommentOrLiteral(/*lenient=*/false, &skipped));
      if (skipped) continue;
      const char c = text_[pos_++];
      if (c == '(') {
        ++depth;
      } else if (c == ')' && depth == 0) {
        return more;
      } else if (c == ')') {
        --depth;
      } else if (c == ',' && depth == 0) {
        if (more.size() == kMaxArgs) return Error(start, "too many arguments to " + kw);
        more.push_back(pos_);
      }
    }
    return Error(start, "unterminated argument list of " + kw);
  }

  // Parses "( name" followed by ',' or ')' after the keyword at `start`, and
  // tells the original framework's forms from aex's by their number of
  // arguments: Sancus's SM_OUTPUT(module, name), SM_INPUT(module, name,
  // data, len) and SM_ENTRY(module) followed by the function, and the
  // TrustZone SM_ENTRY(name, data, len). Other arguments are not interpreted.
  Status ParseAnnotation(IoKind kind, std::string_view keyword, size_t start) {
    const std::string kw(keyword);
    AEX_RETURN_IF_ERROR(SkipBlanks());
    if (Peek() != '(') return Error(start, "expected '(' after " + kw);
    ++pos_;
    AEX_ASSIGN_OR_RETURN(std::string name, ReadName(kw, start));
    AEX_ASSIGN_OR_RETURN(std::vector<size_t> more, SkipArguments(kw, start));
    const size_t args = 1 + more.size();
    const size_t end = pos_;
    EntryForm form = EntryForm::kHandler;
    if ((kind == IoKind::kOutput && args == 2) || (kind == IoKind::kInput && args == 4)) {
      pos_ = more[0];  // Sancus: the first argument names the module
      AEX_ASSIGN_OR_RETURN(name, ReadName(kw, start));
      pos_ = end;
    } else if (kind == IoKind::kEntry && args == 3) {
      form = EntryForm::kData;
    } else if (kind == IoKind::kEntry && args == 1) {
      AEX_ASSIGN_OR_RETURN(name, ReadSancusEntry(start, &form));
    }
    at_line_start_ = false;
    return builder_->Add(kind, std::move(name), Location{path_, source_.LineAt(start)}, form);
  }

  // After Sancus's SM_ENTRY(module): the declaration it qualifies, as in
  // `void name(uint8_t* data, size_t len)` or `name(void)`. Returns the
  // function's name (the last identifier before '(') and its form.
  Result<std::string> ReadSancusEntry(size_t start, EntryForm* form) {
    constexpr size_t kMaxTokens = 16;
    std::string_view name;
    for (size_t tokens = 0;; ++tokens) {
      AEX_RETURN_IF_ERROR(SkipBlanks());
      if (Peek() == '(') break;
      if (tokens == kMaxTokens || (!IsIdentStart(Peek()) && Peek() != '*')) {
        return Error(start, "SM_ENTRY(module): expected a function declaration after it");
      }
      if (Peek() == '*') {
        ++pos_;
        continue;
      }
      const size_t word = pos_;
      while (pos_ < text_.size() && IsIdentChar(text_[pos_])) ++pos_;
      name = std::string_view(text_).substr(word, pos_ - word);
    }
    if (name.empty()) return Error(start, "SM_ENTRY(module): expected the function's name");
    std::string reason = CheckIoName(name);
    if (!reason.empty()) return Error(start, "SM_ENTRY: '" + Printable(name) + "' " + reason);
    ++pos_;  // '('
    AEX_RETURN_IF_ERROR(SkipBlanks());
    *form = EntryForm::kData;
    if (Peek() == ')') {
      *form = EntryForm::kNoArgs;
    } else if (std::string_view(text_).substr(pos_, 4) == "void" && !IsIdentChar(Peek(4))) {
      pos_ += 4;
      AEX_RETURN_IF_ERROR(SkipBlanks());
      if (Peek() == ')') *form = EntryForm::kNoArgs;
    }
    return std::string(name);
  }

  const std::string_view path_;
  const SplicedText& source_;
  const std::string& text_;
  ManifestBuilder* const builder_;
  size_t pos_ = 0;
  bool at_line_start_ = true;
};

}  // namespace

bool IsCIdentifier(std::string_view s) {
  if (s.empty() || s.size() > kMaxNameLength) return false;
  if (!IsAsciiLetter(s[0]) && s[0] != '_') return false;
  for (char c : s) {
    if (!IsAsciiLetter(c) && !IsDigit(c) && c != '_') return false;
  }
  return std::find(std::begin(kKeywords), std::end(kKeywords), s) == std::end(kKeywords);
}

bool IsReservedName(std::string_view s) {
  if (StartsWith(s, "aex_") || StartsWith(s, "AEX_") || StartsWith(s, "__")) return true;
  if (s.size() >= 2 && s[0] == '_' && s[1] >= 'A' && s[1] <= 'Z') return true;
  if (s == "main") return true;
  for (const AnnotationKeyword& a : kAnnotations) {
    if (a.word == s) return true;
  }
  return false;
}

std::string CheckIoName(std::string_view s) {
  if (s.size() > kMaxNameLength) {
    return "is longer than " + std::to_string(kMaxNameLength) + " characters";
  }
  if (!IsCIdentifier(s)) {
    bool keyword = std::find(std::begin(kKeywords), std::end(kKeywords), s) != std::end(kKeywords);
    return keyword ? "is a C or C++ keyword" : "is not a C identifier";
  }
  if (IsReservedName(s)) {
    return "is reserved (names starting with aex_, AEX_, __ or _X, main and the SM_* macros)";
  }
  return "";
}

bool IsValidModuleName(std::string_view s) {
  if (s.empty() || s.size() > kMaxModuleNameLength) return false;
  if (s[0] == '.' || s[0] == '-') return false;
  for (char c : s) {
    if (!IsAsciiLetter(c) && !IsDigit(c) && c != '_' && c != '.' && c != '-') return false;
  }
  return true;
}

Status ValidateManifest(const ModuleManifest& manifest) {
  if (!IsValidModuleName(manifest.name)) {
    return InvalidArgument("invalid module name '" + Printable(manifest.name) +
                           "' (1 to " + std::to_string(kMaxModuleNameLength) +
                           " characters from [A-Za-z0-9_.-], not starting with '.' or '-')");
  }
  std::unordered_map<std::string_view, IoKind> seen;
  for (IoKind kind : kAllKinds) {
    const std::vector<std::string>& list = manifest.List(kind);
    if (list.size() > ModuleManifest::kMaxPerKind) {
      return InvalidArgument("more than " + std::to_string(ModuleManifest::kMaxPerKind) + " " +
                             IoKindName(kind) + " names");
    }
    for (const std::string& name : list) {
      std::string reason = CheckIoName(name);
      if (!reason.empty()) {
        return InvalidArgument(std::string(IoKindName(kind)) + " name '" + Printable(name) +
                               "' " + reason);
      }
      auto [it, inserted] = seen.emplace(name, kind);
      if (!inserted) {
        return InvalidArgument("duplicate name '" + name + "' (" + IoKindName(it->second) +
                               " and " + IoKindName(kind) + ")");
      }
    }
  }
  return Status::Ok();
}

Result<ModuleManifest> ParseAnnotations(std::string_view module_name,
                                        const std::vector<SourceFile>& files) {
  if (!IsValidModuleName(module_name)) {
    return InvalidArgument("invalid module name '" + Printable(module_name) + "' (1 to " +
                           std::to_string(kMaxModuleNameLength) +
                           " characters from [A-Za-z0-9_.-], not starting with '.' or '-')");
  }
  if (files.size() > kMaxSourceFiles) {
    return InvalidArgument("too many source files (" + std::to_string(files.size()) +
                           "; at most " + std::to_string(kMaxSourceFiles) + ")");
  }
  ManifestBuilder builder(module_name);
  for (const SourceFile& file : files) {
    if (file.text.size() > kMaxSourceBytes) {
      return InvalidArgument(file.path + ": file too large (" + std::to_string(file.text.size()) +
                             " bytes; at most " + std::to_string(kMaxSourceBytes) + ")");
    }
    SplicedText spliced(file.text);
    Scanner scanner(file.path, spliced, &builder);
    AEX_RETURN_IF_ERROR(scanner.Scan());
  }
  return builder.Take();
}

}  // namespace aex::gen
