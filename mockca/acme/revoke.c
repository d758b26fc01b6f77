/* revoke.c: revokeCert (RFC 8555 section 7.6), the OCSP responder (RFC 6960), the CRL
 * (RFC 5280) and the issuer certificate. */
#include "mockca/acme/revoke.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "common/b64url.h"
#include "common/csr.h"
#include "common/jose.h"
#include "common/json.h"
#include "common/log.h"
#include "common/pem.h"
#include "common/x509.h"
#include "mockca/acme/problem.h"
#include "mockca/acme/request.h"
#include "mockca/acme/wfe.h"
#include "mockca/ca.h"
#include "mockca/internal.h"
#include "mockca/store.h"

#define REVOKE_REASON_MAX 10 /* aACompromise, the last RFC 5280 code */
#define REVOKE_REASON_UNUSED 7

/* The issuing intermediate of chain 0, which signs every leaf (ca.h). */
static enum mc_err revoke_issuer_cert(struct mockca *m, X509 **out)
{
    char *pem = NULL;
    enum mc_err e;

    *out = NULL;
    e = ca_intermediate_pem(m->ca, 0, 0, &pem);
    if (e == MC_OK)
        e = pem_read_cert(pem, strlen(pem), out);
    free(pem);
    return e;
}

/* The "reason" member: absent is unspecified (0). RFC 8555 section 7.6 takes the RFC 5280
 * codes; 7 is unused there, and anything else (negative, fractional, a string) is refused
 * the same way, as Boulder and Pebble refuse it. */
static bool revoke_reason(const cJSON *payload, int *out)
{
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(payload, "reason");
    double v;

    *out = CA_REASON_UNSPECIFIED;
    if (r == NULL)
        return true;
    if (!cJSON_IsNumber(r))
        return false;
    v = r->valuedouble;
    /* NaN fails both comparisons; the range check comes before the cast. */
    if (!(v >= 0 && v <= REVOKE_REASON_MAX) || (double)(int)v != v || v == REVOKE_REASON_UNUSED)
        return false;
    *out = (int)v;
    return true;
}

/* Whether the account account_id may revoke cert: it ordered it, or it holds valid
 * authorizations for every identifier in it (the third way of section 7.6). */
static enum mc_err revoke_by_account(struct mockca *m, const char *account_id, X509 *cert,
                                     const char *serial, bool *ok)
{
    struct cert_snap c;
    struct ident_list names = {0};
    enum mc_err e;

    *ok = false;
    memset(&c, 0, sizeof(c));
    if (store_cert_get(m->store, serial, &c) == MC_OK && strcmp(c.account_id, account_id) == 0) {
        *ok = true;
        cert_snap_clear(&c);
        return MC_OK;
    }
    cert_snap_clear(&c);
    e = x509_sans(cert, &names);
    if (e != MC_OK)
        return e;
    *ok = names.n > 0;
    for (size_t i = 0; i < names.n && *ok; i++) {
        bool has = false;
        e = store_account_authorized(m->store, account_id, &names.v[i], &has);
        if (e != MC_OK)
            break;
        *ok = has;
    }
    ident_list_free(&names);
    if (e != MC_OK)
        *ok = false;
    return e;
}

