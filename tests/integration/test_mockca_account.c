/* Integration tests of mockca's first slice, in-process over HTTPS with libcurl: the
 * directory, newNonce, the headers every response carries (Replay-Nonce, Link rel="index",
 * Cache-Control), problem documents for the layer's 404/405 and for the chokepoint's
 * refusals, newAccount (201/200 + Location, onlyReturnExisting, contacts, EAB), the account
 * resource (POST-as-GET, update, deactivate), keyChange (including the 409 cases), the
 * orders list with paging, and the management listener's /roots/N. Every request is a real
 * JWS made with jws_sign from keys made with key_generate. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <openssl/x509.h>

#include "common/b64url.h"
#include "common/csr.h"
#include "common/jose.h"
#include "common/keys.h"
#include "common/pem.h"
#include "mockca/acme/account.h"
#include "mockca/acme/render.h"
#include "mockca/internal.h"
#include "mockca/mockca.h"
#include "mockca/store.h"
#include "acme_client.h"

static void start_with(void (*adjust)(struct mockca_config *))
{
    struct mockca_config cfg;
    struct mockca *m = NULL;

    ck_assert_int_eq(mockca_config_init(&cfg), MC_OK);
    free(cfg.listen_addr);
    cfg.listen_addr = strdup("127.0.0.1:0");
    free(cfg.mgmt_addr);
    cfg.mgmt_addr = strdup("127.0.0.1:0");
    free(cfg.dns_listen_addr); /* the embedded dnsmock: port 0, never the binary's 8053 */
    cfg.dns_listen_addr = strdup("127.0.0.1:0");
    free(cfg.dns_mgmt_addr);
    cfg.dns_mgmt_addr = strdup("127.0.0.1:0");
    if (adjust != NULL)
        adjust(&cfg);
    ck_assert_int_eq(mockca_start(&cfg, &m), MC_OK);
    ac_attach(m);
    ac_set_timeout(10);
}

static void setup(void)
{
    start_with(NULL);
}

static void teardown(void)
{
    struct mockca *m = g_m;

    ac_detach();
    mockca_stop(m);
}

/* ---- directory, nonce, common headers ----------------------------------------------------- */

START_TEST(test_directory)
{
    struct resp r;
    cJSON *j, *meta;
    struct {
        const char *name, *path;
    } want[] = {
        {"newNonce", ACME_PATH_NONCE},       {"newAccount", ACME_PATH_NEW_ACCOUNT},
        {"newOrder", ACME_PATH_NEW_ORDER},   {"revokeCert", ACME_PATH_REVOKE},
        {"keyChange", ACME_PATH_KEY_CHANGE},
    };

    http_hdrs("GET", mockca_directory_url(g_m), NULL, NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(strstr(mockca_directory_url(g_m), "https://127.0.0.1:"));
    j = body_json(&r);
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        char *u = url_of(want[i].path);
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, want[i].name);
        ck_assert_msg(cJSON_IsString(v) && strcmp(v->valuestring, u) == 0, "%s", want[i].name);
        free(u);
    }
    meta = cJSON_GetObjectItemCaseSensitive(j, "meta");
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(meta, "termsOfService")),
                     ACCOUNT_TOS_URL);
    ck_assert(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(meta, "externalAccountRequired")));
    ck_assert(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(meta, "profiles")));
    /* The directory is the index: no Link rel="index" on it. */
    ck_assert(!header_has(&r, "Link", "rel=\"index\""));
    ck_assert(header_has(&r, "Cache-Control", "no-store"));
    cJSON_Delete(j);
    resp_free(&r);
}
END_TEST

START_TEST(test_nonce)
{
    struct resp r;
    char *u = url_of(ACME_PATH_NONCE), first[64], *cc;

    http_hdrs("HEAD", u, NULL, NULL, &r);
    ck_assert_int_eq(r.status, 200);
    snprintf(first, sizeof(first), "%s", g_nonce);
    cc = header(&r, "Cache-Control");
    ck_assert_str_eq(cc, "no-store");
    free(cc);
    ck_assert(header_has(&r, "Link", "rel=\"index\""));
    ck_assert(header_has(&r, "Link", mockca_directory_url(g_m)));
    resp_free(&r);
    http_hdrs("GET", u, NULL, NULL, &r);
    ck_assert_int_eq(r.status, 204);
    ck_assert_str_ne(first, g_nonce); /* a fresh one each time */
    ck_assert(header_has(&r, "Cache-Control", "no-store"));
    resp_free(&r);
    free(u);
}
END_TEST

