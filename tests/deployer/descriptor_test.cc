// Tests of the deployment descriptor loader and validator.
//
// Good descriptors come from testdata/ (one in the exact style of the
// original tool's native ping-pong example); bad ones are a table of small
// inline documents, each with a substring its error must contain. Most bad
// documents have exactly one mistake and must produce exactly one message:
// that keeps the validator from burying the real problem under echoes.

#include "deployer/descriptor.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace aex::deploy {
namespace {

namespace fs = std::filesystem;
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

const fs::path kTestdata = AEX_TESTDATA_DIR;

constexpr char kKey16[] = "000102030405060708090a0b0c0d0e0f";

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

Bytes Key16() {
  Bytes key;
  for (uint8_t i = 0; i < 16; ++i) key.push_back(i);
  return key;
}

// ---------------------------------------------------------------------------
// A small valid application that the bad cases below break one way each.

const std::string kNodes =
    "nodes:\n"
    "  - {type: native, name: n1, host: 127.0.0.1, reactive_port: 5000, node_key: " +
    std::string(kKey16) +
    "}\n"
    "  - {type: native, name: n2, host: 127.0.0.1, reactive_port: 5001, node_key: " +
    std::string(kKey16) +
    "}\n"
    "  - {type: sancus, name: s1, host: 127.0.0.1, reactive_port: 6000, vendor_id: 4660,\n"
    "     vendor_key: 0b7bf3ae40880a8be430d0da34fb76f0}\n";

const std::string kModules =
    "modules:\n"
    "  - {type: native, name: ping, node: n1, sources: [ping.c]}\n"
    "  - {type: native, name: pong, node: n2, sources: [pong.c]}\n"
    "  - {type: sancus, name: led, node: s1, sources: [led.c]}\n";

std::string WithConnection(const std::string& connection) {
  return kNodes + kModules + "connections:\n  - " + connection + "\n";
}

std::string WithEvent(const std::string& event) {
  return kNodes + kModules + "periodic-events:\n  - " + event + "\n";
}

std::string WithNode(const std::string& node) {
  return "nodes:\n  - " + node + "\n" + "modules: []\n";
}

std::string WithModule(const std::string& module) {
  return kNodes + "modules:\n  - " + module + "\n";
}

const std::string kGood = WithConnection(
    "{name: c1, from_module: ping, from_output: out, to_module: pong, to_input: in, "
    "encryption: aes}");

TEST(DescriptorTest, BaseOfTheBadCasesIsValid) {
  Result<Descriptor> r = ParseDescriptor(kGood, "app.yaml", "/base");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->nodes.size(), 3u);
  EXPECT_EQ(r->modules.size(), 3u);
  EXPECT_EQ(r->modules[0].sources, std::vector<fs::path>{"/base/ping.c"});
  EXPECT_TRUE(r->warnings.empty());
}

// ---------------------------------------------------------------------------
// The table of bad descriptors.

struct BadCase {
  std::string name;
  std::string text;
  std::string expect;  // a substring of the error message
  size_t lines = 1;    // number of error lines, 0: do not check
};

void PrintTo(const BadCase& c, std::ostream* os) { *os << c.name; }

