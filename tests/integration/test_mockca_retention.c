/* Integration tests of what mockca keeps per certificate and when it lets go (issue 3:
 * memory stops growing once finished objects pass their retention), all through the ACME
 * and management APIs of an in-process mockca: GET /cert-status-by-serial/HEX, POST /clock,
 * POST /sweep (whose answer counts what the store and the CA's registry still hold).
 *
 *   - a certificate's status outlives the store's copy of it while it is unexpired (the
 *     store drops finished orders and leaves after their retention; OCSP/CRL still answer);
 *   - an hour after notAfter, a sweep forgets it: status 404, the registry counts none;
 *   - a revoked certificate is listed until then and forgotten the same way;
 *   - serials of a CA that holds nothing per good certificate still read back exactly:
 *     a serial we did not issue, or one altered by a bit, is unknown. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "common/b64url.h"
#include "common/pem.h"
#include "common/x509.h"
#include "mockca/acme/render.h"
#include "mockca/config.h"
#include "mockca/mockca.h"
#include "acme_client.h"

#define HOUR_MS (3600LL * 1000)

static int64_t g_validity_s; /* the default profile's validity for the next ac_start */

static void adjust(struct mockca_config *cfg)
{
    if (g_validity_s > 0)
        cfg->profiles[0].validity_s = g_validity_s;
}

static void teardown(void)
{
    ac_stop();
    g_validity_s = 0;
}

/* method path on the management listener (verified against mockca's TLS root; no ACME
 * nonce checks, which http() makes); the answer in *out, freed with resp_free. */
static void mgmt(const char *method, const char *path, const char *body, struct resp *out)
{
    CURL *c = curl_easy_init();
    char url[256];
    struct curl_blob blob;
    CURLcode rc;

    ck_assert_ptr_nonnull(c);
    memset(out, 0, sizeof(*out));
    snprintf(url, sizeof(url), "%s%s", mockca_mgmt_url(g_m), path);
    blob.data = (void *)mockca_tls_root_pem(g_m);
    blob.len = strlen(mockca_tls_root_pem(g_m));
    blob.flags = CURL_BLOB_COPY;
    ck_assert_int_eq(curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &blob), CURLE_OK);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &out->body);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (body != NULL)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    rc = curl_easy_perform(c);
    ck_assert_msg(rc == CURLE_OK, "%s %s: %s", method, url, curl_easy_strerror(rc));
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
    curl_easy_cleanup(c);
    if (out->body == NULL) {
        out->body = strdup("");
        ck_assert_ptr_nonnull(out->body);
    }
}

static void advance(long long ms)
{
    struct resp r;
    char body[64];

    snprintf(body, sizeof(body), "{\"advance_ms\": %lld}", ms);
    mgmt("POST", "/clock", body, &r);
    ck_assert_msg(r.status == 200, "/clock: %ld %s", r.status, r.body);
    resp_free(&r);
}

/* POST /sweep; the answer's number field name. */
static double sweep(const char *name)
{
    struct resp r;
    cJSON *j;
    const cJSON *v;
    double d;

    mgmt("POST", "/sweep", "", &r);
    ck_assert_msg(r.status == 200, "/sweep: %ld %s", r.status, r.body);
    j = body_json(&r);
    v = cJSON_GetObjectItemCaseSensitive(j, name);
    ck_assert_msg(cJSON_IsNumber(v), "no %s in %s", name, r.body);
    d = v->valuedouble;
    cJSON_Delete(j);
    resp_free(&r);
    return d;
}

/* GET /cert-status-by-serial/serial: the HTTP status; *st (when 200) the "Status" field and
 * *has_pem whether "Certificate" is non-empty. */
static long cert_status(const char *serial, char *st, size_t stn, bool *has_pem)
{
    struct resp r;
    char path[160];
    long code;

    snprintf(path, sizeof(path), "/cert-status-by-serial/%s", serial);
    mgmt("GET", path, NULL, &r);
    code = r.status;
    if (code == 200) {
        cJSON *j = body_json(&r);

        snprintf(st, stn, "%s", jstr(j, "Status"));
        if (has_pem != NULL)
            *has_pem = jstr(j, "Certificate")[0] != '\0';
        cJSON_Delete(j);
    }
    resp_free(&r);
    return code;
}

/* Issues one certificate for name over ACME; its serial (new string), and its DER in
 * base64url when der_b64 is not NULL. */