START_TEST(test_404_405_problems)
{
    struct resp r;
    char *u = url_of("/no-such-thing");
    char *allow;

    http_hdrs("GET", u, NULL, NULL, &r);
    assert_problem_status(&r, 404, "malformed");
    ck_assert(header_has(&r, "Link", "rel=\"index\""));
    resp_free(&r);
    free(u);
    u = url_of(ACME_PATH_NEW_ACCOUNT);
    http_hdrs("GET", u, NULL, NULL, &r);
    assert_problem_status(&r, 405, "malformed");
    allow = header(&r, "Allow");
    ck_assert_str_eq(allow, "POST");
    free(allow);
    resp_free(&r);
    free(u);
}
END_TEST

START_TEST(test_bad_content_type)
{
    struct resp r;
    const char *hdrs[] = {"Content-Type: application/json", NULL};
    char *u = url_of(ACME_PATH_NEW_ACCOUNT);

    http_hdrs("POST", u, hdrs, "{}", &r);
    assert_problem_status(&r, 415, "malformed");
    resp_free(&r);
    free(u);
}
END_TEST

START_TEST(test_replayed_nonce)
{
    struct resp r;
    EVP_PKEY *k = newkey();
    char used[64], *u = url_of(ACME_PATH_NEW_ACCOUNT);

    snprintf(used, sizeof(used), "%s", g_nonce);
    post_url_nonce(u, k, NULL, "{\"termsOfServiceAgreed\":true}", used, &r);
    ck_assert_int_eq(r.status, 201);
    resp_free(&r);
    post_url_nonce(u, k, NULL, "{\"termsOfServiceAgreed\":true}", used, &r);
    assert_problem_status(&r, 400, "badNonce");
    resp_free(&r);
    /* A nonce the server never issued. */
    post_url_nonce(u, k, NULL, "{}", "AAAAAAAAAAAAAAAAAAAAAA", &r);
    assert_problem_status(&r, 400, "badNonce");
    resp_free(&r);
    free(u);
    EVP_PKEY_free(k);
}
END_TEST

/* A body over the cap: the layer's 413, as a problem document with a nonce. */
START_TEST(test_body_too_large)
{
    struct resp r;
    const char *hdrs[] = {JOSE_CT, NULL};
    size_t n = ACME_DEFAULT_MAX_BODY + 1024;
    char *big = malloc(n + 1), *u = url_of(ACME_PATH_NEW_ACCOUNT);

    memset(big, 'a', n);
    big[n] = '\0';
    http_hdrs("POST", u, hdrs, big, &r);
    assert_problem_status(&r, 413, "malformed");
    resp_free(&r);
    free(big);
    free(u);
}
END_TEST

/* A second mockca on a taken port fails with MC_ERR_IO, and still takes the config. */
START_TEST(test_start_port_taken)
{
    struct mockca_config cfg;
    struct mockca *m2 = NULL;
    const char *dir = mockca_directory_url(g_m);
    char addr[64];

    ck_assert_int_eq(mockca_config_init(&cfg), MC_OK);
    snprintf(addr, sizeof(addr), "%.*s",
             (int)(strlen(dir) - strlen("https://") - strlen(ACME_PATH_DIRECTORY)),
             dir + strlen("https://"));
    free(cfg.listen_addr);
    cfg.listen_addr = strdup(addr);
    free(cfg.mgmt_addr);
    cfg.mgmt_addr = strdup("");
    free(cfg.dns_listen_addr); /* the embedded dnsmock: port 0, never the binary's 8053 */
    cfg.dns_listen_addr = strdup("127.0.0.1:0");
    free(cfg.dns_mgmt_addr);
    cfg.dns_mgmt_addr = strdup("127.0.0.1:0");
    ck_assert_int_eq(mockca_start(&cfg, &m2), MC_ERR_IO);
    ck_assert_ptr_null(m2);
    ck_assert_ptr_null(cfg.listen_addr);
    /* The first one is unharmed. */
    {
        struct resp r;
        http_hdrs("GET", dir, NULL, NULL, &r);
        ck_assert_int_eq(r.status, 200);
        resp_free(&r);
    }
}
END_TEST

