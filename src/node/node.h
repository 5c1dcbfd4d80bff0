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

#include <nlohmann/json_fwd.hpp>

#include "node/frame_stream.h"
#include "node/metrics_server.h"
#include "node/module_process.h"
#include "node/peer_link.h"
#include "tls/tls.h"
#include "wire/management.h"

namespace aex::node {

struct NodeOptions {
  std::string listen_host = "127.0.0.1";
  uint16_t port = 0;        // 0: pick a free port
  std::string work_dir;     // where module binaries are stored
  // Empty: modules write to the node's stdout and stderr. Otherwise each
  // module's stdout and stderr are appended to <module_log_dir>/<name>.log
  // (`aex logs --module`).
  std::string module_log_dir;
  // The node's platform service (aex-platform) socket, passed to modules.
  // The node itself holds no platform secret.
  std::string platform_socket;
  bool sgx_debug = false;    // launch sgx modules as debug enclaves
  // Modules the node runs from its start, as on a board whose firmware
  // holds them (the original framework's pre-installed drivers): name ->
  // binary, of type preinstall_backend (aex::tee::Backend as u8). They have
  // no load tag and no attestation deadline (docs/porting-from-ae.md).
  std::map<std::string, std::string> preinstall;
  uint8_t preinstall_backend = 0;
  std::string name = "node";
  // The deployment this node serves (aex nodes start passes the id the
  // deployer derives from the descriptor), "" when started by hand. Both
  // name and deployment are sent in HELLO_ACK; REQUIRES: at most
  // wire::kMaxNodeIdentity bytes each.
  std::string deployment;
  std::chrono::milliseconds call_timeout{10000};
  size_t peer_backlog = 10000;  // frames queued per unreachable peer
  size_t max_sessions = 4096;
  size_t max_modules = 1024;
  // Hostile clients (docs/reliability.md). A greeted session that sends
  // nothing (and awaits no answer) for session_idle_timeout is closed; a
  // frame must arrive whole within frame_timeout of its first byte; a TLS
  // handshake must finish within handshake_timeout.
  std::chrono::milliseconds session_idle_timeout{300000};
  std::chrono::milliseconds frame_timeout{30000};
  std::chrono::milliseconds handshake_timeout{3000};
  // TLS handshakes in progress at most, in all and per source address;
  // beyond, the oldest is dropped for the newest.
  size_t max_handshakes = 128;
  size_t max_handshakes_per_source = 16;
  // All bytes buffered for sessions together (reads of partial frames,
  // queued replies) beyond a small allowance per session.
  size_t buffer_budget = 32u << 20;
  // Devices attached to this node: name -> socket of its simulator
  // (aex-device). A module claiming one gets it, exclusively, as fd 4.
  std::map<std::string, std::string> devices;
  // Mutual TLS on the port and on peer links (tls/tls.h): this node's
  // certificate and key and the deployment CA. All empty: plain TCP.
  tls::Files tls;
  // Allows plain TCP (CheckTransportSecurity).
  bool insecure_no_tls = false;
  // A module that has not answered an ATTEST successfully this long after
  // its LOAD is unloaded (and counted): a deployer killed between LOAD and
  // attestation leaves no module running unattested. 0: never.
  std::chrono::milliseconds attest_deadline{60000};
  // HOST:PORT (IPv6 as [ADDR]:PORT) where GET /metrics answers Prometheus
  // scrapes; empty: off. It speaks what the node's port speaks: mutual TLS
  // with the node's material (a scraper presents a certificate from the
  // deployment CA), or, with --insecure-no-tls, plain HTTP on loopback only.
  std::string metrics_listen;
};

// Refuses a configuration that would let anyone who can connect manage the
// node: plain TCP, on loopback too (any local user or process could load,
// unload or reset modules), unless insecure_no_tls. Also refuses a partial
// TLS configuration. Node::Start calls it; it is separate so that it can be
// tested without a network.
Status CheckTransportSecurity(const NodeOptions& options);


class Node {
 public:
  Node(asio::io_context& io, NodeOptions options);
  ~Node();

