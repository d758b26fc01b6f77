/* render.c: the JSON of ACME resources (RFC 8555 section 7.1) from store snapshots.
 *
 * Member names and presence follow RFC 8555, and Pebble (acme/common.go, wfe/wfe.go) where
 * the RFC leaves a choice, so that clients written against Pebble see the same shapes:
 * optional members are left out rather than sent empty or null, except the directory's
 * "externalAccountRequired", which Pebble always sends (true or false).
 *
 * Times are clock_format_rfc3339's "2026-11-24T03:24:15.123Z". Go clients parse them with
 * time.Parse(time.RFC3339, ...): Go accepts a fractional second after the seconds field
 * even though the layout has none, and "Z" matches the layout's "Z07:00". */
#include "mockca/acme/render.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/jose.h"

/* Caps: nothing we render comes near them; they keep a corrupt input from building a
 * huge string. */
#define RENDER_BASE_MAX 1024
#define RENDER_ID_MAX 512
#define RENDER_URL_MAX (RENDER_BASE_MAX + 64 + RENDER_ID_MAX)
#define RENDER_TIME_LEN 40

static bool render_id_ok(const char *id)
{
    size_t n = strnlen(id, RENDER_ID_MAX + 1);

    if (n > RENDER_ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)id[i];
        /* '/' would name another resource, '?' and '#' would start a query or fragment,
         * and spaces or controls are not allowed in a URL at all. */
        if (c == '/' || c == '?' || c == '#' || c <= 0x20 || c == 0x7f)
            return false;
    }
    return true;
}

enum mc_err render_url(const char *base, const char *path, const char *id, char **out)
{
    size_t nb, np, ni, total;
    char *s = NULL;

    if (out == NULL)
        return MC_ERR_INVALID;
    *out = NULL;
    if (base == NULL || path == NULL)
        return MC_ERR_INVALID;
    nb = strnlen(base, RENDER_BASE_MAX + 1);
    if (nb == 0 || nb > RENDER_BASE_MAX)
        return nb == 0 ? MC_ERR_INVALID : MC_ERR_TOO_BIG;
    /* A trailing slash would give "//dir", which clients keep and our router does not. */
    if (base[nb - 1] == '/')
        return MC_ERR_INVALID;
    np = strnlen(path, 65);
    if (np > 64 || (np > 0 && path[0] != '/'))
        return MC_ERR_INVALID;
    ni = 0;
    if (id != NULL && id[0] != '\0') {
        if (!render_id_ok(id))
            return MC_ERR_INVALID;
        ni = strlen(id);
    }
    total = nb + np + ni;
    if (total > RENDER_URL_MAX)
        return MC_ERR_TOO_BIG;
    s = malloc(total + 1);
    if (s == NULL)
        return MC_ERR_NOMEM;
    memcpy(s, base, nb);
    memcpy(s + nb, path, np);
    if (ni > 0)
        memcpy(s + nb + np, id, ni);
    s[total] = '\0';
    *out = s;
    return MC_OK;
}

/* ---- helpers ----------------------------------------------------------------------------- */

static enum mc_err add_str(cJSON *obj, const char *name, const char *val)
{
    if (val == NULL)
        return MC_ERR_INVALID;
    return cJSON_AddStringToObject(obj, name, val) != NULL ? MC_OK : MC_ERR_NOMEM;
}

/* Adds name: [v[0], ..., v[n-1]] to obj. MC_ERR_INVALID for a NULL entry (or v NULL with
 * n > 0), MC_ERR_NOMEM when out of memory. */
static enum mc_err add_str_array(cJSON *obj, const char *name, const char *const *v,
                                 size_t n)
{
    cJSON *arr;

    if (v == NULL && n > 0)
        return MC_ERR_INVALID;
    arr = cJSON_AddArrayToObject(obj, name);
    if (arr == NULL)
        return MC_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        cJSON *s;
        if (v[i] == NULL)
            return MC_ERR_INVALID;
        s = cJSON_CreateString(v[i]);
        if (s == NULL)
            return MC_ERR_NOMEM;
        if (!cJSON_AddItemToArray(arr, s)) {
            cJSON_Delete(s);
            return MC_ERR_NOMEM;
        }
    }
    return MC_OK;
}

static enum mc_err add_url(cJSON *obj, const char *name, const char *base, const char *path,
                           const char *id)
{
    char *url = NULL;
    enum mc_err err = render_url(base, path, id, &url);

    if (err == MC_OK)
        err = add_str(obj, name, url);
    free(url);
    return err;
}

