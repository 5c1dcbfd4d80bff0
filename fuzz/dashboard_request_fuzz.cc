// libFuzzer target for the request heads `aex dashboard` accepts from any
// local process (src/deployer/dashboard_server.h, RouteRequest and
// QueryHasToken).
//
// Besides "no crash" (with ASan/UBSan), it checks the access rule: no input
// reaches the page, the stream or the snapshot without carrying the token
// (`token=<token>` in its first line) and starting with "GET "; the same
// head with any other token of the same length is refused; and, as a round
// trip, a GET of any path made of the input's safe characters with the
// token appended is never refused for its token.

#include <cctype>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "deployer/dashboard_server.h"

namespace {

void Check(bool condition) {
  if (!condition) __builtin_trap();
}

const std::string kToken = "0123456789abcdef0123456789abcdef";

bool Served(aex::deploy::DashboardRoute r) {
  using aex::deploy::DashboardRoute;
  return r == DashboardRoute::kPage || r == DashboardRoute::kEvents ||
         r == DashboardRoute::kSnapshot || r == DashboardRoute::kNotFound;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using aex::deploy::DashboardRoute;
  using aex::deploy::RouteRequest;
  const std::string head(reinterpret_cast<const char*>(data), size);
  const std::string line = head.substr(0, head.find("\r\n"));

  DashboardRoute r = RouteRequest(head, kToken);
  if (Served(r)) {
    // Its first word is GET (words are split at whitespace, as by >>).
    const size_t start = line.find_first_not_of(" \t\n\v\f\r");
    Check(start != std::string::npos && line.compare(start, 3, "GET") == 0 &&
          start + 3 < line.size() && std::isspace(static_cast<unsigned char>(line[start + 3])));
    Check(line.find("token=" + kToken) != std::string::npos);
    // Any other token: refused.
    std::string other = kToken;
    other[0] = other[0] == 'x' ? 'y' : 'x';
    Check(RouteRequest(head, other) == DashboardRoute::kForbidden);
  }

  // Round trip: a path of the input's safe bytes, with the token, passes the token check.
  std::string path = "/";
  for (char c : line) {
    if (c > ' ' && c < 127 && c != '?' && c != '&' && c != '#') path += c;
  }
  DashboardRoute with_token = RouteRequest("GET " + path + "?token=" + kToken + " HTTP/1.1\r\n\r\n",
                                           kToken);
  Check(Served(with_token));
  return 0;
}
