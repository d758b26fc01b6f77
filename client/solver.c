/* solver.c: the solver front (solver.h): config copy, validation of what a server sent
 * before it reaches a file name, URL, DNS name or hook, dispatch to the kinds, the DNS
 * record names (dns-01, dns-account-01), and the small table the kinds share. */
#include "client/solver_impl.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "client/propagate.h"
#include "common/b64url.h"
#include "common/log.h"

/* ---- validation ---------------------------------------------------------------------- */

bool sv_token_ok(const char *s)
{
    size_t n;
    if (s == NULL)
        return false;
    n = strnlen(s, SV_TOKEN_MAX + 1);
    return n >= 1 && n <= SV_TOKEN_MAX && b64url_is_alphabet(s, n);
}

bool sv_keyauth_ok(const char *s)
{
    size_t n;
    if (s == NULL)
        return false;
    n = strnlen(s, SV_KEYAUTH_MAX + 1);
    if (n < 1 || n > SV_KEYAUTH_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] != '.' && !b64url_is_alphabet(s + i, 1))
            return false;
    return true;
}

/* RFC 1123 section 2.1 LDH labels; an underscore is refused too, as no identifier a CA
 * validates carries one (it would be a name only this solver made up). */
static bool sv_dns_name_ok(const char *s)
{
    size_t n, label = 0;
    if (s == NULL)
        return false;
    n = strnlen(s, SV_NAME_MAX + 1);
    if (n == 0 || n > SV_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '.') {
            if (label == 0 || s[i - 1] == '-')
                return false;
            label = 0;
            continue;
        }
        if (!isalnum((unsigned char)c) && c != '-')
            return false;
        if (label == 0 && c == '-')
            return false;
        if (++label > 63)
            return false;
    }
    return label != 0 && s[n - 1] != '-';
}

bool sv_ident_ok(const struct ident *id)
{
    uint8_t buf[16];
    if (id == NULL || id->value == NULL)
        return false;
    if (id->type == IDENT_DNS)
        return sv_dns_name_ok(id->value);
    if (id->type == IDENT_IP)
        return inet_pton(AF_INET, id->value, buf) == 1 || inet_pton(AF_INET6, id->value, buf) == 1;
    return false;
}

const char *sv_base_name(const struct ident *id)
{
    if (id->type == IDENT_DNS && strncmp(id->value, "*.", 2) == 0)
        return id->value + 2;
    return id->value;
}

enum mc_err sv_ctx_check(const struct chall_ctx *c)
{
    struct ident base;
    const char *why = NULL;
    if (c == NULL || c->ident == NULL || c->ident->value == NULL) {
        why = "no identifier";
        goto bad;
    }
    base = *c->ident;
    base.value = (char *)sv_base_name(c->ident);
    if (c->type < CH_HTTP01 || c->type > CH_DNSACCOUNT01)
        why = "unknown challenge type";
    else if (!sv_ident_ok(&base))
        why = "identifier is not a DNS name or IP";
    else if ((c->type == CH_DNS01 || c->type == CH_DNSACCOUNT01) && base.type != IDENT_DNS)
        why = "DNS challenges need a DNS identifier";
    else if (base.value != c->ident->value && c->type != CH_DNS01 && c->type != CH_DNSACCOUNT01)
        why = "a wildcard can only be proven with a DNS challenge";
    else if (!sv_token_ok(c->token))
        why = "token is not 1..256 base64url characters";
    else if (!sv_keyauth_ok(c->key_auth))
        why = "key authorization is not base64url and '.'";
    else if (c->type == CH_DNSACCOUNT01 &&
             (c->account_url == NULL || c->account_url[0] == '\0' ||
              strnlen(c->account_url, SV_ACCOUNT_URL_MAX + 1) > SV_ACCOUNT_URL_MAX))
        why = "dns-account-01 needs the account URL";
    if (why == NULL)
        return MC_OK;
bad:
    log_msg(LOGL_WARN, "solver.refused", "reason=\"%s\"", why);
    return MC_ERR_INVALID;
}

/* ---- the DNS record ------------------------------------------------------------------ */

/* draft-ietf-acme-dns-account-label: base32 (RFC 4648 alphabet, lowercase, no padding) of
 * the first 10 bytes of SHA-256(account URL): 80 bits, exactly 16 characters. Computed the
 * way mockca's VA does, and tested against it (test_certcli_solvers). */
