// aex: the deployer. From a descriptor to a running, attested, connected
// application, and the commands to operate it.
//
// Exit codes: 0 success; 1 an operation failed (node unreachable, attestation
// refused, ...); 2 bad usage or an invalid descriptor; 3 the state file is
// locked by another run; 130 interrupted (SIGINT or SIGTERM).

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "aex_ops.h"
#include "trace.h"
#include "cli_doc.h"
#include "deployer/dashboard.h"
#include "deployer/deployer.h"
#include "deployer/interrupt.h"
#include "deployer/local_nodes.h"
#include "deployer/node_tls.h"
#include "deployer/subprocess.h"
#include "deployer/suggest.h"
#include "attest_evidence.h"
#include "verify_quote.h"

namespace {

using aex::Code;
using aex::Status;
using aex::deploy::Deployer;
using nlohmann::json;

struct Globals {
  std::string descriptor;
  std::string state;
  bool json_out = false;
  bool quiet = false;
  unsigned jobs = 0;
  double wait_s = 10;
  bool manager = false;
  bool verbose = false;  // -v: context and per-phase timings
  bool debug = false;    // --debug: also every frame to and from a node (no payloads)
  // The descriptor's warnings (Descriptor::warnings), for every command.
  std::vector<std::string> warnings;
};

// Every command that reads a descriptor shows its warnings (fields of the
// original tool that aex ignores, and why; docs/descriptor.md) once, here:
// on stderr; with --json not at all (callers that merge the two streams
// would get lines that are not JSON), except in `validate`'s document. A
// descriptor that does not load has none; the command itself reports why.
void ReportDescriptorWarnings(Globals* g) {
  if (g->descriptor.empty()) return;
  auto d = aex::deploy::LoadDescriptor(g->descriptor);
  if (!d.ok()) return;
  g->warnings = d->warnings;
  if (g->json_out) return;
  for (const auto& w : g->warnings) std::cerr << "aex: warning: " << w << "\n";
}

int ExitCode(const Status& s) {
  switch (s.code()) {
    case Code::kOk: return 0;
    case Code::kInvalidArgument: return 2;
    case Code::kFailedPrecondition:
      return s.message().find("another aex run") != std::string::npos ? 3 : 1;
    default: return 1;
  }
}

// "1 node", "2 nodes".
std::string Count(size_t n, const std::string& noun) {
  return std::to_string(n) + " " + noun + (n == 1 ? "" : "s");
}

// Prints a --json result: one document on stdout.
int PrintJson(const json& j) {
  std::cout << j.dump(2) << "\n";
  return 0;
}

int Fail(const Globals& g, const Status& s) {
  if (g.json_out) {
    PrintJson(aex::cli::FailureJson(s, g.descriptor));
  } else {
    std::cerr << "aex: error: " << s.message() << "\n";
  }
  // Whatever failed after an interrupt failed because of it.
  return aex::deploy::Interrupted() ? 130 : ExitCode(s);
}

// Names the user gave with --module, --connection or --node must be in the
// descriptor: a typo is a usage error (2) with a suggestion, not a failure
// deep in a step (or a silent no-op for `build --module`).
Status CheckNames(const aex::deploy::Descriptor& d, const std::string& module,
                  const std::string& connection, const std::string& node) {
  auto check = [&](const char* kind, const std::string& name, std::vector<std::string> known) {
    if (name.empty() || std::find(known.begin(), known.end(), name) != known.end()) {
      return Status::Ok();
    }
    return aex::InvalidArgument(std::string(kind) + " '" + name + "' does not exist in " +
                                d.source_name + aex::deploy::DidYouMean(name, known));
  };
  std::vector<std::string> modules, connections, nodes;
  for (const auto& m : d.modules) modules.push_back(m.name);
  for (const auto& c : d.connections) connections.push_back(c.name);
  for (const auto& n : d.nodes) nodes.push_back(n.name);
  AEX_RETURN_IF_ERROR(check("module", module, modules));
  AEX_RETURN_IF_ERROR(check("connection", connection, connections));
  return check("node", node, nodes);
}

std::vector<std::string> SubcommandNames(CLI::App& app) {
  std::vector<std::string> names;
  for (CLI::App* c : app.get_subcommands([](CLI::App*) { return true; })) {
    names.push_back(c->get_name());
  }
  return names;
}

// The first word of the command line that is neither a global option nor
// the value of one: the subcommand the user meant, or "".
std::string CommandWord(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--state" || a == "-j" || a == "--jobs") {
      ++i;
    } else if (a.empty() || a[0] != '-') {
      return a;
    }
  }
  return "";
}

