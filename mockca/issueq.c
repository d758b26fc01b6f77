/* issueq.c: the issuance queue (issueq.h) over the generic worker queue (common/wq.h): a
 * job is the caller's issueq_job record itself; the handler waits its delay and any fault
 * hold through wq_sleep, then runs it. Workers are always joined: issuance is bounded work,
 * unlike a validation that dials the client, so there is no abandoning path as in vaq.c. */
#include "mockca/issueq.h"

#include <stdlib.h>
#include <string.h>

#include "common/wq.h"

_Static_assert(ISSUEQ_MAX_WORKERS <= WQ_MAX_WORKERS, "issueq's worker cap is wq's");

struct issueq {
    struct issueq_config cfg;
    struct wq *wq;
};

static void issueq_drop(struct issueq_job *j)
{
    if (j->free_fn != NULL)
        j->free_fn(j->arg);
    memset(j, 0, sizeof(*j));
}

/* wq's drop: a job still queued at stop; its free_fn still runs, so nothing leaks. */
static void issueq_wq_drop(void *job, void *ctx)
{
    (void)ctx;
    issueq_drop(job);
}

/* Holds job j while the fault hook says so (issueq.h); the hook runs without any lock.
 * Returns false when stopping. */
static bool issueq_hold(struct issueq *q, struct wq *wq, const struct issueq_job *j)
{
    if (q->cfg.hold == NULL)
        return true;
    for (;;) {
        int64_t ms = 0;

        if (!q->cfg.hold(q->cfg.hold_ctx, j->subject[0] != '\0' ? j->subject : NULL, &ms))
            return wq_sleep(wq, 0);
        if (ms < ISSUEQ_HOLD_MIN_MS)
            ms = ISSUEQ_HOLD_MIN_MS;
        if (ms > ISSUEQ_HOLD_MAX_MS)
            ms = ISSUEQ_HOLD_MAX_MS;
        if (!wq_sleep(wq, ms))
            return false;
    }
}

/* wq's handler: one job, on a worker thread. At stop the job is dropped instead of run. */
static void issueq_handle(struct wq *wq, void *job, void *ctx)
{
    struct issueq *q = ctx;
    struct issueq_job *j = job;

    if (wq_sleep(wq, j->delay_ms) && issueq_hold(q, wq, j))
        j->run(j->arg);
    issueq_drop(j);
}

enum mc_err issueq_new(const struct issueq_config *cfg, struct issueq **out)
{
    struct issueq *q = NULL;
    struct wq_config wc;
    enum mc_err e;

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
    memset(&wc, 0, sizeof(wc));
    wc.job_size = sizeof(struct issueq_job);
    wc.capacity = q->cfg.capacity;
    wc.workers = q->cfg.workers;
    wc.handler = issueq_handle;
    wc.drop = issueq_wq_drop;
    wc.ctx = q; /* freed by issueq_free after the workers are joined */
    e = wq_new(&wc, &q->wq);
    if (e != MC_OK) {
        free(q);
        return e;
    }
    *out = q;
    return MC_OK;
}

enum mc_err issueq_push(struct issueq *q, const struct issueq_job *job)
{
    struct issueq_job j;

    if (q == NULL || job == NULL || job->run == NULL)
        return MC_ERR_INVALID;
    j = *job;
    if (j.delay_ms < 0)
        j.delay_ms = 0;
    if (j.delay_ms > ISSUEQ_MAX_DELAY_MS)
        j.delay_ms = ISSUEQ_MAX_DELAY_MS;
    return wq_push(q->wq, &j);
}

size_t issueq_pending(struct issueq *q)
{
    return q != NULL ? wq_pending(q->wq) : 0;
}

void issueq_free(struct issueq *q)
{
    if (q == NULL)
        return;
    /* No limit on the wait: every job is bounded, and its free_fn must run. */
    (void)wq_free(q->wq, -1);
    free(q);
}
