// Helpers of the platform tests: temporary directories, small files, and an
// aex-node process started with any extra arguments (the sgx tests need
// --sgx-debug and --platform-dir, which the integration harness does not take).

#ifndef AEX_TESTS_PLATFORM_PLATFORM_TEST_UTIL_H_
#define AEX_TESTS_PLATFORM_PLATFORM_TEST_UTIL_H_

#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "aex/bytes.h"
#include "aex/status.h"
#include "deployer/node_client.h"

#ifdef AEX_NODE_BIN
#include "../platform_process.h"
#endif

namespace aex::ptest {

// r failed with `code` and a message containing `reason`.
template <typename T>
void ExpectRejected(const Result<T>& r, Code code, const std::string& reason) {
  ASSERT_FALSE(r.ok()) << "succeeded where it must fail (" << reason << ")";
  EXPECT_EQ(r.status().code(), code) << r.status().ToString();
  EXPECT_NE(r.status().message().find(reason), std::string::npos) << r.status().ToString();
}

#define PT_ASSERT_OK(expr)                                              \
  do {                                                                  \
    const auto& pt_r_ = (expr);                                         \
    ASSERT_TRUE(pt_r_.ok()) << #expr << ": " << ::aex::ptest::Why(pt_r_); \
  } while (0)

inline std::string Why(const Status& s) { return s.ToString(); }
template <typename T>
std::string Why(const Result<T>& r) {
  return r.status().ToString();
}

class TempDir {
 public:
  TempDir() {
    const char* base = getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/aex-platform-XXXXXX";
    char* made = mkdtemp(tmpl.data());
    path_ = made ? made : "";
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline void WriteText(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

inline std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline Bytes ReadBytes(const std::string& path) {
  std::string s = ReadText(path);
  return Bytes(s.begin(), s.end());
}

#ifdef AEX_NODE_BIN
// One aex-node in its own process group, killed with everything it started
// when the object goes away.
class Node {
 public:
  // Its platform service (aex-platform) keeps the key file <dir>/node.key and
  // the platform dir <dir>/node.platform unless `platform_dir` names another;
  // `extra` are aex-node options.
  explicit Node(std::string dir, std::vector<std::string> extra = {},
                std::string platform_dir = "")
      : dir_(std::move(dir)), extra_(std::move(extra)), platform_(dir_, platform_dir) {}
  ~Node() { Stop(); }
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  std::string key_file() const { return platform_.key_file(); }
  std::string platform_dir() const { return platform_.platform_dir(); }
  pid_t pid() const { return pid_; }
  testutil::PlatformProcess& platform() { return platform_; }
  uint16_t port() const { return port_; }

  Status Start() {
    std::filesystem::create_directories(dir_);
    std::string port_file = dir_ + "/port";
    std::filesystem::remove(port_file);
    AEX_RETURN_IF_ERROR(platform_.Start());
    std::vector<std::string> args = {AEX_NODE_BIN, "--port", "0", "--port-file", port_file,
                                     "--platform-socket", platform_.socket_path(),
                                     "--work-dir", dir_ + "/work",
                                     "--log-level", "warn"};
    args.insert(args.end(), extra_.begin(), extra_.end());
    if (std::find(args.begin(), args.end(), "--tls-cert") == args.end()) {
      args.push_back("--insecure-no-tls");  // plain on purpose: the test is the deployer
    }
    pid_ = testutil::SpawnTestProcess(std::move(args));
    if (pid_ < 0) return Status(Code::kIo, "fork failed");
    for (int i = 0; i < 1000; ++i) {
      std::string text = ReadText(port_file);
      if (!text.empty()) {
        port_ = static_cast<uint16_t>(atoi(text.c_str()));
        if (port_ != 0) return Status::Ok();
      }
      int status;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return Unavailable("aex-node exited during start-up");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return Status(Code::kTimeout, "aex-node did not start");
  }

  void Stop() {
    if (pid_ <= 0) return;
    kill(-pid_, SIGTERM);
    for (int i = 0; i < 200; ++i) {
      if (waitpid(pid_, nullptr, WNOHANG) == pid_) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    kill(-pid_, SIGKILL);
    waitpid(pid_, nullptr, WNOHANG);
    pid_ = -1;
  }

  Result<std::unique_ptr<deploy::NodeClient>> Connect() const {
    return deploy::NodeClient::Connect("127.0.0.1", port_);
  }

 private:
  std::string dir_;
  std::vector<std::string> extra_;
  testutil::PlatformProcess platform_;
  pid_t pid_ = -1;
  uint16_t port_ = 0;
};
#endif  // AEX_NODE_BIN

}  // namespace aex::ptest

#endif  // AEX_TESTS_PLATFORM_PLATFORM_TEST_UTIL_H_