/* Appends the URL to an array. */
static enum mc_err push_url(cJSON *arr, const char *base, const char *path, const char *id)
{
    char *url = NULL;
    cJSON *s = NULL;
    enum mc_err err = render_url(base, path, id, &url);

    if (err != MC_OK)
        return err;
    s = cJSON_CreateString(url);
    free(url);
    if (s == NULL || !cJSON_AddItemToArray(arr, s)) {
        cJSON_Delete(s);
        return MC_ERR_NOMEM;
    }
    return MC_OK;
}

static enum mc_err add_time_ms(cJSON *obj, const char *name, int64_t ms)
{
    char buf[RENDER_TIME_LEN];

    return add_str(obj, name, clock_format_rfc3339(ms, buf, sizeof(buf)));
}

/* notBefore/notAfter are kept in Unix seconds; clamp before scaling so the product cannot
 * overflow (clock_format_rfc3339 clamps again to the years RFC 3339 can write). */
static enum mc_err add_time_s(cJSON *obj, const char *name, int64_t s)
{
    const int64_t lim = INT64_MAX / 1000;

    if (s > lim)
        s = lim;
    if (s < -lim)
        s = -lim;
    return add_time_ms(obj, name, s * 1000);
}

/* The store's name functions answer "unknown" out of range; a resource must never carry
 * that, so a corrupt status is refused here instead. */
static const char *status_or_null(int v, int lo, int hi, const char *name)
{
    return v >= lo && v <= hi ? name : NULL;
}

static enum mc_err ident_to_json(const struct ident *id, bool strip_wildcard, cJSON **out)
{
    cJSON *j = NULL;
    const char *type, *value;
    enum mc_err err = MC_ERR_INVALID;

    *out = NULL;
    if (id == NULL || id->value == NULL)
        return MC_ERR_INVALID;
    if (id->type == IDENT_DNS)
        type = "dns";
    else if (id->type == IDENT_IP)
        type = "ip"; /* RFC 8738 section 3 */
    else
        return MC_ERR_INVALID;
    value = id->value;
    /* Section 7.1.4: an authorization's identifier never carries the "*." of the order's
     * wildcard name; "wildcard": true says where it came from. */
    if (strip_wildcard && id->type == IDENT_DNS && strncmp(value, "*.", 2) == 0)
        value += 2;
    j = cJSON_CreateObject();
    if (j == NULL)
        return MC_ERR_NOMEM;
    err = add_str(j, "type", type);
    if (err != MC_OK)
        goto out;
    err = add_str(j, "value", value);
    if (err != MC_OK)
        goto out;
    *out = j;
    j = NULL;
out:
    cJSON_Delete(j);
    return err;
}

/* Adds child to obj under name; obj owns it afterwards whatever happens. */
static enum mc_err add_child(cJSON *obj, const char *name, cJSON *child)
{
    if (!cJSON_AddItemToObject(obj, name, child)) {
        cJSON_Delete(child);
        return MC_ERR_NOMEM;
    }
    return MC_OK;
}

static enum mc_err add_problem(cJSON *obj, const char *name, const struct acme_error *e)
{
    cJSON *p = NULL;
    enum mc_err err = render_problem(e, NULL, &p);

    if (err != MC_OK)
        return err;
    return add_child(obj, name, p);
}

/* ---- resources --------------------------------------------------------------------------- */

enum mc_err render_directory(const char *base, const struct acme_dir_meta *meta, cJSON **out)
{
    static const struct acme_dir_meta no_meta = {0};
    static const struct {
        const char *name, *path;
    } resources[] = {
        {"newNonce", ACME_PATH_NONCE},     {"newAccount", ACME_PATH_NEW_ACCOUNT},
        {"newOrder", ACME_PATH_NEW_ORDER}, {"newAuthz", ACME_PATH_NEW_AUTHZ},
        {"revokeCert", ACME_PATH_REVOKE},  {"keyChange", ACME_PATH_KEY_CHANGE},
    };
    cJSON *dir = NULL, *m = NULL, *profiles = NULL;
    char *ari = NULL;
    enum mc_err err;

