/* cconf.c: the client-conformance grader (cconf.h).
 *
 * State, all under one mutex: the report (replaced whole by a reset), two rings of nonces
 * (redeemed, refused) for the nonce checks, a table of Retry-After deadlines per account
 * and URL for the polling check, and the last User-Agent of each account so that findings
 * made off the listener threads (validations) still name the client.
 *
 * A violation found while a request is being answered is held in this thread's "open
 * exchange" until cconf_end knows the exchange's index in the report and its actor: the
 * HTTP layer runs the before hook, the handler and the after hook of one request on one
 * worker thread (common/http.c), so a thread-local slot needs no key and no lock. */
#include "mockca/cconf.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/file.h"
#include "common/log.h"
#include "mockca/acme/render.h"
#include "mockca/acme/wfe.h"
#include "mockca/internal.h"
#include "mockca/transcript.h"

#define CCONF_NONCES 2048  /* nonces remembered per ring; older ones are forgotten */
#define CCONF_NONCE_MAX 96 /* a longer nonce is not remembered (ours are 22 characters) */
#define CCONF_POLLS 1024   /* Retry-After deadlines remembered; the oldest goes first */
#define CCONF_AGENTS 256   /* accounts whose last User-Agent is remembered */
#define CCONF_STR 256      /* an actor or a path in the tables; longer ones are cut */
#define CCONF_PENDING 8    /* violations one exchange holds; more are counted in the log */
#define CCONF_DETAIL 400
#define CCONF_RENDER_MAX ((size_t)256 * 1024 * 1024)
#define CCONF_HEADERS_MAX 8192

/* The catalog. Levels are the RFC's own words for the client's duty. */
static const struct report_req cconf_cat[] = {
    {CCONF_UA_PRESENT, "RFC 8555 6.1", REPORT_MUST,
     "Every ACME request carries a User-Agent header"},
    {CCONF_UA_PRODUCT, "RFC 8555 6.1", REPORT_SHOULD,
     "The User-Agent names the ACME software and its version (product/version)"},
    {CCONF_CONTENT_TYPE, "RFC 8555 6.2", REPORT_MUST,
     "POST bodies are sent with Content-Type: application/jose+json"},
    {CCONF_JWS_ALG, "RFC 8555 6.2", REPORT_MUST,
     "The JWS alg is an asymmetric signature algorithm: not none, and a MAC (HS*) only "
     "inside externalAccountBinding"},
    {CCONF_JWS_JWK, "RFC 8555 6.2", REPORT_MUST,
     "newAccount (and revokeCert by the certificate key) is signed with jwk, not kid"},
    {CCONF_JWS_KID, "RFC 8555 6.2", REPORT_MUST,
     "Requests of an existing account are signed with kid (the account URL), not jwk"},
    {CCONF_URL, "RFC 8555 6.4", REPORT_MUST,
     "The protected header's url equals the URL the request is sent to"},
    {CCONF_NONCE_ONCE, "RFC 8555 6.5", REPORT_MUST,
     "Each Replay-Nonce is used in at most one request"},
    {CCONF_NONCE_RETRY, "RFC 8555 6.5", REPORT_SHOULD,
     "A request refused with badNonce is retried with a fresh nonce, not the refused one"},
    {CCONF_PAG_EMPTY, "RFC 8555 6.3", REPORT_MUST,
     "A POST-as-GET carries the empty payload (\"\"), not a JSON object"},
    {CCONF_PAG_NO_GET, "RFC 8555 6.3", REPORT_MUST,
     "Accounts, orders, authorizations, challenges and certificates are fetched with "
     "POST-as-GET, never GET"},
    {CCONF_ACCT_DEACTIVATED, "RFC 8555 7.3.6", REPORT_MUST,
     "No request is signed by an account after it was deactivated"},
    {CCONF_POLL, "RFC 8555 6.6, 7.5.1", REPORT_SHOULD,
     "A resource answered with Retry-After is not polled again before that time"},
    {CCONF_CSR_NAMES, "RFC 8555 7.4", REPORT_MUST,
     "The finalize CSR names exactly the order's identifiers"},
    {CCONF_CSR_KEY, "RFC 8555 11.1", REPORT_MUST,
     "The certificate key in the CSR is not the account key"},
    {CCONF_CHAL_KEYAUTH, "RFC 8555 8.1, 8.3, 8.4; RFC 8737 3", REPORT_MUST,
     "The answer published for a challenge is its key authorization (token.thumbprint)"},
    {CCONF_ALPN, "RFC 8737 3", REPORT_MUST,
     "The tls-alpn-01 responder negotiates the acme-tls/1 protocol"},
    {CCONF_IDENT_IP, "RFC 8738 3", REPORT_MUST,
     "An IP address is ordered as an \"ip\" identifier in its canonical text form, never "
     "as \"dns\""},
    {CCONF_ARI_REPLACES, "RFC 9773 5", REPORT_MUST,
     "newOrder \"replaces\" names a certificate this server issued to the account"},
};

