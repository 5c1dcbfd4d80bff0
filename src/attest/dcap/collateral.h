// DCAP collateral: what Intel's PCS (or a PCCS) serves to verify a quote,
// and the two signed JSON documents inside it.
//
// The collateral file is one JSON object (the layout of
// tests/attest/testdata/dcap/sgx_quote_collateral.json):
//   pck_crl_issuer_chain, tcb_info_issuer_chain, qe_identity_issuer_chain: PEM
//   root_ca_crl, pck_crl: DER, hex
//   tcb_info, qe_identity: the JSON bodies exactly as signed (strings)
//   tcb_info_signature, qe_identity_signature: r||s, hex (64 bytes)
//
// TCB info version 3 and enclave identity version 2 follow Intel's PCS API.
// Parsing checks shape and types only; signatures, issuers and validity
// windows are verifier.h's. Pure functions, any thread.

#ifndef AEX_ATTEST_DCAP_COLLATERAL_H_
#define AEX_ATTEST_DCAP_COLLATERAL_H_

#include <array>
#include <cstdint>
#include <ctime>
#include <string>
#include <vector>

#include "aex/bytes.h"
#include "aex/status.h"

namespace aex::dcap {

// Intel's TCB status names, plus kUnknown for "no collateral was given".
enum class TcbStatus {
  kUpToDate,
  kSwHardeningNeeded,
  kConfigurationNeeded,
  kConfigurationAndSwHardeningNeeded,
  kOutOfDate,
  kOutOfDateConfigurationNeeded,
  kRevoked,
  kUnknown,
};
const char* TcbStatusName(TcbStatus s);  // "UpToDate", ..., "unknown"
// kInvalidArgument for a name that is none of Intel's seven.
Result<TcbStatus> ParseTcbStatus(const std::string& name);

struct Collateral {
  std::string pck_crl_issuer_chain;
  Bytes root_ca_crl;
  Bytes pck_crl;
  std::string tcb_info_issuer_chain;
  std::string tcb_info;  // signed body
  Bytes tcb_info_signature;
  std::string qe_identity_issuer_chain;
  std::string qe_identity;  // signed body
  Bytes qe_identity_signature;
};

struct TcbLevel {
  std::array<uint8_t, 16> sgx_components{};
  uint16_t pce_svn = 0;
  TcbStatus status = TcbStatus::kUnknown;
  std::string tcb_date;
  std::vector<std::string> advisory_ids;
};

struct TcbInfo {
  int version = 0;
  time_t issue_date = 0;
  time_t next_update = 0;
  std::array<uint8_t, 6> fmspc{};
  std::array<uint8_t, 2> pce_id{};
  int tcb_type = 0;
  uint32_t tcb_evaluation_data_number = 0;
  std::vector<TcbLevel> levels;  // in the document's order (newest first)
};

struct QeTcbLevel {
  uint16_t isv_svn = 0;
  TcbStatus status = TcbStatus::kUnknown;
  std::vector<std::string> advisory_ids;
};

struct QeIdentity {
  std::string id;  // "QE" for quote v3
  int version = 0;
  time_t issue_date = 0;
  time_t next_update = 0;
  uint32_t tcb_evaluation_data_number = 0;
  uint32_t miscselect = 0;
  uint32_t miscselect_mask = 0;
  std::array<uint8_t, 16> attributes{};
  std::array<uint8_t, 16> attributes_mask{};
  std::array<uint8_t, 32> mrsigner{};
  uint16_t isv_prod_id = 0;
  std::vector<QeTcbLevel> levels;
};

// The collateral file. kInvalidArgument "collateral: <field>: why".
Result<Collateral> ParseCollateral(std::string_view json_text);
// The inverse, for tools and the simulated hierarchy.
std::string EncodeCollateral(const Collateral& c);
// TCB info v3 (id "SGX") and enclave identity v2 bodies.
Result<TcbInfo> ParseTcbInfo(std::string_view json_text);
Result<QeIdentity> ParseQeIdentity(std::string_view json_text);

// "2025-06-20T00:00:00Z" (UTC, 'Z' only, optional fraction ignored) to
// seconds since the epoch. kInvalidArgument otherwise.
Result<time_t> ParseRfc3339(std::string_view text);
std::string FormatRfc3339(time_t t);

}  // namespace aex::dcap

#endif  // AEX_ATTEST_DCAP_COLLATERAL_H_
