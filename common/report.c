/* report.c: the conformance report model and its three renderings (report.h).
 *
 * Every string that enters the model is made safe once, on the way in: truncated to its
 * cap on a character boundary and turned into valid UTF-8 (each invalid byte becomes
 * U+FFFD), because the strings come from the wire (a hostile server or client chooses
 * them) and every output form needs well-formed text. Control characters are kept in the
 * model (JSON escapes them) and made visible only by the XML and HTML writers, where
 * XML 1.0 forbids most of them outright. */
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/file.h"
#include "common/report.h"

#define MAX_SHORT 2048 /* method, URL, actor, user agent, detail */
#define MAX_HEADERS (16 * 1024)
#define OUT_CAP ((size_t)512 * 1024 * 1024) /* a rendering larger than this is refused */

struct finding {
    size_t req;
    char *actor;
    long exchange;
    char *detail;
};

struct xrec {
    int64_t at_ms;
    char *actor, *user_agent, *method, *url;
    char *req_headers, *req_body, *resp_headers, *resp_body;
    bool req_trunc, resp_trunc;
    int status;
};

struct report {
    pthread_mutex_t mu;
    char *suite, *target;
    uint64_t seed;
    const struct report_req *cat;
    size_t n;
    size_t *exercised; /* per requirement: times exercised */
    size_t *failed;    /* per requirement: violations, stored or not */
    struct finding *f;
    size_t nf, capf, findings_total;
    struct xrec *x;
    size_t nx, capx, x_total;
    int64_t started, finished;
};

/* ---- safe strings ------------------------------------------------------------------------ */

/* The length of the valid UTF-8 sequence at s[0..n), or 0 when it is not one (overlong
 * forms, surrogates and code points above U+10FFFF are invalid, RFC 3629). */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len;
    uint32_t cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

/* A copy of s (NULL stays NULL) cut to at most cap input bytes, with every invalid UTF-8
 * byte replaced by U+FFFD. *trunc tells whether anything was cut (may be NULL). A sequence
 * cut by the cap becomes U+FFFD too, which is what a reader expects at a cut. */
static char *safe_dup(const char *s, size_t cap, bool *trunc)
{
    size_t n, o = 0;
    char *out;
    if (trunc != NULL)
        *trunc = false;
    if (s == NULL)
        return NULL;
    n = strlen(s);
    if (n > cap) {
        n = cap;
        if (trunc != NULL)
            *trunc = true;
    }
    /* Worst case each byte becomes the 3-byte U+FFFD. */
    out = malloc(n * 3 + 1);
    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < n;) {
        size_t l = utf8_seq((const unsigned char *)s + i, n - i);
        if (l == 0) {
            memcpy(out + o, "\xef\xbf\xbd", 3);
            o += 3;
            i++;
        } else {
            memcpy(out + o, s + i, l);
            o += l;
            i += l;
        }
    }
    out[o] = '\0';
    return out;
}

/* ---- the model --------------------------------------------------------------------------- */

static void lock(const struct report *r)
{
    (void)pthread_mutex_lock((pthread_mutex_t *)&r->mu);
}

static void unlock(const struct report *r)
{
    (void)pthread_mutex_unlock((pthread_mutex_t *)&r->mu);
}

static long req_index(const struct report *r, const char *id)
{
    if (id == NULL)
        return -1;
    for (size_t i = 0; i < r->n; i++)
        if (r->cat[i].id != NULL && strcmp(r->cat[i].id, id) == 0)
            return (long)i;
    return -1;
}

struct report *report_new(const char *suite, const char *target, uint64_t seed,
                          const struct report_req *catalog, size_t n)
{
    struct report *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return NULL;
    if (pthread_mutex_init(&r->mu, NULL) != 0) {
        free(r);
        return NULL;
    }
    r->suite = safe_dup(suite != NULL ? suite : "", MAX_SHORT, NULL);
    r->target = safe_dup(target != NULL ? target : "", MAX_SHORT, NULL);
    r->seed = seed;
    r->cat = catalog;
    r->n = catalog != NULL ? n : 0;
    r->exercised = calloc(r->n + 1, sizeof(size_t));
    r->failed = calloc(r->n + 1, sizeof(size_t));
    r->started = clock_now_ms(NULL);
    r->finished = r->started;
    if (r->suite == NULL || r->target == NULL || r->exercised == NULL || r->failed == NULL) {
        report_free(r);
        return NULL;
    }
    return r;
}

static void xrec_clear(struct xrec *x)
{
    free(x->actor);
    free(x->user_agent);
    free(x->method);
    free(x->url);
    free(x->req_headers);
    free(x->req_body);
    free(x->resp_headers);
    free(x->resp_body);
}

