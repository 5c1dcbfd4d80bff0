// SGX PCK certificate extension (contract in pck_extension.h).

#include "attest/dcap/pck_extension.h"

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/objects.h>

#include <algorithm>
#include <memory>
#include <string>

namespace aex::dcap {
namespace {

struct SeqDeleter {
  void operator()(STACK_OF(ASN1_TYPE)* s) const { sk_ASN1_TYPE_pop_free(s, ASN1_TYPE_free); }
};
using SeqPtr = std::unique_ptr<STACK_OF(ASN1_TYPE), SeqDeleter>;

Status Bad(const std::string& why) { return InvalidArgument("PCK extension: " + why); }

// A DER SEQUENCE OF ANY, entirely consumed.
Result<SeqPtr> DecodeSequence(const unsigned char* data, size_t len) {
  const unsigned char* p = data;
  SeqPtr seq(d2i_ASN1_SEQUENCE_ANY(nullptr, &p, static_cast<long>(len)));
  ERR_clear_error();
  if (!seq || p != data + len) return Bad("not a DER SEQUENCE");
  return seq;
}

Result<SeqPtr> DecodeSequence(const ASN1_TYPE* t) {
  if (!t || t->type != V_ASN1_SEQUENCE) return Bad("expected a SEQUENCE");
  return DecodeSequence(t->value.sequence->data, static_cast<size_t>(t->value.sequence->length));
}

// One { OID, value } pair: the OID's text and the value.
struct Entry {
  std::string oid;
  const ASN1_TYPE* value = nullptr;
};

Result<Entry> DecodeEntry(const SeqPtr& pair) {
  if (sk_ASN1_TYPE_num(pair.get()) != 2) return Bad("an entry is not { OID, value }");
  const ASN1_TYPE* oid = sk_ASN1_TYPE_value(pair.get(), 0);
  if (oid->type != V_ASN1_OBJECT) return Bad("an entry does not start with an OID");
  char text[128];
  int n = OBJ_obj2txt(text, sizeof text, oid->value.object, /*no_name=*/1);
  if (n <= 0 || n >= static_cast<int>(sizeof text)) return Bad("unreadable OID");
  return Entry{text, sk_ASN1_TYPE_value(pair.get(), 1)};
}

template <size_t N>
Status OctetsOf(const Entry& e, std::array<uint8_t, N>* out) {
  if (e.value->type != V_ASN1_OCTET_STRING ||
      e.value->value.octet_string->length != static_cast<int>(N)) {
    return Bad(e.oid + ": not an OCTET STRING of " + std::to_string(N) + " bytes");
  }
  std::copy_n(e.value->value.octet_string->data, N, out->begin());
  return Status::Ok();
}

Result<int64_t> IntegerOf(const Entry& e, int64_t max) {
  int64_t v = -1;
  bool ok = false;
  if (e.value->type == V_ASN1_INTEGER) ok = ASN1_INTEGER_get_int64(&v, e.value->value.integer) == 1;
  if (e.value->type == V_ASN1_ENUMERATED) {
    ok = ASN1_ENUMERATED_get_int64(&v, e.value->value.enumerated) == 1;
  }
  ERR_clear_error();
  if (!ok || v < 0 || v > max) return Bad(e.oid + ": not an integer in [0, " + std::to_string(max) + "]");
  return v;
}

// The TCB sequence: 16 components, PCESVN, CPUSVN, each exactly once.
Status ParseTcb(const ASN1_TYPE* value, SgxExtension* out) {
  AEX_ASSIGN_OR_RETURN(SeqPtr tcb, DecodeSequence(value));
  const std::string prefix = std::string(kSgxExtensionOid) + ".2.";
  uint32_t seen = 0;
  for (int i = 0; i < sk_ASN1_TYPE_num(tcb.get()); i++) {
    AEX_ASSIGN_OR_RETURN(SeqPtr pair, DecodeSequence(sk_ASN1_TYPE_value(tcb.get(), i)));
    AEX_ASSIGN_OR_RETURN(Entry e, DecodeEntry(pair));
    if (e.oid.rfind(prefix, 0) != 0) return Bad("unexpected TCB entry " + e.oid);
    std::string tail = e.oid.substr(prefix.size());
    int index = tail.size() <= 2 && !tail.empty() && tail.find_first_not_of("0123456789") ==
                                                         std::string::npos
                    ? std::stoi(tail)
                    : 0;
    if (index < 1 || index > 18) return Bad("unexpected TCB entry " + e.oid);
    if (seen & (1u << index)) return Bad("TCB entry " + e.oid + " twice");
    seen |= 1u << index;
    if (index <= 16) {
      AEX_ASSIGN_OR_RETURN(int64_t svn, IntegerOf(e, 255));
      out->tcb_components[static_cast<size_t>(index - 1)] = static_cast<uint8_t>(svn);
    } else if (index == 17) {
      AEX_ASSIGN_OR_RETURN(int64_t svn, IntegerOf(e, 65535));
      out->pce_svn = static_cast<uint16_t>(svn);
    } else {
      AEX_RETURN_IF_ERROR(OctetsOf(e, &out->cpu_svn));
    }
  }
  if (seen != 0x7fffe) return Bad("the TCB lacks a component, PCESVN or CPUSVN");
  return Status::Ok();
}

// Wraps DER bytes (a whole TLV) as an ASN1_TYPE of type SEQUENCE.
ASN1_TYPE* SequenceType(STACK_OF(ASN1_TYPE)* seq) {
  unsigned char* der = nullptr;
  int n = i2d_ASN1_SEQUENCE_ANY(seq, &der);
  ASN1_STRING* s = n > 0 ? ASN1_STRING_new() : nullptr;
  ASN1_TYPE* t = s ? ASN1_TYPE_new() : nullptr;
  if (t && ASN1_STRING_set(s, der, n) == 1) {
    ASN1_TYPE_set(t, V_ASN1_SEQUENCE, s);
  } else {
    ASN1_STRING_free(s);
    ASN1_TYPE_free(t);
    t = nullptr;
  }
  OPENSSL_free(der);
  return t;
}

// { OID, value } as a SEQUENCE; takes ownership of value.
ASN1_TYPE* Pair(const std::string& oid, ASN1_TYPE* value) {
  SeqPtr pair(sk_ASN1_TYPE_new_null());
  ASN1_TYPE* o = ASN1_TYPE_new();
  ASN1_OBJECT* obj = OBJ_txt2obj(oid.c_str(), 1);
  if (!pair || !o || !obj || !value) {
    ASN1_TYPE_free(o);
    ASN1_OBJECT_free(obj);
    ASN1_TYPE_free(value);
    return nullptr;
  }
  ASN1_TYPE_set(o, V_ASN1_OBJECT, obj);
  sk_ASN1_TYPE_push(pair.get(), o);
  sk_ASN1_TYPE_push(pair.get(), value);
  return SequenceType(pair.get());
}

ASN1_TYPE* Octets(const uint8_t* data, size_t n) {
  ASN1_OCTET_STRING* s = ASN1_OCTET_STRING_new();
  ASN1_TYPE* t = s ? ASN1_TYPE_new() : nullptr;
  if (!t || ASN1_OCTET_STRING_set(s, data, static_cast<int>(n)) != 1) {
    ASN1_OCTET_STRING_free(s);
    ASN1_TYPE_free(t);
    return nullptr;
  }
  ASN1_TYPE_set(t, V_ASN1_OCTET_STRING, s);
  return t;
}

ASN1_TYPE* Integer(int64_t v, int type) {
  ASN1_INTEGER* i = ASN1_INTEGER_new();
  ASN1_TYPE* t = i ? ASN1_TYPE_new() : nullptr;
  bool ok = t && (type == V_ASN1_INTEGER ? ASN1_INTEGER_set_int64(i, v)
                                         : ASN1_ENUMERATED_set_int64(i, v)) == 1;
  if (!ok) {
    ASN1_INTEGER_free(i);
    ASN1_TYPE_free(t);
    return nullptr;
  }
  if (type == V_ASN1_ENUMERATED) i->type = V_ASN1_ENUMERATED;
  ASN1_TYPE_set(t, type, i);
  return t;
}

// Pushes `t` (owned) or reports that something failed on the way.
bool Push(STACK_OF(ASN1_TYPE)* seq, ASN1_TYPE* t) {
  if (t && sk_ASN1_TYPE_push(seq, t) > 0) return true;
  ASN1_TYPE_free(t);
  return false;
}

}  // namespace

Result<SgxExtension> ParseSgxExtension(ByteSpan der) {
  AEX_ASSIGN_OR_RETURN(SeqPtr top, DecodeSequence(der.data(), der.size()));
  SgxExtension out;
  const std::string prefix = std::string(kSgxExtensionOid) + ".";
  uint32_t seen = 0;
  for (int i = 0; i < sk_ASN1_TYPE_num(top.get()); i++) {
    AEX_ASSIGN_OR_RETURN(SeqPtr pair, DecodeSequence(sk_ASN1_TYPE_value(top.get(), i)));
    AEX_ASSIGN_OR_RETURN(Entry e, DecodeEntry(pair));
    std::string tail = e.oid.rfind(prefix, 0) == 0 ? e.oid.substr(prefix.size()) : "";
    int index = tail.size() == 1 && tail[0] >= '1' && tail[0] <= '7' ? tail[0] - '0' : 0;
    if (index == 0) return Bad("unexpected entry " + e.oid);
    if (seen & (1u << index)) return Bad("entry " + e.oid + " twice");
    seen |= 1u << index;
    switch (index) {
      case 1: AEX_RETURN_IF_ERROR(OctetsOf(e, &out.ppid)); break;
      case 2: AEX_RETURN_IF_ERROR(ParseTcb(e.value, &out)); break;
      case 3: AEX_RETURN_IF_ERROR(OctetsOf(e, &out.pce_id)); break;
      case 4: AEX_RETURN_IF_ERROR(OctetsOf(e, &out.fmspc)); break;
      case 5: {
        if (e.value->type != V_ASN1_ENUMERATED) return Bad("SGX type is not ENUMERATED");
        AEX_ASSIGN_OR_RETURN(int64_t type, IntegerOf(e, 2));
        out.sgx_type = static_cast<int>(type);
        break;
      }
      default: break;  // platform instance id / configuration: not used for SGX TCB
    }
  }
  if ((seen & 0x3e) != 0x3e) return Bad("PPID, TCB, PCE-ID, FMSPC or SGX type missing");
  return out;
}

Result<SgxExtension> SgxExtensionOf(X509* cert) {
  ASN1_OBJECT* oid = OBJ_txt2obj(kSgxExtensionOid, 1);
  int at = oid ? X509_get_ext_by_OBJ(cert, oid, -1) : -1;
  int again = at >= 0 ? X509_get_ext_by_OBJ(cert, oid, at) : -1;
  ASN1_OBJECT_free(oid);
  ERR_clear_error();
  if (at < 0) return Bad("the PCK certificate has no SGX extension");
  if (again >= 0) return Bad("the PCK certificate has two SGX extensions");
  ASN1_OCTET_STRING* data = X509_EXTENSION_get_data(X509_get_ext(cert, at));
  return ParseSgxExtension(ByteSpan(data->data, static_cast<size_t>(data->length)));
}

Result<Bytes> EncodeSgxExtension(const SgxExtension& ext) {
  const std::string base = kSgxExtensionOid;
  SeqPtr tcb(sk_ASN1_TYPE_new_null());
  SeqPtr top(sk_ASN1_TYPE_new_null());
  bool ok = tcb && top;
  for (size_t i = 0; ok && i < 16; i++) {
    ok = Push(tcb.get(), Pair(base + ".2." + std::to_string(i + 1),
                              Integer(ext.tcb_components[i], V_ASN1_INTEGER)));
  }
  ok = ok && Push(tcb.get(), Pair(base + ".2.17", Integer(ext.pce_svn, V_ASN1_INTEGER))) &&
       Push(tcb.get(), Pair(base + ".2.18", Octets(ext.cpu_svn.data(), 16))) &&
       Push(top.get(), Pair(base + ".1", Octets(ext.ppid.data(), 16))) &&
       Push(top.get(), Pair(base + ".2", SequenceType(tcb.get()))) &&
       Push(top.get(), Pair(base + ".3", Octets(ext.pce_id.data(), 2))) &&
       Push(top.get(), Pair(base + ".4", Octets(ext.fmspc.data(), 6))) &&
       Push(top.get(), Pair(base + ".5", Integer(ext.sgx_type, V_ASN1_ENUMERATED)));
  unsigned char* der = nullptr;
  int n = ok ? i2d_ASN1_SEQUENCE_ANY(top.get(), &der) : -1;
  ERR_clear_error();
  if (n <= 0) return Internal("PCK extension: encoding failed");
  Bytes out(der, der + n);
  OPENSSL_free(der);
  return out;
}

}  // namespace aex::dcap
