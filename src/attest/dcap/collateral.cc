// Collateral, TCB info v3 and QE identity v2 parsing (contract in
// collateral.h). nlohmann::json is used without exceptions: parse() with
// allow_exceptions=false, and every access goes through Field, which checks
// the type first.

#include "attest/dcap/collateral.h"

#include <nlohmann/json.hpp>

#include <cstdio>

namespace aex::dcap {
namespace {

using nlohmann::json;

constexpr const char* kStatusNames[] = {
    "UpToDate",   "SWHardeningNeeded",           "ConfigurationNeeded",
    "ConfigurationAndSWHardeningNeeded", "OutOfDate", "OutOfDateConfigurationNeeded",
    "Revoked",
};

// Typed access to one JSON object, every error prefixed with `where`.
class Fields {
 public:
  Fields(const json& j, std::string where) : j_(j), where_(std::move(where)) {}

  Status Error(const std::string& key, const std::string& why) const {
    return InvalidArgument(where_ + ": " + key + ": " + why);
  }
  Result<const json*> Get(const std::string& key, json::value_t type) const {
    auto it = j_.find(key);
    if (it == j_.end()) return Error(key, "missing");
    bool number = type == json::value_t::number_unsigned;
    if (number ? !it->is_number_unsigned() : it->type() != type) return Error(key, "wrong type");
    return &*it;
  }
  Result<std::string> String(const std::string& key) const {
    AEX_ASSIGN_OR_RETURN(const json* v, Get(key, json::value_t::string));
    return v->get<std::string>();
  }
  Result<uint64_t> Unsigned(const std::string& key, uint64_t max) const {
    AEX_ASSIGN_OR_RETURN(const json* v, Get(key, json::value_t::number_unsigned));
    uint64_t n = v->get<uint64_t>();
    if (n > max) return Error(key, "out of range");
    return n;
  }
  Result<Bytes> Hex(const std::string& key, size_t exact_size) const {
    AEX_ASSIGN_OR_RETURN(std::string text, String(key));
    Bytes out;
    if (!HexDecode(text, &out)) return Error(key, "not hex");
    if (exact_size != 0 && out.size() != exact_size) {
      return Error(key, "not " + std::to_string(exact_size) + " bytes");
    }
    return out;
  }
  template <size_t N>
  Status HexArray(const std::string& key, std::array<uint8_t, N>* out) const {
    AEX_ASSIGN_OR_RETURN(Bytes b, Hex(key, N));
    std::copy(b.begin(), b.end(), out->begin());
    return Status::Ok();
  }
  Result<time_t> Time(const std::string& key) const {
    AEX_ASSIGN_OR_RETURN(std::string text, String(key));
    auto t = ParseRfc3339(text);
    if (!t.ok()) return Error(key, t.status().message());
    return *t;
  }
  Result<TcbStatus> TcbStatusOf(const std::string& key) const {
    AEX_ASSIGN_OR_RETURN(std::string text, String(key));
    auto s = ParseTcbStatus(text);
    if (!s.ok()) return Error(key, s.status().message());
    return *s;
  }
  Result<std::vector<std::string>> OptionalStrings(const std::string& key) const {
    std::vector<std::string> out;
    if (!j_.contains(key)) return out;
    AEX_ASSIGN_OR_RETURN(const json* v, Get(key, json::value_t::array));
    for (const json& e : *v) {
      if (!e.is_string()) return Error(key, "not a list of strings");
      out.push_back(e.get<std::string>());
    }
    return out;
  }

