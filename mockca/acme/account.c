/* account.c: directory, newNonce, newAccount, account update/deactivation, keyChange and
 * the orders list (RFC 8555 sections 7.1.1, 7.2, 7.3, 7.1.2.1). */
#include "mockca/acme/account.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>
#include <openssl/crypto.h>

#include "common/json.h"
#include "common/log.h"
#include "mockca/acme/render.h"
#include "mockca/acme/request.h"
#include "mockca/acme/wfe.h"
#include "mockca/cc/cc.h"
#include "mockca/internal.h"
#include "mockca/ratelimit.h"
#include "mockca/store.h"

#define ACCOUNT_EAB_KID_MAX 256
#define ACCOUNT_CURSOR_MAX 1000000000L /* pages; far past any store bound */

/* ---- helpers ------------------------------------------------------------------------ */

/* An optional boolean member: absent or null leaves *out; another type is false. */
static bool account_opt_bool(const cJSON *obj, const char *name, bool *out)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, name);

    if (it == NULL || cJSON_IsNull(it))
        return true;
    if (!cJSON_IsBool(it))
        return false;
    *out = cJSON_IsTrue(it);
    return true;
}

static bool account_config_kid(const struct mockca *m, const char *kid)
{
    for (size_t i = 0; i < m->cfg.n_eab_keys; i++)
        if (m->cfg.eab_keys[i].kid != NULL && strcmp(m->cfg.eab_keys[i].kid, kid) == 0)
            return true;
    return false;
}

/* An account bound with a CertCentral EAB key (POST /services/v2/key/acme-eab) belongs to
 * that key's CertCentral account, product and organization. The store keeps the kid; the
 * ids come from the CertCentral store by it, and are shown in an extension member
 * "certcentral" (RFC 8555 section 7.1.2 lets a server add fields; clients ignore them) so
 * that a test can see which binding an account got. */
static enum mc_err account_cc_binding(struct mockca *m, const char *kid, cJSON *j)
{
    struct cc_eab_info info;
    cJSON *b;
    enum mc_err e;

    if (kid == NULL || m->cc == NULL || account_config_kid(m, kid))
        return MC_OK;
    e = cc_eab_lookup(m->cc, kid, &info);
    OPENSSL_cleanse(info.hmac, sizeof(info.hmac));
    if (e == MC_ERR_NOT_FOUND)
        return MC_OK;
    if (e != MC_OK)
        return e;
    b = cJSON_AddObjectToObject(j, "certcentral");
    if (b == NULL || cJSON_AddNumberToObject(b, "account_id", (double)info.account_id) == NULL ||
        cJSON_AddStringToObject(b, "product_name_id", info.product_name_id) == NULL)
        return MC_ERR_NOMEM;
    if (info.organization_id != 0 &&
        cJSON_AddNumberToObject(b, "organization_id", (double)info.organization_id) == NULL)
        return MC_ERR_NOMEM;
    return MC_OK;
}

/* Answers the account id as stored, with status, and a Location header when asked. */
static void account_answer(struct mockca *m, struct http_response *resp, const char *id, int status,
                           bool location)
{
    struct account_snap a;
    cJSON *j = NULL;
    char *url = NULL;

    memset(&a, 0, sizeof(a));
    if (store_account_get(m->store, id, &a) != MC_OK) {
        wfe_problemf(resp, ACME_P_ACCOUNT_DOES_NOT_EXIST, 0, "account is gone");
        goto out;
    }
    if (render_account(m->base_url, &a, &j) != MC_OK ||
        account_cc_binding(m, a.eab_kid, j) != MC_OK) {
        wfe_problemf(resp, ACME_P_SERVER_INTERNAL, 0, "cannot render the account");
        goto out;
    }
    if (location) {
        if (render_url(m->base_url, ACME_PATH_ACCOUNT, id, &url) != MC_OK ||
            http_response_header(resp, "Location", url) != MC_OK) {
            wfe_problemf(resp, ACME_P_SERVER_INTERNAL, 0, "cannot set Location");
            goto out;
        }
    }
    wfe_json(resp, status, j);
out:
    free(url);
    cJSON_Delete(j);
    account_snap_clear(&a);
}

