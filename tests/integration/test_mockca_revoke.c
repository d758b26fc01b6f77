/* Integration tests of mockca's revocation and status slice, in-process over HTTPS with
 * libcurl: revokeCert (RFC 8555 section 7.6) by the issuing account, by the certificate
 * key and by another account holding authorizations; the OCSP responder (RFC 6960, POST
 * and GET) and the CRL (RFC 5280), each verified against the issuer served at
 * /issuer-cert; ACME Renewal Information (RFC 9773) with per-certificate windows; and
 * "replaces" in newOrder. Certificates are issued for real (http-01 against a responder
 * this test runs). The ACME steps are those of acme_client.c. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "common/b64url.h"
#include "common/csr.h"
#include "common/http.h"
#include "common/jose.h"
#include "common/keys.h"
#include "common/pem.h"
#include "common/x509.h"
#include "dnsmock/dnsmock.h"
#include "dnsmock/zone.h"
#include "mockca/acme/render.h"
#include "mockca/internal.h" /* m->clock and m->store, to run retention */
#include "mockca/mockca.h"
#include "acme_client.h"
#include "mockca/acme/ari.h"
#include "common/ari.h"
#include <openssl/ocsp.h>
#include <openssl/pem.h>

static unsigned g_alt_roots;
static bool g_blocklist;

static void start_with(void (*adjust)(struct mockca_config *))
{
    ac_start(adjust, false);
}

static void adjust_default(struct mockca_config *cfg)
{
    cfg->alternate_roots = g_alt_roots;
    if (g_blocklist) {
        cfg->domain_blocklist[0] = strdup("blocked.example");
        cfg->n_domain_blocklist = 1;
    }
}

static void setup(void)
{
    g_alt_roots = 0;
    g_blocklist = true;
    start_with(adjust_default);
}

static void teardown(void)
{
    ac_stop();
}

/* ---- binary HTTP (OCSP, CRL, issuer) ------------------------------------------------------ */

struct bin {
    uint8_t *p;
    size_t n;
};

static size_t collect_bin(char *p, size_t size, size_t n, void *ud)
{
    struct bin *b = ud;
    size_t add = size * n;
    uint8_t *nb = realloc(b->p, b->n + add + 1);
    ck_assert_ptr_nonnull(nb);
    memcpy(nb + b->n, p, add);
    b->p = nb;
    b->n += add;
    return add;
}

/* GET (body NULL) or POST body with content type ct; the status, body in *out and the
 * Content-Type in *ctype (new string). */
static long http_bin(const char *url, const char *ct, const uint8_t *body, size_t len,
                     struct bin *out, char **ctype)
{
    struct curl_slist *sl = NULL;
    struct curl_blob blob = {.data = (void *)mockca_tls_root_pem(g_m),
                             .len = strlen(mockca_tls_root_pem(g_m)),
                             .flags = CURL_BLOB_COPY};
    const char *got = NULL;
    long status = 0;
    char hdr[128];

