// Man pages and shell completions generated from a CLI11 definition, so that
// what `aex --help` says, what `man aex` says and what <TAB> offers cannot
// drift apart: each walks the same CLI::App (its subcommands, options,
// positionals and their IsMember choices).
//
// Single-threaded; called once, after the App is fully defined.

#ifndef AEX_TOOLS_CLI_DOC_H_
#define AEX_TOOLS_CLI_DOC_H_

#include <CLI/CLI.hpp>
#include <string>

namespace aex::cli {

// The App as a man page (roff, man(7) macros), section 1. `see_also` is a
// comma-separated list of related pages ("aex-node(1), aex-platform(1)").
std::string ManPage(const CLI::App& app, const std::string& see_also);

// Adds the hidden `--man` flag: prints ManPage and ends parsing with
// CLI::Success (exit code 0), before required options are checked.
// REQUIRES: app outlives parsing.
void AddManFlag(CLI::App* app, const std::string& see_also);

// A completion script for `shell` ("bash", "zsh" or "fish"): subcommands,
// their options and the choices of IsMember positionals; descriptor
// arguments complete as file names. Empty if the shell is unknown.
std::string CompletionScript(const CLI::App& app, const std::string& shell);

}  // namespace aex::cli

#endif  // AEX_TOOLS_CLI_DOC_H_
