// StateFile: locking, atomic 0600 writes, round trip, and refusal of a
// corrupt file.

#include "deployer/state.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

namespace aex::deploy {
namespace {

namespace fs = std::filesystem;

class StateFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("aex-state-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = dir_ / "app.state.json";
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_, path_;
};

TEST_F(StateFileTest, RoundTripsEveryField) {
  {
    auto f = StateFile::Open(path_);
    ASSERT_TRUE(f.ok()) << f.status().ToString();
    auto& s = (*f)->state();
    s.modules["m"] = ModuleState{"n1", 7, "/bin/m", "00ff", 0xfedcba9876543210ull, true};
    s.connections["c"] = ConnectionState{3, true};
    s.events["e"] = EventState{2, true};
    s.next_connection_id = 4;
    ASSERT_TRUE((*f)->Save().ok());
  }
  struct stat st;
  ASSERT_EQ(stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto f = StateFile::Open(path_);
  ASSERT_TRUE(f.ok());
  auto& s = (*f)->state();
  EXPECT_EQ(s.modules["m"].id, 7u);
  EXPECT_EQ(s.modules["m"].instance, 0xfedcba9876543210ull);
  EXPECT_TRUE(s.modules["m"].attested());
  EXPECT_TRUE(s.modules["m"].disabled);
  EXPECT_TRUE(s.connections["c"].established);
  EXPECT_EQ(s.events["e"].id, 2u);
  EXPECT_EQ(s.next_connection_id, 4u);
}

// The state file holds no secret: no module, session or connection key, and
// no nonce or counter a restored copy could roll back.
TEST_F(StateFileTest, HoldsNoKeyNonceOrCounter) {
  {
    auto f = StateFile::Open(path_);
    ASSERT_TRUE(f.ok());
    auto& s = (*f)->state();
    s.modules["m"] = ModuleState{"n1", 7, "/bin/m", "00ff", 42, false};
    s.connections["c"] = ConnectionState{3, true};
    ASSERT_TRUE((*f)->Save().ok());
  }
  std::ifstream in(path_);
  std::stringstream text;
  text << in.rdbuf();
  for (const char* field : {"\"key\"", "\"nonce\"", "\"counter\""}) {
    EXPECT_EQ(text.str().find(field), std::string::npos) << field << " in " << text.str();
  }
}

TEST_F(StateFileTest, SecondOpenIsRefusedWhileLocked) {
  auto first = StateFile::Open(path_);
  ASSERT_TRUE(first.ok());
  auto second = StateFile::Open(path_);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(second.status().message().find("another aex run"), std::string::npos);
  first = Status(Code::kInternal, "released");  // drops the lock
  EXPECT_TRUE(StateFile::Open(path_).ok());
}

TEST_F(StateFileTest, CorruptFileIsRefusedAndLeftAlone) {
  std::ofstream(path_) << "{\"version\": 1, \"modules\": [";
  auto f = StateFile::Open(path_);
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.status().message().find("corrupt state file"), std::string::npos);
  std::ifstream in(path_);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "{\"version\": 1, \"modules\": [");
}

TEST_F(StateFileTest, WrongTypesAreRefused) {
  std::ofstream(path_) << R"({"version":1,"modules":{"m":{"node":5,"id":"x"}},)"
                       << R"("connections":{},"events":{}})";
  EXPECT_FALSE(StateFile::Open(path_).ok());
}

TEST_F(StateFileTest, RemoveForgetsEverything) {
  auto f = StateFile::Open(path_);
  ASSERT_TRUE(f.ok());
  (*f)->state().modules["m"].id = 1;
  ASSERT_TRUE((*f)->Save().ok());
  ASSERT_TRUE(fs::exists(path_));
  ASSERT_TRUE((*f)->Remove().ok());
  EXPECT_FALSE(fs::exists(path_));
  EXPECT_TRUE((*f)->state().modules.empty());
}

}  // namespace
}  // namespace aex::deploy