static enum mc_err sv_account_label(const char *account_url, char label[17])
{
    static const char alpha[] = "abcdefghijklmnopqrstuvwxyz234567";
    uint8_t h[32];
    unsigned int hl = 0;
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;
    if (EVP_Digest(account_url, strlen(account_url), h, &hl, EVP_sha256(), NULL) != 1 ||
        hl != sizeof h) {
        log_openssl_errors(LOGL_ERROR, "solver.digest");
        return MC_ERR_CRYPTO;
    }
    for (size_t i = 0; i < 10; i++) {
        acc = ((acc << 8) | h[i]) & 0xfffu; /* at most 12 bits are ever pending */
        bits += 8;
        while (bits >= 5) {
            bits -= 5;
            label[o++] = alpha[(acc >> bits) & 31];
        }
    }
    label[o] = '\0';
    return MC_OK;
}

enum mc_err solver_dns_record(const struct chall_ctx *c, char **fqdn, char **value)
{
    enum mc_err err;
    char *name = NULL, *val = NULL;
    char label[17];
    uint8_t h[32];
    unsigned int hl = 0;
    size_t n;
    const char *base;

    err = sv_ctx_check(c);
    if (err != MC_OK)
        goto out;
    if (c->type != CH_DNS01 && c->type != CH_DNSACCOUNT01) {
        err = MC_ERR_INVALID;
        goto out;
    }
    base = sv_base_name(c->ident);
    /* "_" label "." "_acme-challenge." base "." NUL */
    n = 1 + 16 + 1 + 16 + strlen(base) + 2;
    name = malloc(n);
    if (name == NULL) {
        err = MC_ERR_NOMEM;
        goto out;
    }
    if (c->type == CH_DNSACCOUNT01) {
        err = sv_account_label(c->account_url, label);
        if (err != MC_OK)
            goto out;
        snprintf(name, n, "_%s._acme-challenge.%s.", label, base);
    } else {
        snprintf(name, n, "_acme-challenge.%s.", base);
    }
    /* Identifiers are lowercase already (csr.h); a DNS name compares case-insensitively,
     * but hooks and management APIs may not, so hand out one spelling. */
    for (char *p = name; *p != '\0'; p++)
        *p = (char)tolower((unsigned char)*p);
    /* RFC 8555 section 8.4: base64url(SHA-256(key authorization)). */
    if (EVP_Digest(c->key_auth, strlen(c->key_auth), h, &hl, EVP_sha256(), NULL) != 1 ||
        hl != sizeof h) {
        log_openssl_errors(LOGL_ERROR, "solver.digest");
        err = MC_ERR_CRYPTO;
        goto out;
    }
    err = b64url_encode(h, sizeof h, &val);
    if (err != MC_OK)
        goto out;
    *fqdn = name;
    *value = val;
    name = NULL;
    val = NULL;
out:
    free(name);
    free(val);
    return err;
}

/* ---- the solver ---------------------------------------------------------------------- */

static enum mc_err sv_dup(const char *in, const char **out)
{
    char *s;
    *out = NULL;
    if (in == NULL)
        return MC_OK;
    s = strdup(in);
    if (s == NULL)
        return MC_ERR_NOMEM;
    *out = s;
    return MC_OK;
}

static void sv_config_free(struct solver_config *c)
{
    free((char *)c->address);
    free((char *)c->webroot);
    free((char *)c->mgmt_url);
    free((char *)c->server);
    free((char *)c->zone);
    free((char *)c->tsig_name);
    free((char *)c->tsig_alg);
    free((char *)c->tsig_secret);
    free((char *)c->hook);
    free((char *)c->prop.resolver);
    memset(c, 0, sizeof *c);
}

