// `aex attest --evidence-out` (contract in attest_evidence.h).

#include "attest_evidence.h"

#include <iostream>
#include <nlohmann/json.hpp>

#include "attest/dcap/x509.h"
#include "deployer/attestation.h"
#include "platform/key_files.h"
#include "util/files.h"
#include "verify_quote.h"

namespace aex::tools {
namespace {

using nlohmann::json;

std::string_view Text(ByteSpan b) {
  return std::string_view(reinterpret_cast<const char*>(b.data()), b.size());
}

// Writes an sgx evidence's quote, collateral and root key next to `out` and
// adds what the DCAP verifier says of them to *doc.
Status SaveSgx(const deploy::Descriptor& d, const deploy::Module& m, ByteSpan evidence,
               const std::string& out, json* doc) {
  AEX_ASSIGN_OR_RETURN(attest::SgxEvidence e, attest::ParseSgxEvidence(evidence));
  const deploy::Node& node = *d.FindNode(m.node);
  std::string collateral(e.collateral_json);
  if (node.collateral) {
    AEX_ASSIGN_OR_RETURN(std::filesystem::path file, deploy::CollateralFile(*node.collateral));
    AEX_ASSIGN_OR_RETURN(Bytes text, tee::ReadFileBounded(file.string(), 1 << 20));
    collateral.assign(text.begin(), text.end());
  }
  AEX_RETURN_IF_ERROR(WriteFileAtomically(out, Text(e.quote), 0644));
  AEX_RETURN_IF_ERROR(WriteFileAtomically(out + ".collateral.json", collateral, 0644));
  (*doc)["evidence"] = out;
  (*doc)["format"] = "sgx-dcap-quote-v3";
  (*doc)["collateral"] = out + ".collateral.json";
  if (!node.root_ca) return Status::Ok();
  AEX_ASSIGN_OR_RETURN(Bytes root_pem, tee::ReadFileBounded(node.root_ca->string(), 64 * 1024));
  AEX_ASSIGN_OR_RETURN(auto roots, dcap::ParsePemChain(Text(root_pem)));
  if (roots.size() != 1) return InvalidArgument(node.root_ca->string() + ": not one certificate");
  EVP_PKEY* root = X509_get0_pubkey(roots.front().get());
  AEX_RETURN_IF_ERROR(WriteFileAtomically(out + ".root.pem", dcap::PublicKeyPem(root), 0644));
  (*doc)["root_pubkey"] = out + ".root.pem";
  AEX_ASSIGN_OR_RETURN(dcap::Collateral c, dcap::ParseCollateral(collateral));
  const time_t now = time(nullptr);
  AEX_ASSIGN_OR_RETURN(dcap::Verdict v, dcap::VerifyQuote(e.quote, &c, {root, now}));
  doc->update(VerdictJson(v, now));
  return Status::Ok();
}

}  // namespace

int RunAttestEvidence(deploy::Deployer& d, const std::string& module, const std::string& out,
                      bool json_out) {
  const deploy::Module* m = d.descriptor().FindModule(module);
  if (m == nullptr) {
    std::cerr << "aex: error: --evidence-out needs --module naming a module\n";
    return 2;
  }
  Bytes evidence;
  Status attested = d.AttestForEvidence(module, &evidence);
  json doc = {{"module", module}, {"backend", deploy::BackendName(m->type)}};
  Status saved = Status::Ok();
  if (!evidence.empty()) {
    saved = m->type == deploy::Backend::kSgx ? SaveSgx(d.descriptor(), *m, evidence, out, &doc)
                                             : WriteFileAtomically(out, Text(evidence), 0644);
    if (m->type != deploy::Backend::kSgx && saved.ok()) {
      doc["evidence"] = out;
      doc["format"] = "aex-evidence";
    }
  }
  const Status& s = attested.ok() ? saved : attested;
  doc["ok"] = s.ok();
  doc["valid"] = s.ok();
  if (!s.ok()) doc["error"] = s.message();
  if (json_out) {
    std::cout << doc.dump(2) << "\n";
  } else if (s.ok()) {
    std::cout << "attested '" << module << "' (" << doc["backend"].get<std::string>() << ")";
    if (doc.contains("tcb_status")) {
      std::cout << ": TCB status " << doc["tcb_status"].get<std::string>() << ", MRENCLAVE "
                << doc["mrenclave"].get<std::string>();
    }
    std::cout << "\nevidence saved to " << out << "\n";
  } else {
    std::cerr << "aex: error: " << s.message() << "\n";
    if (doc.contains("evidence")) std::cerr << "aex: the evidence is saved to " << out << "\n";
  }
  return s.ok() ? 0 : 1;
}

}  // namespace aex::tools
