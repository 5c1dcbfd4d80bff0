// PrometheusText (src/node/prometheus.h): a status document rendered in the
// text exposition format 0.0.4. The format's rules checked here: HELP and
// TYPE once per family, before all of its samples; label values escaped;
// counters named *_total; nothing invented for missing or non-numeric fields.

#include "node/prometheus.h"

#include <gtest/gtest.h>

#include <sstream>

namespace aex::node {
namespace {

nlohmann::json SampleStatus() {
  return nlohmann::json::parse(R"({
    "node": "edge \"1\"", "port": 5000, "rss_bytes": 4096, "tls": true,
    "counters": {"events_routed": 7, "frames_rejected": 2, "future_counter": 1},
    "sessions": {"open": 3, "handshaking": 0, "buffered_bytes": 10, "buffer_budget": 99},
    "peers": [{"peer": "10.0.0.2:5000", "connected": true, "backlog": 0, "sent": 5,
               "unacked": 1, "protocol_errors": 0},
              {"peer": "10.0.0.3:5000", "connected": false, "backlog": 4, "sent": 1}],
    "routes": [{"module": 1, "connection": 9, "to_module": 2, "to": "local", "undelivered": 0}],
    "periodic": [{"id": 1, "module": 1, "entry": "tick", "period_ms": 10, "fired": 5,
                  "failed": 1}],
    "modules": [{"id": 1, "name": "ping", "backend": 1, "backend_name": "sgx", "state": "running", "pid": 10,
                 "attested": true,
                 "stats": {"events_accepted": 4, "lost": 0, "instance_id": 77, "disabled": 0}},
                {"id": 2, "name": "pong", "backend": 0, "backend_name": "native", "state": "exited", "pid": 11,
                 "attested": false, "busy": true}]
  })");
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

bool Has(const std::string& text, const std::string& line) {
  for (const std::string& l : Lines(text)) {
    if (l == line) return true;
  }
  return false;
}

TEST(PrometheusTextTest, NodeCountersAndGauges) {
  const std::string text = PrometheusText(SampleStatus());
  EXPECT_TRUE(Has(text, "# TYPE aex_node_events_routed_total counter"));
  EXPECT_TRUE(Has(text, R"(aex_node_events_routed_total{node="edge \"1\""} 7)"));
  EXPECT_TRUE(Has(text, R"(aex_node_frames_rejected_total{node="edge \"1\""} 2)"));
  // A counter this version has no help text for still appears.
  EXPECT_TRUE(Has(text, R"(aex_node_future_counter_total{node="edge \"1\""} 1)"));
  EXPECT_TRUE(Has(text, R"(aex_node_sessions{node="edge \"1\""} 3)"));
  EXPECT_TRUE(Has(text, R"(aex_node_resident_bytes{node="edge \"1\""} 4096)"));
  EXPECT_TRUE(Has(text, R"(aex_node_tls{node="edge \"1\""} 1)"));
}

TEST(PrometheusTextTest, PeersRoutesModulesAndPeriodic) {
  const std::string text = PrometheusText(SampleStatus());
  const std::string n = R"(node="edge \"1\"")";
  EXPECT_TRUE(Has(text, "aex_peer_connected{" + n + R"(,peer="10.0.0.2:5000"} 1)"));
  EXPECT_TRUE(Has(text, "aex_peer_connected{" + n + R"(,peer="10.0.0.3:5000"} 0)"));
  EXPECT_TRUE(Has(text, "aex_peer_sent_total{" + n + R"(,peer="10.0.0.2:5000"} 5)"));
  EXPECT_TRUE(Has(text, "aex_route_undelivered_total{" + n +
                            R"(,module="ping",connection="9",to="local"} 0)"));
  EXPECT_TRUE(Has(text, "aex_module_info{" + n +
                            R"(,module="ping",backend="sgx",state="running"} 1)"));
  EXPECT_TRUE(Has(text, "aex_module_attested{" + n + R"(,module="pong",backend="native"} 0)"));
  EXPECT_TRUE(Has(text, "aex_module_events_accepted_total{" + n +
                            R"(,module="ping",backend="sgx"} 4)"));
  EXPECT_TRUE(Has(text, "aex_module_disabled{" + n + R"(,module="ping",backend="sgx"} 0)"));
  EXPECT_TRUE(Has(text, "aex_periodic_fired_total{" + n + R"(,module="ping",entry="tick"} 5)"));
  // An identity is not a metric.
  EXPECT_EQ(text.find("instance_id"), std::string::npos);
}

TEST(PrometheusTextTest, EachFamilyHasOneHelpAndTypeBeforeItsSamples) {
  const auto lines = Lines(PrometheusText(SampleStatus()));
  std::map<std::string, int> types;
  std::string current;
  for (const std::string& l : lines) {
    if (l.rfind("# HELP ", 0) == 0) continue;
    if (l.rfind("# TYPE ", 0) == 0) {
      current = l.substr(7, l.find(' ', 7) - 7);
      ++types[current];
      continue;
    }
    // Every sample belongs to the family announced last.
    EXPECT_EQ(l.substr(0, l.find('{')), current) << l;
  }
  for (const auto& [family, count] : types) EXPECT_EQ(count, 1) << family;
  EXPECT_EQ(types.count("aex_peer_connected"), 1u);
}

TEST(PrometheusTextTest, MissingOrWrongFieldsAreLeftOut) {
  auto doc = nlohmann::json::parse(
      R"({"node": "n", "counters": {"events_routed": "many"}, "peers": 5,
          "modules": [{"name": "m", "stats": {"lost": null}}]})");
  const std::string text = PrometheusText(doc);
  EXPECT_EQ(text.find("events_routed"), std::string::npos);
  EXPECT_EQ(text.find("aex_module_lost_total"), std::string::npos);
  EXPECT_TRUE(Has(text, R"(aex_module_info{node="n",module="m",backend="",state=""} 1)"));
  EXPECT_EQ(PrometheusText(nlohmann::json::array()), "");
}

TEST(PrometheusTextTest, LabelValuesAreEscaped) {
  auto doc = nlohmann::json::parse(R"({"node": "a\\b\nc\"d", "rss_bytes": 1})");
  EXPECT_TRUE(Has(PrometheusText(doc), R"(aex_node_resident_bytes{node="a\\b\nc\"d"} 1)"));
}

}  // namespace
}  // namespace aex::node