/* A private copy with the documented defaults filled in. */
static enum mc_err sv_config_copy(const struct solver_config *in, struct solver_config *out)
{
    enum mc_err err = MC_OK;
    memset(out, 0, sizeof *out);
    out->kind = in->kind;
    out->port = in->port;
    out->hook_timeout_s = in->hook_timeout_s > 0 ? in->hook_timeout_s : 60;
    out->prop = in->prop;
    out->prop.resolver = NULL;
    if (out->prop.auth_port == 0)
        out->prop.auth_port = 53;
    if (out->prop.timeout_s <= 0)
        out->prop.timeout_s = 120;
    if (out->prop.interval_ms <= 0)
        out->prop.interval_ms = 1000;
    /* solver.h: "0.0.0.0" when address is NULL. Port 0 always means "the kernel picks",
     * whatever the address: that is how certcli's --http 0 / --alpn 0 (cmd_common.c) use
     * it, so 80 / 443 are the command line's business, not a silent default here. */
    err = sv_dup(in->address != NULL ? in->address : "0.0.0.0", &out->address);
    if (err == MC_OK)
        err = sv_dup(in->webroot, &out->webroot);
    if (err == MC_OK)
        err = sv_dup(in->mgmt_url, &out->mgmt_url);
    if (err == MC_OK)
        err = sv_dup(in->server, &out->server);
    if (err == MC_OK)
        err = sv_dup(in->zone, &out->zone);
    if (err == MC_OK)
        err = sv_dup(in->tsig_name, &out->tsig_name);
    if (err == MC_OK)
        err = sv_dup(in->tsig_alg, &out->tsig_alg);
    if (err == MC_OK)
        err = sv_dup(in->tsig_secret, &out->tsig_secret);
    if (err == MC_OK)
        err = sv_dup(in->hook, &out->hook);
    if (err == MC_OK)
        err = sv_dup(in->prop.resolver, &out->prop.resolver);
    if (err != MC_OK)
        sv_config_free(out);
    return err;
}

static bool sv_is_dns_kind(enum solver_kind k)
{
    return k == SOLVER_DNS_MGMT || k == SOLVER_DNS_RFC2136 || k == SOLVER_DNS_HOOK;
}

enum mc_err solver_new(const struct solver_config *cfg, struct solver **out)
{
    enum mc_err err;
    struct solver *sv = NULL;

    if (cfg == NULL || out == NULL)
        return MC_ERR_INVALID;
    sv = calloc(1, sizeof *sv);
    if (sv == NULL)
        return MC_ERR_NOMEM;
    err = sv_config_copy(cfg, &sv->cfg);
    if (err != MC_OK)
        goto out;
    switch (cfg->kind) {
    case SOLVER_HTTP_STANDALONE:
        err = sv_http_standalone_init(sv);
        break;
    case SOLVER_HTTP_WEBROOT:
        err = sv_http_webroot_init(sv);
        break;
    case SOLVER_ALPN_STANDALONE:
        err = sv_alpn_init(sv);
        break;
    case SOLVER_DNS_MGMT:
        err = sv_dns_mgmt_init(sv);
        break;
    case SOLVER_DNS_RFC2136:
        err = sv_dns_rfc2136_init(sv);
        break;
    case SOLVER_DNS_HOOK:
        err = sv_dns_hook_init(sv);
        break;
    default:
        err = MC_ERR_INVALID;
        break;
    }
    if (err != MC_OK)
        goto out;
    log_msg(LOGL_DEBUG, "solver.new", "kind=%d port=%u", (int)cfg->kind, (unsigned)sv->port);
    *out = sv;
    sv = NULL;
out:
    if (sv != NULL) {
        /* An init that failed has released its own state and left ops NULL. */
        sv_config_free(&sv->cfg);
        free(sv);
    }
    return err;
}

void solver_free(struct solver *sv)
{
    if (sv == NULL)
        return;
    if (sv->ops != NULL && sv->ops->destroy != NULL)
        sv->ops->destroy(sv);
    sv_config_free(&sv->cfg);
    free(sv);
}

bool solver_handles(const struct solver *sv, enum ch_type t)
{
    if (sv == NULL)
        return false;
    switch (sv->cfg.kind) {
    case SOLVER_HTTP_STANDALONE:
    case SOLVER_HTTP_WEBROOT:
        return t == CH_HTTP01;
    case SOLVER_ALPN_STANDALONE:
        return t == CH_TLSALPN01;
    case SOLVER_DNS_MGMT:
    case SOLVER_DNS_RFC2136:
    case SOLVER_DNS_HOOK:
        return t == CH_DNS01 || t == CH_DNSACCOUNT01;
    }
    return false;
}

uint16_t solver_port(const struct solver *sv)
{
    return sv != NULL ? sv->port : 0;
}

static enum mc_err sv_check_call(const struct solver *sv, const struct chall_ctx *c)
{
    enum mc_err err;
    if (sv == NULL || sv->ops == NULL)
        return MC_ERR_INVALID;
    err = sv_ctx_check(c);
    if (err != MC_OK)
        return err;
    if (!solver_handles(sv, c->type)) {
        log_msg(LOGL_WARN, "solver.refused", "reason=\"wrong challenge type\" type=%s",
                ch_type_name(c->type));
        return MC_ERR_UNSUPPORTED;
    }
    return MC_OK;
}

