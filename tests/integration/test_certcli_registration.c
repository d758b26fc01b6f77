/* Integration tests of libcertcli's account operations (client/registration.c) against an
 * in-process mockca over HTTPS: register (new and existing), onlyReturnExisting, contact
 * updates (and mockca's invalidContact), External Account Binding with HS256/384/512 (and
 * a wrong MAC refused), key rollover (and the 409 of a key another account holds),
 * deactivation, the orders list across pages, and the on-disk account store. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "client/registration.h"
#include "client/session.h"
#include "common/file.h"
#include "common/jose.h"
#include "common/keys.h"
#include "acme_client.h"
#include "testutil.h"

#define P_URN "urn:ietf:params:acme:error:"

static char *g_tmp;
static char g_root_path[512];

static const uint8_t eab_mac[32] = {
    0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x00,
    0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10};

static void start_ca(void (*adjust)(struct mockca_config *cfg))
{
    ac_start(adjust, false);
    g_tmp = tu_tmpdir();
    snprintf(g_root_path, sizeof g_root_path, "%s/root.pem", g_tmp);
    ac_write_tls_root(g_root_path);
}

static void stop_ca(void)
{
    ac_stop();
    unlink(g_root_path);
    rmdir(g_tmp);
    free(g_tmp);
    g_tmp = NULL;
}

static EVP_PKEY *gen(enum key_type t)
{
    EVP_PKEY *k = NULL;
    ck_assert_int_eq(key_generate(t, &k), MC_OK);
    return k;
}

/* A session with account key k (a reference is taken) and no kid yet. */
static struct sess *open_sess(EVP_PKEY *k)
{
    struct sess_opts o;
    struct sess *s = NULL;

    sess_opts_init(&o);
    o.directory_url = mockca_directory_url(g_m);
    o.ca_bundle = g_root_path;
    ck_assert_int_eq(sess_new(&o, &s), MC_OK);
    ck_assert_int_eq(sess_set_account(s, k, NULL), MC_OK);
    return s;
}

static void assert_problem_type(struct sess *s, const char *name, long status)
{
    const struct sess_problem *p = sess_last_problem(s);
    ck_assert_ptr_nonnull(p);
    ck_assert_msg(strcmp(p->type, name) == 0, "problem %s, want %s", p->type, name);
    ck_assert_int_eq(p->status, status);
}

static enum mc_err raw_new_order(struct sess *s, const char *name)
{
    struct sess_resp r;
    cJSON *p = cJSON_CreateObject();
    cJSON *ids = cJSON_AddArrayToObject(p, "identifiers");
    cJSON *id = cJSON_CreateObject();
    cJSON_AddStringToObject(id, "type", "dns");
    cJSON_AddStringToObject(id, "value", name);
    cJSON_AddItemToArray(ids, id);
    enum mc_err e = sess_post(s, sess_directory(s)->new_order, p, SESS_SIGN_KID, &r);
    if (e == MC_OK)
        ck_assert_int_eq(r.status, 201);
    sess_resp_free(&r);
    cJSON_Delete(p);
    return e;
}

/* ---- tests ------------------------------------------------------------------------------- */

START_TEST(test_register_and_find)
{
    start_ca(NULL);
    EVP_PKEY *k = gen(KEY_EC_P256);
    struct sess *s = open_sess(k);
    const char *contacts[] = {"mailto:admin@example.com"};
    struct reg_new req = {.contacts = contacts, .n_contacts = 1, .agree_tos = true};
    bool created = false;
    cJSON *acct = NULL;

    ck_assert_int_eq(reg_register(s, &req, &created, &acct), MC_OK);
    ck_assert(created);
    ck_assert_ptr_nonnull(sess_kid(s));
    ck_assert_str_eq(cJSON_GetObjectItem(acct, "status")->valuestring, "valid");
    ck_assert_str_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(acct, "contact"), 0)->valuestring,
                     "mailto:admin@example.com");
    char *kid = strdup(sess_kid(s));
    cJSON_Delete(acct);
    acct = NULL;

    /* Again with the same key: the same account, 200, created false. */
    ck_assert_int_eq(reg_register(s, &req, &created, NULL), MC_OK);
    ck_assert(!created);
    ck_assert_str_eq(sess_kid(s), kid);

    /* onlyReturnExisting finds it from a fresh session with just the key. */
    struct sess *s2 = open_sess(k);
    struct reg_new find = {.only_existing = true};
    ck_assert_int_eq(reg_register(s2, &find, &created, NULL), MC_OK);
    ck_assert(!created);
    ck_assert_str_eq(sess_kid(s2), kid);
    ck_assert_int_eq(reg_fetch(s2, &acct), MC_OK);
    ck_assert_str_eq(cJSON_GetObjectItem(acct, "status")->valuestring, "valid");
    cJSON_Delete(acct);
    sess_free(s2);

    /* ...and refuses an unknown key. */
    EVP_PKEY *k2 = gen(KEY_EC_P384);
    s2 = open_sess(k2);
    ck_assert_int_eq(reg_register(s2, &find, &created, NULL), MC_ERR_PROBLEM);
    assert_problem_type(s2, P_URN "accountDoesNotExist", 400);
    ck_assert_ptr_null(sess_kid(s2));
    sess_free(s2);
    EVP_PKEY_free(k2);

    free(kid);
    sess_free(s);
    EVP_PKEY_free(k);
    stop_ca();
}
END_TEST

