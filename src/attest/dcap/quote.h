// Intel SGX ECDSA quote, version 3: the parser and the encoder.
//
// Owns the byte layout of Intel's "SGX ECDSA Quote Library API", appendix
// "Quote Format". All integers are little-endian.
//
//   offset  size  field
//        0    48  header: version u16 (3), attestation key type u16 (2 = ECDSA
//                 P-256), reserved u32 (0 for SGX), QE SVN u16, PCE SVN u16,
//                 QE vendor id [16], user data [20]
//       48   384  ISV enclave report body (layout in ReportBody below)
//      432     4  signature data length u32 = the number of bytes that follow
//      436    64  ECDSA signature r||s over bytes [0, 432) by the attestation key
//      500    64  attestation public key x||y (P-256)
//      564   384  QE report body
//      948    64  ECDSA signature r||s over the QE report body by the PCK key
//     1012     2  QE authentication data length u16, then that many bytes
//              6  certification data type u16 (5 = PCK chain, PEM) and size u32,
//                 then that many bytes: the PCK, platform/processor CA and root
//                 certificates in PEM (Intel's QE appends a NUL)
//
// ParseQuote refuses a quote that is shorter or longer than its lengths say,
// an unknown version, attestation key type or certification data type. It
// checks no signature: that is verifier.h's job. Pure functions, any thread.

#ifndef AEX_ATTEST_DCAP_QUOTE_H_
#define AEX_ATTEST_DCAP_QUOTE_H_

#include <array>
#include <cstdint>
#include <string>

#include "aex/bytes.h"
#include "aex/status.h"

namespace aex::dcap {

constexpr uint16_t kQuoteVersion3 = 3;
constexpr uint16_t kAttestationKeyEcdsaP256 = 2;
constexpr uint16_t kCertDataPckChain = 5;
constexpr size_t kHeaderSize = 48;
constexpr size_t kReportBodySize = 384;
constexpr size_t kSignedQuoteSize = kHeaderSize + kReportBodySize;  // what the AK signs
constexpr size_t kEcdsaSignatureSize = 64;
constexpr size_t kEcdsaPublicKeySize = 64;
// A PCK chain is three certificates of under 2 KiB each; anything bigger is
// not a quote.
constexpr size_t kMaxCertDataSize = 16 * 1024;
// SGX ATTRIBUTES flags (first 8 bytes of ATTRIBUTES, little-endian).
constexpr uint64_t kAttributeDebug = 0x02;
// Intel's QE vendor id, 939A7233-F79C-4CA9-940A-0DB3957F0607.
extern const std::array<uint8_t, 16> kIntelQeVendorId;

using Hash256 = std::array<uint8_t, 32>;

struct QuoteHeader {
  uint16_t version = kQuoteVersion3;
  uint16_t attestation_key_type = kAttestationKeyEcdsaP256;
  uint32_t tee_type = 0;  // reserved in v3; 0 means SGX
  uint16_t qe_svn = 0;
  uint16_t pce_svn = 0;
  std::array<uint8_t, 16> qe_vendor_id{};
  std::array<uint8_t, 20> user_data{};
};

// sgx_report_body_t. Reserved fields are kept so that encoding reproduces the
// parsed bytes exactly.
struct ReportBody {
  std::array<uint8_t, 16> cpu_svn{};            //   0
  uint32_t misc_select = 0;                     //  16
  std::array<uint8_t, 12> reserved1{};          //  20
  std::array<uint8_t, 16> isv_ext_prod_id{};    //  32
  std::array<uint8_t, 16> attributes{};         //  48: flags u64 le, xfrm u64 le
  Hash256 mr_enclave{};                         //  64
  std::array<uint8_t, 32> reserved2{};          //  96
  Hash256 mr_signer{};                          // 128
  std::array<uint8_t, 32> reserved3{};          // 160
  std::array<uint8_t, 64> config_id{};          // 192
  uint16_t isv_prod_id = 0;                     // 256
  uint16_t isv_svn = 0;                         // 258
  uint16_t config_svn = 0;                      // 260
  std::array<uint8_t, 42> reserved4{};          // 262
  std::array<uint8_t, 16> isv_family_id{};      // 304
  std::array<uint8_t, 64> report_data{};        // 320

  uint64_t attribute_flags() const;
  bool debug() const { return (attribute_flags() & kAttributeDebug) != 0; }
};

struct Quote {
  QuoteHeader header;
  ReportBody report;
  std::array<uint8_t, kEcdsaSignatureSize> signature{};
  std::array<uint8_t, kEcdsaPublicKeySize> attestation_key{};
  ReportBody qe_report;
  std::array<uint8_t, kEcdsaSignatureSize> qe_report_signature{};
  Bytes qe_auth_data;
  uint16_t cert_data_type = kCertDataPckChain;
  Bytes cert_data;  // PEM text, as carried (possibly NUL-terminated)
};

// Parses a whole quote. Every refusal is kInvalidArgument with a message
// starting "quote: " that names the field.
Result<Quote> ParseQuote(ByteSpan data);

// The inverse: ParseQuote(EncodeQuote(q)) == q, and EncodeQuote(ParseQuote(b))
// == b for every accepted b. REQUIRES: qe_auth_data.size() <= 65535 and
// cert_data.size() <= kMaxCertDataSize.
Bytes EncodeQuote(const Quote& q);
void EncodeReportBody(const ReportBody& r, ByteWriter* w);
Result<ReportBody> ParseReportBody(ByteSpan data);  // REQUIRES: 384 bytes, else an error

// The bytes the attestation key signs: header || report body.
Bytes SignedPart(const Quote& q);

}  // namespace aex::dcap

#endif  // AEX_ATTEST_DCAP_QUOTE_H_
