/* session.c: the ACME session and its one signed-request chokepoint (session.h).
 *
 * Layers, bottom up: http_once() does one exchange on the session's curl handle and turns
 * the raw response into a checked struct sess_resp (body capped while it arrives, headers
 * parsed, every Replay-Nonce pooled, Location and Link URLs validated, JSON parsed with
 * caps); exchange() wraps it with the retry policy (badNonce, 503, 429) and the problem
 * document; sess_post/sess_get/sess_poll are thin over exchange(). */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "client/curlx.h"
#include "client/npool.h"
#include "client/problem.h"
#include "client/retry.h"
#include "client/session.h"
#include "client/wire.h"
#include "common/clock.h"
#include "common/jose.h"
#include "common/json.h"
#include "common/log.h"
#include "common/prng.h"

#ifndef MOCKCA_VERSION
#define MOCKCA_VERSION "0"
#endif

#define PROBLEM_URN "urn:ietf:params:acme:error:"
#define MAX_HEADER_BYTES (64 * 1024) /* all header lines of one response together */
#define MAX_SUBPROBLEMS 64
#define MAX_DIR_LIST 64        /* caaIdentities and profiles kept from the directory */
#define POLL_MIN_WAIT_MS 100   /* a Retry-After of 0 still does not spin */
#define POLL_MAX_ROUNDS 100000 /* a second bound on sess_poll besides its timeout */

struct sess {
    /* Options, with the strings copied so the caller's may go away. */
    struct sess_opts o;
    char *directory_url, *ca_bundle, *user_agent;

    CURL *curl;
    char curl_err[CURL_ERROR_SIZE];
    struct sess_dir dir;

    EVP_PKEY *key;
    char *kid;
    /* key's RFC 7638 thumbprint, made once per account key: every key authorization
     * needs it, and hashing the JWK showed in load profiles. NULL: compute on demand. */
    char *thumb;
    /* key's JWS alg, found once per account key: finding it asks OpenSSL for the key's
     * curve by name, which showed in load profiles. Valid when key_alg_set. */
    enum jose_alg key_alg;
    bool key_alg_set;

    struct npool pool;
    struct prng prng;

    struct sess_problem problem;
    bool have_problem;
    char last_err[1024];

    struct sess_stats stats;
};

/* What the curl callbacks collect for one exchange. */
struct rx {
    struct sess *s;
    struct cx_body body; /* the write callback's data */
    bool too_big;        /* the headers passed MAX_HEADER_BYTES */
    size_t header_bytes;
    char *location, *retry_after, *content_type;
    char *link_raw[SESS_MAX_LINKS];
    size_t n_link_raw;
};

enum req_kind { REQ_GET, REQ_HEAD, REQ_POST };

static const char *kind_name(enum req_kind k)
{
    return k == REQ_GET ? "GET" : k == REQ_HEAD ? "HEAD" : "POST";
}

/* ---- small helpers ---------------------------------------------------------------------- */

static char *dup_or_null(const char *s)
{
    return s == NULL ? NULL : strdup(s);
}

