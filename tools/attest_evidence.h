// `aex attest D --module M --evidence-out FILE`: attests one module of a
// running deployment again (a fresh challenge, by the deployer itself) and
// saves the evidence it answered with, for offline inspection.
//
// sgx: FILE is the raw DCAP quote v3, as `aex verify-quote` reads it;
// FILE.collateral.json the collateral the deployer verified it against (the
// node's `collateral`, else the one in the evidence) and FILE.root.pem the
// public key of the node's `root_ca`, so that
//   aex verify-quote FILE --collateral FILE.collateral.json --root-pubkey FILE.root.pem
// verifies it again. Other backends: FILE is the evidence exactly as the
// module sent it (platform.h: the session header, then the MAC), which only
// the holder of the node's or vendor's key can check.
//
// Prints the result (text, or JSON with json_out: module, backend, valid,
// evidence and, for sgx, VerdictJson's fields); the evidence is saved also
// when it does not verify. Exit code 0 valid, 1 refused or failed.

#ifndef AEX_TOOLS_ATTEST_EVIDENCE_H_
#define AEX_TOOLS_ATTEST_EVIDENCE_H_

#include <string>

#include "deployer/deployer.h"

namespace aex::tools {

int RunAttestEvidence(deploy::Deployer& d, const std::string& module, const std::string& out,
                      bool json_out);

}  // namespace aex::tools

#endif  // AEX_TOOLS_ATTEST_EVIDENCE_H_
