/* cc_key.c: AuthKeys and request tokens (A10), and ACME EAB keys (A11). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "common/b64url.h"
#include "common/json.h"
#include "common/log.h"
#include "mockca/cc/cc_int.h"

#define CC_MAX_AUTHKEYS_PER_ACCOUNT 100

/* ---- the request token ---------------------------------------------------------------- */

/* base36 of the 32-byte big-endian number in mac, '0'-padded to 50 characters. */
static void cc_base36(const unsigned char mac[32], char out[51])
{
    static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
    unsigned char n[32];
    memcpy(n, mac, 32);
    for (int pos = 49; pos >= 0; pos--) {
        unsigned rem = 0;
        for (int i = 0; i < 32; i++) { /* n /= 36, long division, remainder kept */
            unsigned cur = (rem << 8) | n[i];
            n[i] = (unsigned char)(cur / 36);
            rem = cur % 36;
        }
        out[pos] = digits[rem];
    }
    out[50] = '\0'; /* 2^256 < 36^50: fifty digits always hold it */
}

static bool cc_ts_valid_syntax(const char *ts)
{
    for (int i = 0; i < 14; i++)
        if (!isdigit((unsigned char)ts[i]))
            return false;
    return true;
}

enum mc_err cc_request_token(const char *auth_key, const char *ts, const char *csr, char out[65])
{
    unsigned char mac[32];
    unsigned int maclen = 0;
    char *msg = NULL;
    size_t tl, cl;
    if (auth_key == NULL || ts == NULL || csr == NULL || strlen(ts) != 14 ||
        !cc_ts_valid_syntax(ts))
        return MC_ERR_INVALID;
    tl = strlen(ts);
    cl = strlen(csr);
    msg = malloc(tl + cl + 1);
    if (msg == NULL)
        return MC_ERR_NOMEM;
    memcpy(msg, ts, tl);
    memcpy(msg + tl, csr, cl + 1);
    if (HMAC(EVP_sha256(), auth_key, (int)strlen(auth_key), (const unsigned char *)msg, tl + cl,
             mac, &maclen) == NULL ||
        maclen != 32) {
        free(msg);
        return MC_ERR_CRYPTO;
    }
    free(msg);
    memcpy(out, ts, 14);
    cc_base36(mac, out + 14);
    return MC_OK;
}

/* "yyyyMMddHHmmss" as Unix seconds (UTC); false when not a real instant. */
static bool cc_ts_parse(const char *ts, int64_t *out)
{
    struct tm tm, back;
    int v[6];
    static const int off[6] = {0, 4, 6, 8, 10, 12}, len[6] = {4, 2, 2, 2, 2, 2};
    for (int i = 0; i < 6; i++) {
        v[i] = 0;
        for (int k = 0; k < len[i]; k++) {
            char d = ts[off[i] + k];
            if (d < '0' || d > '9')
                return false;
            v[i] = v[i] * 10 + (d - '0');
        }
    }
    if (v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31 || v[3] > 23 || v[4] > 59 || v[5] > 59)
        return false;
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = v[0] - 1900;
    tm.tm_mon = v[1] - 1;
    tm.tm_mday = v[2];
    tm.tm_hour = v[3];
    tm.tm_min = v[4];
    tm.tm_sec = v[5];
    *out = (int64_t)timegm(&tm);
    time_t t = (time_t)*out;
    gmtime_r(&t, &back);
    return back.tm_mday == v[2];
}

static bool cc_authkey_live(const struct cc_authkey *k, int64_t account, int64_t now)
{
    return k->account_id == account && (k->expires == 0 || k->expires > now);
}

bool cc_account_has_authkey(struct cc_server *cc, int64_t account, int64_t now)
{
    for (size_t i = 0; i < cc->authkeys.n; i++)
        if (cc_authkey_live(cc->authkeys.v[i], account, now))
            return true;
    return false;
}

/* The CSR as the client may have hashed it: as sent, without CRs, trimmed. [I] CertCentral
 * does not document its normalization (A10). */