START_TEST(test_contacts)
{
    start_ca(NULL);
    EVP_PKEY *k = gen(KEY_RSA2048);
    struct sess *s = open_sess(k);
    struct reg_new req = {.agree_tos = true};
    cJSON *acct = NULL;

    ck_assert_int_eq(reg_register(s, &req, NULL, NULL), MC_OK);
    const char *two[] = {"mailto:a@example.com", "mailto:b@example.org"};
    ck_assert_int_eq(reg_update_contacts(s, two, 2, &acct), MC_OK);
    cJSON *c = cJSON_GetObjectItem(acct, "contact");
    ck_assert_int_eq(cJSON_GetArraySize(c), 2);
    ck_assert_str_eq(cJSON_GetArrayItem(c, 1)->valuestring, "mailto:b@example.org");
    cJSON_Delete(acct);
    acct = NULL;

    /* The server's verdict on a bad address is kept as its problem. */
    const char *bad[] = {"mailto:not-an-address"};
    ck_assert_int_eq(reg_update_contacts(s, bad, 1, &acct), MC_ERR_PROBLEM);
    ck_assert_ptr_null(acct);
    assert_problem_type(s, P_URN "invalidContact", 400);
    ck_assert_ptr_nonnull(strstr(sess_last_error(s), "invalidContact"));

    /* And the contacts did not change. */
    ck_assert_int_eq(reg_fetch(s, &acct), MC_OK);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(acct, "contact")), 2);
    cJSON_Delete(acct);
    acct = NULL;

    /* Zero contacts clear them. */
    ck_assert_int_eq(reg_update_contacts(s, NULL, 0, &acct), MC_OK);
    c = cJSON_GetObjectItem(acct, "contact");
    ck_assert(c == NULL || cJSON_GetArraySize(c) == 0);
    cJSON_Delete(acct);

    sess_free(s);
    EVP_PKEY_free(k);
    stop_ca();
}
END_TEST

static void adjust_eab(struct mockca_config *cfg)
{
    cfg->eab_required = true;
    for (int i = 0; i < 3; i++) {
        char kid[16];
        snprintf(kid, sizeof kid, "kid-%d", i);
        cfg->eab_keys[i].kid = strdup(kid);
        cfg->eab_keys[i].mac = malloc(sizeof eab_mac);
        memcpy(cfg->eab_keys[i].mac, eab_mac, sizeof eab_mac);
        cfg->eab_keys[i].mac[0] = (uint8_t)i; /* a distinct key per kid */
        cfg->eab_keys[i].mac_len = sizeof eab_mac;
    }
    cfg->n_eab_keys = 3;
}

