#include "deployer/dashboard.h"

#include <time.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "aex/bytes.h"
#include "crypto/crypto.h"
#include "deployer/dashboard_server.h"
#include "deployer/dashboard_view.h"
#include "deployer/interrupt.h"
#include "deployer/subprocess.h"

namespace aex::deploy {

// dashboard_page.html, made into a string by CMake (dashboard_page.cc).
extern const char kDashboardPageTemplate[];

namespace {

namespace fs = std::filesystem;

constexpr char kGraphMarker[] = "<!--AEX_GRAPH-->";
constexpr char kSnapshotMarker[] = "/*AEX_SNAPSHOT*/null";
// Lines under each module's name in the graph, as wide as the live text
// the page writes there (dot sizes the boxes for them).
const std::vector<std::string> kGraphLiveSlots = {"attested (manager), running",
                                                     "in 0000000  out 0000000  000.0/s"};

std::string HtmlEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

void ReplaceOnce(std::string* text, const std::string& marker, const std::string& with) {
  size_t at = text->find(marker);
  if (at != std::string::npos) text->replace(at, marker.size(), with);
}

// The application graph as inline SVG, drawn by Graphviz's dot; a note
// instead if dot fails (the page then shows the tables only).
std::string RenderGraph(const Deployer& d) {
  const fs::path dir = d.descriptor().base_dir / ".aex";
  const fs::path dot = dir / "dashboard.dot", svg = dir / "dashboard.svg";
  std::ofstream(dot) << d.GraphDot(kGraphLiveSlots);
  Status drawn = RunProgram({"dot", "-Tsvg", dot.string(), "-o", svg.string()});
  std::stringstream text;
  text << std::ifstream(svg).rdbuf();
  std::error_code ec;
  fs::remove(dot, ec);
  fs::remove(svg, ec);
  std::string out = text.str();
  size_t start = out.find("<svg");
  if (!drawn.ok() || start == std::string::npos) {
    return "<p>No graph: " + HtmlEscape(drawn.ok() ? "dot wrote no SVG" : drawn.message()) +
           "</p>";
  }
  return out.substr(start);
}

std::string NewToken() {
  uint8_t raw[16];
  if (!crypto::RandomBytes(raw).ok()) return "";
  return HexEncode(ByteSpan(raw, sizeof raw));
}

std::string WallClock() {
  time_t now = time(nullptr);
  struct tm utc;
  gmtime_r(&now, &utc);
  char buf[32];
  strftime(buf, sizeof buf, "%H:%M:%S UTC", &utc);
  return buf;
}

double MonotonicSeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// One poll: the state file again, every node's status, one snapshot.
std::string Poll(Deployer& d, DashboardView& view) {
  Status reloaded = d.ReloadState();
  nlohmann::json report = d.StatusReport();
  nlohmann::json snap = view.Update(report, MonotonicSeconds(), WallClock());
  if (!reloaded.ok()) snap["state_error"] = reloaded.message();
  return snap.dump();
}

}  // namespace

Result<asio::ip::tcp::endpoint> ParseDashboardListen(const std::string& listen,
                                                     bool allow_remote) {
  const size_t colon = listen.rfind(':');
  const auto bad = [&](const std::string& why) {
    return InvalidArgument("--listen " + listen + ": " + why);
  };
  if (colon == std::string::npos) return bad("expected HOST:PORT");
  std::string host = listen.substr(0, colon), port = listen.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (port.empty() || port.size() > 5 ||
      port.find_first_not_of("0123456789") != std::string::npos || std::stoul(port) > 65535) {
    return bad("port must be a number from 0 to 65535");
  }
  asio::error_code ec;
  asio::ip::address address = asio::ip::make_address(host, ec);
  if (ec) return bad("host must be an IP address");
  if (!address.is_loopback() && !allow_remote) {
    return bad("not a loopback address; the page and its token travel in the clear, so "
               "serving it elsewhere needs --allow-remote");
  }
  return asio::ip::tcp::endpoint(address, static_cast<uint16_t>(std::stoul(port)));
}

std::string RenderDashboardPage(const std::string& graph, const std::string& snapshot) {
  // In a <script>, "</script>" or "<!--" in a string would end or confuse
  // it: JSON may spell '<' as \u003c instead.
  std::string safe;
  for (char c : snapshot) {
    if (c == '<') safe += "\\u003c";
    else safe += c;
  }
  std::string page = kDashboardPageTemplate;
  ReplaceOnce(&page, kGraphMarker, graph);
  ReplaceOnce(&page, kSnapshotMarker, safe);
  return page;
}

Status RunDashboard(Deployer& d, const DashboardOptions& options) {
  AEX_ASSIGN_OR_RETURN(auto endpoint, ParseDashboardListen(options.listen, options.allow_remote));
  const std::string token = NewToken();
  if (token.empty()) return Internal("no random bytes for the dashboard's token");
  const std::string graph = RenderGraph(d);

  asio::io_context io;
  auto server = std::make_shared<DashboardServer>(
      io, token, [graph](const std::string& snap) { return RenderDashboardPage(graph, snap); });
  AEX_RETURN_IF_ERROR(server->Listen(endpoint));
  DashboardView view;
  server->Publish(Poll(d, view));  // io does not run yet: this thread may call it
  std::thread serving([&io] { io.run(); });

  const std::string host = endpoint.address().is_v6()
                               ? "[" + endpoint.address().to_string() + "]"
                               : endpoint.address().to_string();
  if (options.ready) {
    options.ready("http://" + host + ":" + std::to_string(server->port()) + "/?token=" + token);
  }
  // SIGINT and SIGTERM (HandleInterrupts, installed by main) end the loop.
  while (WaitUnlessInterrupted(options.interval)) {
    asio::post(io, [server, snap = Poll(d, view)]() mutable { server->Publish(std::move(snap)); });
  }
  asio::post(io, [server, &io] {
    server->Stop();
    io.stop();
  });
  serving.join();
  return Status::Ok();
}

}  // namespace aex::deploy