void report_free(struct report *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->nf; i++) {
        free(r->f[i].actor);
        free(r->f[i].detail);
    }
    for (size_t i = 0; i < r->nx; i++)
        xrec_clear(&r->x[i]);
    free(r->f);
    free(r->x);
    free(r->exercised);
    free(r->failed);
    free(r->suite);
    free(r->target);
    pthread_mutex_destroy(&r->mu);
    free(r);
}

bool report_exchanges_full(const struct report *r)
{
    bool full;

    if (r == NULL)
        return true;
    lock(r);
    full = r->nx >= REPORT_MAX_EXCHANGES;
    unlock(r);
    return full;
}

long report_add_exchange(struct report *r, const struct report_exchange *x)
{
    struct xrec rec;
    long idx = -1;
    if (r == NULL || x == NULL)
        return -1;
    /* Full: counted, and nothing copied only to be thrown away. */
    lock(r);
    if (r->nx >= REPORT_MAX_EXCHANGES) {
        r->x_total++;
        unlock(r);
        return -1;
    }
    unlock(r);
    memset(&rec, 0, sizeof(rec));
    rec.at_ms = x->at_ms;
    rec.status = x->status;
    /* Copy outside the lock: bodies may be large. Each NULL in stays NULL. */
    rec.actor = safe_dup(x->actor, MAX_SHORT, NULL);
    rec.user_agent = safe_dup(x->user_agent, MAX_SHORT, NULL);
    rec.method = safe_dup(x->method, MAX_SHORT, NULL);
    rec.url = safe_dup(x->url, MAX_SHORT, NULL);
    rec.req_headers = safe_dup(x->req_headers, MAX_HEADERS, NULL);
    rec.resp_headers = safe_dup(x->resp_headers, MAX_HEADERS, NULL);
    rec.req_body = safe_dup(x->req_body, REPORT_MAX_BODY, &rec.req_trunc);
    rec.resp_body = safe_dup(x->resp_body, REPORT_MAX_BODY, &rec.resp_trunc);
    if ((x->actor != NULL && rec.actor == NULL) ||
        (x->user_agent != NULL && rec.user_agent == NULL) ||
        (x->method != NULL && rec.method == NULL) || (x->url != NULL && rec.url == NULL) ||
        (x->req_headers != NULL && rec.req_headers == NULL) ||
        (x->resp_headers != NULL && rec.resp_headers == NULL) ||
        (x->req_body != NULL && rec.req_body == NULL) ||
        (x->resp_body != NULL && rec.resp_body == NULL))
        goto out;
    lock(r);
    r->x_total++;
    if (r->nx < REPORT_MAX_EXCHANGES) {
        if (r->nx == r->capx) {
            size_t cap = r->capx == 0 ? 64 : r->capx * 2;
            struct xrec *nx;
            if (cap > REPORT_MAX_EXCHANGES)
                cap = REPORT_MAX_EXCHANGES;
            nx = realloc(r->x, cap * sizeof(*nx));
            if (nx == NULL) {
                unlock(r);
                goto out;
            }
            r->x = nx;
            r->capx = cap;
        }
        idx = (long)r->nx;
        r->x[r->nx++] = rec;
        memset(&rec, 0, sizeof(rec));
    }
    unlock(r);
out:
    xrec_clear(&rec);
    return idx;
}

enum mc_err report_exercised(struct report *r, const char *id)
{
    long i;
    if (r == NULL)
        return MC_ERR_INVALID;
    lock(r);
    i = req_index(r, id);
    if (i >= 0)
        r->exercised[i]++;
    unlock(r);
    return i >= 0 ? MC_OK : MC_ERR_NOT_FOUND;
}

