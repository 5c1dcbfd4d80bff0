// Management and peering messages between deployer, nodes and peers. Modules
// never parse these, so they stay out of the trusted computing base.

#ifndef AEX_WIRE_MANAGEMENT_H_
#define AEX_WIRE_MANAGEMENT_H_

#include <string>

#include "wire/frame.h"

namespace aex::wire {

// Who opens a connection: the deployer (client) or a peer node.
enum class PeerRole : uint8_t { kClient = 0, kNode = 1 };

struct Hello {
  uint16_t min_version = kProtocolVersion;
  uint16_t max_version = kProtocolVersion;
  PeerRole role = PeerRole::kClient;
  Bytes Encode() const;
  static Result<Hello> Parse(ByteSpan p);
};

struct LoadModule {
  std::string name;
  uint8_t backend = 0;  // aex::deploy::Backend as u8
  std::string device;   // exclusive device claim, "" for none
  ByteSpan binary;
  Bytes Encode() const;
  static Result<LoadModule> Parse(ByteSpan p);
};

// Route (src_module, conn_id) -> dst_module, on this node when dst_host is
// empty, else on the node listening at dst_host:dst_port.
struct Connect {
  uint32_t src_module = 0;
  uint32_t conn_id = 0;
  uint32_t dst_module = 0;
  std::string dst_host;
  uint16_t dst_port = 0;
  Bytes Encode() const;
  static Result<Connect> Parse(ByteSpan p);
};

struct RegisterPeriodic {
  uint32_t module_id = 0;
  uint32_t entry = 0;
  uint32_t period_ms = 0;
  Bytes Encode() const;
  static Result<RegisterPeriodic> Parse(ByteSpan p);
};

}  // namespace aex::wire

#endif  // AEX_WIRE_MANAGEMENT_H_
