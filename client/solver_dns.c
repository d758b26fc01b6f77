/* solver_dns.c: the dns-01 / dns-account-01 solvers (RFC 8555 section 8.4,
 * draft-ietf-acme-dns-account-label). One front for the three mechanisms: it computes the
 * record (solver_dns_record), remembers what is present so that solver_free can take it
 * away again, and hands the record to a backend:
 *   - DNS_MGMT: the pebble-challtestsrv management API (dnsmock implements it):
 *     POST {mgmt_url}/set-txt {"host", "value"} and /clear-txt {"host"};
 *   - DNS_RFC2136: a dynamic UPDATE (RFC 2136) to the primary, TSIG-signed (RFC 8945)
 *     when a key is configured;
 *   - DNS_HOOK: a program run as PROGRAM present|cleanup FQDN VALUE.
 *
 * Errors, beyond solver.h's: RFC2136: MC_ERR_VERIFY when the server refuses our TSIG
 * (NOTAUTH) or its answer's TSIG does not verify, MC_ERR_PROBLEM for any other rcode
 * but NOERROR, MC_ERR_TIMEOUT when the server does not answer, MC_ERR_NOT_FOUND when no
 * zone is configured and none is found through SOA. MGMT: MC_ERR_PROBLEM for a status
 * other than 200, MC_ERR_IO when the API cannot be reached. HOOK: MC_ERR_TIMEOUT when the
 * program ran past hook_timeout_s (its whole process group is killed), MC_ERR_IO for a
 * non-zero exit, a signal, or a program that cannot be started. */
#include "client/solver_impl.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <ldns/ldns.h>
#include <openssl/rand.h>

#include "client/propagate.h"
#include "common/clock.h"
#include "common/log.h"

extern char **environ;

#define SVD_TTL 60                   /* short: a stale challenge record must not linger */
#define SVD_DNS_TIMEOUT_MS 5000      /* one UPDATE or SOA exchange */
#define SVD_HTTP_TIMEOUT_MS 10000    /* one management API call */
#define SVD_TSIG_FUDGE 300           /* RFC 8945 section 10's recommendation */
#define SVD_HOOK_LINE 1024           /* a hook's output line, logged in pieces beyond */
#define SVD_HOOK_LOG_MAX (64 * 1024) /* hook output logged per run; the rest is drained */
#define SVD_HOOK_GRACE_MS 1000       /* reading after exit, for output still in the pipes */

/* What was presented, enough to take it away again (the hook wants it all). */
struct svd_rec {
    enum ch_type type;
    bool cname; /* a CNAME record (value is its target), not a TXT */
    char *fqdn;
    char *value;
    char *domain;
    char *token;
    char *key_auth;
};

struct svd;
struct svd_backend {
    enum mc_err (*add)(struct solver *sv, struct svd *d, const struct svd_rec *r);
    enum mc_err (*del)(struct solver *sv, struct svd *d, const struct svd_rec *r);
};

struct svd {
    const struct svd_backend *be;
    struct sv_table *recs; /* "FQDN VALUE" -> FQDN, data struct svd_rec */
    pthread_mutex_t mu;    /* one management API change at a time (clear-txt re-adds) */
    /* RFC 2136 */
    struct sockaddr_storage server;
    socklen_t server_len;
    char *tsig_name; /* absolute ("key.") */
    char *tsig_alg;  /* ldns's spelling ("hmac-sha256.") */
};

static void svd_rec_free(void *p)
{
    struct svd_rec *r = p;
    if (r == NULL)
        return;
    free(r->fqdn);
    free(r->value);
    free(r->domain);
    free(r->token);
    free(r->key_auth);
    free(r);
}

static enum mc_err svd_rec_new(const struct chall_ctx *c, struct svd_rec **out)
{
    enum mc_err err;
    struct svd_rec *r = calloc(1, sizeof *r);
    if (r == NULL)
        return MC_ERR_NOMEM;
    r->type = c->type;
    err = solver_dns_record(c, &r->fqdn, &r->value);
    if (err == MC_OK) {
        r->domain = strdup(sv_base_name(c->ident));
        r->token = strdup(c->token);
        r->key_auth = strdup(c->key_auth);
        if (r->domain == NULL || r->token == NULL || r->key_auth == NULL)
            err = MC_ERR_NOMEM;
    }
    if (err != MC_OK) {
        svd_rec_free(r);
        return err;
    }
    *out = r;
    return MC_OK;
}

static char *svd_key(const struct svd_rec *r)
{
    size_t n = strlen(r->fqdn) + strlen(r->value) + 2;
    char *k = malloc(n + 2);
    if (k != NULL)
        snprintf(k, n + 2, "%s%s %s", r->cname ? "C" : "", r->fqdn, r->value);
    return k;
}

/* Adds (add) or removes record r through the backend, and keeps the table of what is
 * published in step. Takes r in every case. */
static enum mc_err svd_change(struct solver *sv, struct svd_rec *r, bool add)
{
    struct svd *d = sv->impl;
    char *key = svd_key(r);
    enum mc_err err;