static void set_err(struct sess *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_err(struct sess *s, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(s->last_err, sizeof s->last_err, fmt, ap);
    va_end(ap);
    /* The text may carry server-chosen bytes: keep it one printable line. */
    for (char *p = s->last_err; *p != '\0'; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p == 0x7f)
            *p = ' ';
}

static void dir_clear(struct sess_dir *d)
{
    free(d->new_nonce);
    free(d->new_account);
    free(d->new_order);
    free(d->new_authz);
    free(d->revoke_cert);
    free(d->key_change);
    free(d->renewal_info);
    free(d->terms_of_service);
    free(d->website);
    for (size_t i = 0; i < d->n_caa_identities; i++)
        free(d->caa_identities[i]);
    free(d->caa_identities);
    for (size_t i = 0; i < d->n_profiles; i++) {
        free(d->profile_names[i]);
        free(d->profile_descs[i]);
    }
    free(d->profile_names);
    free(d->profile_descs);
    memset(d, 0, sizeof *d);
}

void sess_opts_init(struct sess_opts *o)
{
    memset(o, 0, sizeof *o);
    o->timeout_s = 30;
    o->bad_nonce_retries = 5;
    o->busy_retries = 3;
    o->max_wait_s = 60;
    o->backoff_base_ms = 500;
    o->backoff_cap_ms = 10000;
}

void sess_resp_free(struct sess_resp *r)
{
    if (r == NULL)
        return;
    free(r->body);
    cJSON_Delete(r->json);
    free(r->content_type);
    free(r->location);
    for (size_t i = 0; i < r->n_links; i++) {
        free(r->links[i].rel);
        free(r->links[i].url);
    }
    memset(r, 0, sizeof *r);
    r->retry_after_s = -1;
}

const char *sess_resp_link(const struct sess_resp *r, const char *rel, size_t nth)
{
    if (r == NULL || rel == NULL)
        return NULL;
    for (size_t i = 0; i < r->n_links; i++) {
        if (strcmp(r->links[i].rel, rel) == 0) {
            if (nth == 0)
                return r->links[i].url;
            nth--;
        }
    }
    return NULL;
}

/* ---- curl callbacks ----------------------------------------------------------------------- */

static void rx_reset_headers(struct rx *rx)
{
    free(rx->location);
    free(rx->retry_after);
    free(rx->content_type);
    rx->location = rx->retry_after = rx->content_type = NULL;
    for (size_t i = 0; i < rx->n_link_raw; i++)
        free(rx->link_raw[i]);
    rx->n_link_raw = 0;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    struct rx *rx = ud;
    size_t k = size * n;
    struct cx_field f;

    rx->header_bytes += k;
    if (rx->header_bytes > MAX_HEADER_BYTES) {
        rx->too_big = true;
        return 0;
    }
    switch (cx_header_line(p, k, &f)) {
    case CX_HLINE_STATUS:
        /* A new status line: a 1xx interim response came first; start over. */
        rx_reset_headers(rx);
        return k;
    case CX_HLINE_OTHER:
        return k;
    case CX_HLINE_FIELD:
        break;
    }

    bool ok = true;
    if (cx_field_is(&f, "Replay-Nonce")) {
        /* Section 6.5: every response's nonce is good for one request; pool it whatever
         * the status, so an error answer still pays for the next request. */
        enum mc_err e = npool_put(&rx->s->pool, f.value, f.vlen);
        if (e != MC_OK)
            log_msg(LOGL_WARN, "certcli.nonce_refused", "err=%s", mc_strerror(e));
    } else if (cx_field_is(&f, "Location")) {
        ok = cx_keep(&rx->location, f.value, f.vlen);
    } else if (cx_field_is(&f, "Retry-After")) {
        ok = cx_keep(&rx->retry_after, f.value, f.vlen);
    } else if (cx_field_is(&f, "Content-Type")) {
        ok = cx_keep(&rx->content_type, f.value, f.vlen);
    } else if (cx_field_is(&f, "Link")) {
        if (rx->n_link_raw < SESS_MAX_LINKS) {
            rx->link_raw[rx->n_link_raw] = strndup(f.value, f.vlen);
            ok = rx->link_raw[rx->n_link_raw] != NULL;
            if (ok)
                rx->n_link_raw++;
        }
    }
    return ok ? k : 0;
}

/* ---- response checks ---------------------------------------------------------------------- */

/* True when the media type is one of ACME's JSON types. */
static bool is_json_type(const char *ct)
{
    return cx_media_is(ct, "application/json") || cx_media_is(ct, "application/problem+json");
}

/* Adds one link to r (keeping at most SESS_MAX_LINKS), its target resolved against base
 * (RFC 8288 section 3.2: the context is the request URL when there is no anchor). */
static enum mc_err add_link(struct sess_resp *r, const char *base, const char *url, size_t ulen,
                            const char *rel, size_t rlen)
{
    if (r->n_links >= SESS_MAX_LINKS)
        return MC_OK;
    char *raw = strndup(url, ulen);
    char *u = NULL;
    char *rl = strndup(rel, rlen);
    if (raw == NULL || rl == NULL) {
        free(raw);
        free(rl);
        return MC_ERR_NOMEM;
    }
    enum mc_err e = wire_resolve_url(base, raw, &u);
    free(raw);
    if (e != MC_OK) {
        free(rl);
        return e == MC_ERR_NOMEM ? MC_ERR_NOMEM : MC_ERR_INVALID;
    }
    /* RFC 8288 section 2.1.1: relation types compare case-insensitively; keep them lower. */
    for (char *c = rl; *c != '\0'; c++)
        *c = (char)tolower((unsigned char)*c);
    r->links[r->n_links].url = u;
    r->links[r->n_links].rel = rl;
    r->n_links++;
    return MC_OK;
}

/* Parses one Link header value (RFC 8288): comma-separated `<URI-reference> *( ";" param )`,
 * rel quoted or not, several space-separated relation types in one rel, each target
 * resolved against base. Links without rel are skipped; a malformed value, or a target
 * that does not resolve to a valid URL, is MC_ERR_INVALID. */
static enum mc_err parse_link(struct sess_resp *r, const char *base, const char *v)
{
    const char *p = v;
    enum mc_err e;

    for (int guard = 0; guard < 64; guard++) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (*p == '\0')
            return MC_OK;
        if (*p != '<')
            return MC_ERR_INVALID;
        const char *u = ++p;
        const char *ue = strchr(u, '>');
        if (ue == NULL)
            return MC_ERR_INVALID;
        p = ue + 1;
        const char *rel = NULL;
        size_t rlen = 0;
        /* Parameters up to the next top-level comma. */
        for (int pg = 0; pg < 32; pg++) {
            while (*p == ' ' || *p == '\t')
                p++;
            if (*p != ';')
                break;
            p++;
            while (*p == ' ' || *p == '\t')
                p++;
            const char *name = p;
            while (*p != '\0' && *p != '=' && *p != ';' && *p != ',' && *p != ' ')
                p++;
            size_t nlen = (size_t)(p - name);
            while (*p == ' ' || *p == '\t')
                p++;
            const char *val = p;
            size_t vlen = 0;
            if (*p == '=') {
                p++;
                while (*p == ' ' || *p == '\t')
                    p++;
                if (*p == '"') {
                    val = ++p;
                    const char *q = strchr(p, '"');
                    if (q == NULL)
                        return MC_ERR_INVALID;
                    vlen = (size_t)(q - val);
                    p = q + 1;
                } else {
                    val = p;
                    while (*p != '\0' && *p != ';' && *p != ',' && *p != ' ')
                        p++;
                    vlen = (size_t)(p - val);
                }
            }
            if (nlen == 3 && strncasecmp(name, "rel", 3) == 0 && rel == NULL) {
                rel = val;
                rlen = vlen;
            }
        }
        if (*p != '\0' && *p != ',')
            return MC_ERR_INVALID;
        if (rel != NULL) {
            /* rel="a b": one link per relation type. */
            size_t i = 0;
            while (i < rlen) {
                while (i < rlen && rel[i] == ' ')
                    i++;
                size_t j = i;
                while (j < rlen && rel[j] != ' ')
                    j++;
                if (j > i) {
                    e = add_link(r, base, u, (size_t)(ue - u), rel + i, j - i);
                    if (e != MC_OK)
                        return e;
                }
                i = j;
            }
        }
    }
    return MC_ERR_INVALID; /* more links in one header than any server sends */
}

