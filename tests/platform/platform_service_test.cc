// The platform service's own checks (src/platform_service/): which memory
// maps it accepts, how strictly it parses requests, and what it answers a
// real connected process.

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include "attest/dcap/quote.h"
#include "in_process_service.h"
#include "platform/key_files.h"
#include "platform/native/native_keys.h"
#include "platform/platform.h"
#include "platform/service_link.h"
#include "platform/sgx/sgx_sign.h"
#include "platform_service/peer.h"
#include "platform_service/service_wire.h"
#include "platform_test_util.h"

namespace aex::ptest {
namespace {

using platsvc::CheckMappings;
using tee::ServiceOp;
using tee::ServiceRequest;

const std::string kExe = "/work/n/m1-pong";

std::string Line(const std::string& perms, const std::string& inode, const std::string& path) {
  return "7f0000000000-7f0000001000 " + perms + " 00000000 fd:01 " + inode + "      " + path +
         "\n";
}

TEST(CheckMappings, AcceptsTheExecutableVdsoAndDataMappings) {
  std::string maps = Line("r--p", "42", kExe) + Line("r-xp", "42", kExe) +
                     Line("rw-p", "0", "[heap]") + Line("rw-p", "0", "") +
                     Line("r--p", "0", "/usr/lib/locale/C.utf8/LC_CTYPE") +
                     Line("r-xp", "0", "[vdso]") + Line("--xp", "0", "[vsyscall]");
  PT_ASSERT_OK(CheckMappings(maps, kExe, 42));
}

TEST(CheckMappings, RefusesAnyOtherCode) {
  const std::string base = Line("r-xp", "42", kExe);
  for (const std::string& extra :
       {Line("r-xp", "77", "/tmp/evil.so"), Line("rwxp", "0", ""), Line("r-xp", "0", ""),
        Line("r-xp", "43", kExe), Line("r-xp", "42", kExe + "-other")}) {
    Status s = CheckMappings(base + extra, kExe, 42);
    EXPECT_EQ(s.code(), Code::kPermissionDenied) << extra;
  }
#ifndef AEX_SANITIZER_BUILD
  EXPECT_FALSE(CheckMappings(base + Line("r-xp", "9", "/usr/lib/x86_64-linux-gnu/libc.so.6"),
                             kExe, 42)
                   .ok());
#endif
  EXPECT_FALSE(CheckMappings("garbage\n", kExe, 42).ok());
}

TEST(ServiceWire, RequestsRoundTripAndParseStrictly) {
  ServiceRequest q;
  q.op = ServiceOp::kKey;
  q.backend = static_cast<uint8_t>(tee::Backend::kTrustZone);
  q.module_id = 9;
  q.vendor_id = 0x1234;
  q.uuid = Bytes(16, 7);
  Bytes wire = tee::EncodeServiceRequest(q);
  auto back = tee::ParseServiceRequest(wire);
  PT_ASSERT_OK(back);
  EXPECT_EQ(tee::EncodeServiceRequest(*back), wire);
  for (size_t cut = 0; cut < wire.size(); ++cut) {
    EXPECT_FALSE(tee::ParseServiceRequest(ByteSpan(wire.data(), cut)).ok()) << cut;
  }
  Bytes longer = wire;
  longer.push_back(0);
  EXPECT_FALSE(tee::ParseServiceRequest(longer).ok());
  Bytes bad_version = wire;
  bad_version[0] = tee::kServiceVersion + 1;
  EXPECT_FALSE(tee::ParseServiceRequest(bad_version).ok());
  Bytes bad_uuid_len = wire;
  bad_uuid_len[9] = 5;  // u8 version, op, backend | u32 id | u16 vendor | u8 uuid_len
  EXPECT_FALSE(tee::ParseServiceRequest(bad_uuid_len).ok());
}

TEST(ServiceWire, EinitCarriesTheSigstructTextVerbatim) {
  ServiceRequest q;
  q.op = ServiceOp::kEinit;
  q.backend = static_cast<uint8_t>(tee::Backend::kSgx);
  for (const std::string& text : {std::string(), std::string(2 * tee::sgx::kMaxSigstruct, 'a'),
                                  std::string("not hex at all")}) {
    q.sigstruct_hex = text;
    Bytes wire = tee::EncodeServiceRequest(q);
    auto back = tee::ParseServiceRequest(wire);
    PT_ASSERT_OK(back);
    EXPECT_EQ(back->sigstruct_hex, text);
    EXPECT_EQ(tee::EncodeServiceRequest(*back), wire);
  }
}

TEST(ServiceWire, ErrorsTravelWithTheirCode) {
  auto r = tee::ParseServiceResponse(
      tee::EncodeServiceResponse(Status(Code::kPermissionDenied, "no"), {}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kPermissionDenied);
  EXPECT_FALSE(tee::ParseServiceResponse({}).ok());
}

// A real connection from this process: the service measures this executable
// itself, whatever the request claims.
TEST(PlatformService, AnswersForTheMeasuredProcessOnly) {
  TempDir dir;
  InProcessService service(dir / "node.key", dir / "node.platform", dir / "p.sock");
  PT_ASSERT_OK(service.Start());
  struct stat st;
  ASSERT_EQ(stat((dir / "node.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  tee::ServiceLink link;
  PT_ASSERT_OK(link.Connect(service.socket()));
  ServiceRequest q;
  q.op = ServiceOp::kMeasure;
  q.backend = static_cast<uint8_t>(tee::Backend::kSgx);
  auto m = link.Call(q);
  PT_ASSERT_OK(m);
  auto self = tee::MeasureSelf();
  PT_ASSERT_OK(self);
  EXPECT_EQ(*m, Bytes(self->begin(), self->end()));
  // Native K_m follows native_keys.h over that measurement.
  uint8_t flags = 0xff;
  auto key = link.ModuleKey(static_cast<uint8_t>(tee::Backend::kNative), 3, &flags);
  PT_ASSERT_OK(key);
  EXPECT_EQ(flags, 0);  // native is no TEE
  auto k_n = tee::ReadKeyFile(dir / "node.key");
  PT_ASSERT_OK(k_n);
  EXPECT_EQ(*key, tee::DeriveNativeModuleKey(*k_n, *self, 3));
  // No key for sgx (it comes out of attestation), no quote for native, no
  // quote that hides that it is simulated.
  EXPECT_FALSE(link.ModuleKey(static_cast<uint8_t>(tee::Backend::kSgx), 3, &flags).ok());
  q.op = ServiceOp::kQuote;
  q.backend = static_cast<uint8_t>(tee::Backend::kNative);
  q.flags = tee::kEvidenceSimulated;
  EXPECT_FALSE(link.Call(q).ok());
  q.backend = static_cast<uint8_t>(tee::Backend::kSgx);
  q.flags = 0;
  EXPECT_FALSE(link.Call(q).ok());
  q.flags = tee::kEvidenceSimulated;
  ExpectRejected(link.Call(q), Code::kFailedPrecondition, "EINIT");  // not initialised
}

// A SIGSTRUCT (sgx_keys.h) over `measurement` by a fresh P-256 signer, as hex;
// *spki is the signer's public key.
std::string MakeSigstruct(const crypto::Digest& measurement, Bytes* spki) {
  tee::sgx::Pkey key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  unsigned char* der = nullptr;
  int len = key ? i2d_PUBKEY(key.get(), &der) : -1;
  if (len <= 0) return "";
  spki->assign(der, der + len);
  OPENSSL_free(der);
  auto signature = tee::sgx::EcdsaSign(key.get(), tee::sgx::SigstructMessage(measurement));
  if (!signature.ok()) return "";
  ByteWriter w;
  w.PutLengthPrefixed(*spki);
  w.PutLengthPrefixed(*signature);
  return HexEncode(w.bytes());
}

// EINIT is the platform's: it checks the SIGSTRUCT against its own
// measurement of the caller, answers once per connection, and the MRSIGNER
// it fixes is the one every later quote carries, whatever the caller asks.
TEST(PlatformService, EinitChecksTheSigstructOnceAndFixesMrsigner) {
  TempDir dir;
  InProcessService service(dir / "node.key", dir / "node.platform", dir / "p.sock");
  PT_ASSERT_OK(service.Start());
  auto self = tee::MeasureSelf();
  PT_ASSERT_OK(self);
  Bytes spki, other_spki;
  const std::string good = MakeSigstruct(*self, &spki);
  const std::string wrong = MakeSigstruct(crypto::Sha256(AsBytes("another binary")), &other_spki);
  ASSERT_FALSE(good.empty());
  tee::ServiceLink link;
  PT_ASSERT_OK(link.Connect(service.socket()));
  ServiceRequest q;
  q.op = ServiceOp::kEinit;
  q.backend = static_cast<uint8_t>(tee::Backend::kSgx);
  for (const std::string& bad : {std::string(), std::string("zz"), good.substr(0, 40)}) {
    q.sigstruct_hex = bad;
    ExpectRejected(link.Call(q), Code::kFailedPrecondition, "EINIT failed");
  }
  q.sigstruct_hex = wrong;
  ExpectRejected(link.Call(q), Code::kAuthFailed, "EINIT failed");
  q.sigstruct_hex = good;
  q.backend = static_cast<uint8_t>(tee::Backend::kNative);
  EXPECT_FALSE(link.Call(q).ok());  // sgx only
  q.backend = static_cast<uint8_t>(tee::Backend::kSgx);
  auto signer = link.Call(q);
  PT_ASSERT_OK(signer);
  EXPECT_EQ(*signer, spki);
  ExpectRejected(link.Call(q), Code::kFailedPrecondition, "already initialised");
  ServiceRequest quote;
  quote.op = ServiceOp::kQuote;
  quote.backend = static_cast<uint8_t>(tee::Backend::kSgx);
  quote.flags = tee::kEvidenceSimulated;
  auto answer = link.Call(quote);
  PT_ASSERT_OK(answer);
  ByteReader r(*answer);
  ByteSpan body;
  ASSERT_TRUE(r.ReadLengthPrefixed(&body));  // a DCAP quote v3
  auto parsed = dcap::ParseQuote(body);
  PT_ASSERT_OK(parsed);
  const dcap::Hash256& mrenclave = parsed->report.mr_enclave;
  const dcap::Hash256& mrsigner = parsed->report.mr_signer;
  EXPECT_TRUE(std::equal(mrenclave.begin(), mrenclave.end(), self->begin()));
  const crypto::Digest expected = crypto::Sha256(spki);
  EXPECT_TRUE(std::equal(mrsigner.begin(), mrsigner.end(), expected.begin()));
  EXPECT_FALSE(parsed->report.debug());
}

}  // namespace
}  // namespace aex::ptest
