// PrometheusText (src/node/prometheus.h): a status document rendered in the
// text exposition format 0.0.4. The format's rules checked here: HELP and
// TYPE once per family, before all of its samples; label values escaped;
// counters named *_total; nothing invented for missing or non-numeric fields.

#include "node/prometheus.h"

#include <chrono>

#include <gtest/gtest.h>

#include "node/latency_histogram.h"

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

// The sample status with latency histograms, made by LatencyHistogram
// itself so that its JSON and the exposition cannot drift apart.
nlohmann::json StatusWithHistograms() {
  using std::chrono::microseconds;
  nlohmann::json doc = SampleStatus();
  LatencyHistogram calls, acks;
  for (auto us : {50, 300, 300, 2000000}) calls.Observe(microseconds(us));
  acks.Observe(microseconds(20000000));  // above every bound: +Inf only
  doc["modules"][0]["call_seconds"] = calls.ToJson();
  doc["peers"][0]["ack_seconds"] = acks.ToJson();
  return doc;
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
  const auto lines = Lines(PrometheusText(StatusWithHistograms()));
  std::map<std::string, int> types;
  std::string current;
  for (const std::string& l : lines) {
    if (l.rfind("# HELP ", 0) == 0) continue;
    if (l.rfind("# TYPE ", 0) == 0) {
      current = l.substr(7, l.find(' ', 7) - 7);
      ++types[current];
      continue;
    }
    // Every sample belongs to the family announced last (a histogram's
    // samples are its name with _bucket, _sum or _count).
    std::string name = l.substr(0, l.find('{'));
    if (name != current) {
      EXPECT_TRUE(name == current + "_bucket" || name == current + "_sum" ||
                  name == current + "_count")
          << l;
    }
  }
  for (const auto& [family, count] : types) EXPECT_EQ(count, 1) << family;
  EXPECT_EQ(types.count("aex_peer_connected"), 1u);
  EXPECT_EQ(types.count("aex_module_call_seconds"), 1u);
}

TEST(PrometheusTextTest, LatencyHistograms) {
  const std::string text = PrometheusText(StatusWithHistograms());
  const std::string m = R"(node="edge \"1\"",module="ping",backend="sgx")";
  EXPECT_TRUE(Has(text, "# TYPE aex_module_call_seconds histogram"));
  // Cumulative: 50 us in the first bucket, the two 300 us by 0.0005, the
  // 2 s call by 2.5; +Inf is the count.
  EXPECT_TRUE(Has(text, "aex_module_call_seconds_bucket{" + m + R"(,le="0.0001"} 1)"));
  EXPECT_TRUE(Has(text, "aex_module_call_seconds_bucket{" + m + R"(,le="0.00025"} 1)"));
  EXPECT_TRUE(Has(text, "aex_module_call_seconds_bucket{" + m + R"(,le="0.0005"} 3)"));
  EXPECT_TRUE(Has(text, "aex_module_call_seconds_bucket{" + m + R"(,le="1.0"} 3)"));
  EXPECT_TRUE(Has(text, "aex_module_call_seconds_bucket{" + m + R"(,le="2.5"} 4)"));
  EXPECT_TRUE(Has(text, "aex_module_call_seconds_bucket{" + m + R"(,le="+Inf"} 4)"));
  EXPECT_TRUE(Has(text, "aex_module_call_seconds_count{" + m + "} 4"));
  EXPECT_TRUE(Has(text, "aex_module_call_seconds_sum{" + m + "} 2.00065"));
  const std::string p = R"(node="edge \"1\"",peer="10.0.0.2:5000")";
  EXPECT_TRUE(Has(text, "# TYPE aex_peer_ack_seconds histogram"));
  EXPECT_TRUE(Has(text, "aex_peer_ack_seconds_bucket{" + p + R"(,le="10.0"} 0)"));
  EXPECT_TRUE(Has(text, "aex_peer_ack_seconds_bucket{" + p + R"(,le="+Inf"} 1)"));
  EXPECT_TRUE(Has(text, "aex_peer_ack_seconds_count{" + p + "} 1"));
  // The module without a histogram (pong) and the peer without one get none.
  EXPECT_EQ(text.find(R"(aex_module_call_seconds_count{node="edge \"1\"",module="pong")"),
            std::string::npos);
  EXPECT_EQ(text.find(R"(aex_peer_ack_seconds_count{node="edge \"1\"",peer="10.0.0.3:5000")"),
            std::string::npos);
}

