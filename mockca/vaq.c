/* vaq.c: the validation queue (vaq.h): a bounded ring of jobs under one mutex, a condition
 * variable for "work or stop", and worker threads. Sleeps and the stop wait use
 * CLOCK_MONOTONIC so a jump of the wall clock cannot stretch them. */
#include "mockca/vaq.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "mockca/cconf.h"
#include "mockca/ratelimit.h"

#define VAQ_STOP_MARGIN_MS 2000
#define VAQ_DEFAULT_VA_TIMEOUT_MS 10000
#define VAQ_SLEEP_MAX_S 3600 /* a sleep longer than this is clamped */

struct vaq_item {
    char challenge_id[STORE_ID_LEN + 1];
    enum chall_type type;
    struct ident ident; /* owned value */
    bool wildcard;
    char token[64];
    char key_authorization[VAQ_KEYAUTH_MAX + 1];
    char account_url[VAQ_URL_MAX + 1];
};

struct vaq {
    struct vaq_config cfg;
    pthread_mutex_t mu;
    pthread_cond_t cv; /* signalled on a new job and on stop */
    /* Held jobs (cfg.hold) wait on their own condition, broadcast only at stop, so that the
     * signal of a new job always reaches a worker that can take it. */
    pthread_cond_t hold_cv;
    struct vaq_item *ring;
    size_t head, count;
    bool stop;
    bool abandoned; /* vaq_free gave up waiting: workers must not touch the store */
    unsigned live;  /* workers not yet exited */
    pthread_t threads[VAQ_MAX_WORKERS];
    unsigned n_threads;
};

static void vaq_item_clear(struct vaq_item *it)
{
    free(it->ident.value);
    memset(it, 0, sizeof(*it));
}

static void vaq_destroy(struct vaq *q)
{
    if (q == NULL)
        return;
    for (size_t i = 0; i < q->count; i++)
        vaq_item_clear(&q->ring[(q->head + i) % q->cfg.capacity]);
    free(q->ring);
    pthread_cond_destroy(&q->cv);
    pthread_cond_destroy(&q->hold_cv);
    pthread_mutex_destroy(&q->mu);
    free(q);
}

