/* registration.c: ACME account operations and the account store (registration.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "client/registration.h"
#include "client/wire.h"
#include "common/file.h"
#include "common/jose.h"
#include "common/json.h"
#include "common/keys.h"
#include "common/log.h"

#define MAX_ORDER_URLS 10000 /* across all pages of the orders list */
#define MAX_CONTACTS 32
#define ACCOUNT_JSON_MAX (64 * 1024)

/* A JSON array of the n strings (NULL n 0: empty array). */
static enum mc_err string_array(const char *const *v, size_t n, cJSON **out)
{
    cJSON *a = cJSON_CreateArray();

    *out = NULL;
    if (a == NULL)
        return MC_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        cJSON *str = cJSON_CreateString(v[i]);
        if (v[i] == NULL || str == NULL) {
            cJSON_Delete(str);
            cJSON_Delete(a);
            return v[i] == NULL ? MC_ERR_INVALID : MC_ERR_NOMEM;
        }
        cJSON_AddItemToArray(a, str);
    }
    *out = a;
    return MC_OK;
}

/* The inner JWS of External Account Binding (RFC 8555 section 7.3.4): protected {alg
 * (HS*), kid (the CA-issued key ID), url (newAccount)}, payload the account's public JWK,
 * MACed with the CA-issued key. */
static enum mc_err eab_jws(struct sess *s, const struct reg_new *req, cJSON **out)
{
    cJSON *hdr = NULL, *jwk = NULL;
    char *jwk_text = NULL;
    enum jose_alg alg = req->eab_alg == 0 ? JOSE_ALG_HS256 : req->eab_alg;
    enum mc_err err;

    *out = NULL;
    if (!jose_alg_is_hmac(alg) || req->eab_hmac == NULL || req->eab_hmac_len == 0)
        return MC_ERR_INVALID;
    err = jwk_to_json(sess_account_key(s), &jwk);
    if (err != MC_OK)
        goto out;
    err = json_print(jwk, &jwk_text);
    if (err != MC_OK)
        goto out;
    hdr = cJSON_CreateObject();
    if (hdr == NULL || cJSON_AddStringToObject(hdr, "kid", req->eab_kid) == NULL ||
        cJSON_AddStringToObject(hdr, "url", sess_directory(s)->new_account) == NULL) {
        err = MC_ERR_NOMEM;
        goto out;
    }
    err = jws_sign_hmac(alg, req->eab_hmac, req->eab_hmac_len, hdr, (const uint8_t *)jwk_text,
                        strlen(jwk_text), out);
out:
    cJSON_Delete(hdr);
    cJSON_Delete(jwk);
    free(jwk_text);
    return err;
}

/* The account object of r, checked: an object with a known status. */
static enum mc_err take_account(struct sess_resp *r, cJSON **account)
{
    const char *status;

    if (r->json == NULL || !cJSON_IsObject(r->json) ||
        json_get_string(r->json, "status", &status) != MC_OK ||
        wire_check_status(WIRE_ACCOUNT, status) != MC_OK)
        return MC_ERR_INVALID;
    if (account != NULL) {
        *account = r->json;
        r->json = NULL;
    }
    return MC_OK;
}

enum mc_err reg_register(struct sess *s, const struct reg_new *req, bool *created, cJSON **account)
{
    cJSON *payload = NULL, *arr = NULL, *eab = NULL;
    struct sess_resp r = {0};
    enum mc_err err;

