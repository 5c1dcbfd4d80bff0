// Files holding platform material (key_files.cc), read by the platform
// service, the deployer's verifiers and tests. No module calls these: a
// module gets its keys from the platform service, so they stay outside the
// module's TCB.

#ifndef AEX_PLATFORM_KEY_FILES_H_
#define AEX_PLATFORM_KEY_FILES_H_

#include <string>

#include "aex/bytes.h"
#include "aex/status.h"
#include "crypto/crypto.h"

namespace aex::tee {

// SHA-256 of the running executable: what the simulated platforms measure.
Result<crypto::Digest> MeasureSelf();
// SHA-256 of what remains to be read from `fd` (streamed).
Result<crypto::Digest> Sha256OfFile(int fd);
// Reads a 16-byte platform key stored as 32 hex digits.
Result<crypto::Key> ReadKeyFile(const std::string& path);
// Reads a 16- or 32-byte secret stored as hex (a TrustZone HUK may be either).
Result<Bytes> ReadSecretFile(const std::string& path);
// Reads a whole file of at most `max` bytes.
Result<Bytes> ReadFileBounded(const std::string& path, size_t max);

}  // namespace aex::tee

#endif  // AEX_PLATFORM_KEY_FILES_H_