    memset(out, 0, sizeof(*out));
    curl_easy_reset(g_curl);
    ck_assert_int_eq(curl_easy_setopt(g_curl, CURLOPT_CAINFO_BLOB, &blob), CURLE_OK);
    curl_easy_setopt(g_curl, CURLOPT_URL, url);
    curl_easy_setopt(g_curl, CURLOPT_TIMEOUT, 20L);
    curl_easy_setopt(g_curl, CURLOPT_WRITEFUNCTION, collect_bin);
    curl_easy_setopt(g_curl, CURLOPT_WRITEDATA, out);
    if (body != NULL) {
        curl_easy_setopt(g_curl, CURLOPT_POSTFIELDS, (const char *)body);
        curl_easy_setopt(g_curl, CURLOPT_POSTFIELDSIZE, (long)len);
        snprintf(hdr, sizeof(hdr), "Content-Type: %s", ct);
        sl = curl_slist_append(sl, hdr);
        sl = curl_slist_append(sl, "Expect:");
        curl_easy_setopt(g_curl, CURLOPT_HTTPHEADER, sl);
    }
    CURLcode rc = curl_easy_perform(g_curl);
    curl_slist_free_all(sl);
    ck_assert_msg(rc == CURLE_OK, "%s: %s", url, curl_easy_strerror(rc));
    curl_easy_getinfo(g_curl, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(g_curl, CURLINFO_CONTENT_TYPE, &got);
    *ctype = strdup(got != NULL ? got : "");
    return status;
}

/* ---- the certificate under test ---------------------------------------------------------- */

/* The leaf of the valid order o, and its DER in base64url (new string). */
static X509 *leaf_of(EVP_PKEY *key, const char *kid, const cJSON *o, char **der_b64)
{
    struct resp r;
    X509 *leaf = NULL;
    unsigned char *der = NULL;
    int n;

    post_url(jstr(o, "certificate"), key, kid, NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_int_eq(pem_read_cert(r.body, strlen(r.body), &leaf), MC_OK);
    resp_free(&r);
    n = i2d_X509(leaf, &der);
    ck_assert_int_gt(n, 0);
    ck_assert_int_eq(b64url_encode(der, (size_t)n, der_b64), MC_OK);
    OPENSSL_free(der);
    return leaf;
}

static X509 *issuer_cert(void)
{
    struct bin b;
    char *ct = NULL, *u = url_of(MOCKCA_PATH_ISSUER);
    const unsigned char *p;
    X509 *x;

    ck_assert_int_eq(http_bin(u, NULL, NULL, 0, &b, &ct), 200);
    ck_assert_str_eq(ct, "application/pkix-cert");
    p = b.p;
    x = d2i_X509(NULL, &p, (long)b.n);
    ck_assert_ptr_nonnull(x);
    free(b.p);
    free(ct);
    free(u);
    return x;
}

/* revokeCert for der_b64 with reason (a JSON value text; NULL: absent), signed by key with
 * kid (NULL: its jwk). */
static void do_revoke(EVP_PKEY *key, const char *kid, const char *der_b64, const char *reason,
                      struct resp *r)
{
    cJSON *p = cJSON_CreateObject();
    char *s;

    cJSON_AddStringToObject(p, "certificate", der_b64);
    if (reason != NULL)
        cJSON_AddItemToObject(p, "reason", cJSON_Parse(reason));
    s = cJSON_PrintUnformatted(p);
    post(ACME_PATH_REVOKE, key, kid, s, r);
    free(s);
    cJSON_Delete(p);
}

/* The OCSP status of leaf, asked by POST or GET, the response verified under mockca's root
 * with the issuer as signer; *reason set when revoked. */
static int ocsp_status(X509 *leaf, X509 *issuer, bool get, int *reason)
{
    OCSP_REQUEST *req = OCSP_REQUEST_new();
    OCSP_CERTID *id = OCSP_cert_to_id(NULL, leaf, issuer), *id2 = OCSP_CERTID_dup(id);
    OCSP_RESPONSE *resp = NULL;
    OCSP_BASICRESP *bs = NULL;
    STACK_OF(X509) *certs = sk_X509_new_null();
    X509_STORE *st = X509_STORE_new();
    X509 *root = NULL;
    char *root_pem = NULL, *ct = NULL, *url;
    unsigned char *der = NULL;
    const unsigned char *p;
    struct bin b;
    int n, status = -1;
    ASN1_GENERALIZEDTIME *rev = NULL, *thisupd = NULL, *nextupd = NULL;

    ck_assert_ptr_nonnull(OCSP_request_add0_id(req, id));
    n = i2d_OCSP_REQUEST(req, &der);
    ck_assert_int_gt(n, 0);
    if (get) {
        /* RFC 6960 A.1: standard base64 of the DER, URL-encoded. */
        unsigned char b64[2048];
        int bl = EVP_EncodeBlock(b64, der, n);
        char *esc = curl_easy_escape(g_curl, (const char *)b64, bl);
        char path[2600];
        ck_assert_ptr_nonnull(esc);
        snprintf(path, sizeof(path), "%s/%s", MOCKCA_PATH_OCSP, esc);
        curl_free(esc);
        url = url_of(path);
        ck_assert_int_eq(http_bin(url, NULL, NULL, 0, &b, &ct), 200);
    } else {
        url = url_of(MOCKCA_PATH_OCSP);
        ck_assert_int_eq(http_bin(url, "application/ocsp-request", der, (size_t)n, &b, &ct), 200);
    }
    ck_assert_str_eq(ct, "application/ocsp-response");
    p = b.p;
    resp = d2i_OCSP_RESPONSE(NULL, &p, (long)b.n);
    ck_assert_ptr_nonnull(resp);
    ck_assert_int_eq(OCSP_response_status(resp), OCSP_RESPONSE_STATUS_SUCCESSFUL);
    bs = OCSP_response_get1_basic(resp);
    ck_assert_ptr_nonnull(bs);
    ck_assert_int_eq(mockca_root_pem(g_m, 0, &root_pem), MC_OK);
    ck_assert_int_eq(pem_read_cert(root_pem, strlen(root_pem), &root), MC_OK);
    ck_assert_int_eq(X509_STORE_add_cert(st, root), 1);
    ck_assert_int_eq(sk_X509_push(certs, issuer), 1);
    ck_assert_msg(OCSP_basic_verify(bs, certs, st, 0) == 1, "OCSP response does not verify");
    ck_assert_int_eq(OCSP_resp_find_status(bs, id2, &status, reason, &rev, &thisupd, &nextupd), 1);
    ck_assert_int_eq(OCSP_check_validity(thisupd, nextupd, 300, -1), 1);
    OCSP_CERTID_free(id2);
    OPENSSL_free(der);
    free(b.p);
    free(ct);
    free(url);
    free(root_pem);
    X509_free(root);
    X509_STORE_free(st);
    sk_X509_free(certs);
    OCSP_BASICRESP_free(bs);
    OCSP_RESPONSE_free(resp);
    OCSP_REQUEST_free(req);
    return status;
}

/* Whether the CRL (verified under issuer) lists leaf; *reason its reason code (-1 when
 * the entry has none). */
static bool crl_lists(X509 *leaf, X509 *issuer, int *reason)
{
    struct bin b;
    char *ct = NULL, *u = url_of(MOCKCA_PATH_CRL);
    const unsigned char *p;
    X509_CRL *crl;
    X509_REVOKED *rev = NULL;
    bool found;

    ck_assert_int_eq(http_bin(u, NULL, NULL, 0, &b, &ct), 200);
    ck_assert_str_eq(ct, "application/pkix-crl");
    p = b.p;
    crl = d2i_X509_CRL(NULL, &p, (long)b.n);
    ck_assert_ptr_nonnull(crl);
    ck_assert_int_eq(X509_CRL_verify(crl, X509_get0_pubkey(issuer)), 1);
    ck_assert_int_eq(X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(issuer)), 0);
    found = X509_CRL_get0_by_serial(crl, &rev, X509_get0_serialNumber(leaf)) == 1;
    *reason = -1;
    if (found) {
        ASN1_ENUMERATED *e = X509_REVOKED_get_ext_d2i(rev, NID_crl_reason, NULL, NULL);
        if (e != NULL)
            *reason = (int)ASN1_ENUMERATED_get(e);
        ASN1_ENUMERATED_free(e);
    }
    X509_CRL_free(crl);
    free(b.p);
    free(ct);
    free(u);
    return found;
}

/* ---- ARI ----------------------------------------------------------------------------------- */

static int64_t parse_time(const char *s)
{
    struct tm tm;
    int y, mo, d, h, mi, sec;

    ck_assert_int_eq(sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d", &y, &mo, &d, &h, &mi, &sec), 6);
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    return (int64_t)timegm(&tm);
}

/* GET renewalInfo for id; on 200 the window, and the explanationURL (new or NULL). */
static long renewal_info(const char *id, int64_t *start, int64_t *end, char **expl, struct resp *r)
{
    char path[512], *u;
    long st;

    snprintf(path, sizeof(path), "%s%s", ACME_PATH_RENEWAL_INFO, id);
    u = url_of(path);
    http("GET", u, NULL, r);
    free(u);
    st = r->status;
    if (st == 200) {
        cJSON *j = body_json(r);
        const cJSON *w = cJSON_GetObjectItemCaseSensitive(j, "suggestedWindow");
        const char *e = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "explanationURL"));
        char *ra = header(r, "Retry-After");
        ck_assert_ptr_nonnull(w);
        *start = parse_time(jstr(w, "start"));
        *end = parse_time(jstr(w, "end"));
        ck_assert_msg(*start < *end, "window %s", r->body);
        if (expl != NULL)
            *expl = e != NULL ? strdup(e) : NULL;
        ck_assert_ptr_nonnull(ra);
        char *ra_end = NULL;
        long secs = strtol(ra, &ra_end, 10);
        ck_assert_msg(ra_end != ra && *ra_end == '\0' && secs > 0, "Retry-After: %s", ra);
        free(ra);
        cJSON_Delete(j);
    }
    return st;
}