/* ---- one exchange ------------------------------------------------------------------------- */

/* The handle's options for the whole session; TLS trust as the contract has it (ca_bundle,
 * else $SSL_CERT_FILE, else $CURL_CA_BUNDLE, else the system store, see cx_trust_file). */
static enum mc_err curl_setup(struct sess *s)
{
    struct cx_opts o = {
        .timeout_s = s->o.timeout_s,
        .user_agent = s->user_agent,
        .errbuf = s->curl_err,
        .max_body = SESS_MAX_BODY,
        .on_body = cx_on_body,
        .on_header = on_header,
        .ca_bundle = s->ca_bundle,
        .insecure = s->o.insecure,
        .warn_url = s->directory_url,
    };
    CURLcode rc;

    if (cx_setup(s->curl, &o, &rc) != MC_OK) {
        set_err(s, "libcurl setup: %s", curl_easy_strerror(rc));
        return MC_ERR_IO;
    }
    return MC_OK;
}

/* One HTTP exchange. On MC_OK *out holds the completed response (any status), checked:
 * body within SESS_MAX_BODY, Location and Link URLs valid, JSON parsed when declared.
 * MC_ERR_IO (transport or TLS), MC_ERR_TOO_BIG, MC_ERR_INVALID; *out is empty then. */
static enum mc_err http_once(struct sess *s, enum req_kind k, const char *url, const char *body,
                             struct sess_resp *out)
{
    struct rx rx = {.s = s, .body = {.max = SESS_MAX_BODY}};
    struct curl_slist *hdrs = NULL;
    enum mc_err err = MC_OK;
    CURLcode rc;
    long connects = 0;

    sess_resp_free(out);
    s->curl_err[0] = '\0';
    s->stats.requests++;

    if (k == REQ_POST) {
        hdrs = curl_slist_append(NULL, "Content-Type: application/jose+json");
        if (hdrs == NULL) {
            err = MC_ERR_NOMEM;
            goto out;
        }
    }
    rc = cx_exchange(s->curl, kind_name(k), url, body, hdrs, &rx.body, &rx);
    if (curl_easy_getinfo(s->curl, CURLINFO_NUM_CONNECTS, &connects) == CURLE_OK && connects > 0)
        s->stats.connections += (uint64_t)connects;

    if (rx.too_big || rx.body.too_big || rc == CURLE_FILESIZE_EXCEEDED) {
        set_err(s, "%s %s: response over %d bytes", kind_name(k), url, SESS_MAX_BODY);
        err = MC_ERR_TOO_BIG;
        goto out;
    }
    if (rc != CURLE_OK) {
        set_err(s, "%s %s: %s", kind_name(k), url, cx_why(rc, s->curl_err));
        log_msg(LOGL_DEBUG, "certcli.http_error", "method=%s curl=%d", kind_name(k), (int)rc);
        err = rc == CURLE_OUT_OF_MEMORY ? MC_ERR_NOMEM : MC_ERR_IO;
        goto out;
    }
    (void)curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &out->status);

    /* The body, NUL-terminated even when empty. */
    err = cx_body_take(&rx.body, &out->body, &out->len);
    if (err != MC_OK)
        goto out;
    out->content_type = rx.content_type;
    rx.content_type = NULL;

    /* Location and Link may be relative references (RFC 9110 section 10.2.2, RFC 8288
     * section 3.2): resolved against the URL the request went to. No redirect is ever
     * followed, so the effective URL is url; asking libcurl keeps that true by
     * construction. */
    const char *base = url;
    char *eff = NULL;
    if (curl_easy_getinfo(s->curl, CURLINFO_EFFECTIVE_URL, &eff) == CURLE_OK && eff != NULL)
        base = eff;
    if (rx.location != NULL) {
        err = wire_resolve_url(base, rx.location, &out->location);
        if (err != MC_OK) {
            set_err(s, "%s %s: Location is not a valid URL", kind_name(k), url);
            err = err == MC_ERR_NOMEM ? MC_ERR_NOMEM : MC_ERR_INVALID;
            goto out;
        }
    }
    for (size_t i = 0; i < rx.n_link_raw; i++) {
        err = parse_link(out, base, rx.link_raw[i]);
        if (err != MC_OK) {
            set_err(s, "%s %s: malformed Link header", kind_name(k), url);
            goto out;
        }
    }
    if (rx.retry_after != NULL) {
        int64_t ra;
        /* A Retry-After we cannot read is as good as none: fall back to backoff. */
        if (retry_after_parse(rx.retry_after, clock_now(NULL), &ra) == MC_OK)
            out->retry_after_s = (long)ra;
        else
            log_msg(LOGL_WARN, "certcli.bad_retry_after", "url=%s", url);
    }
    if (k != REQ_HEAD && is_json_type(out->content_type) && out->len > 0) {
        err = json_parse(out->body, out->len, SESS_MAX_BODY, JSON_DEFAULT_MAX_DEPTH, &out->json);
        if (err != MC_OK) {
            set_err(s, "%s %s: HTTP %ld with %s that is not valid JSON", kind_name(k), url,
                    out->status, out->content_type);
            err = err == MC_ERR_NOMEM ? MC_ERR_NOMEM : MC_ERR_INVALID;
            goto out;
        }
    }
    log_msg(LOGL_DEBUG, "certcli.http", "method=%s status=%ld len=%zu", kind_name(k), out->status,
            out->len);
