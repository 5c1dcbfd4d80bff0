#include "attest/verifier.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <map>
#include <memory>
#include <mutex>

#include "attest/dcap/verifier.h"
#include "platform/native/native_keys.h"
#include "platform/session.h"
#include "platform/sgx/sgx_sign.h"
#include "platform/trustzone/trustzone_keys.h"
#ifdef AEX_HAVE_SANCUS_KEYS
#include "platform/sancus/sancus_keys.h"
#endif

namespace aex::attest {
namespace {

Status SimulatedPolicy(const AttestationTarget& target, uint8_t flags) {
  if ((flags & tee::kEvidenceSimulated) && !target.allow_simulated) {
    return Status(Code::kPermissionDenied,
                  std::string(tee::BackendName(target.backend)) +
                      " attestation refused: the platform is simulated (no hardware "
                      "protection) and the node has allow_simulated: false");
  }
  return Status::Ok();
}

// The session a symmetric evidence (platform.h: header || MAC) establishes,
// once `expected` (computed by the caller from K_m and the header) matches.
Result<Session> SymmetricSession(const AttestationTarget& target, ByteSpan evidence,
                                 const Bytes& expected, const crypto::Key& session_key) {
  if (!crypto::Equal(expected, evidence)) {
    return AuthFailed(std::string(tee::BackendName(target.backend)) +
                      " attestation failed: the MAC does not verify, so the module is not the "
                      "expected binary, on the expected node (node or vendor key), with the "
                      "expected id, answering this challenge");
  }
  AEX_RETURN_IF_ERROR(SimulatedPolicy(target, evidence[0]));
  Session session;
  session.key = session_key;
  session.instance_id = LoadU64(evidence.data() + 1);
  session.flags = evidence[0];
  return session;
}

bool HasSessionHeader(ByteSpan evidence) { return evidence.size() > tee::kSessionHeaderSize; }

// The vendor-keyed symmetric backends: K_m from the vendor key, then the
// evidence and K_s over the header the module sent.
Result<Session> VerifySymmetric(const AttestationTarget& target, ByteSpan request,
                                ByteSpan evidence) {
  const char* name = tee::BackendName(target.backend);
  uint16_t vendor_id = 0;
  if (!tee::ParseVendorRequest(request, &vendor_id) || !HasSessionHeader(evidence)) {
    return AuthFailed(std::string(name) + " attestation failed: malformed evidence");
  }
  ByteSpan header = evidence.first(tee::kSessionHeaderSize);
  crypto::Key key{}, session{};
  Bytes expected;
  if (target.backend == tee::Backend::kTrustZone) {
    crypto::Digest derived{};
    ByteSpan vendor_key = target.vendor_key;
    if (vendor_key.empty()) {
      derived = tee::TrustZoneVendorKey(target.huk, vendor_id);
      vendor_key = derived;
    }
    // K_m with the flags the evidence claims: the platform service bound its
    // own into the key, so a false claim (say, "not simulated") fails the MAC.
    key = tee::TrustZoneModuleKey(vendor_key, tee::TaUuid(target.module_name),
                                  target.measurement, target.module_id, header[0]);
    crypto::Wipe(derived);
    expected = tee::HmacEvidence(tee::kTrustZoneLabel, key, target.module_id, header, request);
    session = tee::HkdfSessionKey(tee::kTrustZoneLabel, key, target.module_id, header, request);
  } else {
#ifdef AEX_HAVE_SANCUS_KEYS
    crypto::Key vendor_key;
    if (target.vendor_key.size() == crypto::kKeySize) {
      std::copy(target.vendor_key.begin(), target.vendor_key.end(), vendor_key.begin());
    } else {
      vendor_key = tee::SancusVendorKey(target.node_key, vendor_id);
    }
    key = tee::SancusModuleKey(vendor_key, target.measurement, header[0]);
    crypto::Wipe(vendor_key);
    expected = tee::SancusEvidence(key, target.module_id, header, request);
    session = tee::SancusSessionKey(key, target.module_id, header, request);
#else
    return FailedPrecondition("this build has no SPONGENT: cannot verify sancus modules");
#endif
  }
  auto result = SymmetricSession(target, evidence, expected, session);
  crypto::Wipe(key);
  crypto::Wipe(session);
  return result;
}

// ------------------------------------------------------------------ sgx

tee::sgx::Pkey ParsePrivateKeyPem(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  tee::sgx::Pkey key(bio ? PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr) : nullptr);
  BIO_free(bio);
  return key;
}

Result<Challenge> NewSgxChallenge(const AttestationTarget& target) {
  Bytes spki = target.signer_spki;
  if (!target.signer_pem.empty()) {
    AEX_ASSIGN_OR_RETURN(spki, SignerSpki(target.signer_pem));
  }
  if (spki.empty()) return FailedPrecondition("sgx: no enclave signer");
  Challenge c;
  c.mrsigner = crypto::Sha256(spki);
  c.signer_spki = spki;
  c.module_id = target.module_id;
  tee::sgx::X25519Key pub;
  uint8_t nonce[32];
  AEX_RETURN_IF_ERROR(tee::sgx::X25519Keypair(&c.ephemeral, &pub));
  AEX_RETURN_IF_ERROR(crypto::RandomBytes(nonce));
  c.request.assign(pub.begin(), pub.end());
  c.request.insert(c.request.end(), nonce, nonce + 32);
  if (target.signer_pem.empty()) return c;  // the deployer signs it (manager)
  AEX_ASSIGN_OR_RETURN(c.request,
                       CompleteSgxRequest(target.signer_pem, target.module_id, c.request));
  return c;
}

// What a DCAP failure of this reason means for the operator: the quote, or
// the collateral that came with it, is not from the platform we trust.
bool IsTrustFailure(const std::string& reason) {
  namespace r = dcap::reason;
  for (const char* trust : {r::kPckChain, r::kCrlSignature, r::kPckCrlIssuer, r::kTcbInfoChain,
                            r::kQeIdentityChain}) {
    if (reason == trust) return true;
  }
  return false;
}

// Collateral changes rarely (Intel's monthly; a simulated platform's never)
// while every sgx attestation carries it, and verifying it (CRLs, TCB info,
// QE identity) costs most of a quote's verification. So a verified
// collateral is reused for kCollateralReuse seconds, keyed by the pinned
// root and the collateral's exact bytes; after that it is verified again, at
// the new time, so an expired window is noticed within that delay (and the
// PCK chain of a quote is checked at the time its collateral was verified).
constexpr time_t kCollateralReuse = 60;
constexpr size_t kMaxCachedCollateral = 64;

Result<std::shared_ptr<const dcap::VerifiedCollateral>> VerifiedCollateralFor(
    const std::string& root_pem, EVP_PKEY* root, std::string_view json) {
  struct Entry {
    time_t verified_at;
    std::shared_ptr<const dcap::VerifiedCollateral> collateral;
  };
  static std::mutex mu;
  static std::map<crypto::Digest, Entry> cache;
  Bytes id(root_pem.begin(), root_pem.end());
  id.push_back(0);
  id.insert(id.end(), json.begin(), json.end());
  const crypto::Digest key = crypto::Sha256(id);
  const time_t now = time(nullptr);
  {
    std::lock_guard<std::mutex> lock(mu);
    auto it = cache.find(key);
    if (it != cache.end() && now >= it->second.verified_at &&
        now - it->second.verified_at < kCollateralReuse) {
      return it->second.collateral;
    }
  }
  AEX_ASSIGN_OR_RETURN(dcap::Collateral parsed, dcap::ParseCollateral(json));
  AEX_ASSIGN_OR_RETURN(dcap::VerifiedCollateral verified,
                       dcap::VerifiedCollateral::Verify(parsed, {root, now}));
  auto shared = std::make_shared<const dcap::VerifiedCollateral>(std::move(verified));
  std::lock_guard<std::mutex> lock(mu);
  if (cache.size() >= kMaxCachedCollateral) cache.clear();
  cache[key] = Entry{now, shared};
  return shared;
}

// The descriptor's sgx policy as the DCAP verifier's. DEBUG is checked by
// VerifySgx with its own message (allow_debug), MRENCLAVE against the
// binary the deployer built.
Result<dcap::Policy> SgxPolicy(const AttestationTarget& target) {
  dcap::Policy p;
  p.allow_debug = true;
  if (!target.tcb_statuses.empty()) p.accepted_tcb_statuses.clear();
  for (const std::string& name : target.tcb_statuses) {
    AEX_ASSIGN_OR_RETURN(dcap::TcbStatus status, dcap::ParseTcbStatus(name));
    p.accepted_tcb_statuses.push_back(status);
  }
  p.min_isv_svn = target.min_isv_svn;
  p.isv_prod_id = target.isv_prod_id;
  if (!target.mrsigner.empty()) {
    if (target.mrsigner.size() != 32) return InvalidArgument("sgx: mrsigner must be 32 bytes");
    p.mr_signer.emplace();
    std::copy(target.mrsigner.begin(), target.mrsigner.end(), p.mr_signer->begin());
  }
  return p;
}

// Evidence (sgx_sign.h): len|quote v3 || len|extra; the quote is verified
// with the DCAP verifier (attest/dcap/verifier.h) against the node's root,
// pinned, and the collateral it carries, which that root signs.
Result<Session> VerifySgx(const AttestationTarget& target, const Challenge& challenge,
                          ByteSpan evidence) {
  auto fail = [](const std::string& why) { return AuthFailed("sgx quote rejected: " + why); };
  auto parts = ParseSgxEvidence(evidence);
  if (!parts.ok()) return fail("malformed evidence");
  const ByteSpan quote = parts->quote, extra = parts->extra, module_pub = parts->module_pub;
  const uint32_t module_id = parts->module_id;
  const uint64_t instance_id = parts->instance_id;
  // The collateral the evidence carries, unless the deployer gives its own
  // (the platform cannot be trusted to report its own revocation).
  std::string_view collateral_json = parts->collateral_json;
  if (!target.collateral_json.empty()) collateral_json = target.collateral_json;
  // 1. The trust anchor: only its public key is pinned.
  auto roots = dcap::ParsePemChain(target.root_ca_pem);
  if (!roots.ok() || roots->size() != 1) return fail("the trust anchor is not a PEM certificate");
  EVP_PKEY* root = X509_get0_pubkey(roots->front().get());
  if (root == nullptr) return fail("the trust anchor is not a PEM certificate");
  dcap::EvpPkeyPtr intel = dcap::IntelSgxRootKey();
  const bool simulated = !intel || EVP_PKEY_eq(root, intel.get()) != 1;
  // 2. The quote and its collateral, in full (PCK chain, CRLs, TCB info,
  // QE identity, QE report, quote signature).
  auto collateral = VerifiedCollateralFor(target.root_ca_pem, root, collateral_json);
  auto verdict = collateral.ok() ? dcap::VerifyQuote(quote, **collateral)
                                 : Result<dcap::Verdict>(collateral.status());
  if (!verdict.ok()) {
    if (IsTrustFailure(dcap::FailureReason(verdict.status()))) {
      return fail("the quote or its collateral does not chain to the trust anchor " +
                  target.root_ca_name + " (" + verdict.status().message() + ")");
    }
    return fail(verdict.status().message());
  }
  // The chain's root, which DCAP uses only for its (pinned) key, must also be
  // the anchor's certificate byte for byte: nothing in the evidence goes
  // unchecked.
  auto parsed = dcap::ParseQuote(quote);
  auto chain = parsed.ok() ? dcap::ParsePemChain(std::string_view(
                                 reinterpret_cast<const char*>(parsed->cert_data.data()),
                                 parsed->cert_data.size()))
                           : Result<std::vector<dcap::X509Ptr>>(parsed.status());
  if (!chain.ok() || chain->empty() || X509_cmp(chain->back().get(), roots->front().get()) != 0) {
    return fail("the quote's root certificate is not the trust anchor " + target.root_ca_name);
  }
  const dcap::ReportBody& report = verdict->report;
  crypto::Digest extra_hash = crypto::Sha256(extra);
  if (!crypto::Equal(ByteSpan(report.report_data.data() + 32, 32), extra_hash)) {
    return fail("its REPORTDATA does not bind the module id, instance id and key sent with it");
  }
  // 3. Policy, then what the quote says against what the deployer expects.
  AEX_RETURN_IF_ERROR(SimulatedPolicy(target, simulated ? tee::kEvidenceSimulated : 0));
  if (module_id != target.module_id) {
    return fail("it is for module id " + std::to_string(module_id) + ", expected " +
                std::to_string(target.module_id));
  }
  if (!crypto::Equal(report.mr_enclave, target.measurement)) {
    return fail("MRENCLAVE " + HexEncode(report.mr_enclave).substr(0, 16) +
                "... is not the measurement of the binary the deployer built (" +
                HexEncode(target.measurement).substr(0, 16) + "...)");
  }
  if (!crypto::Equal(report.mr_signer, challenge.mrsigner)) {
    return fail("MRSIGNER is not this deployment's enclave signing key");
  }
  if (report.debug() && !target.allow_debug) {
    return Status(Code::kPermissionDenied,
                  "sgx quote rejected: the module runs as a debug enclave and the node has "
                  "allow_debug: false");
  }
  AEX_ASSIGN_OR_RETURN(dcap::Policy policy, SgxPolicy(target));
  if (Status s = dcap::CheckPolicy(*verdict, policy); !s.ok()) {
    return Status(Code::kPermissionDenied, "sgx quote rejected: " + s.message());
  }
  // 4. Freshness: the report data binds the module's key to this request.
  if (!crypto::Equal(ByteSpan(report.report_data.data(), 32),
                     tee::sgx::ReportData(module_pub, challenge.request))) {
    return fail("its report data does not bind this attestation request (a stale or "
                "replayed quote)");
  }
  Session session;
  AEX_ASSIGN_OR_RETURN(session.key, tee::sgx::DeriveSgxModuleKey(challenge.ephemeral, module_pub,
                                                                 challenge.request, quote));
  session.instance_id = instance_id;
  session.flags = static_cast<uint8_t>((simulated ? tee::kEvidenceSimulated : 0) |
                                       (report.debug() ? tee::kEvidenceDebug : 0));
  return session;
}

}  // namespace

