/* vaq.c: the validation queue (vaq.h) over the generic worker queue (common/wq.h): a job
 * is a vaq_item with its strings copied in; the handler sleeps as Pebble's VA does, holds
 * while the fault hook says so, validates without any lock, and records the result through
 * wq_commit_begin so that a vaq_free that gave up waiting is never raced. */
#include "mockca/vaq.h"

#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/wq.h"
#include "mockca/cconf.h"
#include "mockca/ratelimit.h"

#define VAQ_STOP_MARGIN_MS 2000
#define VAQ_DEFAULT_VA_TIMEOUT_MS 10000
#define VAQ_SLEEP_MAX_S 3600 /* a sleep longer than this is clamped */

_Static_assert(VAQ_MAX_WORKERS <= WQ_MAX_WORKERS, "vaq's worker cap is wq's");

struct vaq_item {
    char challenge_id[STORE_ID_LEN + 1];
    enum chall_type type;
    struct ident ident; /* owned value */
    bool wildcard;
    char token[64];
    char key_authorization[VAQ_KEYAUTH_MAX + 1];
    char account_url[VAQ_URL_MAX + 1];
};

/* The queue's context. Freed by wq (ctx_free) when the queue goes, which after an
 * abandoning vaq_free is on the last running worker: its handler still reads cfg. */
struct vaq {
    struct vaq_config cfg;
    struct wq *wq;
};

static void vaq_item_clear(struct vaq_item *it)
{
    free(it->ident.value);
    memset(it, 0, sizeof(*it));
}

/* wq's drop: a job still queued at stop (its challenge stays processing). */
static void vaq_drop(void *job, void *ctx)
{
    (void)ctx;
    vaq_item_clear(job);
}

static void vaq_ctx_free(void *ctx)
{
    free(ctx);
}

/* Pebble's VA sleeps a random time before each validation (va.go: up to
 * PEBBLE_VA_SLEEPTIME seconds), so that a client which does not poll fails. */
static int64_t vaq_sleep_ms(struct vaq *q)
{
    int64_t ms;

    if (q->cfg.nosleep || q->cfg.sleep_max_s <= 0)
        return 0;
    pthread_mutex_lock(q->cfg.rng_mu);
    ms = (int64_t)prng_below(q->cfg.rng, (uint64_t)q->cfg.sleep_max_s * 1000 + 1);
    pthread_mutex_unlock(q->cfg.rng_mu);
    return ms;
}

/* Holds the job while the fault hook says so (see vaq.h); the hook runs without any lock.
 * Returns false when stopping. */
static bool vaq_hold(struct vaq *q, struct wq *wq, const struct vaq_item *it)
{
    if (q->cfg.hold == NULL)
        return true;
    for (;;) {
        int64_t ms = 0;

        if (!q->cfg.hold(q->cfg.hold_ctx, chall_type_name(it->type), it->ident.value,
                         it->account_url[0] != '\0' ? it->account_url : NULL, &ms))
            return wq_sleep(wq, 0);
        if (ms < VAQ_HOLD_MIN_MS)
            ms = VAQ_HOLD_MIN_MS;
        if (ms > VAQ_HOLD_MAX_MS)
            ms = VAQ_HOLD_MAX_MS;
        if (!wq_sleep(wq, ms))
            return false;
    }
}

static void vaq_validate(struct vaq *q, const struct vaq_item *it, struct va_result *res)
{
    memset(res, 0, sizeof(*res));
    if (q->cfg.always_valid) {
        res->valid = true;
        return;
    }
    switch (it->type) {
    case CHALL_HTTP01:
        va_http01(q->cfg.va, &it->ident, it->token, it->key_authorization, res);
        break;
    case CHALL_DNS01:
        va_dns01(q->cfg.va, &it->ident, it->key_authorization, res);
        break;
    case CHALL_TLSALPN01:
        va_tlsalpn01(q->cfg.va, &it->ident, it->key_authorization, res);
        break;
    case CHALL_DNSACCOUNT01:
        va_dns_account01(q->cfg.va, &it->ident, it->account_url, it->key_authorization, res);
        break;
    default:
        acme_error_set(&res->error, ACME_P_SERVER_INTERNAL, 0, "unknown challenge type");
        return;
    }
    /* CAA is checked at validation time, as Boulder does, when the config names CA
     * domains (caaIdentities); Pebble never checks it. */
    if (res->valid && q->cfg.n_caa_domains > 0) {
        struct va_result caa;
        memset(&caa, 0, sizeof(caa));
        va_caa(q->cfg.va, &it->ident, it->wildcard, q->cfg.caa_domains, q->cfg.n_caa_domains, &caa);
        if (!caa.valid)
            *res = caa;
    }
}

/* Counts a failed validation of the identifier for the failedValidationsPerIdentifier
 * limit, which newOrder checks. */
static void vaq_count_failure(struct vaq *q, const struct vaq_item *it)
{
    char key[sizeof(VAQ_FAILED_KEY_PREFIX) + 4 + IDENT_MAX_LEN + 1];
    int w;

    if (q->cfg.limits == NULL || q->cfg.failed_window_ms <= 0 || it->ident.value == NULL)
        return;
    w = snprintf(key, sizeof(key), "%s%s:%s", VAQ_FAILED_KEY_PREFIX,
                 it->ident.type == IDENT_IP ? "ip" : "dns", it->ident.value);
    if (w < 0 || (size_t)w >= sizeof(key))
        return;
    ratelimit_record(q->cfg.limits, key, q->cfg.failed_window_ms);
}