struct cconf_poll_slot {
    bool used;
    char actor[CCONF_STR];
    char path[CCONF_STR];
    int64_t set_ms, not_before_ms, wait_ms;
};

struct cconf_agent {
    bool used;
    char account[CCONF_STR];
    char ua[CCONF_STR];
    int64_t seen_ms;
};

struct cconf {
    pthread_mutex_t mu;
    struct report *r;
    char *target;
    uint64_t seed;
    struct mc_clock *clock;
    atomic_bool strict;
    int64_t started_ms;
    char (*spent)[CCONF_NONCE_MAX];
    char (*refused)[CCONF_NONCE_MAX];
    size_t spent_next, refused_next;
    struct cconf_poll_slot *polls;
    struct cconf_agent agents[CCONF_AGENTS];
};

/* The exchange this thread is answering (cconf_begin .. cconf_end). */
struct cconf_open {
    const struct cconf *owner;
    const struct http_request *req;
    size_t n, dropped;
    bool signer, action; /* cconf_signer was called; the payload was not empty */
    char kid[CCONF_STR]; /* its kid, "" for jwk */
    struct {
        const char *id;
        char detail[CCONF_DETAIL];
    } v[CCONF_PENDING];
};
static _Thread_local struct cconf_open tl_open;

const struct report_req *cconf_catalog(size_t *n)
{
    if (n != NULL)
        *n = sizeof(cconf_cat) / sizeof(cconf_cat[0]);
    return cconf_cat;
}

/* ---- lifecycle --------------------------------------------------------------------------- */

static struct report *cconf_new_report(const struct cconf *c)
{
    return report_new("acme-client", c->target, c->seed, cconf_cat,
                      sizeof(cconf_cat) / sizeof(cconf_cat[0]));
}

enum mc_err cconf_new(const char *target, uint64_t seed, struct mc_clock *clock, bool strict,
                      struct cconf **out)
{
    struct cconf *c = NULL;

    *out = NULL;
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return MC_ERR_NOMEM;
    if (pthread_mutex_init(&c->mu, NULL) != 0) {
        free(c);
        return MC_ERR_NOMEM;
    }
    atomic_init(&c->strict, strict);
    c->seed = seed;
    c->clock = clock;
    c->target = strdup(target != NULL ? target : "");
    c->spent = calloc(CCONF_NONCES, sizeof(*c->spent));
    c->refused = calloc(CCONF_NONCES, sizeof(*c->refused));
    c->polls = calloc(CCONF_POLLS, sizeof(*c->polls));
    if (c->target == NULL || c->spent == NULL || c->refused == NULL || c->polls == NULL)
        goto fail;
    c->r = cconf_new_report(c);
    if (c->r == NULL)
        goto fail;
    c->started_ms = clock_now_ms(clock);
    *out = c;
    return MC_OK;
fail:
    cconf_free(c);
    return MC_ERR_NOMEM;
}