/* An HMAC alg on an account request: badSignatureAlgorithm listing what is accepted. */
START_TEST(test_bad_signature_algorithm)
{
    struct resp r;
    const char *hdrs[] = {JOSE_CT, NULL};
    EVP_PKEY *k = newkey();
    char *u = url_of(ACME_PATH_NEW_ACCOUNT), *prot_txt, *prot = NULL, *pay = NULL, *body;
    cJSON *h = cJSON_CreateObject(), *jwk = NULL, *j, *jb = cJSON_CreateObject();
    const cJSON *algs, *it;
    bool es256 = false;

    ck_assert_int_eq(jwk_to_json(k, &jwk), MC_OK);
    cJSON_AddStringToObject(h, "alg", "HS256");
    cJSON_AddStringToObject(h, "nonce", g_nonce);
    cJSON_AddStringToObject(h, "url", u);
    cJSON_AddItemToObject(h, "jwk", jwk);
    prot_txt = cJSON_PrintUnformatted(h);
    ck_assert_int_eq(b64url_encode((const uint8_t *)prot_txt, strlen(prot_txt), &prot), MC_OK);
    ck_assert_int_eq(b64url_encode((const uint8_t *)"{}", 2, &pay), MC_OK);
    cJSON_AddStringToObject(jb, "protected", prot);
    cJSON_AddStringToObject(jb, "payload", pay);
    cJSON_AddStringToObject(jb, "signature", "AAAA");
    body = cJSON_PrintUnformatted(jb);
    http_hdrs("POST", u, hdrs, body, &r);
    assert_problem_status(&r, 400, "badSignatureAlgorithm");
    j = body_json(&r);
    algs = cJSON_GetObjectItemCaseSensitive(j, "algorithms");
    ck_assert(cJSON_IsArray(algs));
    cJSON_ArrayForEach(it, algs)
    {
        ck_assert(cJSON_IsString(it));
        ck_assert_str_ne(it->valuestring, "HS256");
        if (strcmp(it->valuestring, "ES256") == 0)
            es256 = true;
    }
    ck_assert(es256);
    cJSON_Delete(j);
    resp_free(&r);
    free(body);
    free(prot_txt);
    free(prot);
    free(pay);
    free(u);
    cJSON_Delete(h);
    cJSON_Delete(jb);
    EVP_PKEY_free(k);
}
END_TEST

/* ---- newAccount ------------------------------------------------------------------------ */

START_TEST(test_new_account)
{
    struct resp r;
    EVP_PKEY *k = newkey(), *other = newkey();
    char *loc = NULL, *loc2 = NULL, *link;
    cJSON *j;

    post(ACME_PATH_NEW_ACCOUNT, k, NULL,
         "{\"termsOfServiceAgreed\":true,\"contact\":[\"mailto:admin@example.com\"]}", &r);
    ck_assert_int_eq(r.status, 201);
    loc = header(&r, "Location");
    ck_assert_ptr_nonnull(loc);
    ck_assert_int_eq(strncmp(loc, g_m->account_prefix, strlen(g_m->account_prefix)), 0);
    ck_assert_uint_eq(strlen(loc), strlen(g_m->account_prefix) + STORE_ID_LEN);
    link = header(&r, "Link");
    ck_assert_ptr_nonnull(strstr(link, "rel=\"index\""));
    free(link);
    j = body_json(&r);
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "status")), "valid");
    ck_assert_str_eq(
        cJSON_GetStringValue(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "contact"), 0)),
        "mailto:admin@example.com");
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "termsOfServiceAgreed")));
    cJSON_Delete(j);
    resp_free(&r);

    /* The same key again: the same account, 200 (section 7.3.1). */
    ck_assert_int_eq(new_account(k, "{\"termsOfServiceAgreed\":true}", &loc2), 200);
    ck_assert_str_eq(loc2, loc);
    free(loc2);
    loc2 = NULL;
    ck_assert_int_eq(new_account(k, "{\"onlyReturnExisting\":true}", &loc2), 200);
    ck_assert_str_eq(loc2, loc);
    free(loc2);

    /* onlyReturnExisting for a key with no account. */
    post(ACME_PATH_NEW_ACCOUNT, other, NULL, "{\"onlyReturnExisting\":true}", &r);
    assert_problem_status(&r, 400, "accountDoesNotExist");
    resp_free(&r);
    /* Wrong member types. */
    post(ACME_PATH_NEW_ACCOUNT, other, NULL, "{\"termsOfServiceAgreed\":\"yes\"}", &r);
    assert_problem_status(&r, 400, "malformed");
    resp_free(&r);
    /* newAccount takes jwk, not kid. */
    post(ACME_PATH_NEW_ACCOUNT, k, loc, "{}", &r);
    assert_problem_status(&r, 400, "malformed");
    resp_free(&r);
    free(loc);
    EVP_PKEY_free(k);
    EVP_PKEY_free(other);
}
END_TEST