    if (created != NULL)
        *created = false;
    if (account != NULL)
        *account = NULL;
    if (s == NULL || req == NULL || sess_account_key(s) == NULL)
        return MC_ERR_STATE;
    if (req->n_contacts > MAX_CONTACTS)
        return MC_ERR_TOO_BIG;
    payload = cJSON_CreateObject();
    if (payload == NULL) {
        err = MC_ERR_NOMEM;
        goto out;
    }
    if (req->n_contacts > 0) {
        err = string_array(req->contacts, req->n_contacts, &arr);
        if (err != MC_OK)
            goto out;
        cJSON_AddItemToObject(payload, "contact", arr);
        arr = NULL;
    }
    if (req->agree_tos && cJSON_AddTrueToObject(payload, "termsOfServiceAgreed") == NULL) {
        err = MC_ERR_NOMEM;
        goto out;
    }
    if (req->only_existing && cJSON_AddTrueToObject(payload, "onlyReturnExisting") == NULL) {
        err = MC_ERR_NOMEM;
        goto out;
    }
    if (req->eab_kid != NULL) {
        err = eab_jws(s, req, &eab);
        if (err != MC_OK)
            goto out;
        cJSON_AddItemToObject(payload, "externalAccountBinding", eab);
        eab = NULL;
    }
    err = sess_post(s, sess_directory(s)->new_account, payload, SESS_SIGN_JWK, &r);
    if (err != MC_OK)
        goto out;
    /* Section 7.3: 201 for a new account, 200 for the existing one of this key; both name
     * the account URL (the kid of every later request) in Location. */
    if (r.location == NULL) {
        log_msg(LOGL_ERROR, "certcli.register", "status=%ld error=no_location", r.status);
        err = MC_ERR_INVALID;
        goto out;
    }
    err = take_account(&r, account);
    if (err != MC_OK)
        goto out;
    err = sess_set_account(s, sess_account_key(s), r.location);
    if (err != MC_OK)
        goto out;
    if (created != NULL)
        *created = r.status == 201;
out:
    if (err != MC_OK && account != NULL) {
        cJSON_Delete(*account);
        *account = NULL;
    }
    cJSON_Delete(payload);
    cJSON_Delete(arr);
    cJSON_Delete(eab);
    sess_resp_free(&r);
    return err;
}

/* POSTs payload (NULL: POST-as-GET) to the account URL and returns the account. */
static enum mc_err account_post(struct sess *s, const cJSON *payload, cJSON **account)
{
    struct sess_resp r = {0};
    enum mc_err err;

    if (account != NULL)
        *account = NULL;
    if (s == NULL || sess_kid(s) == NULL)
        return MC_ERR_STATE;
    err = sess_post(s, sess_kid(s), payload, SESS_SIGN_KID, &r);
    if (err == MC_OK)
        err = take_account(&r, account);
    sess_resp_free(&r);
    return err;
}

enum mc_err reg_fetch(struct sess *s, cJSON **account)
{
    return account_post(s, NULL, account);
}

enum mc_err reg_update_contacts(struct sess *s, const char *const *contacts, size_t n,
                                cJSON **account)
{
    cJSON *payload = NULL, *arr = NULL;
    enum mc_err err;

    if (account != NULL)
        *account = NULL;
    if (n > MAX_CONTACTS)
        return MC_ERR_TOO_BIG;
    err = string_array(contacts, n, &arr);
    if (err != MC_OK)
        return err;
    payload = cJSON_CreateObject();
    if (payload == NULL) {
        cJSON_Delete(arr);
        return MC_ERR_NOMEM;
    }
    /* Section 7.3.2: the new contact array replaces the old; an empty one clears it. */
    cJSON_AddItemToObject(payload, "contact", arr);
    err = account_post(s, payload, account);
    cJSON_Delete(payload);
    return err;
}

enum mc_err reg_rollover(struct sess *s, EVP_PKEY *new_key)
{
    cJSON *hdr = NULL, *jwk_new = NULL, *jwk_old = NULL, *inner_payload = NULL, *inner = NULL;
    char *text = NULL;
    struct sess_resp r = {0};
    enum jose_alg alg;
    enum mc_err err;
    const char *url;