    if (key == NULL) {
        err = MC_ERR_NOMEM;
        goto out;
    }
    log_msg(LOGL_INFO, add ? "solver.dns.present" : "solver.dns.cleanup",
            r->cname ? "fqdn=%s cname=%s" : "fqdn=%s value=%s", r->fqdn, r->value);
    if (!add) {
        (void)sv_table_del(d->recs, key); /* absent: cleaned before, or never presented */
        err = d->be->del(sv, d, r);
        goto out;
    }
    /* Remembered first, so that the management backend's re-add after a clear sees it. */
    err = sv_table_put(d->recs, key, r->fqdn, NULL);
    if (err != MC_OK)
        goto out;
    err = d->be->add(sv, d, r);
    if (err != MC_OK) {
        (void)sv_table_del(d->recs, key);
        goto out;
    }
    /* Now with the record attached, for solver_free's cleanup. */
    err = sv_table_put(d->recs, key, r->fqdn, r);
    r = NULL; /* the table's, even on failure */
out:
    svd_rec_free(r);
    free(key);
    return err;
}

/* ---- the front ------------------------------------------------------------------------ */

static enum mc_err svd_present(struct solver *sv, const struct chall_ctx *c)
{
    struct svd_rec *r = NULL;
    enum mc_err err = svd_rec_new(c, &r);
    return err == MC_OK ? svd_change(sv, r, true) : err;
}

static enum mc_err svd_cleanup(struct solver *sv, const struct chall_ctx *c)
{
    struct svd_rec *r = NULL;
    enum mc_err err = svd_rec_new(c, &r);
    return err == MC_OK ? svd_change(sv, r, false) : err;
}

static void svd_destroy(struct solver *sv)
{
    struct svd *d = sv->impl;
    char *key = NULL, *fqdn = NULL;
    void *data = NULL;
    if (d == NULL)
        return;
    while (d->recs != NULL && sv_table_pop(d->recs, &key, &fqdn, &data)) {
        struct svd_rec *r = data;
        if (r != NULL && d->be->del(sv, d, r) != MC_OK)
            log_msg(LOGL_WARN, "solver.dns.leftover", "fqdn=%s reason=\"cleanup failed\"", fqdn);
        svd_rec_free(r);
        free(key);
        free(fqdn);
    }
    sv_table_free(d->recs);
    pthread_mutex_destroy(&d->mu);
    free(d->tsig_name);
    free(d->tsig_alg);
    free(d);
    sv->impl = NULL;
}

static const struct solver_ops svd_ops = {svd_present, svd_cleanup, svd_destroy};

/* ---- generic TXT records (solver_txt_*: DigiCert values; solver.c validated them) ------ */

/* A record of no challenge: type 0, the name made absolute and lowercase, no token. */
static enum mc_err svd_grec_new(const char *fqdn, const char *value, struct svd_rec **out)
{
    struct svd_rec *r = calloc(1, sizeof *r);
    size_t n = strlen(fqdn);
    bool dot = n > 0 && fqdn[n - 1] == '.';
    if (r == NULL)
        return MC_ERR_NOMEM;
    r->fqdn = malloc(n + 2);
    r->domain = strndup(fqdn, dot ? n - 1 : n);
    r->value = strdup(value);
    r->token = strdup("");
    r->key_auth = strdup("");
    if (r->fqdn == NULL || r->domain == NULL || r->value == NULL || r->token == NULL ||
        r->key_auth == NULL) {
        svd_rec_free(r);
        return MC_ERR_NOMEM;
    }
    snprintf(r->fqdn, n + 2, "%s%s", fqdn, dot ? "" : ".");
    for (char *p = r->fqdn; *p != '\0'; p++)
        *p = (char)tolower((unsigned char)*p);
    *out = r;
    return MC_OK;
}

/* As svd_present, for a generic record. */
static enum mc_err svd_txt_present(struct solver *sv, const char *fqdn, const char *value)
{
    struct svd_rec *r = NULL;
    enum mc_err err = svd_grec_new(fqdn, value, &r);
    return err == MC_OK ? svd_change(sv, r, true) : err;
}

/* As svd_cleanup, for a generic record. */
static enum mc_err svd_txt_cleanup(struct solver *sv, const char *fqdn, const char *value)
{
    struct svd_rec *r = NULL;
    enum mc_err err = svd_grec_new(fqdn, value, &r);
    return err == MC_OK ? svd_change(sv, r, false) : err;
}

static const struct solver_gen_ops svd_gen_ops = {svd_txt_present, svd_txt_cleanup, NULL, NULL};

/* A CNAME record: as a generic TXT, flagged so that every backend writes a CNAME. */
static enum mc_err svd_cname_change(struct solver *sv, const char *fqdn, const char *target,
                                    bool add)
{
    struct svd_rec *r = NULL;
    enum mc_err err = svd_grec_new(fqdn, target, &r);
    if (err != MC_OK)
        return err;
    r->cname = true;
    return svd_change(sv, r, add);
}

static enum mc_err svd_cname_present(struct solver *sv, const char *fqdn, const char *target)
{
    return svd_cname_change(sv, fqdn, target, true);
}