Result<SgxEvidence> ParseSgxEvidence(ByteSpan evidence) {
  SgxEvidence e;
  ByteReader q(evidence);
  if (!q.ReadLengthPrefixed(&e.quote, 64 * 1024) || !q.ReadLengthPrefixed(&e.extra, 64 * 1024) ||
      !q.empty()) {
    return InvalidArgument("sgx: malformed evidence");
  }
  ByteReader x(e.extra);
  if (!x.ReadU32(&e.module_id) || !x.ReadU64(&e.instance_id) ||
      !x.ReadBytes(32, &e.module_pub)) {
    return InvalidArgument("sgx: malformed evidence");
  }
  e.collateral_json = std::string_view(reinterpret_cast<const char*>(e.extra.data()) +
                                           tee::sgx::kExtraFixed,
                                       e.extra.size() - tee::sgx::kExtraFixed);
  return e;
}

Result<Bytes> SignerSpki(const std::string& signer_pem) {
  tee::sgx::Pkey signer = ParsePrivateKeyPem(signer_pem);
  if (!signer) return FailedPrecondition("sgx: no usable enclave signing key");
  unsigned char* der = nullptr;
  int n = i2d_PUBKEY(signer.get(), &der);
  if (n <= 0) return Internal("cannot encode the signing key");
  Bytes spki(der, der + n);
  OPENSSL_free(der);
  return spki;
}

