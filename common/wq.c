/* wq.c: the bounded worker queue (wq.h): a ring of fixed-size slots under one mutex, one
 * condition variable for "work or stop" and another for "stop" alone, and worker threads.
 * Waits use CLOCK_MONOTONIC so that a jump of the wall clock cannot stretch them. */
#include "common/wq.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct wq_worker {
    struct wq *q;
    pthread_t thread;
    unsigned char *job; /* this worker's copy of the job it runs; job_size bytes */
};

struct wq {
    struct wq_config cfg; /* read-only after wq_new: handlers read it without the lock */
    pthread_mutex_t mu;
    pthread_cond_t work_cv; /* signalled on a new job, broadcast on stop */
    /* wq_sleep waits here, broadcast only on stop: were sleepers on work_cv, a new job's
     * signal could wake one of them instead of an idle worker and the job would sit
     * queued until some handler ended. */
    pthread_cond_t stop_cv;
    unsigned char *ring; /* capacity slots of job_size bytes */
    size_t head, count;
    bool stop;
    bool abandoned; /* wq_free gave up waiting: handlers must not touch the owner's data */
    unsigned live;  /* workers not yet ended */
    struct wq_worker workers[WQ_MAX_WORKERS];
    unsigned n_workers;
    unsigned char *scratch; /* the workers' job copies, one block */
};

static unsigned char *wq_slot(struct wq *q, size_t i)
{
    return q->ring + ((q->head + i) % q->cfg.capacity) * q->cfg.job_size;
}

/* Frees everything; ctx_free only for a queue that was handed out. */
static void wq_destroy(struct wq *q, bool release_ctx)
{
    void (*ctx_free)(void *) = q->cfg.ctx_free;
    void *ctx = q->cfg.ctx;

    free(q->ring);
    free(q->scratch);
    pthread_cond_destroy(&q->work_cv);
    pthread_cond_destroy(&q->stop_cv);
    pthread_mutex_destroy(&q->mu);
    free(q);
    if (release_ctx && ctx_free != NULL)
        ctx_free(ctx);
}

