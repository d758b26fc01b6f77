/* test_mockca_cc.c: the CertCentral Services API v2 as mockca serves it, on the ACME
 * listener under /services/v2/ (HTTPS, trusting mockca_tls_root_pem), next to ACME: API
 * keys and roles, a DV order whose dns-txt-token DCV is checked against the embedded
 * dnsmock and whose certificate chains to the issuing root, errors in CertCentral's
 * envelope (not ACME problems) for what the HTTP layer refuses, ACME left as it was, the
 * management API's /cc/ routes, ACME External Account Binding with keys made by
 * POST /services/v2/key/acme-eab, and the administrator key made when none is configured. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <cjson/cJSON.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "acme_client.h"
#include "common/b64url.h"
#include "common/csr.h"
#include "common/jose.h"
#include "common/keys.h"
#include "common/pem.h"
#include "dnsmock/dnsmock.h"
#include "dnsmock/zone.h"
#include "mockca/acme/render.h"
#include "mockca/cc/cc.h"
#include "mockca/internal.h"
#include "mockca/mockca.h"
#include "testutil.h"

#define ADMIN "WIREADMIN0001"
#define USER "WIREUSER0001"
#define BIG_BODY (CC_MAX_BODY + 4096)

static char w_ca_file[512]; /* mockca's TLS root, for tu_http */
static char *w_dir;

/* ---- set-up ----------------------------------------------------------------------------- */

static void w_keys(struct mockca_config *cfg)
{
    cfg->cc.keys[0].key = strdup(ADMIN);
    cfg->cc.keys[0].role = strdup("administrator");
    cfg->cc.keys[0].account_id = 1;
    cfg->cc.keys[1].key = strdup(USER);
    cfg->cc.keys[1].role = strdup("user");
    cfg->cc.keys[1].account_id = 1;
    cfg->cc.n_keys = 2;
    cfg->cc.dcv_timeout_ms = 2000;
}

static void w_eab_keys(struct mockca_config *cfg)
{
    w_keys(cfg);
    cfg->eab_required = true; /* only CertCentral's EAB keys can open an account then */
}

/* Writes mockca's TLS root where tu_http can read it. */
static void w_trust(void)
{
    FILE *f;
    const char *pem = mockca_tls_root_pem(g_m);

    ck_assert_ptr_nonnull(pem);
    w_dir = tu_tmpdir();
    snprintf(w_ca_file, sizeof(w_ca_file), "%s/tls-root.pem", w_dir);
    f = fopen(w_ca_file, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(pem, 1, strlen(pem), f), strlen(pem));
    ck_assert_int_eq(fclose(f), 0);
}

static void w_setup(void)
{
    ac_start(w_keys, true);
    w_trust();
}

static void w_eab_setup(void)
{
    ac_start(w_eab_keys, true);
    w_trust();
}

static void w_setup_nokeys(void)
{
    ac_start(NULL, true);
    w_trust();
}

static void w_teardown(void)
{
    ac_stop();
    unlink(w_ca_file);
    rmdir(w_dir);
    free(w_dir);
    w_dir = NULL;
}

/* ---- helpers ---------------------------------------------------------------------------- */

/* method on mockca_cc_url + path with key (NULL: none) and a JSON body (NULL: none);
 * asserts the exchange completed over verified TLS and returns the status. */
static long w_call(const char *method, const char *path, const char *key, const char *body,
                   struct tu_http *out)
{
    char url[512], hkey[320];
    const char *hdrs[3] = {"Content-Type: application/json", NULL, NULL};

    snprintf(url, sizeof(url), "%s%s", mockca_cc_url(g_m), path);
    if (key != NULL) {
        snprintf(hkey, sizeof(hkey), "X-DC-DEVKEY: %s", key);
        hdrs[1] = hkey;
    }
    ck_assert_int_eq(tu_http(method, url, body, hdrs, w_ca_file, out), 0);
    return out->status;
}

static cJSON *w_json(const struct tu_http *r)
{
    cJSON *j = cJSON_Parse(r->body);

    ck_assert_msg(j != NULL, "not JSON: %s", r->body);
    return j;
}

/* Asserts r is CertCentral's error envelope {"errors":[{"code": code, "message"}]} with
 * status, in application/json, and carries none of ACME's headers. */