void revoke_cert(void *ctx, const struct http_request *req, struct http_response *resp)
{
    struct mockca *m = ctx;
    struct acme_signed s;
    const char *b64 = NULL;
    uint8_t *der = NULL;
    const unsigned char *p;
    size_t der_len = 0;
    X509 *cert = NULL, *issuer = NULL;
    char *serial = NULL;
    enum ca_status status = CA_STATUS_UNKNOWN;
    int reason = 0;
    bool ok = false;
    enum mc_err e;

    if (!wfe_check(m, req, NULL, ACME_AUTH_EITHER, ACME_PAYLOAD_OBJECT, &s, resp))
        return;
    if (!revoke_reason(s.payload, &reason)) {
        wfe_problemf(resp, ACME_P_BAD_REVOCATION_REASON, 0,
                     "reason must be an RFC 5280 reason code: an integer 0..10 other than 7");
        goto out;
    }
    if (json_get_string(s.payload, "certificate", &b64) != MC_OK ||
        strnlen(b64, REVOKE_CERT_MAX_B64 + 1) > REVOKE_CERT_MAX_B64 ||
        b64url_decode(b64, strlen(b64), &der, &der_len) != MC_OK || der_len == 0 ||
        der_len > (size_t)REVOKE_CERT_MAX_B64) {
        wfe_problemf(resp, ACME_P_MALFORMED, 0, "certificate must be a base64url DER certificate");
        goto out;
    }
    p = der;
    cert = d2i_X509(NULL, &p, (long)der_len);
    if (cert == NULL || p != der + der_len) {
        wfe_problemf(resp, ACME_P_MALFORMED, 0, "certificate does not parse as DER X.509");
        goto out;
    }
    if (revoke_issuer_cert(m, &issuer) != MC_OK) {
        wfe_problemf(resp, ACME_P_SERVER_INTERNAL, 0, "cannot read the issuer");
        goto out;
    }
    /* A certificate with one of our serials but not our signature is not ours: the
     * registry knows serials, the signature proves the bytes. */
    if (X509_verify(cert, X509_get0_pubkey(issuer)) != 1 ||
        x509_serial_hex(cert, &serial) != MC_OK ||
        ca_status(m->ca, serial, &status, NULL, NULL) != MC_OK || status == CA_STATUS_UNKNOWN) {
        wfe_problemf(resp, ACME_P_MALFORMED, 404, "this CA did not issue that certificate");
        goto out;
    }
    if (s.by_kid) {
        e = revoke_by_account(m, s.account_id, cert, serial, &ok);
        if (e != MC_OK) {
            wfe_problemf(resp, ACME_P_SERVER_INTERNAL, 0, "cannot check authorizations: %s",
                         mc_strerror(e));
            goto out;
        }
    } else {
        ok = jwk_equal(s.key, X509_get0_pubkey(cert));
    }
    if (!ok) {
        wfe_problemf(resp, ACME_P_UNAUTHORIZED, 0,
                     s.by_kid ? "the account neither ordered the certificate nor holds valid "
                                "authorizations for all of its identifiers"
                              : "the JWK is not the certificate's key");
        goto out;
    }
    e = ca_revoke(m->ca, serial, reason);
    if (e == MC_ERR_EXISTS) {
        wfe_problemf(resp, ACME_P_ALREADY_REVOKED, 0, "the certificate is already revoked");
        goto out;
    }
    if (e == MC_ERR_NOT_FOUND) {
        wfe_problemf(resp, ACME_P_MALFORMED, 404, "this CA did not issue that certificate");
        goto out;
    }
    if (e == MC_ERR_INVALID) {
        wfe_problemf(resp, ACME_P_BAD_REVOCATION_REASON, 0, "reason %d is not allowed", reason);
        goto out;
    }
    if (e != MC_OK) {
        wfe_problemf(resp, ACME_P_SERVER_INTERNAL, 0, "cannot revoke: %s", mc_strerror(e));
        goto out;
    }
    log_msg(LOGL_INFO, "acme.revoked", "serial=%s reason=%d by=%s", serial, reason,
            s.by_kid ? "account" : "cert_key");
    if (http_response_body(resp, 200, NULL, "", 0) != MC_OK)
        wfe_problemf(resp, ACME_P_SERVER_INTERNAL, 0, "out of memory");
out:
    free(serial);
    X509_free(issuer);
    X509_free(cert);
    free(der);
    acme_signed_free(&s);
}

/* ---- OCSP, CRL, issuer --------------------------------------------------------------- */

static void revoke_ocsp_answer(struct mockca *m, const uint8_t *req, size_t n,
                               struct http_response *resp)
{
    uint8_t *out = NULL;
    size_t out_len = 0;

    if (ca_ocsp_respond(m->ca, req, n, &out, &out_len) != MC_OK) {
        wfe_problemf(resp, ACME_P_SERVER_INTERNAL, 0, "cannot answer the OCSP request");
        return;
    }
    if (http_response_body(resp, 200, "application/ocsp-response", out, out_len) != MC_OK)
        wfe_problemf(resp, ACME_P_SERVER_INTERNAL, 0, "out of memory");
    free(out);
}

