/* mockca/config.c: mockca's configuration with Pebble's defaults, read from Pebble's JSON
 * config file and PEBBLE_* environment variables (see config.h for the contract).
 *
 * Both appliers are all-or-nothing: the JSON one parses into a deep copy of the current
 * configuration and swaps it in only when every field was good; the environment one parses
 * every variable into locals first. A CI job that hands us a half-wrong file therefore gets
 * one clear error and an unchanged configuration, never a half-applied one. */
#include "mockca/config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "common/b64url.h"
#include "common/fault.h"
#include "common/file.h"
#include "common/http.h"
#include "common/json.h"
#include "common/log.h"
#include "mockca/acme/afault.h"

/* The config file is read whole; a Pebble config is a few hundred bytes, and 256 EAB keys
 * with long MACs still fit many times over in 1 MiB. */
#define CFG_MAX_JSON (1024 * 1024)
#define CFG_MAX_DEPTH 8
#define CFG_MAX_STR 4096     /* paths, URLs, descriptions */
#define CFG_MAX_NAME 64      /* profile names: they go into URLs and directory JSON */
#define CFG_MAX_KID 256      /* EAB key ids */
#define CFG_MAX_MAC_B64 1024 /* EAB MAC keys, encoded */
#define CFG_MAX_DOMAIN 253   /* RFC 1035 name length, as text */
#define CFG_MAX_VALIDITY_S ((int64_t)100 * 366 * 86400)
#define CFG_MAX_RETRY_S 86400
#define CFG_MAX_RL_COUNT 100000                 /* RATELIMIT_MAX_LIMIT */
#define CFG_MAX_RL_WINDOW_S ((int64_t)366 * 86400) /* a year is past any test's horizon */
#define CFG_MAX_SWEEP_S 86400
#define CFG_DEFAULT_SWEEP_S 30
#define CFG_MAX_STORE_TIME_S ((int64_t)10 * 366 * 86400)
#define CFG_MAX_RL_ENV 64 /* "COUNT/SECONDS" */
#define CFG_MAX_CC_KEY 256 /* cc.c's own cap on an API key */
#define CFG_MAX_CC_ORDERS 1000000
#define CFG_MAX_CC_TIMEOUT_MS 600000
#define CFG_MAX_CC_CERT_DAYS 3660
#define CFG_MAX_CC_ACCOUNT 2147483647
/* The real service's request limits per API key (DigiCert's "Rate limits" page, A0 of
 * shared/specs/certcentral.md): 100 requests in 5 seconds and 1000 in 3 minutes. */
#define CFG_CC_SHORT_COUNT 100
#define CFG_CC_SHORT_WINDOW_S 5
#define CFG_CC_LONG_COUNT 1000
#define CFG_CC_LONG_WINDOW_S 180

/* Pebble's certificate validity when a profile (or, before profiles, the top-level
 * certificateValidityPeriod) does not set one: ca/ca.go defaultValidityPeriod = 157766400
 * seconds (five years). */
#define PEBBLE_DEFAULT_VALIDITY_S 157766400

/* ---- small helpers ---- */

static void set_err(char *err, size_t errn, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errn, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL || errn == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errn, fmt, ap);
    va_end(ap);
}

static enum mc_err dup_str(const char *s, char **out)
{
    *out = NULL;
    if (s == NULL)
        return MC_OK;
    *out = strdup(s);
    return *out == NULL ? MC_ERR_NOMEM : MC_OK;
}

static void profile_clear(struct mockca_profile *p)
{
    free(p->name);
    free(p->description);
    memset(p, 0, sizeof(*p));
}

static void eab_clear(struct mockca_eab_key *k)
{
    free(k->kid);
    if (k->mac != NULL)
        memset(k->mac, 0, k->mac_len); /* a shared secret: do not leave it in freed memory */
    free(k->mac);
    memset(k, 0, sizeof(*k));
}

static void profiles_clear(struct mockca_config *c)
{
    for (size_t i = 0; i < c->n_profiles && i < MOCKCA_MAX_PROFILES; i++)
        profile_clear(&c->profiles[i]);
    c->n_profiles = 0;
}

static void eab_keys_clear(struct mockca_config *c)
{
    for (size_t i = 0; i < c->n_eab_keys && i < MOCKCA_MAX_EAB_KEYS; i++)
        eab_clear(&c->eab_keys[i]);
    c->n_eab_keys = 0;
}

static void cc_key_clear(struct mockca_cc_key *k)
{
    if (k->key != NULL)
        memset(k->key, 0, strlen(k->key)); /* a credential: not left in freed memory */
    free(k->key);
    free(k->role);
    memset(k, 0, sizeof(*k));
}

static void cc_keys_clear(struct mockca_cc_config *c)
{
    for (size_t i = 0; i < c->n_keys && i < MOCKCA_MAX_CC_KEYS; i++)
        cc_key_clear(&c->keys[i]);
    c->n_keys = 0;
}

static void list_clear(char **list, size_t *n)
{
    for (size_t i = 0; i < *n && i < MOCKCA_MAX_LIST; i++) {
        free(list[i]);
        list[i] = NULL;
    }
    *n = 0;
}

void mockca_config_free(struct mockca_config *cfg)
{
    if (cfg == NULL)
        return;
    free(cfg->listen_addr);
    free(cfg->mgmt_addr);
    free(cfg->tls_cert_file);
    free(cfg->tls_key_file);
    free(cfg->ca_root_cert_file);
    free(cfg->ca_root_key_file);
    free(cfg->dns_server);
    free(cfg->ocsp_url);
    free(cfg->dns_listen_addr);
    free(cfg->dns_mgmt_addr);
    eab_keys_clear(cfg);
    list_clear(cfg->caa_identities, &cfg->n_caa_identities);
    list_clear(cfg->domain_blocklist, &cfg->n_domain_blocklist);
    profiles_clear(cfg);
    cc_keys_clear(&cfg->cc);
    free(cfg->faults_json);
    memset(cfg, 0, sizeof(*cfg));
}

enum mc_err mockca_config_init(struct mockca_config *cfg)
{
    enum mc_err rc;

    if (cfg == NULL)
        return MC_ERR_INVALID;
    memset(cfg, 0, sizeof(*cfg));

    /* Listeners and validation ports: the values of Pebble's test/config/pebble-config.json
     * and README ("Default validation ports": 5002, 5001), bound to loopback rather than
     * 0.0.0.0 (DESIGN.md: loopback unless told otherwise). */
    rc = dup_str("127.0.0.1:14000", &cfg->listen_addr);
    if (rc == MC_OK)
        rc = dup_str("127.0.0.1:15000", &cfg->mgmt_addr);
    /* The embedded dnsmock: challtestsrv's ports on loopback (DESIGN.md, "Defaults"). */
    if (rc == MC_OK)
        rc = dup_str("127.0.0.1:8053", &cfg->dns_listen_addr);
    if (rc == MC_OK)
        rc = dup_str("127.0.0.1:8055", &cfg->dns_mgmt_addr);
    if (rc != MC_OK)
        goto out;
    cfg->http_port = 5002;
    cfg->tls_port = 5001;

    /* VA: va/va.go defaultSleepTime = 5 (seconds); sleeping and real validation are on
     * unless PEBBLE_VA_NOSLEEP / PEBBLE_VA_ALWAYS_VALID say otherwise. */
    cfg->va_nosleep = false;
    cfg->va_sleep_max_s = 5;
    cfg->va_always_valid = false;

    /* WFE: wfe/wfe.go defaultNonceReject = 5, but ours is 0 (config.h says why);
     * defaultAuthzReuse = 50; defaultOrdersPerPage = 3 (README "Listing orders"). */
    cfg->strict = false;
    cfg->nonce_reject_pct = 0;
    cfg->authz_reuse_pct = 50;
    cfg->orders_per_page = 3;
    /* retryAfter: the values in Pebble's test/config/pebble-config.json (authz 3, order 5). */
    cfg->retry_after_authz_s = 3;
    cfg->retry_after_order_s = 5;

    /* Ours: no rate limits (Pebble has none); a sweep every 30 s of real time, often
     * enough that a long run's memory levels off, rare enough to cost nothing. */
    cfg->sweep_interval_s = CFG_DEFAULT_SWEEP_S;
    /* Pebble shuffles identifiers, authorizations and challenges; so do we by default (a
     * client that depends on their order has a bug Pebble users expect to see). A random
     * profile when none is named is off by default: Pebble draws one, but a client that
     * names none and gets a short-lived certificate by chance makes tests flaky, and most
     * users of mockca expect the first profile (README, "Configuration beyond Pebble's"). */
    cfg->shuffle = true;
    cfg->random_profile = false;
    cfg->retry_after_form = MOCKCA_RETRY_AFTER_RANDOM;