/* Writes the result where the owner reads it: the store, the failed-validation count and
 * the grader. Only between wq_commit_begin and wq_commit_end: once vaq_free gave up
 * waiting, all three may be gone. */
static void vaq_record(struct vaq *q, const struct vaq_item *it, const struct va_result *res)
{
    enum mc_err e = res->valid ? store_challenge_succeed(q->cfg.store, it->challenge_id)
                               : store_challenge_fail(q->cfg.store, it->challenge_id, &res->error);

    log_msg(LOGL_INFO, "va.result", "challenge=%s type=%s ident=%s valid=%d err=%s",
            it->challenge_id, chall_type_name(it->type), it->ident.value, res->valid ? 1 : 0,
            res->valid ? "-" : acme_problem_name(res->error.type));
    if (e != MC_OK)
        log_msg(LOGL_WARN, "va.store", "challenge=%s err=%s", it->challenge_id, mc_strerror(e));
    if (!res->valid)
        vaq_count_failure(q, it);
    /* With always_valid nothing was looked at, so nothing is graded. */
    if (!q->cfg.always_valid)
        cconf_validation(q->cfg.cconf, it->account_url[0] != '\0' ? it->account_url : NULL,
                         chall_type_name(it->type), res);
}

/* wq's handler: one validation, on a worker thread. */
static void vaq_handle(struct wq *wq, void *job, void *ctx)
{
    struct vaq *q = ctx;
    struct vaq_item *it = job;
    struct va_result res;

    if (wq_sleep(wq, vaq_sleep_ms(q)) && vaq_hold(q, wq, it)) {
        vaq_validate(q, it, &res);
        if (wq_commit_begin(wq)) {
            vaq_record(q, it, &res);
            wq_commit_end(wq);
        }
    }
    vaq_item_clear(it);
}

enum mc_err vaq_new(const struct vaq_config *cfg, struct vaq **out)
{
    struct vaq *q = NULL;
    struct wq_config wc;
    enum mc_err e;

    *out = NULL;
    if (cfg == NULL || cfg->store == NULL || cfg->va == NULL || cfg->rng == NULL ||
        cfg->rng_mu == NULL || cfg->workers > VAQ_MAX_WORKERS)
        return MC_ERR_INVALID;
    q = calloc(1, sizeof(*q));
    if (q == NULL)
        return MC_ERR_NOMEM;
    q->cfg = *cfg;
    if (q->cfg.workers == 0)
        q->cfg.workers = VAQ_DEFAULT_WORKERS;
    if (q->cfg.capacity == 0)
        q->cfg.capacity = VAQ_DEFAULT_CAPACITY;
    if (q->cfg.sleep_max_s > VAQ_SLEEP_MAX_S)
        q->cfg.sleep_max_s = VAQ_SLEEP_MAX_S;
    memset(&wc, 0, sizeof(wc));
    wc.job_size = sizeof(struct vaq_item);
    wc.capacity = q->cfg.capacity;
    wc.workers = q->cfg.workers;
    wc.handler = vaq_handle;
    wc.drop = vaq_drop;
    wc.ctx = q;
    wc.ctx_free = vaq_ctx_free;
    e = wq_new(&wc, &q->wq);
    if (e != MC_OK) {
        free(q); /* wq_new does not call ctx_free when it fails */
        return e;
    }
    *out = q;
    return MC_OK;
}

static bool vaq_copy(char *dst, size_t n, const char *src)
{
    size_t len;

    if (src == NULL)
        return false;
    len = strnlen(src, n);
    if (len >= n)
        return false;
    memcpy(dst, src, len + 1);
    return true;
}

enum mc_err vaq_push(struct vaq *q, const struct vaq_job *job)
{
    struct vaq_item it;
    enum mc_err e;

    if (q == NULL || job == NULL || job->ident == NULL || job->ident->value == NULL)
        return MC_ERR_INVALID;
    memset(&it, 0, sizeof(it));
    if (!vaq_copy(it.challenge_id, sizeof(it.challenge_id), job->challenge_id) ||
        !vaq_copy(it.token, sizeof(it.token), job->token) ||
        !vaq_copy(it.key_authorization, sizeof(it.key_authorization), job->key_authorization) ||
        (job->account_url != NULL &&
         !vaq_copy(it.account_url, sizeof(it.account_url), job->account_url)))
        return MC_ERR_INVALID;
    it.type = job->type;
    it.wildcard = job->wildcard;
    it.ident.type = job->ident->type;
    it.ident.value = strdup(job->ident->value);
    if (it.ident.value == NULL)
        return MC_ERR_NOMEM;
    e = wq_push(q->wq, &it);
    if (e != MC_OK)
        vaq_item_clear(&it); /* not taken: still ours */
    return e;
}

size_t vaq_pending(struct vaq *q)
{
    return q != NULL ? wq_pending(q->wq) : 0;
}

void vaq_free(struct vaq *q)
{
    int64_t wait_ms;

    if (q == NULL)
        return;
    wait_ms = (q->cfg.va->timeout_ms > 0 ? q->cfg.va->timeout_ms : VAQ_DEFAULT_VA_TIMEOUT_MS) +
              VAQ_STOP_MARGIN_MS;
    /* q is freed by wq (vaq_ctx_free): at once, or when an overrunning validation ends. */
    if (!wq_free(q->wq, wait_ms))
        log_msg(LOGL_WARN, "va.stop", "err=%s", "validation_still_running");
}