/* A dot-atom of RFC 5322 section 3.2.3 for the local part: what a "valid-looking" address
 * has. Quoted local parts and display names, which Go's mail.ParseAddress also takes, are
 * refused: a test bed should push clients towards plain addresses. */
static bool account_local_ok(const char *s, size_t n)
{
    static const char special[] = "!#$%&'*+/=^_`{|}~-"; /* atext without '?' (a URL query) */

    if (n == 0 || n > 64 || s[0] == '.' || s[n - 1] == '.')
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '.') {
            if (s[i + 1] == '.')
                return false;
            continue;
        }
        if (!isalnum(c) && strchr(special, c) == NULL)
            return false;
    }
    return true;
}

/* A DNS name of two or more LDH labels. */
static bool account_domain_ok(const char *s, size_t n)
{
    size_t label = 0, labels = 0;

    if (n == 0 || n > 253)
        return false;
    for (size_t i = 0; i <= n; i++) {
        unsigned char c = i < n ? (unsigned char)s[i] : '.';
        if (c == '.') {
            if (label == 0 || label > 63 || s[i - 1] == '-')
                return false;
            labels++;
            label = 0;
            continue;
        }
        if (!isalnum(c) && c != '-')
            return false;
        if (label == 0 && c == '-')
            return false;
        label++;
    }
    return labels >= 2;
}

/* Pebble's verifyContacts (wfe.go): mailto only (else unsupportedContact), a non-empty,
 * ASCII, single, parseable address (else invalidContact). */
static enum acme_problem account_contact_check(const char *c, struct acme_error *err)
{
    const char *colon, *email, *at;
    size_t len = strnlen(c, ACCOUNT_CONTACT_MAX_LEN + 1);

    if (len > ACCOUNT_CONTACT_MAX_LEN)
        return acme_error_set(err, ACME_P_INVALID_CONTACT, 0, "contact is longer than %d bytes",
                              ACCOUNT_CONTACT_MAX_LEN);
    colon = strchr(c, ':');
    if (colon == NULL || (size_t)(colon - c) != 6 || strncasecmp(c, "mailto", 6) != 0)
        return acme_error_set(err, ACME_P_UNSUPPORTED_CONTACT, 0,
                              "contact method \"%.*s\" is not supported",
                              colon != NULL ? (int)((colon - c) > 32 ? 32 : (colon - c)) : 0, c);
    email = colon + 1;
    /* "mailto://..." has an authority and no opaque part: Go sees an empty address. */
    if (email[0] == '\0' || email[0] == '/')
        return acme_error_set(err, ACME_P_INVALID_CONTACT, 0, "empty contact email");
    for (const char *p = email; *p != '\0'; p++) {
        if ((unsigned char)*p > 0x7f)
            return acme_error_set(err, ACME_P_INVALID_CONTACT, 0,
                                  "contact email contains non-ASCII characters");
    }
    if (strchr(email, '?') != NULL)
        return acme_error_set(err, ACME_P_INVALID_CONTACT, 0,
                              "contact email \"%.64s\" contains a query", email);
    at = strchr(email, '@');
    if (at == NULL || strchr(at + 1, '@') != NULL ||
        !account_local_ok(email, (size_t)(at - email)) ||
        !account_domain_ok(at + 1, strlen(at + 1)))
        return acme_error_set(err, ACME_P_INVALID_CONTACT, 0, "contact email \"%.64s\" is invalid",
                              email);
    return ACME_P_NONE;
}

/* Reads and checks "contact". *present false when absent or null (Go's nil slice); the
 * strings in list are borrowed from payload. */