static size_t cc_csr_variants(const char *csr, char *v[3])
{
    size_t n = 0, l;
    v[n++] = strdup(csr);
    char *nocr = malloc(strlen(csr) + 1);
    if (nocr != NULL) {
        size_t k = 0;
        for (const char *p = csr; *p != '\0'; p++)
            if (*p != '\r')
                nocr[k++] = *p;
        nocr[k] = '\0';
        v[n++] = nocr;
        char *trim = strdup(nocr);
        if (trim != NULL) {
            l = strlen(trim);
            while (l > 0 && isspace((unsigned char)trim[l - 1]))
                trim[--l] = '\0';
            v[n++] = trim;
        }
    }
    return n;
}

bool cc_token_found(struct cc_server *cc, int64_t account, const char *csr, char **texts,
                    size_t ntexts, int64_t now)
{
    char *variants[3] = {NULL, NULL, NULL};
    size_t nv = cc_csr_variants(csr, variants);
    bool found = false;
    for (size_t t = 0; t < ntexts && !found; t++) {
        const char *s = texts[t];
        size_t len = strlen(s);
        /* Scan for 64-character windows that start with a 14-digit timestamp, as
         * DigiCert's validator does (A10). */
        for (size_t i = 0; i + 64 <= len && !found; i++) {
            char ts[15], tok[65], want[65];
            int64_t at;
            if (!cc_ts_valid_syntax(s + i))
                continue;
            memcpy(ts, s + i, 14);
            ts[14] = '\0';
            memcpy(tok, s + i, 64);
            tok[64] = '\0';
            if (!cc_ts_parse(ts, &at) || at > now || at + CC_RV_TTL < now)
                continue; /* future or stale: not valid now */
            for (size_t k = 0; k < cc->authkeys.n && !found; k++) {
                const struct cc_authkey *ak = cc->authkeys.v[k];
                if (!cc_authkey_live(ak, account, now))
                    continue;
                for (size_t vi = 0; vi < nv && !found; vi++)
                    found = variants[vi] != NULL &&
                            cc_request_token(ak->key, ts, variants[vi], want) == MC_OK &&
                            CRYPTO_memcmp(want, tok, 64) == 0;
            }
        }
    }
    for (size_t i = 0; i < nv; i++)
        free(variants[i]);
    return found;
}

/* ---- AuthKey endpoints ---------------------------------------------------------------- */

static void cc_authkey_json(cJSON *o, const struct cc_authkey *k)
{
    char ts[40];
    cc_add_str(o, "auth_key_id", k->id);
    cc_add_str(o, "auth_key", k->key);
    if (k->expires != 0)
        cc_add_str(o, "expiration_datetime", cc_iso(k->expires, ts, sizeof(ts)));
}

/* POST /account/auth-key[/{days}]: one key without TTL per account; TTL keys may be many. */
void cc_h_authkey_create(struct cc_ctx *c)
{
    struct cc_server *cc = c->cc;
    struct cc_authkey *k;
    int64_t days = 0;
    size_t mine = 0;
    cJSON *j;
    if (c->arg[0] != NULL && (!cc_parse_id(c->arg[0], &days) || days < 1 || days > 3650)) {
        cc_err(c, 400, "invalid_value:days", "days contains an invalid value.");
        return;
    }
    for (size_t i = 0; i < cc->authkeys.n; i++) {
        const struct cc_authkey *o = cc->authkeys.v[i];
        if (!cc_authkey_live(o, c->key->account_id, c->now))
            continue;
        mine++;
        if (days == 0 && o->expires == 0) {
            cc_err(c, 400, "auth_key_exists_for_account",
                   "An AuthKey has already been created for your account.");
            return;
        }
    }
    if (mine >= CC_MAX_AUTHKEYS_PER_ACCOUNT || cc->authkeys.n >= CC_MAX_OBJS) {
        cc_err(c, 429, "request_limit_exceeded", "Service unavailable, please limit request volume");
        return;
    }
    k = calloc(1, sizeof(*k));
    if (k == NULL || cc_random_value(k->id, 16) != MC_OK || cc_random_value(k->key, 40) != MC_OK) {
        free(k);
        cc_nomem(c);
        return;
    }
    k->account_id = c->key->account_id;
    k->created = c->now;
    k->expires = days > 0 ? c->now + days * CC_DAY : 0;
    if (cc_vec_push(&cc->authkeys, k) != MC_OK) {
        free(k);
        cc_nomem(c);
        return;
    }
    log_msg(LOGL_INFO, "cc.authkey.created", "account=%lld id=%s key=%s",
            (long long)k->account_id, k->id, log_secret(k->key));
    j = cJSON_CreateObject();
    cc_authkey_json(j, k);
    cc_send(c, 200, j); /* A10: "returns a 200 OK" */
}

