#include "cli_doc.h"

#include <algorithm>
#include <iostream>
#include <sstream>
#include <vector>

namespace aex::cli {
namespace {

// Options and subcommands in the hidden group ("") are left out of both
// the man page and the completions, as --help leaves them out.
std::vector<const CLI::Option*> VisibleOptions(const CLI::App& app) {
  return app.get_options([](const CLI::Option* o) { return !o->get_group().empty(); });
}

std::vector<const CLI::App*> VisibleCommands(const CLI::App& app) {
  return app.get_subcommands([](const CLI::App* s) { return !s->get_group().empty(); });
}

// The program's name: CLI11 takes it from argv[0], a path.
std::string ProgramName(const CLI::App& app) {
  const std::string& n = app.get_name();
  size_t slash = n.rfind('/');
  return slash == std::string::npos ? n : n.substr(slash + 1);
}

bool IsFlag(const CLI::Option& o) { return o.get_type_size() == 0; }

// "-j, --jobs" for an option; the positional's name for a positional.
std::string Spelling(const CLI::Option& o) {
  std::string out;
  for (const auto& s : o.get_snames()) out += (out.empty() ? "-" : ", -") + s;
  for (const auto& l : o.get_lnames()) out += (out.empty() ? "--" : ", --") + l;
  return out.empty() ? o.get_name(true) : out;
}

// The choices of an IsMember check, which CLI11 shows in the type name
// as "TEXT:{a,b}"; empty when there is none.
std::vector<std::string> Choices(const CLI::Option& o) {
  std::string type = o.get_type_name();
  size_t open = type.find('{'), close = type.find('}');
  std::vector<std::string> out;
  if (open == std::string::npos || close == std::string::npos || close < open) return out;
  std::stringstream list(type.substr(open + 1, close - open - 1));
  for (std::string item; std::getline(list, item, ',');) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

// Escapes text for roff: backslashes and hyphens, and a leading dot or
// quote that would start a request.
std::string Roff(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '\\') out += "\\\\";
    else if (c == '-') out += "\\-";
    else out += c;
  }
  if (!out.empty() && (out[0] == '.' || out[0] == '\'')) out = "\\&" + out;
  return out;
}

std::string Upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::toupper(c); });
  return s;
}

void ManOptions(const CLI::App& app, std::ostringstream& out) {
  for (const CLI::Option* o : VisibleOptions(app)) {
    // -h is listed once, on the program.
    if (app.get_parent() && o == app.get_help_ptr()) continue;
    out << ".TP\n\\fB" << Roff(Spelling(*o)) << "\\fR";
    if (!IsFlag(*o) && !o->get_positional()) out << " \\fI" << Roff(o->get_type_name()) << "\\fR";
    out << "\n" << Roff(o->get_description().empty() ? "(no description)" : o->get_description());
    if (!o->get_default_str().empty()) out << " (default: " << Roff(o->get_default_str()) << ")";
    if (o->get_required() && !o->get_positional()) out << " (required)";
    out << "\n";
  }
}

std::string Positionals(const CLI::App& app) {
  std::string out;
  for (const CLI::Option* o : VisibleOptions(app)) {
    if (!o->get_positional()) continue;
    out += " \\fI" + Roff(o->get_name(true)) + "\\fR";
  }
  return out;
}

}  // namespace

std::string ManPage(const CLI::App& app, const std::string& see_also) {
  std::ostringstream out;
  const std::string name = ProgramName(app);
  // Descriptions read "aex-node: the ..."; NAME already says whose.
  std::string summary = app.get_description();
  if (summary.rfind(name + ": ", 0) == 0) summary = summary.substr(name.size() + 2);
  out << ".TH " << Upper(Roff(name)) << " 1 \"\" \"aex\" \"aex manual\"\n"
      << ".SH NAME\n" << Roff(name) << " \\- " << Roff(summary) << "\n"
      << ".SH SYNOPSIS\n.B " << Roff(name) << "\n[\\fIOPTIONS\\fR]";
  const auto commands = VisibleCommands(app);
  if (!commands.empty()) out << " \\fICOMMAND\\fR [\\fIARGS\\fR]";
  out << Positionals(app) << "\n.SH OPTIONS\n";
  ManOptions(app, out);
  if (!commands.empty()) {
    out << ".SH COMMANDS\n";
    for (const CLI::App* c : commands) {
      out << ".SS \"" << Roff(name + " " + c->get_name()) << Positionals(*c) << "\"\n"
          << Roff(c->get_description()) << "\n";
      ManOptions(*c, out);
    }
  }
  out << ".SH EXIT STATUS\n0 success; 1 an operation failed; 2 bad usage or invalid input"
      << (name == "aex" ? "; 3 the state file is locked by another run" : "") << ".\n";
  if (!see_also.empty()) out << ".SH SEE ALSO\n" << Roff(see_also) << "\n";
  return out.str();
}

