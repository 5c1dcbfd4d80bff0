// `aex verify-quote` (contract in verify_quote.h).

#include "verify_quote.h"

#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "aex_ops.h"
#include "attest/dcap/verifier.h"
#include "deployer/attestation.h"

namespace aex::tools {
namespace {

using nlohmann::json;
using namespace aex::dcap;

Result<std::string> ReadWholeFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return InvalidArgument("cannot read " + path.string());
  return std::string(std::istreambuf_iterator<char>(in), {});
}

Result<Hash256> ParseHash(const std::string& flag, const std::string& hex) {
  Bytes b;
  if (!HexDecode(hex, &b) || b.size() != 32) return InvalidArgument(flag + ": not 32 bytes of hex");
  Hash256 h;
  std::copy(b.begin(), b.end(), h.begin());
  return h;
}

Result<Policy> PolicyOf(const VerifyQuoteArgs& a) {
  Policy p;
  if (!a.accept.empty()) p.accepted_tcb_statuses.clear();
  for (const std::string& name : a.accept) {
    auto s = ParseTcbStatus(name);
    if (!s.ok()) return InvalidArgument("--accept: " + s.status().message());
    p.accepted_tcb_statuses.push_back(*s);
  }
  p.allow_unknown_tcb = a.collateral.empty();
  if (a.min_isv_svn > 65535) return InvalidArgument("--min-isv-svn: above 65535");
  p.min_isv_svn = static_cast<uint16_t>(a.min_isv_svn);
  if (a.isv_prod_id > 65535) return InvalidArgument("--isv-prod-id: above 65535");
  if (a.isv_prod_id >= 0) p.isv_prod_id = static_cast<uint16_t>(a.isv_prod_id);
  if (!a.mrsigner.empty()) {
    AEX_ASSIGN_OR_RETURN(p.mr_signer, ParseHash("--mrsigner", a.mrsigner));
  }
  if (!a.mrenclave.empty()) {
    AEX_ASSIGN_OR_RETURN(p.mr_enclave, ParseHash("--mrenclave", a.mrenclave));
  }
  p.allow_debug = a.allow_debug;
  return p;
}

// Everything the verifier needs, read from the files the arguments name.
struct Inputs {
  Bytes quote;
  std::optional<Collateral> collateral;
  EvpPkeyPtr root;
  time_t at = 0;
  Policy policy;
};

Result<Inputs> ReadInputs(const VerifyQuoteArgs& a) {
  Inputs in;
  AEX_ASSIGN_OR_RETURN(std::string quote, ReadWholeFile(a.quote_file));
  in.quote.assign(quote.begin(), quote.end());
  if (!a.collateral.empty()) {
    auto file = deploy::CollateralFile(a.collateral);
    if (!file.ok()) return InvalidArgument("--" + file.status().message());
    AEX_ASSIGN_OR_RETURN(std::string text, ReadWholeFile(*file));
    auto c = ParseCollateral(text);
    if (!c.ok()) return InvalidArgument(file->string() + ": " + c.status().message());
    in.collateral = std::move(*c);
  }
  if (!a.root_pubkey.empty()) {
    AEX_ASSIGN_OR_RETURN(std::string pem, ReadWholeFile(a.root_pubkey));
    auto key = PublicKeyFromPem(pem);
    if (!key.ok()) return InvalidArgument("--root-pubkey: " + key.status().message());
    in.root = std::move(*key);
  }
  in.at = time(nullptr);
  if (!a.at.empty()) {
    auto t = ParseRfc3339(a.at);
    if (!t.ok()) return InvalidArgument("--at: " + t.status().message());
    in.at = *t;
  }
  AEX_ASSIGN_OR_RETURN(in.policy, PolicyOf(a));
  return in;
}

// fail_code: the exit code when s is not OK.
int Report(bool json_out, json doc, const Status& s, int fail_code) {
  doc["valid"] = s.ok();
  if (!s.ok()) {
    // The common failure shape of aex --json, plus why the quote failed.
    doc.update(cli::FailureJson(s, ""));
    if (fail_code == 2) doc["code"] = "USAGE";
    doc["reason"] = fail_code == 2 ? "usage" : FailureReason(s);
  } else {
    doc["ok"] = true;
  }
  if (json_out) {
    std::cout << doc.dump(2) << "\n";
  } else if (s.ok()) {
    std::cerr << "quote valid: TCB status " << doc["tcb_status"].get<std::string>()
              << ", MRENCLAVE " << doc["mrenclave"].get<std::string>() << "\n";
  } else {
    std::cerr << "aex: error: " << s.message() << "\n";
  }
  return s.ok() ? 0 : fail_code;
}

}  // namespace

CLI::App* AddVerifyQuoteCommand(CLI::App& app, VerifyQuoteArgs* a) {
  auto* cmd = app.add_subcommand("verify-quote", "verify an SGX DCAP quote (v3) offline");
  cmd->add_option("quote", a->quote_file, "quote file (binary)")->required();
  cmd->add_option("--collateral", a->collateral, "collateral JSON file, or a folder with one");
  cmd->add_option("--at", a->at, "verification time, RFC 3339 UTC (default: now)");
  cmd->add_option("--root-pubkey", a->root_pubkey, "pinned root public key, PEM "
                                                   "(default: Intel SGX Root CA)");
  cmd->add_option("--accept", a->accept, "accepted TCB status (repeatable; default UpToDate)")
      ->allow_extra_args(false);  // one status per --accept: never swallow the quote file
  cmd->add_option("--min-isv-svn", a->min_isv_svn, "minimum ISVSVN");
  cmd->add_option("--isv-prod-id", a->isv_prod_id, "expected ISVPRODID");
  cmd->add_option("--mrsigner", a->mrsigner, "expected MRSIGNER (hex)");
  cmd->add_option("--mrenclave", a->mrenclave, "expected MRENCLAVE (hex)");
  cmd->add_flag("--allow-debug", a->allow_debug, "accept a debug enclave");
  return cmd;
}

json VerdictJson(const Verdict& v, time_t at) {
  return {{"tcb_status", TcbStatusName(v.tcb_status)},
          {"platform_tcb_status", TcbStatusName(v.platform_tcb_status)},
          {"qe_tcb_status", TcbStatusName(v.qe_tcb_status)},
          {"advisory_ids", v.advisory_ids},
          {"collateral_checked", v.collateral_checked},
          {"verified_at", FormatRfc3339(at)},
          {"mrenclave", HexEncode(v.report.mr_enclave)},
          {"mrsigner", HexEncode(v.report.mr_signer)},
          {"isv_prod_id", v.report.isv_prod_id},
          {"isv_svn", v.report.isv_svn},
          {"debug", v.report.debug()},
          {"report_data", HexEncode(v.report.report_data)},
          {"fmspc", HexEncode(v.pck.fmspc)},
          {"pce_svn", v.pck.pce_svn}};
}

int RunVerifyQuote(const VerifyQuoteArgs& a, bool json_out) {
  auto in = ReadInputs(a);
  if (!in.ok()) return Report(json_out, json::object(), in.status(), 2);
  auto v = VerifyQuote(in->quote, in->collateral ? &*in->collateral : nullptr,
                       {in->root.get(), in->at});
  if (!v.ok()) {
    return Report(json_out, {{"verified_at", FormatRfc3339(in->at)}}, v.status(), 1);
  }
  return Report(json_out, VerdictJson(*v, in->at), CheckPolicy(*v, in->policy), 1);
}

}  // namespace aex::tools
