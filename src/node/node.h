// Node: the untrusted event manager (aex-node). It loads modules as
// processes, routes their sealed events and requests by (module, connection)
// to local modules or peer nodes, runs periodic events, and answers the
// deployer's management messages. It never holds a key or sees a plaintext
// payload: everything it carries is sealed by the modules or the deployer.

#ifndef AEX_NODE_NODE_H_
#define AEX_NODE_NODE_H_

#include <asio.hpp>
#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "node/module_process.h"
#include "node/peer_link.h"
#include "tls/tls.h"

namespace aex::node {

struct NodeOptions {
  std::string listen_host = "127.0.0.1";
  uint16_t port = 0;        // 0: pick a free port
  std::string work_dir;     // where module binaries are stored
  // The node's platform service (aex-platform) socket, passed to modules.
  // The node itself holds no platform secret.
  std::string platform_socket;
  bool sgx_debug = false;    // launch sgx modules as debug enclaves
  std::string name = "node";
  std::chrono::milliseconds call_timeout{10000};
  size_t peer_backlog = 10000;  // frames queued per unreachable peer
  size_t max_sessions = 4096;
  size_t max_modules = 1024;
  // Devices attached to this node: name -> socket of its simulator
  // (aex-device). A module claiming one gets it, exclusively, as fd 4.
  std::map<std::string, std::string> devices;
  // Mutual TLS on the port and on peer links (tls/tls.h): this node's
  // certificate and key and the deployment CA. All empty: plain TCP.
  tls::Files tls;
  // Allows plain TCP on a non-loopback address (CheckTransportSecurity).
  bool insecure_no_tls = false;
};

// Refuses a configuration that would let anyone on the network manage the
// node: plain TCP on an address other than loopback, unless
// insecure_no_tls. Also refuses a partial TLS configuration. Node::Start
// calls it; it is separate so that it can be tested without a network.
Status CheckTransportSecurity(const NodeOptions& options);


class Node {
 public:
  Node(asio::io_context& io, NodeOptions options);
  ~Node();

  Status Start();
  void Stop();
  uint16_t port() const { return port_; }

 private:
  struct Session;
  // A frame a paused route holds for its new destination (node_update.cc).
  struct Held {
    wire::MsgType type;
    uint32_t request_id;
    Bytes sealed;
  };
  struct Route {
    uint32_t dst_module = 0;
    std::shared_ptr<PeerLink> peer;  // null: the destination is on this node
    bool paused = false;             // aex update: hold frames until resumed
    std::deque<Held> held{};
    size_t held_bytes = 0;
  };
  struct Counters {
    uint64_t events_routed = 0;
    uint64_t events_undeliverable = 0;  // no route, module gone or queue full
    uint64_t requests_routed = 0;
    uint64_t frames_rejected = 0;
    uint64_t sessions_accepted = 0;
    uint64_t events_held = 0;  // frames held by paused routes (aex update)
    // TLS handshakes that failed: plain TCP, no or wrong certificate, too
    // slow. Also counted in frames_rejected (rejections of any kind).
    uint64_t handshakes_rejected = 0;
  };

  void Accept();
  // Once traffic stops, gives freed heap back to the system (glibc keeps it
  // otherwise): an idle node stays small after a burst.
  void TrimWhenIdle();
  // Serves an accepted connection as a session (after the TLS handshake when
  // the node uses TLS).
  void OpenSession(asio::ip::tcp::socket socket);
  void OnSessionClosed(uint64_t id, const Status& why);
  void OnSessionFrame(const std::shared_ptr<Session>& s, const wire::Frame& f);
  void ScheduleAck(const std::shared_ptr<Session>& s);
  void HandleManagement(const std::shared_ptr<Session>& s, const wire::Frame& f);
  void ReplyTo(const std::weak_ptr<Session>& s, uint32_t id, const Status& st,
               ByteSpan payload = {});
  Result<Bytes> LoadModule(ByteSpan payload);
  Status Unload(uint32_t module_id);
  Status AddRoute(ByteSpan payload);
  Result<Bytes> RegisterPeriodic(ByteSpan payload);
  void Reset();
  void CollectStatus(std::function<void(std::string)> done);
  std::shared_ptr<ModuleProcess> FindModule(uint32_t id);
  std::shared_ptr<PeerLink> PeerFor(const std::string& host, uint16_t port);

  // Sealed traffic.
  void OnModuleFrame(ModuleProcess& from, const wire::Frame& f);
  bool DeliverEvent(uint32_t dst_module, uint32_t conn_id, ByteSpan sealed);
  void DeliverRequest(uint32_t dst_module, uint32_t conn_id, ByteSpan sealed,
                      ReplyCallback done);
  void RouteFromModule(uint32_t src_module, wire::MsgType type, uint32_t conn_id,
                       ByteSpan sealed, uint32_t request_id);

  void WatchChildren();

  // Zero-loss update (node_update.cc, docs/update.md).
  Result<Bytes> PauseRoutes(ByteSpan payload);
  Status ResumeRoutes(ByteSpan payload);
  void AwaitFence(ByteSpan payload, std::function<void(Status)> done);
  void OnFence(ByteSpan payload);
  // Holds a frame of a paused route; false when the bound is reached.
  bool Hold(Route& route, wire::MsgType type, ByteSpan sealed, uint32_t request_id);

  asio::io_context& io_;
  NodeOptions options_;
  asio::ip::tcp::acceptor acceptor_;
  // Server and client side of every TLS connection; null without TLS.
  std::shared_ptr<asio::ssl::context> tls_;
  size_t handshaking_ = 0;  // TLS handshakes in progress
  asio::signal_set child_signals_;
  uint16_t port_ = 0;
  std::map<uint64_t, std::shared_ptr<Session>> sessions_;
  uint64_t next_session_ = 0;
  std::map<uint32_t, std::shared_ptr<ModuleProcess>> modules_;
  uint32_t next_module_id_ = 0;
  std::map<std::pair<uint32_t, uint32_t>, Route> routes_;
  std::map<std::string, std::shared_ptr<PeerLink>> peers_;
  struct Periodic {
    uint32_t module_id, entry, period_ms;
    std::unique_ptr<asio::steady_timer> timer;
    uint64_t fired = 0, failed = 0;
  };
  std::map<uint32_t, Periodic> periodic_;
  uint32_t next_periodic_ = 0;
  std::map<std::string, uint32_t> devices_;  // device -> owning module
  std::map<uint64_t, uint32_t> fences_;      // token -> FENCE frames received
  std::deque<uint64_t> fence_order_;         // oldest first, to bound fences_
  struct FenceWait {
    uint64_t token;
    uint32_t count;
    std::shared_ptr<asio::steady_timer> timer;
    std::function<void(Status)> done;
  };
  std::vector<FenceWait> fence_waits_;
  Counters counters_;
  asio::steady_timer trim_timer_{io_};
  uint64_t trim_seen_ = 0;     // traffic count at the last tick
  uint64_t trim_done_at_ = 0;  // traffic count at the last trim
  bool stopped_ = false;
};

}  // namespace aex::node

#endif  // AEX_NODE_NODE_H_
