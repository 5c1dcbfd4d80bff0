// The wire format between a module's platform layer and its node's platform
// service (aex-platform, src/platform_service/), and the module's side of it.
//
// The module connects to the service's Unix socket (SOCK_SEQPACKET, one
// message per request or response) once, at Platform::Init, and keeps the
// connection for its lifetime. The service identifies the module from the
// kernel (the connecting process, its executable and its mappings), never
// from anything the module says: a module can only ask for its own keys.
//
// Request, at most kMaxServiceMessage bytes (u16/u32 big-endian):
//   u8 version (2) | u8 op | u8 backend | u32 module_id | op body
//   op 1 MEASURE  body empty
//                 -> measurement[32]  (SHA-256 of the module's executable)
//   op 2 KEY      body: u16 vendor_id | u8 uuid_len (0 or 16) | uuid
//                 -> u8 flags | K_m[16]: the platform's evidence flags
//                    (platform.h kEvidence*) and K_m for (backend,
//                    measurement, module_id, vendor id, TA UUID, flags) by the
//                    backend's *_keys.h derivation; native (flags 0, K_m
//                    without them), trustzone and sancus only
//   op 3 QUOTE    body: u8 flags | u64 instance_id | report_data[32] | module_pub[32]
//                 -> len|quote body  len|signature  (sgx/sgx_keys.h; the
//                    service fills in MRENCLAVE, the MRSIGNER of this
//                    connection's EINIT, its certificate, and signs)
//   op 4 EINIT    body: the SIGSTRUCT as the loader passed it, hex text (the
//                 enclave does not parse it; the service does)
//                 -> signer_spki: the service checked that the SIGSTRUCT
//                    signs its own measurement of the caller and fixed
//                    MRSIGNER = SHA-256(signer_spki) for this connection (the
//                    instance's life); once per connection, sgx only
// Response: u8 code (aex::Code; 0 = ok) | on ok the payload above, else a
// u16-length-prefixed error message.

#ifndef AEX_PLATFORM_SERVICE_LINK_H_
#define AEX_PLATFORM_SERVICE_LINK_H_

#include <array>
#include <string>

#include "aex/bytes.h"
#include "aex/status.h"
#include "crypto/crypto.h"

namespace aex::tee {

inline constexpr uint8_t kServiceVersion = 2;  // 2: EINIT; QUOTE without MRSIGNER
inline constexpr size_t kMaxServiceMessage = 16384;
enum class ServiceOp : uint8_t { kMeasure = 1, kKey = 2, kQuote = 3, kEinit = 4 };

struct ServiceRequest {
  ServiceOp op = ServiceOp::kMeasure;
  uint8_t backend = 0;
  uint32_t module_id = 0;
  uint16_t vendor_id = 0;           // kKey
  Bytes uuid;                       // kKey: empty or 16 bytes (trustzone)
  uint8_t flags = 0;                // kQuote
  uint64_t instance_id = 0;         // kQuote: the module instance's random id
  crypto::Digest report_data{}, module_pub{};  // kQuote
  std::string sigstruct_hex;                  // kEinit
};

// The module's side here; the service's (ParseServiceRequest,
// EncodeServiceResponse) in platform_service/service_wire.h, outside the TCB.
Bytes EncodeServiceRequest(const ServiceRequest& r);
// The payload of an ok response, or the service's error.
Result<Bytes> ParseServiceResponse(ByteSpan msg);

// The module's connection to its platform service.
class ServiceLink {
 public:
  ServiceLink() = default;
  ~ServiceLink();
  ServiceLink(const ServiceLink&) = delete;
  ServiceLink& operator=(const ServiceLink&) = delete;

  Status Connect(const std::string& socket_path);
  // One request, one response. REQUIRES: Connect succeeded.
  Result<Bytes> Call(const ServiceRequest& request);
  // A KEY request: this module's K_m and, in *flags, the evidence flags the
  // platform bound into it (see the format above).
  Result<crypto::Key> ModuleKey(uint8_t backend, uint32_t module_id, uint8_t* flags,
                                uint16_t vendor_id = 0, ByteSpan uuid = {});

 private:
  int fd_ = -1;
};

}  // namespace aex::tee

#endif  // AEX_PLATFORM_SERVICE_LINK_H_
