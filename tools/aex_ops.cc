#include "aex_ops.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>

#include "deployer/interrupt.h"
#include "deployer/local_nodes.h"

namespace aex::cli {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Waits `seconds`, returning early (false) on SIGINT or
// SIGTERM (deploy::HandleInterrupts, installed by main): a follow or watch
// loop then ends between polls and the command exits 0, having printed only
// whole lines or objects.
bool PauseUnlessStopped(double seconds) {
  return deploy::WaitUnlessInterrupted(
      std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000)));
}

// One log file and what of it has been printed.
struct LogSource {
  std::string name;  // "node1" or "node2/pong"
  fs::path path;
  std::streamoff printed{0};
  std::string partial{};  // a line not finished yet (follow)
};

Result<std::vector<LogSource>> SelectLogs(const deploy::Descriptor& d, const LogsOptions& o) {
  std::vector<LogSource> out;
  if (!o.module.empty()) {
    const deploy::Module* m = d.FindModule(o.module);
    if (!m) return InvalidArgument("logs: no module named '" + o.module + "' in " + d.source_name);
    const deploy::Node* n = d.FindNode(o.node.empty() ? m->node : o.node);
    if (!n) return InvalidArgument("logs: no node named '" + o.node + "' in " + d.source_name);
    out.push_back({n->name + "/" + m->name, deploy::ModuleLogFile(d, *n, m->name)});
  } else if (!o.node.empty()) {
    const deploy::Node* n = d.FindNode(o.node);
    if (!n) return InvalidArgument("logs: no node named '" + o.node + "' in " + d.source_name);
    out.push_back({n->name, deploy::NodeLogFile(d, *n)});
  } else {
    for (const auto& n : d.nodes) {
      out.push_back({n.name, deploy::NodeLogFile(d, n)});
      for (const auto& m : d.modules) {
        if (m.node != n.name) continue;
        out.push_back({n.name + "/" + m.name, deploy::ModuleLogFile(d, n, m.name)});
      }
    }
  }
  for (const auto& s : out) {
    const deploy::Node* n = d.FindNode(s.name.substr(0, s.name.find('/')));
    if (!deploy::IsLoopbackHost(n->host)) {
      return FailedPrecondition("logs: node '" + n->name + "' runs on " + n->host +
                                ": its logs are on that machine (aex logs reads the nodes "
                                "`aex nodes start` runs here)");
    }
  }
  // Naming one file that is not there is an error; among many, absent ones
  // (a module not loaded yet) are skipped.
  if (out.size() == 1 && !fs::exists(out[0].path) && !o.follow) {
    return NotFound("logs: no log at " + out[0].path.string() +
                    " (nodes started by `aex nodes start` write one; a module's appears when "
                    "it is loaded)");
  }
  return out;
}

void PrintLine(const LogSource& s, const std::string& line, bool json_out, bool prefix) {
  if (json_out) {
    std::cout << json{{"source", s.name}, {"line", line}}.dump(-1, ' ', false,
                                                                json::error_handler_t::replace)
              << "\n";
  } else if (prefix) {
    std::cout << s.name << " | " << line << "\n";
  } else {
    std::cout << line << "\n";
  }
}

