// StateFile: locking, atomic 0600 writes, round trip, and refusal of a
// corrupt file.

#include "deployer/state.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>
#include <sstream>

#include <gmock/gmock.h>
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
    s.modules["m"] = ModuleState{"n1", 7, "/bin/m", std::string(64, 'f'), 0xfedcba9876543210ull, true};
    s.connections["c"] = ConnectionState{3, true};
    s.events["e"] = EventState{2, true};
    s.next_connection_id = 4;
    s.deployment_tag = std::string(32, 'c');
    s.loading["m2"] = "n2";
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
  EXPECT_EQ(s.deployment_tag, std::string(32, 'c'));
  EXPECT_EQ(s.loading.at("m2"), "n2");
}

// The state file holds no secret: no module, session or connection key, and
// no nonce or counter a restored copy could roll back.
TEST_F(StateFileTest, HoldsNoKeyNonceOrCounter) {
  {
    auto f = StateFile::Open(path_);
    ASSERT_TRUE(f.ok());
    auto& s = (*f)->state();
    s.modules["m"] = ModuleState{"n1", 7, "/bin/m", std::string(64, 'f'), 42, false};
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

// Values that parse as JSON but that the deployer never writes (issue 12):
// each is refused with a message naming the entry and the field, never
// silently converted (nlohmann would read -1 as 4294967295 and 1.5 as 1).
struct BadValue {
  std::string name;
  std::string json;  // the whole file
  std::string error;
};


std::string File(const std::string& module, const std::string& connection = "{\"id\":1}",
                 const std::string& event = "{\"id\":1}", const std::string& top = "") {
  return "{\"version\":1," + top + "\"modules\":{\"ping\":" + module +
         "},\"connections\":{\"c\":" + connection + "},\"events\":{\"e\":" + event + "}}";
}

class BadStateValueTest : public StateFileTest,
                          public ::testing::WithParamInterface<BadValue> {};

TEST_P(BadStateValueTest, IsRefusedNamingEntryAndField) {
  const BadValue& bad = GetParam();
  std::ofstream(path_) << bad.json;
  auto f = StateFile::Open(path_);
  ASSERT_FALSE(f.ok()) << bad.name;
  EXPECT_EQ(f.status().code(), Code::kInvalidArgument);
  EXPECT_THAT(f.status().message(), ::testing::HasSubstr(kCorruptStateMessage));
  EXPECT_THAT(f.status().message(), ::testing::HasSubstr(bad.error));
  // A key is a secret: never echoed.
  EXPECT_THAT(f.status().message(), ::testing::Not(::testing::HasSubstr("0a0b0c")));
}

std::string Module(const std::string& extra) {
  return "{\"node\":\"n1\",\"id\":3" + extra + "}";
}

const std::vector<BadValue>& BadValues() {
  static const auto* values = new std::vector<BadValue>([] {
    return std::vector<BadValue>{
        {"IdNegative", File("{\"node\":\"n1\",\"id\":-1}"),
                        "modules['ping']: field 'id': must be an integer in 0..4294967295, got -1"},
        {"IdTooLarge", File("{\"node\":\"n1\",\"id\":1099511627776}"),
                        "modules['ping']: field 'id': must be an integer in 0..4294967295, got "
                        "1099511627776"},
        {"IdFraction", File("{\"node\":\"n1\",\"id\":1.5}"),
                        "modules['ping']: field 'id': must be an integer in 0..4294967295, got 1.5"},
        {"IdString", File("{\"node\":\"n1\",\"id\":\"3\"}"),
                      "modules['ping']: field 'id': must be an integer"},
        {"IdMissing", File("{\"node\":\"n1\"}"), "modules['ping']: field 'id': missing"},
        {"NodeMissing", File("{\"id\":3}"), "modules['ping']: field 'node': missing"},
        {"NodeNotString", File("{\"node\":5,\"id\":3}"),
                           "modules['ping']: field 'node': must be a string"},
        {"MeasurementNotHex", File(Module(",\"measurement\":\"" + std::string(64, 'g') + "\"")),
                               "modules['ping']: field 'measurement': not a hex string"},
        {"MeasurementShort", File(Module(",\"measurement\":\"00ff\"")),
                              "modules['ping']: field 'measurement': must be 32 bytes"},
        {"InstanceNegative", File(Module(",\"instance\":-5")),
                              "modules['ping']: field 'instance': must be an integer in "
                              "0..18446744073709551615, got -5"},
        {"InstanceFraction", File(Module(",\"instance\":2.5")),
                              "modules['ping']: field 'instance': must be an integer"},
        {"InstanceString", File(Module(",\"instance\":\"7\"")),
                            "modules['ping']: field 'instance': must be an integer"},
        {"DisabledNotBool", File(Module(",\"disabled\":1")),
                             "modules['ping']: field 'disabled': must be true or false, got 1"},
        {"ModuleNotObject", File("[1]"), "modules['ping']: expected an object"},
        {"ConnectionIdFraction", File(Module(""), "{\"id\":0.5}"),
                                  "connections['c']: field 'id': must be an integer"},
        {"EstablishedNotBool", File(Module(""), "{\"id\":1,\"established\":\"yes\"}"),
                                "connections['c']: field 'established': must be true or false"},
        {"EventIdNegative", File(Module(""), "{\"id\":1}", "{\"id\":-2}"),
                             "events['e']: field 'id': must be an integer in 0..4294967295, got -2"},
        {"EventIdTooLarge", File(Module(""), "{\"id\":1}", "{\"id\":4294967296}"),
                             "events['e']: field 'id': must be an integer in 0..4294967295"},
        {"NextConnectionIdZero", File(Module(""), "{\"id\":1}", "{\"id\":1}",
                                       "\"next_connection_id\":0,"),
                                  "top level: field 'next_connection_id': must be an integer in "
                                  "1..4294967295, got 0"},
        {"NextConnectionIdNegative", File(Module(""), "{\"id\":1}", "{\"id\":1}",
                                           "\"next_connection_id\":-1,"),
                                      "field 'next_connection_id': must be an integer"},
        {"VersionTwo", "{\"version\":2,\"modules\":{},\"connections\":{},\"events\":{}}",
                        "unsupported state version 2"},
        {"VersionMissing", "{\"modules\":{},\"connections\":{},\"events\":{}}",
                            "field 'version': missing"},
        {"ModulesMissing", "{\"version\":1,\"connections\":{},\"events\":{}}",
                            "'modules' is missing or not an object"},
        {"DeploymentTagNotHex", File(Module(""), "{\"id\":1}", "{\"id\":1}",
                                     "\"deployment_tag\":\"" + std::string(32, 'z') + "\","),
         "top level: field 'deployment_tag': not a hex string"},
        {"DeploymentTagShort", File(Module(""), "{\"id\":1}", "{\"id\":1}",
                                    "\"deployment_tag\":\"00ff\","),
         "top level: field 'deployment_tag': must be 16 bytes (32 hex digits), got 2 bytes"},
        {"LoadingNotObject", File(Module(""), "{\"id\":1}", "{\"id\":1}", "\"loading\":[],"),
         "'loading' is not an object"},
        {"LoadingNodeNotString", File(Module(""), "{\"id\":1}", "{\"id\":1}",
                                      "\"loading\":{\"ping\":3},"),
         "loading['ping']: must be a node name"},
        {"NotAnObject", "[]", "expected a JSON object"},
        {"NotJson", "{\"version\": 1, \"modules\": [", "not JSON"},
    };
  }());
  return *values;
}

INSTANTIATE_TEST_SUITE_P(Table, BadStateValueTest, ::testing::ValuesIn(BadValues()),
                         [](const auto& info) { return info.param.name; });

// The same file, well formed, is accepted: the table above fails for the
// reason it names.
TEST_F(StateFileTest, WellFormedValuesAreAccepted) {
  std::ofstream(path_) << File(Module(",\"instance\":5"), "{\"id\":1,\"established\":true}");
  auto f = StateFile::Open(path_);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ((*f)->state().modules.at("ping").id, 3u);
  EXPECT_EQ((*f)->state().modules.at("ping").instance, 5u);
  EXPECT_TRUE((*f)->state().connections.at("c").established);
}

// `aex reset` opens with kMoveAside: the corrupt file is kept under a new
// name, the run starts empty, and the lock is held as usual.
TEST_F(StateFileTest, CorruptFileIsMovedAsideOnRequest) {
  const std::string corrupt = File("{\"node\":\"n1\",\"id\":-1}");
  std::ofstream(path_) << corrupt;
  auto f = StateFile::Open(path_, CorruptState::kMoveAside);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_TRUE((*f)->state().modules.empty());
  EXPECT_FALSE(fs::exists(path_));
  const fs::path aside = (*f)->moved_aside();
  ASSERT_FALSE(aside.empty());
  EXPECT_EQ(aside.parent_path(), path_.parent_path());
  EXPECT_THAT(aside.filename().string(), ::testing::StartsWith("app.state.json.corrupt-"));
  std::ifstream in(aside);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, corrupt);
  EXPECT_THAT((*f)->corruption(), ::testing::HasSubstr("field 'id'"));
  EXPECT_FALSE(StateFile::Open(path_).ok());  // still locked by f
  ASSERT_TRUE((*f)->Save().ok());
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

TEST_F(StateFileTest, ReaderTakesNoLockWritesNothingAndReloads) {
  auto writer = StateFile::Open(path_);
  ASSERT_TRUE(writer.ok());
  (*writer)->state().connections["c"].id = 1;
  ASSERT_TRUE((*writer)->Save().ok());
  // Beside a locked writer: the observer of `aex dashboard`.
  auto reader = StateFile::Open(path_, CorruptState::kRefuse, StateLock::kNone);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_EQ((*reader)->state().connections["c"].id, 1u);
  EXPECT_EQ((*reader)->Save().code(), Code::kFailedPrecondition);
  EXPECT_EQ((*reader)->Remove().code(), Code::kFailedPrecondition);
  EXPECT_TRUE(fs::exists(path_));

  (*writer)->state().connections["c"].id = 2;
  ASSERT_TRUE((*writer)->Save().ok());
  ASSERT_TRUE((*reader)->Reload().ok());
  EXPECT_EQ((*reader)->state().connections["c"].id, 2u);

  // A corrupt file fails the reload and leaves what was read before.
  std::ofstream(path_) << "{not json";
  Status reloaded = (*reader)->Reload();
  EXPECT_EQ(reloaded.code(), Code::kInvalidArgument);
  EXPECT_NE(reloaded.message().find(kCorruptStateMessage), std::string::npos);
  EXPECT_EQ((*reader)->state().connections["c"].id, 2u);

  // Gone (aex down): the empty state.
  ASSERT_TRUE((*writer)->Remove().ok());
  ASSERT_TRUE((*reader)->Reload().ok());
  EXPECT_TRUE((*reader)->state().connections.empty());
}

TEST_F(StateFileTest, ReaderNeverMovesACorruptFileAside) {
  std::ofstream(path_) << "{not json";
  auto f = StateFile::Open(path_, CorruptState::kMoveAside, StateLock::kNone);
  EXPECT_EQ(f.status().code(), Code::kInvalidArgument);
  EXPECT_TRUE(fs::exists(path_));
}

}  // namespace
}  // namespace aex::deploy