static enum mc_err svd_cname_cleanup(struct solver *sv, const char *fqdn, const char *target)
{
    return svd_cname_change(sv, fqdn, target, false);
}

static const struct solver_cname_ops svd_cname_ops = {svd_cname_present, svd_cname_cleanup};

static enum mc_err svd_new(struct solver *sv, const struct svd_backend *be, struct svd **out)
{
    enum mc_err err;
    struct svd *d = calloc(1, sizeof *d);
    if (d == NULL)
        return MC_ERR_NOMEM;
    if (pthread_mutex_init(&d->mu, NULL) != 0) {
        free(d);
        return MC_ERR_NOMEM;
    }
    d->be = be;
    err = sv_table_new(svd_rec_free, &d->recs);
    if (err != MC_OK) {
        pthread_mutex_destroy(&d->mu);
        free(d);
        return err;
    }
    sv->impl = d;
    sv->ops = &svd_ops;
    sv->gen = &svd_gen_ops;
    sv->cname = &svd_cname_ops;
    *out = d;
    return MC_OK;
}

/* ---- DNS_MGMT -------------------------------------------------------------------------- */

static size_t svd_discard(char *p, size_t size, size_t n, void *arg)
{
    (void)p;
    (void)arg;
    return size * n;
}

/* POSTs body to base+path; 200 is success. */
static enum mc_err svd_mgmt_post(const char *base, const char *path, const cJSON *body)
{
    enum mc_err err = MC_ERR_NOMEM;
    CURL *h = NULL;
    struct curl_slist *hdrs = NULL;
    char *text = NULL, *url = NULL;
    size_t n = strlen(base) + strlen(path) + 1;
    long status = 0;
    CURLcode rc;

    text = cJSON_PrintUnformatted(body);
    url = malloc(n);
    h = curl_easy_init();
    hdrs = curl_slist_append(NULL, "Content-Type: application/json");
    if (text == NULL || url == NULL || h == NULL || hdrs == NULL)
        goto out;
    snprintf(url, n, "%s%s", base, path);
    (void)curl_easy_setopt(h, CURLOPT_URL, url);
    (void)curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    (void)curl_easy_setopt(h, CURLOPT_POSTFIELDS, text);
    (void)curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    (void)curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)SVD_HTTP_TIMEOUT_MS);
    (void)curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    (void)curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, svd_discard);
    rc = curl_easy_perform(h);
    if (rc != CURLE_OK) {
        log_msg(LOGL_ERROR, "solver.dns.mgmt", "url=%s error=\"%s\"", url, curl_easy_strerror(rc));
        err = rc == CURLE_OPERATION_TIMEDOUT ? MC_ERR_TIMEOUT : MC_ERR_IO;
        goto out;
    }
    (void)curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200) {
        log_msg(LOGL_ERROR, "solver.dns.mgmt", "url=%s status=%ld", url, status);
        err = MC_ERR_PROBLEM;
        goto out;
    }
    err = MC_OK;
out:
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(h);
    free(text);
    free(url);
    return err;
}

static enum mc_err svd_mgmt_txt(const char *base, const char *path, const char *fqdn,
                                const char *value)
{
    enum mc_err err = MC_ERR_NOMEM;
    cJSON *j = cJSON_CreateObject();
    if (j == NULL || cJSON_AddStringToObject(j, "host", fqdn) == NULL)
        goto out;
    if (value != NULL && cJSON_AddStringToObject(j, "value", value) == NULL)
        goto out;
    err = svd_mgmt_post(base, path, j);
out:
    cJSON_Delete(j);
    return err;
}

/* challtestsrv's /set-cname {"host","target"} and /clear-cname {"host"} (target NULL). */
static enum mc_err svd_mgmt_cname(const char *base, const char *path, const char *fqdn,
                                  const char *target)
{
    enum mc_err err = MC_ERR_NOMEM;
    cJSON *j = cJSON_CreateObject();
    if (j == NULL || cJSON_AddStringToObject(j, "host", fqdn) == NULL)
        goto out;
    if (target != NULL && cJSON_AddStringToObject(j, "target", target) == NULL)
        goto out;
    err = svd_mgmt_post(base, path, j);
out:
    cJSON_Delete(j);
    return err;
}

static enum mc_err svd_mgmt_add(struct solver *sv, struct svd *d, const struct svd_rec *r)
{
    enum mc_err err;
    pthread_mutex_lock(&d->mu);
    if (r->cname)
        err = svd_mgmt_cname(sv->cfg.mgmt_url, "/set-cname", r->fqdn, r->value);
    else
        err = svd_mgmt_txt(sv->cfg.mgmt_url, "/set-txt", r->fqdn, r->value);
    pthread_mutex_unlock(&d->mu);
    return err;
}

struct svd_readd {
    const char *fqdn;
    char *values[64];
    size_t n;
};