Result<Bytes> SignSigstruct(const std::string& signer_pem, const crypto::Digest& measurement) {
  tee::sgx::Pkey signer = ParsePrivateKeyPem(signer_pem);
  if (!signer) return FailedPrecondition("sgx: no usable enclave signing key");
  AEX_ASSIGN_OR_RETURN(Bytes spki, SignerSpki(signer_pem));
  AEX_ASSIGN_OR_RETURN(Bytes signature, tee::sgx::EcdsaSign(
                                            signer.get(), tee::sgx::SigstructMessage(measurement)));
  ByteWriter w(spki.size() + signature.size() + 8);
  w.PutLengthPrefixed(spki);
  w.PutLengthPrefixed(signature);
  return w.Take();
}

Result<Bytes> CompleteSgxRequest(const std::string& signer_pem, uint32_t module_id,
                                 ByteSpan unsigned_request) {
  if (unsigned_request.size() != 64) return InvalidArgument("sgx: bad unsigned request");
  tee::sgx::Pkey signer = ParsePrivateKeyPem(signer_pem);
  if (!signer) return FailedPrecondition("sgx: no usable enclave signing key");
  ByteSpan pub = unsigned_request.first(32), nonce = unsigned_request.subspan(32);
  AEX_ASSIGN_OR_RETURN(Bytes request_sig,
                       tee::sgx::EcdsaSign(signer.get(),
                                           tee::sgx::RequestMessage(module_id, pub, nonce)));
  ByteWriter w(128);
  w.PutBytes(pub);
  w.PutBytes(nonce);
  w.PutLengthPrefixed(request_sig);
  return w.Take();
}

