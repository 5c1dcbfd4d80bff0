// DashboardView: snapshots from `aex status --json` reports: the allowlist,
// attestation labels, rates, and the recent errors found between reports.

#include "deployer/dashboard_view.h"

#include <gtest/gtest.h>

namespace aex::deploy {
namespace {

using nlohmann::json;

json Report(uint64_t accepted, uint64_t rejected_auth, bool reachable = true,
            const std::string& state = "running") {
  json node = {{"name", "n1"}, {"type", "native"}, {"address", "127.0.0.1:1"},
               {"tls", true},  {"reachable", reachable}};
  if (reachable) {
    node["status"] = {{"counters", {{"events_routed", accepted}, {"frames_rejected", 0}}},
                      {"peers", json::array({{{"connected", true}}, {{"connected", false}}})}};
  } else {
    node["error"] = "connection refused";
  }
  json module = {{"name", "m"},        {"node", "n1"},        {"type", "native"},
                 {"deployed", true},   {"attested", true},    {"attested_by", "deployer"},
                 {"state", state},     {"measurement", "ab"}, {"id", 3},
                 {"secret_field", "must not pass"},
                 {"stats", {{"events_accepted", accepted},
                            {"outputs_sent", accepted * 2},
                            {"rejected_auth", rejected_auth},
                            {"instance_id", 7}}}};
  return {{"descriptor", "app.yaml"},
          {"nodes", json::array({node})},
          {"modules", json::array({module})},
          {"connections", json::array({{{"name", "c"}, {"from", "m"}, {"to", "m"},
                                        {"kind", "event"}, {"encryption", "aes"},
                                        {"established", true}, {"id", 9}}})}};
}

TEST(DashboardViewTest, SnapshotHoldsOnlyItsOwnFields) {
  DashboardView view;
  json s = view.Update(Report(10, 0), 100.0, "12:00:00 UTC");
  EXPECT_EQ(s["seq"], 1);
  EXPECT_EQ(s["descriptor"], "app.yaml");
  const json& m = s["modules"][0];
  EXPECT_EQ(m["name"], "m");
  EXPECT_EQ(m["state"], "running");
  EXPECT_EQ(m["attestation"], "attested");
  EXPECT_EQ(m["events_in"], 10);
  EXPECT_EQ(m["events_out"], 20);
  EXPECT_EQ(m["rate_in"], 0.0);  // no previous report
  for (const char* hidden : {"secret_field", "measurement", "id", "stats"}) {
    EXPECT_FALSE(m.contains(hidden)) << hidden;
  }
  EXPECT_FALSE(s["connections"][0].contains("id"));
  EXPECT_EQ(s["nodes"][0]["peer_links"], "1/2");
  EXPECT_FALSE(s["nodes"][0].contains("status"));
  EXPECT_EQ(s.dump().find("must not pass"), std::string::npos);
  EXPECT_TRUE(s["errors"].empty());
}

TEST(DashboardViewTest, RatesAreEventsPerSecondBetweenReports) {
  DashboardView view;
  view.Update(Report(10, 0), 100.0, "t0");
  json s = view.Update(Report(30, 0), 102.0, "t1");
  EXPECT_DOUBLE_EQ(s["modules"][0]["rate_in"].get<double>(), 10.0);
  EXPECT_DOUBLE_EQ(s["modules"][0]["rate_out"].get<double>(), 20.0);
  EXPECT_EQ(s["seq"], 2);
}

TEST(DashboardViewTest, ErrorsComeFromChangesNewestFirst) {
  DashboardView view;
  view.Update(Report(10, 0), 1, "t0");
  json s = view.Update(Report(11, 3), 2, "t1");
  ASSERT_EQ(s["errors"].size(), 1u);
  EXPECT_EQ(s["errors"][0]["text"], "module m: 3 more rejected_auth");
  EXPECT_EQ(s["errors"][0]["time"], "t1");
  s = view.Update(Report(11, 3, true, "crashed"), 3, "t2");
  ASSERT_EQ(s["errors"].size(), 2u);
  EXPECT_EQ(s["errors"][0]["text"], "module m: crashed");
  s = view.Update(Report(0, 0, false), 4, "t3");
  EXPECT_EQ(s["errors"][0]["text"], "node n1 unreachable: connection refused");
  // Still unreachable: said once.
  s = view.Update(Report(0, 0, false), 5, "t4");
  EXPECT_EQ(s["errors"].size(), 3u);
}

TEST(DashboardViewTest, ErrorListIsBounded) {
  DashboardView view;
  for (uint64_t i = 0; i < 2 * DashboardView::kMaxErrors; ++i) {
    view.Update(Report(0, i), static_cast<double>(i), "t");
  }
  json s = view.Update(Report(0, 1000), 1000, "last");
  EXPECT_EQ(s["errors"].size(), DashboardView::kMaxErrors);
  EXPECT_EQ(s["errors"][0]["time"], "last");
}

TEST(DashboardViewTest, AttestationLabels) {
  EXPECT_EQ(DashboardView::AttestationLabel({{"deployed", false}}), "not deployed");
  EXPECT_EQ(DashboardView::AttestationLabel({{"deployed", true}, {"attested", false}}),
            "not attested");
  EXPECT_EQ(DashboardView::AttestationLabel(
                {{"deployed", true}, {"attested", false}, {"needs_attestation", true}}),
            "needs attestation");
  EXPECT_EQ(DashboardView::AttestationLabel(
                {{"deployed", true}, {"attested", true}, {"disabled", true}}),
            "disabled");
  EXPECT_EQ(DashboardView::AttestationLabel(
                {{"deployed", true}, {"attested", true}, {"attested_by", "manager"}}),
            "attested (manager)");
}

}  // namespace
}  // namespace aex::deploy