    /* CertCentral (ours): the real service's rate limits; everything else 0, which cc.c
     * reads as its documented default. No API key: mockca_start generates one. */
    cfg->cc.rl_short.count = CFG_CC_SHORT_COUNT;
    cfg->cc.rl_short.window_s = CFG_CC_SHORT_WINDOW_S;
    cfg->cc.rl_long.count = CFG_CC_LONG_COUNT;
    cfg->cc.rl_long.window_s = CFG_CC_LONG_WINDOW_S;

    /* Accounts: cmd/pebble/main.go, externalAccountBindingRequired false, no MAC keys. */
    cfg->eab_required = false;

    /* Issuance: keyAlgorithm "ecdsa" as test/config/pebble-config.json sets it;
     * PEBBLE_CHAIN_LENGTH default 1 and PEBBLE_ALTERNATE_ROOTS default 0 (cmd/pebble/main.go,
     * README); no CAA identities, no blocklist; one profile "default" with Pebble's default
     * validity (ca/ca.go defaultValidityPeriod). */
    cfg->ca_key_type = KEY_EC_P256;
    cfg->chain_length = 1;
    cfg->alternate_roots = 0;
    rc = dup_str("default", &cfg->profiles[0].name);
    if (rc == MC_OK)
        rc = dup_str("", &cfg->profiles[0].description);
    if (rc != MC_OK)
        goto out;
    cfg->profiles[0].validity_s = PEBBLE_DEFAULT_VALIDITY_S;
    cfg->profiles[0].promote_cn = false;
    cfg->n_profiles = 1;

out:
    if (rc != MC_OK) {
        /* n_profiles may still be 0 with profiles[0] half-filled: free it by hand. */
        profile_clear(&cfg->profiles[0]);
        mockca_config_free(cfg);
    }
    return rc;
}

/* Deep copy of src into *dst (dst is overwritten, not freed). */
static enum mc_err config_copy(const struct mockca_config *src, struct mockca_config *dst)
{
    enum mc_err rc = MC_OK;

    *dst = *src;
    dst->listen_addr = dst->mgmt_addr = dst->tls_cert_file = dst->tls_key_file = NULL;
    dst->ca_root_cert_file = dst->ca_root_key_file = NULL;
    dst->dns_server = dst->ocsp_url = NULL;
    dst->dns_listen_addr = dst->dns_mgmt_addr = NULL;
    dst->faults_json = NULL;
    memset(dst->eab_keys, 0, sizeof(dst->eab_keys));
    memset(dst->caa_identities, 0, sizeof(dst->caa_identities));
    memset(dst->domain_blocklist, 0, sizeof(dst->domain_blocklist));
    memset(dst->profiles, 0, sizeof(dst->profiles));
    memset(dst->cc.keys, 0, sizeof(dst->cc.keys));
    dst->n_eab_keys = dst->n_caa_identities = dst->n_domain_blocklist = dst->n_profiles = 0;
    dst->cc.n_keys = 0;

    if ((rc = dup_str(src->listen_addr, &dst->listen_addr)) != MC_OK ||
        (rc = dup_str(src->mgmt_addr, &dst->mgmt_addr)) != MC_OK ||
        (rc = dup_str(src->tls_cert_file, &dst->tls_cert_file)) != MC_OK ||
        (rc = dup_str(src->tls_key_file, &dst->tls_key_file)) != MC_OK ||
        (rc = dup_str(src->ca_root_cert_file, &dst->ca_root_cert_file)) != MC_OK ||
        (rc = dup_str(src->ca_root_key_file, &dst->ca_root_key_file)) != MC_OK ||
        (rc = dup_str(src->dns_server, &dst->dns_server)) != MC_OK ||
        (rc = dup_str(src->ocsp_url, &dst->ocsp_url)) != MC_OK ||
        (rc = dup_str(src->dns_listen_addr, &dst->dns_listen_addr)) != MC_OK ||
        (rc = dup_str(src->dns_mgmt_addr, &dst->dns_mgmt_addr)) != MC_OK ||
        (rc = dup_str(src->faults_json, &dst->faults_json)) != MC_OK)
        goto out;
    for (size_t i = 0; i < src->n_eab_keys && i < MOCKCA_MAX_EAB_KEYS; i++) {
        const struct mockca_eab_key *s = &src->eab_keys[i];
        struct mockca_eab_key *d = &dst->eab_keys[i];
        dst->n_eab_keys = i + 1;
        if ((rc = dup_str(s->kid, &d->kid)) != MC_OK)
            goto out;
        d->mac = malloc(s->mac_len + 1);
        if (d->mac == NULL) {
            rc = MC_ERR_NOMEM;
            goto out;
        }
        if (s->mac_len > 0)
            memcpy(d->mac, s->mac, s->mac_len);
        d->mac[s->mac_len] = 0;
        d->mac_len = s->mac_len;
    }
    for (size_t i = 0; i < src->n_caa_identities && i < MOCKCA_MAX_LIST; i++) {
        dst->n_caa_identities = i + 1;
        if ((rc = dup_str(src->caa_identities[i], &dst->caa_identities[i])) != MC_OK)
            goto out;
    }
    for (size_t i = 0; i < src->n_domain_blocklist && i < MOCKCA_MAX_LIST; i++) {
        dst->n_domain_blocklist = i + 1;
        if ((rc = dup_str(src->domain_blocklist[i], &dst->domain_blocklist[i])) != MC_OK)
            goto out;
    }
    for (size_t i = 0; i < src->n_profiles && i < MOCKCA_MAX_PROFILES; i++) {
        dst->n_profiles = i + 1;
        dst->profiles[i] = src->profiles[i];
        dst->profiles[i].name = dst->profiles[i].description = NULL;
        if ((rc = dup_str(src->profiles[i].name, &dst->profiles[i].name)) != MC_OK ||
            (rc = dup_str(src->profiles[i].description, &dst->profiles[i].description)) != MC_OK)
            goto out;
    }
    for (size_t i = 0; i < src->cc.n_keys && i < MOCKCA_MAX_CC_KEYS; i++) {
        dst->cc.n_keys = i + 1;
        dst->cc.keys[i].account_id = src->cc.keys[i].account_id;
        if ((rc = dup_str(src->cc.keys[i].key, &dst->cc.keys[i].key)) != MC_OK ||
            (rc = dup_str(src->cc.keys[i].role, &dst->cc.keys[i].role)) != MC_OK)
            goto out;
    }
out:
    if (rc != MC_OK)
        mockca_config_free(dst);
    return rc;
}

/* ---- JSON member lookup with Go's rules ----
 *
 * Pebble reads its file with encoding/json, which matches a member to a struct field
 * case-insensitively (an exact match wins), and treats null as "leave the field alone".
 * find_member does the same so that a file Pebble takes, we take. */
static const cJSON *find_member(const cJSON *obj, const char *key)
{
    const cJSON *it, *fold = NULL;

    cJSON_ArrayForEach(it, obj)
    {
        if (it->string == NULL)
            continue;
        if (strcmp(it->string, key) == 0)
            return it;
        if (fold == NULL && strcasecmp(it->string, key) == 0)
            fold = it;
    }
    return fold;
}

/* The present, non-null member key of obj, or NULL. */
static const cJSON *member(const cJSON *obj, const char *key)
{
    const cJSON *m = find_member(obj, key);

    return (m == NULL || cJSON_IsNull(m)) ? NULL : m;
}

/* String member: *out borrowed; MC_ERR_NOT_FOUND when absent or null. */
static enum mc_err get_str(const cJSON *obj, const char *key, const char *field, size_t maxlen,
                           const char **out, char *err, size_t errn)
{
    const cJSON *m = member(obj, key);

    *out = NULL;
    if (m == NULL)
        return MC_ERR_NOT_FOUND;
    if (!cJSON_IsString(m) || m->valuestring == NULL) {
        set_err(err, errn, "%s: expected a string", field);
        return MC_ERR_INVALID;
    }
    if (strlen(m->valuestring) > maxlen) {
        set_err(err, errn, "%s: longer than %zu bytes", field, maxlen);
        return MC_ERR_INVALID;
    }
    *out = m->valuestring;
    return MC_OK;
}

static enum mc_err get_bool(const cJSON *obj, const char *key, const char *field, bool *out,
                            char *err, size_t errn)
{
    const cJSON *m = member(obj, key);

    if (m == NULL)
        return MC_ERR_NOT_FOUND;
    if (!cJSON_IsBool(m)) {
        set_err(err, errn, "%s: expected true or false", field);
        return MC_ERR_INVALID;
    }
    *out = cJSON_IsTrue(m);
    return MC_OK;
}

/* A whole JSON number in [min, max]. Go's decoder refuses a fraction for an int field and
 * a string for a number, and so do we. */
