#include "platform/platform.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <string_view>

namespace aex::tee {

// Bounded so a hostile path cannot exhaust memory.
Result<Bytes> ReadFileBounded(const std::string& path, size_t max) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status(Code::kIo, "cannot open " + path);
  Bytes out;
  uint8_t buf[65536];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) {
    if (out.size() + static_cast<size_t>(n) > max) {
      close(fd);
      return Status(Code::kResourceExhausted, path + " is too large");
    }
    out.insert(out.end(), buf, buf + n);
  }
  close(fd);
  if (n < 0) return Status(Code::kIo, "cannot read " + path);
  return out;
}

const char* BackendName(Backend b) {
  switch (b) {
    case Backend::kNative: return "native";
    case Backend::kSgx: return "sgx";
    case Backend::kTrustZone: return "trustzone";
    case Backend::kSancus: return "sancus";
  }
  return "unknown";
}

bool ParseBackend(std::string_view name, Backend* out) {
  for (Backend b : {Backend::kNative, Backend::kSgx, Backend::kTrustZone, Backend::kSancus}) {
    if (name == BackendName(b)) {
      *out = b;
      return true;
    }
  }
  return false;
}

// Streams the file through SHA-256: no copy of the binary in memory (page
// faults on a fresh multi-megabyte buffer cost far more than the hash).
Result<crypto::Digest> MeasureSelf() {
  int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status(Code::kIo, "cannot open /proc/self/exe");
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) == 1;
  uint8_t buf[65536];
  ssize_t n = 0;
  while (ok && (n = read(fd, buf, sizeof buf)) > 0) ok = EVP_DigestUpdate(ctx, buf, n) == 1;
  crypto::Digest d;
  unsigned int len = 0;
  ok = ok && n == 0 && EVP_DigestFinal_ex(ctx, d.data(), &len) == 1 && len == d.size();
  EVP_MD_CTX_free(ctx);
  close(fd);
  if (!ok) return Status(Code::kIo, "cannot measure /proc/self/exe");
  return d;
}

Status Platform::DrawInstanceId() {
  uint8_t id[8];
  do {
    AEX_RETURN_IF_ERROR(crypto::RandomBytes(id));
    instance_id_ = LoadU64(id);
  } while (instance_id_ == 0);
  return Status::Ok();
}

Result<Bytes> NewSessionHeader(uint8_t flags, uint64_t instance_id) {
  Bytes h(kSessionHeaderSize);
  h[0] = flags;
  StoreU64(h.data() + 1, instance_id);
  AEX_RETURN_IF_ERROR(crypto::RandomBytes(std::span(h).subspan(9)));
  return h;
}

static Bytes SessionInput(std::string_view label, uint32_t module_id, ByteSpan header,
                          ByteSpan tail) {
  ByteWriter w(label.size() + 4 + header.size() + tail.size());
  w.PutBytes(AsBytes(label));
  w.PutU32(module_id);
  w.PutBytes(header);
  w.PutBytes(tail);
  return w.Take();
}

Bytes HmacEvidence(std::string_view label, const crypto::Key& module_key, uint32_t module_id,
                   ByteSpan header, ByteSpan challenge) {
  std::string tag = std::string(label) + "/attest";
  crypto::Digest mac =
      crypto::HmacSha256(module_key, SessionInput(tag, module_id, header, challenge));
  Bytes out(header.begin(), header.end());
  out.insert(out.end(), mac.begin(), mac.end());
  return out;
}

crypto::Key HkdfSessionKey(std::string_view label, const crypto::Key& module_key,
                           uint32_t module_id, ByteSpan header, ByteSpan challenge) {
  std::string salt = std::string(label) + "/session";
  crypto::Digest c = crypto::Sha256(challenge);  // HKDF info is bounded; the hash is not
  crypto::Key key;
  key.fill(0);  // HKDF fails only if OpenSSL is broken; a zero key then fails every grant
  (void)crypto::Hkdf(module_key, AsBytes(salt), SessionInput("", module_id, header, c), key);
  return key;
}

Result<Bytes> ReadSecretFile(const std::string& path) {
  AEX_ASSIGN_OR_RETURN(Bytes text, ReadFileBounded(path, 256));
  std::string_view hex(reinterpret_cast<const char*>(text.data()), text.size());
  while (!hex.empty() && (hex.back() == '\n' || hex.back() == ' ')) hex.remove_suffix(1);
  Bytes raw;
  bool ok = HexDecode(hex, &raw) && (raw.size() == 16 || raw.size() == 32);
  crypto::Wipe(text);
  if (!ok) return InvalidArgument(path + " does not hold a 16- or 32-byte hex key");
  return raw;
}

Result<crypto::Key> ReadKeyFile(const std::string& path) {
  AEX_ASSIGN_OR_RETURN(Bytes raw, ReadSecretFile(path));
  if (raw.size() != crypto::kKeySize) {
    crypto::Wipe(raw);
    return InvalidArgument(path + " does not hold a 16-byte hex key");
  }
  crypto::Key key;
  std::copy(raw.begin(), raw.end(), key.begin());
  crypto::Wipe(raw);
  return key;
}

}  // namespace aex::tee