    if (s == NULL || new_key == NULL || sess_kid(s) == NULL || sess_account_key(s) == NULL)
        return MC_ERR_STATE;
    url = sess_directory(s)->key_change;
    if (url == NULL)
        return MC_ERR_UNSUPPORTED;
    err = jose_alg_for_key(new_key, &alg);
    if (err != MC_OK)
        goto out;
    err = jwk_to_json(new_key, &jwk_new);
    if (err != MC_OK)
        goto out;
    err = jwk_to_json(sess_account_key(s), &jwk_old);
    if (err != MC_OK)
        goto out;
    /* Section 7.3.5: the inner JWS is signed by the new key, carries its jwk and the
     * keyChange URL (no nonce), and its payload names the account and the old key. */
    hdr = cJSON_CreateObject();
    inner_payload = cJSON_CreateObject();
    if (hdr == NULL || inner_payload == NULL || cJSON_AddStringToObject(hdr, "url", url) == NULL ||
        cJSON_AddStringToObject(inner_payload, "account", sess_kid(s)) == NULL) {
        err = MC_ERR_NOMEM;
        goto out;
    }
    cJSON_AddItemToObject(hdr, "jwk", jwk_new);
    jwk_new = NULL;
    cJSON_AddItemToObject(inner_payload, "oldKey", jwk_old);
    jwk_old = NULL;
    err = json_print(inner_payload, &text);
    if (err != MC_OK)
        goto out;
    err = jws_sign(new_key, alg, hdr, (const uint8_t *)text, strlen(text), &inner);
    if (err != MC_OK)
        goto out;
    err = sess_post(s, url, inner, SESS_SIGN_KID, &r);
    if (err != MC_OK)
        goto out; /* the session keeps its old key: the server did not switch */
    err = sess_set_account(s, new_key, sess_kid(s));
out:
    cJSON_Delete(hdr);
    cJSON_Delete(jwk_new);
    cJSON_Delete(jwk_old);
    cJSON_Delete(inner_payload);
    cJSON_Delete(inner);
    free(text);
    sess_resp_free(&r);
    return err;
}

enum mc_err reg_deactivate(struct sess *s)
{
    cJSON *payload = cJSON_CreateObject(), *account = NULL;
    const char *status;
    enum mc_err err;

    if (payload == NULL || cJSON_AddStringToObject(payload, "status", "deactivated") == NULL) {
        cJSON_Delete(payload);
        return MC_ERR_NOMEM;
    }
    err = account_post(s, payload, &account);
    if (err == MC_OK) {
        /* take_account checked status is a string. */
        if (json_get_string(account, "status", &status) != MC_OK ||
            strcmp(status, "deactivated") != 0)
            err = MC_ERR_INVALID;
    }
    cJSON_Delete(payload);
    cJSON_Delete(account);
    return err;
}

