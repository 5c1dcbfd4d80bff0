// Files holding platform material, read by the platform service, the
// deployer's verifiers and tests; no module calls these (modules get their
// keys from the platform service), so they sit outside the module's TCB.

#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <string_view>

#include "platform/key_files.h"
#include "platform/platform.h"

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

// Streams the file through SHA-256: no copy of the binary in memory (page
// faults on a fresh multi-megabyte buffer cost far more than the hash).
Result<crypto::Digest> Sha256OfFile(int fd) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) == 1;
  uint8_t buf[65536];
  ssize_t n = 0;
  while (ok && (n = read(fd, buf, sizeof buf)) > 0) ok = EVP_DigestUpdate(ctx, buf, n) == 1;
  crypto::Digest d;
  unsigned int len = 0;
  ok = ok && n == 0 && EVP_DigestFinal_ex(ctx, d.data(), &len) == 1 && len == d.size();
  EVP_MD_CTX_free(ctx);
  if (!ok) return Status(Code::kIo, "cannot read the file to measure");
  return d;
}

Result<crypto::Digest> MeasureSelf() {
  int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status(Code::kIo, "cannot open /proc/self/exe");
  auto d = Sha256OfFile(fd);
  close(fd);
  return d;
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
