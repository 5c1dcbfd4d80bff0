// Quote v3 parsing and encoding (layout in quote.h).

#include "attest/dcap/quote.h"

#include <algorithm>

namespace aex::dcap {

const std::array<uint8_t, 16> kIntelQeVendorId = {0x93, 0x9a, 0x72, 0x33, 0xf7, 0x9c, 0x4c, 0xa9,
                                                  0x94, 0x0a, 0x0d, 0xb3, 0x95, 0x7f, 0x06, 0x07};

namespace {

// Little-endian reads on top of the bounds-checked ByteReader (whose own
// integers are big-endian): a failed read consumes nothing.
bool ReadLe(ByteReader* r, size_t n, uint64_t* out) {
  ByteSpan b;
  if (!r->ReadBytes(n, &b)) return false;
  uint64_t v = 0;
  for (size_t i = n; i > 0; i--) v = (v << 8) | b[i - 1];
  *out = v;
  return true;
}

template <typename T>
bool ReadLeInt(ByteReader* r, T* out) {
  uint64_t v;
  if (!ReadLe(r, sizeof(T), &v)) return false;
  *out = static_cast<T>(v);
  return true;
}

template <size_t N>
bool ReadArray(ByteReader* r, std::array<uint8_t, N>* out) {
  ByteSpan b;
  if (!r->ReadBytes(N, &b)) return false;
  std::copy(b.begin(), b.end(), out->begin());
  return true;
}

void PutLe(ByteWriter* w, uint64_t v, size_t n) {
  for (size_t i = 0; i < n; i++) w->PutU8(static_cast<uint8_t>(v >> (8 * i)));
}

Status Malformed(const std::string& what) { return InvalidArgument("quote: " + what); }

Status ParseHeader(ByteReader* r, QuoteHeader* h) {
  if (!ReadLeInt(r, &h->version) || !ReadLeInt(r, &h->attestation_key_type) ||
      !ReadLeInt(r, &h->tee_type) || !ReadLeInt(r, &h->qe_svn) || !ReadLeInt(r, &h->pce_svn) ||
      !ReadArray(r, &h->qe_vendor_id) || !ReadArray(r, &h->user_data)) {
    return Malformed("truncated header");
  }
  if (h->version != kQuoteVersion3) {
    return Malformed("unsupported version " + std::to_string(h->version) + " (only 3)");
  }
  if (h->attestation_key_type != kAttestationKeyEcdsaP256) {
    return Malformed("unsupported attestation key type " +
                     std::to_string(h->attestation_key_type) + " (only 2, ECDSA P-256)");
  }
  if (h->tee_type != 0) return Malformed("TEE type " + std::to_string(h->tee_type) + " is not SGX");
  return Status::Ok();
}

bool ReadReportBody(ByteReader* r, ReportBody* b) {
  return ReadArray(r, &b->cpu_svn) && ReadLeInt(r, &b->misc_select) &&
         ReadArray(r, &b->reserved1) && ReadArray(r, &b->isv_ext_prod_id) &&
         ReadArray(r, &b->attributes) && ReadArray(r, &b->mr_enclave) &&
         ReadArray(r, &b->reserved2) && ReadArray(r, &b->mr_signer) &&
         ReadArray(r, &b->reserved3) && ReadArray(r, &b->config_id) &&
         ReadLeInt(r, &b->isv_prod_id) && ReadLeInt(r, &b->isv_svn) &&
         ReadLeInt(r, &b->config_svn) && ReadArray(r, &b->reserved4) &&
         ReadArray(r, &b->isv_family_id) && ReadArray(r, &b->report_data);
}

// The signature data: exactly `sig` bytes, no more, no less.
Status ParseSignatureData(ByteSpan sig, Quote* q) {
  ByteReader r(sig);
  if (!ReadArray(&r, &q->signature)) return Malformed("truncated quote signature");
  if (!ReadArray(&r, &q->attestation_key)) return Malformed("truncated attestation key");
  if (!ReadReportBody(&r, &q->qe_report)) return Malformed("truncated QE report");
  if (!ReadArray(&r, &q->qe_report_signature)) return Malformed("truncated QE report signature");
  uint16_t auth_len;
  ByteSpan auth;
  if (!ReadLeInt(&r, &auth_len) || !r.ReadBytes(auth_len, &auth)) {
    return Malformed("truncated QE authentication data");
  }
  q->qe_auth_data.assign(auth.begin(), auth.end());
  uint32_t cert_len;
  if (!ReadLeInt(&r, &q->cert_data_type) || !ReadLeInt(&r, &cert_len)) {
    return Malformed("truncated certification data header");
  }
  if (q->cert_data_type != kCertDataPckChain) {
    return Malformed("unsupported certification data type " + std::to_string(q->cert_data_type) +
                     " (only 5, PCK certificate chain)");
  }
  if (cert_len > kMaxCertDataSize) {
    return Malformed("certification data of " + std::to_string(cert_len) + " bytes exceeds " +
                     std::to_string(kMaxCertDataSize));
  }
  ByteSpan cert;
  if (!r.ReadBytes(cert_len, &cert)) return Malformed("truncated certification data");
  q->cert_data.assign(cert.begin(), cert.end());
  if (!r.empty()) {
    return Malformed(std::to_string(r.remaining()) + " bytes after the certification data");
  }
  return Status::Ok();
}

}  // namespace

uint64_t ReportBody::attribute_flags() const {
  uint64_t v = 0;
  for (size_t i = 8; i > 0; i--) v = (v << 8) | attributes[i - 1];
  return v;
}

Result<ReportBody> ParseReportBody(ByteSpan data) {
  ByteReader r(data);
  ReportBody b;
  if (data.size() != kReportBodySize || !ReadReportBody(&r, &b)) {
    return Malformed("a report body is 384 bytes, not " + std::to_string(data.size()));
  }
  return b;
}

Result<Quote> ParseQuote(ByteSpan data) {
  ByteReader r(data);
  Quote q;
  AEX_RETURN_IF_ERROR(ParseHeader(&r, &q.header));
  if (!ReadReportBody(&r, &q.report)) return Malformed("truncated report body");
  uint32_t sig_len;
  if (!ReadLeInt(&r, &sig_len)) return Malformed("truncated signature data length");
  if (sig_len < r.remaining()) {
    return Malformed(std::to_string(r.remaining() - sig_len) + " trailing bytes after the " +
                     std::to_string(sig_len) + "-byte signature data");
  }
  if (sig_len > r.remaining()) {
    return Malformed("truncated signature data: " + std::to_string(sig_len) + " bytes declared, " +
                     std::to_string(r.remaining()) + " present");
  }
  AEX_RETURN_IF_ERROR(ParseSignatureData(r.rest(), &q));
  return q;
}

void EncodeReportBody(const ReportBody& b, ByteWriter* w) {
  w->PutBytes(b.cpu_svn);
  PutLe(w, b.misc_select, 4);
  w->PutBytes(b.reserved1);
  w->PutBytes(b.isv_ext_prod_id);
  w->PutBytes(b.attributes);
  w->PutBytes(b.mr_enclave);
  w->PutBytes(b.reserved2);
  w->PutBytes(b.mr_signer);
  w->PutBytes(b.reserved3);
  w->PutBytes(b.config_id);
  PutLe(w, b.isv_prod_id, 2);
  PutLe(w, b.isv_svn, 2);
  PutLe(w, b.config_svn, 2);
  w->PutBytes(b.reserved4);
  w->PutBytes(b.isv_family_id);
  w->PutBytes(b.report_data);
}

Bytes SignedPart(const Quote& q) {
  ByteWriter w(kSignedQuoteSize);
  PutLe(&w, q.header.version, 2);
  PutLe(&w, q.header.attestation_key_type, 2);
  PutLe(&w, q.header.tee_type, 4);
  PutLe(&w, q.header.qe_svn, 2);
  PutLe(&w, q.header.pce_svn, 2);
  w.PutBytes(q.header.qe_vendor_id);
  w.PutBytes(q.header.user_data);
  EncodeReportBody(q.report, &w);
  return w.Take();
}

Bytes EncodeQuote(const Quote& q) {
  ByteWriter sig;
  sig.PutBytes(q.signature);
  sig.PutBytes(q.attestation_key);
  EncodeReportBody(q.qe_report, &sig);
  sig.PutBytes(q.qe_report_signature);
  PutLe(&sig, q.qe_auth_data.size(), 2);
  sig.PutBytes(q.qe_auth_data);
  PutLe(&sig, q.cert_data_type, 2);
  PutLe(&sig, q.cert_data.size(), 4);
  sig.PutBytes(q.cert_data);

  ByteWriter w(kSignedQuoteSize + 4 + sig.size());
  w.PutBytes(SignedPart(q));
  PutLe(&w, sig.size(), 4);
  w.PutBytes(sig.bytes());
  return w.Take();
}

}  // namespace aex::dcap