START_TEST(test_contacts)
{
    struct resp r;
    EVP_PKEY *k = newkey();
    struct {
        const char *payload, *problem;
    } bad[] = {
        {"{\"contact\":[\"tel:+15551234567\"]}", "unsupportedContact"},
        {"{\"contact\":[\"admin@example.com\"]}", "unsupportedContact"},
        {"{\"contact\":[\"mailto:\"]}", "invalidContact"},
        {"{\"contact\":[\"mailto:not-an-address\"]}", "invalidContact"},
        {"{\"contact\":[\"mailto:a@example.com,b@example.com\"]}", "invalidContact"},
        {"{\"contact\":[\"mailto:a@@example.com\"]}", "invalidContact"},
        {"{\"contact\":[\"mailto:a@example\"]}", "invalidContact"},
        {"{\"contact\":[\"mailto:a@example.com?subject=hi\"]}", "invalidContact"},
        {"{\"contact\":[\"mailto:caf\\u00e9@example.com\"]}", "invalidContact"},
        {"{\"contact\":[\"mailto:a@example.com\",\"mailto:b@example.com\","
         "\"mailto:c@example.com\"]}",
         "malformed"},
        {"{\"contact\":\"mailto:a@example.com\"}", "malformed"},
        {"{\"contact\":[42]}", "malformed"},
    };
    char *loc = NULL;
    cJSON *j;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        post(ACME_PATH_NEW_ACCOUNT, k, NULL, bad[i].payload, &r);
        ck_assert_msg(r.status == 400, "%s -> %ld %s", bad[i].payload, r.status, r.body);
        assert_problem_status(&r, 400, bad[i].problem);
        resp_free(&r);
    }
    /* Two good ones (Pebble's limit), and the mailto scheme in any case. */
    post(ACME_PATH_NEW_ACCOUNT, k, NULL,
         "{\"termsOfServiceAgreed\":true,"
         "\"contact\":[\"mailto:a.b+c@mail.example.com\",\"MAILTO:d@example.org\"]}",
         &r);
    ck_assert_int_eq(r.status, 201);
    j = body_json(&r);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "contact")), 2);
    cJSON_Delete(j);
    loc = header(&r, "Location");
    resp_free(&r);
    /* Updates are checked the same way. */
    post_url_nonce(loc, k, loc, "{\"contact\":[\"tel:+15551234567\"]}", NULL, &r);
    assert_problem_status(&r, 400, "unsupportedContact");
    resp_free(&r);
    free(loc);
    EVP_PKEY_free(k);
}
END_TEST

/* ---- External Account Binding ------------------------------------------------------------ */

static const uint8_t eab_mac[32] = "0123456789abcdef0123456789abcdef";

static void eab_config(struct mockca_config *cfg)
{
    cfg->eab_required = true;
    cfg->eab_keys[0].kid = strdup("kid-1");
    cfg->eab_keys[0].mac = malloc(sizeof(eab_mac));
    memcpy(cfg->eab_keys[0].mac, eab_mac, sizeof(eab_mac));
    cfg->eab_keys[0].mac_len = sizeof(eab_mac);
    cfg->n_eab_keys = 1;
}

static void eab_setup(void)
{
    start_with(eab_config);
}