static void w_assert_envelope(const struct tu_http *r, long status, const char *code)
{
    cJSON *j, *errs, *e0;
    char *ct = tu_http_header(r, "Content-Type"), *nonce = tu_http_header(r, "Replay-Nonce");
    char *link = tu_http_header(r, "Link");

    ck_assert_msg(r->status == status, "status %ld, want %ld: %s", r->status, status, r->body);
    ck_assert_ptr_nonnull(ct);
    ck_assert_msg(strncmp(ct, "application/json", 16) == 0, "Content-Type %s", ct);
    ck_assert_msg(nonce == NULL, "a CertCentral answer carries Replay-Nonce %s", nonce);
    ck_assert_msg(link == NULL, "a CertCentral answer carries Link %s", link);
    j = w_json(r);
    errs = cJSON_GetObjectItemCaseSensitive(j, "errors");
    ck_assert(cJSON_IsArray(errs));
    e0 = cJSON_GetArrayItem(errs, 0);
    ck_assert_ptr_nonnull(e0);
    ck_assert_str_eq(jstr(e0, "code"), code);
    ck_assert(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(e0, "message")));
    ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(j, "type")); /* not a problem doc */
    cJSON_Delete(j);
    free(ct);
    free(nonce);
    free(link);
}

static char *w_csr(const char *cn)
{
    EVP_PKEY *key = NULL;
    X509_REQ *req = NULL;
    struct ident_list l = {0};
    char *pem = NULL;

    ck_assert_int_eq(key_generate(KEY_EC_P256, &key), MC_OK);
    ck_assert_int_eq(ident_list_add(&l, IDENT_DNS, cn), MC_OK);
    ck_assert_int_eq(csr_build(key, cn, &l, false, &req), MC_OK);
    ck_assert_int_eq(pem_write_csr(req, &pem), MC_OK);
    X509_REQ_free(req);
    EVP_PKEY_free(key);
    ident_list_free(&l);
    return pem;
}

/* A DV order body for cn with dcv_method dns-txt-token; skip sets skip_approval. */
static char *w_dv_body(const char *cn, bool skip)
{
    cJSON *b = cJSON_CreateObject(), *cert = cJSON_AddObjectToObject(b, "certificate");
    char *csr = w_csr(cn), *s;

    cJSON_AddStringToObject(cert, "common_name", cn);
    cJSON_AddStringToObject(cert, "csr", csr);
    cJSON_AddNumberToObject(cJSON_AddObjectToObject(cert, "server_platform"), "id", 2);
    cJSON_AddNumberToObject(b, "validity_years", 1);
    cJSON_AddStringToObject(b, "dcv_method", "dns-txt-token");
    if (skip)
        cJSON_AddTrueToObject(b, "skip_approval");
    s = cJSON_PrintUnformatted(b);
    cJSON_Delete(b);
    free(csr);
    return s;
}

static double w_num(const cJSON *j, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, name);

    ck_assert_msg(cJSON_IsNumber(v), "%s is not a number", name);
    return v->valuedouble;
}

/* Verifies the PEM bundle (leaf first, then intermediates, then the root) against the
 * issuing root of chain 0 only: the bundle's own root is not trusted. Returns the number
 * of certificates in it. */
static int w_verify_bundle(const char *bundle, const char *cn)
{
    BIO *b = BIO_new_mem_buf(bundle, -1);
    STACK_OF(X509) *untrusted = sk_X509_new_null();
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    X509 *x, *leaf = NULL, *root = NULL;
    char *root_pem = NULL, name[256];
    int n = 0, ok;

    ck_assert_ptr_nonnull(b);
    while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
        if (leaf == NULL)
            leaf = x;
        else
            ck_assert(sk_X509_push(untrusted, x) > 0);
        n++;
    }
    ck_assert_ptr_nonnull(leaf);
    ck_assert_int_eq(mockca_root_pem(g_m, 0, &root_pem), MC_OK);
    ck_assert_int_eq(pem_read_cert(root_pem, strlen(root_pem), &root), MC_OK);
    ck_assert_int_eq(X509_STORE_add_cert(store, root), 1);
    ck_assert_int_eq(X509_STORE_CTX_init(ctx, store, leaf, untrusted), 1);
    ok = X509_verify_cert(ctx);
    ck_assert_msg(ok == 1, "chain does not verify: %s",
                  X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
    ck_assert_int_gt(X509_NAME_get_text_by_NID(X509_get_subject_name(leaf), NID_commonName,
                                               name, sizeof(name)),
                     0);
    ck_assert_str_eq(name, cn);
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    X509_free(root);
    X509_free(leaf);
    sk_X509_pop_free(untrusted, X509_free);
    BIO_free(b);
    free(root_pem);
    return n;
}