static void vaq_deadline(struct timespec *ts, int64_t ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

/* Pebble's VA sleeps a random time before each validation (va.go: up to
 * PEBBLE_VA_SLEEPTIME seconds), so that a client which does not poll fails. Returns false
 * when stopping. Lock held on entry and exit. */
static bool vaq_sleep(struct vaq *q)
{
    struct timespec until;
    int64_t ms;

    if (q->cfg.nosleep || q->cfg.sleep_max_s <= 0)
        return !q->stop;
    pthread_mutex_lock(q->cfg.rng_mu);
    ms = (int64_t)prng_below(q->cfg.rng, (uint64_t)q->cfg.sleep_max_s * 1000 + 1);
    pthread_mutex_unlock(q->cfg.rng_mu);
    vaq_deadline(&until, ms);
    while (!q->stop) {
        if (pthread_cond_timedwait(&q->cv, &q->mu, &until) == ETIMEDOUT)
            break;
    }
    return !q->stop;
}

/* Holds the job while the fault hook says so (see vaq.h). Lock held on entry and exit;
 * the hook runs without it. Returns false when stopping. */
static bool vaq_hold(struct vaq *q, const struct vaq_item *it)
{
    struct timespec until;

    while (q->cfg.hold != NULL && !q->stop) {
        int64_t ms = 0;
        bool held;

        pthread_mutex_unlock(&q->mu);
        held = q->cfg.hold(q->cfg.hold_ctx, chall_type_name(it->type), it->ident.value,
                           it->account_url[0] != '\0' ? it->account_url : NULL, &ms);
        pthread_mutex_lock(&q->mu);
        if (!held)
            break;
        if (ms < VAQ_HOLD_MIN_MS)
            ms = VAQ_HOLD_MIN_MS;
        if (ms > VAQ_HOLD_MAX_MS)
            ms = VAQ_HOLD_MAX_MS;
        vaq_deadline(&until, ms);
        while (!q->stop) {
            if (pthread_cond_timedwait(&q->hold_cv, &q->mu, &until) == ETIMEDOUT)
                break;
        }
    }
    return !q->stop;
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

static void *vaq_worker(void *arg)
{
    struct vaq *q = arg;
    struct vaq_item it;
    struct va_result res;
    bool free_q = false;

    memset(&it, 0, sizeof(it));
    pthread_mutex_lock(&q->mu);
    for (;;) {
        while (!q->stop && q->count == 0)
            pthread_cond_wait(&q->cv, &q->mu);
        if (q->stop)
            break;
        it = q->ring[q->head];
        memset(&q->ring[q->head], 0, sizeof(q->ring[q->head]));
        q->head = (q->head + 1) % q->cfg.capacity;
        q->count--;
        /* An empty ring starts over at slot 0, so a queue that is rarely deep reuses its
         * first slots: walking the whole ring would touch every page of it (11 MiB for
         * vaq's 10000 items), which showed as resident growth run after run. */
        if (q->count == 0)
            q->head = 0;
        if (!vaq_sleep(q) || !vaq_hold(q, &it)) {
            vaq_item_clear(&it);
            break;
        }
        pthread_mutex_unlock(&q->mu);
        vaq_validate(q, &it, &res);
        pthread_mutex_lock(&q->mu);
        /* Under the queue lock, so vaq_free's "abandoned" and the store's end are ordered
         * with respect to this write. */
        if (!q->abandoned) {
            enum mc_err e = res.valid
                                ? store_challenge_succeed(q->cfg.store, it.challenge_id)
                                : store_challenge_fail(q->cfg.store, it.challenge_id, &res.error);
            log_msg(LOGL_INFO, "va.result", "challenge=%s type=%s ident=%s valid=%d err=%s",
                    it.challenge_id, chall_type_name(it.type), it.ident.value, res.valid ? 1 : 0,
                    res.valid ? "-" : acme_problem_name(res.error.type));
            if (e != MC_OK)
                log_msg(LOGL_WARN, "va.store", "challenge=%s err=%s", it.challenge_id,
                        mc_strerror(e));
            if (!res.valid)
                vaq_count_failure(q, &it);
            /* Graded under the lock, like the store write: once abandoned, the grader
             * may be gone. With always_valid nothing was looked at, so nothing is graded. */
            if (!q->cfg.always_valid)
                cconf_validation(q->cfg.cconf, it.account_url[0] != '\0' ? it.account_url : NULL,
                                 chall_type_name(it.type), &res);
        }
        vaq_item_clear(&it);
    }
    q->live--;
    free_q = q->abandoned && q->live == 0;
    pthread_mutex_unlock(&q->mu);
    if (free_q)
        vaq_destroy(q);
    return NULL;
}

enum mc_err vaq_new(const struct vaq_config *cfg, struct vaq **out)
{
    struct vaq *q = NULL;
    pthread_condattr_t ca;
    enum mc_err e = MC_ERR_NOMEM;

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
    q->ring = calloc(q->cfg.capacity, sizeof(*q->ring));
    if (q->ring == NULL) {
        free(q);
        return MC_ERR_NOMEM;
    }
    pthread_mutex_init(&q->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&q->cv, &ca);
    pthread_cond_init(&q->hold_cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_lock(&q->mu);
    for (unsigned i = 0; i < q->cfg.workers; i++) {
        if (pthread_create(&q->threads[i], NULL, vaq_worker, q) != 0)
            break;
        q->n_threads++;
        q->live++;
    }
    pthread_mutex_unlock(&q->mu);
    if (q->n_threads == 0) {
        vaq_destroy(q);
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
    enum mc_err e = MC_OK;

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
    pthread_mutex_lock(&q->mu);
    if (q->stop) {
        e = MC_ERR_STATE;
    } else if (q->count >= q->cfg.capacity) {
        e = MC_ERR_LIMIT;
    } else {
        q->ring[(q->head + q->count) % q->cfg.capacity] = it;
        q->count++;
        memset(&it, 0, sizeof(it));
        pthread_cond_signal(&q->cv);
    }
    pthread_mutex_unlock(&q->mu);
    vaq_item_clear(&it);
    return e;
}

size_t vaq_pending(struct vaq *q)
{
    size_t n;

    if (q == NULL)
        return 0;
    pthread_mutex_lock(&q->mu);
    n = q->count;
    pthread_mutex_unlock(&q->mu);
    return n;
}

void vaq_free(struct vaq *q)
{
    struct timespec until;
    int64_t wait_ms;
    bool joined[VAQ_MAX_WORKERS];
    bool all = true, free_q = false;

    if (q == NULL)
        return;
    pthread_mutex_lock(&q->mu);
    q->stop = true;
    pthread_cond_broadcast(&q->cv);
    pthread_cond_broadcast(&q->hold_cv);
    pthread_mutex_unlock(&q->mu);
    wait_ms = (q->cfg.va->timeout_ms > 0 ? q->cfg.va->timeout_ms : VAQ_DEFAULT_VA_TIMEOUT_MS) +
              VAQ_STOP_MARGIN_MS;
    /* pthread_timedjoin_np takes a CLOCK_REALTIME deadline. */
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += wait_ms / 1000;
    until.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    for (unsigned i = 0; i < q->n_threads; i++) {
        joined[i] = pthread_timedjoin_np(q->threads[i], NULL, &until) == 0;
        if (!joined[i])
            all = false;
    }
    if (all) {
        vaq_destroy(q);
        return;
    }
    /* A validation overran its own timeout: leave it; the last worker out frees q. */
    log_msg(LOGL_WARN, "va.stop", "err=%s", "validation_still_running");
    for (unsigned i = 0; i < q->n_threads; i++)
        if (!joined[i])
            pthread_detach(q->threads[i]);
    pthread_mutex_lock(&q->mu);
    q->abandoned = true;
    free_q = q->live == 0;
    pthread_mutex_unlock(&q->mu);
    if (free_q)
        vaq_destroy(q);
}