std::vector<BadCase> BadCases() {
  const std::string conn = "name: c1, from_module: ping, to_module: pong, encryption: aes";
  return {
      // Unknown keys, at every level, with a suggestion when close.
      {"UnknownTopLevelKey", kGood + "nodez: []\n",
       "app.yaml: unknown key 'nodez' (did you mean 'nodes'?)"},
      {"UnknownNodeKey",
       WithNode("{type: native, name: n1, host: h, reactive_port: 1, deploy_prot: 2, node_key: " +
                std::string(kKey16) + "}"),
       "app.yaml: nodes[0] ('n1'): unknown key 'deploy_prot' (did you mean 'deploy_port'?)"},
      {"UnknownModuleKey", WithModule("{type: native, name: ping, node: n1, sorces: [a.c]}"),
       "app.yaml: modules[0] ('ping'): unknown key 'sorces' (did you mean 'sources'?)"},
      {"UnknownConnectionKey",
       WithConnection("{name: c1, form_module: ping, from_output: o, from_module: ping, "
                      "to_module: pong, to_input: i, encryption: aes}"),
       "app.yaml: connections[0] ('c1'): unknown key 'form_module' (did you mean 'from_module'?)"},
      {"UnknownEventKey", WithEvent("{module: ping, entry: tick, frequency: 100, period: 5}"),
       "app.yaml: periodic-events[0] ('event0'): unknown key 'period'"},
      {"UnknownKeyFarFromAll", WithModule("{type: native, name: ping, node: n1, colour: blue}"),
       "unknown key 'colour'"},

      // Missing fields.
      {"MissingNodes", kModules, "app.yaml: field 'nodes': required", 0},
      {"MissingModules", kNodes, "app.yaml: field 'modules': required"},
      {"MissingModuleNode", WithModule("{type: native, name: ping, sources: [a.c]}"),
       "modules[0] ('ping'): field 'node': required"},
      // The sgx policy fields.
      {"UnknownTcbStatus", WithNode("{type: sgx, name: n1, host: h, reactive_port: 1, tcb_statuses: [UpToDate, UpToDat]}"),
       "nodes[0] ('n1'): field 'tcb_statuses': item 1: unknown TCB status 'UpToDat'"},
      {"RevokedTcbStatus", WithNode("{type: sgx, name: n1, host: h, reactive_port: 1, tcb_statuses: [Revoked]}"),
       "field 'tcb_statuses': item 0: Revoked is never accepted"},
      {"TcbStatusesNotAList", WithNode("{type: sgx, name: n1, host: h, reactive_port: 1, tcb_statuses: UpToDate}"),
       "field 'tcb_statuses'"},
      {"ShortMrsigner", WithNode("{type: sgx, name: n1, host: h, reactive_port: 1, mrsigner: abcd}"),
       "field 'mrsigner': must be 32 bytes (64 hex digits), got 2"},
      {"IsvProdIdTooLarge", WithNode("{type: sgx, name: n1, host: h, reactive_port: 1, isv_prod_id: 65536}"), "field 'isv_prod_id'"},
      {"NegativeMinIsvSvn", WithNode("{type: sgx, name: n1, host: h, reactive_port: 1, min_isv_svn: -1}"), "field 'min_isv_svn'"},
      {"MissingNodeHost", WithNode("{type: sgx, name: n1, reactive_port: 1}"),
       "nodes[0] ('n1'): field 'host': required"},
      {"MissingEncryption",
       WithConnection(
           "{name: c1, from_module: ping, from_output: o, to_module: pong, to_input: i}"),
       "connections[0] ('c1'): field 'encryption': required"},
      {"MissingToModule",
       WithConnection(
           "{name: c1, from_module: ping, from_output: o, to_input: i, encryption: aes}"),
       "connections[0] ('c1'): field 'to_module': required"},
      {"MissingFromModule",
       WithConnection("{name: c1, from_output: o, to_module: pong, to_input: i, encryption: aes}"),
       "field 'from_module': required (or set 'direct: true'"},
      {"MissingEventFrequency", WithEvent("{module: ping, entry: tick}"),
       "periodic-events[0] ('event0'): field 'frequency': required"},

      // Wrong types.
      {"PortAsString", WithNode("{type: sgx, name: n1, host: h, reactive_port: '5000'}"),
       "nodes[0] ('n1'): field 'reactive_port': expected an integer, got a string"},
      {"PortWithFraction", WithNode("{type: sgx, name: n1, host: h, reactive_port: 5000.5}"),
       "field 'reactive_port': expected an integer, got a number with a fraction"},
      {"DirectNotBool", WithConnection("{" + conn + ", from_output: o, to_input: i, direct: 1}"),
       "field 'direct': expected a boolean, got an integer"},
      {"SourcesNotAList", WithModule("{type: native, name: ping, node: n1, sources: a.c}"),
       "field 'sources': expected a list of strings, got a string"},
      {"CflagsItemNotAString",
       WithModule("{type: native, name: ping, node: n1, sources: [a.c], cflags: [-O2, 3]}"),
       "field 'cflags': item 1: expected a string, got an integer"},
      {"NodesNotAList", "nodes: {a: 1}\nmodules: []\n",
       "app.yaml: field 'nodes': expected a list, got a mapping"},
      {"NodeNotAMapping", "nodes: [n1]\nmodules: []\n",
       "app.yaml: nodes[0]: expected a mapping, got a string"},
      {"IgnoredOriginalFieldWrongType",
       WithModule("{type: native, name: ping, node: n1, sources: [a.c], binary: 7}"),
       "field 'binary': expected a string, got an integer"},
      {"UnknownNodeType", WithNode("{type: sgz, name: n1, host: h, reactive_port: 1}"),
       "field 'type': unknown node type 'sgz' (expected native, sgx, trustzone or sancus)"},
      {"UnknownEncryption",
       WithConnection("{name: c1, from_module: ping, from_output: o, to_module: pong, "
                      "to_input: i, encryption: rsa}"),
       "field 'encryption': unknown encryption 'rsa' (expected aes or spongent)"},

      // Duplicates.
      {"DuplicateNodeName",
       "nodes:\n  - {type: sgx, name: n1, host: a, reactive_port: 1}\n"
       "  - {type: sgx, name: n1, host: b, reactive_port: 1}\nmodules: []\n",
       "nodes[1] ('n1'): field 'name': duplicate node name 'n1' (also used by nodes[0])"},
      {"DuplicateModuleName",
       kNodes + "modules:\n  - {type: native, name: m, node: n1, sources: [a.c]}\n"
                "  - {type: native, name: m, node: n2, sources: [b.c]}\n",
       "modules[1] ('m'): field 'name': duplicate module name 'm' (also used by modules[0])"},
      {"DuplicateConnectionName",
       kGood + "  - {name: c1, from_module: pong, from_output: o, to_module: ping, to_input: i, "
               "encryption: aes}\n",
       "connections[1] ('c1'): field 'name': duplicate connection name 'c1'"},
      {"DuplicateConnectionId",
       WithConnection("{" + conn + ", from_output: o, to_input: i, id: 4}") +
           "  - {name: c2, from_module: pong, from_output: o, to_module: ping, to_input: i, "
           "encryption: aes, id: 4}\n",
       "connections[1] ('c2'): field 'id': duplicate connection id 4 (also used by "
       "connections[0])"},
      {"DuplicateEventName",
       WithEvent("{name: e, module: ping, entry: a, frequency: 1}") +
           "  - {name: e, module: pong, entry: b, frequency: 1}\n",
       "periodic-events[1] ('e'): field 'name': duplicate event name 'e'"},
      {"DuplicateHostAndPort",
       "nodes:\n  - {type: sgx, name: a, host: h, reactive_port: 7}\n"
       "  - {type: sgx, name: b, host: h, reactive_port: 7}\nmodules: []\n",
       "nodes[1] ('b'): field 'reactive_port': duplicate host and port 'h:7'"},
      {"DuplicateModuleIdOnNode",
       kNodes + "modules:\n  - {type: native, name: a, node: n1, sources: [a.c], id: 1}\n"
                "  - {type: native, name: b, node: n1, sources: [b.c], id: 1}\n",
       "modules[1] ('b'): field 'id': duplicate module id 1 on node 'n1'"},
      {"DuplicateYamlKey", kGood + "modules: []\n", "duplicate key 'modules'"},
      {"DuplicateJsonKey",
       R"({"nodes": [], "modules": [{"name": "a", "name": "b", "type": "sgx", "node": "x"}]})",
       "app.yaml: duplicate key 'name' in a mapping"},

      // Dangling references.
      {"DanglingModuleNode",
       kNodes + "modules:\n  - {type: native, name: ping, node: n1, sources: [a.c]}\n"
                "  - {type: native, name: pong, node: nodeX, sources: [b.c]}\n",
       "app.yaml: modules[1] ('pong'): field 'node': no node named 'nodeX'"},
      {"DanglingOldNode",
       WithModule("{type: native, name: ping, node: n1, sources: [a.c], old_node: gone}"),
       "field 'old_node': no node named 'gone'"},
      {"DanglingConnectionModule",
       WithConnection("{name: c1, from_module: ping, from_output: o, to_module: pang, "
                      "to_input: i, encryption: aes}"),
       "connections[0] ('c1'): field 'to_module': no module named 'pang'"},
      {"DanglingEventModule", WithEvent("{module: pang, entry: tick, frequency: 100}"),
       "periodic-events[0] ('event0'): field 'module': no module named 'pang'"},

      // Types and encryption.
      {"ModuleTypeMismatch", WithModule("{type: sgx, name: ping, node: n1, sources: [a.c]}"),
       "modules[0] ('ping'): field 'type': module type 'sgx' does not match the type 'native' "
       "of node 'n1'"},
      {"SancusWithAes",
       WithConnection("{name: c1, from_module: ping, from_output: o, to_module: led, "
                      "to_input: 0, encryption: aes}"),
       "field 'encryption': 'aes' is not supported by sancus module 'led' (sancus supports only "
       "'spongent')"},

      // Ranges.
      {"PortZero", WithNode("{type: sgx, name: n1, host: h, reactive_port: 0}"),
       "nodes[0] ('n1'): field 'reactive_port': must be in 1..65535, got 0"},
      {"Port70000", WithNode("{type: sgx, name: n1, host: h, reactive_port: 70000}"),
       "field 'reactive_port': must be in 1..65535, got 70000"},
      {"DeployPortNegative",
       WithNode("{type: sgx, name: n1, host: h, reactive_port: 1, "
                "deploy_port: -3}"),
       "field 'deploy_port': must be in 1..65535, got -3"},
      {"FrequencyZero", WithEvent("{module: ping, entry: tick, frequency: 0}"),
       "field 'frequency': must be in 1..4294967295, got 0"},
      {"FrequencyTooLarge", WithEvent("{module: ping, entry: tick, frequency: 4294967296}"),
       "field 'frequency': must be in 1..4294967295, got 4294967296"},
      {"NegativeIndex", WithConnection("{" + conn + ", from_output: o, to_input: -1}"),
       "field 'to_input': an index must be in 0..65535, got -1"},
      {"ConnectionsCurrentIdTooLarge", kGood + "connections_current_id: 70000\n",
       "app.yaml: field 'connections_current_id': must be in 0..65536, got 70000"},

      // Keys.
      {"BadHexKey", WithConnection("{" + conn + ", from_output: o, to_input: i, key: xyz}"),
       "connections[0] ('c1'): field 'key': not a hex string"},
      {"ShortConnectionKey",
       WithConnection("{" + conn + ", from_output: o, to_input: i, key: 0011223344556677}"),
       "field 'key': must be 16 bytes (32 hex digits), got 8 bytes"},
      {"ShortNodeKey",
       WithNode("{type: native, name: n1, host: h, reactive_port: 1, node_key: 00112233}"),
       "nodes[0] ('n1'): field 'node_key': must be 16 bytes (32 hex digits), got 4 bytes"},
      {"TrustZoneKeyOddLength",
       WithNode("{type: trustzone, name: t, host: h, reactive_port: 1, vendor_id: 1, "
                "node_key: 00112233445566778899aabbccddeeff00112233}"),
       "field 'node_key': must be 16 or 32 bytes (32 or 64 hex digits), got 20 bytes"},
      {"NativeWithoutNodeKey", WithNode("{type: native, name: n1, host: h, reactive_port: 1}"),
       "nodes[0] ('n1'): field 'node_key': required: native nodes need 'node_key' or "
       "'node_key_file'"},
      {"NodeKeyAndNodeKeyFile",
       WithNode("{type: native, name: n1, host: h, reactive_port: 1, node_key_file: k, "
                "node_key: " +
                std::string(kKey16) + "}"),
       "field 'node_key_file': give either 'node_key' or 'node_key_file', not both"},
      {"TrustZoneWithoutVendorId",
       WithNode("{type: trustzone, name: t, host: h, reactive_port: 1, node_key: " +
                std::string(kKey16) + "}"),
       "nodes[0] ('t'): field 'vendor_id': required for trustzone nodes"},
      {"TrustZoneWithoutAnyKey",
       WithNode("{type: trustzone, name: t, host: h, reactive_port: 1, vendor_id: 2}"),
       "field 'node_key': required: trustzone nodes need 'vendor_key', 'node_key' or "
       "'node_key_file'"},
      {"SancusWithoutVendorKey",
       WithNode("{type: sancus, name: s, host: h, reactive_port: 1, vendor_id: 2}"),
       "field 'vendor_key': required: sancus nodes need 'vendor_key', 'node_key' or "
       "'node_key_file'"},
      {"ModuleKeyWrongLength",
       WithModule("{type: native, name: ping, node: n1, sources: [a.c], key: 0011}"),
       "modules[0] ('ping'): field 'key': must be 16 or 32 bytes"},
      {"MeasurementWrongLength",
       WithModule("{type: native, name: ping, node: n1, sources: [a.c], expected_measurement: " +
                  std::string(kKey16) + "}"),
       "field 'expected_measurement': must be 32 bytes (64 hex digits), got 16 bytes"},

      // Connection shape (the original's rules).
      {"SelfLoop",
       WithConnection("{name: c1, from_module: ping, from_output: o, to_module: ping, "
                      "to_input: i, encryption: aes}"),
       "connections[0] ('c1'): field 'to_module': a connection cannot go from module 'ping' to "
       "itself"},
      {"DirectWithFromModule",
       WithConnection("{name: c1, direct: true, from_module: ping, to_module: pong, to_input: i, "
                      "encryption: aes}"),
       "field 'from_module': direct connections have no 'from_module'"},
      {"DirectWithFromOutput",
       WithConnection("{name: c1, direct: true, from_output: o, to_module: pong, to_input: i, "
                      "encryption: aes}"),
       "field 'from_output': direct connections have no 'from_output'"},
      {"OutputToHandler", WithConnection("{" + conn + ", from_output: o, to_handler: h}"),
       "field 'to_handler': an output ('from_output') must go to an input ('to_input'), not to a "
       "handler"},
      {"RequestToInput", WithConnection("{" + conn + ", from_request: r, to_input: i}"),
       "field 'to_input': a request ('from_request') must go to a handler ('to_handler')"},
      {"BothToInputAndToHandler",
       WithConnection("{" + conn + ", from_output: o, to_input: i, to_handler: h}"),
       "connections[0] ('c1'): field 'to_handler': give exactly one of 'to_input' and "
       "'to_handler'"},
      {"NeitherToInputNorToHandler", WithConnection("{" + conn + ", from_output: o}"),
       "field 'to_input': give exactly one of 'to_input' and 'to_handler'"},
      {"BothFromOutputAndFromRequest",
       WithConnection("{" + conn + ", from_output: o, from_request: r, to_input: i}"),
       "field 'from_request': give exactly one of 'from_output' and 'from_request'"},
      {"NeitherFromOutputNorFromRequest", WithConnection("{" + conn + ", to_input: i}"),
       "field 'from_output': give exactly one of 'from_output' and 'from_request'"},
      {"EmptyEndpointName", WithConnection("{" + conn + ", from_output: o, to_input: ''}"),
       "field 'to_input': must not be empty"},
      {"EstablishedWithoutKey",
       WithConnection("{" + conn +
                      ", from_output: o, to_input: i, established: true, id: 0, "
                      "nonce: 0, direct: false}"),
       "connections[0] ('c1'): field 'key': required once 'established' is true"},

      // Modules and devices.
      {"SancusModuleWithoutSources", WithModule("{type: sancus, name: led, node: s1}"),
       "modules[0] ('led'): field 'sources': required: list the module's C/C++ source files"},
      {"SourcesAndFiles",
       WithModule("{type: native, name: ping, node: n1, sources: [a.c], files: [b.c]}"),
       "field 'files': give 'sources' or the original 'files', not both"},
      {"EmptySourcePath", WithModule("{type: native, name: ping, node: n1, sources: ['']}"),
       "field 'sources': item 0: a path must not be empty"},
      {"InvalidModuleName", WithModule("{type: native, name: ../evil, node: n1, sources: [a.c]}"),
       "field 'name': invalid module name '../evil'"},
      {"HostAndIpAddress",
       WithNode("{type: sgx, name: n1, host: a, ip_address: 10.0.0.1, reactive_port: 1}"),
       "field 'ip_address': give 'host' or its old name 'ip_address', not both"},
      {"DeviceClaimedTwice",
       "nodes:\n  - {type: native, name: n1, host: h, reactive_port: 1, node_key: " +
           std::string(kKey16) +
           "}\nmodules:\n"
           "  - {type: native, name: a, node: n1, sources: [a.c], device: gpio0}\n"
           "  - {type: native, name: b, node: n1, sources: [b.c], device: gpio0}\n",
       "modules[1] ('b'): field 'device': device 'gpio0' on node 'n1' is already claimed by "
       "module 'a'"},
      {"DeviceNotOnNode",
       "nodes:\n  - {type: native, name: n1, host: h, reactive_port: 1, devices: [uart0], "
       "node_key: " +
           std::string(kKey16) +
           "}\nmodules:\n  - {type: native, name: a, node: n1, sources: [a.c], device: gpio0}\n",
       "modules[0] ('a'): field 'device': node 'n1' has no device 'gpio0' (its devices: 'uart0')"},
      {"DeviceListedTwice",
       WithNode("{type: sgx, name: n1, host: h, reactive_port: 1, devices: [a, a]}"),
       "field 'devices': device 'a' is listed twice"},

      // Formats.
      {"NeitherJsonNorYaml", "{ nodes: [", "app.yaml: is not a JSON, nor a YAML document"},
      {"TopLevelNotAMapping", "just some words",
       "app.yaml: the top level must be a mapping with 'nodes' and 'modules', got a string"},
      {"EmptyDocument", "", "the top level must be a mapping"},
      {"PythonYamlTag", kGood + "manager: !!python/object/apply:os.system [ls]\n",
       "unsupported YAML tag"},

      // aex's attestation manager.
      {"ManagerOnUnknownNode", kGood + "manager: {node: n9}\n",
       "app.yaml: field 'manager': no node named 'n9'"},
      {"ManagerOnSancusNode", kGood + "manager: {node: s1}\n",
       "the attestation manager cannot run on sancus node 's1'"},
      {"ManagerNameIsAModule", kGood + "manager: {node: n1, name: ping}\n",
       "name 'ping' is already a module's"},
      {"ManagerWithoutNode", kGood + "manager: {name: am}\n", "needs 'node'"},
      {"ManagerUnknownKey", kGood + "manager: {node: n1, host: x}\n", "unknown key 'host'"},
      {"ManagerPolicyNotABoolean", kGood + "manager: {node: n1, allow_unprotected: yes-ish}\n",
       "'allow_unprotected' must be a boolean"},
      {"ManagerNodeNotAString", kGood + "manager: {node: [n1]}\n",
       "'node' must be a string, got a list"},
      // Mutual TLS (node field 'tls').
      {"TlsNotABoolean",
       WithNode("{type: native, name: n1, host: h, reactive_port: 1, tls: 1, node_key: " +
                std::string(kKey16) + "}"),
       "app.yaml: nodes[0] ('n1'): field 'tls': expected a boolean, got an integer"},
      {"PeerLinkBetweenTlsAndPlainNodes",
       "nodes:\n"
       "  - {type: native, name: n1, host: 127.0.0.1, reactive_port: 5000, tls: true, node_key: " +
           std::string(kKey16) +
           "}\n"
           "  - {type: native, name: n2, host: 127.0.0.1, reactive_port: 5001, tls: false, "
           "node_key: " +
           std::string(kKey16) + "}\n" + kModules.substr(0, kModules.find("  - {type: sancus")) +
           "connections:\n  - {name: c1, from_module: ping, from_output: o, to_module: pong, "
           "to_input: i, encryption: aes}\n",
       "app.yaml: connections[0] ('c1'): field 'to_module': joins nodes that cannot link: node "
       "'n1' uses TLS, node 'n2' does not use TLS (set the same 'tls' on both)"},
  };
}

