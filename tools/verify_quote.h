// `aex verify-quote`: offline verification of an Intel SGX DCAP quote (v3)
// with src/attest/dcap/, for users of real SGX hardware.
//
//   aex verify-quote QUOTE [--collateral FILE_OR_DIR] [--at RFC3339] [--json]
//                    [--root-pubkey PEM] [--accept STATUS]... [--min-isv-svn N]
//                    [--isv-prod-id N] [--mrsigner HEX] [--mrenclave HEX] [--allow-debug]
//
// Exit codes: 0 the quote verifies and the enclave passes the policy; 1 it does
// not (the reason is printed); 2 bad usage or unreadable input. Without
// collateral the quote, the QE report and the PCK chain (to the pinned root)
// are verified and the TCB status is "unknown", which is then accepted.
// Runs on the main thread of `aex`.

#ifndef AEX_TOOLS_VERIFY_QUOTE_H_
#define AEX_TOOLS_VERIFY_QUOTE_H_

#include <CLI/CLI.hpp>
#include <ctime>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "attest/dcap/verifier.h"

namespace aex::tools {

struct VerifyQuoteArgs {
  std::string quote_file;
  std::string collateral;   // a collateral JSON file, or a folder holding exactly one *.json
  std::string at;           // RFC 3339; default now
  std::string root_pubkey;  // PEM file; default Intel SGX Root CA's key
  std::vector<std::string> accept;  // TCB status names; default UpToDate
  unsigned min_isv_svn = 0;
  int isv_prod_id = -1;  // -1: any
  std::string mrsigner, mrenclave;  // hex; empty: any
  bool allow_debug = false;
};

// Registers the subcommand on `app`; its options fill *args.
CLI::App* AddVerifyQuoteCommand(CLI::App& app, VerifyQuoteArgs* args);
// The JSON fields of a verdict verified at `at` (tcb_status, mrenclave, ...).
nlohmann::json VerdictJson(const dcap::Verdict& v, time_t at);

// Runs it; prints a JSON document on stdout with json_out, else text on stderr.
int RunVerifyQuote(const VerifyQuoteArgs& args, bool json_out);

}  // namespace aex::tools

#endif  // AEX_TOOLS_VERIFY_QUOTE_H_