/* {"termsOfServiceAgreed":true,"externalAccountBinding":JWS(kid, mac, jwk of key)}. */
static char *eab_payload(EVP_PKEY *key, const char *kid, const uint8_t *mac, size_t maclen)
{
    cJSON *h = cJSON_CreateObject(), *jwk = NULL, *eab = NULL, *p = cJSON_CreateObject();
    char *u = url_of(ACME_PATH_NEW_ACCOUNT), *jwk_txt, *out;

    cJSON_AddStringToObject(h, "kid", kid);
    cJSON_AddStringToObject(h, "url", u);
    ck_assert_int_eq(jwk_to_json(key, &jwk), MC_OK);
    jwk_txt = cJSON_PrintUnformatted(jwk);
    ck_assert_int_eq(jws_sign_hmac(JOSE_ALG_HS256, mac, maclen, h, (const uint8_t *)jwk_txt,
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

START_TEST(test_eab)
{
    struct resp r;
    EVP_PKEY *k = newkey();
    uint8_t wrong[32];
    char *p;
    cJSON *j;

    http_hdrs("GET", mockca_directory_url(g_m), NULL, NULL, &r);
    j = body_json(&r);
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(j, "meta"), "externalAccountRequired")));
    cJSON_Delete(j);
    resp_free(&r);

    post(ACME_PATH_NEW_ACCOUNT, k, NULL, "{\"termsOfServiceAgreed\":true}", &r);
    assert_problem_status(&r, 400, "externalAccountRequired");
    resp_free(&r);

    memcpy(wrong, eab_mac, sizeof(wrong));
    wrong[0] ^= 1;
    p = eab_payload(k, "kid-1", wrong, sizeof(wrong));
    post(ACME_PATH_NEW_ACCOUNT, k, NULL, p, &r);
    assert_problem_status(&r, 403, "unauthorized");
    resp_free(&r);
    free(p);

    p = eab_payload(k, "kid-2", eab_mac, sizeof(eab_mac));
    post(ACME_PATH_NEW_ACCOUNT, k, NULL, p, &r);
    assert_problem_status(&r, 403, "unauthorized");
    resp_free(&r);
    free(p);

    p = eab_payload(k, "kid-1", eab_mac, sizeof(eab_mac));
    post(ACME_PATH_NEW_ACCOUNT, k, NULL, p, &r);
    ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
    resp_free(&r);
    free(p);
    EVP_PKEY_free(k);
}
END_TEST

/* ---- the account resource --------------------------------------------------------------- */

START_TEST(test_account_lifecycle)
{
    struct resp r;
    EVP_PKEY *k = newkey(), *k2 = newkey();
    char *loc = account(k), *loc2 = account(k2);
    cJSON *j;

    /* POST-as-GET. */
    post_url_nonce(loc, k, loc, NULL, NULL, &r);
    ck_assert_int_eq(r.status, 200);
    j = body_json(&r);
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "status")), "valid");
    ck_assert(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(j, "orders")));
    cJSON_Delete(j);
    ck_assert(header_has(&r, "Link", "rel=\"index\""));
    resp_free(&r);

    /* Another account's kid on this account's URL. */
    post_url_nonce(loc, k2, loc2, NULL, NULL, &r);
    assert_problem_status(&r, 403, "unauthorized");
    resp_free(&r);

    /* Update the contacts. */
    post_url_nonce(loc, k, loc, "{\"contact\":[\"mailto:new@example.com\"]}", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    j = body_json(&r);
    ck_assert_str_eq(
        cJSON_GetStringValue(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "contact"), 0)),
        "mailto:new@example.com");
    cJSON_Delete(j);
    resp_free(&r);
    post_url_nonce(loc, k, loc, NULL, NULL, &r);
    ck_assert_ptr_nonnull(strstr(r.body, "mailto:new@example.com"));
    resp_free(&r);

    /* A status other than deactivated. */
    post_url_nonce(loc, k, loc, "{\"status\":\"revoked\"}", NULL, &r);
    assert_problem_status(&r, 400, "malformed");
    resp_free(&r);

    /* Deactivate; the account then refuses every request by its kid. */
    post_url_nonce(loc, k, loc, "{\"status\":\"deactivated\"}", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    j = body_json(&r);
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "status")),
                     "deactivated");
    cJSON_Delete(j);
    resp_free(&r);
    post_url_nonce(loc, k, loc, NULL, NULL, &r);
    assert_problem_status(&r, 403, "unauthorized");
    resp_free(&r);
    /* newAccount with the deactivated account's key, as Pebble: unauthorized. */
    post(ACME_PATH_NEW_ACCOUNT, k, NULL, "{\"termsOfServiceAgreed\":true}", &r);
    assert_problem_status(&r, 403, "unauthorized");
    resp_free(&r);
    /* An account id that does not exist. */
    {
        char kid[256];
        snprintf(kid, sizeof(kid), "%sAAAAAAAAAAAAAAAAAAAAAA", g_m->account_prefix);
        post_url_nonce(kid, k, kid, NULL, NULL, &r);
        assert_problem_status(&r, 400, "accountDoesNotExist");
        resp_free(&r);
    }
    free(loc);
    free(loc2);
    EVP_PKEY_free(k);
    EVP_PKEY_free(k2);
}
END_TEST