/* ---- keys and roles --------------------------------------------------------------------- */

START_TEST(t_keys_and_roles)
{
    struct tu_http r;
    char *b;

    /* No key, a wrong key: 401 in the envelope. */
    w_call("GET", "product", NULL, NULL, &r);
    w_assert_envelope(&r, 401, "invalid_api_key");
    tu_http_free(&r);
    w_call("GET", "product", "NOT-A-KEY", NULL, &r);
    w_assert_envelope(&r, 401, "invalid_api_key");
    tu_http_free(&r);
    /* The user key reads, but may not place an order that skips approval. */
    ck_assert_int_eq(w_call("GET", "product", USER, NULL, &r), 200);
    tu_http_free(&r);
    b = w_dv_body("user.wire.example", true);
    w_call("POST", "order/certificate/ssl_dv_geotrust", USER, b, &r);
    w_assert_envelope(&r, 403, "access_denied|missing_permission");
    tu_http_free(&r);
    /* ... nor make ACME EAB keys, which is the administrator's. */
    w_call("POST", "key/acme-eab", USER, "{\"product_name_id\":\"ssl_dv_geotrust\"}", &r);
    w_assert_envelope(&r, 403, "access_denied|missing_permission");
    tu_http_free(&r);
    /* The administrator may skip approval. */
    ck_assert_int_eq(w_call("POST", "order/certificate/ssl_dv_geotrust", ADMIN, b, &r), 201);
    tu_http_free(&r);
    free(b);
    /* Configured keys: nothing generated. */
    ck_assert_ptr_null(mockca_cc_api_key(g_m));
}
END_TEST

/* ---- a DV order, end to end ------------------------------------------------------------- */

START_TEST(t_dv_order_dns_txt)
{
    struct tu_http r;
    char path[256], rv[64], host[128];
    const char *cn = "shop.wire.example";
    char *b = w_dv_body(cn, true);
    cJSON *j;
    double id, cert_id;

    ck_assert_int_eq(w_call("POST", "order/certificate/ssl_dv_geotrust", ADMIN, b, &r), 201);
    free(b);
    j = w_json(&r);
    id = w_num(j, "id");
    cert_id = w_num(j, "certificate_id");
    snprintf(rv, sizeof(rv), "%s", jstr(j, "dcv_random_value"));
    cJSON_Delete(j);
    tu_http_free(&r);

    /* Nothing published yet: the check fails as the real API says. */
    snprintf(path, sizeof(path), "order/certificate/%.0f/check-dcv", id);
    w_call("PUT", path, ADMIN, NULL, &r);
    w_assert_envelope(&r, 400, "invalid_dns_txt");
    tu_http_free(&r);

    /* The random value at _dnsauth.<name> in the embedded dnsmock, which the DCV check asks
     * (the DNS server of mockca's validator). */
    snprintf(host, sizeof(host), "_dnsauth.%s", cn);
    ck_assert_ptr_nonnull(mockca_dnsmock(g_m));
    ck_assert_int_eq(zone_add_txt(dnsmock_zones(mockca_dnsmock(g_m)), host, rv, strlen(rv)),
                     MC_OK);
    ck_assert_int_eq(w_call("PUT", path, ADMIN, "{}", &r), 200);
    j = w_json(&r);
    ck_assert_str_eq(jstr(j, "order_status"), "issued");
    ck_assert_str_eq(jstr(j, "dcv_status"), "valid");
    cJSON_Delete(j);
    tu_http_free(&r);

    snprintf(path, sizeof(path), "order/certificate/%.0f", id);
    ck_assert_int_eq(w_call("GET", path, USER, NULL, &r), 200);
    j = w_json(&r);
    ck_assert_str_eq(jstr(j, "status"), "issued");
    ck_assert_double_eq(w_num(cJSON_GetObjectItemCaseSensitive(j, "certificate"), "id"), cert_id);
    cJSON_Delete(j);
    tu_http_free(&r);

    /* pem_all: leaf, intermediate, root, verified against mockca's issuing root. */
    snprintf(path, sizeof(path), "certificate/%.0f/download/format/pem_all", cert_id);
    ck_assert_int_eq(w_call("GET", path, USER, NULL, &r), 200);
    ck_assert_int_eq(w_verify_bundle(r.body, cn), 3);
    tu_http_free(&r);
}
END_TEST