enum mc_err report_violation(struct report *r, const char *id, const char *actor, long exchange,
                             const char *detail)
{
    struct finding f = {0};
    enum mc_err err = MC_OK;
    long i;
    if (r == NULL)
        return MC_ERR_INVALID;
    f.actor = safe_dup(actor, MAX_SHORT, NULL);
    f.detail = safe_dup(detail != NULL ? detail : "", MAX_SHORT, NULL);
    if ((actor != NULL && f.actor == NULL) || f.detail == NULL) {
        err = MC_ERR_NOMEM;
        goto out;
    }
    f.exchange = exchange < 0 ? -1 : exchange;
    lock(r);
    i = req_index(r, id);
    if (i < 0) {
        err = MC_ERR_NOT_FOUND;
    } else {
        f.req = (size_t)i;
        /* The requirement failed whether or not the finding fits in the store. */
        r->exercised[i]++;
        r->failed[i]++;
        r->findings_total++;
        if (r->nf >= REPORT_MAX_FINDINGS) {
            err = MC_ERR_LIMIT;
        } else {
            if (r->nf == r->capf) {
                size_t cap = r->capf == 0 ? 64 : r->capf * 2;
                struct finding *nf;
                if (cap > REPORT_MAX_FINDINGS)
                    cap = REPORT_MAX_FINDINGS;
                nf = realloc(r->f, cap * sizeof(*nf));
                if (nf == NULL)
                    err = MC_ERR_NOMEM;
                else {
                    r->f = nf;
                    r->capf = cap;
                }
            }
            if (err == MC_OK) {
                r->f[r->nf++] = f;
                memset(&f, 0, sizeof(f));
            }
        }
    }
    unlock(r);
out:
    free(f.actor);
    free(f.detail);
    return err;
}

static enum report_outcome outcome_locked(const struct report *r, size_t i)
{
    if (r->failed[i] > 0)
        return REPORT_FAIL;
    if (r->exercised[i] > 0)
        return REPORT_PASS;
    return REPORT_SKIP;
}

enum report_outcome report_outcome_of(const struct report *r, const char *id)
{
    enum report_outcome o = REPORT_SKIP;
    long i;
    if (r == NULL)
        return REPORT_SKIP;
    lock(r);
    i = req_index(r, id);
    if (i >= 0)
        o = outcome_locked(r, (size_t)i);
    unlock(r);
    return o;
}

static void totals_locked(const struct report *r, struct report_totals *t)
{
    memset(t, 0, sizeof(*t));
    for (size_t i = 0; i < r->n; i++) {
        switch (outcome_locked(r, i)) {
        case REPORT_PASS:
            t->pass++;
            break;
        case REPORT_FAIL:
            t->fail++;
            if (r->cat[i].level == REPORT_MUST)
                t->must_fail++;
            else
                t->should_fail++;
            break;
        case REPORT_SKIP:
            t->skip++;
            break;
        }
    }
    t->findings = r->findings_total;
    t->exchanges = r->x_total;
}

void report_totals(const struct report *r, struct report_totals *out)
{
    if (out == NULL)
        return;
    if (r == NULL) {
        memset(out, 0, sizeof(*out));
        return;
    }
    lock(r);
    totals_locked(r, out);
    unlock(r);
}

void report_set_times(struct report *r, int64_t started_ms, int64_t finished_ms)
{
    if (r == NULL)
        return;
    lock(r);
    r->started = started_ms;
    r->finished = finished_ms;
    unlock(r);
}

static const char *level_name(enum report_level l)
{
    return l == REPORT_MUST ? "MUST" : "SHOULD";
}

static const char *outcome_name(enum report_outcome o)
{
    switch (o) {
    case REPORT_PASS:
        return "pass";
    case REPORT_FAIL:
        return "fail";
    case REPORT_SKIP:
        return "skip";
    }
    return "skip";
}

/* ---- JSON -------------------------------------------------------------------------------- */

/* Adds name: s, or null when s is NULL. False when out of memory. */
static bool add_str(cJSON *o, const char *name, const char *s)
{
    if (s == NULL)
        return cJSON_AddNullToObject(o, name) != NULL;
    return cJSON_AddStringToObject(o, name, s) != NULL;
}

static cJSON *json_message(const char *headers, const char *body, bool trunc)
{
    cJSON *m = cJSON_CreateObject();
    if (m == NULL)
        return NULL;
    if (!add_str(m, "headers", headers) || !add_str(m, "body", body) ||
        (trunc && cJSON_AddTrueToObject(m, "truncated") == NULL)) {
        cJSON_Delete(m);
        return NULL;
    }
    return m;
}

static enum mc_err to_json_locked(const struct report *r, cJSON **out)
{
    enum mc_err err = MC_ERR_NOMEM;
    cJSON *root = NULL, *t, *reqs, *xs;
    struct report_totals tot;
    char when[40], seed[32];