static enum acme_problem account_contacts(const cJSON *payload, bool *present,
                                          const char *list[ACCOUNT_MAX_CONTACTS], size_t *n,
                                          struct acme_error *err)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(payload, "contact"), *it;
    int size;

    *present = false;
    *n = 0;
    if (arr == NULL || cJSON_IsNull(arr))
        return ACME_P_NONE;
    if (!cJSON_IsArray(arr))
        return acme_error_set(err, ACME_P_MALFORMED, 0, "contact must be an array of strings");
    size = cJSON_GetArraySize(arr);
    if (size > ACCOUNT_MAX_CONTACTS)
        return acme_error_set(err, ACME_P_MALFORMED, 0, "too many contacts provided: %d > %d", size,
                              ACCOUNT_MAX_CONTACTS);
    cJSON_ArrayForEach(it, arr)
    {
        enum acme_problem p;
        if (!cJSON_IsString(it))
            return acme_error_set(err, ACME_P_MALFORMED, 0, "contact must be an array of strings");
        p = account_contact_check(it->valuestring, err);
        if (p != ACME_P_NONE)
            return p;
        list[(*n)++] = it->valuestring;
    }
    *present = true;
    return ACME_P_NONE;
}

/* acme_check_eab's key lookup: the configured externalAccountMACKeys first, then the keys
 * CertCentral made (POST /services/v2/key/acme-eab, A11), whose MAC is checked the same
 * way, with whichever of HS256/384/512 the inner JWS names (any HMAC takes a 32-byte
 * key). */
static bool account_find_mac(void *ctx, const char *kid, uint8_t **key, size_t *keylen)
{
    struct mockca *m = ctx;
    struct cc_eab_info info;

    for (size_t i = 0; i < m->cfg.n_eab_keys; i++) {
        const struct mockca_eab_key *k = &m->cfg.eab_keys[i];
        if (k->kid == NULL || strcmp(k->kid, kid) != 0)
            continue;
        *key = malloc(k->mac_len > 0 ? k->mac_len : 1);
        if (*key == NULL)
            return false;
        memcpy(*key, k->mac, k->mac_len);
        *keylen = k->mac_len;
        return true;
    }
    if (m->cc == NULL || cc_eab_lookup(m->cc, kid, &info) != MC_OK)
        return false;
    *key = malloc(info.hmac_len > 0 ? info.hmac_len : 1);
    if (*key != NULL) {
        memcpy(*key, info.hmac, info.hmac_len);
        *keylen = info.hmac_len;
    }
    OPENSSL_cleanse(info.hmac, sizeof(info.hmac));
    return *key != NULL;
}

/* ---- directory and nonce ------------------------------------------------------------- */

void account_directory(void *ctx, const struct http_request *req, struct http_response *resp)
{
    struct mockca *m = ctx;
    struct acme_dir_meta meta;
    cJSON *j = NULL;

    (void)req;
    memset(&meta, 0, sizeof(meta));
    meta.terms_of_service = ACCOUNT_TOS_URL;
    meta.caa_identities = (const char *const *)m->cfg.caa_identities;
    meta.n_caa_identities = m->cfg.n_caa_identities;
    meta.eab_required = m->cfg.eab_required;
    meta.profiles = m->cfg.profiles;
    meta.n_profiles = m->cfg.n_profiles;
    if (render_directory(m->base_url, &meta, &j) != MC_OK) {
        wfe_problemf(resp, ACME_P_SERVER_INTERNAL, 0, "cannot render the directory");
        return;
    }
    wfe_json(resp, 200, j);
    cJSON_Delete(j);
}

void account_nonce(void *ctx, const struct http_request *req, struct http_response *resp)
{
    (void)ctx;
    /* Section 7.2: HEAD answers 200, GET 204; the nonce is the after hook's. */
    resp->status = strcmp(req->method, "HEAD") == 0 ? 200 : 204;
}