 private:
  const json& j_;
  std::string where_;
};

Result<json> ParseObject(std::string_view text, const char* what) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return InvalidArgument(std::string(what) + ": not a JSON object");
  return j;
}

Result<TcbLevel> ParseTcbLevel(const json& j, const std::string& where) {
  if (!j.is_object()) return InvalidArgument(where + ": not an object");
  Fields f(j, where);
  TcbLevel level;
  AEX_ASSIGN_OR_RETURN(const json* tcb, f.Get("tcb", json::value_t::object));
  Fields t(*tcb, where + ".tcb");
  AEX_ASSIGN_OR_RETURN(const json* comps, t.Get("sgxtcbcomponents", json::value_t::array));
  if (comps->size() != 16) return t.Error("sgxtcbcomponents", "not 16 components");
  for (size_t i = 0; i < 16; i++) {
    if (!(*comps)[i].is_object()) return t.Error("sgxtcbcomponents", "not objects");
    Fields c((*comps)[i], where + ".tcb.sgxtcbcomponents[" + std::to_string(i) + "]");
    AEX_ASSIGN_OR_RETURN(uint64_t svn, c.Unsigned("svn", 255));
    level.sgx_components[i] = static_cast<uint8_t>(svn);
  }
  AEX_ASSIGN_OR_RETURN(uint64_t pce_svn, t.Unsigned("pcesvn", 65535));
  level.pce_svn = static_cast<uint16_t>(pce_svn);
  AEX_ASSIGN_OR_RETURN(level.status, f.TcbStatusOf("tcbStatus"));
  AEX_ASSIGN_OR_RETURN(level.tcb_date, f.String("tcbDate"));
  AEX_ASSIGN_OR_RETURN(level.advisory_ids, f.OptionalStrings("advisoryIDs"));
  return level;
}

Result<QeTcbLevel> ParseQeTcbLevel(const json& j, const std::string& where) {
  if (!j.is_object()) return InvalidArgument(where + ": not an object");
  Fields f(j, where);
  QeTcbLevel level;
  AEX_ASSIGN_OR_RETURN(const json* tcb, f.Get("tcb", json::value_t::object));
  AEX_ASSIGN_OR_RETURN(uint64_t svn, Fields(*tcb, where + ".tcb").Unsigned("isvsvn", 65535));
  level.isv_svn = static_cast<uint16_t>(svn);
  AEX_ASSIGN_OR_RETURN(level.status, f.TcbStatusOf("tcbStatus"));
  AEX_ASSIGN_OR_RETURN(level.advisory_ids, f.OptionalStrings("advisoryIDs"));
  return level;
}

}  // namespace

const char* TcbStatusName(TcbStatus s) {
  size_t i = static_cast<size_t>(s);
  return i < std::size(kStatusNames) ? kStatusNames[i] : "unknown";
}

Result<TcbStatus> ParseTcbStatus(const std::string& name) {
  for (size_t i = 0; i < std::size(kStatusNames); i++) {
    if (name == kStatusNames[i]) return static_cast<TcbStatus>(i);
  }
  return InvalidArgument("unknown TCB status \"" + name + "\"");
}

Result<time_t> ParseRfc3339(std::string_view text) {
  int y, mo, d, h, mi, s, n = 0;
  std::string str(text);
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18}) {
    if (i >= str.size() || str[i] < '0' || str[i] > '9') {
      return InvalidArgument("\"" + str + "\" is not an RFC 3339 UTC time");
    }
  }
  if (std::sscanf(str.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &s, &n) != 6 ||
      n != 19) {
    return InvalidArgument("\"" + str + "\" is not an RFC 3339 UTC time");
  }
  size_t pos = 19;
  if (pos < str.size() && str[pos] == '.') {
    pos++;
    while (pos < str.size() && str[pos] >= '0' && str[pos] <= '9') pos++;
  }
  if (pos + 1 != str.size() || str[pos] != 'Z' || y < 1970 || mo < 1 || mo > 12 || d < 1 ||
      d > 31 || h > 23 || mi > 59 || s > 60) {
    return InvalidArgument("\"" + str + "\" is not an RFC 3339 UTC time (YYYY-MM-DDTHH:MM:SSZ)");
  }
  struct tm tm = {};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  return timegm(&tm);
}