enum mc_err solver_present(struct solver *sv, const struct chall_ctx *c)
{
    enum mc_err err = sv_check_call(sv, c);
    if (err != MC_OK)
        return err;
    err = sv->ops->present(sv, c);
    log_msg(err == MC_OK ? LOGL_DEBUG : LOGL_WARN, "solver.present", "type=%s ident=%s err=%s",
            ch_type_name(c->type), c->ident->value, mc_strerror(err));
    return err;
}

enum mc_err solver_wait_ready(struct solver *sv, const struct chall_ctx *c)
{
    enum mc_err err = sv_check_call(sv, c);
    char *fqdn = NULL, *value = NULL;
    if (err != MC_OK)
        return err;
    if (!sv_is_dns_kind(sv->cfg.kind) || !sv->cfg.prop.enabled)
        return MC_OK;
    err = solver_dns_record(c, &fqdn, &value);
    if (err == MC_OK)
        err = prop_wait(&sv->cfg.prop, fqdn, value);
    free(fqdn);
    free(value);
    return err;
}

enum mc_err solver_cleanup(struct solver *sv, const struct chall_ctx *c)
{
    enum mc_err err = sv_check_call(sv, c);
    if (err != MC_OK)
        return err;
    err = sv->ops->cleanup(sv, c);
    log_msg(err == MC_OK ? LOGL_DEBUG : LOGL_WARN, "solver.cleanup", "type=%s ident=%s err=%s",
            ch_type_name(c->type), c->ident->value, mc_strerror(err));
    return err;
}

/* ---- the shared table ---------------------------------------------------------------- */

struct sv_entry {
    char *key;
    char *value;
    void *data;
};

struct sv_table {
    pthread_mutex_t mu;
    struct sv_entry *v;
    size_t n, cap;
    void (*free_data)(void *);
};

enum mc_err sv_table_new(void (*free_data)(void *), struct sv_table **out)
{
    struct sv_table *t = calloc(1, sizeof *t);
    if (t == NULL)
        return MC_ERR_NOMEM;
    if (pthread_mutex_init(&t->mu, NULL) != 0) {
        free(t);
        return MC_ERR_NOMEM;
    }
    t->free_data = free_data;
    *out = t;
    return MC_OK;
}

static void sv_entry_clear(struct sv_table *t, struct sv_entry *e)
{
    free(e->key);
    free(e->value);
    if (e->data != NULL && t->free_data != NULL)
        t->free_data(e->data);
    memset(e, 0, sizeof *e);
}

void sv_table_free(struct sv_table *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->n; i++)
        sv_entry_clear(t, &t->v[i]);
    free(t->v);
    pthread_mutex_destroy(&t->mu);
    free(t);
}

/* A linear search: a solver holds a handful of challenges at once (a bench worker one),
 * and the cap keeps the worst case small. */
static struct sv_entry *sv_find_locked(struct sv_table *t, const char *key)
{
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->v[i].key, key) == 0)
            return &t->v[i];
    return NULL;
}

enum mc_err sv_table_put(struct sv_table *t, const char *key, const char *value, void *data)
{
    enum mc_err err = MC_OK;
    struct sv_entry ne = {0}, *e;
    ne.key = strdup(key);
    ne.value = strdup(value != NULL ? value : "");
    ne.data = data;
    if (ne.key == NULL || ne.value == NULL) {
        sv_entry_clear(t, &ne);
        return MC_ERR_NOMEM;
    }
    pthread_mutex_lock(&t->mu);
    e = sv_find_locked(t, key);
    if (e != NULL) {
        sv_entry_clear(t, e);
        *e = ne;
        goto out;
    }
    if (t->n >= SV_TABLE_MAX) {
        err = MC_ERR_LIMIT;
        goto out;
    }
    if (t->n == t->cap) {
        size_t ncap = t->cap != 0 ? t->cap * 2 : 16;
        struct sv_entry *nv = realloc(t->v, ncap * sizeof *nv);
        if (nv == NULL) {
            err = MC_ERR_NOMEM;
            goto out;
        }
        t->v = nv;
        t->cap = ncap;
    }
    t->v[t->n++] = ne;
out:
    pthread_mutex_unlock(&t->mu);
    if (err != MC_OK)
        sv_entry_clear(t, &ne);
    return err;
}