static enum mc_err get_int(const cJSON *obj, const char *key, const char *field, int64_t min,
                           int64_t max, int64_t *out, char *err, size_t errn)
{
    const cJSON *m = member(obj, key);
    double d;

    if (m == NULL)
        return MC_ERR_NOT_FOUND;
    if (!cJSON_IsNumber(m)) {
        set_err(err, errn, "%s: expected a whole number", field);
        return MC_ERR_INVALID;
    }
    d = m->valuedouble;
    if (d != d || d < (double)min || d > (double)max || d != (double)(int64_t)d) {
        set_err(err, errn, "%s: expected a whole number in [%lld, %lld]", field, (long long)min,
                (long long)max);
        return MC_ERR_INVALID;
    }
    *out = (int64_t)d;
    return MC_OK;
}

static bool known_key(const char *key, const char *const *known)
{
    for (size_t i = 0; known[i] != NULL; i++)
        if (strcasecmp(key, known[i]) == 0)
            return true;
    return false;
}

/* Pebble's decoder ignores members it has no field for; so do we, but we say so, since a
 * misspelt field name is the usual reason a setting "does nothing". */
static void log_unknown(const cJSON *obj, const char *where, const char *const *known)
{
    const cJSON *it;
    char q[160];

    cJSON_ArrayForEach(it, obj)
    {
        if (it->string != NULL && !known_key(it->string, known))
            log_msg(LOGL_WARN, "config.unknown_field", "in=%s field=%s", where,
                    log_quote(it->string, q, sizeof(q)));
    }
}

/* ---- field parsers: each writes into the copy t ---- */

static enum mc_err set_owned(char **slot, const char *v)
{
    char *n = NULL;
    enum mc_err rc = dup_str(v, &n);

    if (rc != MC_OK)
        return rc;
    free(*slot);
    *slot = n;
    return MC_OK;
}

static enum mc_err parse_addr(const cJSON *pb, const char *key, bool empty_disables, char **slot,
                              char *err, size_t errn)
{
    const char *v = NULL;
    char host[128];
    uint16_t port;
    const cJSON *m = find_member(pb, key);
    enum mc_err rc;

    /* Pebble's README: "Set managementListenAddress to an empty string or null to disable
     * it." We keep the disabled state as "". */
    if (empty_disables && m != NULL && cJSON_IsNull(m))
        return set_owned(slot, "");
    rc = get_str(pb, key, key, CFG_MAX_STR, &v, err, errn);
    if (rc == MC_ERR_NOT_FOUND)
        return MC_OK;
    if (rc != MC_OK)
        return rc;
    if (empty_disables && v[0] == '\0')
        return set_owned(slot, "");
    if (http_split_hostport(v, host, sizeof(host), &port) != MC_OK) {
        set_err(err, errn, "%s: \"%.64s\" is not a host:port address", key, v);
        return MC_ERR_INVALID;
    }
    return set_owned(slot, v);
}

/* A string where "" means "not set" (Pebble checks `!= ""` for all of these). */
static enum mc_err parse_opt_str(const cJSON *pb, const char *key, char **slot, char *err,
                                 size_t errn)
{
    const char *v = NULL;
    enum mc_err rc = get_str(pb, key, key, CFG_MAX_STR, &v, err, errn);

    if (rc == MC_ERR_NOT_FOUND)
        return MC_OK;
    if (rc != MC_OK)
        return rc;
    if (v[0] == '\0') {
        free(*slot);
        *slot = NULL;
        return MC_OK;
    }
    return set_owned(slot, v);
}

static enum mc_err parse_port(const cJSON *pb, const char *key, uint16_t *out, char *err,
                              size_t errn)
{
    int64_t v;
    enum mc_err rc = get_int(pb, key, key, 1, 65535, &v, err, errn);

    if (rc == MC_ERR_NOT_FOUND)
        return MC_OK;
    if (rc == MC_OK)
        *out = (uint16_t)v;
    return rc;
}

/* externalAccountMACKeys: {"kid": "base64url MAC key", ...}. Pebble decodes each with Go's
 * base64.RawURLEncoding (db/memorystore.go, "failed to decode base64 URL encoded key"),
 * which refuses '=' padding; b64url_decode refuses it too. A present object replaces the
 * key set. */
static enum mc_err parse_eab_keys(const cJSON *pb, struct mockca_config *t, char *err, size_t errn)
{
    const cJSON *obj = member(pb, "externalAccountMACKeys");
    const cJSON *it;
    size_t n = 0;
    enum mc_err rc = MC_OK;
    struct mockca_eab_key *keys = NULL;

    if (obj == NULL)
        return MC_OK;
    if (!cJSON_IsObject(obj)) {
        set_err(err, errn, "externalAccountMACKeys: expected an object of kid: base64url key");
        return MC_ERR_INVALID;
    }
    keys = calloc(MOCKCA_MAX_EAB_KEYS, sizeof(*keys));
    if (keys == NULL)
        return MC_ERR_NOMEM;
    cJSON_ArrayForEach(it, obj)
    {
        const char *kid = it->string;
        const char *v;
        size_t vlen;

        if (n == MOCKCA_MAX_EAB_KEYS) {
            set_err(err, errn, "externalAccountMACKeys: more than %d keys", MOCKCA_MAX_EAB_KEYS);
            rc = MC_ERR_INVALID;
            goto out;
        }
        if (kid == NULL || kid[0] == '\0' || strlen(kid) > CFG_MAX_KID) {
            set_err(err, errn, "externalAccountMACKeys: a key id is empty or longer than %d bytes",
                    CFG_MAX_KID);
            rc = MC_ERR_INVALID;
            goto out;
        }
        if (!cJSON_IsString(it) || it->valuestring == NULL) {
            set_err(err, errn, "externalAccountMACKeys.%.64s: expected a base64url string", kid);
            rc = MC_ERR_INVALID;
            goto out;
        }
        v = it->valuestring;
        vlen = strlen(v);
        if (vlen == 0 || vlen > CFG_MAX_MAC_B64) {
            set_err(err, errn, "externalAccountMACKeys.%.64s: empty or longer than %d characters",
                    kid, CFG_MAX_MAC_B64);
            rc = MC_ERR_INVALID;
            goto out;
        }
        if (b64url_decode(v, vlen, &keys[n].mac, &keys[n].mac_len) != MC_OK) {
            set_err(err, errn,
                    "externalAccountMACKeys.%.64s: not base64url without padding (RFC 4648 "
                    "section 5)",
                    kid);
            rc = MC_ERR_INVALID;
            goto out;
        }
        n++; /* counted now, so that out: frees the MAC if strdup fails */
        keys[n - 1].kid = strdup(kid);
        if (keys[n - 1].kid == NULL) {
            rc = MC_ERR_NOMEM;
            goto out;
        }
    }
    eab_keys_clear(t);
    memcpy(t->eab_keys, keys, n * sizeof(*keys));
    t->n_eab_keys = n;
    n = 0; /* ownership moved */
out:
    if (keys != NULL) {
        for (size_t i = 0; i < n; i++)
            eab_clear(&keys[i]);
        if (rc != MC_OK && n < MOCKCA_MAX_EAB_KEYS)
            eab_clear(&keys[n]); /* a MAC decoded for an entry that failed later */
        free(keys);
    }
    return rc;
}

/* An array of non-empty strings into list (replacing it). */
static enum mc_err parse_str_list(const cJSON *pb, const char *key, char **list, size_t *n_list,
                                  char *err, size_t errn)
{
    const cJSON *arr = member(pb, key);
    const cJSON *it;
    char *tmp[MOCKCA_MAX_LIST] = {0};
    size_t n = 0;
    enum mc_err rc = MC_OK;

    if (arr == NULL)
        return MC_OK;
    if (!cJSON_IsArray(arr)) {
        set_err(err, errn, "%s: expected an array of strings", key);
        return MC_ERR_INVALID;
    }
    cJSON_ArrayForEach(it, arr)
    {
        if (n == MOCKCA_MAX_LIST) {
            set_err(err, errn, "%s: more than %d entries", key, MOCKCA_MAX_LIST);
            rc = MC_ERR_INVALID;
            goto out;
        }
        if (!cJSON_IsString(it) || it->valuestring == NULL || it->valuestring[0] == '\0' ||
            strlen(it->valuestring) > CFG_MAX_DOMAIN) {
            set_err(err, errn, "%s[%zu]: expected a non-empty string of at most %d bytes", key, n,
                    CFG_MAX_DOMAIN);
            rc = MC_ERR_INVALID;
            goto out;
        }
        tmp[n] = strdup(it->valuestring);
        if (tmp[n] == NULL) {
            rc = MC_ERR_NOMEM;
            goto out;
        }
        n++;
    }
    list_clear(list, n_list);
    memcpy(list, tmp, n * sizeof(*tmp));
    *n_list = n;
    n = 0;
out:
    for (size_t i = 0; i < n; i++)
        free(tmp[i]);
    return rc;
}