  Status Start();
  // Loads options.preinstall. REQUIRES: Start() succeeded.
  Status LoadPreinstalled();
  void Stop();
  uint16_t port() const { return port_; }
  // The port /metrics is served on; 0 when off.
  uint16_t metrics_port() const { return metrics_ ? metrics_->port() : 0; }

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
    uint64_t undelivered = 0;  // events the peer node reported undeliverable
    // The last event routed: when its frame came from the module and when
    // it was handed on (aex trace; WallClockNanos).
    uint64_t received_at = 0, routed_at = 0;
  };
  // The last event delivered to a module on a connection (aex trace;
  // WallClockNanos): the sending node's stamp (0 if it came from a module of
  // this node), when this node got it and when it wrote it to the module.
  struct Arrival {
    uint64_t sent_at = 0, received_at = 0, delivered_at = 0;
  };
  void NoteArrival(uint32_t module_id, uint32_t conn_id, Arrival a);
  // A module named `name` is being loaded: counts a restart if an earlier
  // instance of that name died (exited or hung) on this node.
  void CountRestart(const std::string& name);
  struct Counters {
    uint64_t events_routed = 0;
    uint64_t events_undeliverable = 0;  // no route, module gone or queue full
    uint64_t requests_routed = 0;
    uint64_t frames_rejected = 0;
    uint64_t sessions_accepted = 0;
    uint64_t events_held = 0;  // frames held by paused routes (aex update)
    uint64_t flow_holds = 0;   // modules held while a peer link was congested
    uint64_t idle_trims = 0;   // memory given back after a quiet second
    // TLS clients refused: plain TCP, no or wrong certificate (these also
    // count in frames_rejected), silent or too slow (deadlines).
    uint64_t handshakes_rejected = 0;
    // Sent to peers, which reported them undeliverable (UNDELIVERED).
    uint64_t peer_undelivered = 0;
    // LINK_EVENTs received twice (dropped) and gaps seen on peer links.
    uint64_t link_duplicates = 0;
    uint64_t link_gaps = 0;
    // Modules unloaded because they were not attested within attest_deadline.
    uint64_t modules_unattested_unloaded = 0;
    // Hostile clients: handshakes dropped for newer ones (capacity full),
    // sessions closed to admit a new one (max_sessions or descriptors),
    // idle sessions closed, frames not completed in time, connections
    // refused because nothing could be evicted.
    uint64_t handshakes_evicted = 0;
    uint64_t sessions_evicted = 0;
    uint64_t sessions_idle_closed = 0;
    uint64_t frames_timed_out = 0;
    uint64_t sessions_refused = 0;
  };
  // A TLS handshake in progress (oldest first by session id).
  struct Handshake {
    asio::ip::address source;
    std::chrono::steady_clock::time_point started;
  };

