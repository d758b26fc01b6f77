/* issueq.c: the issuance queue (issueq.h): a bounded ring of jobs under one mutex, a
 * condition variable for "work or stop" on CLOCK_MONOTONIC (so a wall-clock jump cannot
 * stretch a delay), and worker threads that are always joined: issuance is bounded work,
 * unlike a validation that dials the client, so there is no abandoning path as in vaq.c. */
#include "mockca/issueq.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct issueq {
    struct issueq_config cfg;
    pthread_mutex_t mu;
    pthread_cond_t cv; /* signalled on a new job and on stop */
    /* Held jobs (cfg.hold) wait here, broadcast only at stop, so that a new job's signal
     * always reaches a worker that can take it. */
    pthread_cond_t hold_cv;
    struct issueq_job *ring;
    size_t head, count;
    bool stop;
    pthread_t threads[ISSUEQ_MAX_WORKERS];
    unsigned n_threads;
};

static void issueq_drop(struct issueq_job *j)
{
    if (j->free_fn != NULL)
        j->free_fn(j->arg);
    memset(j, 0, sizeof(*j));
}

/* Waits delay_ms of monotonic time unless stopped first. Lock held on entry and exit.
 * Returns false when stopping. */
static bool issueq_wait(struct issueq *q, int64_t delay_ms)
{
    struct timespec until;

    if (delay_ms <= 0)
        return !q->stop;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += delay_ms / 1000;
    until.tv_nsec += (long)(delay_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    while (!q->stop) {
        if (pthread_cond_timedwait(&q->cv, &q->mu, &until) == ETIMEDOUT)
            break;
    }
    return !q->stop;
}

/* Holds job j while the fault hook says so (issueq.h). Lock held on entry and exit; the
 * hook runs without it. Returns false when stopping. */
static bool issueq_hold(struct issueq *q, const struct issueq_job *j)
{
    struct timespec until;

    while (q->cfg.hold != NULL && !q->stop) {
        int64_t ms = 0;
        bool held;

        pthread_mutex_unlock(&q->mu);
        held = q->cfg.hold(q->cfg.hold_ctx, j->subject[0] != '\0' ? j->subject : NULL, &ms);
        pthread_mutex_lock(&q->mu);
        if (!held)
            break;
        if (ms < ISSUEQ_HOLD_MIN_MS)
            ms = ISSUEQ_HOLD_MIN_MS;
        if (ms > ISSUEQ_HOLD_MAX_MS)
            ms = ISSUEQ_HOLD_MAX_MS;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += ms / 1000;
        until.tv_nsec += (long)(ms % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        while (!q->stop) {
            if (pthread_cond_timedwait(&q->hold_cv, &q->mu, &until) == ETIMEDOUT)
                break;
        }
    }
    return !q->stop;
}

static void *issueq_worker(void *arg)
{
    struct issueq *q = arg;
    struct issueq_job j;

    pthread_mutex_lock(&q->mu);
    for (;;) {
        while (!q->stop && q->count == 0)
            pthread_cond_wait(&q->cv, &q->mu);
        if (q->stop)
            break;
        j = q->ring[q->head];
        memset(&q->ring[q->head], 0, sizeof(q->ring[q->head]));
        q->head = (q->head + 1) % q->cfg.capacity;
        q->count--;
        /* An empty ring starts over at slot 0, so a queue that is rarely deep reuses its
         * first slots: walking the whole ring would touch every page of it (11 MiB for
         * vaq's 10000 items), which showed as resident growth run after run. */
        if (q->count == 0)
            q->head = 0;
        if (!issueq_wait(q, j.delay_ms) || !issueq_hold(q, &j)) {
            issueq_drop(&j);
            break;
        }
        pthread_mutex_unlock(&q->mu);
        j.run(j.arg);
        issueq_drop(&j);
        pthread_mutex_lock(&q->mu);
    }
    pthread_mutex_unlock(&q->mu);
    return NULL;
}

static void issueq_destroy(struct issueq *q)
{
    if (q == NULL)
        return;
    for (size_t i = 0; q->ring != NULL && i < q->count; i++)
        issueq_drop(&q->ring[(q->head + i) % q->cfg.capacity]);
    free(q->ring);
    pthread_cond_destroy(&q->cv);
    pthread_cond_destroy(&q->hold_cv);
    pthread_mutex_destroy(&q->mu);
    free(q);
}

enum mc_err issueq_new(const struct issueq_config *cfg, struct issueq **out)
{
    struct issueq *q = NULL;
    pthread_condattr_t ca;

    *out = NULL;
    if (cfg != NULL && cfg->workers > ISSUEQ_MAX_WORKERS)
        return MC_ERR_INVALID;
    q = calloc(1, sizeof(*q));
    if (q == NULL)
        return MC_ERR_NOMEM;
    if (cfg != NULL)
        q->cfg = *cfg;
    if (q->cfg.workers == 0)
        q->cfg.workers = ISSUEQ_DEFAULT_WORKERS;
    if (q->cfg.capacity == 0)
        q->cfg.capacity = ISSUEQ_DEFAULT_CAPACITY;
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
    for (unsigned i = 0; i < q->cfg.workers; i++) {
        if (pthread_create(&q->threads[i], NULL, issueq_worker, q) != 0)
            break;
        q->n_threads++;
    }
    if (q->n_threads == 0) {
        issueq_destroy(q);
        return MC_ERR_NOMEM;
    }
    *out = q;
    return MC_OK;
}

enum mc_err issueq_push(struct issueq *q, const struct issueq_job *job)
{
    struct issueq_job j;
    enum mc_err e = MC_OK;

    if (q == NULL || job == NULL || job->run == NULL)
        return MC_ERR_INVALID;
    j = *job;
    if (j.delay_ms < 0)
        j.delay_ms = 0;
    if (j.delay_ms > ISSUEQ_MAX_DELAY_MS)
        j.delay_ms = ISSUEQ_MAX_DELAY_MS;
    pthread_mutex_lock(&q->mu);
    if (q->stop) {
        e = MC_ERR_STATE;
    } else if (q->count >= q->cfg.capacity) {
        e = MC_ERR_LIMIT;
    } else {
        q->ring[(q->head + q->count) % q->cfg.capacity] = j;
        q->count++;
        pthread_cond_signal(&q->cv);
    }
    pthread_mutex_unlock(&q->mu);
    return e;
}

size_t issueq_pending(struct issueq *q)
{
    size_t n;

    if (q == NULL)
        return 0;
    pthread_mutex_lock(&q->mu);
    n = q->count;
    pthread_mutex_unlock(&q->mu);
    return n;
}

void issueq_free(struct issueq *q)
{
    if (q == NULL)
        return;
    pthread_mutex_lock(&q->mu);
    q->stop = true;
    pthread_cond_broadcast(&q->cv);
    pthread_cond_broadcast(&q->hold_cv);
    pthread_mutex_unlock(&q->mu);
    for (unsigned i = 0; i < q->n_threads; i++)
        pthread_join(q->threads[i], NULL);
    issueq_destroy(q);
}