    *out = NULL;
    root = cJSON_CreateObject();
    if (root == NULL)
        goto out;
    /* The seed as a decimal string too would be lossless; as a number it is what people
     * read. Seeds above 2^53 lose precision in doubles, so both are given. */
    snprintf(seed, sizeof(seed), "%" PRIu64, r->seed);
    if (!add_str(root, "suite", r->suite) || !add_str(root, "target", r->target) ||
        cJSON_AddNumberToObject(root, "seed", (double)r->seed) == NULL ||
        !add_str(root, "seed_text", seed) ||
        !add_str(root, "started", clock_format_rfc3339(r->started, when, sizeof(when))) ||
        !add_str(root, "finished", clock_format_rfc3339(r->finished, when, sizeof(when))))
        goto out;
    totals_locked(r, &tot);
    t = cJSON_AddObjectToObject(root, "totals");
    if (t == NULL || cJSON_AddNumberToObject(t, "requirements", (double)r->n) == NULL ||
        cJSON_AddNumberToObject(t, "pass", (double)tot.pass) == NULL ||
        cJSON_AddNumberToObject(t, "fail", (double)tot.fail) == NULL ||
        cJSON_AddNumberToObject(t, "skip", (double)tot.skip) == NULL ||
        cJSON_AddNumberToObject(t, "must_fail", (double)tot.must_fail) == NULL ||
        cJSON_AddNumberToObject(t, "should_fail", (double)tot.should_fail) == NULL ||
        cJSON_AddNumberToObject(t, "findings", (double)tot.findings) == NULL ||
        cJSON_AddNumberToObject(t, "exchanges", (double)tot.exchanges) == NULL ||
        cJSON_AddNumberToObject(t, "exchanges_kept", (double)r->nx) == NULL ||
        cJSON_AddNumberToObject(t, "findings_kept", (double)r->nf) == NULL)
        goto out;

    reqs = cJSON_AddArrayToObject(root, "requirements");
    if (reqs == NULL)
        goto out;
    for (size_t i = 0; i < r->n; i++) {
        cJSON *q = cJSON_CreateObject(), *fs;
        if (q == NULL)
            goto out;
        cJSON_AddItemToArray(reqs, q);
        if (!add_str(q, "id", r->cat[i].id) || !add_str(q, "rfc", r->cat[i].rfc) ||
            !add_str(q, "level", level_name(r->cat[i].level)) ||
            !add_str(q, "text", r->cat[i].text) ||
            !add_str(q, "outcome", outcome_name(outcome_locked(r, i))) ||
            cJSON_AddNumberToObject(q, "exercised", (double)r->exercised[i]) == NULL)
            goto out;
        fs = cJSON_AddArrayToObject(q, "findings");
        if (fs == NULL)
            goto out;
        for (size_t k = 0; k < r->nf; k++) {
            cJSON *f;
            if (r->f[k].req != i)
                continue;
            f = cJSON_CreateObject();
            if (f == NULL)
                goto out;
            cJSON_AddItemToArray(fs, f);
            if (!add_str(f, "actor", r->f[k].actor) ||
                cJSON_AddNumberToObject(f, "exchange", (double)r->f[k].exchange) == NULL ||
                !add_str(f, "detail", r->f[k].detail))
                goto out;
        }
    }

    xs = cJSON_AddArrayToObject(root, "exchanges");
    if (xs == NULL)
        goto out;
    for (size_t i = 0; i < r->nx; i++) {
        const struct xrec *x = &r->x[i];
        cJSON *o = cJSON_CreateObject(), *m, *v;
        if (o == NULL)
            goto out;
        cJSON_AddItemToArray(xs, o);
        if (cJSON_AddNumberToObject(o, "index", (double)i) == NULL ||
            !add_str(o, "at", clock_format_rfc3339(x->at_ms, when, sizeof(when))) ||
            !add_str(o, "actor", x->actor) || !add_str(o, "user_agent", x->user_agent) ||
            !add_str(o, "method", x->method) || !add_str(o, "url", x->url) ||
            cJSON_AddNumberToObject(o, "status", x->status) == NULL)
            goto out;
        m = json_message(x->req_headers, x->req_body, x->req_trunc);
        if (m == NULL)
            goto out;
        cJSON_AddItemToObject(o, "request", m);
        m = json_message(x->resp_headers, x->resp_body, x->resp_trunc);
        if (m == NULL)
            goto out;
        cJSON_AddItemToObject(o, "response", m);
        v = cJSON_AddArrayToObject(o, "violations");
        if (v == NULL)
            goto out;
        for (size_t k = 0; k < r->nf; k++) {
            cJSON *s;
            if (r->f[k].exchange != (long)i)
                continue;
            s = cJSON_CreateString(r->cat[r->f[k].req].id);
            if (s == NULL)
                goto out;
            cJSON_AddItemToArray(v, s);
        }
    }
    *out = root;
    root = NULL;
    err = MC_OK;
out:
    cJSON_Delete(root);
    return err;
}