static void svd_collect(void *arg, const char *key, const char *value, void *data)
{
    struct svd_readd *ra = arg;
    const char *sp = strchr(key, ' ');
    const struct svd_rec *rec = data;
    if (rec != NULL && rec->cname)
        return; /* a CNAME is no TXT value to put back */
    if (sp != NULL && strcmp(value, ra->fqdn) == 0 &&
        ra->n < sizeof ra->values / sizeof ra->values[0])
        ra->values[ra->n++] = strdup(sp + 1);
}

/* /clear-txt drops every value at the name; the values of other challenges for the same
 * name (a wildcard and its base share _acme-challenge.<name>) are put back. */
static enum mc_err svd_mgmt_del(struct solver *sv, struct svd *d, const struct svd_rec *r)
{
    enum mc_err err;
    struct svd_readd ra = {r->fqdn, {0}, 0};
    if (r->cname) {
        pthread_mutex_lock(&d->mu);
        err = svd_mgmt_cname(sv->cfg.mgmt_url, "/clear-cname", r->fqdn, NULL);
        pthread_mutex_unlock(&d->mu);
        return err;
    }
    pthread_mutex_lock(&d->mu);
    err = svd_mgmt_txt(sv->cfg.mgmt_url, "/clear-txt", r->fqdn, NULL);
    sv_table_each(d->recs, svd_collect, &ra);
    for (size_t i = 0; i < ra.n; i++) {
        if (err == MC_OK && ra.values[i] != NULL && strcmp(ra.values[i], r->value) != 0)
            err = svd_mgmt_txt(sv->cfg.mgmt_url, "/set-txt", r->fqdn, ra.values[i]);
        free(ra.values[i]);
    }
    pthread_mutex_unlock(&d->mu);
    return err;
}

static const struct svd_backend svd_mgmt_be = {svd_mgmt_add, svd_mgmt_del};

enum mc_err sv_dns_mgmt_init(struct solver *sv)
{
    struct svd *d = NULL;
    char *u = (char *)sv->cfg.mgmt_url;
    size_t n;
    if (u == NULL || (strncmp(u, "http://", 7) != 0 && strncmp(u, "https://", 8) != 0)) {
        log_msg(LOGL_ERROR, "solver.dns.mgmt", "reason=\"mgmt_url must be an http(s) URL\"");
        return MC_ERR_INVALID;
    }
    /* "http://host:8055/" and "http://host:8055" name the same API. */
    n = strlen(u);
    while (n > 0 && u[n - 1] == '/')
        u[--n] = '\0';
    return svd_new(sv, &svd_mgmt_be, &d);
}

/* ---- DNS_RFC2136 ----------------------------------------------------------------------- */

/* The zone of fqdn as the primary sees it: the owner of the SOA it answers for fqdn or a
 * parent (in the answer at the apex, in the authority section below it). */
static enum mc_err svd_find_zone(struct svd *d, const char *fqdn, char **zone)
{
    enum mc_err err = MC_ERR_NOT_FOUND;
    ldns_rdf *name = ldns_dname_new_frm_str(fqdn), *up = NULL;
    ldns_pkt *r = NULL;
    for (int depth = 0; name != NULL && depth < 128 && ldns_dname_label_count(name) > 0; depth++) {
        char *text = ldns_rdf2str(name);
        ldns_rr_list *soa = NULL;
        enum mc_err qe;
        if (text == NULL) {
            err = MC_ERR_NOMEM;
            break;
        }
        qe = prop_query(&d->server, d->server_len, text, LDNS_RR_TYPE_SOA, false,
                        SVD_DNS_TIMEOUT_MS, &r);
        free(text);
        if (qe != MC_OK) {
            err = qe;
            break;
        }
        soa = ldns_pkt_rr_list_by_type(r, LDNS_RR_TYPE_SOA, LDNS_SECTION_ANSWER);
        if (soa == NULL)
            soa = ldns_pkt_rr_list_by_type(r, LDNS_RR_TYPE_SOA, LDNS_SECTION_AUTHORITY);
        if (soa != NULL && ldns_rr_list_rr_count(soa) > 0) {
            const ldns_rdf *owner = ldns_rr_owner(ldns_rr_list_rr(soa, 0));
            if (ldns_dname_compare(owner, name) == 0 || ldns_dname_is_subdomain(name, owner)) {
                *zone = ldns_rdf2str(owner);
                err = *zone != NULL ? MC_OK : MC_ERR_NOMEM;
                ldns_rr_list_deep_free(soa);
                break;
            }
        }
        ldns_rr_list_deep_free(soa);
        ldns_pkt_free(r);
        r = NULL;
        up = ldns_dname_left_chop(name);
        ldns_rdf_deep_free(name);
        name = up;
    }
    ldns_pkt_free(r);
    ldns_rdf_deep_free(name);
    if (err != MC_OK)
        log_msg(LOGL_ERROR, "solver.dns.rfc2136",
                "fqdn=%s reason=\"no zone found through SOA\" err=\"%s\"", fqdn, mc_strerror(err));
    return err;
}

/* Sends one UPDATE of zone with the single update RR rr (borrowed) and checks the answer:
 * rcode NOERROR and, when signed, a response TSIG that verifies against our request's
 * MAC (RFC 8945 section 5.3). */