Status AdoptSgxRequest(Challenge* c, ByteSpan signed_request) {
  ByteReader r(signed_request);
  ByteSpan pub, nonce, sig;
  if (c->request.size() != 64 || !r.ReadBytes(32, &pub) || !r.ReadBytes(32, &nonce) ||
      !r.ReadLengthPrefixed(&sig, tee::sgx::kMaxSignature) || !r.empty()) {
    return InvalidArgument("sgx: malformed signed attestation request");
  }
  tee::sgx::Pkey signer = tee::sgx::ParseP256PublicKey(c->signer_spki);
  if (!crypto::Equal(pub, ByteSpan(c->request).first(32)) ||
      !crypto::Equal(nonce, ByteSpan(c->request).subspan(32)) || !signer ||
      !tee::sgx::EcdsaVerify(signer.get(), tee::sgx::RequestMessage(c->module_id, pub, nonce),
                             sig)) {
    return AuthFailed("sgx: the signed request is not for this challenge and signer");
  }
  c->request.assign(signed_request.begin(), signed_request.end());
  return Status::Ok();
}

void WipeTarget(AttestationTarget* target) {
  crypto::Wipe(target->node_key);
  crypto::Wipe(target->vendor_key);
  crypto::Wipe(target->huk);
  crypto::Wipe(std::span<uint8_t>(reinterpret_cast<uint8_t*>(target->signer_pem.data()),
                                  target->signer_pem.size()));
}