out:
    curl_slist_free_all(hdrs);
    free(rx.body.buf);
    rx_reset_headers(&rx);
    if (err != MC_OK)
        sess_resp_free(out);
    return err;
}

/* ---- problems ----------------------------------------------------------------------------- */

static char *dup_capped(const char *s, size_t cap)
{
    return strndup(s, cap);
}

/* Fills s->problem from an error response r. A body that is not a problem document (a
 * proxy's HTML 502) still gives a problem: about:blank with the HTTP status. */
static enum mc_err problem_from(struct sess *s, const struct sess_resp *r)
{
    struct sess_problem *p = &s->problem;

    prob_clear(p);
    s->have_problem = true;
    p->status = r->status;
    p->retry_after_s = r->retry_after_s;
    if (prob_from_json(r->json, MAX_SUBPROBLEMS, p) != MC_OK)
        return MC_ERR_NOMEM;
    const char *short_type = p->type;
    if (strncmp(short_type, PROBLEM_URN, strlen(PROBLEM_URN)) == 0)
        short_type += strlen(PROBLEM_URN);
    if (p->n_sub > 0)
        set_err(s, "%s (HTTP %ld): %s [%zu subproblems, first: %s %s: %s]", short_type, p->status,
                p->detail != NULL ? p->detail : "no detail", p->n_sub, p->sub[0].type,
                p->sub[0].ident_value != NULL ? p->sub[0].ident_value : "-",
                p->sub[0].detail != NULL ? p->sub[0].detail : "");
    else
        set_err(s, "%s (HTTP %ld): %s", short_type, p->status,
                p->detail != NULL ? p->detail : "no detail");
    return MC_OK;
}

static bool problem_is(const struct sess_problem *p, const char *name)
{
    return p->type != NULL && strncmp(p->type, PROBLEM_URN, strlen(PROBLEM_URN)) == 0 &&
           strcmp(p->type + strlen(PROBLEM_URN), name) == 0;
}

/* ---- nonces and signing ------------------------------------------------------------------ */

/* A nonce from the pool, or from HEAD newNonce when the pool is empty (section 7.2). */
static enum mc_err take_nonce(struct sess *s, char **out)
{
    struct sess_resp r = {0};
    enum mc_err err;

    err = npool_take(&s->pool, out);
    if (err != MC_ERR_NOT_FOUND)
        return err;
    s->stats.nonce_fetches++;
    err = http_once(s, REQ_HEAD, s->dir.new_nonce, NULL, &r);
    if (err != MC_OK)
        goto out;
    err = npool_take(&s->pool, out);
    if (err != MC_OK) {
        set_err(s, "HEAD %s: HTTP %ld without a usable Replay-Nonce", s->dir.new_nonce, r.status);
        err = MC_ERR_INVALID;
    }
out:
    sess_resp_free(&r);
    return err;
}

/* The flattened JWS of payload for url, printed: protected {alg, nonce, url, kid | jwk}. */
static enum mc_err sign_body(struct sess *s, const char *url, const cJSON *payload, EVP_PKEY *key,
                             bool use_kid, const char *nonce, char **out)
{
    cJSON *hdr = NULL, *jwk = NULL, *jws = NULL;
    char *text = NULL;
    enum jose_alg alg;
    enum mc_err err;

    *out = NULL;
    if (key == s->key && s->key_alg_set) {
        alg = s->key_alg;
    } else {
        err = jose_alg_for_key(key, &alg);
        if (err != MC_OK)
            goto out;
    }
    hdr = cJSON_CreateObject();
    if (hdr == NULL || cJSON_AddStringToObject(hdr, "nonce", nonce) == NULL ||
        cJSON_AddStringToObject(hdr, "url", url) == NULL) {
        err = MC_ERR_NOMEM;
        goto out;
    }
    if (use_kid) {
        if (cJSON_AddStringToObject(hdr, "kid", s->kid) == NULL) {
            err = MC_ERR_NOMEM;
            goto out;
        }
    } else {
        err = jwk_to_json(key, &jwk);
        if (err != MC_OK)
            goto out;
        cJSON_AddItemToObject(hdr, "jwk", jwk);
        jwk = NULL;
    }
    if (payload != NULL) {
        err = json_print(payload, &text);
        if (err != MC_OK)
            goto out;
    }
    err = jws_sign(key, alg, hdr, (const uint8_t *)text, text != NULL ? strlen(text) : 0, &jws);
    if (err != MC_OK)
        goto out;
    err = json_print(jws, out);
out:
    if (err != MC_OK)
        set_err(s, "signing the request to %s: %s", url, mc_strerror(err));
    cJSON_Delete(hdr);
    cJSON_Delete(jwk);
    cJSON_Delete(jws);
    free(text);
    return err;
}