// Passes what was appended to s since the last call to `line` (whole lines
// only, unless `flush` says the rest is final). A file that shrank was
// truncated or replaced: it is read again from its start.
void ForEachLine(LogSource& s, bool flush, const std::function<void(const std::string&)>& line) {
  std::error_code ec;
  auto size = fs::file_size(s.path, ec);
  if (ec) return;
  if (static_cast<std::streamoff>(size) < s.printed) s.printed = 0;
  std::ifstream in(s.path, std::ios::binary);
  in.seekg(s.printed);
  std::string chunk((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  s.printed += static_cast<std::streamoff>(chunk.size());
  s.partial += chunk;
  size_t start = 0;
  for (size_t nl; (nl = s.partial.find('\n', start)) != std::string::npos; start = nl + 1) {
    line(s.partial.substr(start, nl - start));
  }
  s.partial.erase(0, start);
  if (flush && !s.partial.empty()) {
    line(s.partial);
    s.partial.clear();
  }
}

}  // namespace

json ErrorListJson(const std::string& lines, const std::string& source_name) {
  auto or_null = [](const std::string& v) { return v.empty() ? json(nullptr) : json(v); };
  json list = json::array();
  for (const deploy::ErrorItem& e : deploy::ErrorItems(lines, source_name)) {
    list.push_back({{"file", or_null(e.file)},
                    {"entry", or_null(e.entry)},
                    {"name", or_null(e.name)},
                    {"field", or_null(e.field)},
                    {"message", e.message}});
  }
  return list;
}

json FailureJson(const Status& s, const std::string& source_name) {
  return {{"ok", false}, {"code", CodeName(s.code())}, {"errors", ErrorListJson(s.message(), source_name)}};
}

Status RunLogs(const deploy::Descriptor& d, const LogsOptions& o) {
  AEX_ASSIGN_OR_RETURN(std::vector<LogSource> sources, SelectLogs(d, o));
  const bool prefix = sources.size() > 1;
  if (o.json && !o.follow) {
    json lines = json::array();
    for (auto& s : sources) {
      ForEachLine(s, true, [&](const std::string& line) {
        lines.push_back({{"source", s.name}, {"line", line}});
      });
    }
    std::cout << json{{"ok", true}, {"lines", lines}}.dump(2, ' ', false,
                                                           json::error_handler_t::replace)
              << "\n";
    return Status::Ok();
  }
  for (;;) {
    for (auto& s : sources) {
      ForEachLine(s, !o.follow, [&](const std::string& line) { PrintLine(s, line, o.json, prefix); });
    }
    std::cout.flush();
    if (!o.follow || !PauseUnlessStopped(0.1)) break;
  }
  return Status::Ok();
}

namespace {

json NodesJson(const std::vector<deploy::LocalNodeStatus>& nodes) {
  json list = json::array();
  for (const auto& n : nodes) {
    json j = {{"name", n.name},       {"address", n.address}, {"local", n.local},
              {"running", n.running}, {"reachable", n.reachable}};
    j["pid"] = n.pid ? json(n.pid) : json(nullptr);
    j["log"] = n.local ? json(n.log.string()) : json(nullptr);
    if (!n.reachable) j["error"] = n.error;
    list.push_back(std::move(j));
  }
  return list;
}

Status Unreachable(const deploy::Descriptor& d,
                   const std::vector<deploy::LocalNodeStatus>& nodes) {
  size_t unreachable = 0;
  for (const auto& n : nodes) unreachable += n.reachable ? 0 : 1;
  if (unreachable == 0) return Status::Ok();
  return Unavailable(std::to_string(unreachable) + " of " + std::to_string(nodes.size()) +
                     " node(s) not reachable; `aex nodes start " + d.source_name +
                     "` starts the local ones");
}

}  // namespace

Status RunNodesStatus(const deploy::Descriptor& d, bool json_out) {
  AEX_ASSIGN_OR_RETURN(auto nodes, deploy::LocalNodesStatus(d));
  Status s = Unreachable(d, nodes);
  if (json_out) {
    json out = s.ok() ? json{{"ok", true}} : FailureJson(s, d.source_name);
    out["nodes"] = NodesJson(nodes);
    std::cout << out.dump(2) << "\n";
    return s;
  }
  std::vector<std::vector<std::string>> rows = {
      {"NODE", "ADDRESS", "LOCAL", "PROCESS", "PID", "REACHABLE"}};
  for (const auto& n : nodes) {
    rows.push_back({n.name, n.address, n.local ? "yes" : "no",
                    !n.local ? "-" : n.running ? "running" : "stopped",
                    n.pid ? std::to_string(n.pid) : "-",
                    n.reachable ? "yes" : "NO (" + n.error + ")"});
  }
  PrintTable(rows);
  return s;
}

Status PrintNodesAction(const deploy::Descriptor& d, const std::string& action,
                        const std::vector<std::string>& actions, const Status& done) {
  auto nodes = deploy::LocalNodesStatus(d);
  json out = done.ok() ? json{{"ok", true}} : FailureJson(done, d.source_name);
  out["action"] = action;
  json lines = json::array();
  for (const auto& a : actions) {
    size_t start = a.find_first_not_of(' ');
    lines.push_back(start == std::string::npos ? a : a.substr(start));
  }
  out["actions"] = lines;
  out["nodes"] = nodes.ok() ? NodesJson(*nodes) : json::array();
  std::cout << out.dump(2) << "\n";
  return done;
}

void PrintTable(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width;
  for (const auto& row : rows) {
    if (width.size() < row.size()) width.resize(row.size(), 0);
    for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  }
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(width[i] - row[i].size() + 2, ' ');
    }
    std::cout << line << "\n";
  }
}