Result<Session> VerifyNativeEvidence(const AttestationTarget& target, ByteSpan challenge,
                                     ByteSpan evidence) {
  if (!HasSessionHeader(evidence)) return AuthFailed("native attestation failed: malformed evidence");
  ByteSpan header = evidence.first(tee::kSessionHeaderSize);
  if (header[0] != 0) {
    // Native is no TEE at all; its evidence claims nothing else.
    return AuthFailed("native attestation failed: evidence claims TEE flags");
  }
  crypto::Key key = tee::DeriveNativeModuleKey(target.node_key, target.measurement,
                                               target.module_id);
  Bytes expected = tee::HmacEvidence(tee::kNativeLabel, key, target.module_id, header, challenge);
  crypto::Key session =
      tee::HkdfSessionKey(tee::kNativeLabel, key, target.module_id, header, challenge);
  crypto::Wipe(key);
  auto result = SymmetricSession(target, evidence, expected, session);
  crypto::Wipe(session);
  if (!result.ok() && result.status().code() == Code::kAuthFailed) {
    return AuthFailed(
        "native attestation failed: the module is not the expected binary, on the expected "
        "node, with the expected id");
  }
  return result;
}

Result<Challenge> NewChallenge(const AttestationTarget& target) {
  if (target.backend == tee::Backend::kSgx) return NewSgxChallenge(target);
  // A fresh random challenge per attempt makes old evidence worthless. The
  // vendor-keyed backends take the vendor id in front of it.
  Challenge c;
  const bool vendor = target.backend == tee::Backend::kSancus || target.backend == tee::Backend::kTrustZone;
  c.request.resize(vendor ? 34 : 32);
  AEX_RETURN_IF_ERROR(crypto::RandomBytes(std::span(c.request).subspan(vendor ? 2 : 0)));
  if (vendor) {
    c.request[0] = static_cast<uint8_t>(target.vendor_id);
    c.request[1] = static_cast<uint8_t>(target.vendor_id >> 8);
  }
  return c;
}

Result<Session> VerifyEvidence(const AttestationTarget& target, const Challenge& challenge,
                               ByteSpan evidence) {
  switch (target.backend) {
    case tee::Backend::kNative: return VerifyNativeEvidence(target, challenge.request, evidence);
    case tee::Backend::kSgx: return VerifySgx(target, challenge, evidence);
    case tee::Backend::kTrustZone:
    case tee::Backend::kSancus: return VerifySymmetric(target, challenge.request, evidence);
  }
  return FailedPrecondition("unknown backend");
}

}  // namespace aex::attest