static enum mc_err parse_key_algorithm(const cJSON *pb, struct mockca_config *t, char *err,
                                       size_t errn)
{
    const char *v = NULL;
    enum mc_err rc = get_str(pb, "keyAlgorithm", "keyAlgorithm", CFG_MAX_NAME, &v, err, errn);

    if (rc == MC_ERR_NOT_FOUND)
        return MC_OK;
    if (rc != MC_OK)
        return rc;
    /* "" is Go's zero value, the same as leaving the member out. Otherwise Pebble's two
     * spellings, exactly (its switch is case-sensitive). */
    if (v[0] == '\0')
        return MC_OK;
    if (strcmp(v, "ecdsa") == 0) {
        t->ca_key_type = KEY_EC_P256;
    } else if (strcmp(v, "rsa") == 0) {
        t->ca_key_type = KEY_RSA2048;
    } else {
        set_err(err, errn, "keyAlgorithm: \"%.32s\" is not \"ecdsa\" or \"rsa\"", v);
        return MC_ERR_INVALID;
    }
    return MC_OK;
}

static const char *const profile_fields[] = {"description", "validityPeriod", "promoteCommonName",
                                             NULL};

/* profiles: {"name": {"description": s, "validityPeriod": seconds, ...}, ...}. A non-empty
 * object replaces the profile set; validity_set[i] records which profiles named their own
 * validityPeriod (certificateValidityPeriod fills the others). */
static enum mc_err parse_profiles(const cJSON *pb, struct mockca_config *t, bool *validity_set,
                                  char *err, size_t errn)
{
    const cJSON *obj = member(pb, "profiles");
    const cJSON *it;
    struct mockca_profile tmp[MOCKCA_MAX_PROFILES];
    bool vset[MOCKCA_MAX_PROFILES] = {0};
    size_t n = 0;
    enum mc_err rc = MC_OK;
    char field[CFG_MAX_NAME + 64];

    memset(tmp, 0, sizeof(tmp));
    if (obj == NULL)
        return MC_OK;
    if (!cJSON_IsObject(obj)) {
        set_err(err, errn, "profiles: expected an object of name: profile");
        return MC_ERR_INVALID;
    }
    /* An empty object keeps the current set: a CA with no profile cannot issue. */
    if (cJSON_GetArraySize(obj) == 0)
        return MC_OK;
    cJSON_ArrayForEach(it, obj)
    {
        const char *name = it->string;
        const char *desc = NULL;
        int64_t v = 0;
        bool b = false;

        if (n == MOCKCA_MAX_PROFILES) {
            set_err(err, errn, "profiles: more than %d profiles", MOCKCA_MAX_PROFILES);
            rc = MC_ERR_INVALID;
            goto out;
        }
        if (name == NULL || name[0] == '\0' || strlen(name) > CFG_MAX_NAME) {
            set_err(err, errn, "profiles: a profile name is empty or longer than %d bytes",
                    CFG_MAX_NAME);
            rc = MC_ERR_INVALID;
            goto out;
        }
        for (size_t i = 0; i < n; i++) {
            /* Go's map keys are exact, but json_parse already refuses exact duplicates; a
             * case variant would be a second profile the client cannot tell apart. */
            if (strcasecmp(tmp[i].name, name) == 0) {
                set_err(err, errn, "profiles.%s: defined twice", name);
                rc = MC_ERR_INVALID;
                goto out;
            }
        }
        if (!cJSON_IsObject(it)) {
            set_err(err, errn, "profiles.%s: expected an object", name);
            rc = MC_ERR_INVALID;
            goto out;
        }
        tmp[n].name = strdup(name);
        n++;
        if (tmp[n - 1].name == NULL) {
            rc = MC_ERR_NOMEM;
            goto out;
        }
        snprintf(field, sizeof(field), "profiles.%s.description", name);
        rc = get_str(it, "description", field, CFG_MAX_STR, &desc, err, errn);
        if (rc != MC_OK && rc != MC_ERR_NOT_FOUND)
            goto out;
        tmp[n - 1].description = strdup(desc != NULL ? desc : "");
        if (tmp[n - 1].description == NULL) {
            rc = MC_ERR_NOMEM;
            goto out;
        }
        snprintf(field, sizeof(field), "profiles.%s.validityPeriod", name);
        rc = get_int(it, "validityPeriod", field, 1, CFG_MAX_VALIDITY_S, &v, err, errn);
        if (rc == MC_OK) {
            tmp[n - 1].validity_s = v;
            vset[n - 1] = true;
        } else if (rc == MC_ERR_NOT_FOUND) {
            tmp[n - 1].validity_s = PEBBLE_DEFAULT_VALIDITY_S;
        } else {
            goto out;
        }
        snprintf(field, sizeof(field), "profiles.%s.promoteCommonName", name);
        rc = get_bool(it, "promoteCommonName", field, &b, err, errn);
        if (rc == MC_OK)
            tmp[n - 1].promote_cn = b;
        else if (rc != MC_ERR_NOT_FOUND)
            goto out;
        rc = MC_OK;
        snprintf(field, sizeof(field), "profiles.%s", name);
        log_unknown(it, field, profile_fields);
    }
    profiles_clear(t);
    memcpy(t->profiles, tmp, n * sizeof(*tmp));
    memcpy(validity_set, vset, sizeof(vset));
    t->n_profiles = n;
    n = 0;
out:
    for (size_t i = 0; i < n; i++)
        profile_clear(&tmp[i]);
    return rc;
}

static enum mc_err parse_retry_after(const cJSON *pb, struct mockca_config *t, char *err,
                                     size_t errn)
{
    const cJSON *obj = member(pb, "retryAfter");
    static const char *const fields[] = {"authz", "order", NULL};
    int64_t v;
    enum mc_err rc;

    if (obj == NULL)
        return MC_OK;
    if (!cJSON_IsObject(obj)) {
        set_err(err, errn, "retryAfter: expected an object {\"authz\": s, \"order\": s}");
        return MC_ERR_INVALID;
    }
    rc = get_int(obj, "authz", "retryAfter.authz", 0, CFG_MAX_RETRY_S, &v, err, errn);
    if (rc == MC_OK)
        t->retry_after_authz_s = v;
    else if (rc != MC_ERR_NOT_FOUND)
        return rc;
    rc = get_int(obj, "order", "retryAfter.order", 0, CFG_MAX_RETRY_S, &v, err, errn);
    if (rc == MC_OK)
        t->retry_after_order_s = v;
    else if (rc != MC_ERR_NOT_FOUND)
        return rc;
    log_unknown(obj, "retryAfter", fields);
    return MC_OK;
}

/* One member of "rateLimits": {"count": N, "windowSeconds": S}. A limit that is on needs
 * its window; count 0 (or the member absent) leaves the limit off. */
static enum mc_err parse_rate_limit(const cJSON *obj, const char *prefix, const char *key,
                                    struct mockca_rate_limit *out, char *err, size_t errn)
{
    static const char *const fields[] = {"count", "windowSeconds", NULL};
    const cJSON *lim = member(obj, key);
    char fc[128], fw[128], where[96];
    int64_t count = 0, window = 0;
    enum mc_err rc;

    if (lim == NULL)
        return MC_OK;
    snprintf(fc, sizeof(fc), "%s.%s.count", prefix, key);
    snprintf(fw, sizeof(fw), "%s.%s.windowSeconds", prefix, key);
    snprintf(where, sizeof(where), "%s.%s", prefix, key);
    if (!cJSON_IsObject(lim)) {
        set_err(err, errn, "%s: expected an object {\"count\": n, \"windowSeconds\": s}",
                where);
        return MC_ERR_INVALID;
    }
    rc = get_int(lim, "count", fc, 0, CFG_MAX_RL_COUNT, &count, err, errn);
    if (rc != MC_OK && rc != MC_ERR_NOT_FOUND)
        return rc;
    rc = get_int(lim, "windowSeconds", fw, 1, CFG_MAX_RL_WINDOW_S, &window, err, errn);
    if (rc != MC_OK && rc != MC_ERR_NOT_FOUND)
        return rc;
    if (count > 0 && rc == MC_ERR_NOT_FOUND) {
        set_err(err, errn, "%s: windowSeconds is required when count is set", where);
        return MC_ERR_INVALID;
    }
    log_unknown(lim, where, fields);
    out->count = (unsigned)count;
    out->window_s = count > 0 ? window : 0;
    return MC_OK;
}

static enum mc_err parse_rate_limits(const cJSON *pb, struct mockca_config *t, char *err,
                                     size_t errn)
{
    static const char *const fields[] = {"ordersPerAccount", "failedValidationsPerIdentifier",
                                         "accountsPerAddress", NULL};
    const cJSON *obj = member(pb, "rateLimits");
    enum mc_err rc;

    if (obj == NULL)
        return MC_OK;
    if (!cJSON_IsObject(obj)) {
        set_err(err, errn, "rateLimits: expected an object");
        return MC_ERR_INVALID;
    }
    if ((rc = parse_rate_limit(obj, "rateLimits", "ordersPerAccount", &t->rl_orders_per_account,
                               err, errn)) != MC_OK ||
        (rc = parse_rate_limit(obj, "rateLimits", "failedValidationsPerIdentifier",
                               &t->rl_failed_validations, err, errn)) != MC_OK ||
        (rc = parse_rate_limit(obj, "rateLimits", "accountsPerAddress",
                               &t->rl_accounts_per_address, err, errn)) != MC_OK)
        return rc;
    log_unknown(obj, "rateLimits", fields);
    return MC_OK;
}

