// TCB level evaluation and QE identity matching (contract in tcb.h).

#include "attest/dcap/tcb.h"

namespace aex::dcap {

Result<const TcbLevel*> MatchTcbLevel(const TcbInfo& info, const SgxExtension& ext) {
  for (const TcbLevel& level : info.levels) {
    bool components_ok = true;
    for (size_t i = 0; i < 16; i++) {
      components_ok &= ext.tcb_components[i] >= level.sgx_components[i];
    }
    if (components_ok && ext.pce_svn >= level.pce_svn) return &level;
  }
  return AuthFailed("tcb-level-unsupported: no TCB level of the TCB info is at or below the "
                    "PCK certificate's TCB (PCESVN " + std::to_string(ext.pce_svn) + ")");
}

Status CheckQeIdentity(const QeIdentity& identity, const ReportBody& qe) {
  if (qe.mr_signer != identity.mrsigner) {
    return AuthFailed("qe-identity-mismatch: the QE's MRSIGNER is not the QE identity's");
  }
  if (qe.isv_prod_id != identity.isv_prod_id) {
    return AuthFailed("qe-identity-mismatch: the QE's ISVPRODID " + std::to_string(qe.isv_prod_id) +
                      " is not " + std::to_string(identity.isv_prod_id));
  }
  if ((qe.misc_select & identity.miscselect_mask) !=
      (identity.miscselect & identity.miscselect_mask)) {
    return AuthFailed("qe-identity-mismatch: the QE's MISCSELECT differs under the mask");
  }
  for (size_t i = 0; i < 16; i++) {
    if ((qe.attributes[i] & identity.attributes_mask[i]) !=
        (identity.attributes[i] & identity.attributes_mask[i])) {
      return AuthFailed("qe-identity-mismatch: the QE's ATTRIBUTES differ under the mask");
    }
  }
  return Status::Ok();
}

Result<const QeTcbLevel*> MatchQeTcbLevel(const QeIdentity& identity, uint16_t isv_svn) {
  for (const QeTcbLevel& level : identity.levels) {
    if (isv_svn >= level.isv_svn) return &level;
  }
  return AuthFailed("qe-tcb-level-unsupported: no QE TCB level is at or below the QE's ISVSVN " +
                    std::to_string(isv_svn));
}

TcbStatus ConvergeTcbStatus(TcbStatus platform, TcbStatus qe) {
  if (qe == TcbStatus::kRevoked) return TcbStatus::kRevoked;
  if (qe == TcbStatus::kOutOfDate) {
    switch (platform) {
      case TcbStatus::kUpToDate:
      case TcbStatus::kSwHardeningNeeded:
        return TcbStatus::kOutOfDate;
      case TcbStatus::kConfigurationNeeded:
      case TcbStatus::kConfigurationAndSwHardeningNeeded:
        return TcbStatus::kOutOfDateConfigurationNeeded;
      default:
        break;
    }
  }
  return platform;
}

}  // namespace aex::dcap