/* ---- errors in the CertCentral envelope; ACME as it was ---------------------------------- */

START_TEST(t_envelope_and_acme_unaffected)
{
    struct tu_http r;
    struct resp a;
    char *big, *link, *u;
    cJSON *j;

    /* Unknown path and wrong method under /services/v2/: the envelope, not an ACME problem. */
    w_call("GET", "no/such/route", ADMIN, NULL, &r);
    w_assert_envelope(&r, 404, "not_found|route");
    tu_http_free(&r);
    w_call("PATCH", "product", ADMIN, "{}", &r);
    w_assert_envelope(&r, 405, "method_not_allowed");
    tu_http_free(&r);
    /* A body over CC_MAX_BODY: the listener's own 413, in the envelope. */
    big = malloc(BIG_BODY + 1);
    ck_assert_ptr_nonnull(big);
    memset(big, ' ', BIG_BODY);
    big[0] = '{';
    big[BIG_BODY - 1] = '}';
    big[BIG_BODY] = '\0';
    w_call("POST", "order/certificate/ssl_dv_geotrust", ADMIN, big, &r);
    w_assert_envelope(&r, 413, "request_too_large");
    tu_http_free(&r);
    free(big);
    /* No ACME rule applies: a JSON Content-Type (ACME would answer 415) and no User-Agent
     * are fine here. */
    ck_assert_int_eq(w_call("GET", "product/ssl_dv_geotrust", ADMIN, NULL, &r), 200);
    tu_http_free(&r);

    /* ACME: the directory still has its nonce and no Link rel="index"; other answers do. */
    http_hdrs("GET", mockca_directory_url(g_m), NULL, NULL, &a);
    ck_assert_int_eq(a.status, 200);
    ck_assert(!header_has(&a, "Link", "rel=\"index\""));
    j = body_json(&a);
    u = url_of(ACME_PATH_NEW_ACCOUNT);
    ck_assert_str_eq(jstr(j, "newAccount"), u);
    free(u);
    cJSON_Delete(j);
    resp_free(&a);
    u = url_of(ACME_PATH_NONCE);
    http_hdrs("HEAD", u, NULL, NULL, &a);
    free(u);
    ck_assert_int_eq(a.status, 200);
    ck_assert(header_has(&a, "Link", "rel=\"index\""));
    resp_free(&a);
    /* An unknown ACME path is still an ACME problem, a wrong Content-Type still 415. */
    u = url_of("/no-such-acme-path");
    http("GET", u, NULL, &a);
    free(u);
    assert_problem(&a, 404, "malformed");
    link = header(&a, "Replay-Nonce");
    ck_assert_ptr_nonnull(link);
    free(link);
    resp_free(&a);
    {
        const char *const hdrs[] = {"Content-Type: application/json", NULL};
        u = url_of(ACME_PATH_NEW_ACCOUNT);
        http_hdrs("POST", u, hdrs, "{}", &a);
        free(u);
        ck_assert_int_eq(a.status, 415);
        resp_free(&a);
    }
}
END_TEST

/* ---- the management API ------------------------------------------------------------------ */