/* ---- the chokepoint ------------------------------------------------------------------------ */

/* One logical request with the retry policy. key NULL: an unsigned GET. */
static enum mc_err exchange(struct sess *s, enum req_kind k, const char *url, const cJSON *payload,
                            EVP_PKEY *key, bool use_kid, struct sess_resp *out)
{
    char *nonce = NULL, *body = NULL;
    enum mc_err err = MC_OK;
    int bad_nonces = 0, busy = 0;

    memset(out, 0, sizeof *out);
    out->retry_after_s = -1;
    prob_clear(&s->problem);
    s->have_problem = false;
    s->last_err[0] = '\0';

    if (url == NULL || wire_check_url(url) != MC_OK) {
        set_err(s, "not a valid request URL");
        return MC_ERR_INVALID;
    }
    if (k == REQ_POST) {
        if (key == NULL || (use_kid && s->kid == NULL)) {
            set_err(s, "POST %s: no account %s", url, key == NULL ? "key" : "URL (kid)");
            return MC_ERR_STATE;
        }
    }
    /* Bounded: each round either returns or consumes one of the retry budgets. */
    for (int round = 0; round < 1 + 64 + 64; round++) {
        if (k == REQ_POST) {
            free(nonce);
            free(body);
            nonce = body = NULL;
            err = take_nonce(s, &nonce);
            if (err != MC_OK)
                goto out;
            err = sign_body(s, url, payload, key, use_kid, nonce, &body);
            if (err != MC_OK)
                goto out;
        }
        err = http_once(s, k, url, body, out);
        if (err != MC_OK)
            goto out;
        if (out->status >= 200 && out->status < 300)
            goto out;

        err = problem_from(s, out);
        if (err != MC_OK)
            goto out;
        err = MC_ERR_PROBLEM;
        if (k == REQ_POST && problem_is(&s->problem, "badNonce") &&
            bad_nonces < s->o.bad_nonce_retries && bad_nonces < 64) {
            /* Section 6.5: the error carried a fresh nonce (pooled); just resend. Classified
             * by type, never by detail text. */
            bad_nonces++;
            s->stats.bad_nonce_retries++;
            log_msg(LOGL_INFO, "certcli.bad_nonce_retry", "n=%d", bad_nonces);
            sess_resp_free(out);
            continue;
        }
        long ra = out->retry_after_s;
        int64_t wait_ms = -1;
        if (out->status == 503 && busy < s->o.busy_retries && busy < 64) {
            /* Busy: the server's Retry-After when it is within our bound, else backoff;
             * a Retry-After beyond max_wait_s means "not soon", the caller's to report. */
            if (ra < 0)
                wait_ms = retry_backoff_ms(busy, s->o.backoff_base_ms, s->o.backoff_cap_ms,
                                           RETRY_JITTER_EQUAL, &s->prng);
            else if (ra <= s->o.max_wait_s)
                wait_ms = (int64_t)ra * 1000;
        } else if (out->status == 429 && ra >= 0 && ra <= s->o.max_wait_s &&
                   busy < s->o.busy_retries && busy < 64) {
            /* A rate limit is waited out only when it says when, and soon. */
            wait_ms = (int64_t)ra * 1000;
        }
        if (wait_ms < 0)
            goto out;
        busy++;
        s->stats.busy_waits++;
        log_msg(LOGL_INFO, "certcli.busy_wait", "status=%ld wait_ms=%lld n=%d", out->status,
                (long long)wait_ms, busy);
        sess_resp_free(out);
        cx_sleep_ms(wait_ms);
    }
    /* Not reached: the budgets end the loop first. */
    err = MC_ERR_LIMIT;
out:
    if (err == MC_OK || err == MC_ERR_PROBLEM) {
        if (err == MC_OK) {
            prob_clear(&s->problem);
            s->have_problem = false;
        }
    } else {
        prob_clear(&s->problem);
        s->have_problem = false;
        if (s->last_err[0] == '\0')
            set_err(s, "%s %s: %s", kind_name(k), url, mc_strerror(err));
    }
    free(nonce);
    free(body);
    return err;
}