bool sv_table_del(struct sv_table *t, const char *key)
{
    struct sv_entry *e;
    bool found = false;
    pthread_mutex_lock(&t->mu);
    e = sv_find_locked(t, key);
    if (e != NULL) {
        sv_entry_clear(t, e);
        *e = t->v[--t->n];
        found = true;
    }
    pthread_mutex_unlock(&t->mu);
    return found;
}

enum mc_err sv_table_get(struct sv_table *t, const char *key, char **out)
{
    struct sv_entry *e;
    enum mc_err err = MC_ERR_NOT_FOUND;
    pthread_mutex_lock(&t->mu);
    e = sv_find_locked(t, key);
    if (e != NULL) {
        *out = strdup(e->value);
        err = *out != NULL ? MC_OK : MC_ERR_NOMEM;
    }
    pthread_mutex_unlock(&t->mu);
    return err;
}

bool sv_table_with(struct sv_table *t, const char *key,
                   void (*fn)(void *arg, const char *key, const char *value, void *data), void *arg)
{
    struct sv_entry *e;
    bool found = false;
    pthread_mutex_lock(&t->mu);
    e = sv_find_locked(t, key);
    if (e != NULL) {
        fn(arg, e->key, e->value, e->data);
        found = true;
    }
    pthread_mutex_unlock(&t->mu);
    return found;
}

size_t sv_table_count(struct sv_table *t)
{
    size_t n;
    pthread_mutex_lock(&t->mu);
    n = t->n;
    pthread_mutex_unlock(&t->mu);
    return n;
}

void sv_table_each(struct sv_table *t,
                   void (*fn)(void *arg, const char *key, const char *value, void *data), void *arg)
{
    pthread_mutex_lock(&t->mu);
    for (size_t i = 0; i < t->n; i++)
        fn(arg, t->v[i].key, t->v[i].value, t->v[i].data);
    pthread_mutex_unlock(&t->mu);
}

bool sv_table_pop(struct sv_table *t, char **key, char **value, void **data)
{
    bool got = false;
    pthread_mutex_lock(&t->mu);
    if (t->n > 0) {
        struct sv_entry *e = &t->v[--t->n];
        *key = e->key;
        *value = e->value;
        *data = e->data;
        memset(e, 0, sizeof *e);
        got = true;
    }
    pthread_mutex_unlock(&t->mu);
    return got;
}

/* ---- generic entry points (solver.h: values that are no ACME challenge) ---------------- */

bool sv_fqdn_ok(const char *s)
{
    size_t n, label = 0;
    if (s == NULL)
        return false;
    n = strnlen(s, SV_NAME_MAX + 2);
    if (n > 0 && s[n - 1] == '.')
        n--;
    if (n == 0 || n > SV_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '.') {
            if (label == 0)
                return false;
            label = 0;
            continue;
        }
        /* '_' is allowed here: "_dnsauth" is the label DigiCert looks under. */
        if (!isalnum((unsigned char)c) && c != '-' && c != '_')
            return false;
        if (++label > 63)
            return false;
    }
    return label != 0;
}

bool sv_txt_value_ok(const char *s)
{
    size_t n;
    if (s == NULL)
        return false;
    n = strnlen(s, SV_TXT_VALUE_MAX + 1);
    if (n == 0 || n > SV_TXT_VALUE_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && strchr("._~+/=-", s[i]) == NULL)
            return false;
    return true;
}

static enum mc_err sv_gen_txt_check(const struct solver *sv, const char *fqdn, const char *value)
{
    if (sv == NULL || sv->ops == NULL)
        return MC_ERR_INVALID;
    if (!sv_is_dns_kind(sv->cfg.kind) || sv->gen == NULL || sv->gen->txt_present == NULL ||
        sv->gen->txt_cleanup == NULL)
        return MC_ERR_UNSUPPORTED;
    if (!sv_fqdn_ok(fqdn) || !sv_txt_value_ok(value)) {
        log_msg(LOGL_WARN, "solver.refused", "reason=\"TXT name or value not acceptable\"");
        return MC_ERR_INVALID;
    }
    return MC_OK;
}

enum mc_err solver_txt_present(struct solver *sv, const char *fqdn, const char *value)
{
    enum mc_err err = sv_gen_txt_check(sv, fqdn, value);
    if (err != MC_OK)
        return err;
    err = sv->gen->txt_present(sv, fqdn, value);
    log_msg(err == MC_OK ? LOGL_DEBUG : LOGL_WARN, "solver.txt_present", "fqdn=%s err=%s", fqdn,
            mc_strerror(err));
    return err;
}