/* ---- newAccount ----------------------------------------------------------------------- */

/* accountsPerAddress (config.h): counts one new account for the client's address; false
 * when resp holds the 429. Only creations count: a client finding its existing account
 * again (section 7.3.1) is not refused. */
static bool account_rate_limit(struct mockca *m, const struct http_request *req,
                               struct http_response *resp)
{
    const struct mockca_rate_limit *ap = &m->cfg.rl_accounts_per_address;
    char key[sizeof(req->remote_addr) + 16], detail[ACME_DETAIL_MAX];
    int64_t retry_ms = 0;
    enum mc_err e;

    if (ap->count == 0)
        return true;
    snprintf(key, sizeof(key), "accounts:%s", req->remote_addr[0] != '\0' ? req->remote_addr : "?");
    e = ratelimit_take(m->limits, key, ap->count, ap->window_s * 1000, &retry_ms);
    if (e == MC_ERR_LIMIT) {
        snprintf(detail, sizeof(detail),
                 "too many new accounts from %s: %u in %lld seconds", req->remote_addr, ap->count,
                 (long long)ap->window_s);
        mockca_rate_limited(resp, retry_ms, detail);
        log_msg(LOGL_INFO, "acme.rate_limited", "limit=accountsPerAddress addr=%s",
                req->remote_addr);
        return false;
    }
    if (e != MC_OK)
        log_msg(LOGL_WARN, "acme.rate_limit", "limit=accountsPerAddress err=%s", mc_strerror(e));
    return true;
}