/* ---- tests --------------------------------------------------------------------------------- */

static const char *const g_names[] = {"rev.example.com", "rev2.example.com"};

START_TEST(test_revoke_by_account)
{
    EVP_PKEY *k = newkey();
    char *kid = account(k), *b64 = NULL;
    cJSON *o = issue(k, kid, g_names, 2, "http-01");
    X509 *leaf = leaf_of(k, kid, o, &b64), *issuer = issuer_cert();
    int reason = -2;
    struct resp r;

    /* Before: good in OCSP (both forms), absent from the CRL. */
    ck_assert_int_eq(ocsp_status(leaf, issuer, false, &reason), V_OCSP_CERTSTATUS_GOOD);
    ck_assert_int_eq(ocsp_status(leaf, issuer, true, &reason), V_OCSP_CERTSTATUS_GOOD);
    ck_assert(!crl_lists(leaf, issuer, &reason));

    do_revoke(k, kid, b64, "1", &r);
    ck_assert_msg(r.status == 200, "revoke: %ld %s", r.status, r.body);
    ck_assert_str_eq(r.body, "");
    resp_free(&r);

    reason = -2;
    ck_assert_int_eq(ocsp_status(leaf, issuer, false, &reason), V_OCSP_CERTSTATUS_REVOKED);
    ck_assert_int_eq(reason, OCSP_REVOKED_STATUS_KEYCOMPROMISE);
    reason = -2;
    ck_assert_int_eq(ocsp_status(leaf, issuer, true, &reason), V_OCSP_CERTSTATUS_REVOKED);
    ck_assert_int_eq(reason, OCSP_REVOKED_STATUS_KEYCOMPROMISE);
    ck_assert(crl_lists(leaf, issuer, &reason));
    ck_assert_int_eq(reason, 1);

    do_revoke(k, kid, b64, NULL, &r);
    assert_problem(&r, 400, "alreadyRevoked");
    resp_free(&r);

    X509_free(leaf);
    X509_free(issuer);
    free(b64);
    cJSON_Delete(o);
    free(kid);
    EVP_PKEY_free(k);
}
END_TEST