// `aex help [command]`, `aex`, and a command that does not exist, before
// CLI11 parses (it would report them all as "a subcommand is required").
// Returns the exit code, or -1 to go on parsing.
int HandleCommandWord(CLI::App& app, int argc, char** argv,
                      const std::function<void(const std::string&)>& usage_json) {
  const std::string word = CommandWord(argc, argv);
  const std::vector<std::string> names = SubcommandNames(app);
  const bool known = std::find(names.begin(), names.end(), word) != names.end();
  if (known) return -1;
  if (word == "help") {
    std::string topic;
    for (int i = 1; i < argc; ++i) {
      if (argv[i] == word && i + 1 < argc) topic = argv[i + 1];
    }
    if (topic.empty()) {
      std::cout << app.help();
      return 0;
    }
    if (std::find(names.begin(), names.end(), topic) != names.end()) {
      std::cout << app.get_subcommand(topic)->help();
      return 0;
    }
    const std::string message = "unknown command '" + topic + "'" +
                                aex::deploy::DidYouMean(topic, names) +
                                "; `aex help` lists the commands";
    std::cerr << "aex: error: " << message << "\n";
    usage_json(message);
    return 2;
  }
  if (word.empty()) {
    for (int i = 1; i < argc; ++i) {
      std::string a = argv[i];
      if (a == "-h" || a == "--help" || a == "--version" || a == "--man") return -1;  // CLI11 answers
    }
    std::cerr << app.help() << "\naex: error: a command is required; `aex help COMMAND` "
                               "describes one\n";
    usage_json("a command is required; `aex help COMMAND` describes one");
    return 2;
  }
  const std::string message = "unknown command '" + word + "'" +
                              aex::deploy::DidYouMean(word, names) +
                              "; `aex help` lists the commands";
  std::cerr << "aex: error: " << message << "\n";
  usage_json(message);
  return 2;
}

// recover_state: for `aex reset`, which must work even when the state file
// is corrupt; read_only: for commands that never write the state (status,
// graph, up --plan, dashboard), which then do not need its lock.
aex::Result<std::unique_ptr<Deployer>> OpenDeployer(const Globals& g, bool recover_state,
                                                    bool read_only) {
  aex::deploy::DeployerOptions o;
  o.recover_state = recover_state;
  o.read_only = read_only;
  o.descriptor = g.descriptor;
  o.state_file = g.state;
  o.jobs = g.jobs;
  o.node_wait = std::chrono::milliseconds(static_cast<long>(g.wait_s * 1000));
  if (!g.quiet && !g.json_out) {
    o.progress = [](const std::string& line) { std::cerr << line << "\n"; };
  }
  return Deployer::Open(std::move(o));
}

bool ParseArg(const std::string& hex, const std::string& text, aex::Bytes* out) {
  if (!text.empty()) {
    out->assign(text.begin(), text.end());
    return true;
  }
  return aex::HexDecode(hex, out);
}

Status PrintBytes(const Globals& g, const aex::Bytes& b, const std::string& out_file) {
  if (!out_file.empty()) {
    std::ofstream out(out_file, std::ios::binary);
    out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
    if (!out.flush()) return Status(Code::kIo, "cannot write " + out_file);
    // The file may be /dev/stdout: only --json adds a document.
    if (g.json_out) PrintJson({{"ok", true}, {"out", out_file}, {"bytes", b.size()}});
    return Status::Ok();
  }
  bool printable = std::all_of(b.begin(), b.end(), [](uint8_t c) { return c >= 32 && c < 127; });
  if (g.json_out) {
    json j = {{"ok", true}, {"hex", aex::HexEncode(b)}};
    if (printable) j["text"] = std::string(b.begin(), b.end());
    PrintJson(j);
  } else if (!b.empty()) {
    std::cout << aex::HexEncode(b);
    if (printable) std::cout << "  \"" << std::string(b.begin(), b.end()) << "\"";
    std::cout << "\n";
  }
  return Status::Ok();
}

// The node's own count of events it could not deliver, then those its peers
// reported back (UNDELIVERED); link anomalies summed over its peer links.
std::string NodeUndelivered(const json& st) {
  const auto& c = st["counters"];
  return std::to_string(c.value("events_undeliverable", 0)) + "/" +
         std::to_string(c.value("peer_undelivered", 0));
}

std::string NodeLinkAnomalies(const json& st) {
  const auto& c = st["counters"];
  uint64_t errors = 0;
  for (const auto& p : st.value("peers", json::array())) errors += p.value("protocol_errors", 0);
  return std::to_string(c.value("link_duplicates", 0)) + "/" +
         std::to_string(c.value("link_gaps", 0)) + "/" + std::to_string(errors);
}