TEST(PrometheusTextTest, MalformedHistogramsAreLeftOut) {
  nlohmann::json doc = StatusWithHistograms();
  auto& h = doc["modules"][0]["call_seconds"];
  h["buckets"].erase(h["buckets"].begin());  // fewer buckets than bounds
  doc["peers"][0]["ack_seconds"]["count"] = "one";
  const std::string text = PrometheusText(doc);
  EXPECT_EQ(text.find("aex_module_call_seconds"), std::string::npos);
  EXPECT_EQ(text.find("aex_peer_ack_seconds"), std::string::npos);
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

namespace aex::node {
namespace {

// aex trace's hop figures: the node histograms, the module runtime's
// cumulative times (in seconds), its stamps left out, the restart counter.
TEST(PrometheusTextTest, HopTimesAndRestarts) {
  using std::chrono::microseconds;
  nlohmann::json doc = SampleStatus();
  LatencyHistogram route, link;
  route.Observe(microseconds(8));    // the first bucket, 10 us
  route.Observe(microseconds(40));   // <= 50 us
  link.Observe(microseconds(120));
  doc["route_seconds"] = route.ToJson();
  doc["link_seconds"] = link.ToJson();
  doc["modules"][0]["stats"]["seal_ns"] = 2500000000u;
  doc["modules"][0]["stats"]["output_sealed_at_ns"] = 1764640000000000000u;
  doc["modules"][0]["restarts"] = 2;
  doc["modules"][1]["restarts"] = 0;
  doc["modules"].push_back(doc["modules"][0]);  // a dead instance listed beside its successor
  doc["modules"][2]["id"] = 3;
  doc["modules"][2]["state"] = "exited";
  const std::string text = PrometheusText(doc);
  const std::string n = R"(node="edge \"1\"")";
  EXPECT_TRUE(Has(text, "# TYPE aex_node_route_seconds histogram"));
  EXPECT_TRUE(Has(text, "aex_node_route_seconds_bucket{" + n + R"(,le="1e-05"} 1)")) << text;
  EXPECT_TRUE(Has(text, "aex_node_route_seconds_bucket{" + n + R"(,le="5e-05"} 2)"));
  EXPECT_TRUE(Has(text, "aex_node_route_seconds_count{" + n + "} 2"));
  EXPECT_TRUE(Has(text, "aex_node_link_transit_seconds_count{" + n + "} 1"));
  const std::string m = n + R"(,module="ping",backend="sgx")";
  EXPECT_TRUE(Has(text, "# TYPE aex_module_seal_seconds_total counter"));
  EXPECT_TRUE(Has(text, "aex_module_seal_seconds_total{" + m + "} 2.5"));
  EXPECT_EQ(text.find("sealed_at"), std::string::npos) << "a timestamp is not a counter";
  EXPECT_TRUE(Has(text, "aex_module_restarts_total{" + n + R"(,module="ping"} 2)"));
  EXPECT_TRUE(Has(text, "aex_module_restarts_total{" + n + R"(,module="pong"} 0)"));
  EXPECT_EQ(text.find("aex_module_restarts_total{" + n + R"(,module="ping"} 2)"),
            text.rfind("aex_module_restarts_total{" + n + R"(,module="ping"} 2)"))
      << "once per name";
}

}  // namespace
}  // namespace aex::node
