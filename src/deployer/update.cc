// Deployer::Update: the zero-loss update protocol (docs/update.md).
//
//  prepare  build the new instance, load it on its node, attest it, install
//           the routes from it (it holds no key yet, so it cannot emit)
//  pause    every node with a route into the module holds what its sources
//           emit from now on, and sends a FENCE behind what it already
//           forwarded; once the fences have reached the old node, every
//           earlier event sits in the old instance's queue
//  export   the old instance (key grant with a fresh K_t under K_m(old))
//           disables itself and returns its app state and connection table
//           sealed under K_t; the node sees only the sealed blob
//  flush    fences behind the old instance's last outputs, so they reach
//           their receivers before any output of the new instance
//  import   K_t under K_m(new) with the blob: the new instance opens it and
//           continues every connection's counters
//  resume   the held routes point to the new instance and release, in order
//  finish   periodic events for the new instance, state saved, old unloaded,
//           then every connection touching the module re-keyed (receiver
//           first; it accepts the old key until the sender has switched)

#include <chrono>
#include <fstream>
#include <sstream>

#include "deployer/attestation.h"
#include "deployer/deployer.h"
#include "deployer/node_client.h"
#include "attest/issue.h"
#include "runtime/channel.h"

namespace aex::deploy {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using wire::MsgType;

namespace {

constexpr std::chrono::milliseconds kFenceTimeout{10000};

double Since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

channel::Cipher ManagementCipher(Backend b) {
  return b == Backend::kSancus ? channel::Cipher::kSpongent : channel::Cipher::kAes;
}

channel::Cipher ConnectionCipher(Encryption e) {
  return e == Encryption::kSpongent ? channel::Cipher::kSpongent : channel::Cipher::kAes;
}

Result<uint64_t> RandomToken() {
  uint8_t b[8];
  AEX_RETURN_IF_ERROR(crypto::RandomBytes(b));
  return LoadU64(b);
}

wire::Connect Route(uint32_t src_id, const Node& src_node, uint32_t conn_id, uint32_t dst_id,
                    const Node& dst_node) {
  wire::Connect r{src_id, conn_id, dst_id, "", 0};
  if (src_node.name != dst_node.name) {
    r.dst_host = dst_node.host;
    r.dst_port = dst_node.reactive_port;
  }
  return r;
}

Result<uint32_t> ParseU32Reply(const Result<Bytes>& r) {
  if (!r.ok()) return r.status();
  ByteReader reader(*r);
  uint32_t v;
  if (!reader.ReadU32(&v) || !reader.empty()) return Status(Code::kProtocol, "bad reply");
  return v;
}

}  // namespace

void ApplyMoves(Descriptor* d, const DeploymentState& state) {
  for (auto& m : d->modules) {
    auto it = state.modules.find(m.name);
    if (it == state.modules.end() || it->second.moved_from.empty()) continue;
    if (it->second.moved_from != m.node || it->second.node == m.node || m.device) continue;
    const Node* n = d->FindNode(it->second.node);
    if (n && n->type == m.type) m.node = it->second.node;
  }
}

Result<UpdateReport> Deployer::Update(const std::string& name, const std::string& to_node) {
  const auto t_start = Clock::now();
  UpdateReport rep;
  rep.module = name;
  const Module* mp = descriptor_.FindModule(name);
  if (!mp) return NotFound("no module named '" + name + "'");
  DeploymentState& st = state_file_->state();
  auto sit = st.modules.find(name);
  if (descriptor_.manager_spec && name == descriptor_.manager_spec->name) {
    return FailedPrecondition("'" + name + "' is the attestation manager: it cannot be updated "
                              "in place (its module keys live in its memory)");
  }
  if (sit != st.modules.end() && sit->second.by_manager) {
    return FailedPrecondition("module '" + name + "' was attested by the attestation manager, "
                              "which holds its key; aex update needs the deployer to hold it "
                              "(deploy without a manager to update modules in place)");
  }
  if (sit == st.modules.end() || sit->second.id == 0 || !sit->second.attested()) {
    return FailedPrecondition("module '" + name + "' is not deployed and attested (aex up)");
  }
  if (sit->second.disabled) return FailedPrecondition("module '" + name + "' is disabled");
  const ModuleState old = sit->second;
  const Node* old_node = descriptor_.FindNode(old.node);
  if (!old_node) return FailedPrecondition("the state puts '" + name + "' on unknown node '" +
                                           old.node + "'");
  const Node* new_node = to_node.empty() ? old_node : descriptor_.FindNode(to_node);
  if (!new_node) return NotFound("no node named '" + to_node + "'");
  if (new_node->type != mp->type) {
    return InvalidArgument("module '" + name + "' is a " + BackendName(mp->type) +
                           " module; node '" + new_node->name + "' is " +
                           BackendName(new_node->type));
  }
  if (mp->device) {
    return FailedPrecondition("module '" + name + "' drives device '" + *mp->device +
                              "': a device is assigned at load and cannot yet be handed to a "
                              "new instance (docs/update.md)");
  }
  Module m = *mp;
  m.node = new_node->name;
  rep.from_node = old.node;
  rep.to_node = new_node->name;
  rep.old_id = old.id;

  // Every connection touching the module, established, with both ends attested.
  std::vector<const Connection*> touching;
  for (const auto& c : descriptor_.connections) {
    if (c.to_module != name && c.from_module != name) continue;
    if (c.from_module == name && c.to_module == name) {
      return FailedPrecondition("connection '" + c.name + "' loops on the module: not supported "
                                "by aex update");
    }
    auto cs = st.connections.find(c.name);
    if (cs == st.connections.end() || !cs->second.established) {
      return FailedPrecondition("connection '" + c.name + "' is not established (aex connect)");
    }
    const std::string& other = c.to_module == name ? c.from_module : c.to_module;
    if (!c.direct && (!st.modules.count(other) || !st.modules.at(other).attested() ||
                      st.modules.at(other).by_manager)) {
      return FailedPrecondition("module '" + other + "' is not attested by the deployer, which "
                                "needs a session with it to re-key connection '" + c.name + "'");
    }
    touching.push_back(&c);
  }
  auto node_of = [&](const std::string& module) -> const Node& {
    return *descriptor_.FindNode(descriptor_.FindModule(module)->node);
  };
  std::map<std::string, std::unique_ptr<NodeClient>> clients;
  auto client = [&](const Node& n) -> Result<NodeClient*> {
    auto& c = clients[n.name];
    if (!c) {
      AEX_ASSIGN_OR_RETURN(c, ClientFor(n));
    }
    return c.get();
  };

  // ---- prepare: nothing is paused yet; a failure leaves the old instance as it was.
  Progress("  update    " + name + ": building from the current sources");
  AEX_RETURN_IF_ERROR(Build(name));
  const BuiltModule built = built_.at(name);
  if (m.expected_measurement && !crypto::Equal(*m.expected_measurement, built.measurement)) {
    return AuthFailed("update '" + name + "': built binary does not match expected_measurement");
  }
  AEX_ASSIGN_OR_RETURN(NodeClient * new_client, client(*new_node));
  AEX_ASSIGN_OR_RETURN(NodeClient * old_client, client(*old_node));
  AEX_ASSIGN_OR_RETURN(Bytes image, ReadModuleBinary(built.binary));
  AEX_ASSIGN_OR_RETURN(Bytes sigstruct, SigstructFor(descriptor_, m, built.measurement));
  // Tagged like every load of the deployment: if this run dies before the
  // new instance is recorded, the next run unloads it as a stray.
  auto loaded = new_client->LoadModule(name, static_cast<uint8_t>(m.type), "", image,
                                       state_file_->state().deployment_tag, sigstruct);
  if (!loaded.ok()) return WithContext("update '" + name + "': load", loaded.status());
  const uint32_t new_id = *loaded;
  rep.new_id = new_id;
  auto abandon = [&](const std::string& what, const Status& why) -> Status {
    (void)new_client->Unload(new_id);
    return WithContext("update '" + name + "': " + what, why);
  };
  Progress("  update    " + name + ": new instance id " + std::to_string(new_id) + " on " +
           new_node->name);

  AttestationTarget target;
  target.module_id = new_id;
  target.measurement = built.measurement;
  Status filled = FillAttestationTarget(descriptor_, *new_node, m, &target);
  auto attested =
      filled.ok() ? AttestModule(*new_client, target) : Result<attest::Session>(filled);
  WipeTarget(&target);
  if (!attested.ok()) return abandon("attest the new instance", attested.status());
  const attest::Session new_session = *attested;
  Progress("  update    " + name + ": new instance attested");

  for (const Connection* c : touching) {
    if (c->from_module != name) continue;
    const ModuleState& dst = st.modules.at(c->to_module);
    Status s = new_client->AddRoute(
        Route(new_id, *new_node, st.connections.at(c->name).id, dst.id, node_of(c->to_module)));
    if (!s.ok()) return abandon("route for '" + c->name + "'", s);
  }

  // Transfer key K_t, wrapped for the old (export, under this run's session
  // with it, attested first if needed) and the new (import) instance.
  const channel::Cipher mc = ManagementCipher(m.type);
  crypto::Key old_session{};
  auto export_nonce = NextGrant(*mp, &old_session);
  if (!export_nonce.ok()) return abandon("attest the old instance", export_nonce.status());
  auto old_aead = channel::NewCipher(mc, old_session);
  crypto::Wipe(old_session);
  auto new_aead = channel::NewCipher(mc, new_session.key);
  if (!old_aead || !new_aead) return abandon("transfer", FailedPrecondition("no cipher"));
  crypto::Key kt;
  AEX_RETURN_IF_ERROR(crypto::RandomBytes(kt));
  const uint64_t import_nonce = 1;
  Bytes export_grant = channel::WrapGrant(
      *old_aead, old.id, channel::KeyGrant{0, 0, channel::Role::kOutput, mc, *export_nonce, kt});
  Bytes import_payload = channel::WrapGrant(
      *new_aead, new_id, channel::KeyGrant{0, 1, channel::Role::kOutput, mc, import_nonce, kt});
  crypto::Wipe(kt);

  // Routes into the module, grouped by the node of their source.
  struct Group {
    const Node* node = nullptr;
    std::vector<wire::RouteKey> keys;
    std::vector<wire::Connect> to_new, to_old;
  };
  std::map<std::string, Group> into;
  for (const Connection* c : touching) {
    if (c->to_module != name || c->direct) continue;
    const Node& sn = node_of(c->from_module);
    uint32_t src_id = st.modules.at(c->from_module).id, conn_id = st.connections.at(c->name).id;
    Group& g = into[sn.name];
    g.node = &sn;
    g.keys.push_back({src_id, conn_id});
    g.to_new.push_back(Route(src_id, sn, conn_id, new_id, *new_node));
    g.to_old.push_back(Route(src_id, sn, conn_id, old.id, *old_node));
  }
  // Routes out of the module on the old node, grouped by destination node.
  std::map<std::string, Group> out;
  for (const Connection* c : touching) {
    if (c->from_module != name) continue;
    const Node& dn = node_of(c->to_module);
    Group& g = out[dn.name];
    g.node = &dn;
    g.keys.push_back({old.id, st.connections.at(c->name).id});
  }
  // Every client the pause needs, connected before it starts.
  for (auto* groups : {&into, &out}) {
    for (auto& [n, g] : *groups) {
      auto c = client(*g.node);
      if (!c.ok()) return abandon("connect to node '" + n + "'", c.status());
    }
  }
  AEX_ASSIGN_OR_RETURN(uint64_t token, RandomToken());
  rep.prepare_s = Since(t_start);

  // ---- pause
  const auto t_pause = Clock::now();
  auto resume = [&](bool to_new) -> Status {
    Status all;
    for (auto& [n, g] : into) {
      wire::ResumeRoutes r{to_new ? g.to_new : g.to_old};
      Status s = WithContext("resume routes on '" + n + "'",
                         clients.at(n)->Call(MsgType::kResumeRoutes, r.Encode()).status());
      if (!s.ok() && all.ok()) all = s;
    }
    return all;
  };
  uint32_t fences = 0;
  for (auto& [n, g] : into) {
    auto sent = ParseU32Reply(clients.at(n)->Call(MsgType::kPauseRoutes,
                                                  wire::PauseRoutes{token, g.keys}.Encode()));
    if (!sent.ok()) {
      (void)resume(false);
      return abandon("pause routes on '" + n + "'", sent.status());
    }
    fences += *sent;
    rep.routes_paused += g.keys.size();
  }
  auto await = [&](NodeClient* c, uint64_t tok, uint32_t count) -> Status {
    if (count == 0) return Status::Ok();
    rep.fences += count;
    c->set_timeout(kFenceTimeout + std::chrono::milliseconds(5000));
    wire::AwaitFence a{tok, count, static_cast<uint32_t>(kFenceTimeout.count())};
    Status s = c->Call(MsgType::kAwaitFence, a.Encode()).status();
    c->set_timeout(std::chrono::milliseconds(5000));
    return s;
  };
  Status fenced = await(old_client, token, fences);
  if (!fenced.ok()) {
    (void)resume(false);
    return abandon("wait for events in flight to the old instance", fenced);
  }

  // ---- export: from here the old instance is disabled; there is no way back.
  auto blob = old_client->Call(MsgType::kExportState,
                               wire::ModuleOp{old.id, 0, export_grant}.Encode());
  if (!blob.ok()) {
    (void)resume(false);
    return abandon("export the old instance's state", blob.status());
  }
  rep.state_bytes = blob->size();

  // ---- flush what the old instance emitted last.
  for (auto& [n, g] : out) {
    AEX_ASSIGN_OR_RETURN(uint64_t tok, RandomToken());
    auto sent = ParseU32Reply(
        old_client->Call(MsgType::kPauseRoutes, wire::PauseRoutes{tok, g.keys}.Encode()));
    Status s = sent.ok() ? await(clients.at(n).get(), tok, *sent) : sent.status();
    if (!s.ok()) {
      rep.warnings.push_back("outputs of the old instance towards '" + n +
                             "' may not have arrived before the new instance's: " +
                             s.ToString());
    }
  }

  // ---- import
  import_payload.insert(import_payload.end(), blob->begin(), blob->end());
  Status imported;
  for (int attempt = 0; attempt < 2; ++attempt) {
    imported = new_client->Call(MsgType::kImportState,
                                wire::ModuleOp{new_id, 0, import_payload}.Encode())
                   .status();
    if (imported.ok() || imported.code() == Code::kReplay) break;
  }
  crypto::Wipe(import_payload);
  if (!imported.ok()) {
    return WithContext("update '" + name + "': import into the new instance failed; the old "
                   "instance is disabled and the routes into it stay paused (their events "
                   "are held by the nodes)",
                   imported);
  }

  // ---- resume
  Status resumed = resume(true);
  rep.pause_s = Since(t_pause);
  if (!resumed.ok()) rep.warnings.push_back(resumed.ToString());
  Progress("  update    " + name + ": switched to id " + std::to_string(new_id) + " on " +
           new_node->name + " (" + std::to_string(rep.routes_paused) + " route(s) paused " +
           std::to_string(static_cast<int>(rep.pause_s * 1000 + 0.5)) + " ms)");

  // ---- finish: periodic events, state, the old instance.
  for (const auto& e : descriptor_.periodic_events) {
    if (e.module != name) continue;
    auto id = new_client->RegisterPeriodic(new_id, IndexOf(m, gen::IoKind::kEntry, e.entry),
                                           e.frequency_ms);
    if (id.ok()) {
      st.events[e.name] = EventState{*id, true};
    } else {
      st.events[e.name].registered = false;
      rep.warnings.push_back("periodic event '" + e.name + "': " + id.status().ToString());
    }
  }
  const std::string file_node = old.moved_from.empty() ? old.node : old.moved_from;
  ModuleState ns{new_node->name, new_id, built.binary.string(), HexEncode(built.measurement),
                 new_session.instance_id, false};
  ns.moved_from = new_node->name == file_node ? "" : file_node;
  st.modules[name] = ns;
  {
    std::lock_guard<std::mutex> lock(mu_);
    RunSession& rs = sessions_[name];  // the new instance's session: import used nonce 1
    rs.key = new_session.key;
    rs.nonce = import_nonce;
  }
  for (auto& dm : descriptor_.modules) {
    if (dm.name == name) dm.node = new_node->name;
  }
  AEX_RETURN_IF_ERROR(state_file_->Save());
  Status unloaded = old_client->Unload(old.id);
  if (!unloaded.ok()) rep.warnings.push_back("unload the old instance: " + unloaded.ToString());

  // ---- re-key every connection touching the module.
  const auto t_rekey = Clock::now();
  for (const Connection* c : touching) {
    ConnectionState& cs = st.connections.at(c->name);
    if (c->direct) {
      // The deployer's end: a fresh establishment (new K_c, counters from 1).
      {
        std::lock_guard<std::mutex> lock(mu_);
        direct_.erase(c->name);
      }
      Status s = EstablishConnection(*c);
      AEX_RETURN_IF_ERROR(state_file_->Save());
      if (!s.ok()) {
        rep.warnings.push_back(s.ToString() + " (the old key stays usable; re-run to re-key)");
      } else {
        ++rep.connections_rekeyed;
      }
      continue;
    }
    crypto::Key k2;
    AEX_RETURN_IF_ERROR(crypto::RandomBytes(k2));
    auto grant = [&](const std::string& module, channel::Role role, uint16_t index) -> Status {
      ModuleState& ms = st.modules.at(module);
      const Module& mm = *descriptor_.FindModule(module);
      std::lock_guard<std::mutex> grant_lock(*GrantLock(module));
      crypto::Key session{};
      AEX_ASSIGN_OR_RETURN(uint64_t nonce, NextGrant(mm, &session));
      channel::KeyGrant g{cs.id, index, role, ConnectionCipher(c->encryption), nonce, k2};
      g.rekey = true;
      auto aead = channel::NewCipher(ManagementCipher(mm.type), session);
      crypto::Wipe(session);
      if (!aead) return FailedPrecondition("no cipher for module " + module);
      Bytes wrapped = channel::WrapGrant(*aead, ms.id, g);
      AEX_ASSIGN_OR_RETURN(NodeClient * nc, client(node_of(module)));
      return WithContext("re-key '" + c->name + "' at '" + module + "'", nc->SetKey(ms.id, wrapped));
    };
    const Module& to = *descriptor_.FindModule(c->to_module);
    bool handler = c->to_handler.has_value();
    // The receiving end first: it opens with both keys until the sender switches.
    Status s = grant(c->to_module, handler ? channel::Role::kHandler : channel::Role::kInput,
                     IndexOf(to, handler ? gen::IoKind::kHandler : gen::IoKind::kInput,
                             handler ? *c->to_handler : *c->to_input));
    if (s.ok() && !c->direct) {
      const Module& from = *descriptor_.FindModule(c->from_module);
      bool request = c->from_request.has_value();
      s = grant(c->from_module, request ? channel::Role::kRequest : channel::Role::kOutput,
                IndexOf(from, request ? gen::IoKind::kRequest : gen::IoKind::kOutput,
                        request ? *c->from_request : *c->from_output));
    }
    crypto::Wipe(k2);
    AEX_RETURN_IF_ERROR(state_file_->Save());
    if (!s.ok()) {
      rep.warnings.push_back(s.ToString() + " (the old key stays usable; re-run to re-key)");
      continue;
    }
    ++rep.connections_rekeyed;
  }
  rep.rekey_s = Since(t_rekey);
  rep.total_s = Since(t_start);
  return rep;
}

}  // namespace aex::deploy
