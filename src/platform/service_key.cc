// The KEY request of the symmetric backends (native, trustzone, sancus), in
// an object of its own: an sgx module, whose key comes out of attestation,
// does not link it.

#include "platform/service_link.h"

namespace aex::tee {

Result<crypto::Key> ServiceLink::ModuleKey(uint8_t backend, uint32_t module_id, uint8_t* flags,
                                           uint16_t vendor_id, ByteSpan uuid) {
  ServiceRequest q;
  q.op = ServiceOp::kKey;
  q.backend = backend;
  q.module_id = module_id;
  q.vendor_id = vendor_id;
  q.uuid.assign(uuid.begin(), uuid.end());
  AEX_ASSIGN_OR_RETURN(Bytes raw, Call(q));
  crypto::Key key;
  const bool ok = raw.size() == 1 + key.size();
  if (ok) {
    *flags = raw[0];
    std::copy(raw.begin() + 1, raw.end(), key.begin());
  }
  crypto::Wipe(raw);
  if (!ok) return Status(Code::kProtocol, "bad key from the platform service");
  return key;
}

}  // namespace aex::tee
