// Tests of the Rust crate helpers of the builder (deployer/rust_crate.h).
// cargo itself runs in rust_module_test.sh.

#include "deployer/rust_crate.h"

#include <unistd.h>

#include <fstream>

#include <gtest/gtest.h>

namespace aex::deploy {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = fs::temp_directory_path() / "aex-rust-crate-test.XXXXXX";
    if (mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }
  void Write(const fs::path& relative, const std::string& text) const {
    fs::create_directories((path_ / relative).parent_path());
    std::ofstream(path_ / relative, std::ios::binary) << text;
  }

 private:
  fs::path path_;
};

TEST(GlueCargoTomlTest, AddsSdkToExistingDependencies) {
  std::string out = GlueCargoToml(
      "[package]\nname = \"m\"\n\n[dependencies]\nlazy_static = \"1.4\"\n\n[features]\nx = []\n",
      "/opt/sdk \"rust\"");
  EXPECT_EQ(out,
            "[package]\nname = \"m\"\n\n[dependencies]\n"
            "aex_sdk = { path = \"/opt/sdk \\\"rust\\\"\" }\n"
            "lazy_static = \"1.4\"\n\n[features]\nx = []\n\n[workspace]\n");
}

TEST(GlueCargoTomlTest, CreatesDependenciesAndKeepsWorkspace) {
  std::string out = GlueCargoToml("[package]\nname = \"m\"\n  [workspace]  \n", "/sdk");
  EXPECT_EQ(out,
            "[package]\nname = \"m\"\n  [workspace]  \n\n[dependencies]\n"
            "aex_sdk = { path = \"/sdk\" }\n");
}

TEST(MissingCrateTest, NamesTheCrateCargoCouldNotFind) {
  EXPECT_EQ(MissingCrate("error: no matching package named `serde_json` found\n"
                         "location searched: registry `crates-io`\n"),
            "serde_json");
  EXPECT_EQ(MissingCrate("error: failed to select a version for the requirement "
                         "`lazy_static = \"^9\"`\ncandidate versions found which didn't match"),
            "lazy_static");
  EXPECT_EQ(MissingCrate("error[E0425]: cannot find value `x` in this scope"), "");
  EXPECT_EQ(MissingCrate("no matching package named `unterminated"), "");
}

TEST(RustCrateTest, DetectedByCargoTomlInFolder) {
  TempDir dir;
  Descriptor d;
  d.base_dir = dir.path();
  Module m;
  m.name = "r";
  m.folder = "r";
  EXPECT_FALSE(RustCrateDir(d, m).has_value());
  dir.Write("r/Cargo.toml", "[package]\n");
  EXPECT_EQ(RustCrateDir(d, m), dir.path() / "r");
  m.sources = {"r/x.c"};  // explicit sources: a C module
  EXPECT_FALSE(RustCrateDir(d, m).has_value());
}

TEST(RustCrateTest, ReadsEveryFileButBuildOutputAndHiddenOnes) {
  TempDir dir;
  dir.Write("Cargo.toml", "[package]\n");
  dir.Write("Cargo.lock", "lock");
  dir.Write("src/lib.rs", "//@ sm_output(o)\n");
  dir.Write("src/util/mod.rs", "pub fn f() {}\n");
  dir.Write("target/release/libm.a", "old build");
  dir.Write(".git/HEAD", "ref");
  auto crate = ReadRustCrate(dir.path());
  ASSERT_TRUE(crate.ok()) << crate.status().ToString();
  std::vector<std::string> names;
  for (const CrateFile& f : crate->files) names.push_back(f.relative.string());
  EXPECT_EQ(names, (std::vector<std::string>{"Cargo.toml", "src/lib.rs", "src/util/mod.rs"}));
  ASSERT_NE(CrateLib(*crate), nullptr);
  EXPECT_EQ(CrateLib(*crate)->text, "//@ sm_output(o)\n");

  TempDir no_lib;
  no_lib.Write("Cargo.toml", "[package]\n");
  auto bad = ReadRustCrate(no_lib.path());
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("has no src/lib.rs"), std::string::npos);
}

}  // namespace
}  // namespace aex::deploy