/* Ours: the store's lifetimes and retention, in seconds (0: the default). */
static enum mc_err parse_store_times(const cJSON *pb, struct mockca_config *t, char *err,
                                     size_t errn)
{
    static const char *const keys[] = {"retentionSeconds", "orderLifetimeSeconds",
                                       "authzLifetimeSeconds", "validAuthzLifetimeSeconds"};
    int64_t *slots[] = {&t->retention_s, &t->order_lifetime_s, &t->authz_lifetime_s,
                        &t->valid_authz_lifetime_s};
    int64_t v;
    enum mc_err rc;

    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        rc = get_int(pb, keys[i], keys[i], 0, CFG_MAX_STORE_TIME_S, &v, err, errn);
        if (rc == MC_OK)
            *slots[i] = v;
        else if (rc != MC_ERR_NOT_FOUND)
            return rc;
    }
    return MC_OK;
}

/* Ours: "shuffle", "randomProfile" (booleans) and "retryAfterForm" (a string). */
static enum mc_err parse_randomness(const cJSON *pb, struct mockca_config *t, char *err,
                                    size_t errn)
{
    const char *form = NULL;
    bool b;
    enum mc_err rc;

    rc = get_bool(pb, "shuffle", "shuffle", &b, err, errn);
    if (rc == MC_OK)
        t->shuffle = b;
    else if (rc != MC_ERR_NOT_FOUND)
        return rc;
    rc = get_bool(pb, "randomProfile", "randomProfile", &b, err, errn);
    if (rc == MC_OK)
        t->random_profile = b;
    else if (rc != MC_ERR_NOT_FOUND)
        return rc;
    rc = get_str(pb, "retryAfterForm", "retryAfterForm", CFG_MAX_NAME, &form, err, errn);
    if (rc == MC_ERR_NOT_FOUND)
        return MC_OK;
    if (rc != MC_OK)
        return rc;
    if (form == NULL || form[0] == '\0' || strcmp(form, "random") == 0) {
        t->retry_after_form = MOCKCA_RETRY_AFTER_RANDOM;
    } else if (strcmp(form, "seconds") == 0) {
        t->retry_after_form = MOCKCA_RETRY_AFTER_SECONDS;
    } else if (strcmp(form, "date") == 0) {
        t->retry_after_form = MOCKCA_RETRY_AFTER_DATE;
    } else {
        set_err(err, errn, "retryAfterForm: \"%.32s\" is not \"random\", \"seconds\" or \"date\"",
                form);
        return MC_ERR_INVALID;
    }
    return MC_OK;
}

/* Every member of cmd/pebble/main.go's config struct, in its JSON spelling, plus ours
 * (caaIdentities, rateLimits, sweepIntervalSeconds), plus the CRL listener fields of
 * Pebble's test/config/pebble-config-crl.json, which we read past without a warning: a
 * config written for that Pebble is not a typo. */
static const char *const pebble_fields[] = {"listenAddress",
                                            "managementListenAddress",
                                            "httpPort",
                                            "tlsPort",
                                            "certificate",
                                            "privateKey",
                                            "caRootCertificate",
                                            "caRootPrivateKey",
                                            "ocspResponderURL",
                                            "externalAccountBindingRequired",
                                            "externalAccountMACKeys",
                                            "domainBlocklist",
                                            "certificateValidityPeriod",
                                            "retryAfter",
                                            "keyAlgorithm",
                                            "profiles",
                                            "caaIdentities",
                                            "rateLimits",
                                            "sweepIntervalSeconds",
                                            "retentionSeconds",
                                            "orderLifetimeSeconds",
                                            "authzLifetimeSeconds",
                                            "validAuthzLifetimeSeconds",
                                            "shuffle",
                                            "randomProfile",
                                            "retryAfterForm",
                                            "crlListenAddress",
                                            "crlBaseURL",
                                            NULL};

static enum mc_err apply_pebble(const cJSON *pb, struct mockca_config *t, char *err, size_t errn)
{
    enum mc_err rc;
    bool b;
    int64_t v;
    bool validity_set[MOCKCA_MAX_PROFILES] = {0};
    bool profiles_given = false;

    if ((rc = parse_addr(pb, "listenAddress", false, &t->listen_addr, err, errn)) != MC_OK ||
        (rc = parse_addr(pb, "managementListenAddress", true, &t->mgmt_addr, err, errn)) != MC_OK ||
        (rc = parse_port(pb, "httpPort", &t->http_port, err, errn)) != MC_OK ||
        (rc = parse_port(pb, "tlsPort", &t->tls_port, err, errn)) != MC_OK ||
        (rc = parse_opt_str(pb, "certificate", &t->tls_cert_file, err, errn)) != MC_OK ||
        (rc = parse_opt_str(pb, "privateKey", &t->tls_key_file, err, errn)) != MC_OK ||
        (rc = parse_opt_str(pb, "caRootCertificate", &t->ca_root_cert_file, err, errn)) !=
            MC_OK ||
        (rc = parse_opt_str(pb, "caRootPrivateKey", &t->ca_root_key_file, err, errn)) != MC_OK ||
        (rc = parse_opt_str(pb, "ocspResponderURL", &t->ocsp_url, err, errn)) != MC_OK)
        return rc;

    rc = get_bool(pb, "externalAccountBindingRequired", "externalAccountBindingRequired", &b, err,
                  errn);
    if (rc == MC_OK)
        t->eab_required = b;
    else if (rc != MC_ERR_NOT_FOUND)
        return rc;

    if ((rc = parse_eab_keys(pb, t, err, errn)) != MC_OK ||
        (rc = parse_str_list(pb, "domainBlocklist", t->domain_blocklist, &t->n_domain_blocklist,
                             err, errn)) != MC_OK ||
        (rc = parse_str_list(pb, "caaIdentities", t->caa_identities, &t->n_caa_identities, err,
                             errn)) != MC_OK ||
        (rc = parse_key_algorithm(pb, t, err, errn)) != MC_OK ||
        (rc = parse_retry_after(pb, t, err, errn)) != MC_OK ||
        (rc = parse_rate_limits(pb, t, err, errn)) != MC_OK)
        return rc;
    rc = get_int(pb, "sweepIntervalSeconds", "sweepIntervalSeconds", 0, CFG_MAX_SWEEP_S, &v, err,
                 errn);
    if (rc == MC_OK)
        t->sweep_interval_s = v;
    else if (rc != MC_ERR_NOT_FOUND)
        return rc;

    if ((rc = parse_store_times(pb, t, err, errn)) != MC_OK ||
        (rc = parse_randomness(pb, t, err, errn)) != MC_OK)
        return rc;

    profiles_given = member(pb, "profiles") != NULL;
    if ((rc = parse_profiles(pb, t, validity_set, err, errn)) != MC_OK)
        return rc;

    /* certificateValidityPeriod: Pebble 2.4's (Debian's) single validity, replaced by
     * profiles in later versions. 0 meant "Pebble's default" there. It sets the validity of
     * every profile that does not set its own. */
    rc = get_int(pb, "certificateValidityPeriod", "certificateValidityPeriod", 0,
                 CFG_MAX_VALIDITY_S, &v, err, errn);
    if (rc == MC_OK) {
        for (size_t i = 0; i < t->n_profiles; i++)
            if (!profiles_given || !validity_set[i])
                t->profiles[i].validity_s = v > 0 ? v : PEBBLE_DEFAULT_VALIDITY_S;
    } else if (rc != MC_ERR_NOT_FOUND) {
        return rc;
    }

    /* Half a TLS pair is a mistake Pebble would only report when ListenAndServeTLS fails. */
    if ((t->tls_cert_file == NULL) != (t->tls_key_file == NULL)) {
        set_err(err, errn, "%s: set without %s",
                t->tls_cert_file != NULL ? "certificate" : "privateKey",
                t->tls_cert_file != NULL ? "privateKey" : "certificate");
        return MC_ERR_INVALID;
    }
    if ((t->ca_root_cert_file == NULL) != (t->ca_root_key_file == NULL)) {
        set_err(err, errn, "%s: set without %s",
                t->ca_root_cert_file != NULL ? "caRootCertificate" : "caRootPrivateKey",
                t->ca_root_cert_file != NULL ? "caRootPrivateKey" : "caRootCertificate");
        return MC_ERR_INVALID;
    }
    log_unknown(pb, "pebble", pebble_fields);
    return MC_OK;
}

/* ---- "certcentral" (ours) ---- */

/* What cc.c takes as a role; the config speaks only the three names the API documents. */
static bool cc_role_ok(const char *r)
{
    return strcmp(r, "administrator") == 0 || strcmp(r, "user") == 0 ||
           strcmp(r, "viewer") == 0;
}

