// The deployment's TLS material (deployer/node_tls.h): the chain verifies,
// roles and names are right, private keys are 0600, and creating it again
// changes nothing unless a node's host changed.

#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "deployer/node_tls.h"
#include "tls/pki.h"

namespace aex::deploy {
namespace {
namespace fs = std::filesystem;

class TlsMaterialTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/aex-tls-test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    d_.base_dir = dir_;
    d_.nodes.push_back(MakeNode("edge", "10.0.0.7", std::nullopt));  // TLS by default
    d_.nodes.push_back(MakeNode("cloud", "node.example.org", std::nullopt));
    d_.nodes.push_back(MakeNode("local", "127.0.0.1", false));  // explicitly plain
  }
  void TearDown() override { fs::remove_all(dir_); }

  static Node MakeNode(const std::string& name, const std::string& host,
                       std::optional<bool> tls) {
    Node n;
    n.name = name;
    n.host = host;
    n.tls = tls;
    return n;
  }
  static pki::X509Ptr Cert(const std::string& path) {
    auto c = pki::LoadCertificate(path);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? std::move(*c) : nullptr;
  }
  // Verifies `leaf` against the deployment CA alone, for the given purpose.
  bool Verifies(X509* leaf, int purpose) {
    pki::X509Ptr ca = Cert((TlsDir(d_) / "ca.pem").string());
    X509_STORE* store = X509_STORE_new();
    X509_STORE_add_cert(store, ca.get());
    X509_STORE_CTX* ctx = X509_STORE_CTX_new();
    X509_STORE_CTX_init(ctx, store, leaf, nullptr);
    X509_STORE_CTX_set_purpose(ctx, purpose);
    bool ok = X509_verify_cert(ctx) == 1;
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    return ok;
  }
  static std::string Slurp(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  static unsigned Mode(const std::string& path) {
    struct stat st;
    return stat(path.c_str(), &st) == 0 ? st.st_mode & 0777 : 0;
  }

  fs::path dir_;
  Descriptor d_;
};

TEST_F(TlsMaterialTest, DefaultIsTlsEverywhere) {
  EXPECT_TRUE(UsesTls(d_.nodes[0]));
  EXPECT_TRUE(UsesTls(d_.nodes[1]));
  EXPECT_FALSE(UsesTls(d_.nodes[2]));
  // Loopback too: other local users and processes must not manage a node.
  EXPECT_TRUE(UsesTls(MakeNode("x", "localhost", std::nullopt)));
  EXPECT_TRUE(UsesTls(MakeNode("x", "::1", std::nullopt)));
  EXPECT_TRUE(UsesTls(MakeNode("x", "127.0.0.1", std::nullopt)));
  EXPECT_TRUE(UsesTls(MakeNode("x", "127.0.0.1", true)));
  EXPECT_FALSE(UsesTls(MakeNode("x", "10.0.0.1", false)));
}

TEST_F(TlsMaterialTest, ChainRolesNamesAndModes) {
  ASSERT_TRUE(EnsureTlsMaterial(d_).ok());
  tls::Files deployer = DeployerTlsFiles(d_);
  pki::X509Ptr dep = Cert(deployer.cert);
  ASSERT_TRUE(dep);
  EXPECT_EQ(pki::SubjectUnit(dep.get()), "deployer");
  EXPECT_TRUE(Verifies(dep.get(), X509_PURPOSE_SSL_CLIENT));
  EXPECT_FALSE(Verifies(dep.get(), X509_PURPOSE_SSL_SERVER)) << "the deployer is only a client";

  tls::Files edge = NodeTlsFiles(d_, d_.nodes[0]);
  pki::X509Ptr e = Cert(edge.cert);
  ASSERT_TRUE(e);
  EXPECT_EQ(pki::SubjectUnit(e.get()), "node");
  EXPECT_EQ(pki::SubjectCommonName(e.get()), "edge");
  EXPECT_EQ(X509_check_ip_asc(e.get(), "10.0.0.7", 0), 1);
  EXPECT_NE(X509_check_ip_asc(e.get(), "10.0.0.8", 0), 1);
  EXPECT_TRUE(Verifies(e.get(), X509_PURPOSE_SSL_SERVER));
  EXPECT_TRUE(Verifies(e.get(), X509_PURPOSE_SSL_CLIENT)) << "nodes open peer links";
  pki::X509Ptr cloud = Cert(NodeTlsFiles(d_, d_.nodes[1]).cert);
  EXPECT_EQ(X509_check_host(cloud.get(), "node.example.org", 0, 0, nullptr), 1);
  EXPECT_FALSE(fs::exists(NodeTlsFiles(d_, d_.nodes[2]).cert)) << "node with tls: false";

  // A certificate issued by another deployment's CA does not verify here.
  Descriptor other = d_;
  other.base_dir = dir_ / "other";
  ASSERT_TRUE(EnsureTlsMaterial(other).ok());
  EXPECT_FALSE(Verifies(Cert(DeployerTlsFiles(other).cert).get(), X509_PURPOSE_SSL_CLIENT));

  for (const std::string& key : {(TlsDir(d_) / "ca.key").string(), deployer.key, edge.key}) {
    EXPECT_EQ(Mode(key), 0600u) << key;
  }
  EXPECT_EQ(Mode(TlsDir(d_).string()), 0700u);
  // The material can be used as is for a TLS context.
  EXPECT_TRUE(tls::NewContext(deployer).ok());
  EXPECT_TRUE(tls::NewContext(edge).ok());
}

TEST_F(TlsMaterialTest, IdempotentAndReissuesWhenAHostChanges) {
  auto first = EnsureTlsMaterial(d_);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->size(), 8u);  // CA, deployer and two nodes: key + certificate each
  std::map<std::string, std::string> before;
  for (const auto& f : fs::recursive_directory_iterator(TlsDir(d_))) {
    if (f.is_regular_file()) before[f.path().string()] = Slurp(f.path().string());
  }
  auto second = EnsureTlsMaterial(d_);
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE(second->empty());
  for (const auto& [path, text] : before) EXPECT_EQ(Slurp(path), text) << path;

  // A key made readable by others is tightened again.
  fs::permissions(DeployerTlsFiles(d_).key, fs::perms::others_read, fs::perm_options::add);
  ASSERT_TRUE(EnsureTlsMaterial(d_).ok());
  EXPECT_EQ(Mode(DeployerTlsFiles(d_).key), 0600u);

  // The edge node moved: only its certificate is issued again (same key).
  d_.nodes[0].host = "10.0.0.8";
  auto third = EnsureTlsMaterial(d_);
  ASSERT_TRUE(third.ok());
  ASSERT_EQ(third->size(), 1u);
  EXPECT_EQ((*third)[0], NodeTlsFiles(d_, d_.nodes[0]).cert);
  EXPECT_EQ(X509_check_ip_asc(Cert(NodeTlsFiles(d_, d_.nodes[0]).cert).get(), "10.0.0.8", 0), 1);
  EXPECT_EQ(Slurp(NodeTlsFiles(d_, d_.nodes[0]).key), before[NodeTlsFiles(d_, d_.nodes[0]).key]);
  EXPECT_EQ(Slurp((TlsDir(d_) / "ca.key").string()), before[(TlsDir(d_) / "ca.key").string()]);
}

}  // namespace
}  // namespace aex::deploy
