// Node: the untrusted event manager (aex-node). It loads modules as
// processes, routes their sealed events and requests by (module, connection)
// to local modules or peer nodes, runs periodic events, and answers the
// deployer's management messages. It never holds a key or sees a plaintext
// payload: everything it carries is sealed by the modules or the deployer.

#ifndef AEX_NODE_NODE_H_
#define AEX_NODE_NODE_H_

#include <asio.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "node/module_process.h"
#include "node/peer_link.h"

namespace aex::node {

struct NodeOptions {
  std::string listen_host = "127.0.0.1";
  uint16_t port = 0;        // 0: pick a free port
  std::string work_dir;     // where module binaries are stored
  std::string key_file;     // the simulated platform's node key K_N
  std::string name = "node";
  std::chrono::milliseconds call_timeout{10000};
  size_t peer_backlog = 10000;  // frames queued per unreachable peer
  size_t max_sessions = 4096;
  size_t max_modules = 1024;
};

// Creates the 16-byte node key file (0600) if it does not exist yet.
Status EnsureKeyFile(const std::string& path);

class Node {
 public:
  Node(asio::io_context& io, NodeOptions options);
  ~Node();

  Status Start();
  void Stop();
  uint16_t port() const { return port_; }

 private:
  struct Session;
  struct Route {
    uint32_t dst_module = 0;
    std::shared_ptr<PeerLink> peer;  // null: the destination is on this node
  };
  struct Counters {
    uint64_t events_routed = 0;
    uint64_t events_undeliverable = 0;  // no route, module gone or queue full
    uint64_t requests_routed = 0;
    uint64_t frames_rejected = 0;
    uint64_t sessions_accepted = 0;
  };

  void Accept();
  void OnSessionFrame(const std::shared_ptr<Session>& s, const wire::Frame& f);
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

  asio::io_context& io_;
  NodeOptions options_;
  asio::ip::tcp::acceptor acceptor_;
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
  Counters counters_;
  bool stopped_ = false;
};

}  // namespace aex::node

#endif  // AEX_NODE_NODE_H_