static enum mc_err svd_update(struct solver *sv, struct svd *d, const char *zone, const ldns_rr *rr)
{
    enum mc_err err = MC_ERR_NOMEM;
    ldns_rr_list *up = NULL;
    ldns_pkt *q = NULL, *resp = NULL;
    ldns_rdf *zrdf = NULL, *mac = NULL;
    uint8_t *wire = NULL, *ans = NULL;
    size_t wlen = 0, alen = 0;
    uint16_t id = 0;
    ldns_status st;
    ldns_rr *copy = ldns_rr_clone(rr);

    up = ldns_rr_list_new();
    zrdf = ldns_dname_new_frm_str(zone);
    if (copy == NULL || up == NULL || zrdf == NULL || !ldns_rr_list_push_rr(up, copy))
        goto out;
    copy = NULL;
    q = ldns_update_pkt_new(zrdf, LDNS_RR_CLASS_IN, NULL, up, NULL);
    zrdf = NULL; /* the packet's now */
    if (q == NULL)
        goto out;
    if (RAND_bytes((unsigned char *)&id, sizeof id) != 1) {
        err = MC_ERR_CRYPTO;
        goto out;
    }
    ldns_pkt_set_id(q, id);
    if (d->tsig_name != NULL) {
        st = ldns_pkt_tsig_sign(q, d->tsig_name, sv->cfg.tsig_secret, SVD_TSIG_FUDGE, d->tsig_alg,
                                NULL);
        if (st != LDNS_STATUS_OK) {
            log_msg(LOGL_ERROR, "solver.dns.rfc2136",
                    "reason=\"TSIG signing failed\" alg=%s ldns=\"%s\"", d->tsig_alg,
                    ldns_get_errorstr_by_id(st));
            err = MC_ERR_UNSUPPORTED;
            goto out;
        }
        mac = ldns_rdf_clone(ldns_rr_rdf(ldns_pkt_tsig(q), 3));
        if (mac == NULL)
            goto out;
    }
    if (ldns_pkt2wire(&wire, q, &wlen) != LDNS_STATUS_OK)
        goto out;
    err = prop_exchange(&d->server, d->server_len, wire, wlen, SVD_DNS_TIMEOUT_MS, &ans, &alen);
    if (err != MC_OK) {
        log_msg(LOGL_ERROR, "solver.dns.rfc2136", "server=%s err=\"%s\"", sv->cfg.server,
                mc_strerror(err));
        goto out;
    }
    if (ldns_wire2pkt(&resp, ans, alen) != LDNS_STATUS_OK) {
        err = MC_ERR_INVALID;
        goto out;
    }
    if (ldns_pkt_get_rcode(resp) != LDNS_RCODE_NOERROR) {
        ldns_pkt_rcode rc = ldns_pkt_get_rcode(resp);
        log_msg(LOGL_ERROR, "solver.dns.rfc2136", "server=%s zone=%s rcode=%d%s", sv->cfg.server,
                zone, (int)rc,
                rc == LDNS_RCODE_NOTAUTH ? " reason=\"TSIG refused (NOTAUTH)\"" : "");
        err = rc == LDNS_RCODE_NOTAUTH ? MC_ERR_VERIFY : MC_ERR_PROBLEM;
        goto out;
    }
    if (mac != NULL &&
        (ldns_pkt_tsig(resp) == NULL ||
         !ldns_pkt_tsig_verify(resp, ans, alen, d->tsig_name, sv->cfg.tsig_secret, mac))) {
        /* A NOERROR that is not signed by the key may be forged: nothing is known. */
        log_msg(LOGL_ERROR, "solver.dns.rfc2136",
                "server=%s reason=\"response TSIG missing or bad\"", sv->cfg.server);
        err = MC_ERR_VERIFY;
        goto out;
    }
    err = MC_OK;
out:
    ldns_rr_free(copy);
    ldns_rr_list_deep_free(up);
    ldns_rdf_deep_free(zrdf);
    ldns_rdf_deep_free(mac);
    ldns_pkt_free(q);
    ldns_pkt_free(resp);
    free(wire);
    free(ans);
    return err;
}

/* RFC 2136 section 2.5.1 (add: class IN, our TTL) or 2.5.4 (delete this exact RR: class
 * NONE, TTL 0), so that other values at the same name are left alone. */