START_TEST(test_revoke_by_cert_key)
{
    EVP_PKEY *k = newkey(), *ck = newkey(), *other = newkey();
    char *kid = account(k), *b64 = NULL;
    cJSON *o = issue_ex(k, kid, g_names, 1, "http-01", ck, NULL);
    X509 *leaf = leaf_of(k, kid, o, &b64), *issuer = issuer_cert();
    int reason = -2;
    struct resp r;

    /* A jwk that is not the certificate's key. */
    do_revoke(other, NULL, b64, NULL, &r);
    assert_problem(&r, 403, "unauthorized");
    resp_free(&r);
    /* The certificate's key, no account behind it; reason absent is unspecified. */
    do_revoke(ck, NULL, b64, NULL, &r);
    ck_assert_msg(r.status == 200, "revoke: %ld %s", r.status, r.body);
    resp_free(&r);
    ck_assert_int_eq(ocsp_status(leaf, issuer, false, &reason), V_OCSP_CERTSTATUS_REVOKED);
    ck_assert(crl_lists(leaf, issuer, &reason));
    ck_assert_int_eq(reason, -1); /* RFC 5280 5.3.1: no reasonCode for unspecified */

    X509_free(leaf);
    X509_free(issuer);
    free(b64);
    cJSON_Delete(o);
    free(kid);
    EVP_PKEY_free(k);
    EVP_PKEY_free(ck);
    EVP_PKEY_free(other);
}
END_TEST