class BadDescriptorTest : public testing::TestWithParam<BadCase> {};

TEST_P(BadDescriptorTest, FailsWithMessageNamingFileEntryAndField) {
  const BadCase& c = GetParam();
  Result<Descriptor> r = ParseDescriptor(c.text, "app.yaml", "/base");
  ASSERT_FALSE(r.ok()) << "accepted:\n" << c.text;
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  const std::string& message = r.status().message();
  EXPECT_THAT(message, HasSubstr(c.expect)) << c.text;
  const std::vector<std::string> lines = Lines(message);
  for (const std::string& line : lines) EXPECT_THAT(line, StartsWith("app.yaml: "));
  if (c.lines != 0) {
    EXPECT_EQ(lines.size(), c.lines) << message;
  }
}

// `aex --json` splits the same message into {file, entry, name, field,
// message}: each line is one item, and formatting an item again gives the line.
TEST_P(BadDescriptorTest, SplitsIntoItemsThatFormatBackToTheMessage) {
  const BadCase& c = GetParam();
  Result<Descriptor> r = ParseDescriptor(c.text, "app.yaml", "/base");
  ASSERT_FALSE(r.ok());
  const std::vector<std::string> lines = Lines(r.status().message());
  const std::vector<ErrorItem> items = ErrorItems(r.status().message(), "app.yaml");
  ASSERT_EQ(items.size(), lines.size());
  for (size_t i = 0; i < items.size(); ++i) {
    const ErrorItem& e = items[i];
    EXPECT_EQ(e.file, "app.yaml");
    std::string line = e.file + ": ";
    if (!e.entry.empty()) line += e.entry + (e.name.empty() ? "" : " ('" + e.name + "')") + ": ";
    if (!e.field.empty()) line += "field '" + e.field + "': ";
    EXPECT_EQ(line + e.message, lines[i]);
    EXPECT_FALSE(e.message.empty()) << lines[i];
  }
}

INSTANTIATE_TEST_SUITE_P(Table, BadDescriptorTest, testing::ValuesIn(BadCases()),
                         [](const testing::TestParamInfo<BadCase>& info) {
                           return info.param.name;
                         });

TEST(DescriptorTest, ManagerMappingNamesTheNodeAndTheModule) {
  Result<Descriptor> r = ParseDescriptor(kGood + "manager: {node: n2}\n", "app.yaml", "/base");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(r->manager_spec.has_value());
  EXPECT_EQ(r->manager_spec->node, "n2");
  EXPECT_EQ(r->manager_spec->name, "aex-manager");
  EXPECT_FALSE(r->manager.has_value());  // not the original's manager file
}

