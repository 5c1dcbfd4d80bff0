// Small file helpers for the untrusted tools (deployer, node). Not linked into
// modules, so they stay out of the trusted computing base.

#ifndef AEX_UTIL_FILES_H_
#define AEX_UTIL_FILES_H_

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <string_view>

#include "aex/status.h"

namespace aex {

// What WriteFileAtomically does when `path` already exists.
enum class IfExists {
  kReplace,  // replace it (rename over it)
  kKeep,     // keep it: the first writer wins, later writers get Ok and write nothing
};

// Writes `data` to `path` so that no reader ever sees a partial file: the
// bytes go to a temporary file in the same directory, created with `mode`
// (e.g. 0600 for secrets, never wider while being written), are fsync'd, and
// the file is then published by rename (kReplace) or link (kKeep). On failure
// the temporary file is removed and `path` is untouched.
Status WriteFileAtomically(const std::filesystem::path& path, std::string_view data, mode_t mode,
                           IfExists if_exists = IfExists::kReplace);

// Reads a whole file of at most `max` bytes: kNotFound if it cannot be
// read, kResourceExhausted (naming the file) if it is larger, before any of
// it is read.
Result<std::string> ReadSmallFile(const std::filesystem::path& path, size_t max);

}  // namespace aex

#endif  // AEX_UTIL_FILES_H_
