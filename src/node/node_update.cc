// The node's part of a zero-loss module update (docs/update.md): pausing
// routes (holding what their sources emit, in order), fences that flush the
// frames already forwarded on a peer link, and re-pointing routes to the new
// instance. The node handles only sealed frames here, as everywhere.

#include <spdlog/spdlog.h>

#include <set>

#include "node/node.h"

namespace aex::node {

using wire::MsgType;

namespace {

// Bounds on what one paused route holds; beyond them its source is refused
// (events counted undeliverable, requests answered RESOURCE_EXHAUSTED).
constexpr size_t kMaxHeldFrames = 100000;
constexpr size_t kMaxHeldBytes = 64u << 20;
// Fence tokens remembered (oldest forgotten first).
constexpr size_t kMaxFenceTokens = 4096;

}  // namespace

bool Node::Hold(Route& route, MsgType type, ByteSpan sealed, uint32_t request_id) {
  if (route.held.size() >= kMaxHeldFrames || route.held_bytes + sealed.size() > kMaxHeldBytes) {
    return false;
  }
  route.held.push_back({type, request_id, Bytes(sealed.begin(), sealed.end())});
  route.held_bytes += sealed.size();
  ++counters_.events_held;
  return true;
}

Result<Bytes> Node::PauseRoutes(ByteSpan payload) {
  AEX_ASSIGN_OR_RETURN(wire::PauseRoutes req, wire::PauseRoutes::Parse(payload));
  for (const auto& k : req.routes) {
    if (!routes_.count({k.src_module, k.conn_id})) {
      return NotFound("no route for module " + std::to_string(k.src_module) + " connection " +
                      std::to_string(k.conn_id));
    }
  }
  std::set<PeerLink*> seen;
  std::vector<std::shared_ptr<PeerLink>> links;
  for (const auto& k : req.routes) {
    Route& r = routes_[{k.src_module, k.conn_id}];
    r.paused = true;
    if (r.peer && seen.insert(r.peer.get()).second) links.push_back(r.peer);
  }
  // Each link is FIFO: the fence arrives after every frame forwarded before.
  ByteWriter token;
  token.PutU64(req.token);
  uint32_t sent = 0;
  for (auto& link : links) {
    if (link->Post(MsgType::kFence, wire::ModuleOp{0, 0, token.bytes()})) ++sent;
  }
  spdlog::info("paused {} route(s), {} fence(s) sent", req.routes.size(), sent);
  ByteWriter w;
  w.PutU32(sent);
  return w.Take();
}

Status Node::ResumeRoutes(ByteSpan payload) {
  AEX_ASSIGN_OR_RETURN(wire::ResumeRoutes req, wire::ResumeRoutes::Parse(payload));
  // Check everything first so that a refused request changes nothing.
  for (const auto& c : req.routes) {
    if (!FindModule(c.src_module)) {
      return NotFound("no source module " + std::to_string(c.src_module));
    }
    if (c.dst_host.empty() && !FindModule(c.dst_module)) {
      return NotFound("no destination module " + std::to_string(c.dst_module));
    }
  }
  size_t released = 0;
  for (const auto& c : req.routes) {
    Route& r = routes_[{c.src_module, c.conn_id}];
    std::deque<Held> held = std::move(r.held);
    r = Route{c.dst_module, c.dst_host.empty() ? nullptr : PeerFor(c.dst_host, c.dst_port)};
    // In order, before anything the source emits from now on.
    for (Held& h : held) {
      RouteFromModule(c.src_module, h.type, c.conn_id, h.sealed, h.request_id);
    }
    released += held.size();
  }
  spdlog::info("resumed {} route(s), released {} held frame(s)", req.routes.size(), released);
  return Status::Ok();
}

void Node::OnFence(ByteSpan payload) {
  auto op = wire::ModuleOp::Parse(payload);
  if (!op.ok() || op->data.size() != 8) {
    ++counters_.frames_rejected;
    return;
  }
  uint64_t token = LoadU64(op->data.data());
  if (!fences_.count(token)) {
    fence_order_.push_back(token);
    if (fence_order_.size() > kMaxFenceTokens) {
      fences_.erase(fence_order_.front());
      fence_order_.pop_front();
    }
  }
  uint32_t have = ++fences_[token];
  auto waits = std::move(fence_waits_);
  fence_waits_.clear();
  for (auto& w : waits) {
    if (w.token == token && have >= w.count) {
      w.timer->cancel();
      w.done(Status::Ok());
    } else {
      fence_waits_.push_back(std::move(w));
    }
  }
}

void Node::AwaitFence(ByteSpan payload, std::function<void(Status)> done) {
  auto req = wire::AwaitFence::Parse(payload);
  if (!req.ok()) return done(req.status());
  auto it = fences_.find(req->token);
  if ((it != fences_.end() ? it->second : 0) >= req->count) return done(Status::Ok());
  auto timer = std::make_shared<asio::steady_timer>(io_);
  timer->expires_after(std::chrono::milliseconds(req->timeout_ms));
  fence_waits_.push_back({req->token, req->count, timer, std::move(done)});
  timer->async_wait([this, timer](const asio::error_code& ec) {
    if (ec) return;
    for (auto w = fence_waits_.begin(); w != fence_waits_.end(); ++w) {
      if (w->timer != timer) continue;
      auto cb = std::move(w->done);
      fence_waits_.erase(w);
      cb(Status(Code::kTimeout, "fence did not arrive in time"));
      return;
    }
  });
}

}  // namespace aex::node
