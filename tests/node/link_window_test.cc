// Sequence and ACK logic of a peer link (src/node/link_window.h): what the
// sender accepts as an acknowledgement and what the receiver delivers, for
// the faults of issue 12 (duplicated, dropped and injected frames).

#include "node/link_window.h"

#include <gtest/gtest.h>

namespace aex::node {
namespace {

using V = ReceiveWindow::Verdict;

TEST(SendWindowTest, AcksOnlyWhatWasSent) {
  SendWindow w;
  EXPECT_EQ(w.Next(), 1u);
  EXPECT_EQ(w.Next(), 2u);
  EXPECT_EQ(w.Next(), 3u);
  auto a = w.Ack(2);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(*a, 2u);
  EXPECT_EQ(w.in_flight(), 1u);
  // A repeated or stale ACK acknowledges nothing new and is no error.
  EXPECT_EQ(*w.Ack(2), 0u);
  EXPECT_EQ(*w.Ack(1), 0u);
  // An ACK beyond what was sent (issue 12: one duplicated frame made the
  // receiver count past the sender) is a protocol error, and changes nothing.
  auto bad = w.Ack(4);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), Code::kProtocol);
  EXPECT_EQ(w.acked(), 2u);
  EXPECT_EQ(w.sent(), 3u);
  EXPECT_EQ(*w.Ack(3), 1u);
  EXPECT_EQ(w.in_flight(), 0u);
}

TEST(SendWindowTest, ResetStartsNumberingAgain) {
  SendWindow w;
  w.Next();
  w.Next();
  w.Reset();
  EXPECT_EQ(w.sent(), 0u);
  EXPECT_FALSE(w.Ack(1).ok()) << "nothing sent on the new connection yet";
  EXPECT_EQ(w.Next(), 1u);
}

TEST(ReceiveWindowTest, InOrderIsDeliveredDuplicatesAreNot) {
  ReceiveWindow r;
  EXPECT_EQ(r.Receive(1), V::kDeliver);
  EXPECT_EQ(r.Receive(2), V::kDeliver);
  EXPECT_EQ(r.Receive(2), V::kDuplicate);  // a duplicated frame
  EXPECT_EQ(r.Receive(1), V::kDuplicate);
  EXPECT_EQ(r.through(), 2u) << "a duplicate never moves the ACK";
  EXPECT_EQ(r.Receive(3), V::kDeliver);
  EXPECT_EQ(r.through(), 3u);
}

TEST(ReceiveWindowTest, GapIsReportedOnceThenFilledByTheResend) {
  ReceiveWindow r;
  EXPECT_EQ(r.Receive(1), V::kDeliver);
  // 2 was dropped in transit.
  EXPECT_EQ(r.Receive(3), V::kGap);
  EXPECT_EQ(r.Receive(4), V::kDiscard);
  EXPECT_EQ(r.Receive(5), V::kDiscard);
  EXPECT_EQ(r.through(), 1u);
  // Go-back-N: the sender resends 2, 3, 4, 5.
  for (uint64_t s = 2; s <= 5; ++s) EXPECT_EQ(r.Receive(s), V::kDeliver) << s;
  EXPECT_EQ(r.through(), 5u);
  // A later gap is reported again.
  EXPECT_EQ(r.Receive(7), V::kGap);
}

// Sender and receiver together: a frame dropped and one duplicated in
// transit; every number is delivered exactly once and in order, and the
// ACKs the receiver produces are always acceptable to the sender.
TEST(LinkWindowTest, DropAndDuplicateEndToEnd) {
  SendWindow tx;
  ReceiveWindow rx;
  std::vector<uint64_t> delivered;
  uint64_t resend_from = 0;
  auto transmit = [&](uint64_t seq) {
    switch (rx.Receive(seq)) {
      case V::kDeliver: delivered.push_back(seq); break;
      case V::kGap: resend_from = rx.through() + 1; break;
      default: break;
    }
  };
  for (int i = 0; i < 10; ++i) {
    uint64_t seq = tx.Next();
    if (seq == 4) continue;  // dropped
    transmit(seq);
    if (seq == 6) transmit(seq);  // duplicated
  }
  ASSERT_EQ(resend_from, 4u);
  ASSERT_TRUE(tx.Ack(rx.through()).ok());
  for (uint64_t seq = tx.acked() + 1; seq <= tx.sent(); ++seq) transmit(seq);
  auto last = tx.Ack(rx.through());
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(tx.in_flight(), 0u);
  ASSERT_EQ(delivered.size(), 10u);
  for (uint64_t i = 0; i < 10; ++i) EXPECT_EQ(delivered[i], i + 1);
}

}  // namespace
}  // namespace aex::node
