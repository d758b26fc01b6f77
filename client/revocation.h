/* revocation.h: revokeCert (RFC 8555 section 7.6), signed by the account (kid) or by the
 * certificate's own key (jwk). */
#ifndef CERTCLI_REVOCATION_H
#define CERTCLI_REVOCATION_H

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "client/session.h"

/* RFC 5280 section 5.3.1 reason codes that ACME allows (7 is unused). */
#define RVK_NO_REASON (-1)
/* Parses a code ("0".."10" but 7) or a name ("unspecified", "keyCompromise",
 * "cACompromise", "affiliationChanged", "superseded", "cessationOfOperation",
 * "certificateHold", "removeFromCRL", "privilegeWithdrawn", "aACompromise";
 * case-insensitive). MC_ERR_INVALID otherwise. */
MC_MUST_CHECK enum mc_err rvk_reason_parse(const char *s, int *out);
const char *rvk_reason_name(int code); /* NULL for an unknown code */

/* Revokes cert with reason (RVK_NO_REASON: the member is left out). cert_key NULL signs
 * with the account (kid); otherwise with cert_key's jwk, which must be cert's public key
 * (MC_ERR_MISMATCH before anything is sent). MC_ERR_PROBLEM for refusals
 * (alreadyRevoked, badRevocationReason, unauthorized). */
MC_MUST_CHECK enum mc_err rvk_revoke(struct sess *s, X509 *cert, EVP_PKEY *cert_key, int reason);

#endif