std::string FormatRfc3339(time_t t) {
  struct tm tm;
  gmtime_r(&t, &tm);
  char buf[32];
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

Result<Collateral> ParseCollateral(std::string_view json_text) {
  AEX_ASSIGN_OR_RETURN(json j, ParseObject(json_text, "collateral"));
  Fields f(j, "collateral");
  Collateral c;
  AEX_ASSIGN_OR_RETURN(c.pck_crl_issuer_chain, f.String("pck_crl_issuer_chain"));
  AEX_ASSIGN_OR_RETURN(c.root_ca_crl, f.Hex("root_ca_crl", 0));
  AEX_ASSIGN_OR_RETURN(c.pck_crl, f.Hex("pck_crl", 0));
  AEX_ASSIGN_OR_RETURN(c.tcb_info_issuer_chain, f.String("tcb_info_issuer_chain"));
  AEX_ASSIGN_OR_RETURN(c.tcb_info, f.String("tcb_info"));
  AEX_ASSIGN_OR_RETURN(c.tcb_info_signature, f.Hex("tcb_info_signature", 64));
  AEX_ASSIGN_OR_RETURN(c.qe_identity_issuer_chain, f.String("qe_identity_issuer_chain"));
  AEX_ASSIGN_OR_RETURN(c.qe_identity, f.String("qe_identity"));
  AEX_ASSIGN_OR_RETURN(c.qe_identity_signature, f.Hex("qe_identity_signature", 64));
  return c;
}

std::string EncodeCollateral(const Collateral& c) {
  json j = {{"pck_crl_issuer_chain", c.pck_crl_issuer_chain},
            {"root_ca_crl", HexEncode(c.root_ca_crl)},
            {"pck_crl", HexEncode(c.pck_crl)},
            {"tcb_info_issuer_chain", c.tcb_info_issuer_chain},
            {"tcb_info", c.tcb_info},
            {"tcb_info_signature", HexEncode(c.tcb_info_signature)},
            {"qe_identity_issuer_chain", c.qe_identity_issuer_chain},
            {"qe_identity", c.qe_identity},
            {"qe_identity_signature", HexEncode(c.qe_identity_signature)}};
  return j.dump(2);
}

Result<TcbInfo> ParseTcbInfo(std::string_view json_text) {
  AEX_ASSIGN_OR_RETURN(json j, ParseObject(json_text, "tcb_info"));
  Fields f(j, "tcb_info");
  TcbInfo info;
  AEX_ASSIGN_OR_RETURN(std::string id, f.String("id"));
  if (id != "SGX") return f.Error("id", "\"" + id + "\" is not SGX");
  AEX_ASSIGN_OR_RETURN(uint64_t version, f.Unsigned("version", 1000));
  if (version != 3) return f.Error("version", "only version 3 is supported");
  info.version = static_cast<int>(version);
  AEX_ASSIGN_OR_RETURN(info.issue_date, f.Time("issueDate"));
  AEX_ASSIGN_OR_RETURN(info.next_update, f.Time("nextUpdate"));
  AEX_RETURN_IF_ERROR(f.HexArray("fmspc", &info.fmspc));
  AEX_RETURN_IF_ERROR(f.HexArray("pceId", &info.pce_id));
  AEX_ASSIGN_OR_RETURN(uint64_t tcb_type, f.Unsigned("tcbType", 0));
  info.tcb_type = static_cast<int>(tcb_type);
  AEX_ASSIGN_OR_RETURN(uint64_t eval, f.Unsigned("tcbEvaluationDataNumber", UINT32_MAX));
  info.tcb_evaluation_data_number = static_cast<uint32_t>(eval);
  AEX_ASSIGN_OR_RETURN(const json* levels, f.Get("tcbLevels", json::value_t::array));
  if (levels->empty()) return f.Error("tcbLevels", "empty");
  for (size_t i = 0; i < levels->size(); i++) {
    AEX_ASSIGN_OR_RETURN(TcbLevel level,
                         ParseTcbLevel((*levels)[i], "tcb_info.tcbLevels[" + std::to_string(i) + "]"));
    info.levels.push_back(std::move(level));
  }
  return info;
}

Result<QeIdentity> ParseQeIdentity(std::string_view json_text) {
  AEX_ASSIGN_OR_RETURN(json j, ParseObject(json_text, "qe_identity"));
  Fields f(j, "qe_identity");
  QeIdentity q;
  AEX_ASSIGN_OR_RETURN(q.id, f.String("id"));
  AEX_ASSIGN_OR_RETURN(uint64_t version, f.Unsigned("version", 1000));
  if (version != 2) return f.Error("version", "only version 2 is supported");
  q.version = static_cast<int>(version);
  AEX_ASSIGN_OR_RETURN(q.issue_date, f.Time("issueDate"));
  AEX_ASSIGN_OR_RETURN(q.next_update, f.Time("nextUpdate"));
  AEX_ASSIGN_OR_RETURN(uint64_t eval, f.Unsigned("tcbEvaluationDataNumber", UINT32_MAX));
  q.tcb_evaluation_data_number = static_cast<uint32_t>(eval);
  std::array<uint8_t, 4> misc, misc_mask;
  AEX_RETURN_IF_ERROR(f.HexArray("miscselect", &misc));
  AEX_RETURN_IF_ERROR(f.HexArray("miscselectMask", &misc_mask));
  // Written as big-endian hex of the 32-bit value ("00000000", "FFFFFFFF").
  q.miscselect = LoadU32(misc.data());
  q.miscselect_mask = LoadU32(misc_mask.data());
  AEX_RETURN_IF_ERROR(f.HexArray("attributes", &q.attributes));
  AEX_RETURN_IF_ERROR(f.HexArray("attributesMask", &q.attributes_mask));
  AEX_RETURN_IF_ERROR(f.HexArray("mrsigner", &q.mrsigner));
  AEX_ASSIGN_OR_RETURN(uint64_t prod, f.Unsigned("isvprodid", 65535));
  q.isv_prod_id = static_cast<uint16_t>(prod);
  AEX_ASSIGN_OR_RETURN(const json* levels, f.Get("tcbLevels", json::value_t::array));
  if (levels->empty()) return f.Error("tcbLevels", "empty");
  for (size_t i = 0; i < levels->size(); i++) {
    AEX_ASSIGN_OR_RETURN(QeTcbLevel level, ParseQeTcbLevel((*levels)[i], "qe_identity.tcbLevels[" +
                                                                             std::to_string(i) + "]"));
    q.levels.push_back(std::move(level));
  }
  return q;
}

}  // namespace aex::dcap