TEST(DescriptorTest, ErrorItemsReadEntriesFieldsAndQuotedNames) {
  auto items = ErrorItems(
      "d.yaml: modules[2] ('it\\'s'): field 'node': unknown node 'x'\n"
      "d.yaml: connections[0]: field 'to_input': required\n"
      "d.yaml: unknown key 'nodez'\n"
      "node 'n1': cannot connect: Connection refused\n"
      "d.yaml: modules[x]: not an entry",
      "d.yaml");
  ASSERT_EQ(items.size(), 5u);
  EXPECT_EQ(items[0].entry, "modules[2]");
  EXPECT_EQ(items[0].name, "it's");
  EXPECT_EQ(items[0].field, "node");
  EXPECT_EQ(items[0].message, "unknown node 'x'");
  EXPECT_EQ(items[1].entry, "connections[0]");
  EXPECT_EQ(items[1].name, "");
  EXPECT_EQ(items[1].field, "to_input");
  EXPECT_EQ(items[2].file, "d.yaml");
  EXPECT_EQ(items[2].entry, "");
  EXPECT_EQ(items[2].message, "unknown key 'nodez'");
  // A runtime error: no file, entry or field.
  EXPECT_EQ(items[3].file, "");
  EXPECT_EQ(items[3].entry, "");
  EXPECT_EQ(items[3].message, "node 'n1': cannot connect: Connection refused");
  EXPECT_EQ(items[4].entry, "");
  EXPECT_EQ(items[4].message, "modules[x]: not an entry");
}

TEST(DescriptorTest, TableIsLargeEnough) { EXPECT_GE(BadCases().size(), 25u); }

// ---------------------------------------------------------------------------
// Good descriptors from files.

TEST(DescriptorTest, LoadsOriginalNativePingPongJson) {
  Result<Descriptor> r = LoadDescriptor(kTestdata / "ping_pong_native.json");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const Descriptor& d = *r;
  const fs::path base = fs::absolute(kTestdata).lexically_normal();
  EXPECT_EQ(d.base_dir, base);
  EXPECT_EQ(d.source_name, (kTestdata / "ping_pong_native.json").string());
  EXPECT_EQ(d.manager, base / "manager.yaml");

  ASSERT_EQ(d.nodes.size(), 2u);
  const Node& n1 = d.nodes[0];
  EXPECT_EQ(n1.type, Backend::kNative);
  EXPECT_EQ(n1.name, "node_native_1");
  EXPECT_EQ(n1.host, "node-native-1");
  EXPECT_EQ(n1.reactive_port, 5000);
  EXPECT_EQ(n1.deploy_port, 5000);  // defaults to reactive_port
  EXPECT_EQ(n1.node_key, Key16());
  EXPECT_EQ(n1.aesm_host, "aesm-client");
  EXPECT_TRUE(n1.allow_simulated);
  EXPECT_TRUE(n1.allow_debug);
  EXPECT_FALSE(n1.devices.has_value());
  EXPECT_EQ(d.nodes[1].node_key_file, base / "keys/node_native_2.key");

  ASSERT_EQ(d.modules.size(), 2u);
  const Module& ping = d.modules[0];
  EXPECT_EQ(ping.type, Backend::kNative);
  EXPECT_EQ(ping.node, "node_native_1");
  EXPECT_TRUE(ping.sources.empty());
  EXPECT_EQ(ping.folder, base / "ping");  // the original's default
  EXPECT_TRUE(ping.folder_is_default);
  EXPECT_EQ(ping.ignored_fields,
            (std::vector<std::string>{"vendor_key", "ra_settings"}));
  EXPECT_EQ(ping.features, (std::vector<std::string>{"measure_time"}));

  ASSERT_EQ(d.connections.size(), 3u);
  for (uint16_t i = 0; i < 3; ++i) {
    EXPECT_EQ(d.connections[i].id, i);
    EXPECT_EQ(d.connections[i].name, "conn" + std::to_string(i));
    EXPECT_EQ(d.connections[i].encryption, Encryption::kAes);
    EXPECT_FALSE(d.connections[i].direct);
    EXPECT_FALSE(d.connections[i].key.has_value());
  }
  const Connection& c0 = d.connections[0];
  EXPECT_EQ(c0.from_module, "ping");
  ASSERT_TRUE(c0.from_output.has_value());
  EXPECT_EQ(c0.from_output->name, "send_ping");
  ASSERT_TRUE(c0.to_input.has_value());
  EXPECT_EQ(c0.to_input->name, "recv_ping");
  const Connection& c2 = d.connections[2];
  ASSERT_TRUE(c2.from_request.has_value());
  EXPECT_EQ(c2.from_request->name, "send_ping_req");
  ASSERT_TRUE(c2.to_handler.has_value());
  EXPECT_EQ(c2.to_handler->name, "recv_ping_req");
  EXPECT_FALSE(c2.to_input.has_value());
  EXPECT_EQ(d.connections_current_id, 3u);

  // The original-only fields are accepted but reported as ignored.
  EXPECT_THAT(d.warnings,
              Contains(HasSubstr("ping_pong_native.json: modules[0] ('ping'): field 'ra_settings': "
                                 "ignored: settings of the original's EPID attestation service")));
  EXPECT_THAT(d.warnings, Contains(HasSubstr("nodes[0] ('node_native_1'): field 'aesm_host': "
                                             "ignored: only sgx nodes use it")));
}

// The corpus of the original tool's fields (testdata/ae_fields.json: every
// field of its schema, on nodes and modules of each type, connections and
// periodic events): each is used, or named in a warning that says why aex
// ignores it.
TEST(DescriptorTest, EveryOriginalFieldIsUsedOrWarnedAbout) {
  Result<Descriptor> r = LoadDescriptor(kTestdata / "ae_fields.json");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const std::vector<std::pair<std::string, std::string>> expected = {
      {": field 'manager'", "ignored: the original's manager service file"},
      {"nodes[0] ('native'): field 'aesm_host'", "ignored: only sgx nodes use it"},
      {"nodes[0] ('native'): field 'aesm_port'", "ignored: only sgx nodes use it"},
      {"nodes[0] ('native'): field 'module_id'", "ignored: deployment state"},
      {"nodes[1] ('sgx'): field 'aesm_host'", "ignored: aex's sgx platform attests without AESM"},
      {"nodes[1] ('sgx'): field 'module_id'", "ignored: deployment state"},
      {"nodes[2] ('sancus'): field 'module_id'", "ignored: deployment state"},
      {"nodes[3] ('trustzone'): field 'module_id'", "ignored: deployment state"},
      {"modules[0] ('ping'): field 'features'", "cargo features apply to Rust modules"},
      {"modules[0] ('ping'): field 'binary'", "aex builds the module from its sources"},
      {"modules[0] ('ping'): field 'data'", "the original's generated build data"},
      {"modules[0] ('ping'): field 'deployed'", "the module has sources, so aex builds"},
      {"modules[0] ('ping'): field 'attested'", "ignored: deployment state"},
      {"modules[0] ('ping'): field 'nonce'", "ignored: deployment state"},
      {"modules[0] ('ping'): field 'id'", "ignored: deployment state"},
      {"modules[0] ('ping'): field 'key'", "aex derives module keys at attestation"},
      {"modules[0] ('ping'): field 'port'", "ignored: deployment state"},
      {"modules[0] ('ping'): field 'old_node'", "ignored: deployment state"},
      {"modules[0] ('ping'): field 'priority'", "before it connects any"},
      {"modules[1] ('db'): field 'vendor_key'", "aex's deployer signs them itself"},
      {"modules[1] ('db'): field 'ra_settings'", "EPID attestation service"},
      {"modules[1] ('db'): field 'sgxs'", "an SGX build artefact"},
      {"modules[1] ('db'): field 'signature'", "an SGX build artefact"},
      {"modules[2] ('led_driver'): field 'binary'", "aex builds the module"},  // empty
      {"modules[2] ('led_driver'): field 'id'", "finds a pre-installed module by its name"},
      {"modules[2] ('led_driver'): field 'symtab'", "Sancus symbol table"},
      {"modules[2] ('led_driver'): field 'nonce'", "ignored: deployment state"},
      {"modules[2] ('led_driver'): field 'key'", "aex derives module keys at attestation"},
      {"modules[3] ('button'): field 'deploy_name'", "name of a built Sancus file"},
      {"modules[4] ('gateway'): field 'uuid'", "OP-TEE TA UUID"},
      {"connections[1] ('c1'): field 'key'", "derives a fresh connection key"},
      {"connections[1] ('c1'): field 'nonce'", "ignored: deployment state"},
      {"connections[1] ('c1'): field 'established'", "ignored: deployment state"},
      {"periodic-events[0] ('tick'): field 'established'", "ignored: deployment state"},
  };
  for (const auto& [where, why] : expected) {
    EXPECT_THAT(r->warnings, Contains(AllOf(HasSubstr(where), HasSubstr(why))))
        << where << ": " << why;
  }
  EXPECT_EQ(r->warnings.size(), expected.size()) << ::testing::PrintToString(r->warnings);
  // Used fields: the pre-installed module, its measurement and the state
  // aex reads (ids, counters) are in the model.
  EXPECT_TRUE(r->modules[2].preinstalled());
  EXPECT_FALSE(r->modules[0].preinstalled());  // deployed, but has sources
  EXPECT_TRUE(r->modules[2].expected_measurement.has_value());
}

