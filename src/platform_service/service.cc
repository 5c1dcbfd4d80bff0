#include "platform_service/service.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <openssl/evp.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <thread>

#include "platform/key_files.h"
#include "platform/native/native_keys.h"
#include "platform/platform.h"
#include "platform/setup.h"
#include "platform/trustzone/trustzone_keys.h"
#ifdef AEX_HAVE_SANCUS_KEYS
#include "platform/sancus/sancus_keys.h"
#endif

namespace aex::platsvc {
namespace fs = std::filesystem;
using tee::Backend;

PlatformService::~PlatformService() {
  Stop();
  // Connection threads hold `this`: wait for them (Stop shut their sockets).
  while (connections_.load() != 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  if (listen_fd_ >= 0) close(listen_fd_);
  crypto::Wipe(secret_);
}

// The node's simulated QE, from the PCK key and chain setup.cc stored.
static Status LoadSgx(const std::string& dir, std::optional<dcap::sim::QuotingEnclave>* qe,
                      std::string* collateral) {
  namespace sgx = tee::sgx;
  AEX_ASSIGN_OR_RETURN(Bytes der, tee::ReadFileBounded(dir + "/" + sgx::kPckKeyFile, 4096));
  const unsigned char* p = der.data();
  sgx::Pkey key(d2i_AutoPrivateKey(nullptr, &p, static_cast<long>(der.size())));
  crypto::Wipe(der);
  AEX_ASSIGN_OR_RETURN(Bytes chain, tee::ReadFileBounded(dir + "/" + sgx::kPckChainFile,
                                                         sgx::kMaxCert));
  AEX_ASSIGN_OR_RETURN(Bytes c, tee::ReadFileBounded(dir + "/" + sgx::kCollateralFile,
                                                     tee::kMaxServiceMessage));
  if (!key) return InvalidArgument("bad sgx PCK key in " + dir);
  dcap::sim::Options o;
  o.qe_mrsigner = sgx::kSimulatedQeMrsigner;
  auto made = dcap::sim::QuotingEnclave::Create(key.get(), std::string(chain.begin(), chain.end()),
                                                sgx::kSimulatedQeSvn, o);
  if (!made.ok()) return InvalidArgument("sgx platform in " + dir + ": " + made.status().message());
  qe->emplace(std::move(*made));
  collateral->assign(c.begin(), c.end());
  return Status::Ok();
}

// Binds under a temporary name and renames into place once listening.
static Result<int> Listen(const std::string& path) {
  const std::string tmp = path + ".tmp" + std::to_string(getpid());
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || tmp.size() >= sizeof addr.sun_path) {
    return InvalidArgument("platform socket path too long: " + path);
  }
  std::memcpy(addr.sun_path, tmp.data(), tmp.size());
  unlink(tmp.c_str());
  int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status(Code::kIo, "socket failed");
  // Any local process may connect (modules run under uids of their own):
  // what it gets is decided by its measurement, not by who it is.
  bool ok = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
            chmod(tmp.c_str(), 0666) == 0 && listen(fd, 128) == 0 &&
            rename(tmp.c_str(), path.c_str()) == 0;
  if (!ok) {
    Status s(Code::kIo, "cannot listen on " + path + ": " + strerror(errno));
    close(fd);
    unlink(tmp.c_str());
    return s;
  }
  return fd;
}

Status PlatformService::Start() {
  AEX_RETURN_IF_ERROR(tee::EnsureKeyFile(options_.key_file));
  AEX_ASSIGN_OR_RETURN(secret_, tee::ReadSecretFile(options_.key_file));
  if (!options_.platform_dir.empty()) {
    AEX_RETURN_IF_ERROR(tee::EnsureSimulatedPlatform(options_.platform_dir));
    AEX_RETURN_IF_ERROR(LoadSgx(options_.platform_dir, &qe_, &collateral_));
  }
  AEX_ASSIGN_OR_RETURN(listen_fd_, Listen(options_.socket_path));
  return Status::Ok();
}

void PlatformService::Run() {
  while (!stopped_.load()) {
    int conn = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (conn < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (stopped_.load()) break;
      // EMFILE and the like: back off instead of spinning.
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    if (connections_.load() >= options_.max_connections) {
      close(conn);
      continue;
    }
    ++connections_;
    std::thread([this, conn] {
      Serve(conn);
      --connections_;
    }).detach();
  }
}

void PlatformService::Stop() {
  if (stopped_.exchange(true)) return;
  if (listen_fd_ >= 0) {
    shutdown(listen_fd_, SHUT_RDWR);
    std::error_code ec;
    fs::remove(options_.socket_path, ec);
  }
  std::lock_guard<std::mutex> lock(mu_);
  for (int fd : open_) shutdown(fd, SHUT_RDWR);
}

// Identifies and measures the peer once; then answers its requests while
// it stays the same process with the same mappings.
void PlatformService::Serve(int conn) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_.load()) {
      close(conn);
      return;
    }
    open_.insert(conn);
  }
  auto peer = IdentifyPeer(conn, options_.exe_only_mappings);
  EnclaveState enclave;
  Bytes buf(tee::kMaxServiceMessage);
  for (;;) {
    ssize_t n = recv(conn, buf.data(), buf.size(), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    Bytes out = peer.ok() ? Handle(*peer, ByteSpan(buf.data(), static_cast<size_t>(n)), &enclave)
                          : tee::EncodeServiceResponse(peer.status(), {});
    bool sent = send(conn, out.data(), out.size(), MSG_NOSIGNAL) ==
                static_cast<ssize_t>(out.size());
    crypto::Wipe(out);
    if (!sent) break;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    open_.erase(conn);
  }
  close(conn);
  if (peer.ok()) close(peer->pidfd);
}