    if (out == NULL)
        return MC_ERR_INVALID;
    *out = NULL;
    if (meta == NULL)
        meta = &no_meta;
    dir = cJSON_CreateObject();
    if (dir == NULL)
        return MC_ERR_NOMEM;
    for (size_t i = 0; i < sizeof(resources) / sizeof(resources[0]); i++) {
        err = add_url(dir, resources[i].name, base, resources[i].path, NULL);
        if (err != MC_OK)
            goto out;
    }
    /* RFC 9773 section 4.1: the client appends "/" and the certificate id to renewalInfo,
     * so the directory names it without the path's trailing slash. */
    err = render_url(base, ACME_PATH_RENEWAL_INFO, NULL, &ari);
    if (err != MC_OK)
        goto out;
    ari[strlen(ari) - 1] = '\0';
    err = add_str(dir, "renewalInfo", ari);
    if (err != MC_OK)
        goto out;

    m = cJSON_AddObjectToObject(dir, "meta");
    err = MC_ERR_NOMEM;
    if (m == NULL)
        goto out;
    if (meta->terms_of_service != NULL) {
        err = add_str(m, "termsOfService", meta->terms_of_service);
        if (err != MC_OK)
            goto out;
    }
    if (meta->website != NULL) {
        err = add_str(m, "website", meta->website);
        if (err != MC_OK)
            goto out;
    }
    if (meta->n_caa_identities > 0) {
        err = add_str_array(m, "caaIdentities", meta->caa_identities, meta->n_caa_identities);
        if (err != MC_OK)
            goto out;
    }
    /* Pebble always sends it, false included; clients read a missing one as false too. */
    err = MC_ERR_NOMEM;
    if (cJSON_AddBoolToObject(m, "externalAccountRequired", meta->eab_required) == NULL)
        goto out;
    if (meta->n_profiles > 0) {
        err = MC_ERR_INVALID;
        if (meta->profiles == NULL)
            goto out;
        profiles = cJSON_AddObjectToObject(m, "profiles");
        err = MC_ERR_NOMEM;
        if (profiles == NULL)
            goto out;
        for (size_t i = 0; i < meta->n_profiles; i++) {
            const struct mockca_profile *p = &meta->profiles[i];
            err = MC_ERR_INVALID;
            /* A repeated name would print an object our own parser (and RFC 7515 readers)
             * refuse; the configuration should never hold one. */
            if (p->name == NULL || p->name[0] == '\0' ||
                cJSON_GetObjectItemCaseSensitive(profiles, p->name) != NULL)
                goto out;
            err = add_str(profiles, p->name, p->description != NULL ? p->description : "");
            if (err != MC_OK)
                goto out;
        }
    }
    *out = dir;
    dir = NULL;
    err = MC_OK;
out:
    free(ari);
    cJSON_Delete(dir);
    return err;
}

enum mc_err render_account(const char *base, const struct account_snap *a, cJSON **out)
{
    cJSON *j = NULL, *jwk = NULL;
    enum mc_err err;

    if (out == NULL)
        return MC_ERR_INVALID;
    *out = NULL;
    if (a == NULL || a->key == NULL || a->n_contacts > STORE_MAX_CONTACTS)
        return MC_ERR_INVALID;
    j = cJSON_CreateObject();
    if (j == NULL)
        return MC_ERR_NOMEM;
    err = add_str(
        j, "status",
        status_or_null((int)a->status, ACCT_VALID, ACCT_REVOKED, acct_status_name(a->status)));
    if (err != MC_OK)
        goto out;
    /* Left out when empty, as Pebble does ("contact" is optional in section 7.1.2). */
    if (a->n_contacts > 0) {
        err = add_str_array(j, "contact", (const char *const *)a->contacts, a->n_contacts);
        if (err != MC_OK)
            goto out;
    }
    if (a->tos_agreed) {
        err = MC_ERR_NOMEM;
        if (cJSON_AddTrueToObject(j, "termsOfServiceAgreed") == NULL)
            goto out;
    }
    err = add_url(j, "orders", base, ACME_PATH_ORDERS, a->id);
    if (err != MC_OK)
        goto out;
    err = jwk_to_json(a->key, &jwk);
    if (err != MC_OK)
        goto out;
    err = add_child(j, "key", jwk);
    jwk = NULL;
    if (err != MC_OK)
        goto out;
    *out = j;
    j = NULL;
out:
    cJSON_Delete(j);
    return err;
}

enum mc_err render_order(const char *base, const struct order_snap *o, cJSON **out)
{
    cJSON *j = NULL, *arr = NULL, *id = NULL;
    enum mc_err err;

