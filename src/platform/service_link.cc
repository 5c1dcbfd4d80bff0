#include "platform/service_link.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace aex::tee {

Bytes EncodeServiceRequest(const ServiceRequest& r) {
  ByteWriter w(128);
  w.PutU8(kServiceVersion);
  w.PutU8(static_cast<uint8_t>(r.op));
  w.PutU8(r.backend);
  w.PutU32(r.module_id);
  if (r.op == ServiceOp::kKey) {
    w.PutU16(r.vendor_id);
    w.PutU8(static_cast<uint8_t>(r.uuid.size()));
    w.PutBytes(r.uuid);
  } else if (r.op == ServiceOp::kQuote) {
    w.PutU8(r.flags);
    w.PutU64(r.instance_id);
    w.PutBytes(r.report_data);
    w.PutBytes(r.module_pub);
  } else if (r.op == ServiceOp::kEinit) {
    w.PutBytes(AsBytes(r.sigstruct_hex));
  }
  return w.Take();
}

Result<Bytes> ParseServiceResponse(ByteSpan msg) {
  ByteReader r(msg);
  uint8_t code = 0;
  if (!r.ReadU8(&code)) return Status(Code::kProtocol, "empty platform response");
  if (code == 0) {
    ByteSpan rest;
    (void)r.ReadBytes(r.remaining(), &rest);
    return Bytes(rest.begin(), rest.end());
  }
  std::string message;
  if (!r.ReadString16(&message) || !r.empty() || code > static_cast<uint8_t>(Code::kDisabled)) {
    return Status(Code::kProtocol, "malformed platform response");
  }
  return Status(static_cast<Code>(code), "platform service: " + message);
}

ServiceLink::~ServiceLink() {
  if (fd_ >= 0) close(fd_);
}

Status ServiceLink::Connect(const std::string& socket_path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path.empty() || socket_path.size() >= sizeof addr.sun_path) {
    return InvalidArgument("bad platform socket path '" + socket_path + "'");
  }
  std::memcpy(addr.sun_path, socket_path.data(), socket_path.size());
  fd_ = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (fd_ < 0 || connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    return Unavailable("cannot reach the platform service at " + socket_path + ": " +
                       strerror(errno));
  }
  return Status::Ok();
}

Result<Bytes> ServiceLink::Call(const ServiceRequest& request) {
  if (fd_ < 0) return FailedPrecondition("no platform service connection");
  Bytes msg = EncodeServiceRequest(request);
  if (send(fd_, msg.data(), msg.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(msg.size())) {
    return Unavailable("platform service connection lost");
  }
  Bytes buf(kMaxServiceMessage);
  ssize_t n;
  do n = recv(fd_, buf.data(), buf.size(), 0);
  while (n < 0 && errno == EINTR);
  if (n <= 0) return Unavailable("platform service closed the connection");
  buf.resize(static_cast<size_t>(n));
  auto out = ParseServiceResponse(buf);
  crypto::Wipe(buf);
  return out;
}

}  // namespace aex::tee