static enum mc_err svd_2136_change(struct solver *sv, struct svd *d, const struct svd_rec *r,
                                   bool add)
{
    enum mc_err err;
    char *zone = NULL, *text = NULL;
    ldns_rr *rr = NULL;
    size_t n;

    if (sv->cfg.zone != NULL) {
        zone = strdup(sv->cfg.zone);
        err = zone != NULL ? MC_OK : MC_ERR_NOMEM;
    } else {
        err = svd_find_zone(d, r->fqdn, &zone);
    }
    if (err != MC_OK)
        goto out;
    /* The value is base64url (no quote, no backslash): safe inside the quotes. */
    n = strlen(r->fqdn) + strlen(r->value) + 32;
    text = malloc(n);
    if (text == NULL) {
        err = MC_ERR_NOMEM;
        goto out;
    }
    if (r->cname) /* the target is a checked DNS name: no quoting needed */
        snprintf(text, n, "%s %d IN CNAME %s%s", r->fqdn, add ? SVD_TTL : 0, r->value,
                 r->value[strlen(r->value) - 1] == '.' ? "" : ".");
    else
        snprintf(text, n, "%s %d IN TXT \"%s\"", r->fqdn, add ? SVD_TTL : 0, r->value);
    if (ldns_rr_new_frm_str(&rr, text, 0, NULL, NULL) != LDNS_STATUS_OK) {
        err = MC_ERR_INVALID;
        goto out;
    }
    if (!add)
        ldns_rr_set_class(rr, LDNS_RR_CLASS_NONE);
    err = svd_update(sv, d, zone, rr);
    log_msg(err == MC_OK ? LOGL_INFO : LOGL_WARN, "solver.dns.rfc2136",
            "op=%s fqdn=%s zone=%s err=\"%s\"", add ? "add" : "delete", r->fqdn, zone,
            mc_strerror(err));
out:
    ldns_rr_free(rr);
    free(text);
    free(zone);
    return err;
}

static enum mc_err svd_2136_add(struct solver *sv, struct svd *d, const struct svd_rec *r)
{
    return svd_2136_change(sv, d, r, true);
}

static enum mc_err svd_2136_del(struct solver *sv, struct svd *d, const struct svd_rec *r)
{
    return svd_2136_change(sv, d, r, false);
}

static const struct svd_backend svd_2136_be = {svd_2136_add, svd_2136_del};

/* A name made absolute ("x" -> "x."), new string. */
static char *svd_absolute(const char *s)
{
    size_t n = strlen(s);
    char *o = malloc(n + 2);
    if (o == NULL)
        return NULL;
    memcpy(o, s, n + 1);
    if (n == 0 || s[n - 1] != '.') {
        o[n] = '.';
        o[n + 1] = '\0';
    }
    return o;
}

/* ldns knows the algorithms by their RFC 8945 names; md5's has a longer spelling. */
static enum mc_err svd_tsig_alg(const char *in, char **out)
{
    static const char *const known[] = {"hmac-md5",    "hmac-sha1",   "hmac-sha224",
                                        "hmac-sha256", "hmac-sha384", "hmac-sha512"};
    char low[32];
    size_t n = strlen(in);
    if (n > 0 && in[n - 1] == '.')
        n--;
    if (n >= sizeof low)
        return MC_ERR_UNSUPPORTED;
    for (size_t i = 0; i < n; i++)
        low[i] = (char)tolower((unsigned char)in[i]);
    low[n] = '\0';
    if (strcmp(low, "hmac-md5.sig-alg.reg.int") == 0)
        snprintf(low, sizeof low, "hmac-md5");
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        if (strcmp(low, known[i]) == 0) {
            *out = strdup(strcmp(low, "hmac-md5") == 0 ? "hmac-md5.sig-alg.reg.int." : low);
            if (*out == NULL)
                return MC_ERR_NOMEM;
            if (strcmp(low, "hmac-md5") != 0) {
                char *o = svd_absolute(*out);
                free(*out);
                *out = o;
            }
            return *out != NULL ? MC_OK : MC_ERR_NOMEM;
        }
    }
    return MC_ERR_UNSUPPORTED;
}

enum mc_err sv_dns_rfc2136_init(struct solver *sv)
{
    enum mc_err err;
    struct svd *d = NULL;
    struct sockaddr_storage ss;
    socklen_t sl = 0;
    char *name = NULL, *alg = NULL;
    const struct solver_config *c = &sv->cfg;

    err = prop_parse_addr(c->server, 53, &ss, &sl);
    if (err != MC_OK) {
        log_msg(LOGL_ERROR, "solver.dns.rfc2136", "reason=\"server must be IP[:PORT]\"");
        return err;
    }
    if ((c->tsig_name == NULL) != (c->tsig_secret == NULL)) {
        log_msg(LOGL_ERROR, "solver.dns.rfc2136", "reason=\"TSIG needs a key name and a secret\"");
        return MC_ERR_INVALID;
    }
    if (c->tsig_name != NULL) {
        name = svd_absolute(c->tsig_name);
        if (name == NULL)
            return MC_ERR_NOMEM;
        err = svd_tsig_alg(c->tsig_alg != NULL ? c->tsig_alg : "hmac-sha256", &alg);
        if (err != MC_OK) {
            log_msg(LOGL_ERROR, "solver.dns.rfc2136", "reason=\"unknown TSIG algorithm\"");
            free(name);
            return err;
        }
    }
    if (c->zone != NULL && c->zone[0] == '\0') {
        free(name);
        free(alg);
        return MC_ERR_INVALID;
    }
    err = svd_new(sv, &svd_2136_be, &d);
    if (err != MC_OK) {
        free(name);
        free(alg);
        return err;
    }
    d->server = ss;
    d->server_len = sl;
    d->tsig_name = name;
    d->tsig_alg = alg;
    return MC_OK;
}