void cconf_free(struct cconf *c)
{
    if (c == NULL)
        return;
    report_free(c->r);
    free(c->target);
    free(c->spent);
    free(c->refused);
    free(c->polls);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

void cconf_set_strict(struct cconf *c, bool strict)
{
    if (c != NULL)
        atomic_store(&c->strict, strict);
}

bool cconf_is_strict(const struct cconf *c)
{
    return c != NULL && atomic_load(&((struct cconf *)c)->strict);
}

enum mc_err cconf_reset(struct cconf *c)
{
    struct report *r, *old;

    if (c == NULL)
        return MC_OK;
    r = cconf_new_report(c);
    if (r == NULL)
        return MC_ERR_NOMEM;
    pthread_mutex_lock(&c->mu);
    old = c->r;
    c->r = r;
    c->started_ms = clock_now_ms(c->clock);
    pthread_mutex_unlock(&c->mu);
    report_free(old);
    return MC_OK;
}

/* ---- reports ----------------------------------------------------------------------------- */

/* Under c->mu. */
static void cconf_stamp(struct cconf *c)
{
    report_set_times(c->r, c->started_ms, clock_now_ms(c->clock));
}

struct report *cconf_report(struct cconf *c)
{
    struct report *r;

    if (c == NULL)
        return NULL;
    pthread_mutex_lock(&c->mu);
    cconf_stamp(c);
    r = c->r;
    pthread_mutex_unlock(&c->mu);
    return r;
}

enum mc_err cconf_to_json(struct cconf *c, cJSON **out)
{
    enum mc_err e;

    *out = NULL;
    if (c == NULL)
        return MC_ERR_INVALID;
    pthread_mutex_lock(&c->mu);
    cconf_stamp(c);
    e = report_to_json(c->r, out);
    pthread_mutex_unlock(&c->mu);
    return e;
}

enum mc_err cconf_write(struct cconf *c, enum cconf_form form, const char *path)
{
    enum mc_err e;

    if (c == NULL || path == NULL)
        return MC_ERR_INVALID;
    pthread_mutex_lock(&c->mu);
    cconf_stamp(c);
    if (form == CCONF_JUNIT)
        e = report_write_junit(c->r, path);
    else if (form == CCONF_HTML)
        e = report_write_html(c->r, path);
    else
        e = report_write_json(c->r, path);
    pthread_mutex_unlock(&c->mu);
    return e;
}

/* The report writers write files (report.h's contract), so a rendering for the management
 * API goes through a private temporary directory: nobody else can pick the name. */
enum mc_err cconf_render(struct cconf *c, enum cconf_form form, char **out, size_t *len)
{
    const char *tmp = getenv("TMPDIR");
    char dir[512], path[600];
    enum mc_err e;
    int w;

    *out = NULL;
    *len = 0;
    if (c == NULL)
        return MC_ERR_INVALID;
    w = snprintf(dir, sizeof(dir), "%s/mockca-cconf-XXXXXX",
                 tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
    if (w < 0 || (size_t)w >= sizeof(dir) || mkdtemp(dir) == NULL)
        return MC_ERR_IO;
    snprintf(path, sizeof(path), "%s/report", dir);
    e = cconf_write(c, form, path);
    if (e == MC_OK)
        e = file_read_all(path, CCONF_RENDER_MAX, out, len);
    (void)unlink(path);
    (void)rmdir(dir);
    return e;
}

/* ---- findings ---------------------------------------------------------------------------- */

/* "ACCOUNT (USER_AGENT)" into buf. */
static void cconf_actor(const char *account, const char *ua, char *buf, size_t n)
{
    snprintf(buf, n, "%.*s (%.*s)", CCONF_STR, account != NULL ? account : "no account", CCONF_STR,
             ua != NULL && ua[0] != '\0' ? ua : "no User-Agent");
}

/* Copies s into a table slot, cut to fit. */
static void cconf_copy(char *dst, size_t n, const char *s)
{
    snprintf(dst, n, "%s", s != NULL ? s : "");
}

/* A violation, under c->mu: held for this thread's open exchange, or recorded at once
 * with actor (may be NULL) and no exchange. */
static void cconf_raise(struct cconf *c, const char *id, const char *actor, const char *detail)
{
    if (tl_open.owner == c && tl_open.req != NULL) {
        if (tl_open.n < CCONF_PENDING) {
            tl_open.v[tl_open.n].id = id;
            cconf_copy(tl_open.v[tl_open.n].detail, CCONF_DETAIL, detail);
            tl_open.n++;
        } else {
            tl_open.dropped++;
        }
        return;
    }
    if (report_violation(c->r, id, actor, -1, detail) != MC_OK)
        log_msg(LOGL_DEBUG, "cconf.violation", "id=%s err=not_recorded", id);
}

static void cconf_exercise(struct cconf *c, const char *id)
{
    if (report_exercised(c->r, id) != MC_OK)
        log_msg(LOGL_WARN, "cconf.exercised", "id=%s err=unknown_id", id);
}

static void cconf_vgrade(struct cconf *c, const char *id, bool ok, const char *actor,
                         const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));

static void cconf_vgrade(struct cconf *c, const char *id, bool ok, const char *actor,
                         const char *fmt, va_list ap)
{
    char detail[CCONF_DETAIL];

    pthread_mutex_lock(&c->mu);
    if (ok) {
        cconf_exercise(c, id);
    } else {
        vsnprintf(detail, sizeof(detail), fmt, ap);
        cconf_raise(c, id, actor, detail);
        log_msg(LOGL_INFO, "cconf.violation", "id=%s detail=%s", id, detail);
    }
    pthread_mutex_unlock(&c->mu);
}

void cconf_grade(struct cconf *c, const char *id, bool ok, const char *fmt, ...)
{
    va_list ap;

    if (c == NULL || id == NULL)
        return;
    va_start(ap, fmt);
    cconf_vgrade(c, id, ok, NULL, fmt, ap);
    va_end(ap);
}

/* The last User-Agent seen from account, under c->mu; NULL when none. */
static const char *cconf_agent_ua(const struct cconf *c, const char *account)
{
    for (size_t i = 0; account != NULL && i < CCONF_AGENTS; i++)
        if (c->agents[i].used && strcmp(c->agents[i].account, account) == 0)
            return c->agents[i].ua;
    return NULL;
}

/* Remembers ua as account's, under c->mu: its slot, a free one, or the least recent. */
static void cconf_agent_note(struct cconf *c, const char *account, const char *ua, int64_t now)
{
    size_t pick = CCONF_AGENTS, oldest = 0;

    if (account == NULL || strlen(account) >= CCONF_STR)
        return;
    for (size_t i = 0; i < CCONF_AGENTS; i++) {
        if (c->agents[i].used && strcmp(c->agents[i].account, account) == 0) {
            pick = i;
            break;
        }
        if (!c->agents[i].used) {
            if (pick == CCONF_AGENTS)
                pick = i;
        } else if (c->agents[oldest].used && c->agents[i].seen_ms < c->agents[oldest].seen_ms) {
            oldest = i;
        }
    }
    if (pick == CCONF_AGENTS)
        pick = oldest;
    c->agents[pick].used = true;
    cconf_copy(c->agents[pick].account, CCONF_STR, account);
    cconf_copy(c->agents[pick].ua, CCONF_STR, ua);
    c->agents[pick].seen_ms = now;
}

void cconf_grade_for(struct cconf *c, const char *id, bool ok, const char *account_url,
                     const char *fmt, ...)
{
    char actor[2 * CCONF_STR + 8];
    va_list ap;

    if (c == NULL || id == NULL)
        return;
    pthread_mutex_lock(&c->mu);
    cconf_actor(account_url, cconf_agent_ua(c, account_url), actor, sizeof(actor));
    pthread_mutex_unlock(&c->mu);
    va_start(ap, fmt);
    cconf_vgrade(c, id, ok, actor, fmt, ap);
    va_end(ap);
}

/* ---- nonces ------------------------------------------------------------------------------ */

static bool cconf_ring_has(char (*ring)[CCONF_NONCE_MAX], const char *nonce)
{
    for (size_t i = 0; i < CCONF_NONCES; i++)
        if (ring[i][0] != '\0' && strcmp(ring[i], nonce) == 0)
            return true;
    return false;
}

static void cconf_ring_add(char (*ring)[CCONF_NONCE_MAX], size_t *next, const char *nonce)
{
    cconf_copy(ring[*next], CCONF_NONCE_MAX, nonce);
    *next = (*next + 1) % CCONF_NONCES;
}

void cconf_nonce(struct cconf *c, const char *nonce, bool accepted)
{
    if (c == NULL || nonce == NULL || nonce[0] == '\0' || strlen(nonce) >= CCONF_NONCE_MAX)
        return;
    pthread_mutex_lock(&c->mu);
    if (accepted) {
        cconf_exercise(c, CCONF_NONCE_ONCE);
        cconf_ring_add(c->spent, &c->spent_next, nonce);
    } else {
        cconf_exercise(c, CCONF_NONCE_RETRY);
        /* A nonce we never saw (expired, from another run) is refused without blame. */
        if (cconf_ring_has(c->spent, nonce))
            cconf_raise(c, CCONF_NONCE_ONCE, NULL,
                        "the nonce was already used by an earlier request");
        else if (cconf_ring_has(c->refused, nonce))
            cconf_raise(c, CCONF_NONCE_RETRY, NULL,
                        "badNonce was retried with the refused nonce instead of the fresh one "
                        "the error carried");
        if (!cconf_ring_has(c->refused, nonce))
            cconf_ring_add(c->refused, &c->refused_next, nonce);
    }
    pthread_mutex_unlock(&c->mu);
}

/* ---- polling ----------------------------------------------------------------------------- */

/* The path of an absolute URL (or of a path), without the query, into buf. */
static void cconf_url_path(const char *url, char *buf, size_t n)
{
    const char *p = strstr(url, "://");
    size_t len;

    if (p != NULL) {
        p = strchr(p + 3, '/');
        if (p == NULL)
            p = "/";
    } else {
        p = url;
    }
    len = strcspn(p, "?#");
    snprintf(buf, n, "%.*s", (int)len, p);
}

/* Retry-After as the wait in ms from now_ms (RFC 9110 section 10.2.3: delta-seconds or an
 * HTTP-date, which mockca writes against its own clock); false when it does not parse or
 * lies in the past. */
static bool cconf_retry_after(const char *v, int64_t now_ms, int64_t *wait_ms)
{
    struct tm tm;
    const char *end;
    char *e = NULL;
    long long s;

    while (*v == ' ')
        v++;
    if (*v >= '0' && *v <= '9') {
        s = strtoll(v, &e, 10);
        if (e == v || s <= 0 || s > 86400LL * 365)
            return false;
        *wait_ms = s * 1000;
        return true;
    }
    memset(&tm, 0, sizeof(tm));
    end = strptime(v, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (end == NULL)
        return false;
    *wait_ms = (int64_t)timegm(&tm) * 1000 - now_ms;
    return *wait_ms > 0;
}

/* Forgets every deadline of actor, under c->mu: the client acted (answered a challenge,
 * finalized), so what it polls next starts a new wait. */
static void cconf_polls_forget(struct cconf *c, const char *actor)
{
    for (size_t i = 0; i < CCONF_POLLS; i++)
        if (c->polls[i].used && strcmp(c->polls[i].actor, actor) == 0)
            c->polls[i].used = false;
}

/* Remembers the deadline of actor's next poll of path, under c->mu. */
static void cconf_polls_set(struct cconf *c, const char *actor, const char *path, int64_t now,
                            int64_t wait_ms)
{
    size_t pick = CCONF_POLLS, oldest = 0;

    if (strlen(actor) >= CCONF_STR || strlen(path) >= CCONF_STR)
        return;
    for (size_t i = 0; i < CCONF_POLLS; i++) {
        struct cconf_poll_slot *s = &c->polls[i];
        if (s->used && strcmp(s->actor, actor) == 0 && strcmp(s->path, path) == 0) {
            pick = i;
            break;
        }
        if (!s->used) {
            if (pick == CCONF_POLLS)
                pick = i;
        } else if (c->polls[oldest].used && s->set_ms < c->polls[oldest].set_ms) {
            oldest = i;
        }
    }
    if (pick == CCONF_POLLS)
        pick = oldest;
    c->polls[pick].used = true;
    cconf_copy(c->polls[pick].actor, CCONF_STR, actor);
    cconf_copy(c->polls[pick].path, CCONF_STR, path);
    c->polls[pick].set_ms = now;
    c->polls[pick].wait_ms = wait_ms;
    c->polls[pick].not_before_ms = now + wait_ms;
}

enum acme_problem cconf_poll(struct cconf *c, const char *account_url, const char *url,
                             struct acme_error *err)
{
    char path[CCONF_STR], detail[CCONF_DETAIL];
    int64_t now, early = 0, wait = 0, since = 0;
    bool found = false, late_enough = true;

    if (c == NULL || account_url == NULL || url == NULL)
        return ACME_P_NONE;
    cconf_url_path(url, path, sizeof(path));
    now = clock_now_ms(c->clock);
    pthread_mutex_lock(&c->mu);
    for (size_t i = 0; i < CCONF_POLLS; i++) {
        struct cconf_poll_slot *s = &c->polls[i];
        if (!s->used || strcmp(s->actor, account_url) != 0 || strcmp(s->path, path) != 0)
            continue;
        found = true;
        wait = s->wait_ms;
        since = now - s->set_ms;
        early = s->not_before_ms - now;
        late_enough = early <= CCONF_POLL_TOLERANCE_MS + wait / 10;
        s->used = false; /* one wait, one poll: this answer sets the next deadline */
        break;
    }
    if (found) {
        snprintf(detail, sizeof(detail),
                 "%s polled %lld ms after an answer that asked for Retry-After of %lld ms", path,
                 (long long)since, (long long)wait);
        if (late_enough)
            cconf_exercise(c, CCONF_POLL);
        else
            cconf_raise(c, CCONF_POLL, NULL, detail);
    }
    pthread_mutex_unlock(&c->mu);
    if (!found || late_enough || !cconf_is_strict(c))
        return ACME_P_NONE;
    return acme_error_set(err, ACME_P_RATE_LIMITED, 429, "%s: %s; wait %lld ms more", CCONF_POLL,
                          detail, (long long)early);
}

/* ---- validations ------------------------------------------------------------------------- */

void cconf_validation(struct cconf *c, const char *account_url, const char *type,
                      const struct va_result *res)
{
    bool alpn = type != NULL && strcmp(type, "tls-alpn-01") == 0;

    if (c == NULL || res == NULL)
        return;
    if (res->valid) {
        cconf_grade_for(c, CCONF_CHAL_KEYAUTH, true, account_url, "%s", "");
        if (alpn)
            cconf_grade_for(c, CCONF_ALPN, true, account_url, "%s", "");
        return;
    }
    if (res->client_fault == VA_FAULT_KEYAUTH) {
        cconf_grade_for(c, CCONF_CHAL_KEYAUTH, false, account_url, "%s: %s",
                        type != NULL ? type : "challenge", res->error.detail);
        if (alpn)
            cconf_grade_for(c, CCONF_ALPN, true, account_url, "%s", "");
    } else if (res->client_fault == VA_FAULT_ALPN) {
        cconf_grade_for(c, CCONF_ALPN, false, account_url, "%s", res->error.detail);
    }
}

/* ---- hooks ------------------------------------------------------------------------------- */

/* The resources RFC 8555 section 6.3 makes POST-as-GET only. */
static bool cconf_pag_resource(const char *path)
{
    static const char *const prefixes[] = {ACME_PATH_ACCOUNT, ACME_PATH_ORDERS,    ACME_PATH_ORDER,
                                           ACME_PATH_AUTHZ,   ACME_PATH_CHALLENGE, ACME_PATH_CERT};
    for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
        if (strncmp(path, prefixes[i], strlen(prefixes[i])) == 0)
            return true;
    return false;
}

/* RFC 9110 section 10.1.5: User-Agent = product *( RWS ( product / comment ) ), product =
 * token [ "/" product-version ]. Section 6.1 asks for the software's name and version, so
 * the first product must have both. */
static bool cconf_ua_product(const char *ua)
{
    size_t name = strcspn(ua, "/ \t(");
    size_t ver;

    if (name == 0 || ua[name] != '/')
        return false;
    ver = strcspn(ua + name + 1, " \t(");
    return ver > 0;
}

void cconf_begin(struct cconf *c, const struct http_request *req, struct http_response *resp)
{
    const char *ua;
    bool has_ua;

    memset(&tl_open, 0, sizeof(tl_open));
    if (c == NULL || req == NULL)
        return;
    tl_open.owner = c;
    tl_open.req = req;
    if (resp->status != 0 || resp->drop || req->method == NULL || req->path == NULL)
        return;
    if (cconf_pag_resource(req->path)) {
        if (strcmp(req->method, "POST") == 0)
            cconf_grade(c, CCONF_PAG_NO_GET, true, "%s", "");
        else if (strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0)
            cconf_grade(c, CCONF_PAG_NO_GET, false,
                        "%s %s: this resource is fetched with POST-as-GET", req->method, req->path);
    }
    /* OCSP clients are not ACME clients; GETs (directory, nonce, renewalInfo) are graded
     * with the POSTs of the same client, which always come. */
    if (strcmp(req->method, "POST") != 0 || strcmp(req->path, MOCKCA_PATH_OCSP) == 0)
        return;
    ua = http_request_header(req, "User-Agent");
    has_ua = ua != NULL && ua[0] != '\0';
    cconf_grade(c, CCONF_UA_PRESENT, has_ua, "POST %s without a User-Agent header", req->path);
    if (has_ua)
        cconf_grade(c, CCONF_UA_PRODUCT, cconf_ua_product(ua),
                    "User-Agent \"%.128s\" does not start with product/version", ua);
    if (!has_ua && cconf_is_strict(c))
        wfe_problemf(resp, ACME_P_MALFORMED, 0,
                     "%s: a User-Agent header is required (RFC 8555 section 6.1)",
                     CCONF_UA_PRESENT);
}

/* A transcript header object {NAME: VALUE} as "Name: value" lines, into buf. */
static void cconf_header_lines(const cJSON *side, char *buf, size_t n)
{
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(side, "headers");
    const cJSON *it;
    size_t o = 0;

    buf[0] = '\0';
    cJSON_ArrayForEach(it, h)
    {
        int w;
        if (!cJSON_IsString(it) || it->string == NULL)
            continue;
        w = snprintf(buf + o, n - o, "%s%s: %s", o > 0 ? "\n" : "", it->string, it->valuestring);
        if (w < 0 || (size_t)w >= n - o)
            break;
        o += (size_t)w;
    }
    buf[o] = '\0';
}

/* A transcript body (JSON or a string) as text, new string or NULL. */
static char *cconf_body_text(const cJSON *side)
{
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(side, "body");

    char *printed, *copy;

    if (b == NULL || cJSON_IsNull(b))
        return NULL;
    if (cJSON_IsString(b))
        return strdup(b->valuestring);
    printed = cJSON_Print(b);
    copy = printed != NULL ? strdup(printed) : NULL;
    cJSON_free(printed);
    return copy;
}

/* Whether the transcript's request body is a JWS with a non-empty payload: an action (new
 * order, challenge answer, finalize), not a poll. */
static bool cconf_is_action(const cJSON *rec)
{
    const cJSON *rq = cJSON_GetObjectItemCaseSensitive(rec, "request");
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(rq, "body");
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(b, "payload");

    if (p == NULL)
        return false;
    return !(cJSON_IsString(p) && p->valuestring[0] == '\0');
}

static const char *cconf_resp_header(const struct http_response *resp, const char *name)
{
    for (size_t i = 0; i < resp->nheaders; i++)
        if (resp->headers[i].name != NULL && strcasecmp(resp->headers[i].name, name) == 0)
            return resp->headers[i].value;
    return NULL;
}

void cconf_signer(struct cconf *c, const char *kid, bool action)
{
    if (c == NULL || tl_open.owner != c)
        return;
    if (kid != NULL && strlen(kid) >= sizeof(tl_open.kid))
        return; /* too long to hold whole: cconf_end decodes the request instead */
    cconf_copy(tl_open.kid, sizeof(tl_open.kid), kid != NULL ? kid : "");
    tl_open.action = action;
    tl_open.signer = true;
}

/* Whether cconf_end can skip the transcript record: the report keeps no more exchanges
 * (so none of its headers or bodies would be stored) and the exchange's account and kind
 * are known without decoding the request, which has no body or a JWS that cconf_signer
 * noted. The answers are tr_build's: the kid, else for a JWS answered 2xx (a new account)
 * the Location. */
static bool cconf_light(struct cconf *c, const struct http_request *req,
                        const struct http_response *resp, const char **account, bool *action)
{
    bool full;

    if (!tl_open.signer && req->body_len != 0)
        return false;
    pthread_mutex_lock(&c->mu);
    full = report_exchanges_full(c->r);
    pthread_mutex_unlock(&c->mu);
    if (!full)
        return false;
    *account = NULL;
    *action = tl_open.signer && tl_open.action;
    if (tl_open.signer && tl_open.kid[0] != '\0')
        *account = tl_open.kid;
    else if (tl_open.signer && resp->status >= 200 && resp->status < 300)
        *account = cconf_resp_header(resp, "Location");
    return true;
}

void cconf_end(struct cconf *c, const struct http_request *req, const struct http_response *resp)
{
    struct report_exchange x;
    cJSON *rec = NULL;
    const cJSON *rq = NULL, *rs = NULL;
    const char *account = NULL, *ua = NULL, *ra = NULL, *loc = NULL;
    char *req_body = NULL, *resp_body = NULL;
    char req_h[CCONF_HEADERS_MAX], resp_h[CCONF_HEADERS_MAX], actor[2 * CCONF_STR + 8];
    char path[CCONF_STR];
    int64_t now, wait = 0;
    long idx;
    bool action = false;

    if (c == NULL || tl_open.owner != c || tl_open.req != req) {
        memset(&tl_open, 0, sizeof(tl_open));
        return;
    }
    now = clock_now_ms(c->clock);
    memset(&x, 0, sizeof(x));
    req_h[0] = resp_h[0] = '\0';
    if (cconf_light(c, req, resp, &account, &action)) {
        ua = http_request_header(req, "User-Agent");
    } else if (tr_build("acme", now, req, resp, &rec) == MC_OK) {
        rq = cJSON_GetObjectItemCaseSensitive(rec, "request");
        rs = cJSON_GetObjectItemCaseSensitive(rec, "response");
        if (cJSON_IsString(cJSON_GetObjectItemCaseSensitive(rec, "account")))
            account = cJSON_GetObjectItemCaseSensitive(rec, "account")->valuestring;
        if (cJSON_IsString(cJSON_GetObjectItemCaseSensitive(rec, "user_agent")))
            ua = cJSON_GetObjectItemCaseSensitive(rec, "user_agent")->valuestring;
        cconf_header_lines(rq, req_h, sizeof(req_h));
        cconf_header_lines(rs, resp_h, sizeof(resp_h));
        req_body = cconf_body_text(rq);
        resp_body = cconf_body_text(rs);
        action = cconf_is_action(rec);
    } else {
        ua = http_request_header(req, "User-Agent");
    }
    x.at_ms = now;
    x.actor = account;
    x.user_agent = ua;
    x.method = req->method;
    x.url = req->path;
    x.req_headers = req_h;
    x.req_body = req_body;
    x.status = resp->status;
    x.resp_headers = resp_h;
    x.resp_body = resp_body;
    cconf_actor(account, ua, actor, sizeof(actor));

    pthread_mutex_lock(&c->mu);
    idx = report_add_exchange(c->r, &x);
    for (size_t i = 0; i < tl_open.n; i++)
        if (report_violation(c->r, tl_open.v[i].id, actor, idx, tl_open.v[i].detail) != MC_OK)
            log_msg(LOGL_DEBUG, "cconf.violation", "id=%s err=not_recorded", tl_open.v[i].id);
    if (tl_open.dropped > 0)
        log_msg(LOGL_WARN, "cconf.violations", "dropped=%zu path=%s", tl_open.dropped, req->path);
    if (account != NULL) {
        cconf_agent_note(c, account, ua, now);
        /* The Retry-After of this answer is the wait before the next poll of the resource
         * it describes: a new order's Location, else the URL itself. */
        if (action)
            cconf_polls_forget(c, account);
        ra = cconf_resp_header(resp, "Retry-After");
        loc = resp->status == 201 ? cconf_resp_header(resp, "Location") : NULL;
        if (ra != NULL && strcmp(req->method, "POST") == 0 && cconf_retry_after(ra, now, &wait)) {
            cconf_url_path(loc != NULL ? loc : req->path, path, sizeof(path));
            cconf_polls_set(c, account, path, now, wait);
        }
    }
    pthread_mutex_unlock(&c->mu);
    memset(&tl_open, 0, sizeof(tl_open));
    free(req_body);
    free(resp_body);
    cJSON_Delete(rec);
}