void cc_h_authkey_get(struct cc_ctx *c)
{
    struct cc_server *cc = c->cc;
    const struct cc_authkey *found = NULL;
    size_t n = 0;
    cJSON *j;
    for (size_t i = 0; i < cc->authkeys.n; i++) {
        const struct cc_authkey *k = cc->authkeys.v[i];
        if (!cc_authkey_live(k, c->key->account_id, c->now))
            continue;
        if (c->arg[0] != NULL && strcmp(c->arg[0], k->id) != 0)
            continue;
        found = k;
        n++;
    }
    if (n == 0) {
        cc_err(c, 404, "not_found|auth_key", "The specified AuthKey was not found.");
        return;
    }
    if (n > 1) {
        cc_err(c, 400, "multiple_auth_keys",
               "More than one AuthKey exists: ask for one by its auth_key_id.");
        return;
    }
    j = cJSON_CreateObject();
    cc_authkey_json(j, found);
    cc_send(c, 200, j);
}

/* GET /account/auth-keys; [I] the envelope name "auth_keys". */
void cc_h_authkey_list(struct cc_ctx *c)
{
    struct cc_server *cc = c->cc;
    cJSON *j = cJSON_CreateObject();
    cJSON *a = cJSON_AddArrayToObject(j, "auth_keys");
    for (size_t i = 0; a != NULL && i < cc->authkeys.n; i++) {
        const struct cc_authkey *k = cc->authkeys.v[i];
        if (!cc_authkey_live(k, c->key->account_id, c->now))
            continue;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToArray(a, o);
        cc_authkey_json(o, k);
    }
    cc_send(c, 200, j);
}

/* DELETE /account/auth-key[/{id}]: without an id every key of the account goes; tokens
 * made with them stop working at once. [I] 204. */
void cc_h_authkey_delete(struct cc_ctx *c)
{
    struct cc_server *cc = c->cc;
    size_t n = 0;
    for (size_t i = 0; i < cc->authkeys.n;) {
        struct cc_authkey *k = cc->authkeys.v[i];
        if (k->account_id == c->key->account_id &&
            (c->arg[0] == NULL || strcmp(c->arg[0], k->id) == 0)) {
            OPENSSL_cleanse(k->key, sizeof(k->key));
            free(k);
            cc_vec_remove(&cc->authkeys, i);
            n++;
        } else {
            i++;
        }
    }
    if (n == 0) {
        cc_err(c, 404, "not_found|auth_key", "The specified AuthKey was not found.");
        return;
    }
    cc_no_content(c);
}

/* ---- ACME EAB (A11) ------------------------------------------------------------------- */

