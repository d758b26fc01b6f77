/* bench.c: the load generator (bench.h). Each worker thread owns a session and loops
 * issuances; the steps are done here one request at a time (not through issue_cert) so
 * that each can be timed. Polling is fast on purpose: a load generator measures the CA,
 * and sess_poll's 1 s backoff (right for a user's client) would measure the pause. */
#include "client/bench.h"

#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "client/registration.h"
#include "client/solver.h"
#include "common/b64url.h"
#include "common/csr.h"
#include "common/json.h"
#include "common/log.h"
#include "common/prng.h"

#define ACME_URN "urn:ietf:params:acme:error:"
#define MAX_AUTHZ BENCH_MAX_NAMES
#define DETAIL_MAX 300

void bench_opts_init(struct bench_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->workers = 1;
    o->count = 10;
    o->domain = "bench.test";
    o->names_per_order = 1;
    o->account_key_type = KEY_EC_P256;
    o->cert_key_type = KEY_EC_P256;
    o->http_address = "127.0.0.1";
    o->http_port = 5002;
    o->poll_timeout_s = 60;
    o->poll_min_ms = 1;
    o->poll_max_ms = 250;
    o->http_timeout_s = 30;
}

const char *bench_step_name(enum bench_step s)
{
    static const char *const names[BENCH_NSTEPS] = {"account", "new_order", "authz",
                                                    "finalize", "download", "total"};
    if ((int)s < 0 || s >= BENCH_NSTEPS)
        return "?";
    return names[s];
}

/* Elapsed time is measured on CLOCK_MONOTONIC: clock.h is the servers' (virtual,
 * millisecond) wall clock, and a benchmark wants real sub-millisecond intervals. */