    if (out == NULL)
        return MC_ERR_INVALID;
    *out = NULL;
    if (o == NULL || (o->idents.n > 0 && o->idents.v == NULL) ||
        (o->n_authz > 0 && o->authz_ids == NULL))
        return MC_ERR_INVALID;
    j = cJSON_CreateObject();
    if (j == NULL)
        return MC_ERR_NOMEM;
    err = add_str(
        j, "status",
        status_or_null((int)o->status, ORDER_PENDING, ORDER_INVALID, order_status_name(o->status)));
    if (err != MC_OK)
        goto out;
    /* Required for pending and ready orders; Pebble sends it in every state. */
    err = add_time_ms(j, "expires", o->expires_ms);
    if (err != MC_OK)
        goto out;
    arr = cJSON_AddArrayToObject(j, "identifiers");
    err = MC_ERR_NOMEM;
    if (arr == NULL)
        goto out;
    for (size_t i = 0; i < o->idents.n; i++) {
        err = ident_to_json(&o->idents.v[i], false, &id);
        if (err != MC_OK)
            goto out;
        err = MC_ERR_NOMEM;
        if (!cJSON_AddItemToArray(arr, id)) {
            cJSON_Delete(id);
            goto out;
        }
        id = NULL;
    }
    if (o->not_before != 0) {
        err = add_time_s(j, "notBefore", o->not_before);
        if (err != MC_OK)
            goto out;
    }
    if (o->not_after != 0) {
        err = add_time_s(j, "notAfter", o->not_after);
        if (err != MC_OK)
            goto out;
    }
    if (o->profile != NULL) {
        err = add_str(j, "profile", o->profile);
        if (err != MC_OK)
            goto out;
    }
    if (o->replaces != NULL) {
        err = add_str(j, "replaces", o->replaces); /* RFC 9773 section 5 */
        if (err != MC_OK)
            goto out;
    }
    arr = cJSON_AddArrayToObject(j, "authorizations");
    err = MC_ERR_NOMEM;
    if (arr == NULL)
        goto out;
    for (size_t i = 0; i < o->n_authz; i++) {
        err = push_url(arr, base, ACME_PATH_AUTHZ, o->authz_ids[i]);
        if (err != MC_OK)
            goto out;
    }
    err = add_url(j, "finalize", base, ACME_PATH_FINALIZE, o->id);
    if (err != MC_OK)
        goto out;
    if (o->status == ORDER_VALID && o->cert_serial != NULL && o->cert_serial[0] != '\0') {
        err = add_url(j, "certificate", base, ACME_PATH_CERT, o->cert_serial);
        if (err != MC_OK)
            goto out;
    }
    if (o->status == ORDER_INVALID && o->error.type != ACME_P_NONE) {
        err = add_problem(j, "error", &o->error);
        if (err != MC_OK)
            goto out;
    }
    *out = j;
    j = NULL;
    err = MC_OK;
out:
    cJSON_Delete(j);
    return err;
}

enum mc_err render_challenge(const char *base, const struct challenge_snap *c, cJSON **out)
{
    cJSON *j = NULL;
    enum mc_err err;

    if (out == NULL)
        return MC_ERR_INVALID;
    *out = NULL;
    if (c == NULL || memchr(c->token, '\0', sizeof(c->token)) == NULL)
        return MC_ERR_INVALID;
    j = cJSON_CreateObject();
    if (j == NULL)
        return MC_ERR_NOMEM;
    err = add_str(
        j, "type",
        status_or_null((int)c->type, CHALL_HTTP01, CHALL_DNSACCOUNT01, chall_type_name(c->type)));
    if (err != MC_OK)
        goto out;
    err = add_url(j, "url", base, ACME_PATH_CHALLENGE, c->id);
    if (err != MC_OK)
        goto out;
    err = add_str(
        j, "status",
        status_or_null((int)c->status, CHALL_PENDING, CHALL_INVALID, chall_status_name(c->status)));
    if (err != MC_OK)
        goto out;
    err = add_str(j, "token", c->token);
    if (err != MC_OK)
        goto out;
    /* Section 7.1.5 (challenge objects): "validated" is REQUIRED when valid. */
    if (c->status == CHALL_VALID) {
        err = add_time_ms(j, "validated", c->validated_ms);
        if (err != MC_OK)
            goto out;
    }
    if (c->status == CHALL_INVALID && c->error.type != ACME_P_NONE) {
        err = add_problem(j, "error", &c->error);
        if (err != MC_OK)
            goto out;
    }
    *out = j;
    j = NULL;
out:
    cJSON_Delete(j);
    return err;
}

enum mc_err render_authz(const char *base, const struct authz_snap *a, cJSON **out)
{
    cJSON *j = NULL, *id = NULL, *arr = NULL, *ch = NULL;
    enum mc_err err;

