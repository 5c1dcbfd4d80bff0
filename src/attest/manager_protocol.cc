#include "attest/manager_protocol.h"

#include <algorithm>

namespace aex::attest {
namespace {

Status Malformed(const char* what) {
  return InvalidArgument(std::string("malformed ") + what + " command");
}

bool ReadBackend(ByteReader& r, tee::Backend* out) {
  uint8_t b = 0;
  if (!r.ReadU8(&b) || b > static_cast<uint8_t>(tee::Backend::kSancus)) return false;
  *out = static_cast<tee::Backend>(b);
  return true;
}

bool ReadBool(ByteReader& r, bool* out) {
  uint8_t b = 0;
  if (!r.ReadU8(&b) || b > 1) return false;
  *out = b == 1;
  return true;
}

bool ReadField(ByteReader& r, Bytes* out) {
  ByteSpan s;
  if (!r.ReadLengthPrefixed(&s, kMaxManagerField)) return false;
  out->assign(s.begin(), s.end());
  return true;
}

bool ReadText(ByteReader& r, std::string* out) {
  ByteSpan s;
  if (!r.ReadLengthPrefixed(&s, kMaxManagerField)) return false;
  out->assign(s.begin(), s.end());
  return true;
}

// The target's sgx policy fields (manager_protocol.h, "target").
bool ReadSgxPolicy(ByteReader& r, AttestationTarget* t) {
  uint8_t n = 0, has_prod = 0;
  uint16_t prod = 0;
  if (!r.ReadU8(&n)) return false;
  t->tcb_statuses.resize(n);
  for (std::string& status : t->tcb_statuses) {
    if (!r.ReadString16(&status)) return false;
  }
  if (!r.ReadU16(&t->min_isv_svn) || !r.ReadU8(&has_prod) || has_prod > 1 ||
      !r.ReadU16(&prod) || !ReadField(r, &t->mrsigner) || !ReadText(r, &t->collateral_json) ||
      !r.ReadString16(&t->collateral_name)) {
    return false;
  }
  t->isv_prod_id = has_prod ? std::optional<uint16_t>(prod) : std::nullopt;
  return true;
}

}  // namespace

Bytes EncodeProvision(const std::string& node, const AttestationTarget& t) {
  ByteWriter w(1024 + t.root_ca_pem.size() + t.signer_spki.size() + t.collateral_json.size());
  w.PutU8(static_cast<uint8_t>(ManagerOp::kProvisionNode));
  w.PutString16(node);
  w.PutU8(static_cast<uint8_t>(t.backend));
  w.PutU8(t.allow_simulated ? 1 : 0);
  w.PutU8(t.allow_debug ? 1 : 0);
  w.PutBytes(t.node_key);
  w.PutU16(t.vendor_id);
  w.PutLengthPrefixed(t.vendor_key);
  w.PutLengthPrefixed(t.huk);
  w.PutLengthPrefixed(AsBytes(t.root_ca_pem));
  w.PutString16(t.root_ca_name);
  w.PutLengthPrefixed(t.signer_spki);  // public: the manager never gets the signing key
  w.PutU8(static_cast<uint8_t>(std::min<size_t>(t.tcb_statuses.size(), 255)));
  for (size_t i = 0; i < t.tcb_statuses.size() && i < 255; ++i) w.PutString16(t.tcb_statuses[i]);
  w.PutU16(t.min_isv_svn);
  w.PutU8(t.isv_prod_id ? 1 : 0);
  w.PutU16(t.isv_prod_id.value_or(0));
  w.PutLengthPrefixed(t.mrsigner);
  w.PutLengthPrefixed(AsBytes(t.collateral_json));
  w.PutString16(t.collateral_name);
  return w.Take();
}

Status DecodeProvision(ByteReader& r, std::string* node, AttestationTarget* t) {
  ByteSpan key;
  if (!r.ReadString16(node) || !ReadBackend(r, &t->backend) ||
      !ReadBool(r, &t->allow_simulated) || !ReadBool(r, &t->allow_debug) ||
      !r.ReadBytes(t->node_key.size(), &key) || !r.ReadU16(&t->vendor_id) ||
      !ReadField(r, &t->vendor_key) || !ReadField(r, &t->huk) ||
      !ReadText(r, &t->root_ca_pem) || !r.ReadString16(&t->root_ca_name) ||
      !ReadField(r, &t->signer_spki) || !ReadSgxPolicy(r, t) || !r.empty()) {
    return Malformed("PROVISION_NODE");
  }
  std::copy(key.begin(), key.end(), t->node_key.begin());
  return Status::Ok();
}

Bytes EncodeBegin(const ModuleClaim& c) {
  ByteWriter w(128);
  w.PutU8(static_cast<uint8_t>(ManagerOp::kBeginAttest));
  w.PutString16(c.module);
  w.PutString16(c.node);
  w.PutU8(static_cast<uint8_t>(c.backend));
  w.PutU32(c.module_id);
  w.PutBytes(c.measurement);
  return w.Take();
}

Status DecodeBegin(ByteReader& r, ModuleClaim* c) {
  ByteSpan m;
  if (!r.ReadString16(&c->module) || !r.ReadString16(&c->node) ||
      !ReadBackend(r, &c->backend) || !r.ReadU32(&c->module_id) ||
      !r.ReadBytes(c->measurement.size(), &m) || !r.empty()) {
    return Malformed("BEGIN_ATTEST");
  }
  std::copy(m.begin(), m.end(), c->measurement.begin());
  return Status::Ok();
}

Bytes EncodeFinish(const std::string& module, ByteSpan evidence, ByteSpan request) {
  ByteWriter w(64 + evidence.size() + request.size());
  w.PutU8(static_cast<uint8_t>(ManagerOp::kFinishAttest));
  w.PutString16(module);
  w.PutLengthPrefixed(evidence);
  w.PutLengthPrefixed(request);
  return w.Take();
}

Bytes EncodeDisable(const std::string& module) {
  ByteWriter w(64);
  w.PutU8(static_cast<uint8_t>(ManagerOp::kDisable));
  w.PutString16(module);
  return w.Take();
}

Bytes EncodeGrant(const GrantRequest& g) {
  ByteWriter w(64 + 32 * g.ends.size());
  w.PutU8(static_cast<uint8_t>(ManagerOp::kGrant));
  w.PutU32(g.conn_id);
  w.PutU8(g.cipher);
  w.PutU8(g.rekey ? 1 : 0);
  w.PutU8(g.deployer_end ? 1 : 0);
  w.PutU8(static_cast<uint8_t>(g.ends.size()));
  for (const auto& e : g.ends) {
    w.PutString16(e.module);
    w.PutU16(e.io_index);
    w.PutU8(e.role);
  }
  return w.Take();
}

Status DecodeGrant(ByteReader& r, GrantRequest* g) {
  uint8_t n = 0;
  if (!r.ReadU32(&g->conn_id) || !r.ReadU8(&g->cipher) || !ReadBool(r, &g->rekey) ||
      !ReadBool(r, &g->deployer_end) || !r.ReadU8(&n) || n == 0 || n > kMaxGrantEnds) {
    return Malformed("GRANT");
  }
  g->ends.resize(n);
  for (auto& e : g->ends) {
    if (!r.ReadString16(&e.module) || !r.ReadU16(&e.io_index) || !r.ReadU8(&e.role)) {
      return Malformed("GRANT");
    }
  }
  return r.empty() ? Status::Ok() : Malformed("GRANT");
}

Bytes EncodeGrantReply(const GrantReply& reply) {
  ByteWriter w(128 * (reply.blobs.size() + 1));
  for (const auto& b : reply.blobs) w.PutLengthPrefixed(b);
  if (reply.key) w.PutBytes(*reply.key);
  return w.Take();
}

Result<GrantReply> DecodeGrantReply(ByteSpan body, size_t ends, bool with_key) {
  ByteReader r(body);
  GrantReply reply;
  for (size_t i = 0; i < ends; ++i) {
    Bytes blob;
    if (!ReadField(r, &blob)) return Malformed("GRANT reply");
    reply.blobs.push_back(std::move(blob));
  }
  if (with_key) {
    ByteSpan key;
    if (!r.ReadBytes(crypto::kKeySize, &key)) return Malformed("GRANT reply");
    reply.key.emplace();
    std::copy(key.begin(), key.end(), reply.key->begin());
  }
  if (!r.empty()) return Malformed("GRANT reply");
  return reply;
}

Bytes EncodeResponse(const Status& status, ByteSpan body) {
  ByteWriter w(8 + status.message().size() + body.size());
  w.PutU16(static_cast<uint16_t>(status.code()));
  w.PutString16(status.message().substr(0, 4096));
  if (status.ok()) w.PutBytes(body);
  return w.Take();
}

Result<Bytes> DecodeResponse(ByteSpan response) {
  ByteReader r(response);
  uint16_t code = 0;
  std::string message;
  if (!r.ReadU16(&code) || !r.ReadString16(&message) ||
      code > static_cast<uint16_t>(Code::kDisabled)) {
    return Status(Code::kProtocol, "malformed response from the attestation manager");
  }
  if (code != 0) return Status(static_cast<Code>(code), "attestation manager: " + message);
  return Bytes(r.rest().begin(), r.rest().end());
}

}  // namespace aex::attest