START_TEST(t_mgmt_api_keys)
{
    struct tu_http r;
    char url[256];
    const char *hdrs[] = {"Content-Type: application/json", NULL};
    char key[300];
    cJSON *j;

    snprintf(url, sizeof(url), "%s/cc/api-keys", mockca_mgmt_url(g_m));
    ck_assert_int_eq(tu_http("POST", url, "{\"role\":\"viewer\"}", hdrs, w_ca_file, &r), 0);
    ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
    j = w_json(&r);
    snprintf(key, sizeof(key), "%s", jstr(j, "key"));
    ck_assert_str_eq(jstr(j, "role"), "viewer");
    ck_assert_uint_ge(strlen(key), 16);
    cJSON_Delete(j);
    tu_http_free(&r);
    /* The new key reads over the ACME listener, and may not write. */
    ck_assert_int_eq(w_call("GET", "order/certificate", key, NULL, &r), 200);
    tu_http_free(&r);
    w_call("POST", "account/auth-key", key, NULL, &r);
    w_assert_envelope(&r, 403, "access_denied|missing_permission");
    tu_http_free(&r);
    /* A key given by name, then the same again: 409. */
    ck_assert_int_eq(tu_http("POST", url, "{\"role\":\"user\",\"key\":\"MGMTUSER1\"}", hdrs,
                             w_ca_file, &r),
                     0);
    ck_assert_int_eq(r.status, 201);
    tu_http_free(&r);
    ck_assert_int_eq(tu_http("POST", url, "{\"role\":\"user\",\"key\":\"MGMTUSER1\"}", hdrs,
                             w_ca_file, &r),
                     0);
    ck_assert_int_eq(r.status, 409);
    tu_http_free(&r);
    ck_assert_int_eq(w_call("GET", "product", "MGMTUSER1", NULL, &r), 200);
    tu_http_free(&r);
    snprintf(url, sizeof(url), "%s/cc/emails", mockca_mgmt_url(g_m));
    ck_assert_int_eq(tu_http("GET", url, NULL, NULL, w_ca_file, &r), 0);
    ck_assert_int_eq(r.status, 200);
    j = w_json(&r);
    ck_assert(cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(j, "emails")));
    cJSON_Delete(j);
    tu_http_free(&r);
}
END_TEST

/* ---- ACME EAB from CertCentral ----------------------------------------------------------- */

/* {"termsOfServiceAgreed":true,"externalAccountBinding": JWS(alg, kid, mac, jwk of key)}. */
static char *w_eab_payload(EVP_PKEY *key, enum jose_alg alg, const char *kid, const uint8_t *mac,
                           size_t maclen)
{
    cJSON *h = cJSON_CreateObject(), *jwk = NULL, *eab = NULL, *p = cJSON_CreateObject();
    char *u = url_of(ACME_PATH_NEW_ACCOUNT), *jwk_txt, *out;

    cJSON_AddStringToObject(h, "kid", kid);
    cJSON_AddStringToObject(h, "url", u);
    ck_assert_int_eq(jwk_to_json(key, &jwk), MC_OK);
    jwk_txt = cJSON_PrintUnformatted(jwk);
    ck_assert_int_eq(jws_sign_hmac(alg, mac, maclen, h, (const uint8_t *)jwk_txt,
                                   strlen(jwk_txt), &eab),
                     MC_OK);
    cJSON_AddTrueToObject(p, "termsOfServiceAgreed");
    cJSON_AddItemToObject(p, "externalAccountBinding", eab);
    out = cJSON_PrintUnformatted(p);
    cJSON_Delete(p);
    cJSON_Delete(h);
    cJSON_Delete(jwk);
    free(jwk_txt);
    free(u);
    return out;
}