namespace {

// Counters a rate is computed for: module events in and out, node events routed.
struct Sample {
  std::chrono::steady_clock::time_point at;
  std::map<std::string, std::pair<uint64_t, uint64_t>> modules;  // in, out
  std::map<std::string, uint64_t> nodes;                          // routed
};

Sample TakeSample(const json& r) {
  Sample s;
  s.at = std::chrono::steady_clock::now();
  for (const auto& m : r["modules"]) {
    if (!m.contains("stats")) continue;
    s.modules[m["name"]] = {m["stats"].value("events_accepted", uint64_t{0}),
                            m["stats"].value("outputs_sent", uint64_t{0})};
  }
  for (const auto& n : r["nodes"]) {
    if (!n.contains("status")) continue;
    s.nodes[n["name"]] = n["status"]["counters"].value("events_routed", uint64_t{0});
  }
  return s;
}

double PerSecond(uint64_t now, uint64_t before, double seconds) {
  return now >= before && seconds > 0 ? static_cast<double>(now - before) / seconds : 0.0;
}

// Rates between two samples; counters that went back (a restarted module
// or node) give 0 for that interval.
json Rates(const Sample& before, const Sample& now) {
  const double dt = std::chrono::duration<double>(now.at - before.at).count();
  json rates = {{"interval_s", dt}, {"modules", json::object()}, {"nodes", json::object()}};
  for (const auto& [name, c] : now.modules) {
    auto it = before.modules.find(name);
    if (it == before.modules.end()) continue;
    rates["modules"][name] = {{"in_per_s", PerSecond(c.first, it->second.first, dt)},
                              {"out_per_s", PerSecond(c.second, it->second.second, dt)}};
  }
  for (const auto& [name, routed] : now.nodes) {
    auto it = before.nodes.find(name);
    if (it == before.nodes.end()) continue;
    rates["nodes"][name] = {{"routed_per_s", PerSecond(routed, it->second, dt)}};
  }
  return rates;
}

void PrintRates(const json& rates) {
  printf("\n%-16s %10s %10s\n", "RATES", "IN/s", "OUT/s");
  for (const auto& [name, r] : rates["modules"].items()) {
    printf("%-16s %10.1f %10.1f\n", name.c_str(), r["in_per_s"].get<double>(),
           r["out_per_s"].get<double>());
  }
  for (const auto& [name, r] : rates["nodes"].items()) {
    printf("%-16s %10.1f routed/s\n", name.c_str(), r["routed_per_s"].get<double>());
  }
}

}  // namespace

Status RunWatch(deploy::Deployer& d, double interval_s, bool json_out,
                const std::function<void(const json&)>& print_table) {
  if (!(interval_s > 0)) return InvalidArgument("--interval must be more than 0 seconds");
  std::optional<Sample> last;
  do {
    json r = d.StatusReport();
    Sample now = TakeSample(r);
    json rates = last ? Rates(*last, now) : json(nullptr);
    last = now;
    if (json_out) {
      std::cout << json{{"time", std::chrono::duration<double>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count()},
                        {"rates", rates},
                        {"status", r}}
                       .dump()
                << std::endl;
    } else {
      // Home and clear, then the same tables as `aex status`.
      printf("\033[H\033[2J%s, every %.1f s (Ctrl-C stops)\n\n", d.descriptor().source_name.c_str(),
             interval_s);
      fflush(stdout);
      print_table(r);
      std::cout.flush();
      if (!rates.is_null()) PrintRates(rates);
      fflush(stdout);
    }
  } while (PauseUnlessStopped(interval_s));
  return Status::Ok();
}

void PrintPlan(const std::vector<deploy::PlanStep>& steps, bool json_out) {
  if (json_out) {
    json list = json::array();
    for (const auto& s : steps) {
      list.push_back({{"step", s.step}, {"target", s.target}, {"reason", s.reason}});
    }
    std::cout << json{{"ok", true}, {"up_to_date", steps.empty()}, {"steps", list}}.dump(2)
              << "\n";
    return;
  }
  if (steps.empty()) {
    std::cout << "nothing to do: the deployment is up to date\n";
    return;
  }
  for (const auto& s : steps) {
    printf("  %-9s %-20s %s\n", s.step.c_str(), s.target.c_str(), s.reason.c_str());
  }
  printf("%zu step(s); nothing was changed (run `aex up` to do them)\n", steps.size());
}

void PrintLeftBehind(const std::vector<deploy::LeftBehind>& left, bool json_out) {
  if (json_out) {
    json list = json::array();
    for (const auto& l : left) {
      json j = {{"node", l.node}, {"error", l.error}};
      j["module"] = l.module.empty() ? json(nullptr) : json(l.module);
      j["id"] = l.id ? json(l.id) : json(nullptr);
      list.push_back(std::move(j));
    }
    std::cout << json{{"ok", true}, {"left_behind", list}}.dump(2) << "\n";
    return;
  }
  for (const auto& l : left) {
    if (l.module.empty()) {
      fprintf(stderr, "aex down: %s\n", l.error.c_str());
    } else {
      fprintf(stderr, "aex down: forgot '%s' (id %u on %s, not unloaded: %s)\n", l.module.c_str(),
              l.id, l.node.c_str(), l.error.c_str());
    }
  }
  if (!left.empty()) {
    fprintf(stderr, "aex down: %zu left behind; `aex reset` or restarting those nodes clears "
                    "them\n", left.size());
  }
}

}  // namespace aex::cli