enum mc_err report_to_json(const struct report *r, cJSON **out)
{
    enum mc_err err;
    if (out == NULL)
        return MC_ERR_INVALID;
    *out = NULL;
    if (r == NULL)
        return MC_ERR_INVALID;
    lock(r);
    err = to_json_locked(r, out);
    unlock(r);
    return err;
}

enum mc_err report_write_json(const struct report *r, const char *path)
{
    cJSON *j = NULL;
    char *text = NULL;
    enum mc_err err;
    if (path == NULL)
        return MC_ERR_INVALID;
    err = report_to_json(r, &j);
    if (err != MC_OK)
        goto out;
    text = cJSON_Print(j);
    if (text == NULL) {
        err = MC_ERR_NOMEM;
        goto out;
    }
    err = file_write_atomic(path, text, strlen(text), 0644);
out:
    free(text);
    cJSON_Delete(j);
    return err;
}

/* ---- a growable output buffer with a cap ------------------------------------------------- */

struct sbuf {
    char *p;
    size_t len, cap;
    bool failed; /* out of memory or over OUT_CAP: the rendering is refused */
};

static void sb_put(struct sbuf *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (n > OUT_CAP - b->len) {
        b->failed = true;
        return;
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap == 0 ? 4096 : b->cap;
        char *np;
        while (cap < b->len + n + 1)
            cap *= 2;
        np = realloc(b->p, cap);
        if (np == NULL) {
            b->failed = true;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_str(struct sbuf *b, const char *s)
{
    sb_put(b, s, strlen(s));
}

__attribute__((format(printf, 2, 3))) static void sb_fmt(struct sbuf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(tmp)) {
        b->failed = true; /* only short, fixed formats go through here */
        return;
    }
    sb_put(b, tmp, (size_t)n);
}

/* Markup escaping shared by XML and HTML. s is valid UTF-8 (safe_dup made it so). The
 * five markup characters become entities; in attributes tab, CR and LF become character
 * references so that attribute-value normalization does not fold them into spaces; every
 * other C0 control, DEL and the C1 controls (U+0080..U+009F) are forbidden or discouraged
 * in XML 1.0 and HTML, so they are shown as the visible text "\xNN" instead (in text
 * content tab, CR and LF stay as they are). */
static void sb_esc(struct sbuf *b, const char *s, bool attr)
{
    const unsigned char *p = (const unsigned char *)(s != NULL ? s : "");
    const unsigned char *run = p;
    char tmp[16];
    for (; *p != '\0'; p++) {
        const char *rep = NULL;
        size_t skip = 1;
        switch (*p) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '"':
            rep = "&quot;";
            break;
        case '\'':
            rep = "&#39;";
            break;
        case '\t':
            rep = attr ? "&#9;" : NULL;
            break;
        case '\n':
            rep = attr ? "&#10;" : NULL;
            break;
        case '\r':
            rep = attr ? "&#13;" : NULL;
            break;
        default:
            if (*p < 0x20 || *p == 0x7f) {
                snprintf(tmp, sizeof(tmp), "\\x%02x", *p);
                rep = tmp;
            } else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
                snprintf(tmp, sizeof(tmp), "\\u%04x", p[1]);
                rep = tmp;
                skip = 2;
            }
            break;
        }
        if (rep == NULL)
            continue;
        sb_put(b, (const char *)run, (size_t)(p - run));
        sb_str(b, rep);
        p += skip - 1;
        run = p + 1;
    }
    sb_put(b, (const char *)run, (size_t)(p - run));
}

static void sb_text(struct sbuf *b, const char *s)
{
    sb_esc(b, s, false);
}

static void sb_attr(struct sbuf *b, const char *s)
{
    sb_esc(b, s, true);
}

/* An id for an HTML element id attribute or fragment: catalog ids are [A-Z0-9-] by
 * convention, but anything else is mapped to '_' so that id and href always agree
 * without percent-encoding. */
static void sb_idpart(struct sbuf *b, const char *s)
{
    for (const char *p = s != NULL ? s : ""; *p != '\0'; p++) {
        char c = *p;
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '.' || c == '_';
        sb_put(b, ok ? &c : "_", 1);
    }
}

static enum mc_err sb_finish(struct sbuf *b, const char *path)
{
    enum mc_err err;
    if (b->failed)
        err = b->len >= OUT_CAP ? MC_ERR_TOO_BIG : MC_ERR_NOMEM;
    else
        err = file_write_atomic(path, b->p != NULL ? b->p : "", b->len, 0644);
    free(b->p);
    b->p = NULL;
    return err;
}