/* An API key travels in the X-DC-DEVKEY header: printable ASCII without spaces, so that
 * it cannot split or fold the header, at most CFG_MAX_CC_KEY characters. */
static bool cc_key_ok(const char *k)
{
    size_t n = strlen(k);

    if (n == 0 || n > CFG_MAX_CC_KEY)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)k[i] < 0x21 || (unsigned char)k[i] > 0x7e)
            return false;
    return true;
}

/* certcentral.apiKeys: [{"key", "role", "accountId"?}]; a present array replaces the set.
 * Keys must be distinct (the API finds a caller by key alone). */
static enum mc_err parse_cc_keys(const cJSON *obj, struct mockca_cc_config *t, char *err,
                                 size_t errn)
{
    static const char *const fields[] = {"key", "role", "accountId", NULL};
    const cJSON *arr = member(obj, "apiKeys");
    const cJSON *it;
    struct mockca_cc_key *keys = NULL;
    size_t n = 0;
    enum mc_err rc = MC_OK;

    if (arr == NULL)
        return MC_OK;
    if (!cJSON_IsArray(arr)) {
        set_err(err, errn, "certcentral.apiKeys: expected an array of {\"key\", \"role\"}");
        return MC_ERR_INVALID;
    }
    keys = calloc(MOCKCA_MAX_CC_KEYS, sizeof(*keys));
    if (keys == NULL)
        return MC_ERR_NOMEM;
    cJSON_ArrayForEach(it, arr)
    {
        const char *key = NULL, *role = NULL;
        int64_t acct = 0;
        char where[64];

        snprintf(where, sizeof(where), "certcentral.apiKeys[%zu]", n);
        if (n == MOCKCA_MAX_CC_KEYS) {
            set_err(err, errn, "certcentral.apiKeys: more than %d keys", MOCKCA_MAX_CC_KEYS);
            rc = MC_ERR_INVALID;
            goto out;
        }
        if (!cJSON_IsObject(it)) {
            set_err(err, errn, "%s: expected an object {\"key\", \"role\", \"accountId\"}",
                    where);
            rc = MC_ERR_INVALID;
            goto out;
        }
        rc = get_str(it, "key", "certcentral.apiKeys[].key", CFG_MAX_CC_KEY, &key, err, errn);
        if (rc == MC_OK && !cc_key_ok(key))
            rc = MC_ERR_INVALID;
        if (rc != MC_OK) {
            if (rc != MC_ERR_NOMEM)
                set_err(err, errn, "%s.key: want 1 to %d printable characters without spaces",
                        where, CFG_MAX_CC_KEY);
            rc = rc == MC_ERR_NOMEM ? rc : MC_ERR_INVALID;
            goto out;
        }
        rc = get_str(it, "role", "certcentral.apiKeys[].role", CFG_MAX_NAME, &role, err, errn);
        if (rc != MC_OK || !cc_role_ok(role)) {
            set_err(err, errn, "%s.role: want \"administrator\", \"user\" or \"viewer\"",
                    where);
            rc = MC_ERR_INVALID;
            goto out;
        }
        rc = get_int(it, "accountId", where, 0, CFG_MAX_CC_ACCOUNT, &acct, err, errn);
        if (rc != MC_OK && rc != MC_ERR_NOT_FOUND)
            goto out;
        rc = MC_OK;
        for (size_t i = 0; i < n; i++) {
            if (strcmp(keys[i].key, key) == 0) {
                set_err(err, errn, "%s.key: the same key is listed twice", where);
                rc = MC_ERR_INVALID;
                goto out;
            }
        }
        log_unknown(it, where, fields);
        n++;
        keys[n - 1].account_id = acct;
        if ((rc = dup_str(key, &keys[n - 1].key)) != MC_OK ||
            (rc = dup_str(role, &keys[n - 1].role)) != MC_OK)
            goto out;
    }
    cc_keys_clear(t);
    memcpy(t->keys, keys, n * sizeof(*keys));
    t->n_keys = n;
    n = 0; /* ownership moved */
out:
    for (size_t i = 0; i < n; i++)
        cc_key_clear(&keys[i]);
    free(keys);
    return rc;
}

static const char *const cc_fields[] = {"apiKeys",    "httpPort",         "dcvTimeoutMs",
                                        "autoApprove", "rateLimits",      "maxOrders",
                                        "retentionSeconds", "maxCertDays", NULL};

static enum mc_err apply_certcentral(const cJSON *obj, struct mockca_config *t, char *err,
                                     size_t errn)
{
    static const char *const rl_fields[] = {"short", "long", NULL};
    struct mockca_cc_config *c = &t->cc;
    const cJSON *rl;
    int64_t v;
    bool b;
    enum mc_err rc;

    if (!cJSON_IsObject(obj)) {
        set_err(err, errn, "certcentral: expected an object");
        return MC_ERR_INVALID;
    }
    if ((rc = parse_cc_keys(obj, c, err, errn)) != MC_OK)
        return rc;
    rc = get_int(obj, "httpPort", "certcentral.httpPort", 0, 65535, &v, err, errn);
    if (rc == MC_OK)
        c->http_port = (uint16_t)v;
    else if (rc != MC_ERR_NOT_FOUND)
        return rc;
    rc = get_int(obj, "dcvTimeoutMs", "certcentral.dcvTimeoutMs", 0, CFG_MAX_CC_TIMEOUT_MS, &v,
                 err, errn);
    if (rc == MC_OK)
        c->dcv_timeout_ms = v;
    else if (rc != MC_ERR_NOT_FOUND)
        return rc;
    rc = get_bool(obj, "autoApprove", "certcentral.autoApprove", &b, err, errn);
    if (rc == MC_OK)
        c->auto_approve = b;
    else if (rc != MC_ERR_NOT_FOUND)
        return rc;
    rc = get_int(obj, "maxOrders", "certcentral.maxOrders", 0, CFG_MAX_CC_ORDERS, &v, err, errn);
    if (rc == MC_OK)
        c->max_orders = v;
    else if (rc != MC_ERR_NOT_FOUND)
        return rc;
    rc = get_int(obj, "retentionSeconds", "certcentral.retentionSeconds", 0, CFG_MAX_STORE_TIME_S,
                 &v, err, errn);
    if (rc == MC_OK)
        c->retention_s = v;
    else if (rc != MC_ERR_NOT_FOUND)
        return rc;
    rc = get_int(obj, "maxCertDays", "certcentral.maxCertDays", 0, CFG_MAX_CC_CERT_DAYS, &v, err,
                 errn);
    if (rc == MC_OK)
        c->max_cert_days = v;
    else if (rc != MC_ERR_NOT_FOUND)
        return rc;
    rl = member(obj, "rateLimits");
    if (rl != NULL) {
        if (!cJSON_IsObject(rl)) {
            set_err(err, errn, "certcentral.rateLimits: expected an object");
            return MC_ERR_INVALID;
        }
        /* A member that is there but leaves count out turns its limit off, as in the
         * ACME "rateLimits"; an absent member keeps the default. */
        if ((member(rl, "short") != NULL &&
             (rc = parse_rate_limit(rl, "certcentral.rateLimits", "short", &c->rl_short, err,
                                    errn)) != MC_OK) ||
            (member(rl, "long") != NULL &&
             (rc = parse_rate_limit(rl, "certcentral.rateLimits", "long", &c->rl_long, err,
                                    errn)) != MC_OK))
            return rc;
        log_unknown(rl, "certcentral.rateLimits", rl_fields);
    }
    log_unknown(obj, "certcentral", cc_fields);
    return MC_OK;
}

/* ---- fault rules ---- */

/* Checks every rule of arr (a JSON array; afault_rule_parse) and writes, in *out (new
 * text), the rules of the array text prev (NULL: none) followed by arr's. what names the
 * source in messages. The rules are kept as text: the engine that takes them is made at
 * mockca_start, after the configuration is complete. */