void cc_h_eab_create(struct cc_ctx *c)
{
    struct cc_server *cc = c->cc;
    const char *name = NULL, *prod_id = NULL;
    const struct cc_product *prod;
    int64_t org_id = 0, years = 1;
    enum mc_err r;
    struct cc_eab *e = NULL;
    uint8_t kid_raw[32];
    char *kid = NULL, *hmac = NULL;
    cJSON *j;

    if (!cc_need_body(c))
        return;
    if (json_get_string(c->body, "name", &name) == MC_ERR_INVALID ||
        (name != NULL && strlen(name) > 256)) {
        cc_err(c, 400, "invalid_value:name", "name contains an invalid value.");
        return;
    }
    if (json_get_string(c->body, "product_name_id", &prod_id) != MC_OK) {
        cc_err(c, 400, "invalid_value:product_name_id", "product_name_id contains an invalid value.");
        return;
    }
    prod = cc_product_find(prod_id);
    if (prod == NULL) {
        cc_err(c, 404, "not_found|product", "The specified product was not found.");
        return;
    }
    r = json_get_int(c->body, "validity_years", 1, 3, &years);
    if (r == MC_ERR_INVALID) {
        cc_err(c, 400, "invalid_value:validity_years", "validity_years contains an invalid value.");
        return;
    }
    r = json_get_int(c->body, "organization_id", 1, INT64_MAX, &org_id);
    if (r == MC_ERR_INVALID || (r == MC_ERR_NOT_FOUND && prod->vt != CC_VT_DV)) {
        cc_err(c, 400, "invalid_value:organization_id", "organization_id contains an invalid value.");
        return;
    }
    if (org_id != 0) {
        struct cc_org *g = cc_org_get(cc, org_id, c->key->account_id);
        if (g == NULL) {
            cc_err(c, 404, "not_found|organization", "The specified organization was not found.");
            return;
        }
        /* A11: the organization must be prevalidated for the product's level. */
        bool ok = prod->vt == CC_VT_EV ? strcmp(g->ev, "active") == 0
                                       : strcmp(g->ov, "active") == 0 || strcmp(g->ev, "active") == 0;
        if (prod->vt != CC_VT_DV && !ok) {
            cc_err(c, 400, "organization_not_validated",
                   "The organization is not validated for this product.");
            return;
        }
    }
    if (cc->eabs.n >= CC_MAX_OBJS) {
        cc_err(c, 429, "request_limit_exceeded", "Service unavailable, please limit request volume");
        return;
    }
    e = calloc(1, sizeof(*e));
    if (e == NULL || RAND_bytes(kid_raw, sizeof(kid_raw)) != 1 ||
        RAND_bytes(e->hmac, sizeof(e->hmac)) != 1 ||
        b64url_encode(kid_raw, sizeof(kid_raw), &kid) != MC_OK ||
        b64url_encode(e->hmac, sizeof(e->hmac), &hmac) != MC_OK || strlen(kid) >= sizeof(e->kid))
        goto nomem;
    snprintf(e->kid, sizeof(e->kid), "%s", kid);
    snprintf(e->product, sizeof(e->product), "%s", prod->name_id);
    e->name = strdup(name != NULL ? name : "");
    e->org_id = org_id;
    e->account_id = c->key->account_id;
    e->created = c->now;
    e->vyears = (int)years;
    if (e->name == NULL || cc_vec_push(&cc->eabs, e) != MC_OK)
        goto nomem;
    e = NULL;
    log_msg(LOGL_INFO, "cc.eab.created", "kid=%s hmac=%s", kid, log_secret(hmac));
    j = cJSON_CreateObject();
    cc_add_str(j, "acme_directory_url", cc->acme_dir);
    cc_add_str(j, "ext_act_kid", kid);
    cc_add_str(j, "ext_act_hmac", hmac);
    cc_send(c, 201, j);
    goto out;
nomem:
    if (e != NULL)
        free(e->name);
    free(e);
    cc_nomem(c);
out:
    if (hmac != NULL)
        OPENSSL_cleanse(hmac, strlen(hmac));
    free(kid);
    free(hmac);
}

enum mc_err cc_eab_lookup(struct cc_server *cc, const char *kid, struct cc_eab_info *out)
{
    enum mc_err r = MC_ERR_NOT_FOUND;
    memset(out, 0, sizeof(*out));
    if (kid == NULL)
        return MC_ERR_NOT_FOUND;
    pthread_mutex_lock(&cc->mu);
    for (size_t i = 0; i < cc->eabs.n; i++) {
        const struct cc_eab *e = cc->eabs.v[i];
        if (strcmp(e->kid, kid) != 0)
            continue;
        memcpy(out->hmac, e->hmac, sizeof(e->hmac));
        out->hmac_len = sizeof(e->hmac);
        snprintf(out->product_name_id, sizeof(out->product_name_id), "%s", e->product);
        out->organization_id = e->org_id;
        out->account_id = e->account_id;
        out->validity_years = e->vyears;
        r = MC_OK;
        break;
    }
    pthread_mutex_unlock(&cc->mu);
    return r;
}