static char *issue_one(EVP_PKEY *k, const char *kid, const char *name, char **der_b64)
{
    const char *names[] = {name};
    cJSON *o = issue(k, kid, names, 1, "http-01");
    struct resp r;
    X509 *leaf = NULL;
    char *serial = NULL;

    post_url(jstr(o, "certificate"), k, kid, NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_int_eq(pem_read_cert(r.body, strlen(r.body), &leaf), MC_OK);
    ck_assert_int_eq(x509_serial_hex(leaf, &serial), MC_OK);
    if (der_b64 != NULL) {
        unsigned char *der = NULL;
        int n = i2d_X509(leaf, &der);

        ck_assert_int_gt(n, 0);
        ck_assert_int_eq(b64url_encode(der, (size_t)n, der_b64), MC_OK);
        OPENSSL_free(der);
    }
    X509_free(leaf);
    resp_free(&r);
    cJSON_Delete(o);
    return serial;
}

/* A good certificate's status is answered until an hour after notAfter although the store
 * dropped the order and the leaf after 24 h; then a sweep forgets it. */
START_TEST(test_status_dropped_after_expiry)
{
    EVP_PKEY *k = newkey();
    char *kid, *s1, *s2, st[32];
    bool pem = false;

    g_validity_s = 3LL * 24 * 3600; /* three days: past the store's 24 h retention */
    ac_start(adjust, true);
    kid = account(k);
    s1 = issue_one(k, kid, "keep1.example.com", NULL);
    s2 = issue_one(k, kid, "keep2.example.com", NULL);
    ck_assert_str_ne(s1, s2);

    ck_assert_int_eq(cert_status(s1, st, sizeof(st), &pem), 200);
    ck_assert_str_eq(st, "Valid");
    ck_assert(pem);
    ck_assert_int_eq((long)sweep("registry"), 2);

    /* Two days on: the store has let go of both leaves; the CA still answers. */
    advance(48 * HOUR_MS);
    ck_assert_int_eq((long)sweep("certs"), 0);
    ck_assert_int_eq((long)sweep("registry"), 2);
    ck_assert_int_eq(cert_status(s2, st, sizeof(st), &pem), 200);
    ck_assert_str_eq(st, "Valid");
    ck_assert(!pem);

    /* Past notAfter, within the hour's grace: expired, still known. */
    advance(24 * HOUR_MS + 30 * 60 * 1000);
    ck_assert_int_eq((long)sweep("pruned"), 0);
    ck_assert_int_eq(cert_status(s1, st, sizeof(st), &pem), 200);
    ck_assert_str_eq(st, "Expired");

    /* An hour after notAfter: the sweep forgets both. */
    advance(HOUR_MS);
    ck_assert_int_eq((long)sweep("pruned"), 2);
    ck_assert_int_eq((long)sweep("registry"), 0);
    ck_assert_int_eq(cert_status(s1, st, sizeof(st), NULL), 404);
    ck_assert_int_eq(cert_status(s2, st, sizeof(st), NULL), 404);

    free(s1);
    free(s2);
    free(kid);
    EVP_PKEY_free(k);
}
END_TEST

/* A revoked certificate stays revoked (and on the CRL, counted by the registry) until an
 * hour after its notAfter, then is forgotten like a good one. */
START_TEST(test_revoked_dropped_after_expiry)
{
    EVP_PKEY *k = newkey();
    char *kid, *serial, *der = NULL, st[32];
    cJSON *p = cJSON_CreateObject();
    char *payload;
    struct resp r;
    bool pem = false;

    g_validity_s = 2 * 3600;
    ac_start(adjust, true);
    kid = account(k);
    serial = issue_one(k, kid, "gone.example.com", &der);
    cJSON_AddStringToObject(p, "certificate", der);
    payload = cJSON_PrintUnformatted(p);
    post(ACME_PATH_REVOKE, k, kid, payload, &r);
    ck_assert_msg(r.status == 200, "revokeCert: %ld %s", r.status, r.body);
    resp_free(&r);

    ck_assert_int_eq(cert_status(serial, st, sizeof(st), &pem), 200);
    ck_assert_str_eq(st, "Revoked");
    advance(2 * HOUR_MS + 30 * 60 * 1000);
    ck_assert_int_eq((long)sweep("registry"), 1);
    ck_assert_int_eq(cert_status(serial, st, sizeof(st), &pem), 200);
    ck_assert_str_eq(st, "Revoked");

    advance(HOUR_MS);
    ck_assert_int_eq((long)sweep("registry"), 0);
    ck_assert_int_eq(cert_status(serial, st, sizeof(st), NULL), 404);
    /* Revoking it again is refused: the CA no longer knows it. */
    post(ACME_PATH_REVOKE, k, kid, payload, &r);
    ck_assert_int_ne(r.status, 200);
    resp_free(&r);

    free(payload);
    cJSON_Delete(p);
    free(der);
    free(serial);
    free(kid);
    EVP_PKEY_free(k);
}
END_TEST

/* The status is read back from the serial itself: a serial with one bit changed, or a
 * 16-byte serial we never issued, is unknown, never good. */
START_TEST(test_unissued_serials_unknown)
{
    EVP_PKEY *k = newkey();
    char *kid, *serial, st[32];
    static const char hexd[] = "0123456789abcdef";
    bool pem = false;

    ac_start(adjust, true);
    kid = account(k);
    serial = issue_one(k, kid, "real.example.com", NULL);
    ck_assert_int_eq(cert_status(serial, st, sizeof(st), &pem), 200);
    for (size_t i = 0; serial[i] != '\0'; i++) {
        char saved = serial[i];
        const char *at = strchr(hexd, saved);

        ck_assert_ptr_nonnull(at);
        serial[i] = hexd[(size_t)(at - hexd) ^ 1]; /* flip the digit's lowest bit */
        ck_assert_msg(cert_status(serial, st, sizeof(st), NULL) == 404, "%s", serial);
        serial[i] = saved;
    }
    ck_assert_int_eq(cert_status("4000000000000000000000000000000a", st, sizeof(st), NULL), 404);
    ck_assert_int_eq(cert_status("7fffffffffffffffffffffffffffffff", st, sizeof(st), NULL), 404);
    free(serial);
    free(kid);
    EVP_PKEY_free(k);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("mockca_retention");
    TCase *tc = tcase_create("retention");

    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_status_dropped_after_expiry);
    tcase_add_test(tc, test_revoked_dropped_after_expiry);
    tcase_add_test(tc, test_unissued_serials_unknown);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