START_TEST(test_revoke_other_account)
{
    EVP_PKEY *k = newkey(), *k2 = newkey();
    char *kid = account(k), *kid2 = account(k2), *b64 = NULL;
    cJSON *o = issue(k, kid, g_names, 2, "http-01"), *o2;
    X509 *leaf = leaf_of(k, kid, o, &b64), *issuer = issuer_cert();
    int reason = -2;
    struct resp r;

    /* No authorizations yet. */
    do_revoke(k2, kid2, b64, "4", &r);
    assert_problem(&r, 403, "unauthorized");
    resp_free(&r);
    /* Valid authorizations for only one of the two names are not enough. */
    o2 = issue(k2, kid2, g_names, 1, "http-01");
    cJSON_Delete(o2);
    do_revoke(k2, kid2, b64, "4", &r);
    assert_problem(&r, 403, "unauthorized");
    resp_free(&r);
    /* For both (RFC 8555 section 7.6, the third way). */
    o2 = issue(k2, kid2, g_names + 1, 1, "http-01");
    cJSON_Delete(o2);
    do_revoke(k2, kid2, b64, "4", &r);
    ck_assert_msg(r.status == 200, "revoke: %ld %s", r.status, r.body);
    resp_free(&r);
    ck_assert_int_eq(ocsp_status(leaf, issuer, true, &reason), V_OCSP_CERTSTATUS_REVOKED);
    ck_assert_int_eq(reason, OCSP_REVOKED_STATUS_SUPERSEDED);

    X509_free(leaf);
    X509_free(issuer);
    free(b64);
    cJSON_Delete(o);
    free(kid);
    free(kid2);
    EVP_PKEY_free(k);
    EVP_PKEY_free(k2);
}
END_TEST

START_TEST(test_revoke_refusals)
{
    static const char *const bad_reasons[] = {"7", "11", "-1", "1.5", "\"1\"", "null"};
    EVP_PKEY *k = newkey();
    char *kid = account(k), *b64 = NULL, *junk = NULL, *ib64 = NULL, *ct = NULL, *u;
    cJSON *o = issue(k, kid, g_names, 1, "http-01");
    X509 *leaf = leaf_of(k, kid, o, &b64), *issuer = issuer_cert();
    unsigned char *der = NULL;
    struct resp r;
    struct bin b;
    int n;

    for (size_t i = 0; i < sizeof(bad_reasons) / sizeof(bad_reasons[0]); i++) {
        do_revoke(k, kid, b64, bad_reasons[i], &r);
        assert_problem(&r, 400, "badRevocationReason");
        resp_free(&r);
    }
    /* Not base64url; base64url of bytes that are no certificate. */
    do_revoke(k, kid, "!!!not base64!!!", NULL, &r);
    assert_problem(&r, 400, "malformed");
    resp_free(&r);
    ck_assert_int_eq(b64url_encode((const uint8_t *)"garbage", 7, &junk), MC_OK);
    do_revoke(k, kid, junk, NULL, &r);
    assert_problem(&r, 400, "malformed");
    resp_free(&r);
    /* A real certificate this CA did not issue as a leaf: its own intermediate. */
    n = i2d_X509(issuer, &der);
    ck_assert_int_gt(n, 0);
    ck_assert_int_eq(b64url_encode(der, (size_t)n, &ib64), MC_OK);
    do_revoke(k, kid, ib64, NULL, &r);
    assert_problem(&r, 404, "malformed");
    resp_free(&r);
    /* Nothing above revoked it. */
    do_revoke(k, kid, b64, "0", &r);
    ck_assert_int_eq(r.status, 200);
    resp_free(&r);
    /* OCSP POST needs its media type. */
    u = url_of(MOCKCA_PATH_OCSP);
    ck_assert_int_eq(http_bin(u, "application/octet-stream", (const uint8_t *)"x", 1, &b, &ct),
                     415);
    free(b.p);
    free(ct);
    free(u);

    OPENSSL_free(der);
    free(ib64);
    free(junk);
    X509_free(leaf);
    X509_free(issuer);
    free(b64);
    cJSON_Delete(o);
    free(kid);
    EVP_PKEY_free(k);
}
END_TEST