void account_new(void *ctx, const struct http_request *req, struct http_response *resp)
{
    struct mockca *m = ctx;
    struct acme_signed s;
    struct acme_error err;
    struct account_snap a;
    const char *contacts[ACCOUNT_MAX_CONTACTS];
    size_t n_contacts = 0;
    bool has_contacts = false, tos = false, only = false;
    const cJSON *eab;
    char id[STORE_ID_LEN + 1] = "", existing[STORE_ID_LEN + 1] = "";
    char eab_kid[ACCOUNT_EAB_KID_MAX] = "";
    char *url = NULL;
    enum mc_err e;

    memset(&err, 0, sizeof(err));
    memset(&a, 0, sizeof(a));
    if (!wfe_check(m, req, NULL, ACME_AUTH_JWK, ACME_PAYLOAD_OBJECT, &s, resp))
        return;
    if (!account_opt_bool(s.payload, "termsOfServiceAgreed", &tos) ||
        !account_opt_bool(s.payload, "onlyReturnExisting", &only)) {
        wfe_problemf(resp, ACME_P_MALFORMED, 0,
                     "termsOfServiceAgreed and onlyReturnExisting must be booleans");
        goto out;
    }
    /* Section 7.3.1: a key that has an account gets that account back, 200. */
    e = store_account_find_by_key(m->store, s.key, existing);
    if (e == MC_OK) {
        if (store_account_get(m->store, existing, &a) == MC_OK && a.status != ACCT_VALID) {
            wfe_problemf(resp, ACME_P_UNAUTHORIZED, 0, "an account with this key exists but is %s",
                         acct_status_name(a.status));
            goto out;
        }
        account_answer(m, resp, existing, 200, true);
        goto out;
    }
    if (e != MC_ERR_NOT_FOUND) {
        wfe_problemf(resp, ACME_P_SERVER_INTERNAL, 0, "account lookup failed");
        goto out;
    }
    if (only) {
        wfe_problemf(resp, ACME_P_ACCOUNT_DOES_NOT_EXIST, 0,
                     "no account exists with this key (onlyReturnExisting)");
        goto out;
    }
    if (account_contacts(s.payload, &has_contacts, contacts, &n_contacts, &err) != ACME_P_NONE) {
        wfe_problem(resp, &err);
        goto out;
    }
    /* The directory always names terms of service, so a new account must agree to them
     * (section 7.3): Pebble's answer, agreementRequired 403 with a Link to the terms.
     * Pebble checks this before the contacts; here a bad contact is named first, so
     * either mistake is reported on its own. */
    if (!tos) {
        if (wfe_link(resp, ACCOUNT_TOS_URL, "terms-of-service") != MC_OK)
            log_msg(LOGL_WARN, "acme.link_header", "err=cannot_add");
        wfe_problemf(resp, ACME_P_AGREEMENT_REQUIRED, 0,
                     "the account must agree to the terms of service (termsOfServiceAgreed)");
        goto out;
    }
    eab = cJSON_GetObjectItemCaseSensitive(s.payload, "externalAccountBinding");
    if (eab != NULL && !cJSON_IsNull(eab)) {
        if (!cJSON_IsObject(eab)) {
            wfe_problemf(resp, ACME_P_MALFORMED, 0, "externalAccountBinding must be a JWS object");
            goto out;
        }
        if (render_url(m->base_url, ACME_PATH_NEW_ACCOUNT, NULL, &url) != MC_OK) {
            wfe_problemf(resp, ACME_P_SERVER_INTERNAL, 0, "out of memory");
            goto out;
        }
        if (acme_check_eab(eab, url, s.key, account_find_mac, m, eab_kid, sizeof(eab_kid), &err) !=
            ACME_P_NONE) {
            wfe_problem(resp, &err);
            goto out;
        }
    } else if (m->cfg.eab_required) {
        wfe_problemf(resp, ACME_P_EXTERNAL_ACCOUNT_REQUIRED, 0,
                     "this server requires an externalAccountBinding");
        goto out;
    }
    if (!account_rate_limit(m, req, resp))
        goto out;
    e = store_account_new(m->store, s.key, contacts, n_contacts, tos,
                          eab_kid[0] != '\0' ? eab_kid : NULL, id, existing);
    if (e == MC_ERR_EXISTS) {
        /* Another request with the same key won the race: that account is the answer. */
        account_answer(m, resp, existing, 200, true);
        goto out;
    }
    if (e != MC_OK) {
        wfe_problemf(resp, ACME_P_SERVER_INTERNAL, 0, "cannot create the account: %s",
                     mc_strerror(e));
        goto out;
    }
    log_msg(LOGL_INFO, "acme.account_new", "id=%s contacts=%zu eab=%s", id, n_contacts,
            eab_kid[0] != '\0' ? "yes" : "no");
    account_answer(m, resp, id, 201, true);
out:
    free(url);
    account_snap_clear(&a);
    acme_signed_free(&s);
}

/* ---- the account resource ------------------------------------------------------------- */