void reg_free_urls(char **urls, size_t n)
{
    if (urls == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        free(urls[i]);
    free(urls);
}

enum mc_err reg_orders(struct sess *s, size_t max_pages, char ***urls, size_t *n)
{
    cJSON *account = NULL;
    struct sess_resp r = {0};
    char **v = NULL;
    size_t count = 0, cap = 0;
    char *page = NULL;
    const char *str;
    enum mc_err err;

    *urls = NULL;
    *n = 0;
    err = reg_fetch(s, &account);
    if (err != MC_OK)
        goto out;
    /* Section 7.1.2: the account's "orders" URL; required of servers, but be clear. */
    if (json_get_string(account, "orders", &str) != MC_OK || wire_check_url(str) != MC_OK) {
        err = MC_ERR_INVALID;
        goto out;
    }
    page = strdup(str);
    if (page == NULL) {
        err = MC_ERR_NOMEM;
        goto out;
    }
    for (size_t pg = 0; pg < max_pages && page != NULL; pg++) {
        const cJSON *arr, *it;
        err = sess_post(s, page, NULL, SESS_SIGN_KID, &r);
        if (err != MC_OK)
            goto out;
        if (r.json == NULL || !cJSON_IsObject(r.json) ||
            json_get_array(r.json, "orders", &arr) != MC_OK) {
            err = MC_ERR_INVALID;
            goto out;
        }
        cJSON_ArrayForEach(it, arr)
        {
            if (!cJSON_IsString(it) || wire_check_url(it->valuestring) != MC_OK) {
                err = MC_ERR_INVALID;
                goto out;
            }
            if (count >= MAX_ORDER_URLS) {
                err = MC_ERR_TOO_BIG;
                goto out;
            }
            if (count == cap) {
                size_t ncap = cap == 0 ? 16 : cap * 2;
                char **nv = realloc(v, ncap * sizeof *nv);
                if (nv == NULL) {
                    err = MC_ERR_NOMEM;
                    goto out;
                }
                v = nv;
                cap = ncap;
            }
            v[count] = strdup(it->valuestring);
            if (v[count] == NULL) {
                err = MC_ERR_NOMEM;
                goto out;
            }
            count++;
        }
        /* Section 7.1.2.1: the next page, if any, is a Link rel="next". A server that
         * points a page at itself would loop us until max_pages; stop early. */
        const char *next = sess_resp_link(&r, "next", 0);
        char *nx = NULL;
        if (next != NULL && strcmp(next, page) != 0) {
            nx = strdup(next);
            if (nx == NULL) {
                err = MC_ERR_NOMEM;
                goto out;
            }
        }
        free(page);
        page = nx;
        sess_resp_free(&r);
    }
    *urls = v;
    *n = count;
    v = NULL;
    count = 0;
out:
    reg_free_urls(v, count);
    free(page);
    cJSON_Delete(account);
    sess_resp_free(&r);
    return err;
}

/* ---- the account store ---------------------------------------------------------------------- */

/* "HOST_PORT" of a directory URL: the authority with ':' and any other character outside
 * [A-Za-z0-9.-] made '_', the scheme's default port added when none is given. */
static enum mc_err host_port_dir(const char *directory_url, char *out, size_t n)
{
    const char *p;
    const char *defport;

    if (wire_check_url(directory_url) != MC_OK)
        return MC_ERR_INVALID;
    if (strncasecmp(directory_url, "https://", 8) == 0) {
        p = directory_url + 8;
        defport = "443";
    } else {
        p = directory_url + 7;
        defport = "80";
    }
    size_t alen = strcspn(p, "/?#");
    bool has_port;
    if (p[0] == '[') {
        const char *rb = memchr(p, ']', alen);
        has_port = rb != NULL && rb + 1 < p + alen && rb[1] == ':';
    } else {
        has_port = memchr(p, ':', alen) != NULL;
    }
    if (alen + 5 >= n)
        return MC_ERR_TOO_BIG;
    size_t k = 0;
    for (size_t i = 0; i < alen; i++) {
        char c = p[i];
        bool keep_c = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '.' || c == '-';
        out[k++] = keep_c ? c : '_';
    }
    out[k] = '\0';
    if (!has_port)
        snprintf(out + k, n - k, "_%s", defport);
    /* Never a path component that climbs ("..") or names the folder itself. */
    if (strcmp(out, ".") == 0 || strcmp(out, "..") == 0 || out[0] == '\0')
        return MC_ERR_INVALID;
    return MC_OK;
}

static enum mc_err mkdir_0700(const char *path)
{
    if (mkdir(path, 0700) == 0 || errno == EEXIST)
        return MC_OK;
    return MC_ERR_IO;
}

/* DIR/accounts/HOST_PORT into buf, creating the folders when create. */
static enum mc_err account_dir(const char *dir, const char *directory_url, bool create, char *buf,
                               size_t n)
{
    char hp[300];
    enum mc_err err;
    int w;

    if (dir == NULL || directory_url == NULL)
        return MC_ERR_INVALID;
    err = host_port_dir(directory_url, hp, sizeof hp);
    if (err != MC_OK)
        return err;
    if (create) {
        err = mkdir_0700(dir);
        if (err != MC_OK)
            return err;
        w = snprintf(buf, n, "%s/accounts", dir);
        if (w < 0 || (size_t)w >= n)
            return MC_ERR_TOO_BIG;
        err = mkdir_0700(buf);
        if (err != MC_OK)
            return err;
    }
    w = snprintf(buf, n, "%s/accounts/%s", dir, hp);
    if (w < 0 || (size_t)w >= n)
        return MC_ERR_TOO_BIG;
    if (create)
        return mkdir_0700(buf);
    return MC_OK;
}

enum mc_err reg_store_load(const char *dir, const char *directory_url, EVP_PKEY **key, char **kid)
{
    char base[4096], path[4200];
    char *text = NULL;
    size_t len = 0;
    cJSON *j = NULL;
    EVP_PKEY *k = NULL;
    const char *url, *saved_dir;
    enum mc_err err;
    struct stat st;

    *key = NULL;
    *kid = NULL;
    err = account_dir(dir, directory_url, false, base, sizeof base);
    if (err != MC_OK)
        return err;
    snprintf(path, sizeof path, "%s/account.key", base);
    if (stat(path, &st) != 0)
        return errno == ENOENT ? MC_ERR_NOT_FOUND : MC_ERR_IO;
    err = key_load(path, &k);
    if (err != MC_OK)
        goto out;
    snprintf(path, sizeof path, "%s/account.json", base);
    err = file_read_all(path, ACCOUNT_JSON_MAX, &text, &len);
    if (err == MC_ERR_NOT_FOUND) {
        err = MC_OK; /* only the key was saved: the account is found by onlyReturnExisting */
        goto done;
    }
    if (err != MC_OK)
        goto out;
    err = json_parse(text, len, ACCOUNT_JSON_MAX, JSON_DEFAULT_MAX_DEPTH, &j);
    if (err != MC_OK || !cJSON_IsObject(j)) {
        err = MC_ERR_INVALID;
        goto out;
    }
    /* Two directories on one host and port share the folder; a kid saved for the other
     * one is not ours, so hand back the key alone. */
    if (json_get_string(j, "directory", &saved_dir) == MC_OK &&
        strcmp(saved_dir, directory_url) != 0) {
        log_msg(LOGL_WARN, "certcli.account_store", "event=directory_mismatch");
        goto done;
    }
    if (json_get_string(j, "url", &url) == MC_OK) {
        if (wire_check_url(url) != MC_OK) {
            err = MC_ERR_INVALID;
            goto out;
        }
        *kid = strdup(url);
        if (*kid == NULL) {
            err = MC_ERR_NOMEM;
            goto out;
        }
    }
done:
    *key = k;
    k = NULL;
out:
    EVP_PKEY_free(k);
    cJSON_Delete(j);
    free(text);
    return err;
}

enum mc_err reg_store_save(const char *dir, const char *directory_url, EVP_PKEY *key,
                           const char *kid)
{
    char base[4096], path[4200];
    cJSON *j = NULL;
    char *text = NULL;
    enum mc_err err;

    if (key == NULL || (kid != NULL && wire_check_url(kid) != MC_OK))
        return MC_ERR_INVALID;
    err = account_dir(dir, directory_url, true, base, sizeof base);
    if (err != MC_OK)
        return err;
    snprintf(path, sizeof path, "%s/account.key", base);
    err = key_save(path, key);
    if (err != MC_OK)
        goto out;
    j = cJSON_CreateObject();
    if (j == NULL || cJSON_AddStringToObject(j, "directory", directory_url) == NULL ||
        (kid != NULL && cJSON_AddStringToObject(j, "url", kid) == NULL)) {
        err = MC_ERR_NOMEM;
        goto out;
    }
    err = json_print(j, &text);
    if (err != MC_OK)
        goto out;
    snprintf(path, sizeof path, "%s/account.json", base);
    err = file_write_atomic(path, text, strlen(text), 0600);
out:
    cJSON_Delete(j);
    free(text);
    return err;
}
