/* ari.c: the renewalInfo resource (RFC 9773 section 4.2) and per-certificate windows. */
#include "mockca/acme/ari.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/x509.h>

#include "common/ari.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/pem.h"
#include "common/x509.h"
#include "mockca/acme/problem.h"
#include "mockca/acme/wfe.h"
#include "mockca/ca.h"
#include "mockca/internal.h"
#include "mockca/store.h"

#define ARI_DAY_S 86400
#define ARI_IMMEDIATE_START_S 3600 /* "renew now": [now - 1 h, now - 30 min], as Pebble */
#define ARI_IMMEDIATE_END_S 1800

/* Whether aki is the keyIdentifier of our issuing intermediate: an identifier naming
 * another issuer cannot be one of our certificates, whatever its serial. */
static enum mc_err ari_our_aki(struct mockca *m, const uint8_t *aki, size_t aki_len, bool *ours)
{
    char *pem = NULL;
    X509 *issuer = NULL;
    uint8_t *ski = NULL;
    size_t ski_len = 0;
    enum mc_err e;

    *ours = false;
    e = ca_intermediate_pem(m->ca, 0, 0, &pem);
    if (e == MC_OK)
        e = pem_read_cert(pem, strlen(pem), &issuer);
    if (e == MC_OK)
        e = x509_ski(issuer, &ski, &ski_len);
    if (e == MC_OK)
        *ours = ski_len == aki_len && memcmp(ski, aki, aki_len) == 0;
    free(ski);
    X509_free(issuer);
    free(pem);
    return e;
}

/* The default window for a certificate valid [nb, na] (Unix seconds): Pebble's
 * RenewalInfoSimple, with the half-width capped at a sixth of the validity so that a
 * short-lived certificate's window stays inside its second half. */
static void ari_default_window(int64_t nb, int64_t na, int64_t *start, int64_t *end)
{
    int64_t validity = na + 1 - nb, ideal, half;

    if (validity < 6)
        validity = 6;
    ideal = na - validity / 3;
    half = validity / 6 < ARI_DAY_S ? validity / 6 : ARI_DAY_S;
    *start = ideal - half;
    *end = ideal + half < na ? ideal + half : na;
}

static enum mc_err ari_add_time(cJSON *obj, const char *name, int64_t t)
{
    char buf[64];

    if (clock_format_rfc3339(t * 1000, buf, sizeof(buf)) == NULL)
        return MC_ERR_INVALID;
    return cJSON_AddStringToObject(obj, name, buf) != NULL ? MC_OK : MC_ERR_NOMEM;
}

void ari_renewal_info(void *ctx, const struct http_request *req, struct http_response *resp)
{
    struct mockca *m = ctx;
    const char *id = req->nparams > 0 ? req->params[0] : "";
    uint8_t *aki = NULL, *serial = NULL;
    size_t aki_len = 0, serial_len = 0;
    char *hex = NULL, retry[32];
    struct cert_snap c;
    struct cert_ari w;
    X509 *leaf = NULL;
    cJSON *j = NULL, *win = NULL;
    enum ca_status status = CA_STATUS_UNKNOWN;
    int64_t nb = 0, na = 0, now, start, end;
    bool ours = false;

    memset(&c, 0, sizeof(c));
    memset(&w, 0, sizeof(w));
    if (ari_parse_id(id, &aki, &aki_len, &serial, &serial_len) != MC_OK) {
        wfe_problemf(resp, ACME_P_MALFORMED, 0,
                     "not an ARI certificate identifier (RFC 9773 section 4.1)");
        goto out;
    }
    if (ari_our_aki(m, aki, aki_len, &ours) != MC_OK ||
        ari_serial_hex(serial, serial_len, &hex) != MC_OK) {
        wfe_problemf(resp, ACME_P_SERVER_INTERNAL, 0, "cannot read the identifier");
        goto out;
    }
    if (!ours || store_cert_get(m->store, hex, &c) != MC_OK ||
        store_cert_ari(m->store, hex, &w) != MC_OK) {
        wfe_problemf(resp, ACME_P_MALFORMED, 404, "no certificate with that identifier");
        goto out;
    }
    if (pem_read_cert(c.leaf_pem, strlen(c.leaf_pem), &leaf) != MC_OK ||
        x509_validity(leaf, &nb, &na) != MC_OK ||
        ca_status(m->ca, hex, &status, NULL, NULL) != MC_OK) {
        wfe_problemf(resp, ACME_P_SERVER_INTERNAL, 0, "cannot read the certificate");
        goto out;
    }
    now = clock_now(m->clock);
    if (w.window_set) {
        start = w.start;
        end = w.end;
    } else if (status == CA_STATUS_REVOKED || na < now) {
        /* Section 4.2: a window in the past tells the client to renew at once. */
        start = now - ARI_IMMEDIATE_START_S;
        end = now - ARI_IMMEDIATE_END_S;
    } else {
        ari_default_window(nb, na, &start, &end);
    }
    j = cJSON_CreateObject();
    win = cJSON_AddObjectToObject(j, "suggestedWindow");
    if (j == NULL || win == NULL || ari_add_time(win, "start", start) != MC_OK ||
        ari_add_time(win, "end", end) != MC_OK ||
        (w.explanation != NULL &&
         cJSON_AddStringToObject(j, "explanationURL", w.explanation) == NULL)) {
        wfe_problemf(resp, ACME_P_SERVER_INTERNAL, 0, "cannot render the renewal information");
        goto out;
    }
    /* Section 4.3: Retry-After says when to poll again. */
    snprintf(retry, sizeof(retry), "%d", ARI_RETRY_AFTER_S);
    if (http_response_header(resp, "Retry-After", retry) != MC_OK)
        log_msg(LOGL_WARN, "acme.ari", "err=cannot_add_retry_after");
    wfe_json(resp, 200, j);
out:
    cJSON_Delete(j);
    X509_free(leaf);
    cert_ari_clear(&w);
    cert_snap_clear(&c);
    free(hex);
    free(aki);
    free(serial);
}

enum mc_err ari_set_window(struct mockca *m, const char *serial_hex, int64_t start, int64_t end,
                           const char *explanation)
{
    if (m == NULL || serial_hex == NULL)
        return MC_ERR_INVALID;
    return store_cert_set_window(m->store, serial_hex, start, end, explanation);
}
