// aead_bench: the cost of sealing and opening one event, through the trusted
// runtime's own path (channel::SealEvent / channel::OpenEvent over
// crypto::AesGcm or crypto::SpongeWrapAead), against raw OpenSSL EVP
// AES-128-GCM with one reused context per direction doing the same work
// (set the nonce, encrypt/decrypt the payload, produce/check the tag) into
// preallocated buffers. All in one run, same payload sizes.
//
// One iteration = seal one event + open it again (what a sender and a
// receiver each pay once per event). The runtime's buffers are reused across
// iterations exactly as runtime.cc reuses sealed_ and plain_.
//
// After the Google Benchmark table it prints one machine-readable line per
// figure, consumed by bench/run:
//   RESULT aead.<cipher>.<size>.ns <ns per seal+open>
//   RESULT aead.ratio.<size> <aex AES / raw AES>

#include <benchmark/benchmark.h>
#include <openssl/evp.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "crypto/crypto.h"
#include "crypto/spongent.h"
#include "runtime/channel.h"

namespace {

using aex::Bytes;
using aex::ByteSpan;
namespace channel = aex::channel;
namespace crypto = aex::crypto;

constexpr uint32_t kConnId = 0x01020304;

crypto::Key BenchKey() {
  crypto::Key k;
  for (size_t i = 0; i < k.size(); ++i) k[i] = static_cast<uint8_t>(0x40 + i);
  return k;
}

Bytes Payload(size_t n) {
  Bytes p(n);
  for (size_t i = 0; i < n; ++i) p[i] = static_cast<uint8_t>(i * 131 + 7);
  return p;
}

// The runtime's path: SealEvent into a reused buffer (cleared per event, as
// Runtime::EmitOutput does), OpenEvent into a reused plaintext buffer (as
// Runtime::Accept does).
void RunChannel(benchmark::State& state, channel::Cipher cipher) {
  const size_t n = static_cast<size_t>(state.range(0));
  auto sender = channel::NewCipher(cipher, BenchKey());
  auto receiver = channel::NewCipher(cipher, BenchKey());
  if (!sender || !receiver) {
    state.SkipWithError("cipher not built");
    return;
  }
  const Bytes payload = Payload(n);
  Bytes sealed, plain;
  uint64_t counter = 0;
  for (auto _ : state) {
    sealed.clear();
    ++counter;
    aex::Status s = channel::SealEvent(*sender, kConnId, channel::Direction::kForward, counter,
                                       payload, &sealed);
    uint64_t got = 0;
    aex::Status o = channel::OpenEvent(*receiver, kConnId, channel::Direction::kForward, sealed,
                                       &got, &plain);
    if (!s.ok() || !o.ok() || got != counter) {
      state.SkipWithError("seal/open failed");
      break;
    }
    benchmark::DoNotOptimize(plain.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(n));
}

void BM_AexAesGcm(benchmark::State& state) { RunChannel(state, channel::Cipher::kAes); }
void BM_AexSpongeWrap(benchmark::State& state) { RunChannel(state, channel::Cipher::kSpongent); }

// Raw EVP: key schedule once per context, then per message only the nonce,
// the payload and the tag. The same 8-byte counter header and nonce layout as
// the channel, written by hand, so both sides move the same bytes.
void BM_RawEvpAesGcm(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  const crypto::Key key = BenchKey();
  EVP_CIPHER_CTX* enc = EVP_CIPHER_CTX_new();
  EVP_CIPHER_CTX* dec = EVP_CIPHER_CTX_new();
  EVP_EncryptInit_ex(enc, EVP_aes_128_gcm(), nullptr, key.data(), nullptr);
  EVP_DecryptInit_ex(dec, EVP_aes_128_gcm(), nullptr, key.data(), nullptr);
  const Bytes payload = Payload(n);
  Bytes sealed(8 + n + 16), plain(n + 1);
  uint64_t counter = 0;
  uint8_t nonce[12];
  for (auto _ : state) {
    ++counter;
    std::memcpy(sealed.data(), &counter, 8);
    std::memcpy(nonce, &kConnId, 4);
    std::memcpy(nonce + 4, &counter, 8);
    int len = 0;
    bool ok = EVP_EncryptInit_ex(enc, nullptr, nullptr, nullptr, nonce) == 1 &&
              EVP_EncryptUpdate(enc, sealed.data() + 8, &len, payload.data(),
                                static_cast<int>(n)) == 1 &&
              EVP_EncryptFinal_ex(enc, sealed.data() + 8 + len, &len) == 1 &&
              EVP_CIPHER_CTX_ctrl(enc, EVP_CTRL_GCM_GET_TAG, 16, sealed.data() + 8 + n) == 1;
    uint64_t got;
    std::memcpy(&got, sealed.data(), 8);
    std::memcpy(nonce + 4, &got, 8);
    ok = ok && EVP_DecryptInit_ex(dec, nullptr, nullptr, nullptr, nonce) == 1 &&
         EVP_DecryptUpdate(dec, plain.data(), &len, sealed.data() + 8, static_cast<int>(n)) ==
             1 &&
         EVP_CIPHER_CTX_ctrl(dec, EVP_CTRL_GCM_SET_TAG, 16, sealed.data() + 8 + n) == 1 &&
         EVP_DecryptFinal_ex(dec, plain.data() + len, &len) == 1;
    if (!ok) {
      state.SkipWithError("raw EVP failed");
      break;
    }
    benchmark::DoNotOptimize(plain.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(n));
  EVP_CIPHER_CTX_free(enc);
  EVP_CIPHER_CTX_free(dec);
}

// One SpongeWrap duplex call (one 336-bit SPONGENT permutation) through each
// implementation; Arg = spongent_internal::Impl336. Not in bench/run's table:
// docs/spongent.md quotes it.
void BM_SpongentDuplex(benchmark::State& state) {
  namespace si = crypto::spongent_internal;
  const auto impl = static_cast<si::Impl336>(state.range(0));
  if (!si::Supported(impl)) {
    state.SkipWithError("implementation not supported by this CPU");
    return;
  }
  si::DuplexState d;
  d.impl = impl;
  uint8_t data[2] = {1, 2};
  for (auto _ : state) {
    si::DuplexCall(d, data, 2, 3);
    data[0] ^= d.out[0];
  }
  benchmark::DoNotOptimize(data[0]);
}

void BM_Spongent128Hash(benchmark::State& state) {
  const Bytes msg = Payload(static_cast<size_t>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(crypto::Spongent128Hash(msg));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}

// Interleave raw and aex per size so that frequency drift hits both alike.
void Sizes(benchmark::internal::Benchmark* b) {
  for (int64_t n : {0, 64, 1024, 16384}) b->Arg(n);
}

BENCHMARK(BM_RawEvpAesGcm)->Apply(Sizes);
BENCHMARK(BM_AexAesGcm)->Apply(Sizes);
BENCHMARK(BM_AexSpongeWrap)->Arg(0)->Arg(64)->Arg(1024)->Arg(16384);
BENCHMARK(BM_SpongentDuplex)->Arg(0)->Arg(1)->Arg(2);  // portable, bmi2, avx512
BENCHMARK(BM_Spongent128Hash)->Arg(1024);

// Keeps the console table and remembers each run's time per iteration.
class CollectingReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const auto& r : runs) {
      if (r.error_occurred || r.run_type != Run::RT_Iteration) continue;
      ns_[r.benchmark_name()] = r.GetAdjustedCPUTime() *
                                (r.time_unit == benchmark::kNanosecond    ? 1.0
                                 : r.time_unit == benchmark::kMicrosecond ? 1e3
                                 : r.time_unit == benchmark::kMillisecond ? 1e6
                                                                          : 1e9);
    }
  }
  double ns(const std::string& name) const {
    auto it = ns_.find(name);
    return it == ns_.end() ? -1 : it->second;
  }

 private:
  std::map<std::string, double> ns_;
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  CollectingReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  std::printf("\n%-8s %12s %12s %8s %14s\n", "payload", "raw EVP ns", "aex AES ns", "ratio",
              "SpongeWrap ns");
  for (int n : {0, 64, 1024, 16384}) {
    std::string arg = "/";  // appended: GCC 12 -O3 misreports "/" + string (-Wrestrict)
    arg += std::to_string(n);
    double raw = reporter.ns("BM_RawEvpAesGcm" + arg);
    double aes = reporter.ns("BM_AexAesGcm" + arg);
    double sw = reporter.ns("BM_AexSpongeWrap" + arg);
    if (raw <= 0 || aes <= 0) continue;
    std::printf("%-8d %12.1f %12.1f %8.3f %14.1f\n", n, raw, aes, aes / raw, sw);
    std::printf("RESULT aead.raw.%d.ns %.1f\n", n, raw);
    std::printf("RESULT aead.aes.%d.ns %.1f\n", n, aes);
    std::printf("RESULT aead.ratio.%d %.3f\n", n, aes / raw);
    if (sw > 0) std::printf("RESULT aead.spongewrap.%d.ns %.1f\n", n, sw);
  }
  return 0;
}
