#include "util/listen.h"

#include <fcntl.h>

namespace aex {

Status ListenTcp(asio::ip::tcp::acceptor& acceptor, const asio::ip::tcp::endpoint& endpoint,
                 const std::string& what) {
  asio::error_code ec;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::ip::tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Status(Code::kIo, "cannot listen for " + what + " on " +
                                 endpoint.address().to_string() + ":" +
                                 std::to_string(endpoint.port()) + ": " + ec.message());
  }
  fcntl(acceptor.native_handle(), F_SETFD, FD_CLOEXEC);
  return Status::Ok();
}

}  // namespace aex
