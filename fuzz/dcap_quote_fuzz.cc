// libFuzzer target for the SGX DCAP quote v3 parser (src/attest/dcap/quote.h)
// and the PCK certificate chain and SGX extension parsers it feeds, all of
// which take bytes from whoever produced the quote.
//
// Invariants besides "no crash, no out-of-bounds access, no UB" (ASan/UBSan):
// every accepted quote re-encodes to exactly its bytes (one encoding per
// quote), its lengths stay within their bounds, and the signed part is the
// first 432 bytes of the input. The certification data of an accepted quote
// is then parsed as a PEM chain, and each certificate's SGX extension, if
// any, must re-encode to a value that parses back to the same fields. Every
// input finally goes through the verifier without collateral (PCK chain to
// Intel's pinned root, QE report, quote signature): whatever it accepts has
// the TCB status "unknown" and the report body of the parsed quote.

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "attest/dcap/pck_extension.h"
#include "attest/dcap/quote.h"
#include "attest/dcap/verifier.h"
#include "attest/dcap/x509.h"

namespace {

namespace dcap = aex::dcap;

void Check(bool condition) {
  if (!condition) __builtin_trap();
}

void CheckExtension(X509* cert) {
  auto ext = dcap::SgxExtensionOf(cert);
  if (!ext.ok()) return;
  Check(ext->sgx_type >= 0 && ext->sgx_type <= 2);
  auto der = dcap::EncodeSgxExtension(*ext);
  Check(der.ok());
  auto again = dcap::ParseSgxExtension(*der);
  Check(again.ok());
  Check(again->ppid == ext->ppid && again->tcb_components == ext->tcb_components &&
        again->pce_svn == ext->pce_svn && again->cpu_svn == ext->cpu_svn &&
        again->pce_id == ext->pce_id && again->fmspc == ext->fmspc &&
        again->sgx_type == ext->sgx_type);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  aex::ByteSpan in(data, size);
  auto q = dcap::ParseQuote(in);
  if (!q.ok()) return 0;
  aex::Bytes again = dcap::EncodeQuote(*q);
  Check(again.size() == size && std::memcmp(again.data(), data, size) == 0);
  Check(q->cert_data.size() <= dcap::kMaxCertDataSize);
  aex::Bytes signed_part = dcap::SignedPart(*q);
  Check(signed_part.size() == dcap::kSignedQuoteSize &&
        std::memcmp(signed_part.data(), data, signed_part.size()) == 0);
  auto chain = dcap::ParsePemChain(std::string_view(
      reinterpret_cast<const char*>(q->cert_data.data()), q->cert_data.size()));
  if (chain.ok()) {
    for (const auto& cert : *chain) CheckExtension(cert.get());
  }
  static const dcap::EvpPkeyPtr intel = dcap::IntelSgxRootKey();
  constexpr time_t kAt = 1750377600;  // 2025-06-20T00:00:00Z
  auto v = dcap::VerifyQuote(in, nullptr, {intel.get(), kAt});
  if (v.ok()) {
    Check(v->tcb_status == dcap::TcbStatus::kUnknown && !v->collateral_checked);
    Check(v->report.mr_enclave == q->report.mr_enclave);
  }
  return 0;
}
