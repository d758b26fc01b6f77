/* revocation.c: revokeCert (revocation.h; RFC 8555 section 7.6, reasons RFC 5280 section
 * 5.3.1). */
#include "client/revocation.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/b64url.h"
#include "common/log.h"

static const char *const rvk_names[] = {
    "unspecified",          /* 0 */
    "keyCompromise",        /* 1 */
    "cACompromise",         /* 2 */
    "affiliationChanged",   /* 3 */
    "superseded",           /* 4 */
    "cessationOfOperation", /* 5 */
    "certificateHold",      /* 6 */
    NULL,                   /* 7 is not used (RFC 5280) */
    "removeFromCRL",        /* 8 */
    "privilegeWithdrawn",   /* 9 */
    "aACompromise",         /* 10 */
};
#define RVK_MAX_CODE 10

const char *rvk_reason_name(int code)
{
    if (code < 0 || code > RVK_MAX_CODE)
        return NULL;
    return rvk_names[code];
}

enum mc_err rvk_reason_parse(const char *s, int *out)
{
    if (s == NULL || out == NULL || *s == '\0')
        return MC_ERR_INVALID;
    if (s[0] >= '0' && s[0] <= '9') {
        /* one or two digits, no sign, no leading zero but "0" itself */
        size_t n = strlen(s);
        if (n > 2 || (n == 2 && (s[0] == '0' || s[1] < '0' || s[1] > '9')))
            return MC_ERR_INVALID;
        int code = n == 1 ? s[0] - '0' : (s[0] - '0') * 10 + (s[1] - '0');
        if (rvk_reason_name(code) == NULL)
            return MC_ERR_INVALID;
        *out = code;
        return MC_OK;
    }
    for (int i = 0; i <= RVK_MAX_CODE; i++) {
        if (rvk_names[i] != NULL && strcasecmp(rvk_names[i], s) == 0) {
            *out = i;
            return MC_OK;
        }
    }
    return MC_ERR_INVALID;
}

enum mc_err rvk_revoke(struct sess *s, X509 *cert, EVP_PKEY *cert_key, int reason)
{
    const struct sess_dir *dir = NULL;
    unsigned char *der = NULL;
    char *b64 = NULL;
    cJSON *payload = NULL;
    struct sess_resp r = {0};
    int n;
    enum mc_err err;

    if (s == NULL || cert == NULL || (reason < 0 && reason != RVK_NO_REASON))
        return MC_ERR_INVALID;
    dir = sess_directory(s);
    if (dir == NULL || dir->revoke_cert == NULL)
        return MC_ERR_UNSUPPORTED;
    /* Checked here: a CA would answer unauthorized, but only after the key had signed a
     * request about someone else's certificate. */
    if (cert_key != NULL && EVP_PKEY_eq(cert_key, X509_get0_pubkey(cert)) != 1) {
        log_msg(LOGL_ERROR, "revoke.key_mismatch", "reason=not_the_certificate_key");
        return MC_ERR_MISMATCH;
    }
    if (cert_key == NULL && sess_kid(s) == NULL)
        return MC_ERR_STATE;
    n = i2d_X509(cert, &der);
    if (n <= 0) {
        err = MC_ERR_CRYPTO;
        goto out;
    }
    err = b64url_encode(der, (size_t)n, &b64);
    if (err != MC_OK)
        goto out;
    payload = cJSON_CreateObject();
    if (payload == NULL || cJSON_AddStringToObject(payload, "certificate", b64) == NULL ||
        (reason != RVK_NO_REASON && cJSON_AddNumberToObject(payload, "reason", reason) == NULL)) {
        err = MC_ERR_NOMEM;
        goto out;
    }
    /* A reason the CA does not take (7, or above 10) is still sent: refusing it is the
     * CA's call (badRevocationReason), and the user sees the CA's answer. */
    if (cert_key != NULL)
        err = sess_post_with_key(s, dir->revoke_cert, payload, cert_key, &r);
    else
        err = sess_post(s, dir->revoke_cert, payload, SESS_SIGN_KID, &r);
    if (err != MC_OK)
        goto out;
    log_msg(LOGL_INFO, "revoke.done", "by=%s reason=%d", cert_key != NULL ? "cert-key" : "account",
            reason);
out:
    sess_resp_free(&r);
    cJSON_Delete(payload);
    OPENSSL_free(der);
    free(b64);
    return err;
}
