// Status and Result<T>: explicit error values for every fallible operation.
//
// aex never lets an exception cross a component boundary. Functions that can
// fail on untrusted input return a Status (no value) or a Result<T> (a value or
// the Status explaining why there is none).

#ifndef AEX_STATUS_H_
#define AEX_STATUS_H_

#include <cstdint>
#include <string>
#include <utility>
#include <variant>

namespace aex {

enum class Code : uint16_t {
  kOk = 0,
  kInvalidArgument = 1,  // malformed input: bad frame, bad field, bad length
  kNotFound = 2,         // no such module, connection, entry, node
  kAlreadyExists = 3,
  kPermissionDenied = 4,  // refused by policy (e.g. a device already claimed)
  kAuthFailed = 5,        // a tag, MAC or signature did not verify
  kReplay = 6,            // a counter or nonce was not fresh
  kResourceExhausted = 7, // a bound was hit (queue, frame size, connections)
  kUnavailable = 8,       // peer or module not reachable (yet)
  kTimeout = 9,
  kFailedPrecondition = 10,  // e.g. module not attested, connection not keyed
  kInternal = 11,
  kIo = 12,
  kProtocol = 13,  // peer violated the wire protocol
  kDisabled = 14,  // the module was disabled by the deployer
};

const char* CodeName(Code code);

class Status {
 public:
  Status() = default;  // OK
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  std::string ToString() const;

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

inline Status InvalidArgument(std::string m) { return Status(Code::kInvalidArgument, std::move(m)); }
inline Status NotFound(std::string m) { return Status(Code::kNotFound, std::move(m)); }
inline Status AuthFailed(std::string m) { return Status(Code::kAuthFailed, std::move(m)); }
inline Status Internal(std::string m) { return Status(Code::kInternal, std::move(m)); }
inline Status Unavailable(std::string m) { return Status(Code::kUnavailable, std::move(m)); }
inline Status FailedPrecondition(std::string m) {
  return Status(Code::kFailedPrecondition, std::move(m));
}
// The same failure, its message prefixed with "what: "; OK stays OK.
inline Status WithContext(const std::string& what, const Status& s) {
  return s.ok() ? s : Status(s.code(), what + ": " + s.message());
}

// Result<T> holds either a T or a non-OK Status.
template <typename T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {}  // NOLINT: REQUIRES !status.ok()

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace aex

// Propagates a non-OK Status from an expression returning Status.
#define AEX_RETURN_IF_ERROR(expr)          \
  do {                                     \
    ::aex::Status aex_status_ = (expr);    \
    if (!aex_status_.ok()) return aex_status_; \
  } while (0)

#define AEX_CONCAT_INNER_(a, b) a##b
#define AEX_CONCAT_(a, b) AEX_CONCAT_INNER_(a, b)
// Assigns the value of a Result to lhs or returns its Status.
#define AEX_ASSIGN_OR_RETURN(lhs, expr) \
  AEX_ASSIGN_OR_RETURN_IMPL_(AEX_CONCAT_(aex_result_, __LINE__), lhs, expr)
#define AEX_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                               \
  if (!tmp.ok()) return tmp.status();              \
  lhs = std::move(tmp).value()

#endif  // AEX_STATUS_H_