/* ---- keyChange ------------------------------------------------------------------------- */

/* A keyChange request body for account kid from old to new_key: the outer payload. */
static char *keychange_payload(const char *kid, EVP_PKEY *old, EVP_PKEY *new_key)
{
    cJSON *h = cJSON_CreateObject(), *jwk = NULL, *oldjwk = NULL, *p = cJSON_CreateObject(),
          *inner = NULL;
    char *u = url_of(ACME_PATH_KEY_CHANGE), *ptxt, *out;
    enum jose_alg alg;

    ck_assert_int_eq(jwk_to_json(new_key, &jwk), MC_OK);
    cJSON_AddItemToObject(h, "jwk", jwk);
    cJSON_AddStringToObject(h, "url", u);
    ck_assert_int_eq(jwk_to_json(old, &oldjwk), MC_OK);
    cJSON_AddStringToObject(p, "account", kid);
    cJSON_AddItemToObject(p, "oldKey", oldjwk);
    ptxt = cJSON_PrintUnformatted(p);
    ck_assert_int_eq(jose_alg_for_key(new_key, &alg), MC_OK);
    ck_assert_int_eq(jws_sign(new_key, alg, h, (const uint8_t *)ptxt, strlen(ptxt), &inner), MC_OK);
    out = cJSON_PrintUnformatted(inner);
    cJSON_Delete(inner);
    cJSON_Delete(p);
    cJSON_Delete(h);
    free(ptxt);
    free(u);
    return out;
}

START_TEST(test_key_change)
{
    struct resp r;
    EVP_PKEY *k1 = newkey(), *k2 = newkey(), *k3 = newkey(), *k4 = NULL;
    char *a = account(k1), *b = account(k2), *p, *loc;

    /* To a fresh key. */
    p = keychange_payload(a, k1, k3);
    post(ACME_PATH_KEY_CHANGE, k1, a, p, &r);
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    resp_free(&r);
    free(p);
    /* The old key no longer verifies for the account. */
    post_url_nonce(a, k1, a, NULL, NULL, &r);
    assert_problem_status(&r, 400, "malformed");
    resp_free(&r);
    post_url_nonce(a, k3, a, NULL, NULL, &r);
    ck_assert_int_eq(r.status, 200);
    resp_free(&r);
    /* newAccount with the new key finds the account. */
    ck_assert_int_eq(new_account(k3, "{\"onlyReturnExisting\":true}", &loc), 200);
    ck_assert_str_eq(loc, a);
    free(loc);

    /* To another account's key: 409 with that account in Location. */
    p = keychange_payload(a, k3, k2);
    post(ACME_PATH_KEY_CHANGE, k3, a, p, &r);
    assert_problem_status(&r, 409, "malformed");
    loc = header(&r, "Location");
    ck_assert_ptr_nonnull(loc);
    ck_assert_str_eq(loc, b);
    free(loc);
    resp_free(&r);
    free(p);
    /* To its own current key: 409 naming itself. */
    p = keychange_payload(a, k3, k3);
    post(ACME_PATH_KEY_CHANGE, k3, a, p, &r);
    assert_problem_status(&r, 409, "malformed");
    loc = header(&r, "Location");
    ck_assert_ptr_nonnull(loc);
    ck_assert_str_eq(loc, a);
    free(loc);
    resp_free(&r);
    free(p);
    /* oldKey that is not the account's key. */
    k4 = newkey();
    p = keychange_payload(a, k1, k4);
    post(ACME_PATH_KEY_CHANGE, k3, a, p, &r);
    assert_problem_status(&r, 403, "unauthorized");
    resp_free(&r);
    free(p);

    free(a);
    free(b);
    EVP_PKEY_free(k1);
    EVP_PKEY_free(k2);
    EVP_PKEY_free(k3);
    EVP_PKEY_free(k4);
}
END_TEST

/* ---- the orders list ------------------------------------------------------------------- */