START_TEST(test_eab)
{
    start_ca(adjust_eab);
    const enum jose_alg algs[] = {JOSE_ALG_HS256, JOSE_ALG_HS384, JOSE_ALG_HS512};
    uint8_t mac[sizeof eab_mac];

    /* Without a binding: refused, and the directory said so. */
    EVP_PKEY *k0 = gen(KEY_EC_P256);
    struct sess *s = open_sess(k0);
    ck_assert(sess_directory(s)->eab_required);
    struct reg_new plain = {.agree_tos = true};
    ck_assert_int_eq(reg_register(s, &plain, NULL, NULL), MC_ERR_PROBLEM);
    assert_problem_type(s, P_URN "externalAccountRequired", 400);
    sess_free(s);
    EVP_PKEY_free(k0);

    for (int i = 0; i < 3; i++) {
        char kid[16];
        snprintf(kid, sizeof kid, "kid-%d", i);
        memcpy(mac, eab_mac, sizeof mac);
        mac[0] = (uint8_t)i;
        EVP_PKEY *k = gen(i == 1 ? KEY_RSA2048 : KEY_EC_P256);
        s = open_sess(k);
        struct reg_new req = {.agree_tos = true,
                              .eab_kid = kid,
                              .eab_hmac = mac,
                              .eab_hmac_len = sizeof mac,
                              .eab_alg = algs[i]};
        /* A wrong MAC key first: refused. */
        mac[5] ^= 0x80;
        ck_assert_int_eq(reg_register(s, &req, NULL, NULL), MC_ERR_PROBLEM);
        ck_assert_int_eq(sess_last_problem(s)->status >= 400, 1);
        ck_assert_ptr_null(sess_kid(s));
        mac[5] ^= 0x80;
        bool created = false;
        enum mc_err e = reg_register(s, &req, &created, NULL);
        ck_assert_msg(e == MC_OK, "%s: %s", jose_alg_name(algs[i]), sess_last_error(s));
        ck_assert(created);
        ck_assert_ptr_nonnull(sess_kid(s));
        sess_free(s);
        EVP_PKEY_free(k);
    }
    stop_ca();
}
END_TEST

START_TEST(test_rollover)
{
    start_ca(NULL);
    EVP_PKEY *old = gen(KEY_EC_P256), *nk = gen(KEY_EC_P384), *other = gen(KEY_EC_P256);
    struct sess *s = open_sess(old);
    struct reg_new req = {.agree_tos = true};
    cJSON *acct = NULL;

    ck_assert_int_eq(reg_register(s, &req, NULL, NULL), MC_OK);
    char *kid = strdup(sess_kid(s));

    /* Another account holds "other": rolling over to it is a 409, and nothing changes. */
    struct sess *so = open_sess(other);
    ck_assert_int_eq(reg_register(so, &req, NULL, NULL), MC_OK);
    sess_free(so);
    ck_assert_int_eq(reg_rollover(s, other), MC_ERR_PROBLEM);
    ck_assert_int_eq(sess_last_problem(s)->status, 409);
    ck_assert_ptr_eq(sess_account_key(s), old);
    ck_assert_str_eq(sess_kid(s), kid);
    ck_assert_int_eq(reg_fetch(s, &acct), MC_OK); /* the old key still works */
    cJSON_Delete(acct);
    acct = NULL;

    /* A fresh key: switched, and it works. */
    ck_assert_int_eq(reg_rollover(s, nk), MC_OK);
    ck_assert_ptr_eq(sess_account_key(s), nk);
    ck_assert_str_eq(sess_kid(s), kid);
    ck_assert_int_eq(reg_fetch(s, &acct), MC_OK);
    cJSON_Delete(acct);
    acct = NULL;

    /* The old key no longer signs for the account. */
    struct sess *s_old = open_sess(old);
    ck_assert_int_eq(sess_set_account(s_old, old, kid), MC_OK);
    ck_assert_int_eq(reg_fetch(s_old, &acct), MC_ERR_PROBLEM);
    ck_assert_int_ge(sess_last_problem(s_old)->status, 400);
    /* ...and it finds no account any more. */
    ck_assert_int_eq(sess_set_account(s_old, old, NULL), MC_OK);
    struct reg_new find = {.only_existing = true};
    ck_assert_int_eq(reg_register(s_old, &find, NULL, NULL), MC_ERR_PROBLEM);
    assert_problem_type(s_old, P_URN "accountDoesNotExist", 400);
    sess_free(s_old);

    free(kid);
    sess_free(s);
    EVP_PKEY_free(old);
    EVP_PKEY_free(nk);
    EVP_PKEY_free(other);
    stop_ca();
}
END_TEST

START_TEST(test_deactivate)
{
    start_ca(NULL);
    EVP_PKEY *k = gen(KEY_EC_P256);
    struct sess *s = open_sess(k);
    struct reg_new req = {.agree_tos = true};
    cJSON *acct = NULL;

    ck_assert_int_eq(reg_register(s, &req, NULL, NULL), MC_OK);
    ck_assert_int_eq(reg_deactivate(s), MC_OK);
    ck_assert_int_eq(reg_fetch(s, &acct), MC_ERR_PROBLEM);
    assert_problem_type(s, P_URN "unauthorized", 403);
    ck_assert_ptr_null(acct);
    ck_assert_int_eq(raw_new_order(s, "after.example.com"), MC_ERR_PROBLEM);
    assert_problem_type(s, P_URN "unauthorized", 403);
    sess_free(s);
    EVP_PKEY_free(k);
    stop_ca();
}
END_TEST

