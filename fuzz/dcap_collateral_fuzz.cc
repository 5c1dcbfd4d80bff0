// libFuzzer target for the DCAP collateral parsers (src/attest/dcap/
// collateral.h): the collateral file, the TCB info v3 and QE identity v2
// bodies inside it, and the RFC 3339 times they carry. Collateral comes from a
// PCCS or a file, so none of it is trusted before its signature is checked,
// and the parsers run before that check.
//
// The input is read as a collateral file, as a TCB info body and as a QE
// identity body. Invariants: an accepted collateral re-encodes (EncodeCollateral)
// to a document that parses to the same fields; an accepted TCB info has
// Intel's shape (version 3, id SGX, at least one level, known statuses); an
// accepted QE identity has version 2 and at least one level.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "attest/dcap/collateral.h"

namespace {

namespace dcap = aex::dcap;

void Check(bool condition) {
  if (!condition) __builtin_trap();
}

bool KnownStatus(dcap::TcbStatus s) { return s != dcap::TcbStatus::kUnknown; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto c = dcap::ParseCollateral(text); c.ok()) {
    auto again = dcap::ParseCollateral(dcap::EncodeCollateral(*c));
    Check(again.ok());
    Check(again->pck_crl_issuer_chain == c->pck_crl_issuer_chain &&
          again->root_ca_crl == c->root_ca_crl && again->pck_crl == c->pck_crl &&
          again->tcb_info_issuer_chain == c->tcb_info_issuer_chain &&
          again->tcb_info == c->tcb_info && again->tcb_info_signature == c->tcb_info_signature &&
          again->qe_identity_issuer_chain == c->qe_identity_issuer_chain &&
          again->qe_identity == c->qe_identity &&
          again->qe_identity_signature == c->qe_identity_signature);
    Check(c->tcb_info_signature.size() == 64 && c->qe_identity_signature.size() == 64);
    // The documents inside are fuzzed too.
    (void)dcap::ParseTcbInfo(c->tcb_info);
    (void)dcap::ParseQeIdentity(c->qe_identity);
  }
  if (auto info = dcap::ParseTcbInfo(text); info.ok()) {
    Check(info->version == 3 && info->tcb_type == 0 && !info->levels.empty());
    for (const auto& level : info->levels) Check(KnownStatus(level.status));
  }
  if (auto qe = dcap::ParseQeIdentity(text); qe.ok()) {
    Check(qe->version == 2 && !qe->levels.empty());
    for (const auto& level : qe->levels) Check(KnownStatus(level.status));
  }
  if (auto t = dcap::ParseRfc3339(text); t.ok()) {
    // Every accepted time formats back to a time that parses to the same value.
    auto again = dcap::ParseRfc3339(dcap::FormatRfc3339(*t));
    Check(again.ok() && *again == *t);
  }
  return 0;
}