    if (out == NULL)
        return MC_ERR_INVALID;
    *out = NULL;
    if (a == NULL || a->n_challenges > STORE_MAX_CHALLENGES)
        return MC_ERR_INVALID;
    j = cJSON_CreateObject();
    if (j == NULL)
        return MC_ERR_NOMEM;
    err = ident_to_json(&a->ident, true, &id);
    if (err != MC_OK)
        goto out;
    err = add_child(j, "identifier", id);
    if (err != MC_OK)
        goto out;
    err = add_str(
        j, "status",
        status_or_null((int)a->status, AUTHZ_PENDING, AUTHZ_REVOKED, authz_status_name(a->status)));
    if (err != MC_OK)
        goto out;
    err = add_time_ms(j, "expires", a->expires_ms);
    if (err != MC_OK)
        goto out;
    arr = cJSON_AddArrayToObject(j, "challenges");
    err = MC_ERR_NOMEM;
    if (arr == NULL)
        goto out;
    for (size_t i = 0; i < a->n_challenges; i++) {
        err = render_challenge(base, &a->challenges[i], &ch);
        if (err != MC_OK)
            goto out;
        err = MC_ERR_NOMEM;
        if (!cJSON_AddItemToArray(arr, ch)) {
            cJSON_Delete(ch);
            goto out;
        }
    }
    /* Pebble and Boulder leave it out when false (omitempty); section 7.1.4 only says it
     * MUST be true for a wildcard name. */
    if (a->wildcard) {
        err = MC_ERR_NOMEM;
        if (cJSON_AddTrueToObject(j, "wildcard") == NULL)
            goto out;
    }
    *out = j;
    j = NULL;
    err = MC_OK;
out:
    cJSON_Delete(j);
    return err;
}

enum mc_err render_orders_list(const char *base, const char (*ids)[STORE_ID_LEN + 1], size_t n,
                               cJSON **out)
{
    cJSON *j = NULL, *arr = NULL;
    enum mc_err err;

    if (out == NULL)
        return MC_ERR_INVALID;
    *out = NULL;
    if (n > 0 && ids == NULL)
        return MC_ERR_INVALID;
    if (n > STORE_MAX_OBJECTS)
        return MC_ERR_TOO_BIG;
    j = cJSON_CreateObject();
    if (j == NULL)
        return MC_ERR_NOMEM;
    arr = cJSON_AddArrayToObject(j, "orders");
    err = MC_ERR_NOMEM;
    if (arr == NULL)
        goto out;
    for (size_t i = 0; i < n; i++) {
        /* Each id is a fixed array: read it only up to its own end. */
        if (memchr(ids[i], '\0', STORE_ID_LEN + 1) == NULL) {
            err = MC_ERR_INVALID;
            goto out;
        }
        err = push_url(arr, base, ACME_PATH_ORDER, ids[i]);
        if (err != MC_OK)
            goto out;
    }
    *out = j;
    j = NULL;
    err = MC_OK;
out:
    cJSON_Delete(j);
    return err;
}

enum mc_err render_problem(const struct acme_error *e, const struct ident *ident, cJSON **out)
{
    cJSON *j = NULL, *id = NULL;
    const char *urn;
    int status;
    enum mc_err err;

    if (out == NULL)
        return MC_ERR_INVALID;
    *out = NULL;
    if (e == NULL)
        return MC_ERR_INVALID;
    urn = acme_problem_urn(e->type);
    if (urn == NULL || urn[0] == '\0')
        return MC_ERR_INVALID;
    if (memchr(e->detail, '\0', sizeof(e->detail)) == NULL)
        return MC_ERR_INVALID;
    status = e->status != 0 ? e->status : acme_problem_status(e->type);
    j = cJSON_CreateObject();
    if (j == NULL)
        return MC_ERR_NOMEM;
    err = add_str(j, "type", urn);
    if (err != MC_OK)
        goto out;
    err = add_str(j, "detail", e->detail);
    if (err != MC_OK)
        goto out;
    err = MC_ERR_NOMEM;
    if (cJSON_AddNumberToObject(j, "status", status) == NULL)
        goto out;
    if (ident != NULL) {
        err = ident_to_json(ident, false, &id);
        if (err != MC_OK)
            goto out;
        err = add_child(j, "identifier", id);
        if (err != MC_OK)
            goto out;
    }
    *out = j;
    j = NULL;
    err = MC_OK;
out:
    cJSON_Delete(j);
    return err;
}
