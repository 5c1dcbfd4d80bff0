// Attestation cost per backend (docs/tee.md, "Cost").
//
//   platform_attest_bench [iterations]
//
// Part 1, in one process: the module side's start (Init: connecting to the
// platform service, which measures the binary), the deployer's challenge,
// the module's evidence (first attestation: key derivation included), the
// deployer's verification. Part 2, through a real aex-node on loopback: the
// deployer's AttestModule round trip for the example's pong module, median
// and 90th percentile.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <vector>

#include "in_process_service.h"
#include "aex/module.h"
#include "deployer/attestation.h"
#include "platform/key_files.h"
#include "platform/platform.h"
#include "platform/setup.h"
#include "platform_test_util.h"

extern "C" const aex_module_desc aex_module = {"bench", nullptr, 0, nullptr, 0, nullptr,
                                               0,       nullptr, 0, nullptr, 0};

namespace aex::ptest {
namespace {

using Clock = std::chrono::steady_clock;
using deploy::AttestationTarget;
using tee::Backend;

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

struct Stats {
  std::vector<double> v;
  void Add(double x) { v.push_back(x); }
  double Median() {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[v.size() / 2];
  }
  double P90() {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[std::min(v.size() - 1, v.size() * 9 / 10)];
  }
};

std::unique_ptr<tee::Platform> NewPlatform(Backend b) {
  switch (b) {
    case Backend::kNative: return tee::CreateModulePlatform();  // the native library's
    case Backend::kSgx: return tee::CreateSgxPlatform();
    case Backend::kTrustZone: return tee::CreateTrustZonePlatform();
    case Backend::kSancus: return tee::CreateSancusPlatform();
  }
  return nullptr;
}

AttestationTarget TargetFor(Backend b, const TempDir& dir, const std::string& platform_dir,
                            const std::string& key_file, const std::string& signer,
                            const crypto::Digest& measurement, uint32_t id,
                            const std::string& name) {
  AttestationTarget t;
  t.backend = b;
  t.module_id = id;
  t.measurement = measurement;
  t.vendor_id = 0x1234;
  t.module_name = name;  // trustzone: the TA name
  if (b == Backend::kSgx) {
    t.root_ca_pem = ReadText(platform_dir + "/sgx_root_ca.pem");
    t.signer_pem = signer;
  } else if (b == Backend::kTrustZone) {
    t.huk = *tee::ReadSecretFile(key_file);
  } else {
    t.node_key = *tee::ReadKeyFile(key_file);
  }
  (void)dir;
  return t;
}

int Run(int iterations) {
  TempDir dir;
  const std::string key_file = dir / "node.key";
  Bytes k(16);
  (void)crypto::RandomBytes(k);
  WriteText(key_file, HexEncode(k) + "\n");
  // The platform service on a thread of this process (it measures this
  // executable, as aex-platform measures a module process).
  InProcessService service(key_file, dir / "node.platform", dir / "platform.sock");
  if (!service.Start().ok()) return 1;
  auto signer = deploy::LoadOrCreateSgxSigner(dir / "signer.pem");
  if (!signer.ok()) return 1;
  const crypto::Digest self = *tee::MeasureSelf();
  const Backend backends[] = {Backend::kNative, Backend::kSgx, Backend::kTrustZone,
                              Backend::kSancus};

  printf("In-process, %d iterations, medians in ms (this executable: %zu KB measured)\n",
         iterations, ReadBytes("/proc/self/exe").size() / 1024);
  printf("%-10s %10s %10s %10s %10s %10s\n", "backend", "init", "challenge", "evidence",
         "verify", "total");
  for (Backend b : backends) {
    Stats init, challenge, evidence, verify, total;
    for (int i = 0; i < iterations; ++i) {
      auto t0 = Clock::now();
      auto p = NewPlatform(b);
      tee::ModuleContext ctx{5, service.socket()};
      if (b == Backend::kSgx) {
        auto sigstruct = attest::SignSigstruct(*signer, self);
        if (!sigstruct.ok()) return 1;
        ctx.sgx_sigstruct_hex = HexEncode(*sigstruct);
      }
      if (!p->Init(ctx).ok()) return 1;
      auto t1 = Clock::now();
      AttestationTarget t = TargetFor(b, dir, dir / "node.platform", key_file, *signer, self, 5,
                                    "bench");
      auto c = deploy::NewChallenge(t);
      auto t2 = Clock::now();
      auto ev = p->Attest(c->request);
      auto t3 = Clock::now();
      auto key = ev.ok() ? deploy::VerifyEvidence(t, *c, *ev) : Result<attest::Session>(ev.status());
      auto t4 = Clock::now();
      if (!key.ok()) {
        fprintf(stderr, "%s: %s\n", tee::BackendName(b), key.status().ToString().c_str());
        return 1;
      }
      init.Add(Ms(t1 - t0));
      challenge.Add(Ms(t2 - t1));
      evidence.Add(Ms(t3 - t2));
      verify.Add(Ms(t4 - t3));
      total.Add(Ms(t4 - t0));
    }
    printf("%-10s %10.3f %10.3f %10.3f %10.3f %10.3f\n", tee::BackendName(b), init.Median(),
           challenge.Median(), evidence.Median(), verify.Median(), total.Median());
  }

  Node node(dir / "node");
  if (!node.Start().ok()) return 1;
  auto client = node.Connect();
  if (!client.ok()) return 1;
  const char* pongs[] = {AEX_PT_PONG_NATIVE, AEX_PT_PONG_SGX, AEX_PT_PONG_TRUSTZONE,
                         AEX_PT_PONG_SANCUS};
  printf("\nThrough aex-node on loopback (AttestModule round trip), %d iterations, ms\n",
         iterations);
  printf("%-10s %12s %10s %10s %14s\n", "backend", "module KB", "median", "p90",
         "load+1st attest");
  for (int i = 0; i < 4; ++i) {
    Backend b = backends[i];
    Bytes binary = ReadBytes(pongs[i]);
    auto t0 = Clock::now();
    Bytes sigstruct;
    if (b == Backend::kSgx) {
      auto made = attest::SignSigstruct(*signer, crypto::Sha256(binary));
      if (!made.ok()) return 1;
      sigstruct = *made;
    }
    auto id = (*client)->LoadModule("pong", static_cast<uint8_t>(b), "", binary, "", sigstruct);
    if (!id.ok()) return 1;
    AttestationTarget t = TargetFor(b, dir, node.platform_dir(), node.key_file(), *signer,
                                    crypto::Sha256(binary), *id, "pong");
    if (!deploy::AttestModule(**client, t).ok()) {
      fprintf(stderr, "%s: attestation through the node failed\n", tee::BackendName(b));
      return 1;
    }
    double first = Ms(Clock::now() - t0);
    Stats rt;
    for (int n = 0; n < iterations; ++n) {
      auto s = Clock::now();
      if (!deploy::AttestModule(**client, t).ok()) return 1;
      rt.Add(Ms(Clock::now() - s));
    }
    printf("%-10s %12zu %10.3f %10.3f %14.3f\n", tee::BackendName(b), binary.size() / 1024,
           rt.Median(), rt.P90(), first);
  }
  return 0;
}

}  // namespace
}  // namespace aex::ptest

int main(int argc, char** argv) {
  int iterations = argc > 1 ? atoi(argv[1]) : 50;
  return aex::ptest::Run(iterations > 0 ? iterations : 50);
}