enum mc_err sess_post(struct sess *s, const char *url, const cJSON *payload, enum sess_sign how,
                      struct sess_resp *out)
{
    if (how != SESS_SIGN_KID && how != SESS_SIGN_JWK) {
        memset(out, 0, sizeof *out);
        out->retry_after_s = -1;
        return MC_ERR_INVALID;
    }
    return exchange(s, REQ_POST, url, payload, s->key, how == SESS_SIGN_KID, out);
}

enum mc_err sess_post_with_key(struct sess *s, const char *url, const cJSON *payload, EVP_PKEY *key,
                               struct sess_resp *out)
{
    return exchange(s, REQ_POST, url, payload, key, false, out);
}

enum mc_err sess_get(struct sess *s, const char *url, struct sess_resp *out)
{
    return exchange(s, REQ_GET, url, NULL, NULL, false, out);
}

/* ---- the directory ------------------------------------------------------------------------ */

/* Copies the URL member name of j into *slot; required ones must be there. An
 * informational one (meta's termsOfService, website) only needs to be an absolute URI:
 * Pebble's terms are a "data:" URI. */
static enum mc_err dir_url_ex(struct sess *s, const cJSON *j, const char *name, bool required,
                              bool informational, char **slot)
{
    const char *v;
    enum mc_err err = json_get_string(j, name, &v);

    if (err == MC_ERR_NOT_FOUND && !required)
        return MC_OK;
    if (err != MC_OK || (informational ? wire_check_uri(v) : wire_check_url(v)) != MC_OK) {
        set_err(s, "directory: %s is %s", name,
                err == MC_ERR_NOT_FOUND ? "missing" : "not a valid URL");
        return MC_ERR_INVALID;
    }
    *slot = strdup(v);
    return *slot == NULL ? MC_ERR_NOMEM : MC_OK;
}

static enum mc_err dir_url(struct sess *s, const cJSON *j, const char *name, bool required,
                           char **slot)
{
    return dir_url_ex(s, j, name, required, false, slot);
}

static enum mc_err dir_parse(struct sess *s, const cJSON *j)
{
    struct sess_dir *d = &s->dir;
    const cJSON *meta = NULL, *arr = NULL, *prof = NULL, *it;
    enum mc_err err;

    if (j == NULL || !cJSON_IsObject(j)) {
        set_err(s, "directory: not a JSON object");
        return MC_ERR_INVALID;
    }
    const struct {
        const char *name;
        bool required;
        char **slot;
    } urls[] = {
        {"newNonce", true, &d->new_nonce},        {"newAccount", true, &d->new_account},
        {"newOrder", true, &d->new_order},        {"newAuthz", false, &d->new_authz},
        {"revokeCert", false, &d->revoke_cert},   {"keyChange", false, &d->key_change},
        {"renewalInfo", false, &d->renewal_info},
    };
    for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
        err = dir_url(s, j, urls[i].name, urls[i].required, urls[i].slot);
        if (err != MC_OK)
            return err;
    }

    err = json_get_object(j, "meta", &meta);
    if (err == MC_ERR_NOT_FOUND)
        return MC_OK;
    if (err != MC_OK) {
        set_err(s, "directory: meta is not an object");
        return MC_ERR_INVALID;
    }
    err = dir_url_ex(s, meta, "termsOfService", false, true, &d->terms_of_service);
    if (err == MC_OK)
        err = dir_url_ex(s, meta, "website", false, true, &d->website);
    if (err != MC_OK)
        return err;
    err = json_get_bool(meta, "externalAccountRequired", &d->eab_required);
    if (err != MC_OK && err != MC_ERR_NOT_FOUND) {
        set_err(s, "directory: meta.externalAccountRequired is not a boolean");
        return MC_ERR_INVALID;
    }
    err = json_get_array(meta, "caaIdentities", &arr);
    if (err == MC_OK) {
        size_t n = (size_t)cJSON_GetArraySize(arr);
        if (n > MAX_DIR_LIST)
            n = MAX_DIR_LIST;
        d->caa_identities = calloc(n + 1, sizeof *d->caa_identities);
        if (d->caa_identities == NULL)
            return MC_ERR_NOMEM;
        cJSON_ArrayForEach(it, arr)
        {
            if (d->n_caa_identities >= n)
                break;
            if (!cJSON_IsString(it) || strnlen(it->valuestring, 254) >= 254) {
                set_err(s, "directory: meta.caaIdentities holds a non-name");
                return MC_ERR_INVALID;
            }
            d->caa_identities[d->n_caa_identities] = strdup(it->valuestring);
            if (d->caa_identities[d->n_caa_identities] == NULL)
                return MC_ERR_NOMEM;
            d->n_caa_identities++;
        }
    } else if (err != MC_ERR_NOT_FOUND) {
        set_err(s, "directory: meta.caaIdentities is not an array");
        return MC_ERR_INVALID;
    }
    err = json_get_object(meta, "profiles", &prof);
    if (err == MC_OK) {
        size_t n = (size_t)cJSON_GetArraySize(prof);
        if (n > MAX_DIR_LIST)
            n = MAX_DIR_LIST;
        d->profile_names = calloc(n + 1, sizeof *d->profile_names);
        d->profile_descs = calloc(n + 1, sizeof *d->profile_descs);
        if (d->profile_names == NULL || d->profile_descs == NULL)
            return MC_ERR_NOMEM;
        cJSON_ArrayForEach(it, prof)
        {
            if (d->n_profiles >= n)
                break;
            /* draft-aaron-acme-profiles: name -> human-readable description (a string). */
            if (it->string == NULL || !cJSON_IsString(it) || strnlen(it->string, 65) > 64 ||
                it->string[0] == '\0') {
                set_err(s, "directory: meta.profiles holds a bad entry");
                return MC_ERR_INVALID;
            }
            d->profile_names[d->n_profiles] = strdup(it->string);
            d->profile_descs[d->n_profiles] = dup_capped(it->valuestring, 1024);
            if (d->profile_names[d->n_profiles] == NULL ||
                d->profile_descs[d->n_profiles] == NULL) {
                free(d->profile_names[d->n_profiles]);
                free(d->profile_descs[d->n_profiles]);
                d->profile_names[d->n_profiles] = d->profile_descs[d->n_profiles] = NULL;
                return MC_ERR_NOMEM;
            }
            d->n_profiles++;
        }
    } else if (err != MC_ERR_NOT_FOUND) {
        set_err(s, "directory: meta.profiles is not an object");
        return MC_ERR_INVALID;
    }
    return MC_OK;
}

