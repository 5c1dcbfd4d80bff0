// "Did you mean": distances and the choice of a suggestion (src/deployer/suggest.h).

#include "deployer/suggest.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace aex::deploy {
namespace {

TEST(EditDistanceTest, CountsEditsAndSwaps) {
  EXPECT_EQ(EditDistance("", ""), 0u);
  EXPECT_EQ(EditDistance("status", "status"), 0u);
  EXPECT_EQ(EditDistance("statuss", "status"), 1u);  // insertion
  EXPECT_EQ(EditDistance("stats", "status"), 1u);    // deletion
  EXPECT_EQ(EditDistance("statis", "status"), 1u);   // substitution
  EXPECT_EQ(EditDistance("pnog", "pong"), 1u);       // adjacent swap
  EXPECT_EQ(EditDistance("pnog", "ping"), 2u);
  EXPECT_EQ(EditDistance("", "abc"), 3u);
  EXPECT_EQ(EditDistance("abc", ""), 3u);
}

TEST(ClosestNameTest, SuggestsOnlyPlausibleMisspellings) {
  const std::vector<std::string> commands = {"status", "stop", "start", "up", "down"};
  EXPECT_EQ(ClosestName("statuss", commands), "status");
  EXPECT_EQ(ClosestName("dwon", commands), "down");
  EXPECT_EQ(ClosestName("frobnicate", commands), "");
  EXPECT_EQ(ClosestName("", commands), "");
  const std::vector<std::string> connections = {"ping-to-pong", "operator-reverse"};
  // Too far for an edit, but a prefix of 3 characters or more.
  EXPECT_EQ(ClosestName("operator-rev", connections), "operator-reverse");
  EXPECT_EQ(ClosestName("op", connections), "");
  EXPECT_EQ(DidYouMean("thermometr", std::vector<std::string>{"thermometer", "valve"}),
            " (did you mean 'thermometer'?)");
  EXPECT_EQ(DidYouMean("xyz", std::vector<std::string>{"thermometer"}), "");
}

}  // namespace
}  // namespace aex::deploy
