// Runs a command line as a user would type it and collects what it prints:
// the one popen helper of the tests of the command-line binaries.
//
//   CommandRun r = RunCommand("'" AEX_BIN "' verify-quote q.bin 2>/dev/null");
//   EXPECT_EQ(r.exit_code, 0) << r.output;
//
// REQUIRES: `command` is a /bin/sh command line; what it prints on stderr is
// collected only if it says so (2>&1).

#ifndef AEX_TESTS_COMMAND_RUN_H_
#define AEX_TESTS_COMMAND_RUN_H_

#include <stdio.h>
#include <sys/wait.h>

#include <string>

namespace aex::testutil {

struct CommandRun {
  int exit_code = -1;  // -1: not started, or ended by a signal
  std::string output;  // stdout
};

inline CommandRun RunCommand(const std::string& command) {
  CommandRun r;
  FILE* p = popen(command.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

}  // namespace aex::testutil

#endif  // AEX_TESTS_COMMAND_RUN_H_