TEST(DescriptorTest, PreinstalledModuleNeedsAMeasurement) {
  const std::string text = R"({"nodes": [{"type": "sancus", "name": "s", "host": "127.0.0.1",
      "reactive_port": 6000, "vendor_id": 1, "vendor_key": "0b7bf3ae40880a8be430d0da34fb76f0"}],
      "modules": [{"type": "sancus", "name": "led", "node": "s", "deployed": true,
                   "files": [], "binary": ""}]})";
  Result<Descriptor> r = ParseDescriptor(text, "pre.json", "/tmp");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(),
              HasSubstr("pre.json: modules[0] ('led'): field 'binary': required: a "
                        "pre-installed module"));
  std::string with_binary = text;
  with_binary.replace(with_binary.find("\"binary\": \"\""), 12, "\"binary\": \"led.bin\"");
  r = ParseDescriptor(with_binary, "pre.json", "/tmp");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->modules[0].binary, fs::path("/tmp/led.bin"));
  EXPECT_TRUE(r->warnings.empty()) << r->warnings.front();  // binary is used
}

TEST(DescriptorTest, PreinstalledEndpointsAreIndexes) {
  const std::string text = R"({"nodes": [{"type": "native", "name": "n", "host": "127.0.0.1",
      "reactive_port": 6000, "node_key": "00112233445566778899aabbccddeeff"}],
      "modules": [{"type": "native", "name": "led", "node": "n", "deployed": true, "files": [],
                   "binary": "led.bin"},
                  {"type": "native", "name": "gw", "node": "n", "sources": ["gw.c"]}],
      "connections": [{"from_module": "gw", "from_output": "o", "to_module": "led",
                       "to_input": 1, "encryption": "aes"},
                      {"from_module": "gw", "from_output": "o", "to_module": "led",
                       "to_input": "toggle", "encryption": "aes"}]})";
  Result<Descriptor> r = ParseDescriptor(text, "pre.json", "/tmp");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  gen::ModuleManifest gw;
  gw.name = "gw";
  gw.outputs = {"o"};
  gen::ModuleManifest led;  // nothing was built
  led.name = "led";
  Status s = ValidateAgainstManifests(*r, {{"gw", gw}, {"led", led}});
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("connections[1] ('conn1'): field 'to_input': module 'led' "
                                     "is pre-installed (no sources, so no manifest): give the "
                                     "input by index"));
  EXPECT_THAT(s.message(), Not(HasSubstr("connections[0]")));
}

TEST(DescriptorTest, ReadyToRunNeedsRootCaAndPreinstalledBinary) {
  const std::string text = R"({"nodes": [{"type": "sgx", "name": "s", "host": "127.0.0.1",
      "reactive_port": 6000}, {"type": "native", "name": "n", "host": "127.0.0.1",
      "reactive_port": 6001, "node_key": "00112233445566778899aabbccddeeff"}],
      "modules": [{"type": "native", "name": "led", "node": "n", "deployed": true,
                   "files": [], "binary": "no-such-file.bin"}]})";
  Result<Descriptor> r = ParseDescriptor(text, "run.json", "/tmp");
  ASSERT_TRUE(r.ok()) << r.status().ToString();  // consistent: status, graph work
  Status s = CheckReadyToRun(*r);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("run.json: nodes[0] ('s'): field 'root_ca': required: sgx "
                                     "modules are attested against the platform's root CA"));
  EXPECT_THAT(s.message(), HasSubstr("run.json: modules[0] ('led'): field 'binary': no file "
                                     "'/tmp/no-such-file.bin'"));
}

TEST(DescriptorTest, YamlAndJsonGiveTheSameModel) {
  Result<Descriptor> json = LoadDescriptor(kTestdata / "ping_pong_native.json");
  Result<Descriptor> yaml = LoadDescriptor(kTestdata / "ping_pong_native.yaml");
  ASSERT_TRUE(json.ok()) << json.status().ToString();
  ASSERT_TRUE(yaml.ok()) << yaml.status().ToString();
  ASSERT_EQ(json->nodes.size(), yaml->nodes.size());
  for (size_t i = 0; i < json->nodes.size(); ++i) {
    const Node& a = json->nodes[i];
    const Node& b = yaml->nodes[i];
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(a.host, b.host);
    EXPECT_EQ(a.reactive_port, b.reactive_port);
    EXPECT_EQ(a.node_key, b.node_key);
    EXPECT_EQ(a.node_key_file, b.node_key_file);
  }
  ASSERT_EQ(json->modules.size(), yaml->modules.size());
  for (size_t i = 0; i < json->modules.size(); ++i) {
    EXPECT_EQ(json->modules[i].name, yaml->modules[i].name);
    EXPECT_EQ(json->modules[i].folder, yaml->modules[i].folder);
    EXPECT_EQ(json->modules[i].ignored_fields, yaml->modules[i].ignored_fields);
  }
  ASSERT_EQ(json->connections.size(), yaml->connections.size());
  for (size_t i = 0; i < json->connections.size(); ++i) {
    const Connection& a = json->connections[i];
    const Connection& b = yaml->connections[i];
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(a.id, b.id);
    EXPECT_EQ(a.from_module, b.from_module);
    EXPECT_EQ(a.to_module, b.to_module);
    EXPECT_EQ(a.encryption, b.encryption);
    EXPECT_EQ(a.from_output.has_value(), b.from_output.has_value());
    EXPECT_EQ(a.to_handler.has_value(), b.to_handler.has_value());
  }
  EXPECT_EQ(json->manager, yaml->manager);
}

TEST(DescriptorTest, SgxPolicyFields) {
  Result<Descriptor> r = ParseDescriptor(
      WithNode("{type: sgx, name: n1, host: h, reactive_port: 1, root_ca: ca.pem, "
               "tcb_statuses: [UpToDate, OutOfDate], min_isv_svn: 2, isv_prod_id: 7, "
               "mrsigner: " + std::string(64, 'a') + ", collateral: collateral/}"),
      "app.yaml", "/base");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const Node& n = r->nodes[0];
  EXPECT_EQ(n.tcb_statuses, (std::vector<std::string>{"UpToDate", "OutOfDate"}));
  EXPECT_EQ(n.min_isv_svn, 2);
  EXPECT_EQ(n.isv_prod_id, std::optional<uint16_t>(7));
  EXPECT_EQ(n.mrsigner, Bytes(32, 0xaa));
  EXPECT_EQ(n.collateral, fs::path("/base/collateral/"));
  EXPECT_TRUE(r->warnings.empty());
  // Defaults: UpToDate only (empty list), any ISVSVN and ISVPRODID and
  // MRSIGNER (beyond the deployment's signer), the evidence's collateral.
  r = ParseDescriptor(WithNode("{type: sgx, name: n1, host: h, reactive_port: 1}"), "app.yaml",
                      "/base");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->nodes[0].tcb_statuses.empty());
  EXPECT_EQ(r->nodes[0].min_isv_svn, 0);
  EXPECT_FALSE(r->nodes[0].isv_prod_id || r->nodes[0].mrsigner || r->nodes[0].collateral);
  // On another backend they are ignored, with a warning.
  r = ParseDescriptor(WithNode("{type: native, name: n1, host: h, reactive_port: 1, node_key: " +
                               std::string(kKey16) + ", min_isv_svn: 1}"),
                      "app.yaml", "/base");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_THAT(r->warnings, Contains(HasSubstr("'min_isv_svn': ignored: only sgx nodes use it")));
}

TEST(DescriptorTest, LoadsEveryBackendAndExtension) {
  Result<Descriptor> r = LoadDescriptor(kTestdata / "full.yaml");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const Descriptor& d = *r;
  const fs::path base = d.base_dir;
  EXPECT_TRUE(d.warnings.empty()) << d.warnings.front();

  const Node& gw = d.nodes[0];
  EXPECT_EQ(gw.deploy_port, 5001);
  EXPECT_EQ(gw.node_key_file, base / "keys/gateway.key");
  EXPECT_TRUE(gw.allow_simulated);
  EXPECT_FALSE(gw.allow_debug);
  EXPECT_EQ(gw.devices, (std::vector<std::string>{"gpio0", "uart1"}));
  const Node& cloud = d.nodes[1];
  EXPECT_EQ(cloud.type, Backend::kSgx);
  EXPECT_EQ(cloud.root_ca, base / "certs/platform-ca.pem");
  EXPECT_FALSE(cloud.allow_debug);  // YAML 1.1 'no'
  const Node& mcu = d.nodes[2];
  EXPECT_EQ(mcu.type, Backend::kSancus);
  EXPECT_EQ(mcu.vendor_id, 4660);
  ASSERT_TRUE(mcu.vendor_key.has_value());
  EXPECT_EQ(mcu.vendor_key->size(), 16u);
  const Node& board = d.nodes[3];
  EXPECT_EQ(board.type, Backend::kTrustZone);
  ASSERT_TRUE(board.node_key.has_value());
  EXPECT_EQ(board.node_key->size(), 32u);

  const Module& driver = d.modules[0];
  EXPECT_EQ(driver.sources,
            (std::vector<fs::path>{base / "src/button_driver.c", base / "src/util.cc"}));
  EXPECT_EQ(driver.cflags, (std::vector<std::string>{"-O2", "-DBUTTON_PIN=4"}));
  EXPECT_EQ(driver.ldflags, (std::vector<std::string>{"-lm"}));
  EXPECT_EQ(driver.device, "gpio0");
  ASSERT_TRUE(driver.expected_measurement.has_value());
  EXPECT_EQ(driver.expected_measurement->size(), 32u);
  EXPECT_EQ(d.modules[2].folder, base / "db");
  EXPECT_FALSE(d.modules[2].folder_is_default);
  EXPECT_EQ(d.modules[3].sources, std::vector<fs::path>{base / "src/led_driver.c"});

  ASSERT_EQ(d.connections.size(), 4u);
  EXPECT_EQ(d.connections[0].name, "press");
  EXPECT_EQ(d.connections[1].encryption, Encryption::kSpongent);
  ASSERT_TRUE(d.connections[1].to_input.has_value());
  EXPECT_TRUE(d.connections[1].to_input->is_index());
  EXPECT_EQ(d.connections[1].to_input->index, 1);
  EXPECT_EQ(d.connections[2].name, "conn2");
  const Connection& direct = d.connections[3];
  EXPECT_TRUE(direct.direct);
  EXPECT_TRUE(direct.from_module.empty());
  EXPECT_EQ(direct.to_handler->name, "init_server");

  ASSERT_EQ(d.periodic_events.size(), 2u);
  EXPECT_EQ(d.periodic_events[0].name, "event0");
  EXPECT_EQ(d.periodic_events[0].frequency_ms, 1000u);
  EXPECT_EQ(d.periodic_events[0].entry.name, "poll");
  EXPECT_EQ(d.periodic_events[1].name, "heartbeat");
  EXPECT_EQ(d.periodic_events[1].id, 1u);
  EXPECT_EQ(d.periodic_events[1].entry.index, 0);
  EXPECT_EQ(d.events_current_id, 2u);

  EXPECT_TRUE(ValidateDescriptor(d).ok());
}