static enum mc_err faults_merge(const char *prev, const cJSON *arr, const char *what, char **out,
                                char *err, size_t errn)
{
    cJSON *all = NULL;
    char *text = NULL;
    enum mc_err rc = MC_ERR_INVALID;
    size_t i = 0;

    *out = NULL;
    if (!cJSON_IsArray(arr)) {
        set_err(err, errn, "%s: an array of fault rules is required", what);
        return MC_ERR_INVALID;
    }
    if (prev != NULL) {
        if (json_parse(prev, strlen(prev), MOCKCA_FAULTS_FILE_MAX * 2, CFG_MAX_DEPTH, &all) !=
                MC_OK ||
            !cJSON_IsArray(all))
            goto out;
    } else {
        all = cJSON_CreateArray();
        if (all == NULL) {
            rc = MC_ERR_NOMEM;
            goto out;
        }
    }
    const cJSON *r;
    cJSON_ArrayForEach(r, arr)
    {
        struct fault_match m;
        struct fault_action a;
        char e1[200] = "";
        if (cJSON_GetArraySize(all) >= FAULT_MAX_RULES) {
            set_err(err, errn, "%s: more than %d fault rules", what, FAULT_MAX_RULES);
            rc = MC_ERR_INVALID;
            goto out;
        }
        rc = afault_rule_parse(r, &m, &a, e1, sizeof(e1));
        fault_match_clear(&m);
        if (rc != MC_OK) {
            set_err(err, errn, "%s[%zu]: %s", what, i, e1[0] != '\0' ? e1 : mc_strerror(rc));
            goto out;
        }
        cJSON *copy = cJSON_Duplicate(r, 1);
        if (copy == NULL || !cJSON_AddItemToArray(all, copy)) {
            cJSON_Delete(copy);
            rc = MC_ERR_NOMEM;
            goto out;
        }
        i++;
    }
    text = cJSON_PrintUnformatted(all);
    if (text == NULL) {
        rc = MC_ERR_NOMEM;
        goto out;
    }
    /* cJSON's allocator is malloc here; hand back a plain malloc'd copy all the same. */
    rc = dup_str(text, out);
out:
    if (text != NULL)
        cJSON_free(text);
    cJSON_Delete(all);
    return rc;
}

/* MOCKCA_FAULTS: a file holding an array of rules or {"faults": [...]}; its rules are
 * appended to cfg's (in *merged, new text; NULL when the variable is unset). */
static enum mc_err env_faults(const char *(*getenv_fn)(const char *), const struct mockca_config *cfg,
                              char **merged, char *err, size_t errn)
{
    const char *path = getenv_fn("MOCKCA_FAULTS");
    char *text = NULL;
    size_t len = 0;
    cJSON *root = NULL;
    const cJSON *arr;
    enum mc_err rc;

    *merged = NULL;
    if (path == NULL || path[0] == '\0')
        return MC_OK;
    rc = file_read_all(path, MOCKCA_FAULTS_FILE_MAX, &text, &len);
    if (rc != MC_OK) {
        set_err(err, errn, "MOCKCA_FAULTS: cannot read \"%.200s\": %s", path, mc_strerror(rc));
        return MC_ERR_INVALID;
    }
    rc = json_parse(text, len, MOCKCA_FAULTS_FILE_MAX, CFG_MAX_DEPTH, &root);
    if (rc != MC_OK) {
        set_err(err, errn, "MOCKCA_FAULTS: \"%.200s\" is not valid JSON", path);
        rc = MC_ERR_INVALID;
        goto out;
    }
    arr = cJSON_IsObject(root) ? cJSON_GetObjectItemCaseSensitive(root, "faults") : root;
    rc = faults_merge(cfg->faults_json, arr, "MOCKCA_FAULTS", merged, err, errn);
out:
    cJSON_Delete(root);
    free(text);
    return rc;
}

/* Ours: "conformance": {"strict": bool}, the client-conformance grader's mode (cconf.h).
 * Absent or null: unchanged. */
static enum mc_err apply_conformance(const cJSON *obj, struct mockca_config *t, char *err,
                                     size_t errn)
{
    static const char *const fields[] = {"strict", NULL};
    enum mc_err rc;
    bool b;

    if (obj == NULL || cJSON_IsNull(obj))
        return MC_OK;
    if (!cJSON_IsObject(obj)) {
        set_err(err, errn, "conformance: expected an object {\"strict\": bool}");
        return MC_ERR_INVALID;
    }
    rc = get_bool(obj, "strict", "conformance.strict", &b, err, errn);
    if (rc == MC_OK)
        t->conformance_strict = b;
    else if (rc != MC_ERR_NOT_FOUND)
        return rc;
    log_unknown(obj, "conformance", fields);
    return MC_OK;
}

enum mc_err mockca_config_apply_json(struct mockca_config *cfg, const char *text, size_t len,
                                     char *err, size_t errn)
{
    cJSON *root = NULL;
    const cJSON *pb, *cc, *faults;
    struct mockca_config *t = NULL;
    enum mc_err rc;

    set_err(err, errn, "%s", "");
    if (cfg == NULL || (text == NULL && len > 0)) {
        set_err(err, errn, "no configuration text");
        return MC_ERR_INVALID;
    }
    rc = json_parse(text != NULL ? text : "", len, CFG_MAX_JSON, CFG_MAX_DEPTH, &root);
    if (rc == MC_ERR_TOO_BIG) {
        set_err(err, errn, "config: over %d bytes or nested deeper than %d", CFG_MAX_JSON,
                CFG_MAX_DEPTH);
        goto out;
    }
    if (rc != MC_OK) {
        set_err(err, errn, "config: not valid JSON (or a duplicate member name)");
        goto out;
    }
    if (!cJSON_IsObject(root)) {
        set_err(err, errn, "config: expected a JSON object with a \"pebble\" object");
        rc = MC_ERR_INVALID;
        goto out;
    }
    pb = member(root, "pebble");
    if (pb == NULL || !cJSON_IsObject(pb)) {
        set_err(err, errn, "no \"pebble\" object");
        rc = MC_ERR_INVALID;
        goto out;
    }
    t = calloc(1, sizeof(*t));
    if (t == NULL) {
        rc = MC_ERR_NOMEM;
        goto out;
    }
    rc = config_copy(cfg, t);
    if (rc != MC_OK) {
        free(t);
        t = NULL;
        goto out;
    }
    rc = apply_pebble(pb, t, err, errn);
    if (rc != MC_OK)
        goto out;
    cc = member(root, "certcentral");
    if (cc != NULL) {
        rc = apply_certcentral(cc, t, err, errn);
        if (rc != MC_OK)
            goto out;
    }
    rc = apply_conformance(member(root, "conformance"), t, err, errn);
    if (rc != MC_OK)
        goto out;
    faults = member(root, "faults");
    if (faults != NULL && !cJSON_IsNull(faults)) {
        char *merged = NULL;
        rc = faults_merge(NULL, faults, "faults", &merged, err, errn);
        if (rc != MC_OK)
            goto out;
        free(t->faults_json);
        t->faults_json = merged;
    }
    mockca_config_free(cfg);
    *cfg = *t;
    memset(t, 0, sizeof(*t)); /* ownership moved to cfg */
out:
    if (rc != MC_OK && rc != MC_ERR_NOMEM)
        log_msg(LOGL_DEBUG, "config.json_rejected", "err=%s", mc_strerror(rc));
    if (rc == MC_ERR_NOMEM)
        set_err(err, errn, "config: out of memory");
    mockca_config_free(t);
    free(t);
    cJSON_Delete(root);
    return rc;
}

/* ---- environment ---- */

/* Go's strconv.ParseInt(s, 10, 0): optional sign, decimal digits, nothing else (no spaces,
 * no "0x", no trailing junk). */
static bool parse_whole(const char *s, long long *out)
{
    char *end = NULL;
    long long v;

    if (s == NULL || s[0] == '\0' || isspace((unsigned char)s[0]))
        return false;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0')
        return false;
    *out = v;
    return true;
}

/* va/va.go switches on "1", "true", "True", "TRUE" for on. We take the same, and the
 * matching spellings of off; anything else is an error instead of a silent "off". */
static int parse_envbool(const char *s)
{
    static const char *const on[] = {"1", "true", "True", "TRUE"};
    static const char *const off[] = {"0", "false", "False", "FALSE"};

    for (size_t i = 0; i < sizeof(on) / sizeof(on[0]); i++)
        if (strcmp(s, on[i]) == 0)
            return 1;
    for (size_t i = 0; i < sizeof(off) / sizeof(off[0]); i++)
        if (strcmp(s, off[i]) == 0)
            return 0;
    return -1;
}

static enum mc_err env_bool(const char *(*getenv_fn)(const char *), const char *name, bool *out,
                            char *err, size_t errn)
{
    const char *s = getenv_fn(name);
    int b;

    if (s == NULL || s[0] == '\0')
        return MC_OK;
    b = parse_envbool(s);
    if (b < 0) {
        set_err(err, errn, "%s: \"%.32s\" is not 1/true or 0/false", name, s);
        return MC_ERR_INVALID;
    }
    *out = b == 1;
    return MC_OK;
}

static enum mc_err env_int(const char *(*getenv_fn)(const char *), const char *name, long long min,
                           long long max, long long *out, char *err, size_t errn)
{
    const char *s = getenv_fn(name);
    long long v;

    /* Unset and empty are the same to Pebble (os.Getenv returns "" for both). */
    if (s == NULL || s[0] == '\0')
        return MC_OK;
    if (!parse_whole(s, &v) || v < min || v > max) {
        set_err(err, errn, "%s: \"%.32s\" is not a whole number in [%lld, %lld]", name, s, min,
                max);
        return MC_ERR_INVALID;
    }
    *out = v;
    return MC_OK;
}

/* MOCKCA_RATE_*: "COUNT/SECONDS" (count in [0, CFG_MAX_RL_COUNT], window in [1,
 * CFG_MAX_RL_WINDOW_S]), or "0" alone to turn the limit off; unset or empty leaves it. */
