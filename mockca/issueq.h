/* issueq.h: the issuance queue. Finalize (RFC 8555 section 7.4) moves an order to
 * "processing" and hands the signing to this queue, so that clients see the asynchronous
 * issuance Pebble has and must poll the order (as RFC 8555 section 7.4 tells them to). Like
 * vaq.h it is a thin layer over common/wq.h (a bounded ring, a few worker threads, prompt
 * stop), adding an optional delay before each job (interruptible) and the fault hold. A job
 * is a function and its argument; the queue calls free_fn on every job it took, whether it
 * ran or was dropped at stop, so nothing leaks. */
#ifndef MOCKCA_ISSUEQ_H
#define MOCKCA_ISSUEQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define ISSUEQ_DEFAULT_CAPACITY 10000
#define ISSUEQ_DEFAULT_WORKERS 2
#define ISSUEQ_MAX_WORKERS 16
#define ISSUEQ_MAX_DELAY_MS 60000 /* a longer delay is clamped */

#define ISSUEQ_SUBJECT_MAX 64
#define ISSUEQ_HOLD_MIN_MS 10
#define ISSUEQ_HOLD_MAX_MS 10000

struct issueq_config {
    unsigned workers; /* 0: ISSUEQ_DEFAULT_WORKERS; at most ISSUEQ_MAX_WORKERS */
    size_t capacity;  /* jobs waiting at once; 0: ISSUEQ_DEFAULT_CAPACITY */
    /* Fault injection (mockca/acme/afault.h, "stuck_processing"); NULL: never held. Asked
     * without the queue's lock just before a job runs, with the job's subject (NULL when
     * ""): while it answers true the job waits (its order stays processing, its worker
     * busy) and is asked again after *recheck_ms (clamped to ISSUEQ_HOLD_MIN_MS..
     * ISSUEQ_HOLD_MAX_MS); a stop ends the wait (the job is then dropped, free_fn called). */
    bool (*hold)(void *ctx, const char *subject, int64_t *recheck_ms);
    void *hold_ctx;
};

struct issueq_job {
    void (*run)(void *arg);     /* called on a worker thread, without the queue's lock */
    void (*free_fn)(void *arg); /* called once after run, or instead of it at stop; may be NULL */
    void *arg;
    int64_t delay_ms; /* real-time wait before run (0: none), clamped */
    /* Whom the job is for, for the hold hook (mockca: the account id); "" = unknown. */
    char subject[ISSUEQ_SUBJECT_MAX];
};

struct issueq;

/* Starts the workers. MC_ERR_INVALID for a bad config, MC_ERR_NOMEM when no worker could be
 * started. *out is new (issueq_free). */
MC_MUST_CHECK enum mc_err issueq_new(const struct issueq_config *cfg, struct issueq **out);
/* Queues job (copied). MC_ERR_LIMIT when the queue is full, MC_ERR_STATE once stopping,
 * MC_ERR_INVALID for a NULL run; in every error case the job was not taken and the caller
 * still owns arg. */
MC_MUST_CHECK enum mc_err issueq_push(struct issueq *q, const struct issueq_job *job);
/* Jobs queued and not yet taken by a worker. */
size_t issueq_pending(struct issueq *q);
/* Stops: queued jobs are dropped (free_fn called), delays are cut short, running jobs are
 * waited for (a job must be bounded in time: issuance is), then everything is freed. NULL
 * ok. */
void issueq_free(struct issueq *q);

#endif