TEST(DescriptorTest, LoadsResultFileOfTheOriginalTool) {
  // Every unset field is written as null there; null must mean absent.
  Result<Descriptor> r = LoadDescriptor(kTestdata / "original_result.json");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const Descriptor& d = *r;
  EXPECT_FALSE(d.manager.has_value());
  EXPECT_EQ(d.nodes[0].module_id, 3);
  EXPECT_EQ(d.nodes[0].aesm_port, 13741);
  EXPECT_FALSE(d.nodes[1].node_key.has_value());
  ASSERT_TRUE(d.nodes[1].vendor_key.has_value());
  EXPECT_EQ(d.nodes[1].vendor_key->size(), 32u);  // SHA-256 derived

  const Module& ping = d.modules[0];
  EXPECT_TRUE(ping.deployed);
  EXPECT_TRUE(ping.attested);
  EXPECT_EQ(ping.nonce, 2u);
  EXPECT_EQ(ping.id, 1);
  EXPECT_EQ(ping.port, 5001);
  EXPECT_EQ(ping.old_node, "node_sgx");
  EXPECT_FALSE(ping.priority.has_value());
  ASSERT_TRUE(ping.key.has_value());
  EXPECT_EQ(ping.key->size(), 16u);

  ASSERT_EQ(d.connections.size(), 2u);
  EXPECT_TRUE(d.connections[0].established);
  EXPECT_EQ(d.connections[1].id, 1);
  EXPECT_FALSE(d.connections[0].from_request.has_value());
  EXPECT_EQ(d.connections_current_id, 2u);
  EXPECT_TRUE(d.periodic_events.empty());
}

// ---------------------------------------------------------------------------
// Error reporting.

TEST(DescriptorTest, ReportsEveryErrorOfTheFileAtOnce) {
  const fs::path file = kTestdata / "many_errors.yaml";
  Result<Descriptor> r = LoadDescriptor(file);
  ASSERT_FALSE(r.ok());
  const std::string prefix = file.string() + ": ";
  EXPECT_EQ(Lines(r.status().message()),
            (std::vector<std::string>{
                prefix + "nodes[0] ('n1'): field 'reactive_port': must be in 1..65535, got 0",
                prefix + "modules[0] ('ping'): unknown key 'colour'",
                prefix + "modules[1] ('pong'): field 'node': no node named 'nodeX'",
                prefix + "connections[0] ('c1'): unknown key 'form_module' (did you mean "
                         "'from_module'?)",
                prefix + "connections[0] ('c1'): field 'from_module': required (or set 'direct: "
                         "true' for a connection from the deployer)",
            }));
}

TEST(DescriptorTest, MissingFile) {
  Result<Descriptor> r = LoadDescriptor(kTestdata / "no_such_file.yaml");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kNotFound);
  EXPECT_THAT(r.status().message(),
              AllOf(HasSubstr("no_such_file.yaml"), HasSubstr("does not exist")));
}

TEST(DescriptorTest, FileThatIsNeitherJsonNorYaml) {
  Result<Descriptor> r = LoadDescriptor(kTestdata / "not_a_descriptor.yaml");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  EXPECT_THAT(r.status().message(),
              AllOf(HasSubstr("not_a_descriptor.yaml: is not a JSON, nor a YAML document"),
                    HasSubstr("as YAML: line ")));
}

TEST(DescriptorTest, DirectoryIsNotADescriptor) {
  Result<Descriptor> r = LoadDescriptor(kTestdata);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("not a regular file"));
}

TEST(DescriptorTest, TooLarge) {
  std::string text(kMaxDescriptorBytes + 1, ' ');
  Result<Descriptor> r = ParseDescriptor(text, "big.json", "");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("big.json: larger than 16 MiB"));
}

TEST(DescriptorTest, CapsTheNumberOfReportedErrors) {
  std::string text = "nodes: []\nmodules: []\n";
  for (int i = 0; i < 150; ++i) text += "bad" + std::to_string(i) + ": 1\n";
  Result<Descriptor> r = ParseDescriptor(text, "app.yaml", "");
  ASSERT_FALSE(r.ok());
  const std::vector<std::string> lines = Lines(r.status().message());
  ASSERT_EQ(lines.size(), 101u);
  EXPECT_EQ(lines.back(), "... and 50 more errors");
}

TEST(DescriptorTest, EscapesControlCharactersInMessages) {
  Result<Descriptor> r =
      ParseDescriptor("{\"nodes\": [], \"modules\": [], \"\\u001b[31mx\": 1}", "app.json", "");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("unknown key '\\x1b[31mx'"));
  EXPECT_EQ(r.status().message().find('\x1b'), std::string::npos);
}

TEST(DescriptorTest, EscapesInputQuotedByTheYamlParser) {
  // Found by fuzzing: yaml-cpp copies an unknown escape character (there a
  // newline, here \x01) verbatim into its message.
  Result<Descriptor> r = ParseDescriptor("nodes: \"a\\\x01\"\n", "app.yaml", "");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("unknown escape character: \\x01"));
  EXPECT_EQ(Lines(r.status().message()).size(), 1u);
}

// ---------------------------------------------------------------------------
// Details of the format.

TEST(DescriptorTest, YamlScalarsAreTypedLikeTheOriginal) {
  // An all-decimal hex key stays a string; yes/no are booleans; 0x is hex.
  const std::string text = kNodes + kModules +
                           "connections:\n"
                           "  - {name: c, direct: yes, to_module: pong, to_input: 0x10,\n"
                           "     encryption: Spongent, key: 11223344556677889900112233445566}\n";
  Result<Descriptor> r = ParseDescriptor(text, "app.yaml", "");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const Connection& c = r->connections[0];
  EXPECT_TRUE(c.direct);
  EXPECT_EQ(c.to_input->index, 16);
  EXPECT_EQ(c.encryption, Encryption::kSpongent);
  ASSERT_TRUE(c.key.has_value());
  EXPECT_EQ(c.key->size(), 16u);
}

TEST(DescriptorTest, NullMeansAbsent) {
  const std::string text = kGood + "periodic-events: ~\nmanager: null\n";
  Result<Descriptor> r = ParseDescriptor(text, "app.yaml", "");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->periodic_events.empty());
  EXPECT_FALSE(r->manager.has_value());
}

TEST(DescriptorTest, TlsFieldDefaultsToOnEverywhere) {
  Result<Descriptor> r = ParseDescriptor(
      "nodes:\n"
      "  - {type: sgx, name: a, host: 10.1.2.3, reactive_port: 9}\n"
      "  - {type: sgx, name: b, host: 10.1.2.4, reactive_port: 9, tls: false}\n"
      "  - {type: sgx, name: c, host: localhost, reactive_port: 9}\n"
      "  - {type: sgx, name: d, host: 127.0.0.1, reactive_port: 9, tls: yes}\n"
      "modules: []\n",
      "app.yaml", "");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(UsesTls(r->nodes[0]));
  EXPECT_FALSE(UsesTls(r->nodes[1]));
  EXPECT_TRUE(UsesTls(r->nodes[2]));  // loopback too: local users are not trusted
  EXPECT_TRUE(UsesTls(r->nodes[3]));
  // Plain TCP is allowed when asked for, with a warning that says what it costs.
  EXPECT_THAT(r->warnings, Contains(HasSubstr("nodes[1] ('b'): field 'tls': off: anyone who "
                                              "can reach '10.1.2.4' can load")));
}