void account_update(void *ctx, const struct http_request *req, struct http_response *resp)
{
    struct mockca *m = ctx;
    struct acme_signed s;
    struct acme_error err;
    const char *contacts[ACCOUNT_MAX_CONTACTS];
    size_t n_contacts = 0;
    bool has_contacts = false, deactivate = false;
    const char *status = NULL;
    const char *id = req->nparams > 0 ? req->params[0] : "";
    enum mc_err e;

    memset(&err, 0, sizeof(err));
    if (!wfe_check(m, req, NULL, ACME_AUTH_KID, ACME_PAYLOAD_ANY, &s, resp))
        return;
    if (strcmp(s.account_id, id) != 0) {
        wfe_problemf(resp, ACME_P_UNAUTHORIZED, 0,
                     "the request's kid is not the account it was sent to");
        goto out;
    }
    if (s.payload == NULL) { /* POST-as-GET, section 7.3.3 */
        account_answer(m, resp, id, 200, false);
        goto out;
    }
    e = json_get_string(s.payload, "status", &status);
    if (e == MC_ERR_INVALID) {
        wfe_problemf(resp, ACME_P_MALFORMED, 0, "status must be a string");
        goto out;
    }
    if (e == MC_OK) {
        if (strcmp(status, "deactivated") == 0)
            deactivate = true;
        else if (strcmp(status, "valid") != 0) {
            /* Section 7.3.6: the only status a client may ask for is "deactivated". */
            wfe_problemf(resp, ACME_P_MALFORMED, 0, "invalid account status \"%.32s\"", status);
            goto out;
        }
    }
    if (deactivate) {
        e = store_account_deactivate(m->store, id);
        if (e != MC_OK) {
            wfe_problemf(resp, e == MC_ERR_STATE ? ACME_P_UNAUTHORIZED : ACME_P_SERVER_INTERNAL, 0,
                         "cannot deactivate the account: %s", mc_strerror(e));
            goto out;
        }
        log_msg(LOGL_INFO, "acme.account_deactivate", "id=%s", id);
        account_answer(m, resp, id, 200, false);
        goto out;
    }
    if (account_contacts(s.payload, &has_contacts, contacts, &n_contacts, &err) != ACME_P_NONE) {
        wfe_problem(resp, &err);
        goto out;
    }
    if (has_contacts) {
        e = store_account_set_contacts(m->store, id, contacts, n_contacts);
        if (e != MC_OK) {
            wfe_problemf(resp, e == MC_ERR_STATE ? ACME_P_UNAUTHORIZED : ACME_P_SERVER_INTERNAL, 0,
                         "cannot update the account: %s", mc_strerror(e));
            goto out;
        }
    } else if (m->cfg.strict && status == NULL) {
        /* Pebble refuses an update that changes nothing; lenient mode answers the account,
         * as clients written before POST-as-GET fetch it with {}. */
        wfe_problemf(resp, ACME_P_MALFORMED, 0,
                     "use POST-as-GET to fetch the account instead of an empty update");
        goto out;
    }
    account_answer(m, resp, id, 200, false);
out:
    acme_signed_free(&s);
}

/* ---- keyChange ------------------------------------------------------------------------ */

void account_key_change(void *ctx, const struct http_request *req, struct http_response *resp)
{
    struct mockca *m = ctx;
    struct acme_signed s;
    struct acme_error err;
    EVP_PKEY *new_key = NULL;
    char *kid = NULL, *url = NULL, *holder_url = NULL;
    char holder[STORE_ID_LEN + 1] = "";
    enum mc_err e;

    memset(&err, 0, sizeof(err));
    if (!wfe_check(m, req, NULL, ACME_AUTH_KID, ACME_PAYLOAD_OBJECT, &s, resp))
        return;
    if (render_url(m->base_url, ACME_PATH_ACCOUNT, s.account_id, &kid) != MC_OK ||
        render_url(m->base_url, ACME_PATH_KEY_CHANGE, NULL, &url) != MC_OK) {
        wfe_problemf(resp, ACME_P_SERVER_INTERNAL, 0, "out of memory");
        goto out;
    }
    if (acme_check_keychange(s.payload, url, kid, s.key, &new_key, &err) != ACME_P_NONE) {
        wfe_problem(resp, &err);
        goto out;
    }
    e = store_account_rollover(m->store, s.account_id, new_key, holder);
    if (e == MC_ERR_EXISTS) {
        /* Section 7.3.5: 409 with the account that holds the key in Location. That may be
         * this account: rolling over to the current key is a conflict too. */
        if (render_url(m->base_url, ACME_PATH_ACCOUNT, holder, &holder_url) != MC_OK ||
            http_response_header(resp, "Location", holder_url) != MC_OK) {
            wfe_problemf(resp, ACME_P_SERVER_INTERNAL, 0, "cannot set Location");
            goto out;
        }
        wfe_problemf(resp, ACME_P_MALFORMED, 409, "the new key is already in use by an account");
        goto out;
    }
    if (e != MC_OK) {
        wfe_problemf(resp, e == MC_ERR_STATE ? ACME_P_UNAUTHORIZED : ACME_P_SERVER_INTERNAL, 0,
                     "cannot change the key: %s", mc_strerror(e));
        goto out;
    }
    log_msg(LOGL_INFO, "acme.account_key_change", "id=%s", s.account_id);
    account_answer(m, resp, s.account_id, 200, false);
out:
    EVP_PKEY_free(new_key);
    free(kid);
    free(url);
    free(holder_url);
    acme_signed_free(&s);
}