START_TEST(test_renewal_info)
{
    EVP_PKEY *k = newkey();
    char *kid = account(k), *b64 = NULL, *id = NULL, *serial = NULL, *expl = NULL, *sb64 = NULL,
         *dot, unknown[256];
    cJSON *o = issue(k, kid, g_names, 1, "http-01");
    X509 *leaf = leaf_of(k, kid, o, &b64);
    int64_t nb, na, start, end, ideal, now = (int64_t)time(NULL);
    static const uint8_t other_serial[] = {0x01, 0x02, 0x03};
    struct resp r;

    ck_assert_int_eq(ari_cert_id(leaf, &id), MC_OK);
    ck_assert_int_eq(x509_validity(leaf, &nb, &na), MC_OK);
    ck_assert_int_eq(x509_serial_hex(leaf, &serial), MC_OK);

    /* Fresh: Pebble's window, a day either side of two thirds into the validity. */
    ck_assert_int_eq(renewal_info(id, &start, &end, &expl, &r), 200);
    resp_free(&r);
    ideal = na - (na + 1 - nb) / 3;
    ck_assert_int_eq(start, ideal - 86400);
    ck_assert_int_eq(end, ideal + 86400);
    ck_assert_int_gt(start, nb + (na - nb) / 2);
    ck_assert_int_gt(start, now);
    ck_assert_ptr_null(expl);

    /* Set by the management hook. */
    ck_assert_int_eq(ari_set_window(g_m, serial, now + 100, now + 200, "https://example.com/why"),
                     MC_OK);
    ck_assert_int_eq(renewal_info(id, &start, &end, &expl, &r), 200);
    resp_free(&r);
    ck_assert_int_eq(start, now + 100);
    ck_assert_int_eq(end, now + 200);
    ck_assert_ptr_nonnull(expl);
    ck_assert_str_eq(expl, "https://example.com/why");
    free(expl);
    expl = NULL;
    ck_assert_int_eq(ari_set_window(g_m, serial, now + 200, now + 100, NULL), MC_ERR_INVALID);
    ck_assert_int_eq(ari_set_window(g_m, "abcdef", now, now + 1, NULL), MC_ERR_NOT_FOUND);
    /* Cleared: back to the default. */
    ck_assert_int_eq(ari_set_window(g_m, serial, 0, 0, NULL), MC_OK);

    /* Revoked: renew now, a window in the past. */
    do_revoke(k, kid, b64, NULL, &r);
    ck_assert_int_eq(r.status, 200);
    resp_free(&r);
    ck_assert_int_eq(renewal_info(id, &start, &end, &expl, &r), 200);
    resp_free(&r);
    ck_assert_int_lt(end, (int64_t)time(NULL));
    ck_assert_ptr_null(expl);

    /* Our AKI with a serial we never issued: 404; garbage: 400. */
    ck_assert_int_eq(b64url_encode(other_serial, sizeof(other_serial), &sb64), MC_OK);
    dot = strchr(id, '.');
    ck_assert_ptr_nonnull(dot);
    snprintf(unknown, sizeof(unknown), "%.*s.%s", (int)(dot - id), id, sb64);
    ck_assert_int_eq(renewal_info(unknown, &start, &end, NULL, &r), 404);
    assert_problem(&r, 404, "malformed");
    resp_free(&r);
    ck_assert_int_eq(renewal_info("not-an-ari-id", &start, &end, NULL, &r), 400);
    assert_problem(&r, 400, "malformed");
    resp_free(&r);

    free(sb64);
    free(serial);
    free(id);
    X509_free(leaf);
    free(b64);
    cJSON_Delete(o);
    free(kid);
    EVP_PKEY_free(k);
}
END_TEST