/* ---- DNS_HOOK -------------------------------------------------------------------------- */

struct svd_out {
    int fd;
    const char *stream;
    char line[SVD_HOOK_LINE + 1];
    size_t n;
};

static void svd_out_flush(struct svd_out *o, size_t *logged)
{
    char q[SVD_HOOK_LINE * 2 + 8];
    if (o->n == 0)
        return;
    o->line[o->n] = '\0';
    if (*logged < SVD_HOOK_LOG_MAX)
        log_msg(LOGL_INFO, "solver.dns.hook.output", "stream=%s line=%s", o->stream,
                log_quote(o->line, q, sizeof q));
    *logged += o->n;
    o->n = 0;
}

/* Reads what is there; closes (fd -1) at EOF. */
static void svd_out_read(struct svd_out *o, size_t *logged)
{
    char buf[4096];
    ssize_t r = read(o->fd, buf, sizeof buf);
    if (r < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (r <= 0) {
        svd_out_flush(o, logged);
        close(o->fd);
        o->fd = -1;
        return;
    }
    for (ssize_t i = 0; i < r; i++) {
        if (buf[i] == '\n') {
            svd_out_flush(o, logged);
            continue;
        }
        o->line[o->n++] = buf[i];
        if (o->n == SVD_HOOK_LINE)
            svd_out_flush(o, logged);
    }
}

static char *svd_env(const char *name, const char *value)
{
    size_t n = strlen(name) + strlen(value) + 2;
    char *s = malloc(n);
    if (s != NULL)
        snprintf(s, n, "%s=%s", name, value);
    return s;
}

/* Runs PROGRAM action FQDN VALUE with the documented environment and waits at most
 * hook_timeout_s. posix_spawn rather than fork: certcli's threads (bench, the curl
 * resolver) make anything but exec unsafe in a forked child, and posix_spawn does the
 * process group, the signal defaults and the descriptors without running our code there. */
static enum mc_err svd_hook_run(struct solver *sv, const char *action, const struct svd_rec *r)
{
    enum mc_err err = MC_ERR_NOMEM;
    char **envp = NULL;
    size_t nenv = 0, nbase = 0, logged = 0, made_from = 0;
    char *argv[5];
    int outp[2] = {-1, -1}, errp[2] = {-1, -1};
    struct svd_out outs[2];
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    bool fa_ok = false, attr_ok = false, exited = false, timed_out = false;
    sigset_t none, defs;
    pid_t pid = -1;
    int status = 0, rc;
    int64_t deadline, exit_at = 0;
    const struct {
        const char *name, *value;
    } vars[] = {
        {"CERTCLI_ACTION", action},
        {"CERTCLI_DOMAIN", r->domain},
        {"CERTCLI_FQDN", r->fqdn},
        {"CERTCLI_TXT_VALUE", r->value},
        {"CERTCLI_TOKEN", r->token},
        {"CERTCLI_KEY_AUTH", r->key_auth},
        {"CERTCLI_CHALLENGE", r->type != 0 ? ch_type_name(r->type) : r->cname ? "dns-cname" : "dns-txt"},
        {"CERTCLI_CNAME_TARGET", r->cname ? r->value : ""},
    };
    const size_t nvars = sizeof vars / sizeof vars[0];

    /* The environment: ours, minus any CERTCLI_ variable a parent set, plus the hook's. */
    while (environ != NULL && environ[nbase] != NULL)
        nbase++;
    envp = calloc(nbase + nvars + 1, sizeof *envp);
    if (envp == NULL)
        goto out;
    for (size_t i = 0; i < nbase; i++)
        if (strncmp(environ[i], "CERTCLI_", 8) != 0)
            envp[nenv++] = environ[i];
    made_from = nenv;
    for (size_t i = 0; i < nvars; i++) {
        envp[nenv] = svd_env(vars[i].name, vars[i].value);
        if (envp[nenv] == NULL)
            goto out;
        nenv++;
    }
    argv[0] = (char *)sv->cfg.hook;
    argv[1] = (char *)action;
    argv[2] = r->fqdn;
    argv[3] = r->value;
    argv[4] = NULL;

    if (pipe2(outp, O_CLOEXEC) != 0 || pipe2(errp, O_CLOEXEC) != 0) {
        err = MC_ERR_IO;
        goto out;
    }
    if (posix_spawn_file_actions_init(&fa) != 0)
        goto out;
    fa_ok = true;
    if (posix_spawnattr_init(&attr) != 0)
        goto out;
    attr_ok = true;
    sigemptyset(&none);
    sigemptyset(&defs);
    sigaddset(&defs, SIGPIPE); /* a parent that ignores SIGPIPE must not pass that on */
    if (posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0) != 0 ||
        posix_spawn_file_actions_adddup2(&fa, outp[1], 1) != 0 ||
        posix_spawn_file_actions_adddup2(&fa, errp[1], 2) != 0 ||
        /* Its own process group, so that a timeout kills what it started too. */
        posix_spawnattr_setpgroup(&attr, 0) != 0 || posix_spawnattr_setsigmask(&attr, &none) != 0 ||
        posix_spawnattr_setsigdefault(&attr, &defs) != 0 ||
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                            POSIX_SPAWN_SETSIGDEF) != 0)
        goto out;
    rc = posix_spawnp(&pid, sv->cfg.hook, &fa, &attr, argv, envp);
    if (rc != 0) {
        log_msg(LOGL_ERROR, "solver.dns.hook", "program=%s error=\"%s\"", sv->cfg.hook,
                strerror(rc));
        pid = -1;
        err = MC_ERR_IO;
        goto out;
    }
    close(outp[1]);
    close(errp[1]);
    outp[1] = errp[1] = -1;
    outs[0] = (struct svd_out){.fd = outp[0], .stream = "stdout"};
    outs[1] = (struct svd_out){.fd = errp[0], .stream = "stderr"};
    outp[0] = errp[0] = -1; /* outs[] own them now */
    (void)fcntl(outs[0].fd, F_SETFL, O_NONBLOCK);
    (void)fcntl(outs[1].fd, F_SETFL, O_NONBLOCK);
    log_msg(LOGL_INFO, "solver.dns.hook", "program=%s action=%s fqdn=%s pid=%d", sv->cfg.hook,
            action, r->fqdn, (int)pid);

    deadline = clock_now_ms(NULL) + (int64_t)sv->cfg.hook_timeout_s * 1000;
    for (;;) {
        struct pollfd p[2];
        nfds_t np = 0;
        int64_t now = clock_now_ms(NULL);
        if (!exited) {
            pid_t w = waitpid(pid, &status, WNOHANG);
            if (w == pid) {
                exited = true;
                exit_at = now;
            }
        }
        if (exited && outs[0].fd < 0 && outs[1].fd < 0)
            break;
        /* A background child of the hook may hold the pipes open: stop reading soon. */
        if (exited && now - exit_at > SVD_HOOK_GRACE_MS)
            break;
        if (!exited && now >= deadline) {
            log_msg(LOGL_ERROR, "solver.dns.hook",
                    "program=%s action=%s result=timeout timeout_s=%ld", sv->cfg.hook, action,
                    sv->cfg.hook_timeout_s);
            (void)kill(-pid, SIGKILL);
            (void)waitpid(pid, &status, 0);
            exited = true;
            timed_out = true;
            break;
        }
        for (int i = 0; i < 2; i++)
            if (outs[i].fd >= 0)
                p[np++] = (struct pollfd){outs[i].fd, POLLIN, 0};
        if (np == 0) {
            /* Output closed, process still running: poll the exit in small steps. */
            struct timespec ts = {0, 20 * 1000000L};
            nanosleep(&ts, NULL);
            continue;
        }
        if (poll(p, np, 50) > 0) {
            for (int i = 0; i < 2; i++)
                if (outs[i].fd >= 0)
                    svd_out_read(&outs[i], &logged);
        }
    }
    for (int i = 0; i < 2; i++) {
        svd_out_flush(&outs[i], &logged);
        if (outs[i].fd >= 0)
            close(outs[i].fd);
    }
    if (timed_out) {
        err = MC_ERR_TIMEOUT;
    } else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        err = MC_OK;
    } else {
        if (WIFEXITED(status))
            log_msg(LOGL_ERROR, "solver.dns.hook", "program=%s action=%s exit=%d", sv->cfg.hook,
                    action, WEXITSTATUS(status));
        else
            log_msg(LOGL_ERROR, "solver.dns.hook", "program=%s action=%s signal=%d", sv->cfg.hook,
                    action, WIFSIGNALED(status) ? WTERMSIG(status) : 0);
        err = MC_ERR_IO;
    }