TEST(DescriptorTest, PlainTcpOnLoopbackIsWarnedAbout) {
  Result<Descriptor> r = ParseDescriptor(
      "nodes:\n"
      "  - {type: sgx, name: a, host: 127.0.0.1, reactive_port: 9, tls: false}\n"
      "modules: []\n",
      "app.yaml", "");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(UsesTls(r->nodes[0]));
  EXPECT_THAT(r->warnings, Contains(HasSubstr("nodes[0] ('a'): field 'tls': off: anyone who "
                                              "can reach '127.0.0.1' (any local user or "
                                              "process) can load")));
}

TEST(DescriptorTest, LegacyIpAddressIsTheHost) {
  Result<Descriptor> r = ParseDescriptor(
      "nodes: [{type: sgx, name: n, ip_address: 10.1.2.3, reactive_port: 9}]\nmodules: []\n",
      "app.yaml", "");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->nodes[0].host, "10.1.2.3");
}

TEST(DescriptorTest, AssignedIdsSkipExplicitOnes) {
  const std::string text =
      WithConnection(
          "{from_module: ping, from_output: o, to_module: pong, to_input: i, "
          "encryption: aes}") +
      "  - {id: 0, from_module: pong, from_output: o, to_module: ping, to_input: i, "
      "encryption: aes}\n"
      "  - {from_module: ping, from_output: p, to_module: pong, to_input: j, encryption: aes}\n";
  Result<Descriptor> r = ParseDescriptor(text, "app.yaml", "");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->connections[0].id, 1);
  EXPECT_EQ(r->connections[0].name, "conn1");
  EXPECT_EQ(r->connections[1].id, 0);
  EXPECT_EQ(r->connections[1].name, "conn0");
  EXPECT_EQ(r->connections[2].id, 2);
  EXPECT_EQ(r->connections_current_id, 3u);
}

TEST(DescriptorTest, CounterStartsAtCurrentId) {
  Result<Descriptor> r = ParseDescriptor(kGood + "connections_current_id: 7\n", "app.yaml", "");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->connections[0].id, 7);
  EXPECT_EQ(r->connections_current_id, 8u);
}

TEST(DescriptorTest, HostileInputsFailCleanly) {
  std::vector<std::string> inputs = {
      std::string(100000, '['),  std::string(100000, '{'),    "a: " + std::string(5000, '['),
      "\xff\xfe\x00\x01garbage", "nodes: *undefined_alias\n", "nodes: &a [*a]\nmodules: []\n",
  };
  // An alias bomb: a billion leaves from a few hundred bytes.
  std::string bomb = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 10; ++i) {
    const std::string prev = "*a" + std::to_string(i - 1);
    const std::string index = std::to_string(i);
    bomb.append("a").append(index).append(": &a").append(index).append(" [");
    for (int j = 0; j < 10; ++j) {
      if (j > 0) bomb += ", ";
      bomb += prev;
    }
    bomb += "]\n";
  }
  inputs.push_back(bomb);
  std::string deep_block;
  for (int i = 0; i < 300; ++i) deep_block += std::string(static_cast<size_t>(i), ' ') + "- \n";
  inputs.push_back(deep_block);
  for (const std::string& input : inputs) {
    Result<Descriptor> r = ParseDescriptor(input, "evil.yaml", "");
    EXPECT_FALSE(r.ok()) << input.substr(0, 60);
  }
}

// ---------------------------------------------------------------------------
// ValidateDescriptor on descriptors built in code.

Descriptor BuiltDescriptor() {
  Descriptor d;
  d.source_name = "built";
  Node a;
  a.type = Backend::kSgx;
  a.name = "a";
  a.host = "h";
  a.reactive_port = a.deploy_port = 1;
  Node b = a;
  b.name = "b";
  b.reactive_port = b.deploy_port = 2;
  d.nodes = {a, b};
  Module m1;
  m1.type = Backend::kSgx;
  m1.name = "m1";
  m1.node = "a";
  m1.sources = {"m1.cc"};
  Module m2 = m1;
  m2.name = "m2";
  m2.node = "b";
  d.modules = {m1, m2};
  Connection c;
  c.name = "c";
  c.from_module = "m1";
  c.from_output = IoRef{"out", std::nullopt};
  c.to_module = "m2";
  c.to_input = IoRef{"in", std::nullopt};
  d.connections = {c};
  PeriodicEvent e;
  e.name = "e";
  e.module = "m1";
  e.entry = IoRef{"tick", std::nullopt};
  e.frequency_ms = 50;
  d.periodic_events = {e};
  return d;
}

TEST(ValidateDescriptorTest, AcceptsAValidBuiltDescriptor) {
  Status s = ValidateDescriptor(BuiltDescriptor());
  EXPECT_TRUE(s.ok()) << s.ToString();
}

TEST(ValidateDescriptorTest, RejectsBrokenBuiltDescriptor) {
  Descriptor d = BuiltDescriptor();
  d.nodes[1].type = Backend::kSancus;  // m2 is sgx, and sancus needs keys
  d.nodes[0].reactive_port = 0;
  d.connections[0].key = Bytes(5, 0);
  d.periodic_events[0].frequency_ms = 0;
  d.modules[0].sources.clear();
  Status s = ValidateDescriptor(d);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  const std::string& m = s.message();
  EXPECT_THAT(m, HasSubstr("built: nodes[0] ('a'): field 'reactive_port': must be in 1..65535"));
  EXPECT_THAT(m, HasSubstr("built: nodes[1] ('b'): field 'vendor_id': required for sancus nodes"));
  EXPECT_THAT(m, HasSubstr("built: modules[0] ('m1'): field 'sources': required"));
  EXPECT_THAT(m, HasSubstr("built: modules[1] ('m2'): field 'type': module type 'sgx' does not "
                           "match the type 'sancus' of node 'b'"));
  EXPECT_THAT(m, HasSubstr("built: connections[0] ('c'): field 'key': must be 16 bytes"));
  EXPECT_THAT(m, HasSubstr("built: periodic-events[0] ('e'): field 'frequency': must be in"));
}

TEST(ValidateDescriptorTest, EmptyNamesAreRequired) {
  Descriptor d = BuiltDescriptor();
  d.modules[0].name.clear();
  d.connections[0].name.clear();
  Status s = ValidateDescriptor(d);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("built: modules[0]: field 'name': required"));
  EXPECT_THAT(s.message(), HasSubstr("built: connections[0]: field 'name': invalid connection "
                                     "name"));
}

// ---------------------------------------------------------------------------
// ValidateAgainstManifests.

std::map<std::string, gen::ModuleManifest> PingPongManifests() {
  gen::ModuleManifest ping;
  ping.name = "ping";
  ping.inputs = {"recv_pong"};
  ping.outputs = {"send_ping"};
  ping.requests = {"send_ping_req"};
  ping.entries = {"start"};
  gen::ModuleManifest pong;
  pong.name = "pong";
  pong.inputs = {"recv_ping"};
  pong.outputs = {"send_pong"};
  pong.handlers = {"recv_ping_req"};
  return {{"ping", ping}, {"pong", pong}};
}

TEST(ManifestTest, AcceptsMatchingManifests) {
  Result<Descriptor> r = LoadDescriptor(kTestdata / "ping_pong_native.json");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  Status s = ValidateAgainstManifests(*r, PingPongManifests());
  EXPECT_TRUE(s.ok()) << s.ToString();
}

TEST(ManifestTest, ReportsEveryMismatch) {
  const std::string text =
      "nodes:\n"
      "  - {type: sgx, name: n1, host: h, reactive_port: 1}\n"
      "  - {type: sgx, name: n2, host: h, reactive_port: 2}\n"
      "modules:\n"
      "  - {type: sgx, name: ping, node: n1}\n"
      "  - {type: sgx, name: pong, node: n2}\n"
      "  - {type: sgx, name: other, node: n2}\n"
      "connections:\n"
      "  - {name: a, from_module: ping, from_output: send_pingg, to_module: pong, "
      "to_input: recv_ping, encryption: aes}\n"
      "  - {name: b, from_module: pong, from_output: 3, to_module: ping, to_input: 0, "
      "encryption: aes}\n"
      "  - {name: c, from_module: ping, from_request: send_ping_req, to_module: pong, "
      "to_handler: nope, encryption: aes}\n"
      "  - {name: d, direct: true, to_module: other, to_input: x, encryption: aes}\n"
      "  - {name: e, direct: true, to_module: ping, to_handler: h, encryption: aes}\n"
      "periodic-events:\n"
      "  - {name: t, module: ping, entry: stop, frequency: 10}\n"
      "  - {name: u, module: ping, entry: 0, frequency: 10}\n";
  Result<Descriptor> r = ParseDescriptor(text, "app.yaml", "");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  Status s = ValidateAgainstManifests(*r, PingPongManifests());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(Lines(s.message()),
            (std::vector<std::string>{
                "app.yaml: connections[0] ('a'): field 'from_output': module 'ping' has no "
                "output named 'send_pingg' (its outputs: 'send_ping')",
                "app.yaml: connections[1] ('b'): field 'from_output': module 'pong' has no "
                "output with index 3 (it has 1 outputs)",
                "app.yaml: connections[2] ('c'): field 'to_handler': module 'pong' has no "
                "handler named 'nope' (its handlers: 'recv_ping_req')",
                "app.yaml: connections[3] ('d'): field 'to_input': no manifest for module "
                "'other' (was it built with aex-gen?)",
                "app.yaml: connections[4] ('e'): field 'to_handler': module 'ping' has no "
                "handler named 'h' (it has no handlers)",
                "app.yaml: periodic-events[0] ('t'): field 'entry': module 'ping' has no entry "
                "named 'stop' (its entries: 'start')",
            }));
}