/* ---- the orders list ------------------------------------------------------------------ */

/* A page number: decimal digits only, at most ACCOUNT_CURSOR_MAX. */
static bool account_cursor(const char *s, long *out)
{
    char *end = NULL;
    long v;

    if (s[0] == '\0' || strspn(s, "0123456789") != strlen(s) || strlen(s) > 10)
        return false;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < 0 || v > ACCOUNT_CURSOR_MAX)
        return false;
    *out = v;
    return true;
}

void account_orders(void *ctx, const struct http_request *req, struct http_response *resp)
{
    struct mockca *m = ctx;
    struct acme_signed s;
    const char *id = req->nparams > 0 ? req->params[0] : "";
    const char *cursor = http_request_query(req, "cursor");
    char *query = NULL, *next = NULL;
    char(*ids)[STORE_ID_LEN + 1] = NULL;
    size_t n = 0, total = 0, per, qn;
    long page = 0;
    cJSON *j = NULL;

    if (cursor != NULL) {
        /* The layer hands out the path without its query; the JWS url has it. */
        qn = strlen(cursor) + sizeof("cursor=");
        query = malloc(qn);
        if (query == NULL) {
            wfe_problemf(resp, ACME_P_SERVER_INTERNAL, 0, "out of memory");
            return;
        }
        snprintf(query, qn, "cursor=%s", cursor);
    }
    if (!wfe_check(m, req, query, ACME_AUTH_KID, ACME_PAYLOAD_EMPTY, &s, resp)) {
        free(query);
        return;
    }
    if (strcmp(s.account_id, id) != 0) {
        wfe_problemf(resp, ACME_P_UNAUTHORIZED, 0, "only the account's owner may list its orders");
        goto out;
    }
    if (cursor != NULL && !account_cursor(cursor, &page)) {
        wfe_problemf(resp, ACME_P_MALFORMED, 0, "cursor must be a page number");
        goto out;
    }
    per = m->cfg.orders_per_page != 0 ? m->cfg.orders_per_page : 3;
    if (store_account_orders(m->store, id, (size_t)page * per, per, &ids, &n, &total) != MC_OK) {
        wfe_problemf(resp, ACME_P_SERVER_INTERNAL, 0, "cannot list the orders");
        goto out;
    }
    if (render_orders_list(m->base_url, (const char(*)[STORE_ID_LEN + 1]) ids, n, &j) != MC_OK) {
        wfe_problemf(resp, ACME_P_SERVER_INTERNAL, 0, "cannot render the orders");
        goto out;
    }
    if ((size_t)page * per + n < total) {
        size_t nn = strlen(m->base_url) + sizeof(ACME_PATH_ORDERS) + strlen(id) + 32;
        next = malloc(nn);
        if (next == NULL) {
            wfe_problemf(resp, ACME_P_SERVER_INTERNAL, 0, "out of memory");
            goto out;
        }
        snprintf(next, nn, "%s%s%s?cursor=%ld", m->base_url, ACME_PATH_ORDERS, id, page + 1);
        if (wfe_link(resp, next, "next") != MC_OK) {
            wfe_problemf(resp, ACME_P_SERVER_INTERNAL, 0, "cannot set Link");
            goto out;
        }
    }
    wfe_json(resp, 200, j);
out:
    cJSON_Delete(j);
    free(ids);
    free(next);
    free(query);
    acme_signed_free(&s);
}