/* ---- JUnit XML --------------------------------------------------------------------------- */

enum mc_err report_write_junit(const struct report *r, const char *path)
{
    struct sbuf b = {0};
    struct report_totals tot;
    char when[40];
    if (r == NULL || path == NULL)
        return MC_ERR_INVALID;
    lock(r);
    totals_locked(r, &tot);
    sb_str(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"");
    sb_attr(&b, r->suite);
    sb_fmt(&b, "\" tests=\"%zu\" failures=\"%zu\" skipped=\"%zu\" errors=\"0\">\n", r->n, tot.fail,
           tot.skip);
    sb_str(&b, "  <testsuite name=\"");
    sb_attr(&b, r->suite);
    sb_fmt(&b, "\" tests=\"%zu\" failures=\"%zu\" skipped=\"%zu\" errors=\"0\" time=\"%.3f\"", r->n,
           tot.fail, tot.skip,
           r->finished > r->started ? (double)(r->finished - r->started) / 1000.0 : 0.0);
    sb_str(&b, " timestamp=\"");
    sb_attr(&b, clock_format_rfc3339(r->started, when, sizeof(when)));
    sb_str(&b, "\">\n    <properties>\n      <property name=\"target\" value=\"");
    sb_attr(&b, r->target);
    sb_fmt(&b, "\"/>\n      <property name=\"seed\" value=\"%" PRIu64 "\"/>\n", r->seed);
    sb_fmt(&b, "      <property name=\"exchanges\" value=\"%zu\"/>\n", tot.exchanges);
    sb_str(&b, "    </properties>\n");
    for (size_t i = 0; i < r->n; i++) {
        const struct report_req *q = &r->cat[i];
        enum report_outcome o = outcome_locked(r, i);
        sb_str(&b, "    <testcase classname=\"");
        sb_attr(&b, level_name(q->level));
        sb_str(&b, "\" name=\"");
        sb_attr(&b, q->id);
        sb_str(&b, ": ");
        sb_attr(&b, q->text);
        sb_str(&b, "\"");
        if (o == REPORT_PASS) {
            sb_str(&b, "/>\n");
            continue;
        }
        sb_str(&b, ">\n");
        if (o == REPORT_SKIP) {
            sb_str(&b, "      <skipped message=\"not exercised\"/>\n");
        } else {
            const char *first = NULL;
            size_t shown = 0;
            for (size_t k = 0; k < r->nf && first == NULL; k++)
                if (r->f[k].req == i)
                    first = r->f[k].detail;
            sb_str(&b, "      <failure type=\"");
            sb_attr(&b, level_name(q->level));
            sb_str(&b, "\" message=\"");
            sb_attr(&b, first != NULL ? first : "violated");
            sb_str(&b, "\">");
            sb_text(&b, q->rfc);
            sb_str(&b, "\n");
            for (size_t k = 0; k < r->nf; k++) {
                if (r->f[k].req != i)
                    continue;
                if (r->f[k].exchange >= 0)
                    sb_fmt(&b, "exchange #%ld", r->f[k].exchange);
                else
                    sb_str(&b, "no exchange");
                if (r->f[k].actor != NULL) {
                    sb_str(&b, " (");
                    sb_text(&b, r->f[k].actor);
                    sb_str(&b, ")");
                }
                sb_str(&b, ": ");
                sb_text(&b, r->f[k].detail);
                sb_str(&b, "\n");
                shown++;
            }
            if (shown < r->failed[i])
                sb_fmt(&b, "(%zu more not kept)\n", r->failed[i] - shown);
            sb_str(&b, "</failure>\n");
        }
        sb_str(&b, "    </testcase>\n");
    }
    sb_str(&b, "  </testsuite>\n</testsuites>\n");
    unlock(r);
    return sb_finish(&b, path);
}

/* ---- HTML -------------------------------------------------------------------------------- */