// ---------------------------------------------------------------------------
// Hostile sizes (issue 12): descriptors just under the size cap, in shapes
// that made validation superlinear, are rejected with a bounded error list.
// Their time is measured in bench/descriptor_bench.cc, not asserted here.

// `open` + element(i) joined by commas until the text nears `limit`, + close.
template <typename Element>
std::string Repeated(const std::string& open, const std::string& close, size_t limit,
                     size_t count, Element element) {
  std::string text = open;
  for (size_t i = 0; i < count; ++i) {
    // Appended, not `"," + element(i)`: GCC 12 at -O3 misreports that
    // (-Wrestrict), as in the annotation parser.
    std::string e = i > 0 ? "," : "";
    e += element(i);
    if (text.size() + e.size() + close.size() > limit) break;
    text += e;
  }
  return text + close;
}

// Rejected, at most 100 error lines plus the "... and N more" line and the
// note that checking stopped; no line longer than a few hundred bytes.
void ExpectBoundedRejection(const std::string& text, const std::string& first_error) {
  Result<Descriptor> r = ParseDescriptor(text, "big.json", "");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  const std::vector<std::string> lines = Lines(r.status().message());
  ASSERT_FALSE(lines.empty());
  EXPECT_LE(lines.size(), 102u);
  EXPECT_THAT(lines.front(), HasSubstr(first_error));
  for (const std::string& line : lines) EXPECT_LE(line.size(), 600u) << line.substr(0, 200);
  if (lines.size() > 100) {
    EXPECT_THAT(lines[100], StartsWith("... and "));
    EXPECT_THAT(lines.back(), HasSubstr("checking stopped after 1000 errors"));
  }
}

TEST(HostileSizeTest, ManyBrokenNodes) {
  for (size_t n : {size_t{100000}, size_t{200000}, size_t{2000000}}) {
    SCOPED_TRACE(n);
    const std::string text = Repeated("{\"nodes\":[", "]}", kMaxDescriptorBytes, n,
                                      [](size_t) { return std::string("{\"a\":1}"); });
    if (n == 2000000) {
      EXPECT_GT(text.size(), 15u << 20);  // ~1.9M entries, under the cap
    }
    ExpectBoundedRejection(text, "big.json: nodes[0]: unknown key 'a'");
  }
}

// One input per test: each is parsed in full (16 MiB), which takes a while
// under the sanitizers.
TEST(HostileSizeTest, ManyBrokenModules) {
  const std::string modules =
      Repeated("{\"nodes\":[],\"modules\":[", "]}", kMaxDescriptorBytes, 3000000,
               [](size_t i) { return "{\"name\":\"m" + std::to_string(i) + "\",\"node\":\"x\"}"; });
  ExpectBoundedRejection(modules, "big.json: modules[0] ('m0'): field 'type': required");
}

// Connections that name no endpoints and run out of ids (65536).
TEST(HostileSizeTest, ConnectionsPastTheLastId) {
  const std::string connections = Repeated(
      "{\"nodes\":[],\"modules\":[],\"connections\":[", "]}", kMaxDescriptorBytes, 3000000,
      [](size_t) { return std::string("{\"to_module\":\"b\",\"encryption\":\"aes\"}"); });
  ExpectBoundedRejection(connections, "big.json: connections[65536]: field 'id': no free id left");
}

TEST(HostileSizeTest, ManyBrokenEvents) {
  const std::string events =
      Repeated("{\"nodes\":[],\"modules\":[],\"periodic-events\":[", "]}", kMaxDescriptorBytes,
               3000000, [](size_t) { return std::string("[]"); });
  ExpectBoundedRejection(events, "periodic-events[0]");
}

TEST(HostileSizeTest, ManyUnknownKeys) {
  const std::string keys =
      Repeated("{\"nodes\":[],\"modules\":[],\"k\":0,", "}", kMaxDescriptorBytes, 3000000,
               [](size_t i) { return "\"k" + std::to_string(i) + "\":1"; });
  ExpectBoundedRejection(keys, "unknown key 'k");
}

TEST(HostileSizeTest, ManyNonMappings) {
  const std::string scalars = Repeated("{\"modules\":[],\"nodes\":[", "]}", kMaxDescriptorBytes,
                                       9000000, [](size_t) { return std::string("1"); });
  ExpectBoundedRejection(scalars, "nodes[0]: expected a mapping, got an integer");
}

TEST(HostileSizeTest, DeepNesting) {
  ExpectBoundedRejection(std::string(kMaxDescriptorBytes, '['), "nested deeper than 64 levels");
  ExpectBoundedRejection("a: " + std::string(100, '[') + std::string(100, ']'),
                         "nested deeper than 64 levels");
}

TEST(HostileSizeTest, LargeYamlIsRefusedWithAHint) {
  std::string text = "modules: []\nnodes:\n";
  while (text.size() <= (1u << 20)) text += "- {a: 1}\n";
  ExpectBoundedRejection(text, "the limit for YAML (use JSON for larger descriptors)");
  // Under the YAML cap, the same shape is checked normally.
  text.resize(512 * 1024);
  text.resize(text.rfind('\n') + 1);
  ExpectBoundedRejection(text, "big.json: nodes[0]: unknown key 'a'");
}

// One node lists many devices and modules claim devices it does not have:
// each error lists at most ten of the node's devices.
TEST(HostileSizeTest, ManyDevicesAndClaims) {
  std::string text = Repeated(
      "{\"nodes\":[{\"type\":\"native\",\"name\":\"n\",\"host\":\"127.0.0.1\","
      "\"reactive_port\":1,\"node_key\":\"" +
          std::string(kKey16) + "\",\"devices\":[",
      "]}],", 4u << 20, 1000000, [](size_t i) { return "\"d" + std::to_string(i) + "\""; });
  text = Repeated(text + "\"modules\":[", "]}", kMaxDescriptorBytes, 1000000, [](size_t i) {
    return "{\"type\":\"native\",\"name\":\"m" + std::to_string(i) +
           "\",\"node\":\"n\",\"sources\":[\"m.c\"],\"device\":\"x" + std::to_string(i) + "\"}";
  });
  ExpectBoundedRejection(text, "node 'n' has no device 'x0' (its devices: 'd0', ");
}

// Warnings are capped like errors.
TEST(HostileSizeTest, ManyWarnings) {
  std::string text = Repeated(
      "{\"nodes\":[{\"type\":\"native\",\"name\":\"n\",\"host\":\"127.0.0.1\","
      "\"reactive_port\":1,\"node_key\":\"" +
          std::string(kKey16) + "\"}],\"modules\":[",
      "]}", 8u << 20, 1000000, [](size_t i) {
        return "{\"type\":\"native\",\"name\":\"m" + std::to_string(i) +
               "\",\"node\":\"n\",\"sources\":[\"m.c\"],\"binary\":\"b\"}";
      });
  Result<Descriptor> r = ParseDescriptor(text, "big.json", "");
  ASSERT_TRUE(r.ok()) << r.status().message().substr(0, 500);
  EXPECT_GT(r->modules.size(), 100000u);
  ASSERT_EQ(r->warnings.size(), 1001u);
  EXPECT_THAT(r->warnings.back(), AllOf(StartsWith("... and "), HasSubstr("more warnings")));
}

// ---------------------------------------------------------------------------
// Enum helpers.

TEST(EnumTest, BackendNamesRoundTrip) {
  for (Backend b : {Backend::kNative, Backend::kSgx, Backend::kTrustZone, Backend::kSancus}) {
    EXPECT_EQ(ParseBackend(BackendName(b)), b);
  }
  EXPECT_FALSE(ParseBackend("SGX").has_value());  // exact, as in the original
  EXPECT_FALSE(ParseBackend("").has_value());
}

TEST(EnumTest, EncryptionIsCaseInsensitive) {
  EXPECT_EQ(ParseEncryption("aes"), Encryption::kAes);
  EXPECT_EQ(ParseEncryption("AES"), Encryption::kAes);
  EXPECT_EQ(ParseEncryption("SpOnGeNt"), Encryption::kSpongent);
  EXPECT_FALSE(ParseEncryption("aes-gcm").has_value());
  EXPECT_STREQ(EncryptionName(Encryption::kSpongent), "spongent");
}

TEST(EnumTest, OnlySpongentReachesSancus) {
  EXPECT_FALSE(BackendSupports(Backend::kSancus, Encryption::kAes));
  EXPECT_TRUE(BackendSupports(Backend::kSancus, Encryption::kSpongent));
  for (Backend b : {Backend::kNative, Backend::kSgx, Backend::kTrustZone}) {
    EXPECT_TRUE(BackendSupports(b, Encryption::kAes));
    EXPECT_TRUE(BackendSupports(b, Encryption::kSpongent));
  }
}

}  // namespace
}  // namespace aex::deploy