/* Standard base64 (RFC 4648 section 4, with padding as RFC 6960 A.1 has it) into a new
 * buffer. false when it does not decode. */
static bool revoke_b64_std(const char *in, uint8_t **out, size_t *n)
{
    size_t len = strlen(in), cap;
    EVP_ENCODE_CTX *ctx = NULL;
    uint8_t *buf = NULL;
    int a = 0, b = 0;
    bool ok = false;

    *out = NULL;
    *n = 0;
    if (len == 0 || len > REVOKE_OCSP_GET_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = in[i];
        /* EVP_Decode skips whitespace and '-'; a request is plain base64 or it is not. */
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '/' || c == '='))
            return false;
    }
    cap = len / 4 * 3 + 3;
    buf = malloc(cap);
    ctx = EVP_ENCODE_CTX_new();
    if (buf == NULL || ctx == NULL)
        goto out;
    EVP_DecodeInit(ctx);
    if (EVP_DecodeUpdate(ctx, buf, &a, (const unsigned char *)in, (int)len) < 0)
        goto out;
    if (EVP_DecodeFinal(ctx, buf + a, &b) != 1)
        goto out;
    *n = (size_t)a + (size_t)b;
    *out = buf;
    buf = NULL;
    ok = true;
out:
    EVP_ENCODE_CTX_free(ctx);
    free(buf);
    return ok;
}

void revoke_ocsp_get(void *ctx, const struct http_request *req, struct http_response *resp)
{
    struct mockca *m = ctx;
    const char *b64 = req->nparams > 0 ? req->params[0] : "";
    uint8_t *der = NULL;
    size_t n = 0;

    /* A request that does not decode is still answered in OCSP's own terms
     * (malformedRequest), which is what an OCSP client understands. */
    if (!revoke_b64_std(b64, &der, &n))
        revoke_ocsp_answer(m, (const uint8_t *)"", 0, resp);
    else
        revoke_ocsp_answer(m, der, n, resp);
    free(der);
}

void revoke_ocsp_post(void *ctx, const struct http_request *req, struct http_response *resp)
{
    struct mockca *m = ctx;
    const char *ct = http_request_header(req, "Content-Type");

    if (ct == NULL || strncasecmp(ct, "application/ocsp-request", 24) != 0 ||
        (ct[24] != '\0' && ct[24] != ';' && ct[24] != ' ')) {
        wfe_problemf(resp, ACME_P_MALFORMED, 415,
                     "an OCSP request is sent as application/ocsp-request (RFC 6960 A.1)");
        return;
    }
    revoke_ocsp_answer(m, req->body, req->body_len, resp);
}

void revoke_crl(void *ctx, const struct http_request *req, struct http_response *resp)
{
    struct mockca *m = ctx;
    uint8_t *der = NULL;
    size_t n = 0;

    (void)req;
    if (ca_crl_der(m->ca, &der, &n) != MC_OK) {
        wfe_problemf(resp, ACME_P_SERVER_INTERNAL, 0, "cannot build the CRL");
        return;
    }
    if (http_response_body(resp, 200, "application/pkix-crl", der, n) != MC_OK)
        wfe_problemf(resp, ACME_P_SERVER_INTERNAL, 0, "out of memory");
    free(der);
}

void revoke_issuer(void *ctx, const struct http_request *req, struct http_response *resp)
{
    struct mockca *m = ctx;
    X509 *issuer = NULL;
    unsigned char *der = NULL;
    int n;

    (void)req;
    if (revoke_issuer_cert(m, &issuer) != MC_OK) {
        wfe_problemf(resp, ACME_P_SERVER_INTERNAL, 0, "cannot read the issuer");
        return;
    }
    n = i2d_X509(issuer, &der);
    if (n <= 0)
        wfe_problemf(resp, ACME_P_SERVER_INTERNAL, 0, "cannot encode the issuer");
    else if (http_response_body(resp, 200, "application/pkix-cert", der, (size_t)n) != MC_OK)
        wfe_problemf(resp, ACME_P_SERVER_INTERNAL, 0, "out of memory");
    OPENSSL_free(der);
    X509_free(issuer);
}
