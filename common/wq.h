/* wq.h: a bounded worker queue. Jobs are fixed-size records copied into a ring of
 * `capacity` slots; `workers` threads take them in order and run a handler on each, without
 * the queue's lock. Handlers that wait (a delay, a fault hold) do it through wq_sleep, so
 * that stopping is prompt: a stop wakes every sleeper, drops every queued job, and waits
 * for running handlers at most as long as the owner says. mockca's validation queue
 * (vaq.h) and issuance queue (issueq.h) are thin layers over this one.
 *
 * Ownership of what a job points to: once wq_push succeeded the queue owns it; exactly one
 * of handler (the job ran, or began to) or drop (the job was still queued at stop) is
 * called for it, and that callback releases it. */
#ifndef MC_WQ_H
#define MC_WQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define WQ_MAX_WORKERS 64
#define WQ_MAX_JOB_SIZE 65536       /* bytes of one job record */
#define WQ_MAX_CAPACITY 1000000     /* slots */
#define WQ_MAX_SLEEP_MS 86400000LL  /* a longer wq_sleep is clamped (one day) */

struct wq;

struct wq_config {
    size_t job_size;  /* bytes copied per job; 1..WQ_MAX_JOB_SIZE */
    size_t capacity;  /* jobs queued at once; 1..WQ_MAX_CAPACITY */
    unsigned workers; /* threads; 1..WQ_MAX_WORKERS */
    /* Runs on a worker thread without the queue's lock. job is the worker's own copy of
     * the record (job_size bytes, writable, zeroed after the call); the handler owns what
     * it points to and must release it, also when it gives up because wq_sleep said stop. */
    void (*handler)(struct wq *q, void *job, void *ctx);
    /* Releases a job that was still queued at stop (on wq_free's thread, without the
     * lock). NULL: jobs own nothing. */
    void (*drop)(void *job, void *ctx);
    void *ctx;
    /* Called once with ctx when the queue's memory goes: at the end of wq_free, or, when
     * wq_free gave up waiting for a handler, on that handler's thread when the last such
     * worker ends, so ctx outlives every handler. Not called when wq_new fails. NULL: ctx
     * is not the queue's to release. */
    void (*ctx_free)(void *ctx);
};

/* Checks cfg and starts the workers. MC_ERR_INVALID for a config out of range,
 * MC_ERR_NOMEM when memory or every thread failed (a queue with fewer workers than asked
 * is still returned when at least one started). *out is new (wq_free). */
MC_MUST_CHECK enum mc_err wq_new(const struct wq_config *cfg, struct wq **out);

/* Copies job_size bytes from job into the queue. MC_ERR_LIMIT when capacity jobs are
 * already queued, MC_ERR_STATE once wq_free has begun, MC_ERR_INVALID for NULL arguments;
 * on any error nothing was taken and the caller still owns what job points to.
 * Thread-safe; handlers may push. */
MC_MUST_CHECK enum mc_err wq_push(struct wq *q, const void *job);

/* Jobs queued and not yet taken by a worker. 0 for NULL. Thread-safe. */
size_t wq_pending(struct wq *q);

/* For handlers: waits ms of monotonic real time (not the virtual clock: a frozen clock must
 * not hang a worker), cut short by a stop. Returns false when the queue is stopping (then
 * at once), true when the time ran out. ms <= 0 only asks. Must not be called between
 * wq_commit_begin and wq_commit_end. */
bool wq_sleep(struct wq *q, int64_t ms);

/* For handlers that write to what the queue's owner owns (a store, a grader): takes the
 * queue's lock and returns true while the owner still waits for this handler; the handler
 * writes and calls wq_commit_end. Returns false, without the lock, once wq_free gave up
 * waiting: the owner may be gone and the handler must touch nothing of it. Taking the
 * lock orders the write with respect to wq_free's decision. */
MC_MUST_CHECK bool wq_commit_begin(struct wq *q);
void wq_commit_end(struct wq *q);

/* Stops: refuses new pushes, wakes every wq_sleep, drops queued jobs (drop), then joins
 * the workers. wait_ms < 0 waits for running handlers without limit; otherwise a worker
 * still running after wait_ms is detached and left to finish on its own (its wq_sleep says
 * stop, its wq_commit_begin says false), and the last one frees the queue and calls
 * ctx_free. Returns true when every worker was joined and everything is freed, false when
 * some were left running. NULL ok (true). */
bool wq_free(struct wq *q, int64_t wait_ms);

#endif