enum mc_err solver_txt_wait_ready(struct solver *sv, const char *fqdn, const char *value)
{
    char abs[SV_NAME_MAX + 2];
    enum mc_err err = sv_gen_txt_check(sv, fqdn, value);
    if (err != MC_OK || !sv->cfg.prop.enabled)
        return err;
    /* prop_wait takes the absolute spelling solver_dns_record hands out. */
    snprintf(abs, sizeof abs, "%s%s", fqdn, fqdn[strlen(fqdn) - 1] == '.' ? "" : ".");
    return prop_wait(&sv->cfg.prop, abs, value);
}

enum mc_err solver_txt_cleanup(struct solver *sv, const char *fqdn, const char *value)
{
    enum mc_err err = sv_gen_txt_check(sv, fqdn, value);
    if (err != MC_OK)
        return err;
    err = sv->gen->txt_cleanup(sv, fqdn, value);
    log_msg(err == MC_OK ? LOGL_DEBUG : LOGL_WARN, "solver.txt_cleanup", "fqdn=%s err=%s", fqdn,
            mc_strerror(err));
    return err;
}

static enum mc_err sv_cname_check(const struct solver *sv, const char *fqdn, const char *target)
{
    if (sv == NULL || sv->ops == NULL || fqdn == NULL || target == NULL)
        return MC_ERR_INVALID;
    if (!sv_is_dns_kind(sv->cfg.kind) || sv->cname == NULL || sv->cname->present == NULL ||
        sv->cname->cleanup == NULL)
        return MC_ERR_UNSUPPORTED;
    if (!sv_fqdn_ok(fqdn) || !sv_fqdn_ok(target)) {
        log_msg(LOGL_WARN, "solver.refused", "reason=\"CNAME name or target not acceptable\"");
        return MC_ERR_INVALID;
    }
    return MC_OK;
}

enum mc_err solver_cname_present(struct solver *sv, const char *fqdn, const char *target)
{
    enum mc_err err = sv_cname_check(sv, fqdn, target);
    if (err != MC_OK)
        return err;
    err = sv->cname->present(sv, fqdn, target);
    log_msg(err == MC_OK ? LOGL_DEBUG : LOGL_WARN, "solver.cname_present", "fqdn=%s target=%s err=%s",
            fqdn, target, mc_strerror(err));
    return err;
}

enum mc_err solver_cname_cleanup(struct solver *sv, const char *fqdn, const char *target)
{
    enum mc_err err = sv_cname_check(sv, fqdn, target);
    if (err != MC_OK)
        return err;
    err = sv->cname->cleanup(sv, fqdn, target);
    log_msg(err == MC_OK ? LOGL_DEBUG : LOGL_WARN, "solver.cname_cleanup", "fqdn=%s err=%s", fqdn,
            mc_strerror(err));
    return err;
}

static enum mc_err sv_gen_file_check(const struct solver *sv, const char *url_path)
{
    if (sv == NULL || sv->ops == NULL)
        return MC_ERR_INVALID;
    if ((sv->cfg.kind != SOLVER_HTTP_STANDALONE && sv->cfg.kind != SOLVER_HTTP_WEBROOT) ||
        sv->gen == NULL || sv->gen->file_present == NULL || sv->gen->file_cleanup == NULL)
        return MC_ERR_UNSUPPORTED;
    if (!sv_url_path_ok(url_path)) {
        log_msg(LOGL_WARN, "solver.refused", "reason=\"not a path under /.well-known/\"");
        return MC_ERR_INVALID;
    }
    return MC_OK;
}

enum mc_err solver_file_present(struct solver *sv, const char *url_path, const char *content)
{
    enum mc_err err = sv_gen_file_check(sv, url_path);
    if (err != MC_OK)
        return err;
    if (!sv_file_content_ok(content)) {
        log_msg(LOGL_WARN, "solver.refused", "reason=\"file content not printable text\"");
        return MC_ERR_INVALID;
    }
    err = sv->gen->file_present(sv, url_path, content);
    log_msg(err == MC_OK ? LOGL_DEBUG : LOGL_WARN, "solver.file_present", "path=%s err=%s",
            url_path, mc_strerror(err));
    return err;
}

enum mc_err solver_file_cleanup(struct solver *sv, const char *url_path)
{
    enum mc_err err = sv_gen_file_check(sv, url_path);
    if (err != MC_OK)
        return err;
    return sv->gen->file_cleanup(sv, url_path);
}
