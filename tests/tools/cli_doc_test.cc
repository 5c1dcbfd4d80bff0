// ManPage and CompletionScript over a small CLI11 definition: what they
// take from it (commands, options, IsMember choices), what they leave out
// (hidden options, a subcommand's own -h) and roff escaping.
#include "cli_doc.h"

#include <gtest/gtest.h>

namespace aex::cli {
namespace {

struct Fixture {
  CLI::App app{"tool: does things"};
  std::string descriptor, action, hidden;
  bool flag = false;
  Fixture() {
    app.name("tool");
    app.add_flag("--loud", flag, "say more -- and .more");
    app.add_option("--secret", hidden, "not shown")->group("");
    auto* run = app.add_subcommand("run", "run a descriptor");
    run->add_option("descriptor", descriptor, "the descriptor")->required();
    run->add_flag("--dry", flag, "change nothing");
    auto* nodes = app.add_subcommand("nodes", "node control");
    nodes->add_option("action", action, "what")->check(CLI::IsMember({"start", "stop"}));
  }
};

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(ManPage, NamesCommandsAndOptionsAndEscapesRoff) {
  Fixture f;
  std::string page = ManPage(f.app, "other(1)");
  EXPECT_NE(page.find(".TH TOOL 1"), std::string::npos) << page;
  EXPECT_NE(page.find(".SH NAME\ntool \\- does things\n"), std::string::npos) << page;
  EXPECT_NE(page.find("\\fB\\-\\-loud\\fR"), std::string::npos) << page;
  EXPECT_NE(page.find("say more \\-\\- and .more"), std::string::npos) << page;
  EXPECT_NE(page.find(".SS \"tool run \\fIdescriptor\\fR\""), std::string::npos) << page;
  EXPECT_NE(page.find("\\fB\\-\\-dry\\fR"), std::string::npos) << page;
  EXPECT_NE(page.find(".SH SEE ALSO\nother(1)"), std::string::npos) << page;
  EXPECT_EQ(page.find("secret"), std::string::npos) << "hidden option shown";
  EXPECT_EQ(Count(page, "\\-\\-help"), 1u) << "help listed per subcommand";
  // No text line starts with a roff control character.
  size_t bad = page.find("\n'");
  EXPECT_EQ(bad, std::string::npos);
}

TEST(ManFlag, PrintsAndEndsParsingBeforeRequirements) {
  Fixture f;
  f.app.require_subcommand(1);
  AddManFlag(&f.app, "");
  testing::internal::CaptureStdout();
  EXPECT_THROW(f.app.parse(std::vector<std::string>{"--man"}), CLI::Success);
  std::string out = testing::internal::GetCapturedStdout();
  EXPECT_EQ(out, ManPage(f.app, ""));
}

TEST(Completion, BashOffersCommandsOptionsAndChoices) {
  Fixture f;
  std::string bash = CompletionScript(f.app, "bash");
  EXPECT_NE(bash.find("\"\") words='run nodes --help -h --loud'"), std::string::npos) << bash;
  EXPECT_NE(bash.find("run) words='--dry --help -h --loud'"), std::string::npos) << bash;
  EXPECT_NE(bash.find("nodes) words='start stop --help -h --loud'"), std::string::npos) << bash;
  EXPECT_NE(bash.find("complete -o filenames -F _tool tool"), std::string::npos) << bash;
  EXPECT_EQ(bash.find("secret"), std::string::npos);
}

TEST(Completion, ZshAndFish) {
  Fixture f;
  std::string zsh = CompletionScript(f.app, "zsh");
  EXPECT_EQ(zsh.rfind("#compdef tool\n", 0), 0u);
  EXPECT_NE(zsh.find("bashcompinit"), std::string::npos);
  std::string fish = CompletionScript(f.app, "fish");
  EXPECT_NE(fish.find("complete -c tool -f -n __fish_use_subcommand -a run -d 'run a descriptor'"),
            std::string::npos)
      << fish;
  EXPECT_NE(fish.find("complete -c tool -n '__fish_seen_subcommand_from nodes' -a start"),
            std::string::npos)
      << fish;
  EXPECT_EQ(CompletionScript(f.app, "tcsh"), "");
}

}  // namespace
}  // namespace aex::cli