START_TEST(test_orders_list)
{
    struct resp r;
    EVP_PKEY *k = newkey(), *k2 = newkey();
    char *a = account(k), *b = account(k2), *list, *next_url, *u;
    const char *id = a + strlen(g_m->account_prefix);
    cJSON *j;
    size_t seen = 0;

    u = url_of(ACME_PATH_ORDERS);
    list = malloc(strlen(u) + strlen(id) + 1);
    snprintf(list, strlen(u) + strlen(id) + 1, "%s%s", u, id);
    free(u);
    post_url_nonce(list, k, a, NULL, NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "{\"orders\":[]}");
    ck_assert(!header_has(&r, "Link", "rel=\"next\""));
    resp_free(&r);
    /* Only the owner. */
    post_url_nonce(list, k2, b, NULL, NULL, &r);
    assert_problem_status(&r, 403, "unauthorized");
    resp_free(&r);
    /* Not POST-as-GET. */
    post_url_nonce(list, k, a, "{}", NULL, &r);
    assert_problem_status(&r, 400, "malformed");
    resp_free(&r);

    /* Four orders made in the store (newOrder is not served yet): pages of 3, then 1. */
    for (int i = 0; i < 4; i++) {
        struct ident_list idl = {0};
        char name[64], oid[STORE_ID_LEN + 1];
        enum chall_type types[] = {CHALL_HTTP01};
        struct order_request orq;
        snprintf(name, sizeof(name), "host%d.example.com", i);
        ck_assert_int_eq(ident_list_add(&idl, IDENT_DNS, name), MC_OK);
        memset(&orq, 0, sizeof(orq));
        orq.idents = &idl;
        orq.types = types;
        orq.n_types = 1;
        ck_assert_int_eq(store_order_new(g_m->store, id, &orq, oid), MC_OK);
        ident_list_free(&idl);
    }
    post_url_nonce(list, k, a, NULL, NULL, &r);
    ck_assert_int_eq(r.status, 200);
    j = body_json(&r);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "orders")), 3);
    seen += 3;
    cJSON_Delete(j);
    ck_assert(header_has(&r, "Link", "?cursor=1>;rel=\"next\""));
    resp_free(&r);
    next_url = malloc(strlen(list) + 16);
    snprintf(next_url, strlen(list) + 16, "%s?cursor=1", list);
    post_url_nonce(next_url, k, a, NULL, NULL, &r);
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    j = body_json(&r);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "orders")), 1);
    seen += 1;
    cJSON_Delete(j);
    ck_assert(!header_has(&r, "Link", "rel=\"next\""));
    resp_free(&r);
    ck_assert_uint_eq(seen, 4);
    /* The url must carry the query the request was sent with. */
    {
        const char *hdrs[] = {JOSE_CT, NULL};
        cJSON *h = cJSON_CreateObject(), *jws = NULL;
        char *body;
        cJSON_AddStringToObject(h, "nonce", g_nonce);
        cJSON_AddStringToObject(h, "url", list); /* without ?cursor=1 */
        cJSON_AddStringToObject(h, "kid", a);
        ck_assert_int_eq(jws_sign(k, JOSE_ALG_ES256, h, NULL, 0, &jws), MC_OK);
        body = cJSON_PrintUnformatted(jws);
        http_hdrs("POST", next_url, hdrs, body, &r);
        assert_problem_status(&r, 403, "unauthorized");
        resp_free(&r);
        free(body);
        cJSON_Delete(jws);
        cJSON_Delete(h);
    }
    free(next_url);
    free(list);
    free(a);
    free(b);
    EVP_PKEY_free(k);
    EVP_PKEY_free(k2);
}
END_TEST

/* ---- Pebble's nonce rejection ----------------------------------------------------------- */

static void reject_all(struct mockca_config *cfg)
{
    cfg->nonce_reject_pct = 100;
}

static void reject_setup(void)
{
    start_with(reject_all);
}

START_TEST(test_nonce_reject)
{
    struct resp r;
    EVP_PKEY *k = newkey();

    post(ACME_PATH_NEW_ACCOUNT, k, NULL, "{\"termsOfServiceAgreed\":true}", &r);
    assert_problem_status(&r, 400, "badNonce");
    resp_free(&r);
    EVP_PKEY_free(k);
}
END_TEST

/* ---- management ------------------------------------------------------------------------- */