void PrintNodes(const json& r) {
  std::vector<std::vector<std::string>> rows = {
      {"NODE", "TYPE", "ADDRESS", "TLS", "REACHABLE", "ROUTED", "UNDELIVERED(here/peer)",
       "LINK(dup/gap/err)", "REJECTED(frames/tls)"}};
  for (const auto& n : r["nodes"]) {
    std::string routed = "-", undeliv = "-", link = "-", rejected = "-";
    if (n.contains("status")) {
      const auto& c = n["status"]["counters"];
      routed = std::to_string(c.value("events_routed", 0));
      undeliv = NodeUndelivered(n["status"]);
      link = NodeLinkAnomalies(n["status"]);
      rejected = std::to_string(c.value("frames_rejected", 0)) + "/" +
                 std::to_string(c.value("handshakes_rejected", 0));
    }
    rows.push_back({n["name"], n["type"], n["address"], n.value("tls", false) ? "yes" : "no",
                    n["reachable"].get<bool>() ? "yes" : "NO", routed, undeliv, link, rejected});
  }
  aex::cli::PrintTable(rows);
}

void PrintModules(const json& r) {
  std::vector<std::vector<std::string>> rows = {
      {"MODULE", "NODE", "ID", "STATE", "ATTESTED", "IN", "OUT", "REQ", "LOST",
       "NOT-DELIVERED(refused/peer)", "REJECTED(auth/replay/route)"}};
  for (const auto& m : r["modules"]) {
    std::string id = m.contains("id") ? std::to_string(m["id"].get<uint32_t>()) : "-";
    std::string state = m.value("state", m["deployed"].get<bool>() ? "?" : "-");
    if (m.value("disabled", false)) state = "disabled";
    std::string in = "-", out = "-", req = "-", lost = "-", undeliv = "-", rej = "-";
    if (m.contains("stats")) {
      const auto& s = m["stats"];
      in = std::to_string(s.value("events_accepted", 0));
      out = std::to_string(s.value("outputs_sent", 0));
      req = std::to_string(s.value("requests_handled", 0));
      lost = std::to_string(s.value("lost", 0));
      undeliv = std::to_string(s.value("outputs_refused", 0)) + "/" +
                std::to_string(s.value("outputs_undelivered", 0));
      rej = std::to_string(s.value("rejected_auth", 0)) + "/" +
            std::to_string(s.value("rejected_replay", 0)) + "/" +
            std::to_string(s.value("rejected_routing", 0));
    }
    rows.push_back({m["name"], m["node"], id, state, m["attested"].get<bool>() ? "yes" : "no", in,
                    out, req, lost, undeliv, rej});
  }
  std::cout << "\n";
  aex::cli::PrintTable(rows);
}

void PrintStatus(const json& r) {
  PrintNodes(r);
  PrintModules(r);
  std::vector<std::vector<std::string>> rows = {
      {"CONNECTION", "FROM -> TO", "KIND", "CIPHER", "ESTABLISHED"}};
  for (const auto& c : r["connections"]) {
    rows.push_back({c["name"], c["from"].get<std::string>() + " -> " + c["to"].get<std::string>(),
                    c["kind"], c["encryption"], c["established"].get<bool>() ? "yes" : "no"});
  }
  std::cout << "\n";
  aex::cli::PrintTable(rows);
  if (!r["periodic_events"].empty()) {
    rows = {{"PERIODIC", "MODULE.ENTRY", "PERIOD", "REGISTERED"}};
    for (const auto& e : r["periodic_events"]) {
      rows.push_back({e["name"], e["module"].get<std::string>() + "." + e["entry"].get<std::string>(),
                      std::to_string(e["period_ms"].get<uint32_t>()) + " ms",
                      e["registered"].get<bool>() ? "yes" : "no"});
    }
    std::cout << "\n";
    aex::cli::PrintTable(rows);
  }
}

// The graph's format: --format when given, else from -o's extension
// (.svg, .png; anything else is DOT). A format that the file's extension
// contradicts is a usage error: `-o x.svg --format dot` would write DOT into
// an .svg.
aex::Result<std::string> GraphFormat(const CLI::Option& format_option, const std::string& format,
                                     const std::string& out_file) {
  static const std::vector<std::string> kFormats = {"dot", "svg", "png"};
  if (std::find(kFormats.begin(), kFormats.end(), format) == kFormats.end()) {
    return aex::InvalidArgument("--format must be dot, svg or png, not '" + format + "'");
  }
  std::string ext = std::filesystem::path(out_file).extension().string();
  if (!ext.empty()) ext.erase(0, 1);
  std::transform(ext.begin(), ext.end(), ext.begin(), ::tolower);
  const bool image_ext = ext == "svg" || ext == "png";
  if (format_option.count() == 0) return image_ext ? ext : std::string("dot");
  if ((image_ext && ext != format) || (!image_ext && format != "dot" && !out_file.empty())) {
    return aex::InvalidArgument("--format " + format + " does not match the file name " +
                                out_file + " (give a ." + format + " file, or leave --format out)");
  }
  return format;
}