Bytes PlatformService::Handle(const Peer& peer, ByteSpan request, EnclaveState* enclave) {
  auto r = tee::ParseServiceRequest(request);
  if (!r.ok()) return tee::EncodeServiceResponse(r.status(), {});
  if (peer.pidfd >= 0) {
    if (Status s = RecheckPeer(peer, options_.exe_only_mappings); !s.ok()) {
      return tee::EncodeServiceResponse(s, {});
    }
  }
  auto out = Answer(peer, *r, enclave);
  if (!out.ok()) return tee::EncodeServiceResponse(out.status(), {});
  Bytes response = tee::EncodeServiceResponse(Status::Ok(), *out);
  crypto::Wipe(*out);
  return response;
}

Result<Bytes> PlatformService::Answer(const Peer& peer, const tee::ServiceRequest& r,
                                      EnclaveState* enclave) {
  switch (r.op) {
    case tee::ServiceOp::kMeasure:
      return Bytes(peer.measurement.begin(), peer.measurement.end());
    case tee::ServiceOp::kKey: return ModuleKey(peer, r);
    case tee::ServiceOp::kEinit: return Einit(peer, r, enclave);
    case tee::ServiceOp::kQuote: return Quote(peer, r, *enclave);
  }
  return InvalidArgument("unknown op");
}

// The backend's own derivation (*_keys.h, shared with the verifiers) over
// the measurement the service took; the module id, vendor id and UUID are
// the module's claims, bound into the key so a lie yields a useless key.
// The evidence flags are the platform's: this one is simulated (native is no
// TEE: 0). They are bound into K_m and returned with it for the module to
// put in its evidence; a module claiming other flags has the wrong key.
Result<Bytes> PlatformService::ModuleKey(const Peer& peer, const tee::ServiceRequest& r) {
  crypto::Key key{};
  uint8_t flags = 0;
  const bool uuid_ok = r.uuid.empty() == (r.backend != static_cast<uint8_t>(Backend::kTrustZone));
  if (!uuid_ok) return InvalidArgument("a TA UUID goes with trustzone keys only");
  crypto::Key node_key{};
  const bool k_n = secret_.size() == node_key.size();
  if (k_n) std::copy(secret_.begin(), secret_.end(), node_key.begin());
  switch (static_cast<Backend>(r.backend)) {
    case Backend::kNative:
      if (!k_n) return FailedPrecondition("the node key is not 16 bytes");
      key = tee::DeriveNativeModuleKey(node_key, peer.measurement, r.module_id);
      break;
    case Backend::kTrustZone: {
      tee::Uuid uuid;
      std::copy(r.uuid.begin(), r.uuid.end(), uuid.begin());
      crypto::Digest vendor = tee::TrustZoneVendorKey(secret_, r.vendor_id);
      flags = tee::kEvidenceSimulated;
      key = tee::TrustZoneModuleKey(vendor, uuid, peer.measurement, r.module_id, flags);
      crypto::Wipe(vendor);
      break;
    }
#ifdef AEX_HAVE_SANCUS_KEYS
    case Backend::kSancus: {
      if (!k_n) return FailedPrecondition("the node key is not 16 bytes");
      crypto::Key vendor = tee::SancusVendorKey(node_key, r.vendor_id);
      flags = tee::kEvidenceSimulated;
      key = tee::SancusModuleKey(vendor, peer.measurement, flags);
      crypto::Wipe(vendor);
      break;
    }
#endif
    default:
      crypto::Wipe(node_key);
      return InvalidArgument("no module key service for backend " + std::to_string(r.backend));
  }
  crypto::Wipe(node_key);
  Bytes out{flags};
  out.insert(out.end(), key.begin(), key.end());
  crypto::Wipe(key);
  return out;
}