void AddManFlag(CLI::App* app, const std::string& see_also) {
  app->add_flag_callback(
         "--man",
         [app, see_also] {
           std::cout << ManPage(*app, see_also);
           throw CLI::Success();
         },
         "print the manual page (roff) and exit")
      ->group("");
}

namespace {

// Words offered at the top level, and per subcommand.
struct Words {
  std::string top;
  std::vector<std::pair<std::string, std::string>> per_command;  // name, words
};

std::string OptionWords(const CLI::App& app) {
  std::string out;
  for (const CLI::Option* o : VisibleOptions(app)) {
    if (app.get_parent() && o == app.get_help_ptr()) continue;  // the program's -h covers it
    for (const auto& c : Choices(*o)) out += c + " ";
    if (o->get_positional()) continue;
    for (const auto& l : o->get_lnames()) out += "--" + l + " ";
    for (const auto& s : o->get_snames()) out += "-" + s + " ";
  }
  return out;
}

Words Collect(const CLI::App& app) {
  Words w;
  for (const CLI::App* c : VisibleCommands(app)) {
    w.top += c->get_name() + " ";
    w.per_command.emplace_back(c->get_name(), OptionWords(*c) + OptionWords(app));
  }
  w.top += OptionWords(app);
  return w;
}

// Single quotes for a shell word list (the words hold no quote).
std::string Quoted(std::string s) {
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return "'" + s + "'";
}

std::string Bash(const CLI::App& app) {
  const Words w = Collect(app);
  const std::string name = ProgramName(app);
  std::string fn = "_" + name;
  std::replace(fn.begin(), fn.end(), '-', '_');
  std::ostringstream out;
  out << "# bash completion for " << name << " (generated: " << name << " completion bash)\n"
      << fn << "() {\n"
      << "  local cur=${COMP_WORDS[COMP_CWORD]} command=\"\" words i\n"
      << "  for ((i = 1; i < COMP_CWORD; i++)); do\n"
      << "    case ${COMP_WORDS[i]} in\n";
  for (const auto& [name, _] : w.per_command) out << "      " << name << ") command=" << name << "; break ;;\n";
  out << "    esac\n  done\n  case $command in\n"
      << "    \"\") words=" << Quoted(w.top) << " ;;\n";
  for (const auto& [name, words] : w.per_command) {
    out << "    " << name << ") words=" << Quoted(words) << " ;;\n";
  }
  out << "  esac\n"
      << "  COMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n"
      // Descriptors are files: offer them once a command is chosen.
      << "  if [[ -n $command && $cur != -* ]]; then COMPREPLY+=($(compgen -f -- \"$cur\")); fi\n"
      << "}\n"
      << "complete -o filenames -F " << fn << " " << name << "\n";
  return out.str();
}

// zsh runs the bash function through bashcompinit: one definition of the
// words for both shells.
std::string Zsh(const CLI::App& app) {
  const std::string name = ProgramName(app);
  return "#compdef " + name + "\n# zsh completion for " + name + " (generated: " + name +
         " completion zsh)\n" +
         "autoload -U +X bashcompinit && bashcompinit\n" + Bash(app);
}

std::string FishQuoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

void FishOptions(const CLI::App& app, const std::string& condition, std::ostringstream& out) {
  const std::string name = ProgramName(app.get_parent() ? *app.get_parent() : app);
  for (const CLI::Option* o : VisibleOptions(app)) {
    if (o->get_positional()) {
      for (const auto& c : Choices(*o)) {
        out << "complete -c " << name << " -n " << FishQuoted(condition) << " -a " << c << "\n";
      }
      continue;
    }
    out << "complete -c " << name << " -n " << FishQuoted(condition);
    for (const auto& l : o->get_lnames()) out << " -l " << l;
    for (const auto& s : o->get_snames()) out << " -s " << s;
    if (!IsFlag(*o)) out << " -r";
    out << " -d " << FishQuoted(o->get_description()) << "\n";
  }
}

std::string Fish(const CLI::App& app) {
  std::ostringstream out;
  const std::string name = ProgramName(app);
  out << "# fish completion for " << name << " (generated: " << name << " completion fish)\n";
  for (const CLI::App* c : VisibleCommands(app)) {
    out << "complete -c " << name << " -f -n __fish_use_subcommand -a " << c->get_name()
        << " -d " << FishQuoted(c->get_description()) << "\n";
    FishOptions(*c, "__fish_seen_subcommand_from " + c->get_name(), out);
  }
  FishOptions(app, "true", out);
  return out.str();
}

}  // namespace

std::string CompletionScript(const CLI::App& app, const std::string& shell) {
  if (shell == "bash") return Bash(app);
  if (shell == "zsh") return Zsh(app);
  if (shell == "fish") return Fish(app);
  return "";
}

}  // namespace aex::cli