static const char html_style[] =
    "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:24px;color:#1b1f23;"
    "background:#fff;line-height:1.4}\n"
    "h1{font-size:1.5em;margin:0 0 .3em}h2{font-size:1.2em;margin:1.5em 0 .5em;"
    "border-bottom:1px solid #ddd}\n"
    ".meta{color:#555;margin:0 0 1em}.meta code{color:#1b1f23}\n"
    "#summary{display:flex;gap:12px;flex-wrap:wrap;margin:0;padding:0;list-style:none}\n"
    "#summary li{padding:8px 14px;border-radius:6px;background:#f3f4f6;font-weight:600}\n"
    "#summary li.pass{background:#dcfce7}#summary li.fail{background:#fee2e2}"
    "#summary li.skip,#summary li.zero{background:#f3f4f6}\n"
    "td.id{white-space:nowrap;font-family:ui-monospace,Menlo,Consolas,monospace}\n"
    "table{border-collapse:collapse;width:100%;font-size:.9em}\n"
    "th,td{border:1px solid #d0d7de;padding:4px 8px;text-align:left;vertical-align:top}\n"
    "th{background:#f6f8fa}\n"
    "tr.outcome-pass td.outcome{color:#166534;font-weight:600}\n"
    "tr.outcome-fail{background:#fff1f2}tr.outcome-fail td.outcome{color:#b91c1c;"
    "font-weight:700}\n"
    "tr.outcome-skip td.outcome{color:#6b7280}\n"
    "tr:target{outline:3px solid #f59e0b}\n"
    ".exchange{border:1px solid #d0d7de;border-radius:6px;margin:10px 0;padding:8px 12px}\n"
    ".exchange.has-violation{border-color:#dc2626;border-width:2px}\n"
    ".exchange:target{outline:3px solid #f59e0b}\n"
    ".line{font-family:ui-monospace,Menlo,Consolas,monospace;font-weight:600;"
    "word-break:break-all}\n"
    ".st2{color:#166534}.st3{color:#1d4ed8}.st4,.st5,.st0{color:#b91c1c}\n"
    ".who{color:#555;font-size:.85em}\n"
    ".violation{color:#b91c1c;font-weight:600}a.violation{text-decoration:underline}\n"
    "ul.violations{margin:4px 0;padding-left:20px;background:#fff1f2}\n"
    ".msg{display:grid;grid-template-columns:1fr 1fr;gap:10px}\n"
    "pre{background:#f6f8fa;padding:6px;margin:4px 0;white-space:pre-wrap;"
    "word-break:break-all;font-size:.8em;max-height:24em;overflow:auto}\n"
    ".note{color:#6b7280;font-style:italic}\n";

static void html_message(struct sbuf *b, const char *cls, const char *title, const char *headers,
                         const char *body, bool trunc)
{
    sb_fmt(b, "<div class=\"%s\"><div><strong>%s</strong></div>", cls, title);
    sb_str(b, "<pre class=\"headers\">");
    sb_text(b, headers != NULL ? headers : "");
    sb_str(b, "</pre>");
    if (body != NULL && body[0] != '\0') {
        sb_str(b, "<pre class=\"body\">");
        sb_text(b, body);
        sb_str(b, "</pre>");
    }
    if (trunc)
        sb_fmt(b, "<div class=\"note\">body truncated to %d bytes</div>", REPORT_MAX_BODY);
    sb_str(b, "</div>");
}

enum mc_err report_write_html(const struct report *r, const char *path)
{
    struct sbuf b = {0};
    struct report_totals tot;
    char when[40];
    if (r == NULL || path == NULL)
        return MC_ERR_INVALID;
    lock(r);
    totals_locked(r, &tot);
    sb_str(&b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
               "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
               "<title>Conformance report: ");
    sb_text(&b, r->suite);
    sb_str(&b, "</title>\n<style>\n");
    sb_str(&b, html_style);
    sb_str(&b, "</style>\n</head>\n<body>\n<h1>Conformance report: ");
    sb_text(&b, r->suite);
    sb_str(&b, "</h1>\n<p class=\"meta\">Target <code id=\"target\">");
    sb_text(&b, r->target);
    sb_fmt(&b, "</code> &middot; seed <code>%" PRIu64 "</code> &middot; ", r->seed);
    sb_text(&b, clock_format_rfc3339(r->started, when, sizeof(when)));
    sb_str(&b, " to ");
    sb_text(&b, clock_format_rfc3339(r->finished, when, sizeof(when)));
    sb_str(&b, "</p>\n");

    sb_str(&b, "<h2>Summary</h2>\n<ul id=\"summary\">\n");
    sb_fmt(&b, "<li class=\"total\">%zu requirements</li>\n", r->n);
    sb_fmt(&b, "<li class=\"pass\">%zu passed</li>\n", tot.pass);
    sb_fmt(&b, "<li class=\"fail%s\">%zu failed (%zu MUST, %zu SHOULD)</li>\n",
           tot.fail == 0 ? " zero" : "", tot.fail, tot.must_fail, tot.should_fail);
    sb_fmt(&b, "<li class=\"skip\">%zu not exercised</li>\n", tot.skip);
    sb_fmt(&b, "<li class=\"exchanges\">%zu exchanges</li>\n", tot.exchanges);
    sb_fmt(&b, "<li class=\"findings\">%zu findings</li>\n", tot.findings);
    sb_str(&b, "</ul>\n");