static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static void sleep_us(long us)
{
    struct timespec ts = {.tv_sec = us / 1000000L, .tv_nsec = (us % 1000000L) * 1000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

/* The first poll of an object waits a learned time instead of asking at once: polling
 * straight after the challenge POST or finalize found the object still pending almost
 * every time, so a request (two signatures and a round trip) was spent for nothing, and
 * the 1 ms pause after it was mostly idle. Per worker and per kind of object, the wait is
 * nudged down a little after a first poll that found the object done and up more after
 * one that did not, so that it settles where about one first poll in ten misses, near the
 * CA's usual time to finish. Clamped between these bounds (microseconds). */
#define FIRST_POLL_MIN_US 20L
#define FIRST_POLL_DOWN 32 /* after a hit: wait -= wait / 32 */
#define FIRST_POLL_UP 4    /* after a miss: wait += wait / 4 */
enum poll_kind { POLL_AUTHZ, POLL_ORDER, POLL_KINDS };

/* ---- per-worker records -------------------------------------------------------------- */

struct samples {
    double *v;
    size_t n, cap;
    uint64_t count;
};

struct fail_rec {
    char *type, *example;
    uint64_t count;
};

struct shared;

struct worker {
    struct shared *sh;
    unsigned idx;
    pthread_t tid;
    bool started;
    struct prng rng;
    struct sess *s;
    EVP_PKEY *cert_key;           /* reused key (reuse_cert_key) */
    bool measuring;               /* false during warm-up: nothing is recorded */
    struct samples step[BENCH_NSTEPS];
    struct fail_rec fail[BENCH_MAX_FAIL_TYPES + 1]; /* the last one is "other" */
    size_t n_fail;
    uint64_t ok, failed, bytes;
    struct sess_stats base;       /* the session's counters when measuring began */
    struct sess_stats stats;      /* measured */
    long first_poll_us[POLL_KINDS]; /* the learned first wait, see FIRST_POLL_MIN_US */
    double end_ms;
    /* The reason of the current issuance's failure, set where it happens. */
    char ftype[160];
    char fdetail[DETAIL_MAX];
};

struct shared {
    const struct bench_opts *o;
    struct solver *solver;
    pthread_barrier_t warm_done, go;
    atomic_uint_fast64_t warm_tickets, tickets;
    double start_ms, deadline_ms; /* set by the main thread between the two barriers */
};

static void samples_add(struct samples *sm, double ms)
{
    sm->count++;
    if (sm->n == sm->cap) {
        if (sm->cap >= BENCH_MAX_SAMPLES)
            return;
        size_t cap = sm->cap == 0 ? 64 : sm->cap * 2;
        double *v = realloc(sm->v, cap * sizeof(*v));
        if (v == NULL)
            return; /* counted, not sampled: sampled < count tells */
        sm->v = v;
        sm->cap = cap;
    }
    sm->v[sm->n++] = ms;
}

static void record(struct worker *w, enum bench_step st, double ms)
{
    if (w->measuring)
        samples_add(&w->step[st], ms);
}

/* Remembers why the current issuance failed: type is an ACME problem type or a
 * "certcli:" reason; the first reason set wins (later ones are consequences). */
static void set_fail(struct worker *w, const char *type, const char *detail)
{
    if (w->ftype[0] != '\0')
        return;
    snprintf(w->ftype, sizeof(w->ftype), "%s", type);
    snprintf(w->fdetail, sizeof(w->fdetail), "%s", detail != NULL ? detail : "");
}

/* The failure of a session call: the problem's type, else the transport error. */
static void set_fail_sess(struct worker *w, enum mc_err e, const char *what)
{
    char d[DETAIL_MAX];
    const struct sess_problem *p = sess_last_problem(w->s);

    snprintf(d, sizeof(d), "%s: %s", what, sess_last_error(w->s));
    if (e == MC_ERR_PROBLEM && p != NULL && p->type != NULL) {
        set_fail(w, p->type, d);
        return;
    }
    char t[64];
    snprintf(t, sizeof(t), "certcli:%s", e == MC_ERR_IO        ? "transport"
                                         : e == MC_ERR_TIMEOUT ? "timeout"
                                         : e == MC_ERR_INVALID ? "malformed-response"
                                                               : "error");
    set_fail(w, t, d);
}

static void count_failure(struct worker *w)
{
    const char *type = w->ftype[0] != '\0' ? w->ftype : "certcli:error";
    size_t i;

    w->failed++;
    for (i = 0; i < w->n_fail; i++)
        if (strcmp(w->fail[i].type, type) == 0)
            break;
    if (i == w->n_fail) {
        /* A bounded table: past it every new type is folded into "other". */
        if (w->n_fail == BENCH_MAX_FAIL_TYPES) {
            i = BENCH_MAX_FAIL_TYPES;
            type = "other";
        }
        if (w->fail[i].type == NULL) {
            w->fail[i].type = strdup(type);
            w->fail[i].example = strdup(w->fdetail);
            if (w->fail[i].type == NULL || w->fail[i].example == NULL) {
                free(w->fail[i].type);
                free(w->fail[i].example);
                w->fail[i].type = w->fail[i].example = NULL;
                return;
            }
            if (i < BENCH_MAX_FAIL_TYPES)
                w->n_fail++;
        }
    }
    w->fail[i].count++;
}

/* ---- one issuance, step by step ------------------------------------------------------ */

/* A signed POST, its body length added to the byte count. */
static enum mc_err post(struct worker *w, const char *url, const cJSON *payload,
                        enum sess_sign how, struct sess_resp *r)
{
    enum mc_err e = sess_post(w->s, url, payload, how, r);
    if (w->measuring)
        w->bytes += r->len;
    return e;
}

/* POST-as-GET url until its status leaves pending/processing (and "ready" when
 * ready_moves): the first time after the learned wait of kind, then pausing poll_min_ms
 * (or less after the first poll, see below) doubling to poll_max_ms; a shorter
 * Retry-After is honoured. *out is the last object. */
static enum mc_err poll_obj(struct worker *w, enum poll_kind kind, const char *url,
                            bool ready_moves, cJSON **out)
{
    const struct bench_opts *o = w->sh->o;
    double deadline = now_ms() + (double)o->poll_timeout_s * 1000.0;
    long pause = o->poll_min_ms, *first = &w->first_poll_us[kind];
    long max_us = o->poll_max_ms * 1000L;
    struct sess_resp r;
    enum mc_err e;

    *out = NULL;
    memset(&r, 0, sizeof(r));
    if (*first == 0)
        *first = o->poll_min_ms > 0 ? o->poll_min_ms * 1000L : FIRST_POLL_MIN_US;
    sleep_us(*first);
    for (int n = 0;; n++) {
        const char *status = NULL;

        e = post(w, url, NULL, SESS_SIGN_KID, &r);
        if (e != MC_OK) {
            set_fail_sess(w, e, "poll");
            break;
        }
        if (r.json == NULL || json_get_string(r.json, "status", &status) != MC_OK) {
            set_fail(w, "certcli:malformed-response", "polled object without a status");
            e = MC_ERR_INVALID;
            break;
        }
        bool done = strcmp(status, "pending") != 0 && strcmp(status, "processing") != 0 &&
                    !(ready_moves && strcmp(status, "ready") == 0);
        if (n == 0) {
            *first = done ? *first - *first / FIRST_POLL_DOWN : *first + *first / FIRST_POLL_UP;
            if (*first < FIRST_POLL_MIN_US)
                *first = FIRST_POLL_MIN_US;
            if (*first > max_us)
                *first = max_us;
        }
        if (done) {
            *out = r.json;
            r.json = NULL;
            break;
        }
        /* After a first poll that came too early the object is usually about to be done:
         * the first pause is then half the learned wait when that is shorter than
         * poll_min_ms, which stays the bound of the doubling pauses after it. */
        long wait_us = pause * 1000L;
        if (n == 0 && *first / 2 < wait_us)
            wait_us = *first / 2 > FIRST_POLL_MIN_US ? *first / 2 : FIRST_POLL_MIN_US;
        else
            pause = pause * 2 > o->poll_max_ms ? o->poll_max_ms : pause * 2;
        if (r.retry_after_s >= 0 && r.retry_after_s * 1000000L < wait_us)
            wait_us = r.retry_after_s * 1000000L;
        sess_resp_free(&r);
        if (now_ms() + (double)wait_us / 1000.0 > deadline) {
            set_fail(w, "certcli:timeout", "polling ran out of time");
            e = MC_ERR_TIMEOUT;
            break;
        }
        if (wait_us > 0)
            sleep_us(wait_us);
    }
    sess_resp_free(&r);
    return e;
}

static enum mc_err new_account(struct worker *w)
{
    EVP_PKEY *key = NULL;
    struct reg_new req;
    enum mc_err e;

    e = key_generate(w->sh->o->account_key_type, &key);
    if (e != MC_OK) {
        set_fail(w, "certcli:keygen", mc_strerror(e));
        goto out;
    }
    e = sess_set_account(w->s, key, NULL);
    if (e != MC_OK) {
        set_fail(w, "certcli:error", mc_strerror(e));
        goto out;
    }
    memset(&req, 0, sizeof(req));
    req.agree_tos = true;
    e = reg_register(w->s, &req, NULL, NULL);
    if (e != MC_OK)
        set_fail_sess(w, e, "newAccount");
out:
    EVP_PKEY_free(key);
    return e;
}

/* n random names under the domain: "w<worker>-<16 hex>.<domain>". */
static enum mc_err make_names(struct worker *w, struct ident_list *l)
{
    const struct bench_opts *o = w->sh->o;
    char name[IDENT_MAX_LEN + 1];
    enum mc_err e = MC_OK;

    for (unsigned i = 0; i < o->names_per_order; i++) {
        int n = snprintf(name, sizeof(name), "w%u-%016llx.%s", w->idx,
                         (unsigned long long)prng_next(&w->rng), o->domain);
        if (n < 0 || (size_t)n >= sizeof(name))
            return MC_ERR_INVALID;
        e = ident_list_add(l, IDENT_DNS, name);
        if (e != MC_OK)
            return e;
    }
    return e;
}

static cJSON *order_payload(const struct ident_list *l)
{
    cJSON *p = cJSON_CreateObject();
    cJSON *ids = cJSON_AddArrayToObject(p, "identifiers");
    if (ids == NULL)
        goto fail;
    for (size_t i = 0; i < l->n; i++) {
        cJSON *id = cJSON_CreateObject();
        if (id == NULL)
            goto fail;
        cJSON_AddItemToArray(ids, id);
        if (cJSON_AddStringToObject(id, "type", "dns") == NULL ||
            cJSON_AddStringToObject(id, "value", l->v[i].value) == NULL)
            goto fail;
    }
    return p;
fail:
    cJSON_Delete(p);
    return NULL;
}

/* Answers one authorization by http-01 through the shared solver. */
static enum mc_err do_authz(struct worker *w, const char *authz_url)
{
    struct sess_resp r;
    cJSON *done = NULL, *empty = NULL;
    char *key_auth = NULL;
    const char *status = NULL, *token = NULL, *chall_url = NULL, *value = NULL;
    const cJSON *challs = NULL, *ident = NULL, *c = NULL;
    struct ident id = {IDENT_DNS, NULL};
    struct chall_ctx ctx;
    bool presented = false;
    enum mc_err e;

    memset(&r, 0, sizeof(r));
    e = post(w, authz_url, NULL, SESS_SIGN_KID, &r);
    if (e != MC_OK) {
        set_fail_sess(w, e, "authorization");
        goto out;
    }
    e = MC_ERR_INVALID;
    if (r.json == NULL || json_get_string(r.json, "status", &status) != MC_OK ||
        json_get_object(r.json, "identifier", &ident) != MC_OK ||
        json_get_string(ident, "value", &value) != MC_OK ||
        json_get_array(r.json, "challenges", &challs) != MC_OK) {
        set_fail(w, "certcli:malformed-response", "authorization without status, "
                                                  "identifier or challenges");
        goto out;
    }
    if (strcmp(status, "valid") == 0) { /* reused by the CA: nothing to do */
        e = MC_OK;
        goto out;
    }
    cJSON_ArrayForEach(c, challs)
    {
        const char *type = NULL;
        if (cJSON_IsObject(c) && json_get_string(c, "type", &type) == MC_OK &&
            strcmp(type, "http-01") == 0)
            break;
    }
    if (c == NULL || json_get_string(c, "token", &token) != MC_OK ||
        json_get_string(c, "url", &chall_url) != MC_OK) {
        set_fail(w, "certcli:no-http-01", "the authorization offers no usable http-01");
        goto out;
    }
    e = sess_key_authorization(w->s, token, &key_auth);
    if (e != MC_OK) {
        set_fail(w, "certcli:malformed-response", "bad challenge token");
        goto out;
    }
    id.value = (char *)value;
    memset(&ctx, 0, sizeof(ctx));
    ctx.type = CH_HTTP01;
    ctx.ident = &id;
    ctx.token = token;
    ctx.key_auth = key_auth;
    ctx.account_url = sess_kid(w->s);
    e = solver_present(w->sh->solver, &ctx);
    if (e != MC_OK) {
        set_fail(w, "certcli:solver", mc_strerror(e));
        goto out;
    }
    presented = true;
    /* The challenge response is the empty object (RFC 8555 section 7.5.1). */
    empty = cJSON_CreateObject();
    if (empty == NULL) {
        e = MC_ERR_NOMEM;
        goto out;
    }
    struct sess_resp cr;
    memset(&cr, 0, sizeof(cr));
    e = post(w, chall_url, empty, SESS_SIGN_KID, &cr);
    sess_resp_free(&cr);
    if (e != MC_OK) {
        set_fail_sess(w, e, "challenge");
        goto out;
    }
    e = poll_obj(w, POLL_AUTHZ, authz_url, false, &done);
    if (e != MC_OK)
        goto out;
    if (json_get_string(done, "status", &status) != MC_OK || strcmp(status, "valid") != 0) {
        /* The validation's error is on the challenge (section 7.1.4): classify by it. */
        const cJSON *cs = NULL, *ch = NULL, *err = NULL;
        const char *etype = NULL, *edetail = NULL;
        if (json_get_array(done, "challenges", &cs) == MC_OK)
            cJSON_ArrayForEach(ch, cs)
            {
                if (cJSON_IsObject(ch) && json_get_object(ch, "error", &err) == MC_OK &&
                    json_get_string(err, "type", &etype) == MC_OK)
                    break;
            }
        if (etype != NULL && json_get_string(err, "detail", &edetail) != MC_OK)
            edetail = NULL;
        char d[DETAIL_MAX];
        snprintf(d, sizeof(d), "authorization %s: %s", status != NULL ? status : "?",
                 edetail != NULL ? edetail : "no error detail");
        set_fail(w, etype != NULL ? etype : "certcli:authorization-invalid", d);
        e = MC_ERR_PROBLEM;
    }
out:
    if (presented && solver_cleanup(w->sh->solver, &ctx) != MC_OK)
        log_msg(LOGL_WARN, "bench.cleanup", "token=%s", token);
    free(key_auth);
    cJSON_Delete(empty);
    cJSON_Delete(done);
    sess_resp_free(&r);
    return e;
}

/* Certificate key and CSR, finalize, poll the order to valid; *cert_url new. */
static enum mc_err do_finalize(struct worker *w, const struct ident_list *names,
                               const char *order_url, const char *finalize_url,
                               char **cert_url)
{
    const struct bench_opts *o = w->sh->o;
    EVP_PKEY *fresh = NULL;
    X509_REQ *csr = NULL;
    uint8_t *der = NULL;
    size_t der_len = 0;
    char *b64 = NULL;
    cJSON *p = NULL, *order = NULL;
    struct sess_resp r;
    const char *status = NULL, *url = NULL;
    enum mc_err e;

    memset(&r, 0, sizeof(r));
    EVP_PKEY *key = w->cert_key;
    if (!o->reuse_cert_key) {
        e = key_generate(o->cert_key_type, &fresh);
        if (e != MC_OK) {
            set_fail(w, "certcli:keygen", mc_strerror(e));
            goto out;
        }
        key = fresh;
    }
    e = csr_build(key, names->v[0].value, names, false, &csr);
    if (e == MC_OK)
        e = csr_to_der(csr, &der, &der_len);
    if (e == MC_OK)
        e = b64url_encode(der, der_len, &b64);
    if (e != MC_OK) {
        set_fail(w, "certcli:csr", mc_strerror(e));
        goto out;
    }
    p = cJSON_CreateObject();
    if (p == NULL || cJSON_AddStringToObject(p, "csr", b64) == NULL) {
        e = MC_ERR_NOMEM;
        goto out;
    }
    e = post(w, finalize_url, p, SESS_SIGN_KID, &r);
    if (e != MC_OK) {
        set_fail_sess(w, e, "finalize");
        goto out;
    }
    sess_resp_free(&r);
    /* After finalize the order is "processing" or already "valid"; "ready" would mean the
     * CA has not taken the CSR yet, so it counts as still moving. */
    e = poll_obj(w, POLL_ORDER, order_url, true, &order);
    if (e != MC_OK)
        goto out;
    if (json_get_string(order, "status", &status) != MC_OK || strcmp(status, "valid") != 0 ||
        json_get_string(order, "certificate", &url) != MC_OK) {
        char d[DETAIL_MAX];
        snprintf(d, sizeof(d), "order %s after finalize", status != NULL ? status : "?");
        set_fail(w, "certcli:order-invalid", d);
        e = MC_ERR_PROBLEM;
        goto out;
    }
    *cert_url = strdup(url);
    e = *cert_url != NULL ? MC_OK : MC_ERR_NOMEM;
out:
    sess_resp_free(&r);
    cJSON_Delete(order);
    cJSON_Delete(p);
    free(b64);
    free(der);
    X509_REQ_free(csr);
    EVP_PKEY_free(fresh);
    return e;
}

/* Whether body starts with a PEM CERTIFICATE block whose DER is shaped as a certificate:
 * Certificate ::= SEQUENCE { tbsCertificate SEQUENCE, signatureAlgorithm SEQUENCE,
 * signatureValue BIT STRING } and nothing after (RFC 5280 section 4.1), each length
 * consistent. Not d2i_X509: in OpenSSL 3.0 it runs a key decoder whose setup alone cost
 * the client a seventh of its CPU per issuance, which a load generator should not measure
 * (a real client parses its certificate once, not per issuance in a loop). */
static bool leaf_plausible(const char *body, size_t len)
{
    BIO *bio = NULL;
    char *name = NULL, *header = NULL;
    unsigned char *der = NULL;
    const unsigned char *p, *end;
    long dlen = 0, clen = 0;
    int tag = 0, cls = 0;
    bool ok = false;

    if (body == NULL || len == 0 || len > INT_MAX)
        return false;
    bio = BIO_new_mem_buf(body, (int)len);
    if (bio == NULL || PEM_read_bio(bio, &name, &header, &der, &dlen) != 1 ||
        strcmp(name, PEM_STRING_X509) != 0 || dlen <= 0)
        goto out;
    p = der;
    end = der + dlen;
    if ((ASN1_get_object(&p, &clen, &tag, &cls, dlen) & 0x80) != 0 ||
        tag != V_ASN1_SEQUENCE || p + clen != end)
        goto out;
    for (int i = 0; i < 3; i++) {
        static const int want[3] = {V_ASN1_SEQUENCE, V_ASN1_SEQUENCE, V_ASN1_BIT_STRING};
        const unsigned char *q = p;

        if ((ASN1_get_object(&q, &clen, &tag, &cls, end - p) & 0x80) != 0 ||
            cls != V_ASN1_UNIVERSAL || tag != want[i] || clen > end - q)
            goto out;
        p = q + clen;
    }
    ok = p == end;
out:
    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_free(der);
    BIO_free(bio);
    ERR_clear_error();
    return ok;
}

static enum mc_err do_download(struct worker *w, const char *cert_url)
{
    struct sess_resp r;
    enum mc_err e;

    memset(&r, 0, sizeof(r));
    e = post(w, cert_url, NULL, SESS_SIGN_KID, &r);
    if (e != MC_OK) {
        set_fail_sess(w, e, "certificate download");
        goto out;
    }
    /* The leaf is checked so that a CA answering garbage does not count as an issuance. */
    e = leaf_plausible(r.body, r.len) ? MC_OK : MC_ERR_INVALID;
    if (e != MC_OK)
        set_fail(w, "certcli:malformed-response", "the certificate chain does not parse");
out:
    sess_resp_free(&r);
    return e;
}

/* One issuance. Each step that completes is recorded. */
static enum mc_err issue_one(struct worker *w)
{
    const struct bench_opts *o = w->sh->o;
    struct ident_list names = {NULL, 0};
    cJSON *payload = NULL;
    struct sess_resp r;
    char *order_url = NULL, *finalize_url = NULL, *cert_url = NULL;
    char *authz[MAX_AUTHZ];
    size_t n_authz = 0;
    const struct sess_dir *dir = sess_directory(w->s);
    double t0 = now_ms(), t;
    enum mc_err e;

    memset(&r, 0, sizeof(r));
    w->ftype[0] = '\0';
    w->fdetail[0] = '\0';
    if (o->account_per_issuance) {
        e = new_account(w);
        if (e != MC_OK)
            goto out;
        record(w, BENCH_ACCOUNT, now_ms() - t0);
    }
    e = make_names(w, &names);
    if (e == MC_OK) {
        payload = order_payload(&names);
        e = payload != NULL ? MC_OK : MC_ERR_NOMEM;
    }
    if (e != MC_OK) {
        set_fail(w, "certcli:names", mc_strerror(e));
        goto out;
    }
    t = now_ms();
    e = post(w, dir->new_order, payload, SESS_SIGN_KID, &r);
    if (e != MC_OK) {
        set_fail_sess(w, e, "newOrder");
        goto out;
    }
    const cJSON *azs = NULL, *a = NULL;
    const char *fin = NULL;
    if (r.location == NULL || r.json == NULL ||
        json_get_array(r.json, "authorizations", &azs) != MC_OK ||
        json_get_string(r.json, "finalize", &fin) != MC_OK) {
        set_fail(w, "certcli:malformed-response",
                 "order without Location, authorizations or finalize");
        e = MC_ERR_INVALID;
        goto out;
    }
    order_url = strdup(r.location);
    finalize_url = strdup(fin);
    if (order_url == NULL || finalize_url == NULL) {
        e = MC_ERR_NOMEM;
        goto out;
    }
    cJSON_ArrayForEach(a, azs)
    {
        if (!cJSON_IsString(a) || n_authz == MAX_AUTHZ) {
            set_fail(w, "certcli:malformed-response", "bad authorizations list");
            e = MC_ERR_INVALID;
            goto out;
        }
        authz[n_authz] = strdup(a->valuestring);
        if (authz[n_authz] == NULL) {
            e = MC_ERR_NOMEM;
            goto out;
        }
        n_authz++;
    }
    sess_resp_free(&r);
    record(w, BENCH_ORDER, now_ms() - t);

    t = now_ms();
    for (size_t i = 0; i < n_authz; i++) {
        e = do_authz(w, authz[i]);
        if (e != MC_OK)
            goto out;
    }
    record(w, BENCH_AUTHZ, now_ms() - t);

    t = now_ms();
    e = do_finalize(w, &names, order_url, finalize_url, &cert_url);
    if (e != MC_OK)
        goto out;
    record(w, BENCH_FINALIZE, now_ms() - t);

    t = now_ms();
    e = do_download(w, cert_url);
    if (e != MC_OK)
        goto out;
    record(w, BENCH_DOWNLOAD, now_ms() - t);
    record(w, BENCH_TOTAL, now_ms() - t0);
out:
    for (size_t i = 0; i < n_authz; i++)
        free(authz[i]);
    free(order_url);
    free(finalize_url);
    free(cert_url);
    cJSON_Delete(payload);
    sess_resp_free(&r);
    ident_list_free(&names);
    return e;
}

/* ---- the workers --------------------------------------------------------------------- */

static enum mc_err worker_setup(struct worker *w)
{
    const struct bench_opts *o = w->sh->o;
    struct sess_opts so;
    enum mc_err e;

    sess_opts_init(&so);
    so.directory_url = o->directory_url;
    so.ca_bundle = o->ca_bundle;
    so.insecure = o->insecure;
    so.timeout_s = o->http_timeout_s;
    so.seed = prng_next(&w->rng) | 1;
    e = sess_new(&so, &w->s);
    if (e != MC_OK) {
        char d[DETAIL_MAX];
        snprintf(d, sizeof(d), "opening the session: %s", mc_strerror(e));
        set_fail(w, "certcli:transport", d);
        return e;
    }
    if (o->reuse_cert_key) {
        e = key_generate(o->cert_key_type, &w->cert_key);
        if (e != MC_OK) {
            set_fail(w, "certcli:keygen", mc_strerror(e));
            return e;
        }
    }
    if (!o->account_per_issuance) {
        double t = now_ms();
        e = new_account(w);
        if (e != MC_OK)
            return e;
        /* Before the clock starts, but a user still wants to know what it cost. */
        samples_add(&w->step[BENCH_ACCOUNT], now_ms() - t);
    }
    return MC_OK;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct shared *sh = w->sh;
    const struct bench_opts *o = sh->o;
    bool ready;

    ready = worker_setup(w) == MC_OK;
    if (!ready) {
        /* Counted as one measured failure so that a run where nothing could start says
         * why instead of reporting zero of zero. */
        count_failure(w);
        log_msg(LOGL_WARN, "bench.worker", "worker=%u setup failed: %s", w->idx, w->fdetail);
    }
    while (ready && atomic_fetch_add(&sh->warm_tickets, 1) < o->warmup) {
        if (issue_one(w) != MC_OK)
            log_msg(LOGL_INFO, "bench.warmup", "worker=%u failed: %s", w->idx, w->fdetail);
    }
    pthread_barrier_wait(&sh->warm_done);
    pthread_barrier_wait(&sh->go); /* the main thread set start_ms and deadline_ms */
    if (ready)
        sess_stats(w->s, &w->base);
    w->measuring = true;
    while (ready) {
        if (o->count > 0 && atomic_fetch_add(&sh->tickets, 1) >= o->count)
            break;
        if (o->duration_ms > 0 && now_ms() >= sh->deadline_ms)
            break;
        if (issue_one(w) == MC_OK)
            w->ok++;
        else
            count_failure(w);
    }
    w->end_ms = now_ms();
    if (ready) {
        struct sess_stats st;
        sess_stats(w->s, &st);
        w->stats.requests = st.requests - w->base.requests;
        w->stats.bad_nonce_retries = st.bad_nonce_retries - w->base.bad_nonce_retries;
        w->stats.busy_waits = st.busy_waits - w->base.busy_waits;
        w->stats.nonce_fetches = st.nonce_fetches - w->base.nonce_fetches;
        w->stats.connections = st.connections - w->base.connections;
    }
    return NULL;
}

static void worker_free(struct worker *w)
{
    sess_free(w->s);
    EVP_PKEY_free(w->cert_key);
    for (int i = 0; i < BENCH_NSTEPS; i++)
        free(w->step[i].v);
    for (size_t i = 0; i <= BENCH_MAX_FAIL_TYPES; i++) {
        free(w->fail[i].type);
        free(w->fail[i].example);
    }
}

/* ---- the summary --------------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Nearest rank: the smallest sample with at least q of the samples at or below it. */
static double pct(const double *v, size_t n, double q)
{
    size_t k = (size_t)ceil(q * (double)n);
    if (k < 1)
        k = 1;
    return v[k - 1];
}

static enum mc_err summarize_step(struct worker *ws, unsigned n, enum bench_step st,
                                  struct bench_latency *out)
{
    size_t total = 0, at = 0;
    double sum = 0;

    memset(out, 0, sizeof(*out));
    for (unsigned i = 0; i < n; i++) {
        out->count += ws[i].step[st].count;
        total += ws[i].step[st].n;
    }
    if (total == 0)
        return MC_OK;
    double *v = malloc(total * sizeof(*v));
    if (v == NULL)
        return MC_ERR_NOMEM;
    for (unsigned i = 0; i < n; i++) {
        memcpy(v + at, ws[i].step[st].v, ws[i].step[st].n * sizeof(*v));
        at += ws[i].step[st].n;
    }
    qsort(v, total, sizeof(*v), cmp_double);
    for (size_t i = 0; i < total; i++)
        sum += v[i];
    out->sampled = total;
    out->mean_ms = sum / (double)total;
    out->p50_ms = pct(v, total, 0.50);
    out->p90_ms = pct(v, total, 0.90);
    out->p99_ms = pct(v, total, 0.99);
    out->max_ms = v[total - 1];
    free(v);
    return MC_OK;
}

static int cmp_fail(const void *a, const void *b)
{
    const struct bench_failure *x = a, *y = b;
    if (x->count != y->count)
        return x->count < y->count ? 1 : -1;
    return strcmp(x->type, y->type);
}

static enum mc_err merge_failures(struct worker *ws, unsigned n, struct bench_result *out)
{
    /* One spare entry: bench_result_free looks at fail[n_fail] for a half-filled one. */
    size_t cap = (size_t)n * (BENCH_MAX_FAIL_TYPES + 1) + 1;
    out->fail = calloc(cap, sizeof(*out->fail));
    if (out->fail == NULL)
        return MC_ERR_NOMEM;
    for (unsigned i = 0; i < n; i++) {
        for (size_t j = 0; j <= BENCH_MAX_FAIL_TYPES; j++) {
            const struct fail_rec *f = &ws[i].fail[j];
            size_t k;
            if (f->type == NULL || f->count == 0)
                continue;
            for (k = 0; k < out->n_fail; k++)
                if (strcmp(out->fail[k].type, f->type) == 0)
                    break;
            if (k == out->n_fail) {
                out->fail[k].type = strdup(f->type);
                out->fail[k].example = strdup(f->example);
                if (out->fail[k].type == NULL || out->fail[k].example == NULL)
                    return MC_ERR_NOMEM; /* bench_result_free takes the partial entry */
                out->n_fail++;
            }
            out->fail[k].count += f->count;
        }
    }
    qsort(out->fail, out->n_fail, sizeof(*out->fail), cmp_fail);
    return MC_OK;
}

static enum mc_err check_opts(const struct bench_opts *o)
{
    if (o->directory_url == NULL || o->directory_url[0] == '\0')
        return MC_ERR_INVALID;
    if (o->count == 0 && o->duration_ms <= 0)
        return MC_ERR_INVALID;
    if (o->solver != NULL && !solver_handles(o->solver, CH_HTTP01))
        return MC_ERR_INVALID;
    if (o->workers < 1 || o->workers > BENCH_MAX_WORKERS)
        return MC_ERR_INVALID;
    if (o->names_per_order < 1 || o->names_per_order > BENCH_MAX_NAMES)
        return MC_ERR_INVALID;
    if (o->poll_timeout_s < 1 || o->poll_min_ms < 0 || o->poll_max_ms < o->poll_min_ms ||
        o->http_timeout_s < 1 || o->duration_ms < 0)
        return MC_ERR_INVALID;
    /* A domain that makes valid names: try one ("w255-" + 16 hex is the longest label). */
    struct ident_list l = {NULL, 0};
    char name[IDENT_MAX_LEN + 1];
    if (o->domain == NULL)
        return MC_ERR_INVALID;
    int n = snprintf(name, sizeof(name), "w255-0123456789abcdef.%s", o->domain);
    if (n < 0 || (size_t)n >= sizeof(name))
        return MC_ERR_INVALID;
    enum mc_err e = ident_list_add(&l, IDENT_DNS, name);
    ident_list_free(&l);
    return e == MC_OK ? MC_OK : MC_ERR_INVALID;
}

enum mc_err bench_run(const struct bench_opts *o, struct bench_result *out)
{
    struct shared sh;
    struct worker *ws = NULL;
    struct solver_config sc;
    struct solver *own_solver = NULL;
    bool barriers = false;
    enum mc_err e;

    memset(out, 0, sizeof(*out));
    memset(&sh, 0, sizeof(sh));
    e = check_opts(o);
    if (e != MC_OK)
        return e;
    sh.o = o;
    /* libcurl's global state before any thread exists (curl_global_init is not
     * thread-safe in older libcurl). */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return MC_ERR_IO;

    if (o->solver != NULL) {
        sh.solver = o->solver;
    } else {
        memset(&sc, 0, sizeof(sc));
        sc.kind = SOLVER_HTTP_STANDALONE;
        sc.address = o->http_address != NULL ? o->http_address : "127.0.0.1";
        sc.port = o->http_port;
        e = solver_new(&sc, &own_solver);
        if (e != MC_OK) {
            log_msg(LOGL_ERROR, "bench.solver", "addr=%s port=%u err=%s", sc.address,
                    (unsigned)sc.port, mc_strerror(e));
            goto out;
        }
        sh.solver = own_solver;
    }
    ws = calloc(o->workers, sizeof(*ws));
    if (ws == NULL) {
        e = MC_ERR_NOMEM;
        goto out;
    }
    if (pthread_barrier_init(&sh.warm_done, NULL, o->workers + 1) != 0 ||
        pthread_barrier_init(&sh.go, NULL, o->workers + 1) != 0) {
        e = MC_ERR_NOMEM;
        goto out;
    }
    barriers = true;
    atomic_init(&sh.warm_tickets, 0);
    atomic_init(&sh.tickets, 0);

    uint64_t seed = o->seed != 0 ? o->seed : prng_seed_from_os();
    for (unsigned i = 0; i < o->workers; i++) {
        ws[i].sh = &sh;
        ws[i].idx = i;
        prng_seed(&ws[i].rng, seed + 0x9e3779b97f4a7c15ULL * (i + 1));
    }
    for (unsigned i = 0; i < o->workers; i++) {
        if (pthread_create(&ws[i].tid, NULL, worker_main, &ws[i]) != 0) {
            /* The barriers count every worker: without one of them the others would wait
             * for ever, so the run cannot go on. Nothing started can be left behind
             * either; this is fatal by design (thread creation does not fail in practice
             * below BENCH_MAX_WORKERS). */
            log_msg(LOGL_ERROR, "bench.thread", "worker=%u cannot start", i);
            abort();
        }
        ws[i].started = true;
    }
    pthread_barrier_wait(&sh.warm_done);
    sh.start_ms = now_ms();
    sh.deadline_ms = sh.start_ms + (double)o->duration_ms;
    pthread_barrier_wait(&sh.go);
    for (unsigned i = 0; i < o->workers; i++)
        pthread_join(ws[i].tid, NULL);

    out->workers = o->workers;
    double end = sh.start_ms;
    for (unsigned i = 0; i < o->workers; i++) {
        out->issuances += ws[i].ok;
        out->failures += ws[i].failed;
        out->bytes_received += ws[i].bytes;
        out->stats.requests += ws[i].stats.requests;
        out->stats.bad_nonce_retries += ws[i].stats.bad_nonce_retries;
        out->stats.busy_waits += ws[i].stats.busy_waits;
        out->stats.nonce_fetches += ws[i].stats.nonce_fetches;
        out->stats.connections += ws[i].stats.connections;
        if (ws[i].end_ms > end)
            end = ws[i].end_ms;
    }
    uint64_t warm = atomic_load(&sh.warm_tickets);
    out->warmup_done = warm < o->warmup ? warm : o->warmup;
    out->wall_s = (end - sh.start_ms) / 1000.0;
    out->rate = out->wall_s > 0 ? (double)out->issuances / out->wall_s : 0;
    out->requests_per_issuance =
        out->issuances > 0 ? (double)out->stats.requests / (double)out->issuances : 0;
    for (int st = 0; st < BENCH_NSTEPS; st++) {
        e = summarize_step(ws, o->workers, (enum bench_step)st, &out->step[st]);
        if (e != MC_OK)
            goto out;
    }
    e = merge_failures(ws, o->workers, out);
out:
    if (ws != NULL) {
        for (unsigned i = 0; i < o->workers; i++)
            worker_free(&ws[i]);
        free(ws);
    }
    if (barriers) {
        pthread_barrier_destroy(&sh.warm_done);
        pthread_barrier_destroy(&sh.go);
    }
    solver_free(own_solver);
    curl_global_cleanup();
    return e;
}

void bench_result_free(struct bench_result *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->n_fail; i++) {
        free(r->fail[i].type);
        free(r->fail[i].example);
    }
    /* merge_failures may have stopped with one entry filled halfway. */
    if (r->fail != NULL) {
        free(r->fail[r->n_fail].type);
        free(r->fail[r->n_fail].example);
    }
    free(r->fail);
    memset(r, 0, sizeof(*r));
}

enum mc_err bench_result_json(const struct bench_result *r, cJSON **out)
{
    cJSON *j = cJSON_CreateObject(), *req = NULL, *steps = NULL, *fails = NULL;

    *out = NULL;
    if (j == NULL)
        return MC_ERR_NOMEM;
    bool ok = cJSON_AddNumberToObject(j, "workers", r->workers) != NULL &&
              cJSON_AddNumberToObject(j, "issuances", (double)r->issuances) != NULL &&
              cJSON_AddNumberToObject(j, "failures", (double)r->failures) != NULL &&
              cJSON_AddNumberToObject(j, "warmup", (double)r->warmup_done) != NULL &&
              cJSON_AddNumberToObject(j, "wall_s", r->wall_s) != NULL &&
              cJSON_AddNumberToObject(j, "issuances_per_s", r->rate) != NULL &&
              cJSON_AddNumberToObject(j, "bytes_received", (double)r->bytes_received) != NULL;
    req = ok ? cJSON_AddObjectToObject(j, "requests") : NULL;
    ok = req != NULL &&
         cJSON_AddNumberToObject(req, "total", (double)r->stats.requests) != NULL &&
         cJSON_AddNumberToObject(req, "per_issuance", r->requests_per_issuance) != NULL &&
         cJSON_AddNumberToObject(req, "bad_nonce_retries",
                                 (double)r->stats.bad_nonce_retries) != NULL &&
         cJSON_AddNumberToObject(req, "busy_waits", (double)r->stats.busy_waits) != NULL &&
         cJSON_AddNumberToObject(req, "nonce_fetches", (double)r->stats.nonce_fetches) !=
             NULL &&
         cJSON_AddNumberToObject(req, "connections", (double)r->stats.connections) != NULL;
    steps = ok ? cJSON_AddObjectToObject(j, "steps") : NULL;
    ok = steps != NULL;
    for (int i = 0; ok && i < BENCH_NSTEPS; i++) {
        const struct bench_latency *l = &r->step[i];
        cJSON *s = cJSON_AddObjectToObject(steps, bench_step_name((enum bench_step)i));
        ok = s != NULL && cJSON_AddNumberToObject(s, "count", (double)l->count) != NULL &&
             cJSON_AddNumberToObject(s, "sampled", (double)l->sampled) != NULL &&
             cJSON_AddNumberToObject(s, "mean_ms", l->mean_ms) != NULL &&
             cJSON_AddNumberToObject(s, "p50_ms", l->p50_ms) != NULL &&
             cJSON_AddNumberToObject(s, "p90_ms", l->p90_ms) != NULL &&
             cJSON_AddNumberToObject(s, "p99_ms", l->p99_ms) != NULL &&
             cJSON_AddNumberToObject(s, "max_ms", l->max_ms) != NULL;
    }
    fails = ok ? cJSON_AddArrayToObject(j, "failure_types") : NULL;
    ok = fails != NULL;
    for (size_t i = 0; ok && i < r->n_fail; i++) {
        cJSON *f = cJSON_CreateObject();
        ok = f != NULL;
        if (ok)
            cJSON_AddItemToArray(fails, f);
        ok = ok && cJSON_AddStringToObject(f, "type", r->fail[i].type) != NULL &&
             cJSON_AddNumberToObject(f, "count", (double)r->fail[i].count) != NULL &&
             cJSON_AddStringToObject(f, "example", r->fail[i].example) != NULL;
    }
    if (!ok) {
        cJSON_Delete(j);
        return MC_ERR_NOMEM;
    }
    *out = j;
    return MC_OK;
}