// DOT as it is, SVG or PNG rendered by Graphviz's `dot`, to out_file (or
// stdout for DOT and SVG).
Status WriteGraph(const std::string& dot, const std::string& format, const std::string& out_file,
                  bool json_out) {
  if (format == "png" && out_file.empty()) {
    return aex::InvalidArgument("png is binary: give -o FILE.png");
  }
  std::string rendered = dot;
  if (format != "dot") {
    char tmp[] = "/tmp/aex-graph-XXXXXX";  // private (0700): its files are not raced
    if (mkdtemp(tmp) == nullptr) return Status(Code::kIo, "cannot create a temporary folder");
    const std::filesystem::path dir = tmp;
    std::ofstream(dir / "graph.dot") << dot;
    const std::string target = out_file.empty() ? (dir / ("graph." + format)).string() : out_file;
    Status drawn =
        aex::deploy::RunProgram({"dot", "-T" + format, (dir / "graph.dot").string(), "-o", target});
    if (out_file.empty() && drawn.ok()) {
      std::ifstream in(target);
      rendered.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
    if (!drawn.ok()) {
      return Status(drawn.code(), "rendering " + format + " with Graphviz `dot` failed (is " +
                                      "graphviz installed? `aex graph D -o FILE.dot` needs " +
                                      "none): " + drawn.message());
    }
  } else if (!out_file.empty()) {
    std::ofstream out(out_file);
    out << dot;
    if (!out.flush()) return Status(Code::kIo, "cannot write " + out_file);
  }
  if (json_out) {
    json j = {{"ok", true}, {"format", format}};
    j["output"] = out_file.empty() ? json(nullptr) : json(out_file);
    if (out_file.empty()) j["graph"] = rendered;
    PrintJson(j);
  } else if (out_file.empty()) {
    std::cout << rendered;
  }
  return Status::Ok();
}

}  // namespace