    sb_str(&b, "<h2>Requirements</h2>\n<table id=\"requirements\">\n<thead><tr><th>ID</th>"
               "<th>Section</th><th>Level</th><th>Outcome</th><th>Requirement</th>"
               "<th>Findings</th></tr></thead>\n<tbody>\n");
    for (size_t i = 0; i < r->n; i++) {
        const struct report_req *q = &r->cat[i];
        enum report_outcome o = outcome_locked(r, i);
        sb_str(&b, "<tr id=\"req-");
        sb_idpart(&b, q->id);
        sb_fmt(&b, "\" class=\"req outcome-%s\" data-id=\"", outcome_name(o));
        sb_attr(&b, q->id);
        sb_str(&b, "\"><td class=\"id\">");
        sb_text(&b, q->id);
        sb_str(&b, "</td><td>");
        sb_text(&b, q->rfc);
        sb_fmt(&b, "</td><td class=\"level\">%s</td><td class=\"outcome\">%s</td><td>",
               level_name(q->level), outcome_name(o));
        sb_text(&b, q->text);
        sb_str(&b, "</td><td class=\"findings\">");
        for (size_t k = 0; k < r->nf; k++) {
            if (r->f[k].req != i)
                continue;
            sb_str(&b, "<div class=\"violation\">");
            if (r->f[k].exchange >= 0)
                sb_fmt(&b, "<a href=\"#x-%ld\">#%ld</a> ", r->f[k].exchange, r->f[k].exchange);
            sb_text(&b, r->f[k].detail);
            sb_str(&b, "</div>");
        }
        sb_str(&b, "</td></tr>\n");
    }
    sb_str(&b, "</tbody>\n</table>\n");

    sb_fmt(&b, "<h2>Exchanges</h2>\n<section id=\"exchanges\">\n");
    if (r->x_total > r->nx)
        sb_fmt(&b, "<p class=\"note\">%zu exchanges in all; the first %zu are kept.</p>\n",
               r->x_total, r->nx);
    for (size_t i = 0; i < r->nx; i++) {
        const struct xrec *x = &r->x[i];
        bool bad = false;
        for (size_t k = 0; k < r->nf && !bad; k++)
            bad = r->f[k].exchange == (long)i;
        sb_fmt(&b, "<div class=\"exchange%s\" id=\"x-%zu\">\n", bad ? " has-violation" : "", i);
        sb_fmt(&b, "<div class=\"line\"><a href=\"#x-%zu\">#%zu</a> ", i, i);
        sb_text(&b, x->method != NULL ? x->method : "?");
        sb_str(&b, " ");
        sb_text(&b, x->url != NULL ? x->url : "");
        sb_fmt(&b, " &rarr; <span class=\"status st%d\">%d</span></div>\n",
               x->status >= 100 && x->status < 600 ? x->status / 100 : 0, x->status);
        sb_str(&b, "<div class=\"who\">");
        sb_text(&b, clock_format_rfc3339(x->at_ms, when, sizeof(when)));
        if (x->actor != NULL) {
            sb_str(&b, " &middot; ");
            sb_text(&b, x->actor);
        }
        if (x->user_agent != NULL) {
            sb_str(&b, " &middot; ");
            sb_text(&b, x->user_agent);
        }
        sb_str(&b, "</div>\n");
        if (bad) {
            sb_str(&b, "<ul class=\"violations\">\n");
            for (size_t k = 0; k < r->nf; k++) {
                const char *id;
                if (r->f[k].exchange != (long)i)
                    continue;
                id = r->cat[r->f[k].req].id;
                sb_str(&b, "<li><a class=\"violation\" href=\"#req-");
                sb_idpart(&b, id);
                sb_str(&b, "\" data-req=\"");
                sb_attr(&b, id);
                sb_str(&b, "\">");
                sb_text(&b, id);
                sb_str(&b, "</a> ");
                sb_text(&b, r->f[k].detail);
                sb_str(&b, "</li>\n");
            }
            sb_str(&b, "</ul>\n");
        }
        sb_str(&b, "<div class=\"msg\">");
        html_message(&b, "request", "Request", x->req_headers, x->req_body, x->req_trunc);
        html_message(&b, "response", "Response", x->resp_headers, x->resp_body, x->resp_trunc);
        sb_str(&b, "</div>\n</div>\n");
    }
    sb_str(&b, "</section>\n</body>\n</html>\n");
    unlock(r);
    return sb_finish(&b, path);
}