START_TEST(t_acme_eab)
{
    struct tu_http r;
    struct resp a;
    char kid[128];
    uint8_t *mac = NULL;
    size_t maclen = 0;
    EVP_PKEY *k1 = newkey(), *k2 = newkey(), *k3 = newkey();
    char *p;
    cJSON *j;
    const cJSON *bind;

    ck_assert_int_eq(w_call("POST", "key/acme-eab", ADMIN,
                            "{\"name\":\"wire\",\"product_name_id\":\"ssl_dv_geotrust\"}", &r),
                     201);
    j = w_json(&r);
    ck_assert_str_eq(jstr(j, "acme_directory_url"), mockca_directory_url(g_m));
    snprintf(kid, sizeof(kid), "%s", jstr(j, "ext_act_kid"));
    ck_assert_int_eq(b64url_decode(jstr(j, "ext_act_hmac"), strlen(jstr(j, "ext_act_hmac")), &mac,
                                   &maclen),
                     MC_OK);
    cJSON_Delete(j);
    tu_http_free(&r);

    /* eab_required: without a binding, no account. */
    post(ACME_PATH_NEW_ACCOUNT, k1, NULL, "{\"termsOfServiceAgreed\":true}", &a);
    assert_problem_status(&a, 400, "externalAccountRequired");
    resp_free(&a);
    /* A wrong HMAC: unauthorized, as for a configured key. */
    mac[0] ^= 1;
    p = w_eab_payload(k1, JOSE_ALG_HS256, kid, mac, maclen);
    mac[0] ^= 1;
    post(ACME_PATH_NEW_ACCOUNT, k1, NULL, p, &a);
    assert_problem_status(&a, 403, "unauthorized");
    resp_free(&a);
    free(p);
    /* The right one: an account tied to the key's CertCentral account and product. */
    p = w_eab_payload(k1, JOSE_ALG_HS256, kid, mac, maclen);
    post(ACME_PATH_NEW_ACCOUNT, k1, NULL, p, &a);
    ck_assert_msg(a.status == 201, "%ld %s", a.status, a.body);
    j = body_json(&a);
    bind = cJSON_GetObjectItemCaseSensitive(j, "certcentral");
    ck_assert_ptr_nonnull(bind);
    ck_assert_str_eq(jstr(bind, "product_name_id"), "ssl_dv_geotrust");
    ck_assert_double_eq(w_num(bind, "account_id"), 1);
    cJSON_Delete(j);
    resp_free(&a);
    free(p);
    /* The inner JWS may use HS512 with the same key. */
    p = w_eab_payload(k2, JOSE_ALG_HS512, kid, mac, maclen);
    post(ACME_PATH_NEW_ACCOUNT, k2, NULL, p, &a);
    ck_assert_msg(a.status == 201, "%ld %s", a.status, a.body);
    resp_free(&a);
    free(p);
    /* A kid nobody made. */
    p = w_eab_payload(k3, JOSE_ALG_HS256, "no-such-kid", mac, maclen);
    post(ACME_PATH_NEW_ACCOUNT, k3, NULL, p, &a);
    assert_problem_status(&a, 403, "unauthorized");
    resp_free(&a);
    free(p);
    free(mac);
    EVP_PKEY_free(k1);
    EVP_PKEY_free(k2);
    EVP_PKEY_free(k3);
}
END_TEST

/* ---- the key made when none is configured ------------------------------------------------ */

START_TEST(t_generated_key)
{
    char a[MOCKCA_CC_KEY_LEN + 1], b[MOCKCA_CC_KEY_LEN + 1];
    const char *key = mockca_cc_api_key(g_m);
    struct tu_http r;

    ck_assert_int_eq(mockca_cc_key_generate(a), MC_OK);
    ck_assert_int_eq(mockca_cc_key_generate(b), MC_OK);
    ck_assert_uint_eq(strlen(a), MOCKCA_CC_KEY_LEN);
    ck_assert_str_ne(a, b);
    for (size_t i = 0; i < MOCKCA_CC_KEY_LEN; i++)
        ck_assert_msg(isupper((unsigned char)a[i]) || isdigit((unsigned char)a[i]), "%s", a);

    ck_assert_ptr_nonnull(key);
    ck_assert_uint_eq(strlen(key), MOCKCA_CC_KEY_LEN);
    /* It is an administrator's: it may make EAB keys. */
    ck_assert_int_eq(w_call("POST", "key/acme-eab", key, "{\"product_name_id\":\"ssl_dv_geotrust\"}",
                            &r),
                     201);
    tu_http_free(&r);
    w_call("GET", "product", "WRONG", NULL, &r);
    w_assert_envelope(&r, 401, "invalid_api_key");
    tu_http_free(&r);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("mockca_cc");
    TCase *tc = tcase_create("wired");
    TCase *te = tcase_create("eab");
    TCase *tg = tcase_create("generated");

    tcase_add_checked_fixture(tc, w_setup, w_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, t_keys_and_roles);
    tcase_add_test(tc, t_dv_order_dns_txt);
    tcase_add_test(tc, t_envelope_and_acme_unaffected);
    tcase_add_test(tc, t_mgmt_api_keys);
    suite_add_tcase(s, tc);
    tcase_add_checked_fixture(te, w_eab_setup, w_teardown);
    tcase_set_timeout(te, 60);
    tcase_add_test(te, t_acme_eab);
    suite_add_tcase(s, te);
    tcase_add_checked_fixture(tg, w_setup_nokeys, w_teardown);
    tcase_set_timeout(tg, 60);
    tcase_add_test(tg, t_generated_key);
    suite_add_tcase(s, tg);
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
