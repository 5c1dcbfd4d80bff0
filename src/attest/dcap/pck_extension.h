// The SGX extension of a PCK certificate, OID 1.2.840.113741.1.13.1 (Intel
// PCS API, "SGX PCK Certificate and CRL Profile"):
//
//   SEQUENCE OF SEQUENCE { OID, value }:
//     .1  PPID       OCTET STRING (16)
//     .2  TCB        SEQUENCE OF SEQUENCE { OID .2.1 .. .2.16: INTEGER (0..255),
//                                           .2.17 PCESVN: INTEGER (0..65535),
//                                           .2.18 CPUSVN: OCTET STRING (16) }
//     .3  PCE-ID     OCTET STRING (2)
//     .4  FMSPC      OCTET STRING (6)
//     .5  SGX type   ENUMERATED (0 standard, 1 scalable, 2 scalable with integrity)
//     .6, .7 (platform instance id, configuration: platform CA certificates
//         only) are accepted and ignored.
//
// DER is decoded with OpenSSL (d2i_ASN1_SEQUENCE_ANY); the builder is for the
// simulated provisioning hierarchy. Pure functions, any thread.

#ifndef AEX_ATTEST_DCAP_PCK_EXTENSION_H_
#define AEX_ATTEST_DCAP_PCK_EXTENSION_H_

#include <openssl/x509.h>

#include <array>
#include <cstdint>

#include "aex/bytes.h"
#include "aex/status.h"

namespace aex::dcap {

constexpr char kSgxExtensionOid[] = "1.2.840.113741.1.13.1";

struct SgxExtension {
  std::array<uint8_t, 16> ppid{};
  std::array<uint8_t, 16> tcb_components{};  // components 1..16
  uint16_t pce_svn = 0;
  std::array<uint8_t, 16> cpu_svn{};
  std::array<uint8_t, 2> pce_id{};
  std::array<uint8_t, 6> fmspc{};
  int sgx_type = 0;
};

// The extension's DER value (the contents of its OCTET STRING). Every field
// above must be present exactly once. kInvalidArgument "PCK extension: why".
Result<SgxExtension> ParseSgxExtension(ByteSpan der);
// Finds the extension in `cert` and parses it.
Result<SgxExtension> SgxExtensionOf(X509* cert);
// The DER value encoding `ext` (ParseSgxExtension inverts it).
Result<Bytes> EncodeSgxExtension(const SgxExtension& ext);

}  // namespace aex::dcap

#endif  // AEX_ATTEST_DCAP_PCK_EXTENSION_H_