int main(int argc, char** argv) {
  // Before any thread starts: Ctrl-C stops child programs and unwinds
  // (interrupt.h).
  aex::deploy::HandleInterrupts();
  Globals g;
  CLI::App app{"aex: build, deploy, attest and connect distributed enclave applications"};
  app.name("aex");
  app.footer("`aex help COMMAND` shows a command's options. Exit codes: 0 success, 1 an "
             "operation failed, 2 bad usage or an invalid descriptor, 3 the state file is locked "
             "by another run, 130 interrupted.");
  app.set_version_flag("--version", std::string("aex ") + AEX_VERSION);
  app.require_subcommand(1);
  app.fallthrough();  // global flags may follow the subcommand
  app.add_option("--state", g.state, "state file (default: <descriptor dir>/.aex/<name>.state.json)");
  app.add_flag("--json", g.json_out, "machine-readable output on stdout");
  app.add_flag("-q,--quiet", g.quiet, "no progress lines");
  app.add_option("-j,--jobs", g.jobs, "parallel builds (default: cores)");
  app.add_flag("-v,--verbose", g.verbose, "more progress detail: paths, per-phase timings");
  app.add_flag("--debug", g.debug,
               "log every frame sent to and received from a node (type, id, size; never a "
               "payload or key) on stderr; implies --verbose");
  app.add_flag("--manager", g.manager,
               "attest and key modules through the descriptor's attestation manager (the "
               "descriptor's `manager` decides; this flag checks that it has one)");

  auto add = [&](const char* name, const char* help) {
    auto* cmd = app.add_subcommand(name, help);
    cmd->add_option("descriptor", g.descriptor, "deployment descriptor (JSON or YAML)")
        ->required();
    return cmd;
  };
  std::string module, entry, connection, arg_hex, arg_text, out_file, format = "dot";
  auto* validate = add("validate", "check the descriptor and every module's interface");
  auto* build = add("build", "build module executables (cached by content)");
  auto* deploy = add("deploy", "build and load modules on their nodes");
  auto* attest = add("attest", "attest loaded modules and obtain their keys");
  auto* connect = add("connect", "install connection keys and routes");
  auto* reg = add("register", "register periodic events");
  auto* up = add("up", "wait for nodes, then build, deploy, attest, connect and register");
  up->add_option("--wait", g.wait_s, "seconds to wait for nodes to come up")->capture_default_str();
  auto* down = add("down", "unload every module of the deployment and forget its state");
  bool plan = false, force = false, watch = false;
  double interval_s = 2;
  up->add_flag("--plan", plan,
               "print what up would build, load, attest, connect and register, and change nothing");
  down->add_flag("--force", force,
                 "forget the modules of nodes that do not answer (listing them) instead of failing");
  auto* reset = add("reset", "reset every node of the descriptor and forget the state");
  auto* status = add("status", "nodes, modules, connections and event counters");
  status->add_flag("-w,--watch", watch,
                   "refresh until Ctrl-C, with event rates (JSON lines with --json)");
  status->add_option("--interval", interval_s, "seconds between refreshes with --watch")
      ->capture_default_str();
  aex::cli::LogsOptions logs_opt;
  auto* logs = add("logs", "print the logs of the local nodes and their modules");
  logs->add_option("--module", logs_opt.module, "only this module's output");
  logs->add_option("--node", logs_opt.node, "only this node's log");
  logs->add_flag("-f,--follow", logs_opt.follow, "keep printing new lines until Ctrl-C");
  std::string shell;
  auto* completion = app.add_subcommand("completion", "print a shell completion script");
  completion->add_option("shell", shell, "bash, zsh or fish")
      ->required()
      ->check(CLI::IsMember({"bash", "zsh", "fish"}));
  auto* call = add("call", "call a module entry point (unauthenticated)");
  call->add_option("--module", module)->required();
  call->add_option("--entry", entry, "entry name or index")->required();
  auto* output = add("output", "send an event on a direct connection");
  output->add_option("--connection", connection)->required();
  auto* request = add("request", "send a request on a direct connection, print the response");
  request->add_option("--connection", connection)->required();
  for (auto* c : {call, output, request}) {
    c->add_option("--arg", arg_hex, "argument as hex");
    c->add_option("--text", arg_text, "argument as text");
  }
  for (auto* c : {call, request}) c->add_option("--out", out_file, "write the response here");
  aex::deploy::TraceOptions trace_opt;
  auto* trace = add("trace", "send events through a connection and print where their time goes");
  trace->add_option("--connection", trace_opt.connection)->required();
  trace->add_option("--entry", trace_opt.entry,
                    "source module entry that outputs on the connection (default: its periodic "
                    "event's)");
  trace->add_option("--count", trace_opt.count, "events to measure")->capture_default_str();
  auto* disable = add("disable", "disable a module (it drops all its connections)");
  disable->add_option("--module", module)->required();
  std::string to_node;
  auto* update = add("update", "replace a module by a new instance built from its current "
                               "sources, moving its state and losing no event (docs/update.md)");
  update->add_option("--module", module)->required();
  update->add_option("--node", to_node, "run the new instance on this node (a move)");
  auto* nodes = app.add_subcommand(
      "nodes", "start, stop, restart or show aex-node for the descriptor's local nodes");
  std::string nodes_action;
  nodes->add_option("action", nodes_action, "start, stop, restart or status")
      ->required()
      ->check(CLI::IsMember({"start", "stop", "restart", "status"}));
  nodes->add_option("descriptor", g.descriptor, "deployment descriptor")->required();
  auto* tls_cmd = app.add_subcommand(
      "tls", "create the deployment's TLS material (CA, deployer and node certificates)");
  std::string tls_action;
  tls_cmd->add_option("action", tls_action, "init")->required()->check(CLI::IsMember({"init"}));
  tls_cmd->add_option("descriptor", g.descriptor, "deployment descriptor")->required();
  auto* graph = add("graph", "draw the application (Graphviz)");
  graph->add_option("--format", format,
                    "dot, svg or png (default: from -o's extension, else dot; svg and png are "
                    "drawn by Graphviz `dot`)");
  graph->add_option("-o,--output", out_file, "output file (default: stdout)");
  aex::tools::VerifyQuoteArgs vq_args;
  auto* verify_quote = aex::tools::AddVerifyQuoteCommand(app, &vq_args);
  aex::deploy::DashboardOptions dash;
  auto* dashboard = add("dashboard", "serve a live page of the application on loopback "
                                     "(docs/observability.md#dashboard)");
  dashboard->add_option("--listen", dash.listen, "HOST:PORT (port 0: any)")->capture_default_str();
  dashboard->add_flag("--allow-remote", dash.allow_remote, "serve on a non-loopback address");
  for (auto* c : {build, deploy, attest}) c->add_option("--module", module, "only this module");
  std::string evidence_out;
  attest->add_option("--evidence-out", evidence_out,
                     "attest --module again and save the evidence it answered with (sgx: the raw "
                     "quote, for `aex verify-quote`)");
  connect->add_option("--connection", connection, "only this connection");
  aex::cli::AddManFlag(&app, "aex-node(1), aex-platform(1), aex-gen(1)");

  // Usage errors come before --json is parsed: with it anywhere on the line,
  // they are reported as JSON too (code USAGE, exit code 2).
  const bool json_usage = std::any_of(argv + 1, argv + argc,
                                      [](const char* a) { return std::string(a) == "--json"; });
  auto usage_json = [&](const std::string& message) {
    if (json_usage) {
      PrintJson({{"ok", false},
                 {"code", "USAGE"},
                 {"errors", aex::cli::ErrorListJson(message, "")}});
    }
  };
  if (int rc = HandleCommandWord(app, argc, argv, usage_json); rc >= 0) return rc;
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (app.exit(e) == 0) return 0;
    usage_json(e.what());
    return 2;
  }

  if (g.debug) {
    // Debug lines go to stderr: stdout carries --json output.
    spdlog::set_default_logger(spdlog::stderr_logger_mt("aex"));
    spdlog::set_pattern("%H:%M:%S.%e aex: debug: %v");
    spdlog::set_level(spdlog::level::debug);
    g.verbose = true;
  }
  if (completion->parsed()) {
    if (g.json_out) {
      return PrintJson(
          {{"ok", true}, {"shell", shell}, {"script", aex::cli::CompletionScript(app, shell)}});
    }
    std::cout << aex::cli::CompletionScript(app, shell);
    return 0;
  }
  ReportDescriptorWarnings(&g);
  if (logs->parsed()) {
    auto d = aex::deploy::LoadDescriptor(g.descriptor);
    if (!d.ok()) return Fail(g, d.status());
    logs_opt.json = g.json_out;
    Status s = aex::cli::RunLogs(*d, logs_opt);
    return s.ok() ? 0 : Fail(g, s);
  }

  if (validate->parsed()) {
    Status s = Deployer::Validate(g.descriptor);
    if (!s.ok()) return Fail(g, s);
    auto d = aex::deploy::LoadDescriptor(g.descriptor);
    if (!d.ok()) return Fail(g, d.status());
    std::string warnings;
    for (const auto& w : d->warnings) warnings += w + "\n";
    if (g.json_out) {
      return PrintJson({{"ok", true},
                        {"descriptor", d->source_name},
                        {"nodes", d->nodes.size()},
                        {"modules", d->modules.size()},
                        {"connections", d->connections.size()},
                        {"periodic_events", d->periodic_events.size()},
                        {"warnings", aex::cli::ErrorListJson(warnings, d->source_name)}});
    }
    // The warnings went to stderr already (ReportDescriptorWarnings).
    std::cout << g.descriptor << ": valid (" << Count(d->modules.size(), "module") << " on "
              << Count(d->nodes.size(), "node") << ", "
              << Count(d->connections.size(), "connection") << ")\n";
    return 0;
  }

  if (verify_quote->parsed()) return aex::tools::RunVerifyQuote(vq_args, g.json_out);

  if (nodes->parsed()) {
    auto d = aex::deploy::LoadDescriptor(g.descriptor);
    if (!d.ok()) return Fail(g, d.status());
    std::vector<std::string> actions;  // with --json: the progress lines, as a list
    auto say = [&](const std::string& line) {
      if (g.json_out) actions.push_back(line);
      else if (!g.quiet) std::cerr << line << "\n";
    };
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    std::filesystem::path node_exe =
        n > 0 ? std::filesystem::path(std::string(self, static_cast<size_t>(n))).parent_path() /
                    "aex-node"
              : "aex-node";
    if (nodes_action == "status") {
      Status s = aex::cli::RunNodesStatus(*d, g.json_out);
      if (!s.ok() && !g.json_out) std::cerr << "aex: " << s.message() << "\n";
      return s.ok() ? 0 : 1;
    }
    Status s = nodes_action == "start"     ? aex::deploy::StartLocalNodes(*d, node_exe, say)
               : nodes_action == "restart" ? aex::deploy::RestartLocalNodes(*d, node_exe, say)
                                           : aex::deploy::StopLocalNodes(*d, say);
    if (g.json_out) {
      aex::cli::PrintNodesAction(*d, nodes_action, actions, s);
      return s.ok() ? 0 : ExitCode(s);
    }
    return s.ok() ? 0 : Fail(g, s);
  }

  if (tls_cmd->parsed()) {
    auto d = aex::deploy::LoadDescriptor(g.descriptor);
    if (!d.ok()) return Fail(g, d.status());
    auto created = aex::deploy::EnsureTlsMaterial(*d);
    if (!created.ok()) return Fail(g, created.status());
    json nodes_json = json::array();
    for (const auto& n : d->nodes) {
      if (!aex::deploy::UsesTls(n)) continue;
      aex::tls::Files f = aex::deploy::NodeTlsFiles(*d, n);
      nodes_json.push_back({{"node", n.name}, {"cert", f.cert}, {"key", f.key}, {"ca", f.ca}});
    }
    if (g.json_out) {
      std::cout << json{{"ok", true}, {"created", *created}, {"nodes", nodes_json}}.dump(2)
                << "\n";
      return 0;
    }
    if (!g.quiet) {
      for (const auto& file : *created) std::cerr << "  created   " << file << "\n";
      std::cerr << "TLS material in " << aex::deploy::TlsDir(*d).string()
                << " (ca.key never leaves this machine). Start each node with:\n";
      for (const auto& n : nodes_json) {
        std::cerr << "  " << n["node"].get<std::string>() << ": aex-node --tls-cert "
                  << n["cert"].get<std::string>() << " --tls-key " << n["key"].get<std::string>()
                  << " --tls-ca " << n["ca"].get<std::string>() << "\n";
      }
    }
    return 0;
  }

  auto opened = OpenDeployer(g, reset->parsed(),
                             status->parsed() || graph->parsed() || dashboard->parsed() ||
                                 trace->parsed() ||
                                 (up->parsed() && plan));
  if (!opened.ok()) return Fail(g, opened.status());
  if (dashboard->parsed()) {
    dash.ready = [&g](const std::string& url) {
      if (g.json_out) std::cout << json{{"ok", true}, {"url", url}}.dump() << std::endl;
      else std::cout << "aex dashboard: " << url << "\n(Ctrl-C to stop)" << std::endl;
    };
    Status served = aex::deploy::RunDashboard(**opened, dash);
    return served.ok() ? 0 : Fail(g, served);
  }
  Deployer& d = **opened;
  if (Status named = CheckNames(d.descriptor(), module, connection, to_node); !named.ok()) {
    return Fail(g, named);
  }
  if (g.manager && !d.descriptor().manager_spec) {
    return Fail(g, aex::InvalidArgument("--manager: " + g.descriptor +
                                        " has no manager (manager: {node: <node name>})"));
  }
  if (g.verbose && !g.json_out) {
    std::cerr << "aex: " << d.descriptor().source_name << ": "
              << Count(d.descriptor().modules.size(), "module") << " on "
              << Count(d.descriptor().nodes.size(), "node") << ", "
              << Count(d.descriptor().connections.size(), "connection") << "\n"
              << "aex: SDK: headers " << d.sdk().include_dir.string() << ", libraries "
              << d.sdk().lib_dir.string() << ", aex-gen " << d.sdk().gen_exe.string() << "\n";
  }
  if (up->parsed() && plan) {
    aex::cli::PrintPlan(d.Plan(), g.json_out);
    return 0;
  }
  if (trace->parsed()) {
    Status t = aex::cli::RunTraceCommand(d, trace_opt, g.json_out);
    return t.ok() ? 0 : Fail(g, t);
  }
  if (status->parsed() && watch) {
    Status w = aex::cli::RunWatch(d, interval_s, g.json_out, PrintStatus);
    return w.ok() ? 0 : Fail(g, w);
  }
  if (down->parsed()) {
    std::vector<aex::deploy::LeftBehind> left;
    Status f = d.Down(force ? &left : nullptr);
    if (!f.ok()) return Fail(g, f);
    aex::cli::PrintLeftBehind(left, g.json_out);
    if (!g.json_out && !g.quiet) {
      std::cerr << "aex down: " << d.descriptor().source_name
                << ": the deployment's modules are unloaded and its state is forgotten\n";
    }
    return 0;
  }
  aex::Bytes arg;
  if ((call->parsed() || output->parsed() || request->parsed()) &&
      !ParseArg(arg_hex, arg_text, &arg)) {
    return Fail(g, aex::InvalidArgument("--arg must be hex"));
  }

  Status s;
  // What a step's --json reports besides ok: the deployment as the state
  // file records it afterwards, and the phases' timings.
  auto step_json = [&] {
    json j = d.StateSummary();
    j["ok"] = true;
    j["timings"] = d.timings();
    return j;
  };
  if (build->parsed()) s = d.Build(module);
  else if (deploy->parsed()) s = d.Deploy(module);
  else if (attest->parsed() && !evidence_out.empty()) {
    return aex::tools::RunAttestEvidence(d, module, evidence_out, g.json_out);
  } else if (attest->parsed()) s = d.Attest(module);
  else if (connect->parsed()) s = d.Connect(connection);
  else if (reg->parsed()) s = d.Register();
  else if (up->parsed()) {
    s = d.Up();
    if (s.ok() && !g.json_out && !g.quiet) {
      const auto& t = d.timings();
      fprintf(stderr,
              "aex up: %s on %s, %s in %.2f s (build %.2f, deploy %.2f, attest %.2f, "
              "connect %.2f)\n",
              Count(d.descriptor().modules.size(), "module").c_str(),
              Count(d.descriptor().nodes.size(), "node").c_str(),
              Count(d.descriptor().connections.size(), "connection").c_str(), t.at("total"),
              t.at("build"), t.at("deploy"), t.at("attest"), t.at("connect"));
    }
  } else if (reset->parsed()) {
    s = d.Reset();
    if (s.ok() && g.json_out) {
      json names = json::array();
      for (const auto& n : d.descriptor().nodes) names.push_back(n.name);
      return PrintJson({{"ok", true}, {"nodes_reset", names}});
    }
    if (s.ok() && !g.quiet) {
      std::cerr << "aex reset: " << Count(d.descriptor().nodes.size(), "node")
                << " reset (every module on them unloaded, this deployment's or not); the "
                   "state of "
                << d.descriptor().source_name << " is forgotten\n";
    }
  } else if (disable->parsed()) {
    s = d.Disable(module);
    if (s.ok()) {
      const json summary = d.StateSummary();
      json m;
      for (const auto& x : summary["modules"]) {
        if (x["name"] == module) m = x;
      }
      size_t dropped = 0;
      for (const auto& c : d.descriptor().connections) {
        dropped += c.from_module == module || c.to_module == module ? 1 : 0;
      }
      if (g.json_out) {
        return PrintJson({{"ok", true},
                          {"module", module},
                          {"node", m["node"]},
                          {"id", m["id"]},
                          {"connections_dropped", dropped}});
      }
      if (!g.quiet) {
        std::cerr << "aex disable: module '" << module << "' (id " << m["id"].dump() << " on "
                  << m["node"].get<std::string>() << ") is disabled: it refuses every event, "
                  << Count(dropped, "connection") << " dropped. To run it again: `aex down "
                  << d.descriptor().source_name << "`, then `aex up "
                  << d.descriptor().source_name << "`\n";
      }
    }
  }
  else if (update->parsed()) {
    auto r = d.Update(module, to_node);
    if (!r.ok()) return Fail(g, r.status());
    for (const auto& w : r->warnings) std::cerr << "aex: warning: " << w << "\n";
    if (g.json_out) {
      std::cout << json{{"ok", true},
                        {"module", r->module},
                        {"from", {{"node", r->from_node}, {"id", r->old_id}}},
                        {"to", {{"node", r->to_node}, {"id", r->new_id}}},
                        {"routes_paused", r->routes_paused},
                        {"fences", r->fences},
                        {"state_bytes", r->state_bytes},
                        {"connections_rekeyed", r->connections_rekeyed},
                        {"seconds", {{"prepare", r->prepare_s},
                                     {"pause", r->pause_s},
                                     {"rekey", r->rekey_s},
                                     {"total", r->total_s}}},
                        {"warnings", r->warnings}}
                       .dump(2)
                << "\n";
    } else if (!g.quiet) {
      fprintf(stderr,
              "aex update: %s: id %u on %s -> id %u on %s; %zu route(s) paused for %.1f ms, "
              "state %zu bytes, %zu connection(s) re-keyed; %.2f s in all\n",
              r->module.c_str(), r->old_id, r->from_node.c_str(), r->new_id,
              r->to_node.c_str(), r->routes_paused, r->pause_s * 1000, r->state_bytes,
              r->connections_rekeyed, r->total_s);
    }
    return 0;
  }
  else if (output->parsed()) {
    s = d.Output(connection, arg);
    if (s.ok() && g.json_out) {
      return PrintJson({{"ok", true}, {"connection", connection}, {"bytes", arg.size()}});
    }
    if (s.ok() && !g.quiet) {
      const auto* c = d.descriptor().FindConnection(connection);
      std::cerr << "aex output: sent " << Count(arg.size(), "byte") << " on connection '"
                << connection << "' to " << c->to_module << "." << c->to_input->ToString()
                << "\n";
    }
  } else if (status->parsed()) {
    json r = d.StatusReport();
    std::string unreachable;  // why a node is NO: down, or another node answers on its port
    for (const auto& n : r["nodes"]) {
      if (!n["reachable"].get<bool>()) {
        unreachable +=
            n.value("error", "node '" + n["name"].get<std::string>() + "' is not reachable") + "\n";
      }
    }
    if (g.json_out) {
      r["ok"] = unreachable.empty();
      if (!unreachable.empty()) {
        r["code"] = aex::CodeName(Code::kUnavailable);
        r["errors"] = aex::cli::ErrorListJson(unreachable, g.descriptor);
      }
      PrintJson(r);
    } else {
      PrintStatus(r);
      for (const auto& e : aex::deploy::ErrorItems(unreachable, "")) {
        std::cerr << "aex: " << e.message << "\n";
      }
    }
    return unreachable.empty() ? 0 : 1;
  } else if (call->parsed() || request->parsed()) {
    auto r = call->parsed() ? d.Call(module, entry, arg) : d.Request(connection, arg);
    if (!r.ok()) return Fail(g, r.status());
    Status printed = PrintBytes(g, *r, out_file);
    return printed.ok() ? 0 : Fail(g, printed);
  } else if (graph->parsed()) {
    auto fmt = GraphFormat(*graph->get_option("--format"), format, out_file);
    if (!fmt.ok()) return Fail(g, fmt.status());
    s = WriteGraph(d.GraphDot(), *fmt, out_file, g.json_out);
    if (s.ok()) return 0;
  }
  if (g.verbose && !g.json_out) {
    for (const auto& [phase, seconds] : d.timings()) {
      fprintf(stderr, "aex: %-9s %.3f s\n", phase.c_str(), seconds);
    }
  }
  if (!s.ok()) return Fail(g, s);
  if (g.json_out) {
    json j = step_json();
    if (build->parsed()) {
      json built = json::array();
      for (const auto& [name, b] : d.built()) {
        built.push_back({{"name", name},
                         {"binary", b.binary.string()},
                         {"cached", b.cached},
                         {"measurement", aex::HexEncode(b.measurement)}});
      }
      j = {{"ok", true}, {"built", built}, {"timings", d.timings()}};
    }
    PrintJson(j);
  }
  return 0;
}