START_TEST(test_mgmt_roots)
{
    struct resp r;
    char u[256], *pem = NULL;
    X509 *got = NULL, *want = NULL;
    EVP_PKEY *pub;
    CURLcode rc;

    ck_assert_ptr_nonnull(strstr(mockca_mgmt_url(g_m), "https://127.0.0.1:"));
    snprintf(u, sizeof(u), "%s/roots/0", mockca_mgmt_url(g_m));
    /* Not an ACME listener: no nonce expected, so no http_hdrs() here. */
    memset(&r, 0, sizeof(r));
    curl_easy_reset(g_curl);
    struct curl_blob blob = {.data = (void *)mockca_tls_root_pem(g_m),
                             .len = strlen(mockca_tls_root_pem(g_m)),
                             .flags = CURL_BLOB_COPY};
    curl_easy_setopt(g_curl, CURLOPT_CAINFO_BLOB, &blob);
    curl_easy_setopt(g_curl, CURLOPT_URL, u);
    curl_easy_setopt(g_curl, CURLOPT_TIMEOUT, 10L);
    curl_easy_setopt(g_curl, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(g_curl, CURLOPT_WRITEDATA, &r.body);
    rc = curl_easy_perform(g_curl);
    ck_assert_msg(rc == CURLE_OK, "%s", curl_easy_strerror(rc));
    curl_easy_getinfo(g_curl, CURLINFO_RESPONSE_CODE, &r.status);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(r.body);
    ck_assert_int_eq(pem_read_cert(r.body, strlen(r.body), &got), MC_OK);
    ck_assert_int_eq(mockca_root_pem(g_m, 0, &pem), MC_OK);
    ck_assert_int_eq(pem_read_cert(pem, strlen(pem), &want), MC_OK);
    ck_assert_int_eq(X509_cmp(got, want), 0);
    /* A root: self-issued and self-signed. */
    ck_assert_int_eq(X509_check_issued(got, got), X509_V_OK);
    pub = X509_get0_pubkey(got);
    ck_assert_int_eq(X509_verify(got, pub), 1);
    X509_free(got);
    X509_free(want);
    free(pem);
    resp_free(&r);

    snprintf(u, sizeof(u), "%s/roots/7", mockca_mgmt_url(g_m));
    curl_easy_setopt(g_curl, CURLOPT_URL, u);
    curl_easy_setopt(g_curl, CURLOPT_WRITEDATA, &r.body);
    ck_assert_int_eq(curl_easy_perform(g_curl), CURLE_OK);
    curl_easy_getinfo(g_curl, CURLINFO_RESPONSE_CODE, &r.status);
    ck_assert_int_eq(r.status, 404);
    resp_free(&r);
}
END_TEST

/* The TLS identity is what a client must trust: without it, the handshake fails. */
START_TEST(test_tls_untrusted)
{
    CURL *c = curl_easy_init();
    CURLcode rc;

    curl_easy_setopt(c, CURLOPT_URL, mockca_directory_url(g_m));
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    curl_easy_setopt(c, CURLOPT_CAINFO, "/dev/null");
    curl_easy_setopt(c, CURLOPT_CAPATH, "/nonexistent");
    rc = curl_easy_perform(c);
    ck_assert_int_ne(rc, CURLE_OK);
    curl_easy_cleanup(c);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("mockca_account");
    TCase *tc = tcase_create("core"), *te = tcase_create("eab"), *tr = tcase_create("reject");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_directory);
    tcase_add_test(tc, test_nonce);
    tcase_add_test(tc, test_404_405_problems);
    tcase_add_test(tc, test_bad_content_type);
    tcase_add_test(tc, test_body_too_large);
    tcase_add_test(tc, test_start_port_taken);
    tcase_add_test(tc, test_replayed_nonce);
    tcase_add_test(tc, test_bad_signature_algorithm);
    tcase_add_test(tc, test_new_account);
    tcase_add_test(tc, test_contacts);
    tcase_add_test(tc, test_account_lifecycle);
    tcase_add_test(tc, test_key_change);
    tcase_add_test(tc, test_orders_list);
    tcase_add_test(tc, test_mgmt_roots);
    tcase_add_test(tc, test_tls_untrusted);
    suite_add_tcase(s, tc);
    tcase_add_checked_fixture(te, eab_setup, teardown);
    tcase_set_timeout(te, 60);
    tcase_add_test(te, test_eab);
    suite_add_tcase(s, te);
    tcase_add_checked_fixture(tr, reject_setup, teardown);
    tcase_set_timeout(tr, 60);
    tcase_add_test(tr, test_nonce_reject);
    suite_add_tcase(s, tr);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    int failed;

    curl_global_init(CURL_GLOBAL_DEFAULT);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    curl_global_cleanup();
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
