// TCB decisions of DCAP verification, as Intel's Quote Verification Library
// makes them, over documents whose signatures were already checked:
//
//  - the platform TCB level: the first level of TCB info (newest first)
//    whose 16 SGX components are each <= the PCK certificate's and whose
//    PCESVN is <= the certificate's; none matching is an error;
//  - the QE identity: MRSIGNER and ISVPRODID equal, MISCSELECT and
//    ATTRIBUTES equal under their masks; the QE TCB level is the first whose
//    ISVSVN <= the QE report's;
//  - the two statuses combined as the QVL does: a QE that is OutOfDate turns
//    UpToDate/SWHardeningNeeded into OutOfDate and ConfigurationNeeded/
//    ConfigurationAndSWHardeningNeeded into OutOfDateConfigurationNeeded; a
//    revoked QE makes the result Revoked; otherwise the platform's status.
//
// Every refusal is kAuthFailed "<reason>: detail" with the reason names of
// verifier.h. Pure functions, any thread.

#ifndef AEX_ATTEST_DCAP_TCB_H_
#define AEX_ATTEST_DCAP_TCB_H_

#include "attest/dcap/collateral.h"
#include "attest/dcap/pck_extension.h"
#include "attest/dcap/quote.h"

namespace aex::dcap {

// REQUIRES: info's FMSPC and PCE-ID were checked against ext.
Result<const TcbLevel*> MatchTcbLevel(const TcbInfo& info, const SgxExtension& ext);
Status CheckQeIdentity(const QeIdentity& identity, const ReportBody& qe_report);
Result<const QeTcbLevel*> MatchQeTcbLevel(const QeIdentity& identity, uint16_t isv_svn);
TcbStatus ConvergeTcbStatus(TcbStatus platform, TcbStatus qe);

}  // namespace aex::dcap

#endif  // AEX_ATTEST_DCAP_TCB_H_