START_TEST(test_replaces)
{
    EVP_PKEY *k = newkey(), *k2 = newkey();
    char *kid = account(k), *kid2 = account(k2), *b64 = NULL, *id = NULL, *id2 = NULL,
         payload[1024];
    cJSON *o = issue(k, kid, g_names, 1, "http-01"),
          *o2 = issue(k2, kid2, g_names + 1, 1, "http-01"), *o3;
    X509 *leaf = leaf_of(k, kid, o, &b64), *leaf2;
    char *b64_2 = NULL;
    struct resp r;

    leaf2 = leaf_of(k2, kid2, o2, &b64_2);
    ck_assert_int_eq(ari_cert_id(leaf, &id), MC_OK);
    ck_assert_int_eq(ari_cert_id(leaf2, &id2), MC_OK);

    /* The account's own certificate: accepted, issued, and "replaces" echoed. */
    o3 = issue_ex(k, kid, g_names, 1, "http-01", NULL, id);
    ck_assert_str_eq(jstr(o3, "status"), "valid");
    cJSON_Delete(o3);
    /* Again: RFC 9773 section 5, already replaced: 409 alreadyReplaced. */
    snprintf(payload, sizeof(payload),
             "{\"identifiers\":[{\"type\":\"dns\",\"value\":\"%s\"}],\"replaces\":\"%s\"}",
             g_names[0], id);
    post(ACME_PATH_NEW_ORDER, k, kid, payload, &r);
    assert_problem(&r, 409, "alreadyReplaced");
    resp_free(&r);
    /* Another account's certificate: unauthorized (RFC 9773 section 5: the same account). */
    snprintf(payload, sizeof(payload),
             "{\"identifiers\":[{\"type\":\"dns\",\"value\":\"%s\"}],\"replaces\":\"%s\"}",
             g_names[1], id2);
    post(ACME_PATH_NEW_ORDER, k, kid, payload, &r);
    assert_problem(&r, 403, "unauthorized");
    resp_free(&r);
    /* Which did not mark it: its owner can still replace it. */
    post(ACME_PATH_NEW_ORDER, k2, kid2, payload, &r);
    ck_assert_msg(r.status == 201, "newOrder: %ld %s", r.status, r.body);
    resp_free(&r);
    /* A well-formed identifier of no certificate of ours. */
    snprintf(payload, sizeof(payload),
             "{\"identifiers\":[{\"type\":\"dns\",\"value\":\"%s\"}],"
             "\"replaces\":\"aYhba4dGQEH_-3hl.AIdlQyE\"}",
             g_names[0]);
    post(ACME_PATH_NEW_ORDER, k, kid, payload, &r);
    assert_problem(&r, 400, "malformed");
    resp_free(&r);

    free(id);
    free(id2);
    X509_free(leaf);
    X509_free(leaf2);
    free(b64);
    free(b64_2);
    cJSON_Delete(o);
    cJSON_Delete(o2);
    free(kid);
    free(kid2);
    EVP_PKEY_free(k);
    EVP_PKEY_free(k2);
}
END_TEST

static Suite *revoke_suite(void)
{
    Suite *s = suite_create("mockca_revoke");
    TCase *tc = tcase_create("revoke");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_revoke_by_account);
    tcase_add_test(tc, test_revoke_by_cert_key);
    tcase_add_test(tc, test_revoke_other_account);
    tcase_add_test(tc, test_revoke_refusals);
    tcase_add_test(tc, test_renewal_info);
    tcase_add_test(tc, test_replaces);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(revoke_suite());
    int failed;

    curl_global_init(CURL_GLOBAL_DEFAULT);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    curl_global_cleanup();
    return failed == 0 ? 0 : 1;
}
