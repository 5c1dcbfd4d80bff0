// Opening a TCP listener for the untrusted tools' small HTTP servers
// (node/metrics_server.h, deployer/dashboard_server.h).
//
// REQUIRES: included where ASIO_STANDALONE is defined (aex_node_lib and
// aex_deployer_lib define it for their users).

#ifndef AEX_UTIL_LISTEN_H_
#define AEX_UTIL_LISTEN_H_

#include <fcntl.h>

#include <asio.hpp>
#include <string>

#include "aex/status.h"

namespace aex {

// Opens, binds (with SO_REUSEADDR) and listens `acceptor` on `endpoint`,
// close-on-exec so that child processes (modules, dot) do not inherit it.
// On failure: kIo, "cannot listen for <what> on HOST:PORT: <reason>".
// REQUIRES: `acceptor` is not open.
Status ListenTcp(asio::ip::tcp::acceptor& acceptor, const asio::ip::tcp::endpoint& endpoint,
                 const std::string& what);

// Accepts connections on `acceptor` one after another until it is closed,
// handing each (made close-on-exec) to `serve(socket)`. `serve` should hold
// what owns `acceptor` (a shared_ptr) so that it outlives the loop.
// Threading: on the thread that runs the acceptor's io_context.
template <typename Serve>
void AcceptEach(asio::ip::tcp::acceptor& acceptor, Serve serve) {
  acceptor.async_accept([&acceptor, serve = std::move(serve)](
                            const asio::error_code& ec, asio::ip::tcp::socket socket) mutable {
    if (!acceptor.is_open()) return;
    if (!ec) {
      fcntl(socket.native_handle(), F_SETFD, FD_CLOEXEC);
      serve(std::move(socket));
    }
    AcceptEach(acceptor, std::move(serve));
  });
}

}  // namespace aex

#endif  // AEX_UTIL_LISTEN_H_