// EINIT, as the CPU does it: the SIGSTRUCT the loader passed (untrusted, so
// only checked here) must sign the MRENCLAVE this service measured; its key
// becomes MRSIGNER for the life of the instance, and the enclave gets that
// key to check its attestation requests against. Without a valid one the
// enclave is never initialised and attests for nobody.
Result<Bytes> PlatformService::Einit(const Peer& peer, const tee::ServiceRequest& r,
                                     EnclaveState* enclave) {
  if (r.backend != static_cast<uint8_t>(Backend::kSgx)) return InvalidArgument("EINIT is sgx only");
  if (enclave->initialised) {
    return FailedPrecondition("EINIT failed: the enclave is already initialised");
  }
  Bytes sigstruct;
  ByteSpan spki, signature;
  const bool hex_ok = HexDecode(r.sigstruct_hex, &sigstruct);
  ByteReader rd(sigstruct);
  if (!hex_ok || !rd.ReadLengthPrefixed(&spki, tee::sgx::kMaxSpki) ||
      !rd.ReadLengthPrefixed(&signature, tee::sgx::kMaxSignature) || !rd.empty()) {
    return FailedPrecondition("EINIT failed: no well-formed SIGSTRUCT was loaded with the enclave");
  }
  tee::sgx::Pkey signer = tee::sgx::ParseP256PublicKey(spki);
  if (!signer || !tee::sgx::EcdsaVerify(signer.get(), tee::sgx::SigstructMessage(peer.measurement),
                                        signature)) {
    return AuthFailed("EINIT failed: the SIGSTRUCT does not sign this enclave's MRENCLAVE");
  }
  enclave->mrsigner = crypto::Sha256(spki);
  enclave->initialised = true;
  return Bytes(spki.begin(), spki.end());
}

// The quoting enclave: the report's MRENCLAVE is the service's own
// measurement of the caller and its MRSIGNER what this connection's EINIT
// fixed, never values the caller sends. The answer is a DCAP quote v3 whose
// REPORTDATA is the module's report data (binding its X25519 key to the
// request) || SHA-256(extra), extra carrying the module id, instance id and
// X25519 key the deployer needs, and the collateral (sgx_sign.h).
Result<Bytes> PlatformService::Quote(const Peer& peer, const tee::ServiceRequest& r,
                                     const EnclaveState& enclave) {
  if (r.backend != static_cast<uint8_t>(Backend::kSgx)) {
    return InvalidArgument("quotes are sgx only");
  }
  if (!enclave.initialised) {
    return FailedPrecondition("EINIT failed: the enclave was not initialised");
  }
  if (!qe_) return FailedPrecondition("this platform has no sgx quoting enclave");
  constexpr uint8_t kAllowed = tee::kEvidenceSimulated | tee::kEvidenceDebug;
  if (!(r.flags & tee::kEvidenceSimulated) || (r.flags & ~kAllowed)) {
    return InvalidArgument("a simulated platform's quote says it is simulated");
  }
  ByteWriter extra(tee::sgx::kExtraFixed + collateral_.size());
  extra.PutU32(r.module_id);
  extra.PutU64(r.instance_id);
  extra.PutBytes(r.module_pub);
  extra.PutBytes(AsBytes(collateral_));
  dcap::ReportBody report;
  report.mr_enclave = peer.measurement;
  report.mr_signer = enclave.mrsigner;
  // INIT and MODE64BIT, as for any initialised 64-bit enclave; DEBUG as the
  // loader set it.
  report.attributes[0] = 0x05;
  if (r.flags & tee::kEvidenceDebug) report.attributes[0] |= uint8_t{dcap::kAttributeDebug};
  crypto::Digest extra_hash = crypto::Sha256(extra.bytes());
  std::copy(r.report_data.begin(), r.report_data.end(), report.report_data.begin());
  std::copy(extra_hash.begin(), extra_hash.end(), report.report_data.begin() + 32);
  AEX_ASSIGN_OR_RETURN(Bytes quote, qe_->MakeQuote(report));
  ByteWriter out(quote.size() + extra.size() + 8);
  out.PutLengthPrefixed(quote);
  out.PutLengthPrefixed(extra.bytes());
  return out.Take();
}

}  // namespace aex::platsvc
