// The attestation manager's command protocol (docs/tee.md, "Attestation
// manager"). The deployer and the manager share it byte for byte.
//
// Commands travel as requests on a direct connection from the deployer to
// the manager's `command` handler, so they are sealed, authenticated and
// replay-protected by the ordinary channel (runtime/channel.h) under a
// connection key only the deployer and the attested manager hold. This file
// only defines what is inside:
//
//   request  = u8 op || body
//   response = u16 code || string16 message || body   (body empty unless code 0)
//
//   PROVISION_NODE  string16 node || target            -> (empty)
//   BEGIN_ATTEST    claim                              -> lp challenge request
//   FINISH_ATTEST   string16 module || lp evidence || lp request
//                                                      -> u64 instance_id
//   GRANT           u32 conn || u8 cipher || u8 rekey || u8 deployer_end
//                   || u8 n || n x (string16 module || u16 io || u8 role)
//                                                      -> n x lp blob [|| key]
//   DISABLE         string16 module                    -> lp blob
//
// target = u8 backend || u8 allow_simulated || u8 allow_debug || key node_key
//          || u16 vendor_id || lp vendor_key || lp huk || lp root_ca_pem
//          || string16 root_ca_name || lp signer_spki
//          || u8 n || n x string16 tcb_status || u16 min_isv_svn
//          || u8 has_isv_prod_id || u16 isv_prod_id || lp mrsigner
//          || lp collateral_json || string16 collateral_name
//
// The manager never receives the sgx enclave signing key: PROVISION_NODE
// carries the signer's public key (MRSIGNER = its SHA-256). For an sgx
// module BEGIN_ATTEST answers an unsigned request (deployer_pub || nonce,
// the manager's ephemeral key); the deployer completes it with the SIGSTRUCT
// and its request signature (attest::CompleteSgxRequest), sends that to the
// module, and returns it in FINISH_ATTEST's `request`, which the manager
// adopts after checking key, nonce and signer. For other backends `request`
// is empty or exactly the challenge the manager made.
// claim  = string16 module || string16 node || u8 backend || u32 module_id
//          || 32 measurement

#ifndef AEX_ATTEST_MANAGER_PROTOCOL_H_
#define AEX_ATTEST_MANAGER_PROTOCOL_H_

#include <optional>
#include <string>
#include <vector>

#include "aex/bytes.h"
#include "aex/status.h"
#include "attest/verifier.h"
#include "crypto/crypto.h"

namespace aex::attest {

enum class ManagerOp : uint8_t {
  kProvisionNode = 1,
  kBeginAttest = 2,
  kFinishAttest = 3,
  kGrant = 4,
  kDisable = 5,
};

// A module the deployer loaded and wants attested: who it must be.
struct ModuleClaim {
  std::string module;
  std::string node;
  tee::Backend backend = tee::Backend::kNative;
  uint32_t module_id = 0;
  crypto::Digest measurement{};
};

// One end of a connection that gets a key grant: a module's io slot.
struct GrantEnd {
  std::string module;
  uint16_t io_index = 0;
  uint8_t role = 0;  // channel::Role
};

struct GrantRequest {
  uint32_t conn_id = 0;
  uint8_t cipher = 0;  // channel::Cipher
  bool rekey = false;
  bool deployer_end = false;  // a direct connection: the deployer needs K_c
  std::vector<GrantEnd> ends;
};

struct GrantReply {
  std::vector<Bytes> blobs;          // one per end, in request order
  std::optional<crypto::Key> key;    // K_c, only for deployer_end
};

// Largest field the manager accepts (a PEM certificate or key, evidence).
inline constexpr size_t kMaxManagerField = 64 * 1024;
inline constexpr size_t kMaxGrantEnds = 8;

Bytes EncodeProvision(const std::string& node, const AttestationTarget& target);
Status DecodeProvision(ByteReader& r, std::string* node, AttestationTarget* target);

Bytes EncodeBegin(const ModuleClaim& claim);
Status DecodeBegin(ByteReader& r, ModuleClaim* claim);

Bytes EncodeFinish(const std::string& module, ByteSpan evidence, ByteSpan request = {});
Bytes EncodeDisable(const std::string& module);

Bytes EncodeGrant(const GrantRequest& request);
Status DecodeGrant(ByteReader& r, GrantRequest* request);
Bytes EncodeGrantReply(const GrantReply& reply);
Result<GrantReply> DecodeGrantReply(ByteSpan body, size_t ends, bool with_key);

// The response envelope.
Bytes EncodeResponse(const Status& status, ByteSpan body);
// The manager's Status, with its body on success.
Result<Bytes> DecodeResponse(ByteSpan response);

}  // namespace aex::attest

#endif  // AEX_ATTEST_MANAGER_PROTOCOL_H_