static void wq_deadline(struct timespec *ts, clockid_t clk, int64_t ms)
{
    clock_gettime(clk, ts);
    ts->tv_sec += (time_t)(ms / 1000);
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

/* Moves the oldest job into dst. Lock held, count > 0. */
static void wq_take(struct wq *q, unsigned char *dst)
{
    unsigned char *slot = wq_slot(q, 0);

    memcpy(dst, slot, q->cfg.job_size);
    memset(slot, 0, q->cfg.job_size);
    q->head = (q->head + 1) % q->cfg.capacity;
    q->count--;
    /* An empty ring starts over at slot 0, so a queue that is rarely deep reuses its first
     * slots: walking the whole ring would touch every page of it (11 MiB for vaq's 10000
     * jobs), which showed as resident growth run after run. */
    if (q->count == 0)
        q->head = 0;
}

static void *wq_worker_main(void *arg)
{
    struct wq_worker *w = arg;
    struct wq *q = w->q;
    bool free_q = false;

    pthread_mutex_lock(&q->mu);
    for (;;) {
        while (!q->stop && q->count == 0)
            pthread_cond_wait(&q->work_cv, &q->mu);
        if (q->stop)
            break;
        wq_take(q, w->job);
        pthread_mutex_unlock(&q->mu);
        q->cfg.handler(q, w->job, q->cfg.ctx);
        memset(w->job, 0, q->cfg.job_size);
        pthread_mutex_lock(&q->mu);
    }
    q->live--;
    free_q = q->abandoned && q->live == 0;
    pthread_mutex_unlock(&q->mu);
    /* w lives inside q: nothing of it is touched from here on. */
    if (free_q)
        wq_destroy(q, true);
    return NULL;
}

static bool wq_config_ok(const struct wq_config *cfg)
{
    return cfg != NULL && cfg->handler != NULL && cfg->job_size > 0 &&
           cfg->job_size <= WQ_MAX_JOB_SIZE && cfg->capacity > 0 &&
           cfg->capacity <= WQ_MAX_CAPACITY && cfg->capacity <= SIZE_MAX / cfg->job_size &&
           cfg->workers > 0 && cfg->workers <= WQ_MAX_WORKERS;
}

enum mc_err wq_new(const struct wq_config *cfg, struct wq **out)
{
    struct wq *q = NULL;
    pthread_condattr_t ca;

    *out = NULL;
    if (!wq_config_ok(cfg))
        return MC_ERR_INVALID;
    q = calloc(1, sizeof(*q));
    if (q == NULL)
        return MC_ERR_NOMEM;
    q->cfg = *cfg;
    /* calloc of a large ring maps pages lazily: only the slots in use are resident. */
    q->ring = calloc(cfg->capacity, cfg->job_size);
    q->scratch = calloc(cfg->workers, cfg->job_size);
    if (q->ring == NULL || q->scratch == NULL) {
        free(q->ring);
        free(q->scratch);
        free(q);
        return MC_ERR_NOMEM;
    }
    pthread_mutex_init(&q->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&q->work_cv, &ca);
    pthread_cond_init(&q->stop_cv, &ca);
    pthread_condattr_destroy(&ca);
    /* Under the lock, so that live counts every started worker before any can end. */
    pthread_mutex_lock(&q->mu);
    for (unsigned i = 0; i < cfg->workers; i++) {
        struct wq_worker *w = &q->workers[q->n_workers];

        w->q = q;
        w->job = q->scratch + (size_t)q->n_workers * cfg->job_size;
        if (pthread_create(&w->thread, NULL, wq_worker_main, w) != 0)
            break;
        q->n_workers++;
        q->live++;
    }
    pthread_mutex_unlock(&q->mu);
    if (q->n_workers == 0) {
        wq_destroy(q, false);
        return MC_ERR_NOMEM;
    }
    *out = q;
    return MC_OK;
}

enum mc_err wq_push(struct wq *q, const void *job)
{
    enum mc_err e = MC_OK;

    if (q == NULL || job == NULL)
        return MC_ERR_INVALID;
    pthread_mutex_lock(&q->mu);
    if (q->stop) {
        e = MC_ERR_STATE;
    } else if (q->count >= q->cfg.capacity) {
        e = MC_ERR_LIMIT;
    } else {
        memcpy(wq_slot(q, q->count), job, q->cfg.job_size);
        q->count++;
        pthread_cond_signal(&q->work_cv);
    }
    pthread_mutex_unlock(&q->mu);
    return e;
}

size_t wq_pending(struct wq *q)
{
    size_t n;

    if (q == NULL)
        return 0;
    pthread_mutex_lock(&q->mu);
    n = q->count;
    pthread_mutex_unlock(&q->mu);
    return n;
}

bool wq_sleep(struct wq *q, int64_t ms)
{
    struct timespec until;
    bool go;

    if (ms > WQ_MAX_SLEEP_MS)
        ms = WQ_MAX_SLEEP_MS;
    pthread_mutex_lock(&q->mu);
    if (ms > 0) {
        wq_deadline(&until, CLOCK_MONOTONIC, ms);
        while (!q->stop) {
            int rc = pthread_cond_timedwait(&q->stop_cv, &q->mu, &until);
            /* 0 is a wake-up (maybe spurious): look at stop again. */
            if (rc != 0)
                break;
        }
    }
    go = !q->stop;
    pthread_mutex_unlock(&q->mu);
    return go;
}

bool wq_commit_begin(struct wq *q)
{
    pthread_mutex_lock(&q->mu);
    if (!q->abandoned)
        return true;
    pthread_mutex_unlock(&q->mu);
    return false;
}

void wq_commit_end(struct wq *q)
{
    pthread_mutex_unlock(&q->mu);
}

/* Releases the jobs still queued. Called after stop is set: from then on no worker takes a
 * job and no push adds one, so the slots are this thread's alone and drop runs unlocked. */
static void wq_drop_queued(struct wq *q)
{
    size_t n;

    pthread_mutex_lock(&q->mu);
    n = q->count;
    pthread_mutex_unlock(&q->mu);
    for (size_t i = 0; i < n; i++) {
        unsigned char *slot = wq_slot(q, i);

        if (q->cfg.drop != NULL)
            q->cfg.drop(slot, q->cfg.ctx);
        memset(slot, 0, q->cfg.job_size);
    }
    pthread_mutex_lock(&q->mu);
    q->count = 0;
    q->head = 0;
    pthread_mutex_unlock(&q->mu);
}

bool wq_free(struct wq *q, int64_t wait_ms)
{
    struct timespec until;
    bool joined[WQ_MAX_WORKERS];
    bool all = true, free_q = false;

    if (q == NULL)
        return true;
    pthread_mutex_lock(&q->mu);
    q->stop = true;
    pthread_cond_broadcast(&q->work_cv);
    pthread_cond_broadcast(&q->stop_cv);
    pthread_mutex_unlock(&q->mu);
    wq_drop_queued(q);
    if (wait_ms < 0) {
        for (unsigned i = 0; i < q->n_workers; i++)
            pthread_join(q->workers[i].thread, NULL);
        wq_destroy(q, true);
        return true;
    }
    /* pthread_timedjoin_np takes a CLOCK_REALTIME deadline. */
    wq_deadline(&until, CLOCK_REALTIME, wait_ms);
    for (unsigned i = 0; i < q->n_workers; i++) {
        joined[i] = pthread_timedjoin_np(q->workers[i].thread, NULL, &until) == 0;
        if (!joined[i])
            all = false;
    }
    if (all) {
        wq_destroy(q, true);
        return true;
    }
    /* A handler overran the owner's bound: leave it; the last worker out frees q. */
    for (unsigned i = 0; i < q->n_workers; i++)
        if (!joined[i])
            pthread_detach(q->workers[i].thread);
    pthread_mutex_lock(&q->mu);
    q->abandoned = true;
    free_q = q->live == 0;
    pthread_mutex_unlock(&q->mu);
    if (free_q)
        wq_destroy(q, true);
    return false;
}