static enum mc_err env_rate(const char *(*getenv_fn)(const char *), const char *name,
                            struct mockca_rate_limit *out, char *err, size_t errn)
{
    const char *s = getenv_fn(name);
    char buf[CFG_MAX_RL_ENV + 1], *slash;
    long long count, window;

    if (s == NULL || s[0] == '\0')
        return MC_OK;
    if (strnlen(s, sizeof(buf)) >= sizeof(buf))
        goto bad;
    memcpy(buf, s, strlen(s) + 1);
    slash = strchr(buf, '/');
    if (slash == NULL) {
        if (!parse_whole(buf, &count) || count != 0)
            goto bad;
        out->count = 0;
        out->window_s = 0;
        return MC_OK;
    }
    *slash = '\0';
    if (!parse_whole(buf, &count) || !parse_whole(slash + 1, &window) || count < 0 ||
        count > CFG_MAX_RL_COUNT || window < 1 || window > CFG_MAX_RL_WINDOW_S)
        goto bad;
    out->count = (unsigned)count;
    out->window_s = count > 0 ? window : 0;
    return MC_OK;
bad:
    set_err(err, errn, "%s: \"%.32s\" is not COUNT/SECONDS (count 0..%d, seconds 1..%lld) or 0",
            name, s, CFG_MAX_RL_COUNT, (long long)CFG_MAX_RL_WINDOW_S);
    return MC_ERR_INVALID;
}

enum mc_err mockca_config_apply_env(struct mockca_config *cfg,
                                    const char *(*getenv_fn)(const char *name), char *err,
                                    size_t errn)
{
    bool nosleep, always_valid, cconf_strict;
    struct mockca_rate_limit rl_orders, rl_failed, rl_accounts;
    long long sleep_max, nonce_pct, reuse_pct, per_page, chain_len, alt_roots;
    const char *cc_key, *seed_s;
    char *cc_key_copy = NULL, *cc_role = NULL, *faults = NULL;
    bool cc_key_add = false;
    unsigned long long seed = 0;
    enum mc_err rc;

    set_err(err, errn, "%s", "");
    if (cfg == NULL || getenv_fn == NULL) {
        set_err(err, errn, "no configuration or environment");
        return MC_ERR_INVALID;
    }
    nosleep = cfg->va_nosleep;
    cconf_strict = cfg->conformance_strict;
    always_valid = cfg->va_always_valid;
    sleep_max = cfg->va_sleep_max_s;
    nonce_pct = cfg->nonce_reject_pct;
    reuse_pct = cfg->authz_reuse_pct;
    per_page = cfg->orders_per_page;
    chain_len = cfg->chain_length;
    alt_roots = cfg->alternate_roots;
    rl_orders = cfg->rl_orders_per_account;
    rl_failed = cfg->rl_failed_validations;
    rl_accounts = cfg->rl_accounts_per_address;

    /* Ranges: va/va.go takes PEBBLE_VA_SLEEPTIME >= 1 (README: "a positive integer"; our
     * hour cap keeps a typo from stalling a CI job); wfe/wfe.go clamps the two percentages
     * to [0, 100] where we refuse; README: PEBBLE_WFE_ORDERS_PER_PAGE "a positive integer",
     * PEBBLE_CHAIN_LENGTH "a default and minimum value of 1"; cmd/pebble/main.go takes
     * PEBBLE_ALTERNATE_ROOTS >= 0. The upper caps on pages, chains and roots are ours: each
     * unit is work done at start-up or per request. */
    if ((rc = env_bool(getenv_fn, "PEBBLE_VA_NOSLEEP", &nosleep, err, errn)) != MC_OK ||
        (rc = env_bool(getenv_fn, "MOCKCA_CONFORMANCE_STRICT", &cconf_strict, err, errn)) !=
            MC_OK ||
        (rc = env_int(getenv_fn, "PEBBLE_VA_SLEEPTIME", 1, 3600, &sleep_max, err, errn)) != MC_OK ||
        (rc = env_bool(getenv_fn, "PEBBLE_VA_ALWAYS_VALID", &always_valid, err, errn)) != MC_OK ||
        (rc = env_int(getenv_fn, "PEBBLE_WFE_NONCEREJECT", 0, 100, &nonce_pct, err, errn)) !=
            MC_OK ||
        (rc = env_int(getenv_fn, "PEBBLE_AUTHZREUSE", 0, 100, &reuse_pct, err, errn)) != MC_OK ||
        (rc = env_int(getenv_fn, "PEBBLE_WFE_ORDERS_PER_PAGE", 1, 1000, &per_page, err, errn)) !=
            MC_OK ||
        (rc = env_int(getenv_fn, "PEBBLE_CHAIN_LENGTH", 1, 10, &chain_len, err, errn)) != MC_OK ||
        (rc = env_int(getenv_fn, "PEBBLE_ALTERNATE_ROOTS", 0, 16, &alt_roots, err, errn)) != MC_OK ||
        (rc = env_rate(getenv_fn, "MOCKCA_RATE_ORDERS_PER_ACCOUNT", &rl_orders, err, errn)) !=
            MC_OK ||
        (rc = env_rate(getenv_fn, "MOCKCA_RATE_FAILED_VALIDATIONS_PER_IDENTIFIER", &rl_failed,
                       err, errn)) != MC_OK ||
        (rc = env_rate(getenv_fn, "MOCKCA_RATE_ACCOUNTS_PER_ADDRESS", &rl_accounts, err,
                       errn)) != MC_OK)
        return rc;

    /* The run's seed, as --fault-seed gives it (a 64-bit value: parse_whole's long long
     * cannot hold every one). */
    seed_s = getenv_fn("MOCKCA_FAULT_SEED");
    if (seed_s != NULL && seed_s[0] != '\0') {
        char *end = NULL;
        errno = 0;
        seed = strtoull(seed_s, &end, 10);
        if (seed_s[0] < '0' || seed_s[0] > '9' || *end != '\0' || errno != 0 || seed == 0) {
            set_err(err, errn, "MOCKCA_FAULT_SEED: \"%.32s\" is not a positive integer", seed_s);
            return MC_ERR_INVALID;
        }
    }
    rc = env_faults(getenv_fn, cfg, &faults, err, errn);
    if (rc != MC_OK)
        return rc;

    /* One administrator key for the CertCentral API, so that a plain `mockca` start has a
     * documented way in without a config file; a key already in the set is not added
     * twice. Copied before anything is changed, so a failure leaves cfg as it was. */
    cc_key = getenv_fn("MOCKCA_CC_API_KEY");
    if (cc_key != NULL && cc_key[0] != '\0') {
        if (!cc_key_ok(cc_key)) {
            set_err(err, errn,
                    "MOCKCA_CC_API_KEY: want 1 to %d printable characters without spaces",
                    CFG_MAX_CC_KEY);
            free(faults);
            return MC_ERR_INVALID;
        }
        cc_key_add = true;
        for (size_t i = 0; i < cfg->cc.n_keys; i++)
            if (cfg->cc.keys[i].key != NULL && strcmp(cfg->cc.keys[i].key, cc_key) == 0)
                cc_key_add = false;
        if (cc_key_add && cfg->cc.n_keys >= MOCKCA_MAX_CC_KEYS) {
            set_err(err, errn, "MOCKCA_CC_API_KEY: certcentral.apiKeys already holds %d keys",
                    MOCKCA_MAX_CC_KEYS);
            free(faults);
            return MC_ERR_INVALID;
        }
        if (cc_key_add && ((rc = dup_str(cc_key, &cc_key_copy)) != MC_OK ||
                           (rc = dup_str("administrator", &cc_role)) != MC_OK)) {
            free(cc_key_copy);
            free(faults);
            set_err(err, errn, "out of memory");
            return rc;
        }
    }

    cfg->va_nosleep = nosleep;
    cfg->conformance_strict = cconf_strict;
    cfg->va_always_valid = always_valid;
    cfg->va_sleep_max_s = sleep_max;
    cfg->nonce_reject_pct = (unsigned)nonce_pct;
    cfg->authz_reuse_pct = (unsigned)reuse_pct;
    cfg->orders_per_page = (unsigned)per_page;
    cfg->chain_length = (unsigned)chain_len;
    cfg->alternate_roots = (unsigned)alt_roots;
    cfg->rl_orders_per_account = rl_orders;
    cfg->rl_failed_validations = rl_failed;
    cfg->rl_accounts_per_address = rl_accounts;
    if (cc_key_add) {
        struct mockca_cc_key *k = &cfg->cc.keys[cfg->cc.n_keys++];
        k->key = cc_key_copy;
        k->role = cc_role;
        k->account_id = 1;
    }
    if (seed != 0)
        cfg->fault_seed = seed;
    if (faults != NULL) {
        free(cfg->faults_json);
        cfg->faults_json = faults;
    }
    return MC_OK;
}