/* ---- life cycle ----------------------------------------------------------------------------- */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_OK;

static void curl_init(void)
{
    /* Not thread-safe in older libcurl: once per process, before any handle. */
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

enum mc_err sess_new(const struct sess_opts *o, struct sess **out)
{
    struct sess *s = NULL;
    struct sess_resp r = {0};
    enum mc_err err = MC_OK;

    *out = NULL;
    if (o == NULL || o->directory_url == NULL)
        return MC_ERR_INVALID;
    err = wire_check_url(o->directory_url);
    if (err != MC_OK)
        return MC_ERR_INVALID;
    if (pthread_once(&curl_once, curl_init) != 0 || curl_init_rc != CURLE_OK)
        return MC_ERR_IO;

    s = calloc(1, sizeof *s);
    if (s == NULL)
        return MC_ERR_NOMEM;
    s->o = *o;
    prob_clear(&s->problem);
    npool_init(&s->pool);
    if (s->o.timeout_s <= 0)
        s->o.timeout_s = 30;
    if (s->o.bad_nonce_retries < 0)
        s->o.bad_nonce_retries = 0;
    if (s->o.busy_retries < 0)
        s->o.busy_retries = 0;
    if (s->o.max_wait_s < 0)
        s->o.max_wait_s = 0;
    if (s->o.backoff_base_ms <= 0)
        s->o.backoff_base_ms = 500;
    if (s->o.backoff_cap_ms < s->o.backoff_base_ms)
        s->o.backoff_cap_ms = s->o.backoff_base_ms;
    prng_seed(&s->prng, o->seed != 0 ? o->seed : prng_seed_from_os());

    s->directory_url = strdup(o->directory_url);
    s->ca_bundle = dup_or_null(o->ca_bundle);
    s->user_agent = strdup(o->user_agent != NULL ? o->user_agent : "certcli/" MOCKCA_VERSION);
    if (s->directory_url == NULL || (o->ca_bundle != NULL && s->ca_bundle == NULL) ||
        s->user_agent == NULL) {
        err = MC_ERR_NOMEM;
        goto out;
    }
    s->o.directory_url = s->directory_url;
    s->o.ca_bundle = s->ca_bundle;
    s->o.user_agent = s->user_agent;

    s->curl = curl_easy_init();
    if (s->curl == NULL) {
        err = MC_ERR_NOMEM;
        goto out;
    }
    err = curl_setup(s);
    if (err != MC_OK)
        goto out;

    err = exchange(s, REQ_GET, s->directory_url, NULL, NULL, false, &r);
    if (err != MC_OK)
        goto out;
    if (r.json == NULL) {
        set_err(s, "directory %s: not JSON (Content-Type %s)", s->directory_url,
                r.content_type != NULL ? r.content_type : "none");
        err = MC_ERR_INVALID;
        goto out;
    }
    err = dir_parse(s, r.json);
out:
    if (err != MC_OK && s != NULL) {
        log_msg(LOGL_ERROR, "certcli.session", "url=%s err=%s", o->directory_url, mc_strerror(err));
        char q[1100];
        log_msg(LOGL_ERROR, "certcli.session", "detail=%s", log_quote(s->last_err, q, sizeof q));
        sess_free(s);
        s = NULL;
    }
    sess_resp_free(&r);
    *out = s;
    return err;
}

void sess_free(struct sess *s)
{
    if (s == NULL)
        return;
    if (s->curl != NULL)
        curl_easy_cleanup(s->curl);
    dir_clear(&s->dir);
    EVP_PKEY_free(s->key);
    free(s->kid);
    free(s->thumb);
    npool_clear(&s->pool);
    prob_clear(&s->problem);
    free(s->directory_url);
    free(s->ca_bundle);
    free(s->user_agent);
    free(s);
}

const struct sess_dir *sess_directory(const struct sess *s)
{
    return &s->dir;
}

enum mc_err sess_set_account(struct sess *s, EVP_PKEY *key, const char *kid)
{
    char *k = NULL;

    if (key == NULL)
        return MC_ERR_INVALID;
    if (kid != NULL) {
        if (wire_check_url(kid) != MC_OK)
            return MC_ERR_INVALID;
        k = strdup(kid); /* before freeing: kid may be s->kid itself */
        if (k == NULL)
            return MC_ERR_NOMEM;
    }
    if (EVP_PKEY_up_ref(key) != 1) {
        free(k);
        return MC_ERR_CRYPTO;
    }
    EVP_PKEY_free(s->key);
    s->key = key;
    free(s->kid);
    s->kid = k;
    free(s->thumb);
    if (jwk_thumbprint(key, &s->thumb) != MC_OK)
        s->thumb = NULL; /* sess_key_authorization computes it, and reports its error */
    s->key_alg_set = jose_alg_for_key(key, &s->key_alg) == MC_OK; /* else sign_body asks */
    return MC_OK;
}

EVP_PKEY *sess_account_key(const struct sess *s)
{
    return s->key;
}

const char *sess_kid(const struct sess *s)
{
    return s->kid;
}

const struct sess_problem *sess_last_problem(const struct sess *s)
{
    return s->have_problem ? &s->problem : NULL;
}

const char *sess_last_error(const struct sess *s)
{
    return s->last_err[0] != '\0' ? s->last_err : "no error";
}

void sess_stats(const struct sess *s, struct sess_stats *out)
{
    *out = s->stats;
}

/* ---- polling ------------------------------------------------------------------------------- */

static bool still_moving(const char *status, bool ready_moves)
{
    return strcmp(status, "pending") == 0 || strcmp(status, "processing") == 0 ||
           (ready_moves && strcmp(status, "ready") == 0);
}

enum mc_err sess_poll(struct sess *s, const char *url, const char *what, bool ready_moves,
                      long timeout_s, cJSON **out)
{
    struct sess_resp r = {0};
    enum mc_err err = MC_OK;
    bool show = s->o.progress && isatty(STDERR_FILENO);
    bool shown = false;
    int64_t start = clock_now_ms(NULL);
    int64_t deadline = start + (int64_t)(timeout_s > 0 ? timeout_s : 0) * 1000;

    *out = NULL;
    if (what == NULL)
        what = "object";
    for (int round = 0; round < POLL_MAX_ROUNDS; round++) {
        const char *status;

        err = sess_post(s, url, NULL, SESS_SIGN_KID, &r);
        if (err != MC_OK)
            goto out;
        if (r.json == NULL || !cJSON_IsObject(r.json) ||
            json_get_string(r.json, "status", &status) != MC_OK) {
            set_err(s, "polling %s: the %s has no status", url, what);
            err = MC_ERR_INVALID;
            goto out;
        }
        if (!still_moving(status, ready_moves)) {
            *out = r.json;
            r.json = NULL;
            goto out;
        }
        int64_t now = clock_now_ms(NULL);
        if (show) {
            char st[32];
            /* Only our text and a bounded, cleaned status reach the terminal. */
            snprintf(st, sizeof st, "%s", status);
            for (char *p = st; *p != '\0'; p++)
                if (!isalnum((unsigned char)*p))
                    *p = '?';
            fprintf(stderr, "\r%s: %s, %lds", what, st, (long)((now - start) / 1000));
            fflush(stderr);
            shown = true;
        }
        if (now >= deadline) {
            set_err(s, "polling %s: the %s is still %s after %lds", url, what, status, timeout_s);
            err = MC_ERR_TIMEOUT;
            goto out;
        }
        int64_t wait_ms;
        if (r.retry_after_s >= 0) {
            long ra = r.retry_after_s < s->o.max_wait_s ? r.retry_after_s : s->o.max_wait_s;
            wait_ms = (int64_t)ra * 1000;
        } else {
            wait_ms =
                retry_backoff_ms(round, 1000, s->o.backoff_cap_ms, RETRY_JITTER_EQUAL, &s->prng);
        }
        if (wait_ms < POLL_MIN_WAIT_MS)
            wait_ms = POLL_MIN_WAIT_MS;
        if (wait_ms > deadline - now)
            wait_ms = deadline - now;
        sess_resp_free(&r);
        cx_sleep_ms(wait_ms);
    }
    err = MC_ERR_TIMEOUT;
out:
    if (shown)
        fputc('\n', stderr);
    sess_resp_free(&r);
    return err;
}

enum mc_err sess_key_authorization(const struct sess *s, const char *token, char **out)
{
    char *tp = NULL;
    enum mc_err err;

    *out = NULL;
    if (wire_check_token(token) != MC_OK)
        return MC_ERR_INVALID;
    if (s->key == NULL)
        return MC_ERR_STATE;
    if (s->thumb == NULL) {
        err = jwk_thumbprint(s->key, &tp);
        if (err != MC_OK)
            return err;
    }
    const char *t = s->thumb != NULL ? s->thumb : tp;
    size_t n = strlen(token) + 1 + strlen(t) + 1;
    *out = malloc(n);
    if (*out == NULL) {
        free(tp);
        return MC_ERR_NOMEM;
    }
    snprintf(*out, n, "%s.%s", token, t);
    free(tp);
    return MC_OK;
}