START_TEST(test_orders_list)
{
    start_ca(NULL); /* mockca pages the list by 3 (Pebble's default) */
    EVP_PKEY *k = gen(KEY_EC_P256);
    struct sess *s = open_sess(k);
    struct reg_new req = {.agree_tos = true};
    char **urls = NULL;
    size_t n = 0;

    ck_assert_int_eq(reg_register(s, &req, NULL, NULL), MC_OK);
    ck_assert_int_eq(reg_orders(s, 10, &urls, &n), MC_OK);
    ck_assert_uint_eq(n, 0);
    reg_free_urls(urls, n);
    for (int i = 0; i < 7; i++) {
        char name[64];
        snprintf(name, sizeof name, "o%d.example.com", i);
        ck_assert_int_eq(raw_new_order(s, name), MC_OK);
    }
    ck_assert_int_eq(reg_orders(s, 10, &urls, &n), MC_OK);
    ck_assert_uint_eq(n, 7); /* three pages followed */
    for (size_t i = 0; i < n; i++) {
        ck_assert_ptr_nonnull(strstr(urls[i], "https://127.0.0.1:"));
        for (size_t j = 0; j < i; j++)
            ck_assert_str_ne(urls[i], urls[j]);
    }
    reg_free_urls(urls, n);
    /* The page bound holds. */
    ck_assert_int_eq(reg_orders(s, 1, &urls, &n), MC_OK);
    ck_assert_uint_eq(n, 3);
    reg_free_urls(urls, n);
    sess_free(s);
    EVP_PKEY_free(k);
    stop_ca();
}
END_TEST

START_TEST(test_store)
{
    char *dir = tu_tmpdir();
    EVP_PKEY *k = gen(KEY_EC_P256), *lk = NULL;
    char *kid = NULL, path[1024];
    struct stat st;
    const char *durl = "https://127.0.0.1:14000/dir";

    ck_assert_int_eq(reg_store_load(dir, durl, &lk, &kid), MC_ERR_NOT_FOUND);
    ck_assert_int_eq(reg_store_save(dir, durl, k, "https://127.0.0.1:14000/my-account/42"), MC_OK);
    snprintf(path, sizeof path, "%s/accounts/127.0.0.1_14000/account.key", dir);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0600);
    snprintf(path, sizeof path, "%s/accounts/127.0.0.1_14000", dir);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0700);
    ck_assert_int_eq(reg_store_load(dir, durl, &lk, &kid), MC_OK);
    ck_assert(jwk_equal(k, lk));
    ck_assert_str_eq(kid, "https://127.0.0.1:14000/my-account/42");
    EVP_PKEY_free(lk);
    free(kid);

    /* Saved again without a kid (rollover before registration): key only. */
    ck_assert_int_eq(reg_store_save(dir, durl, k, NULL), MC_OK);
    ck_assert_int_eq(reg_store_load(dir, durl, &lk, &kid), MC_OK);
    ck_assert_ptr_null(kid);
    EVP_PKEY_free(lk);

    /* Another server, and a hostile directory URL, are kept apart or refused. */
    ck_assert_int_eq(reg_store_load(dir, "https://127.0.0.1:14001/dir", &lk, &kid),
                     MC_ERR_NOT_FOUND);
    /* "..": the port suffix makes it the plain folder name ".._443", never a climb. */
    ck_assert_int_eq(reg_store_save(dir, "https://../dir", k, NULL), MC_OK);
    snprintf(path, sizeof path, "%s/accounts/.._443/account.key", dir);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(reg_store_save(dir, "not a url", k, NULL), MC_ERR_INVALID);
    ck_assert_int_eq(reg_store_save(dir, durl, k, "javascript:x"), MC_ERR_INVALID);
    /* A default port is spelled out. */
    ck_assert_int_eq(reg_store_save(dir, "https://acme.example/directory", k, NULL), MC_OK);
    snprintf(path, sizeof path, "%s/accounts/acme.example_443/account.key", dir);
    ck_assert_int_eq(stat(path, &st), 0);

    EVP_PKEY_free(k);
    char cmd[1100];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
    free(dir);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("certcli_registration");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_register_and_find);
    tcase_add_test(tc, test_contacts);
    tcase_add_test(tc, test_eab);
    tcase_add_test(tc, test_rollover);
    tcase_add_test(tc, test_deactivate);
    tcase_add_test(tc, test_orders_list);
    tcase_add_test(tc, test_store);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