out:
    if (fa_ok)
        posix_spawn_file_actions_destroy(&fa);
    if (attr_ok)
        posix_spawnattr_destroy(&attr);
    for (int i = 0; i < 2; i++) {
        if (outp[i] >= 0)
            close(outp[i]);
        if (errp[i] >= 0)
            close(errp[i]);
    }
    for (size_t i = made_from; envp != NULL && i < nenv; i++)
        free(envp[i]); /* only the entries made here; the rest are environ's */
    free(envp);
    return err;
}

static enum mc_err svd_hook_add(struct solver *sv, struct svd *d, const struct svd_rec *r)
{
    (void)d;
    return svd_hook_run(sv, "present", r);
}

static enum mc_err svd_hook_del(struct solver *sv, struct svd *d, const struct svd_rec *r)
{
    (void)d;
    return svd_hook_run(sv, "cleanup", r);
}

static const struct svd_backend svd_hook_be = {svd_hook_add, svd_hook_del};

enum mc_err sv_dns_hook_init(struct solver *sv)
{
    struct svd *d = NULL;
    if (sv->cfg.hook == NULL || sv->cfg.hook[0] == '\0') {
        log_msg(LOGL_ERROR, "solver.dns.hook", "reason=\"no hook program\"");
        return MC_ERR_INVALID;
    }
    return svd_new(sv, &svd_hook_be, &d);
}