  void Accept();
  // Once traffic stops, gives freed heap back to the system (glibc keeps it
  // otherwise): an idle node stays small after a burst.
  void TrimWhenIdle();
  // Stops taking events from `module` while `link` is congested, instead of
  // refusing what the link cannot hold: the module then waits on its full
  // ring. ResumeFlow (a timer) lets it go on once the link is relieved, or
  // once the link has made no progress (no event acknowledged) for
  // kMaxFlowStall, or after MaxFlowHold in any case: a peer that is away or never acknowledges must not make a
  // module look hung (its calls are answered late, not never) nor hold up
  // its events to other destinations for long, so the link's flow control
  // is then suspended until it is relieved, and past its bound it refuses as
  // before. A slow peer that keeps acknowledging holds its senders back, a
  // few seconds at a time: long enough to absorb a burst, too short for a
  // peer that acknowledges drop by drop to stall a module.
  void HoldSenderOf(uint32_t src_module, const std::shared_ptr<PeerLink>& link);
  void PauseForFlow(const std::shared_ptr<ModuleProcess>& module,
                    const std::shared_ptr<PeerLink>& link);
  void ResumeFlow();
  // Serves an accepted connection as a session (after the TLS handshake when
  // the node uses TLS).
  void OpenSession(asio::ip::tcp::socket socket);
  // TLS: the handshake starts once the client has sent its first bytes, so
  // silent connections hold no TLS state and no handshake slot.
  void AwaitClientHello(const std::shared_ptr<Session>& s);
  // Reads frames (HELLO first) from the session's stream.
  void StartSession(const std::shared_ptr<Session>& s);
  void StartHandshake(const std::shared_ptr<Session>& s);
  void OnHandshake(const std::shared_ptr<Session>& s, const asio::error_code& ec);
  // Frees a handshake slot, for the session's source too; idempotent.
  void EndHandshake(uint64_t id);
  // Makes room for one more handshake from `source`: drops the oldest of
  // that source at its limit, else the oldest of all at the global limit.
  void MakeHandshakeRoom(const asio::ip::address& source);
  // Closes a session whatever state it is in (waiting, handshaking, open).
  void DropSession(std::shared_ptr<Session> s, const Status& why);
  // Closes the session that has been quiet longest, sparing sessions awaiting
  // an answer and preferring not to close an authenticated deployer. False
  // if none could be closed.
  bool EvictIdleSession();
  // Periodic: closes handshakes, idle sessions and frames past their deadline.
  void SweepSessions();
  void OnSessionClosed(uint64_t id, const Status& why);
  void OnSessionFrame(const std::shared_ptr<Session>& s, const wire::Frame& f);
  // Peer links, receiving side: in-order delivery, ACK and UNDELIVERED.
  void ScheduleAck(const std::shared_ptr<Session>& s);
  void SendLinkAck(Session& s, bool gap);
  void OnLinkEvent(const std::shared_ptr<Session>& s, ByteSpan payload);
  // Sending side: a peer could not deliver some of our events.
  void OnPeerUndelivered(const PeerLink* peer, const wire::Undelivered& u);
  void HandleManagement(const std::shared_ptr<Session>& s, const wire::Frame& f);
  void ReplyTo(const std::weak_ptr<Session>& s, uint32_t id, const Status& st,
               ByteSpan payload = {});
  Result<Bytes> LoadModule(ByteSpan payload);
  Result<uint32_t> Load(const wire::LoadModule& req, bool preinstalled);
  Status Unload(uint32_t module_id);
  // Unloads module `id` (this very process) if it is still unattested.
  void ArmAttestDeadline(const std::shared_ptr<ModuleProcess>& m);
  Result<Bytes> ListModules(ByteSpan payload);
  Status AddRoute(ByteSpan payload);
  Result<Bytes> RegisterPeriodic(ByteSpan payload);
  void Reset();
  void CollectStatus(std::function<void(std::string)> done);
  // The same document, unserialised (for /metrics).
  void CollectStatusDoc(std::function<void(const nlohmann::json&)> done);
  Status StartMetrics();
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
  std::shared_ptr<MetricsServer> metrics_;  // null: no --metrics-listen
  std::map<uint64_t, Handshake> handshakes_;
  std::map<asio::ip::address, size_t> handshakes_per_source_;
  std::shared_ptr<BufferBudget> budget_;
  size_t session_cap_ = 0;  // max_sessions, lowered to fit the descriptor limit
  asio::steady_timer sweep_timer_{io_};
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
  std::map<uint32_t, std::unique_ptr<asio::steady_timer>> attest_deadlines_;  // by module id
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
  LatencyHistogram route_latency_;    // module's event in -> handed to the peer link or module
  LatencyHistogram link_transit_;     // peer's send stamp -> its LINK_EVENT read here
  std::map<std::pair<uint32_t, uint32_t>, Arrival> arrivals_;  // (module, connection)
  std::set<std::string> died_;                 // names whose instance died, unloaded since
  std::map<std::string, uint64_t> restarts_;   // by module name
  // Flow control: modules whose events wait for a congested peer link, by
  // module id (PauseForFlow, ResumeFlow).
  struct FlowPause {
    std::weak_ptr<ModuleProcess> module;
    std::weak_ptr<PeerLink> link;
    size_t pending;                                  // link->pending() when last seen falling
    std::chrono::steady_clock::time_point progress;  // when that was
    std::chrono::steady_clock::time_point since;     // held since
  };
  std::map<uint32_t, FlowPause> flow_paused_;
  asio::steady_timer flow_timer_{io_};
  asio::steady_timer trim_timer_{io_};
  uint64_t trim_seen_ = 0;     // traffic count at the last tick
  uint64_t trim_done_at_ = 0;  // traffic count at the last trim
  bool stopped_ = false;
};

}  // namespace aex::node

#endif  // AEX_NODE_NODE_H_
